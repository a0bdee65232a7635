import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import type { ScheduleView, ToggleScheduleDto } from '@sync-hub/contracts';
import { request } from 'undici';

export interface ForwardedResponse {
  status: number;
  body: unknown;
}

/** The scheduler answered a command with an error (or could not be reached: 502). */
export class SchedulerRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SchedulerRequestError';
  }
}

/**
 * The scheduler's API, as the gateway reaches it: it owns schedules and settings; the gateway only asks. The typed
 * methods are the gateway's own commands, with the request and answer types of `libs/contracts`; `forward` passes the
 * public schedule and settings routes through unchanged.
 */
@Injectable()
export class SchedulerClient {
  private readonly baseUrl: string;
  private readonly key: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.baseUrl = config.gateway.schedulerUrl;
    this.key = config.gatewayApiKeys[0] ?? '';
  }

  /** PATCH /api/schedules/:id/toggle: enables, or disables with a reason (the gateway's auto-pause). */
  toggle(scheduleId: number, body: ToggleScheduleDto): Promise<ScheduleView> {
    return this.call<ScheduleView>('PATCH', `/api/schedules/${scheduleId}/toggle`, body);
  }

  /** Sends a request as the caller made it (their key), or as the gateway (its own first key). */
  async forward(method: string, path: string, body: unknown, authorization?: string): Promise<ForwardedResponse> {
    try {
      const res = await request(`${this.baseUrl}${path}`, {
        method: method as 'GET',
        headers: {
          authorization: authorization ?? `Bearer ${this.key}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: body === undefined || method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify(body ?? {}),
        headersTimeout: 15000,
        bodyTimeout: 15000,
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
    } catch (err) {
      return {
        status: 502,
        body: {
          statusCode: 502,
          error: 'Bad Gateway',
          message: `the scheduler is unreachable: ${(err as Error).message}`,
        },
      };
    }
  }

  private async call<T>(method: 'GET' | 'PATCH' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await this.forward(method, path, body);
    if (res.status >= 200 && res.status < 300) return res.body as T;
    const message = (res.body as { message?: unknown } | undefined)?.message;
    throw new SchedulerRequestError(
      res.status,
      `${method} ${path} answered ${res.status}${message ? `: ${typeof message === 'string' ? message : Array.isArray(message) ? message.join('; ') : JSON.stringify(message)}` : ''}`,
    );
  }
}
