import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import type { AuthorizeView, ConnectionView, DocumentPage, DocumentRetryView, DocumentView } from '@sync-hub/contracts';
import { request } from 'undici';

/**
 * What accounting-sync answered, kept as sent so the gateway can pass it through unchanged (status, body, content
 * type, and the Location of the OAuth callback's redirect). `body` is the parsed JSON: `T` on a 2xx, accounting-sync's
 * error body (`{ statusCode, message, … }`) otherwise, undefined when empty or not JSON.
 */
export interface AccountingAnswer<T> {
  status: number;
  body: T | { statusCode: number; message: unknown } | undefined;
  text: string;
  contentType: string | null;
  location: string | null;
}

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
  private readonly logger = new Logger(AccountingClient.name);
  private readonly baseUrl: string;
  /** How long a request may wait for accounting-sync's answer, and a retry; overridable for tests. */
  timeoutMs = TIMEOUT_MS;
  retryTimeoutMs = RETRY_TIMEOUT_MS;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.baseUrl = config.gateway.accountingSyncUrl;
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

  private async send<T>(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    opts: { authorization?: string; body?: unknown; timeoutMs?: number },
  ): Promise<AccountingAnswer<T>> {
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
      const contentType = header(res.headers['content-type']);
      return {
        status: res.statusCode,
        body: parseJson(text, contentType),
        text,
        contentType,
        location: header(res.headers.location),
      };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.warn(`accounting-sync at ${this.baseUrl} did not answer ${method} ${path.split('?')[0]}: ${reason}`);
      // Reached, but no answer in time: what was asked may still be going on there (a retry's run goes on).
      const timedOut = ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'].includes(
        (err as { code?: string }).code ?? '',
      );
      const body = timedOut
        ? {
            statusCode: 504,
            error: 'Gateway Timeout',
            message: `accounting-sync did not answer within ${timeoutMs / 1000} s; what was asked may still be under way there (a retry's run shows in GET /api/runs)`,
          }
        : {
            statusCode: 502,
            error: 'Bad Gateway',
            message: `accounting-sync is unreachable (${reason}); connections and documents are served by accounting-sync: check that it runs and ACCOUNTING_SYNC_URL`,
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

function companyPath(companyId: string): string {
  return `/api/companies/${encodeURIComponent(companyId)}`;
}

function documentPath(companyId: string, eic: string): string {
  return `${companyPath(companyId)}/documents/${encodeURIComponent(eic)}`;
}

/** A query string as the caller gave it, with its `?` (or nothing). */
function queryOf(search: string): string {
  return search.startsWith('?') ? search : search ? `?${search}` : '';
}

function header(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

function parseJson<T>(text: string, contentType: string | null): T | undefined {
  if (!text || !contentType?.includes('json')) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
