import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { ConfigurationError } from '@sync-hub/contracts';
import {
  HttpResponse,
  ResilientHttpClient,
  UpstreamError,
  UpstreamHttpError,
  UpstreamProtocolError,
} from '@sync-hub/http';

/** DevPos refused the login itself (invalid_grant: wrong user name, password or tenant): a person must fix it. */
export class DevposLoginRefusedError extends ConfigurationError {
  constructor(companyId: number, detail: string) {
    super(
      'DEVPOS_LOGIN_REFUSED',
      `DevPos refused the login of company ${companyId} (${detail}): update it with PUT /api/companies/${companyId}/connections/devpos`,
    );
  }
}

/** DevPos answered its HTML login page (or 401) instead of JSON: the token was not accepted. */
export class DevposLoginPageError extends ConfigurationError {
  constructor(what: string) {
    super(
      'DEVPOS_NOT_AUTHENTICATED',
      `DevPos answered its HTML login page instead of JSON to ${what}: the login was not accepted (check DEVPOS_URL and the company's DevPos login)`,
    );
  }
}

export interface DevposLogin {
  accessToken: string;
  expiresIn: number;
}

/**
 * DevPos (../shared/reference/upstream-apis.md section 7): the password grant at /connect/token with the public
 * web-app client's Basic credential (DEVPOS_AUTH_BASIC) and the `tenant` header; API calls under /api/v3 with the
 * bearer token and the tenant. Redirects are not followed: a redirect to /Account/Login means "not logged in".
 */
@Injectable()
export class DevposClient implements OnApplicationShutdown {
  private readonly http: ResilientHttpClient;
  /** The same upstream without retries: a purchase list's 500 may be DevPos's "no documents" answer, asked again once. */
  private readonly once: ResilientHttpClient;
  private readonly authBasic: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.authBasic = config.accounting.devpos.authBasic;
    this.http = new ResilientHttpClient({
      name: 'devpos',
      baseUrl: config.accounting.devpos.baseUrl,
      // The original used a 45 s client timeout: long ranges are slow (DEVPOS_TIMEOUT_MS).
      timeoutMs: config.accounting.devpos.timeoutMs,
      retries: config.http.retries,
      retryBaseDelayMs: config.http.retryBaseDelayMs,
      maxConcurrency: config.http.maxConcurrency,
    });
    this.once = new ResilientHttpClient({
      name: 'devpos',
      baseUrl: config.accounting.devpos.baseUrl,
      timeoutMs: config.accounting.devpos.timeoutMs,
      retries: 0,
      retryBaseDelayMs: config.http.retryBaseDelayMs,
      maxConcurrency: config.http.maxConcurrency,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.http.close(), this.once.close()]);
  }

  /**
   * A list of e-invoices for a window of local dates. DevPos answers a purchase range without documents with a 500
   * (observed), which is not an outage: such a 500 is asked again once and, if it is the same known answer, read as an
   * empty range. Every other failure keeps the client's retries.
   */
  async list(
    list: 'sales' | 'purchase',
    token: string,
    tenant: string,
    window: { from: string; to: string },
  ): Promise<unknown[]> {
    const path = list === 'sales' ? 'EInvoice/GetSalesInvoice' : 'EInvoice/GetPurchaseInvoice';
    const query = { fromDate: window.from, toDate: window.to };
    if (list === 'sales') return asArray(await this.get<unknown>(path, token, tenant, query), path);
    for (let attempt = 1; ; attempt++) {
      try {
        return asArray(await this.get<unknown>(path, token, tenant, query, this.once), path);
      } catch (err) {
        const emptyAnswer = err instanceof UpstreamHttpError && err.status === 500 && isKnownEmptyAnswer(err.body);
        if (emptyAnswer && attempt >= 2) return [];
        if (emptyAnswer) continue;
        // Any retriable failure (a timeout, a cut-off answer, not only an HTTP status) gets the usual retries.
        if (err instanceof UpstreamError && err.retriable)
          return asArray(await this.get<unknown>(path, token, tenant, query), path);
        throw err;
      }
    }
  }

  /** The full document (currency, exchange rate, VAT lines, PDF); DevPos is known to refuse this call at times. */
  fullDocument<T>(token: string, tenant: string, eic: string): Promise<T> {
    return this.get<T>('EInvoice', token, tenant, { EIC: eic });
  }

  async login(companyId: number, tenant: string, username: string, password: string): Promise<DevposLogin> {
    if (!this.authBasic)
      throw new ConfigurationError(
        'DEVPOS_NOT_CONFIGURED',
        'DEVPOS_AUTH_BASIC is not set: DevPos logins need the public web-app client credential (base64 of "<client id>:")',
      );
    let res: HttpResponse<unknown>;
    try {
      res = await this.http.request({
        method: 'POST',
        path: '/connect/token',
        headers: {
          authorization: `Basic ${this.authBasic}`,
          'content-type': 'application/x-www-form-urlencoded',
          tenant,
        },
        body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
      });
    } catch (err) {
      throw this.loginError(companyId, err);
    }
    const body = res.body as { access_token?: unknown; expires_in?: unknown };
    if (isLoginPage(res) || typeof body?.access_token !== 'string')
      throw new DevposLoginPageError('the login (/connect/token)');
    return { accessToken: body.access_token, expiresIn: typeof body.expires_in === 'number' ? body.expires_in : 28800 };
  }

  /** GET under /api/v3 as the tenant; the login page (a redirect, or HTML) is a DevposLoginPageError. */
  async get<T>(
    path: string,
    token: string,
    tenant: string,
    query: Record<string, string> = {},
    http: ResilientHttpClient = this.http,
  ): Promise<T> {
    let res: HttpResponse<unknown>;
    try {
      res = await http.request({
        method: 'GET',
        path: `/api/v3/${path}`,
        query,
        headers: { authorization: `Bearer ${token}`, tenant },
      });
    } catch (err) {
      if (err instanceof UpstreamHttpError && (err.status === 401 || err.status === 302))
        throw new DevposLoginPageError(`GET /api/v3/${path}`);
      throw err;
    }
    if (isLoginPage(res)) throw new DevposLoginPageError(`GET /api/v3/${path}`);
    return res.body as T;
  }

  private loginError(companyId: number, err: unknown): unknown {
    if (!(err instanceof UpstreamHttpError)) return err;
    const body = (typeof err.body === 'object' && err.body ? err.body : {}) as {
      error?: unknown;
      error_description?: unknown;
    };
    if (body.error === 'invalid_grant')
      return new DevposLoginRefusedError(
        companyId,
        typeof body.error_description === 'string' ? body.error_description : 'invalid_grant',
      );
    if (body.error === 'invalid_client')
      return new ConfigurationError(
        'DEVPOS_CLIENT_REJECTED',
        'DevPos refused the public client credential (invalid_client): check DEVPOS_AUTH_BASIC',
      );
    if (err.status === 401 || err.status === 302 || typeof err.body === 'string')
      return new DevposLoginPageError('the login (/connect/token)');
    return err;
  }
}

/** ASP.NET's generic error body: what DevPos answers for a purchase range without documents. */
function isKnownEmptyAnswer(body: unknown): boolean {
  return (
    typeof body === 'object' && body !== null && (body as { message?: unknown }).message === 'An error has occurred.'
  );
}

function asArray(body: unknown, path: string): unknown[] {
  if (!Array.isArray(body))
    throw new UpstreamProtocolError('devpos', `GET /api/v3/${path} answered something other than a list`);
  return body;
}

function isLoginPage(res: HttpResponse<unknown>): boolean {
  return String(res.headers['content-type'] ?? '').includes('text/html') || typeof res.body === 'string';
}
