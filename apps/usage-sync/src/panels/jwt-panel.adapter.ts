import { Logger } from '@nestjs/common';
import { HttpClientOptions, ResilientHttpClient, UpstreamHttpError } from '@sync-hub/http';
import { BaseAdapter, PanelTarget, UsageReading, UsageTarget } from './panel-adapter';

/** How long a token without a readable `exp` is trusted. */
const DEFAULT_TOKEN_MS = 30 * 60_000;
/** A token is renewed this long before its `exp`. */
const TOKEN_MARGIN_MS = 30_000;

interface JwtRoutes {
  token: string;
  user: string;
}

/** The `exp` of a JWT in ms, or null when it has none readable. */
export function jwtExpiry(token: string): number | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * Marzban and Marzneshin (upstream-apis.md section 4): an admin token from a form login, cached until shortly before
 * it expires (one login shared by concurrent reads), then `GET` the user with `Authorization: Bearer` → `used_traffic`.
 * A 401 on a read (the token expired or was revoked mid-run) logs in again once and reads again.
 */
abstract class JwtPanelAdapter extends BaseAdapter {
  protected abstract readonly routes: JwtRoutes;
  private readonly http: ResilientHttpClient;
  private token: { value: string; until: number } | null = null;
  private login: Promise<string> | null = null;

  constructor(
    panel: PanelTarget,
    http: Pick<HttpClientOptions, 'timeoutMs' | 'maxConcurrency'>,
    private readonly clock: () => number = Date.now,
  ) {
    super(panel);
    this.http = new ResilientHttpClient({
      name: `${panel.type}:${panel.name}`,
      baseUrl: panel.url.replace(/\/+$/, ''),
      timeoutMs: http.timeoutMs,
      retries: 0,
      retryBaseDelayMs: 0,
      maxConcurrency: http.maxConcurrency,
      secrets: () => [panel.credentials.password ?? '', this.token?.value ?? ''],
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async read(config: UsageTarget): Promise<UsageReading> {
    const username = config.externalUsername?.trim() ?? '';
    if (username === '') {
      this.logger.warn(
        { config_id: config.configId },
        `${this.label} usage fetch skipped: empty username (config_id: ${config.configId})`,
      );
      return { status: 'skipped', reason: 'empty username' };
    }
    // A refused login is the panel's failure, said as the login's, and never tried twice for one read.
    const token = await this.bearer(false).catch((err: unknown) => err as Error);
    if (token instanceof Error) return this.failure(`${this.label} Login`, username, token, 'panel');
    try {
      let body: unknown;
      try {
        body = await this.getUser(username, token);
      } catch (err) {
        if (!(err instanceof UpstreamHttpError && err.status === 401)) throw err;
        const renewed = await this.bearer(true).catch((e: unknown) => e as Error);
        if (renewed instanceof Error) return this.failure(`${this.label} Login`, username, renewed, 'panel');
        body = await this.getUser(username, renewed);
      }
      const used = (body as { used_traffic?: unknown } | null)?.used_traffic;
      if (typeof used !== 'number' || !Number.isFinite(used) || used < 0)
        // The panel answered, about this user: that config's failure, not one that opens the panel's circuit.
        return this.failure(
          `${this.label} Get User`,
          username,
          new Error(`no used_traffic in the answer for ${username}`),
          'config',
        );
      this.logger.log(
        { config_id: config.configId, username, usage_bytes: used, source_field: 'used_traffic' },
        `${this.label} usage for user ${username}: ${used} bytes (config_id: ${config.configId})`,
      );
      return { status: 'ok', bytes: used, sourceField: 'used_traffic' };
    } catch (err) {
      return this.failure(`${this.label} Get User`, username, err);
    }
  }

  private get label(): string {
    return this.type === 'marzban' ? 'Marzban' : 'Marzneshin';
  }

  private async getUser(username: string, token: string): Promise<unknown> {
    return (
      await this.http.request({
        method: 'GET',
        path: this.routes.user.replace('{username}', encodeURIComponent(username)),
        headers: { authorization: `Bearer ${token}` },
      })
    ).body;
  }

  /** The cached token, or a new one (`renew`: the panel refused the cached one). One login at a time. */
  private async bearer(renew: boolean): Promise<string> {
    if (!renew && this.token && this.token.until > this.clock()) return this.token.value;
    if (renew) this.token = null;
    this.login ??= this.logIn().finally(() => (this.login = null));
    return this.login;
  }

  private async logIn(): Promise<string> {
    const { username = '', password = '' } = this.panel.credentials;
    const res = await this.http.request<{ access_token?: unknown }>({
      method: 'POST',
      path: this.routes.token,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
    });
    const value = res.body?.access_token;
    if (typeof value !== 'string' || value === '') throw new Error(`${this.routes.token} answered no access_token`);
    const now = this.clock();
    const exp = jwtExpiry(value) ?? now + DEFAULT_TOKEN_MS;
    // Renewed a little before it expires (half its life for a short-lived one).
    this.token = { value, until: exp - Math.min(TOKEN_MARGIN_MS, Math.max(0, exp - now) / 2) };
    return value;
  }
}

export class MarzbanAdapter extends JwtPanelAdapter {
  readonly type = 'marzban' as const;
  protected readonly logger = new Logger('Marzban');
  protected readonly routes = { token: '/api/admin/token', user: '/api/user/{username}' };
}

export class MarzneshinAdapter extends JwtPanelAdapter {
  readonly type = 'marzneshin' as const;
  protected readonly logger = new Logger('Marzneshin');
  protected readonly routes = { token: '/api/admins/token', user: '/api/users/{username}' };
}
