import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { request } from 'undici';

export interface ForwardedResponse {
  status: number;
  body: unknown;
}

/** The scheduler's API, as the gateway reaches it: it owns schedules and settings; the gateway only asks. */
@Injectable()
export class SchedulerClient {
  private readonly baseUrl: string;
  private readonly key: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.baseUrl = config.gateway.schedulerUrl;
    this.key = config.gatewayApiKeys[0] ?? '';
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

  /** Pauses the company's schedule for a job, with a reason; false if it has none. */
  async pause(companyId: number, domain: string, job: string, reason: string): Promise<{ scheduleId: number } | null> {
    const list = await this.forward('GET', `/api/companies/${companyId}/schedules`, undefined);
    if (list.status !== 200 || !Array.isArray(list.body)) throw new Error(`listing schedules answered ${list.status}`);
    const schedule = (list.body as Array<{ id: number; domain: string; job_type: string; enabled: boolean }>).find(
      (s) => s.domain === domain && s.job_type === job,
    );
    if (!schedule) return null;
    const res = await this.forward('PATCH', `/api/schedules/${schedule.id}/toggle`, { enabled: false, reason });
    if (res.status !== 200) throw new Error(`pausing schedule ${schedule.id} answered ${res.status}`);
    return { scheduleId: schedule.id };
  }
}
