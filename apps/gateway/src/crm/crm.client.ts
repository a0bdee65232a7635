import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { request } from 'undici';
import type { AccountingAnswer } from '../accounting/accounting.client';

/** What crm-sync answered, kept as sent so the gateway passes it through unchanged (the shape accounting's has). */
export type CrmAnswer = AccountingAnswer<unknown>;

/** Reads, edits and resolving a conflict answer at once; the gateway waits a minute at most for them. */
const TIMEOUT_MS = 60_000;
/**
 * A sync or push of one customer answers when its run has ended: usually a second, but Robaws's 429s are waited out
 * and a failing run is retried by the run library, so the gateway waits longer for it.
 */
export const CUSTOMER_RUN_TIMEOUT_MS = 10 * 60_000;

/**
 * crm-sync's Robaws customers API, as the gateway reaches it (`CRM_SYNC_URL`), with the caller's key. crm-sync owns
 * `robaws_customers` and validates everything; the gateway only carries requests there and answers back. An
 * unreachable crm-sync is a 502 that says so; one that does not answer in time a 504.
 */
@Injectable()
export class CrmClient {
  private readonly logger = new Logger(CrmClient.name);
  private readonly baseUrl: string;
  /** How long a request may wait for crm-sync's answer, and a sync or push; overridable for tests. */
  timeoutMs = TIMEOUT_MS;
  runTimeoutMs = CUSTOMER_RUN_TIMEOUT_MS;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.baseUrl = config.gateway.crmSyncUrl;
  }

  /** GET /api/crm/customers with the caller's query string as it came (crm-sync validates it). */
  customers(search: string, authorization?: string): Promise<CrmAnswer> {
    return this.send('GET', `${CUSTOMERS}${queryOf(search)}`, { authorization });
  }

  /** GET /api/crm/customers/duplicates. */
  duplicates(search: string, authorization?: string): Promise<CrmAnswer> {
    return this.send('GET', `${CUSTOMERS}/duplicates${queryOf(search)}`, { authorization });
  }

  /** GET /api/crm/customers/:id. */
  customer(id: string, authorization?: string): Promise<CrmAnswer> {
    return this.send('GET', customerPath(id), { authorization });
  }

  /** PATCH /api/crm/customers/:id with the body as the caller sent it. */
  update(id: string, body: unknown, authorization?: string): Promise<CrmAnswer> {
    return this.send('PATCH', customerPath(id), { authorization, body: body ?? {} });
  }

  /** POST /api/crm/customers/:id/sync or /push: answers when the run has ended (200), or 409 when busy. */
  run(id: string, what: 'sync' | 'push', authorization?: string): Promise<CrmAnswer> {
    return this.send('POST', `${customerPath(id)}/${what}`, { authorization, timeoutMs: this.runTimeoutMs });
  }

  /** POST /api/crm/customers/:id/resolve with the body as the caller sent it. */
  resolve(id: string, body: unknown, authorization?: string): Promise<CrmAnswer> {
    return this.send('POST', `${customerPath(id)}/resolve`, { authorization, body: body ?? {} });
  }

  private async send(
    method: 'GET' | 'PATCH' | 'POST',
    path: string,
    opts: { authorization?: string; body?: unknown; timeoutMs?: number },
  ): Promise<CrmAnswer> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    try {
      const res = await request(`${this.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(opts.authorization ? { authorization: opts.authorization } : {}),
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await res.body.text();
      const header = res.headers['content-type'];
      const contentType = (Array.isArray(header) ? header[0] : header) ?? null;
      return { status: res.statusCode, body: parseJson(text, contentType), text, contentType, location: null };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.warn(`crm-sync at ${this.baseUrl} did not answer ${method} ${path.split('?')[0]}: ${reason}`);
      // Reached, but no answer in time: what was asked may still be going on there (a sync's run goes on).
      const timedOut = ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'].includes(
        (err as { code?: string }).code ?? '',
      );
      const body = timedOut
        ? {
            statusCode: 504,
            error: 'Gateway Timeout',
            message: `crm-sync did not answer within ${timeoutMs / 1000} s; what was asked may still be under way there (a sync's or push's run shows in GET /api/runs)`,
          }
        : {
            statusCode: 502,
            error: 'Bad Gateway',
            message: `crm-sync is unreachable (${reason}); the Robaws customers are served by crm-sync: check that it runs and CRM_SYNC_URL`,
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
}

const CUSTOMERS = '/api/crm/customers';

function customerPath(id: string): string {
  return `${CUSTOMERS}/${encodeURIComponent(id)}`;
}

/** A query string as the caller gave it, with its `?` (or nothing). */
function queryOf(search: string): string {
  return search.startsWith('?') ? search : search ? `?${search}` : '';
}

function parseJson(text: string, contentType: string | null): unknown {
  if (!text || !contentType?.includes('json')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
