import { Logger } from '@nestjs/common';
import { request } from 'undici';

/**
 * What a service behind the gateway answered, kept as sent so the gateway can pass it through unchanged (status, body,
 * content type, and a redirect's Location). `body` is the parsed JSON: `T` on a 2xx, the service's error body
 * (`{ statusCode, message, … }`) otherwise, undefined when empty or not JSON.
 */
export interface ServiceAnswer<T> {
  status: number;
  body: T | { statusCode: number; message: unknown } | undefined;
  text: string;
  contentType: string | null;
  location: string | null;
}

/** A service the gateway forwards to, and the words its 502 and 504 use. */
export interface ForwardTarget {
  /** `accounting-sync`, `crm-sync`. */
  name: string;
  baseUrl: string;
  /** The variable that points the gateway at it (`ACCOUNTING_SYNC_URL`). */
  urlVariable: string;
  /** What it serves, for the 502: "connections and documents are served by accounting-sync". */
  serves: string;
  /** What may still go on there after a timeout, for the 504: "a retry's run". */
  pendingWork: string;
  logger: Logger;
}

export interface ForwardOptions {
  authorization?: string;
  body?: unknown;
  timeoutMs: number;
}

/**
 * Sends one request to a service with the caller's key and answers what it answered. Redirects are never followed (a
 * callback's 302 is for the browser). An unreachable service is a 502 that says so; one that does not answer in time
 * a 504 saying that what was asked may still be under way.
 */
export async function forward<T>(
  target: ForwardTarget,
  method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE',
  path: string,
  opts: ForwardOptions,
): Promise<ServiceAnswer<T>> {
  try {
    const res = await request(`${target.baseUrl}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(opts.authorization ? { authorization: opts.authorization } : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    const text = await res.body.text();
    const contentType = header(res.headers['content-type']);
    return {
      status: res.statusCode,
      body: parseJson(text, contentType) as ServiceAnswer<T>['body'],
      text,
      contentType,
      location: header(res.headers.location),
    };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    target.logger.warn(`${target.name} at ${target.baseUrl} did not answer ${method} ${path.split('?')[0]}: ${reason}`);
    // Reached, but no answer in time: what was asked may still be going on there.
    const timedOut = ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'].includes(
      (err as { code?: string }).code ?? '',
    );
    const body = timedOut
      ? {
          statusCode: 504,
          error: 'Gateway Timeout',
          message: `${target.name} did not answer within ${opts.timeoutMs / 1000} s; what was asked may still be under way there (${target.pendingWork} shows in GET /api/runs)`,
        }
      : {
          statusCode: 502,
          error: 'Bad Gateway',
          message: `${target.name} is unreachable (${reason}); ${target.serves}: check that it runs and ${target.urlVariable}`,
        };
    return {
      status: body.statusCode,
      body,
      text: JSON.stringify(body),
      contentType: 'application/json; charset=utf-8',
      location: null,
    };
  }
}

/** A query string as the caller gave it, with its `?` (or nothing). */
export function queryOf(search: string): string {
  return search.startsWith('?') ? search : search ? `?${search}` : '';
}

function header(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

function parseJson(text: string, contentType: string | null): unknown {
  if (!text || !contentType?.includes('json')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
