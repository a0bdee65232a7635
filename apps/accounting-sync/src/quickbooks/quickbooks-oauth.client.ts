import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { ConfigurationError } from '@sync-hub/contracts';
import { ResilientHttpClient, UpstreamHttpError } from '@sync-hub/http';

export const QBO_SCOPE = 'com.intuit.quickbooks.accounting';

/** What Intuit's token endpoint answered (seconds as given). */
export interface QuickBooksTokenSet {
  accessToken: string;
  expiresIn: number;
  /** null when the answer carried none: the stored one stays (the original overwrote it with null). */
  refreshToken: string | null;
  refreshExpiresIn: number | null;
}

/** Intuit refused the grant (`invalid_grant`): the refresh token or code is dead; only a person reconnecting helps. */
export class InvalidGrantError extends Error {
  constructor(readonly description: string | null) {
    super(`Intuit answered invalid_grant${description ? ` (${description})` : ''}`);
    this.name = 'InvalidGrantError';
  }
}

interface TokenAnswer {
  access_token?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
  x_refresh_token_expires_in?: unknown;
}

/**
 * Intuit's OAuth2 endpoints (../shared/reference/upstream-apis.md section 2): the authorize URL, the token endpoint
 * (Basic client auth, form encoding) for the code exchange and refreshes, and revoke. Built on the shared
 * ResilientHttpClient (timeouts, retries of 429/5xx/network only, secrets redacted): a retried refresh is safe because
 * Intuit keeps a superseded refresh token valid for 24 hours. docs/decisions.md says why not intuit-oauth.
 */
@Injectable()
export class QuickBooksOAuthClient implements OnApplicationShutdown {
  private readonly http: ResilientHttpClient;
  private readonly qbo: AppConfig['accounting']['quickbooks'];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.qbo = config.accounting.quickbooks;
    this.http = new ResilientHttpClient({
      name: 'quickbooks-oauth',
      baseUrl: '',
      timeoutMs: Math.min(config.http.timeoutMs, 30_000),
      retries: Math.min(config.http.retries, 3),
      retryBaseDelayMs: config.http.retryBaseDelayMs,
      maxConcurrency: 4,
      secrets: () => [this.qbo.clientSecret],
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.http.close();
  }

  /** The app's credentials are set; without them nobody can connect or refresh. */
  assertConfigured(): void {
    if (!this.qbo.clientId || !this.qbo.clientSecret)
      throw new ConfigurationError(
        'QUICKBOOKS_NOT_CONFIGURED',
        'QBO_CLIENT_ID and QBO_CLIENT_SECRET are not set: the QuickBooks app credentials are needed to connect and refresh',
      );
  }

  authorizeUrl(state: string): string {
    const url = new URL(this.qbo.authUrl);
    url.searchParams.set('client_id', this.qbo.clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', QBO_SCOPE);
    url.searchParams.set('redirect_uri', this.qbo.redirectUri);
    url.searchParams.set('state', state);
    return url.toString();
  }

  exchangeCode(code: string): Promise<QuickBooksTokenSet> {
    return this.token(
      new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: this.qbo.redirectUri }),
    );
  }

  refresh(refreshToken: string): Promise<QuickBooksTokenSet> {
    return this.token(new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }));
  }

  async revoke(token: string): Promise<void> {
    this.assertConfigured();
    await this.http.request({
      method: 'POST',
      path: this.qbo.revokeUrl,
      headers: { authorization: this.basic() },
      body: { token },
    });
  }

  private async token(form: URLSearchParams): Promise<QuickBooksTokenSet> {
    this.assertConfigured();
    let body: TokenAnswer;
    try {
      body = (
        await this.http.request<TokenAnswer>({
          method: 'POST',
          path: this.qbo.tokenUrl,
          headers: { authorization: this.basic(), 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
        })
      ).body;
    } catch (err) {
      throw translate(err);
    }
    if (typeof body?.access_token !== 'string' || typeof body.expires_in !== 'number')
      throw new ConfigurationError(
        'QUICKBOOKS_BAD_TOKEN_ANSWER',
        'the QuickBooks token endpoint answered without an access token: check QBO_TOKEN_URL',
      );
    return {
      accessToken: body.access_token,
      expiresIn: body.expires_in,
      refreshToken: typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : null,
      refreshExpiresIn: typeof body.x_refresh_token_expires_in === 'number' ? body.x_refresh_token_expires_in : null,
    };
  }

  private basic(): string {
    return `Basic ${Buffer.from(`${this.qbo.clientId}:${this.qbo.clientSecret}`).toString('base64')}`;
  }
}

/** invalid_grant is the grant's death; invalid_client is our configuration; the rest stays an upstream error. */
function translate(err: unknown): unknown {
  if (!(err instanceof UpstreamHttpError)) return err;
  const body = (typeof err.body === 'object' && err.body ? err.body : {}) as {
    error?: unknown;
    error_description?: unknown;
  };
  if (body.error === 'invalid_grant')
    return new InvalidGrantError(typeof body.error_description === 'string' ? body.error_description : null);
  if (body.error === 'invalid_client' || err.status === 401)
    return new ConfigurationError(
      'QUICKBOOKS_CLIENT_REJECTED',
      'Intuit refused the app credentials (invalid_client): check QBO_CLIENT_ID and QBO_CLIENT_SECRET',
    );
  return err;
}
