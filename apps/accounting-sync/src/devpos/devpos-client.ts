import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { ConfigurationError } from '@sync-hub/contracts';
import { HttpResponse, ResilientHttpClient, UpstreamHttpError } from '@sync-hub/http';

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
  private readonly authBasic: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.authBasic = config.accounting.devpos.authBasic;
    this.http = new ResilientHttpClient({
      name: 'devpos',
      baseUrl: config.accounting.devpos.baseUrl,
      // The original used a 45 s client timeout: long ranges are slow.
      timeoutMs: Math.max(config.http.timeoutMs, 45_000),
      retries: config.http.retries,
      retryBaseDelayMs: config.http.retryBaseDelayMs,
      maxConcurrency: config.http.maxConcurrency,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.http.close();
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
  async get<T>(path: string, token: string, tenant: string, query: Record<string, string> = {}): Promise<T> {
    let res: HttpResponse<unknown>;
    try {
      res = await this.http.request({
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

function isLoginPage(res: HttpResponse<unknown>): boolean {
  return String(res.headers['content-type'] ?? '').includes('text/html') || typeof res.body === 'string';
}
