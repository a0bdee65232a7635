import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { forward, ForwardTarget, queryOf, ServiceAnswer } from '../forwarding';

/** What crm-sync answered, kept as sent so the gateway passes it through unchanged (the shape accounting's has). */
export type CrmAnswer = ServiceAnswer<unknown>;

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
  private readonly target: ForwardTarget;
  /** How long a request may wait for crm-sync's answer, and a sync or push; overridable for tests. */
  timeoutMs = TIMEOUT_MS;
  runTimeoutMs = CUSTOMER_RUN_TIMEOUT_MS;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.target = {
      name: 'crm-sync',
      baseUrl: config.gateway.crmSyncUrl,
      urlVariable: 'CRM_SYNC_URL',
      serves: 'the Robaws customers are served by crm-sync',
      pendingWork: "a sync's or push's run",
      logger: new Logger(CrmClient.name),
    };
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

  private send(
    method: 'GET' | 'PATCH' | 'POST',
    path: string,
    opts: { authorization?: string; body?: unknown; timeoutMs?: number },
  ): Promise<CrmAnswer> {
    return forward(this.target, method, path, { ...opts, timeoutMs: opts.timeoutMs ?? this.timeoutMs });
  }
}

const CUSTOMERS = '/api/crm/customers';

function customerPath(id: string): string {
  return `${CUSTOMERS}/${encodeURIComponent(id)}`;
}
