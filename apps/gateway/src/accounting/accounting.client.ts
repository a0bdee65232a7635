import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import type { AuthorizeView, ConnectionView, DocumentPage, DocumentRetryView, DocumentView } from '@sync-hub/contracts';
import { forward, ForwardTarget, queryOf, ServiceAnswer } from '../forwarding';

/** What accounting-sync answered, kept as sent (the gateway's `ServiceAnswer`). */
export type AccountingAnswer<T> = ServiceAnswer<T>;

/**
 * The code exchange and DevPos's login happen while the caller waits (each with its own timeouts and retries inside
 * accounting-sync); the gateway waits a little longer than a slow but successful one takes.
 */
const TIMEOUT_MS = 60_000;
/**
 * A document's retry answers when its run has ended: usually seconds, but QuickBooks' 429s are waited out (60 s each)
 * and a failing run is retried by the run library, so the gateway waits longer for it than for anything else.
 */
export const RETRY_TIMEOUT_MS = 10 * 60_000;

/**
 * accounting-sync's API, as the gateway reaches it (`ACCOUNTING_SYNC_URL`): the connection and document routes with the
 * caller's key, and Intuit's redirect back to the public OAuth callback. accounting-sync owns connections and documents
 * and validates everything; the gateway only carries requests there and answers back. Redirects are never followed:
 * the callback's 302 is for the browser. An unreachable accounting-sync is a 502 that says so; one that does not answer
 * in time a 504.
 */
@Injectable()
export class AccountingClient {
  private readonly target: ForwardTarget;
  /** How long a request may wait for accounting-sync's answer, and a retry; overridable for tests. */
  timeoutMs = TIMEOUT_MS;
  retryTimeoutMs = RETRY_TIMEOUT_MS;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.target = {
      name: 'accounting-sync',
      baseUrl: config.gateway.accountingSyncUrl,
      urlVariable: 'ACCOUNTING_SYNC_URL',
      serves: 'connections and documents are served by accounting-sync',
      pendingWork: "a retry's run",
      logger: new Logger(AccountingClient.name),
    };
  }

  /** GET /api/companies/:id/connections: both providers, status and expiries, never secrets. */
  connections(companyId: string, authorization?: string): Promise<AccountingAnswer<ConnectionView[]>> {
    return this.send('GET', `${companyPath(companyId)}/connections`, { authorization });
  }

  /** GET /api/companies/:id/connections/quickbooks/authorize: Intuit's authorize URL with a signed state. */
  authorize(companyId: string, authorization?: string): Promise<AccountingAnswer<AuthorizeView>> {
    return this.send('GET', `${companyPath(companyId)}/connections/quickbooks/authorize`, { authorization });
  }

  /** PUT /api/companies/:id/connections/devpos with the body as the caller sent it (accounting-sync validates it). */
  putDevpos(companyId: string, body: unknown, authorization?: string): Promise<AccountingAnswer<ConnectionView>> {
    return this.send('PUT', `${companyPath(companyId)}/connections/devpos`, { authorization, body: body ?? {} });
  }

  /**
   * DELETE /api/companies/:id/connections/:provider (a ConnectionProvider; anything else is accounting-sync's 404):
   * 204, or 502 when Intuit cannot confirm the revocation.
   */
  disconnect(companyId: string, provider: string, authorization?: string): Promise<AccountingAnswer<undefined>> {
    return this.send('DELETE', `${companyPath(companyId)}/connections/${encodeURIComponent(provider)}`, {
      authorization,
    });
  }

  /** GET /api/companies/:id/documents with the caller's query string as it came (accounting-sync validates it). */
  documents(companyId: string, search: string, authorization?: string): Promise<AccountingAnswer<DocumentPage>> {
    return this.send('GET', `${companyPath(companyId)}/documents${queryOf(search)}`, { authorization });
  }

  /** GET /api/companies/:id/documents/:eic. */
  document(companyId: string, eic: string, authorization?: string): Promise<AccountingAnswer<DocumentView>> {
    return this.send('GET', documentPath(companyId, eic), { authorization });
  }

  /** POST /api/companies/:id/documents/:eic/retry: answers when the retry's run has ended (200), or 409 when busy. */
  retryDocument(companyId: string, eic: string, authorization?: string): Promise<AccountingAnswer<DocumentRetryView>> {
    return this.send('POST', `${documentPath(companyId, eic)}/retry`, {
      authorization,
      timeoutMs: this.retryTimeoutMs,
    });
  }

  /** GET /oauth/quickbooks/callback with Intuit's query string as it came (`?code=…&realmId=…&state=…`). */
  quickBooksCallback(search: string): Promise<AccountingAnswer<unknown>> {
    return this.send('GET', `/oauth/quickbooks/callback${queryOf(search)}`, {});
  }

  private send<T>(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    opts: { authorization?: string; body?: unknown; timeoutMs?: number },
  ): Promise<AccountingAnswer<T>> {
    return forward<T>(this.target, method, path, { ...opts, timeoutMs: opts.timeoutMs ?? this.timeoutMs });
  }
}

function companyPath(companyId: string): string {
  return `/api/companies/${encodeURIComponent(companyId)}`;
}

function documentPath(companyId: string, eic: string): string {
  return `${companyPath(companyId)}/documents/${encodeURIComponent(eic)}`;
}
