import { createHmac } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { SplynxAuthMode } from '@sync-hub/config';
import { ConfigurationError } from '@sync-hub/contracts';
import {
  HttpClientOptions,
  HttpRequest,
  ResilientHttpClient,
  UpstreamAuthError,
  UpstreamHttpError,
  UpstreamProtocolError,
} from '@sync-hub/http';

export interface SplynxCredentials {
  baseUrl: string | null;
  authMode: SplynxAuthMode;
  apiKey: string;
  apiSecret: string;
}

interface AccessToken {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  refreshExpiresAt: number;
}

const API = '/api/2.0/admin';
/** Renew the access token this long before it expires, so a page request never carries a dying token. */
const RENEW_BEFORE_MS = 60000;

/** `UPPER(hex(HMAC_SHA256(secret, nonce + key)))`, as the official Splynx clients sign. */
export function splynxSignature(apiKey: string, apiSecret: string, nonce: number): string {
  return createHmac('sha256', apiSecret).update(`${nonce}${apiKey}`).digest('hex').toUpperCase();
}

/**
 * Splynx API 2.0 client. Auth: an access token obtained with the API key signature and renewed before it expires
 * (default), a signature on every request, or Basic (the "unsecure access" alternative). Lists customers in pages by
 * id (keyset over `main_attributes[id] > last`), so customers added or removed mid-run do not shift pages and no
 * customer is skipped.
 */
export class SplynxClient {
  private readonly logger = new Logger(SplynxClient.name);
  private token: AccessToken | null = null;
  private tokenRequest: Promise<AccessToken> | null = null;
  private lastNonce = 0;
  private readonly http: ResilientHttpClient;

  constructor(
    private readonly credentials: SplynxCredentials,
    http: Omit<HttpClientOptions, 'name' | 'baseUrl' | 'secrets'>,
    private readonly now: () => number = Date.now,
  ) {
    this.http = new ResilientHttpClient({
      ...http,
      name: 'splynx',
      baseUrl: credentials.baseUrl ?? 'http://splynx.invalid',
      // Never log or throw the secret or a live token (a renewal URL carries the refresh token).
      secrets: () => [credentials.apiSecret, this.token?.accessToken ?? '', this.token?.refreshToken ?? ''],
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /**
   * Pages of raw customer records in id order; stops after `limit` records when given. `changedSince` (a Splynx
   * `YYYY-MM-DD HH:MM:SS` on the server's clock) asks only for customers whose `last_update` is at or after it.
   */
  async *customerPages(pageSize: number, limit?: number, changedSince?: string): AsyncGenerator<unknown[]> {
    let afterId = 0;
    let remaining = limit ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const size = Math.min(pageSize, remaining);
      const query = new URLSearchParams({
        ...(changedSince !== undefined
          ? { 'main_attributes[last_update][0]': '>=', 'main_attributes[last_update][1]': changedSince }
          : {}),
        'main_attributes[id][0]': '>',
        'main_attributes[id][1]': String(afterId),
        'order[id]': 'ASC',
        limit: String(size),
        offset: '0',
      });
      const page = await this.call<unknown>({ method: 'GET', path: `${API}/customers/customer`, query });
      if (!Array.isArray(page.body)) throw new UpstreamProtocolError('splynx', 'customer list is not a JSON array');
      if (page.body.length === 0) return;
      const ids = page.body
        .map((r) => Number((r as { id?: unknown })?.id))
        .filter((id) => Number.isInteger(id) && id > 0);
      if (ids.length === 0)
        throw new UpstreamProtocolError('splynx', 'a customer page carried no readable id; cannot continue past it');
      yield page.body.slice(0, Math.min(page.body.length, remaining));
      afterId = Math.max(afterId, ...ids);
      remaining -= page.body.length;
      if (page.body.length < size) return;
    }
  }

  /** `HEAD` on the list answers the total in `X-total-count`. */
  async countCustomers(): Promise<number> {
    const res = await this.call({ method: 'HEAD', path: `${API}/customers/customer` });
    const total = Number(res.headers['x-total-count']);
    if (!Number.isInteger(total)) throw new UpstreamProtocolError('splynx', 'HEAD customers carried no X-total-count');
    return total;
  }

  /** Sends an API request; an access token the server says expired is renewed once and the request sent again. */
  private async call<T>(req: HttpRequest) {
    if (!this.credentials.baseUrl)
      throw new ConfigurationError('SPLYNX_NOT_CONFIGURED', 'SPLYNX_URL is not set: the Splynx sync has no upstream');
    try {
      return await this.http.request<T>({ ...req, authorize: () => this.authorization() });
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 401) {
        if (this.credentials.authMode === 'api_key' && this.token) {
          this.logger.log('access token refused; obtaining a new one');
          this.token = null;
          try {
            return await this.http.request<T>({ ...req, authorize: () => this.authorization() });
          } catch (retryErr) {
            throw this.authError(retryErr);
          }
        }
        throw this.authError(err);
      }
      throw err;
    }
  }

  private authError(err: unknown): unknown {
    if (err instanceof UpstreamHttpError && (err.status === 401 || err.status === 403)) {
      const code = (err.body as { error?: { internal_code?: string } })?.error?.internal_code ?? `HTTP ${err.status}`;
      return new UpstreamAuthError(
        'splynx',
        `credentials refused (${code}): check SPLYNX_API_KEY / SPLYNX_API_SECRET and the key's permissions`,
      );
    }
    return err;
  }

  private async authorization(): Promise<Record<string, string>> {
    const { authMode, apiKey, apiSecret } = this.credentials;
    if (authMode === 'basic')
      return { authorization: `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}` };
    if (authMode === 'signature') {
      const nonce = this.nextNonce();
      return {
        authorization: `Splynx-EA (key=${apiKey}&nonce=${nonce}&signature=${splynxSignature(apiKey, apiSecret, nonce)})`,
      };
    }
    const token = await this.accessToken();
    return { authorization: `Splynx-EA (access_token=${token.accessToken})` };
  }

  /** Centisecond nonces, strictly increasing within this process (the server refuses a nonce it has seen). */
  private nextNonce(): number {
    this.lastNonce = Math.max(this.lastNonce + 1, Math.floor(this.now() / 10));
    return this.lastNonce;
  }

  /** One token request at a time: concurrent pages wait for the same renewal. */
  private accessToken(): Promise<AccessToken> {
    const current = this.token;
    if (current && this.now() + RENEW_BEFORE_MS < current.accessExpiresAt) return Promise.resolve(current);
    this.tokenRequest ??= this.obtainToken(current).finally(() => (this.tokenRequest = null));
    return this.tokenRequest;
  }

  private async obtainToken(current: AccessToken | null): Promise<AccessToken> {
    if (current && this.now() + 5000 < current.refreshExpiresAt) {
      try {
        const renewed = await this.http.request<Record<string, unknown>>({
          method: 'GET',
          path: `${API}/auth/tokens/${current.refreshToken}`,
        });
        return (this.token = this.readToken(renewed.body));
      } catch (err) {
        this.logger.warn(`token renewal failed, signing in again: ${(err as Error).message}`);
      }
    }
    const { apiKey, apiSecret } = this.credentials;
    const nonce = this.nextNonce();
    try {
      const issued = await this.http.request<Record<string, unknown>>({
        method: 'POST',
        path: `${API}/auth/tokens`,
        body: { auth_type: 'api_key', key: apiKey, nonce, signature: splynxSignature(apiKey, apiSecret, nonce) },
      });
      return (this.token = this.readToken(issued.body));
    } catch (err) {
      throw this.authError(err);
    }
  }

  private readToken(body: Record<string, unknown>): AccessToken {
    const accessToken = body?.access_token;
    const refreshToken = body?.refresh_token;
    if (typeof accessToken !== 'string' || typeof refreshToken !== 'string')
      throw new UpstreamProtocolError('splynx', 'token response without access_token');
    return {
      accessToken,
      refreshToken,
      accessExpiresAt: Number(body.access_token_expiration) * 1000,
      refreshExpiresAt: Number(body.refresh_token_expiration) * 1000,
    };
  }
}
