import { Logger } from '@nestjs/common';
import { HttpClientOptions, ResilientHttpClient, UpstreamHttpError } from '@sync-hub/http';
import { BaseAdapter, PanelTarget, UsageReading, UsageTarget } from './panel-adapter';

/** The panel's session cookie (3x-ui's name; `settings.cookieName` for a fork that names it otherwise). */
const DEFAULT_COOKIE = '3x-ui';

/** The session has ended: a redirect to the login page, a 401, the hidden API's empty 404, or a non-JSON 200. */
class SessionEnded extends Error {}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * 3x-ui (upstream-apis.md section 4; docs/vpn-panels-api-marzneshin-3xui.md): the usage is `up + down` of the client
 * whose email is the config's username. Up to v3.0: `POST login` (form) for a session cookie, then
 * `GET panel/api/inbounds/getClientTraffics/{email}`; a panel with `settings.generation: 'v3.1'` and an API token reads
 * `GET panel/api/clients/traffic/{email}` with `Authorization: Bearer` and never logs in. The envelope's
 * `success: false` (HTTP 200) or a null `obj` is a hard failure, never 0. A session that ended mid-run is renewed
 * once per read.
 */
export class ThreeXuiAdapter extends BaseAdapter {
  readonly type = '3x-ui' as const;
  protected readonly logger = new Logger('3x-ui');
  private readonly http: ResilientHttpClient;
  private readonly useToken: boolean;
  private readonly cookieName: string;
  private cookie: string | null = null;
  private login: Promise<string> | null = null;

  constructor(panel: PanelTarget, http: Pick<HttpClientOptions, 'timeoutMs' | 'maxConcurrency'>) {
    super(panel);
    this.useToken = panel.settings.generation === 'v3.1' && Boolean(panel.credentials.apiToken);
    this.cookieName = typeof panel.settings.cookieName === 'string' ? panel.settings.cookieName : DEFAULT_COOKIE;
    this.http = new ResilientHttpClient({
      name: `3x-ui:${panel.name}`,
      baseUrl: panel.url.replace(/\/+$/, ''),
      timeoutMs: http.timeoutMs,
      retries: 0,
      retryBaseDelayMs: 0,
      maxConcurrency: http.maxConcurrency,
      secrets: () => [panel.credentials.password ?? '', panel.credentials.apiToken ?? '', this.cookie ?? ''],
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async read(config: UsageTarget): Promise<UsageReading> {
    const email = config.externalUsername?.trim() ?? '';
    if (email === '') {
      this.logger.warn(
        { config_id: config.configId },
        `3x-ui usage fetch skipped: empty username (config_id: ${config.configId})`,
      );
      return { status: 'skipped', reason: 'empty username' };
    }
    try {
      let body: unknown;
      try {
        body = await this.traffic(email, false);
      } catch (err) {
        if (this.useToken || !(err instanceof SessionEnded)) throw err;
        body = await this.traffic(email, true);
      }
      const envelope = body as { success?: unknown; msg?: unknown; obj?: { up?: unknown; down?: unknown } | null };
      if (envelope.success !== true || !envelope.obj)
        return this.failure(
          '3x-ui Get Client Traffics',
          email,
          new Error(`the panel answered success: false (${typeof envelope.msg === 'string' ? envelope.msg : ''})`),
          // The panel answered: an unknown client (or one it cannot read), not a panel down.
          'config',
        );
      const { up, down } = envelope.obj;
      if (!isCount(up) || !isCount(down))
        return this.failure('3x-ui Get Client Traffics', email, new Error(`no up/down in the answer for ${email}`));
      this.logger.log(
        { config_id: config.configId, username: email, usage_bytes: up + down, source_field: 'up + down' },
        `3x-ui usage for user ${email}: ${up + down} bytes (config_id: ${config.configId})`,
      );
      return { status: 'ok', bytes: up + down, sourceField: 'up + down' };
    } catch (err) {
      return this.failure(
        '3x-ui Get Client Traffics',
        email,
        err instanceof SessionEnded ? new Error('the session was refused after a new login') : err,
      );
    }
  }

  private async traffic(email: string, renew: boolean): Promise<unknown> {
    const id = encodeURIComponent(email);
    const headers: Record<string, string> = { 'x-requested-with': 'XMLHttpRequest' };
    let path: string;
    if (this.useToken) {
      path = `/panel/api/clients/traffic/${id}`;
      headers.authorization = `Bearer ${this.panel.credentials.apiToken}`;
    } else {
      path = `/panel/api/inbounds/getClientTraffics/${id}`;
      headers.cookie = `${this.cookieName}=${await this.session(renew)}`;
    }
    try {
      const res = await this.http.request({ method: 'GET', path, headers });
      if (typeof res.body !== 'object' || res.body === null)
        throw new SessionEnded('a 200 that is not JSON: the login page');
      return res.body;
    } catch (err) {
      if (err instanceof UpstreamHttpError && [301, 302, 303, 307, 308, 401].includes(err.status))
        throw new SessionEnded(`HTTP ${err.status}`);
      if (err instanceof UpstreamHttpError && err.status === 404 && (err.body === '' || err.body === null))
        throw new SessionEnded('the hidden API answered 404');
      throw err;
    }
  }

  /** The session cookie's value, logging in when there is none (or `renew`). One login at a time. */
  private async session(renew: boolean): Promise<string> {
    if (!renew && this.cookie) return this.cookie;
    if (renew) this.cookie = null;
    this.login ??= this.logIn().finally(() => (this.login = null));
    return this.login;
  }

  private async logIn(): Promise<string> {
    const { username = '', password = '' } = this.panel.credentials;
    const res = await this.http.request<{ success?: unknown; msg?: unknown }>({
      method: 'POST',
      path: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }).toString(),
    });
    if (res.body?.success !== true)
      throw new Error(`login refused: ${typeof res.body?.msg === 'string' ? res.body.msg : 'no reason given'}`);
    const setCookie = res.headers['set-cookie'];
    const cookies = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
    const value = cookies
      .map((c) => c.split(';')[0])
      .find((c) => c.startsWith(`${this.cookieName}=`))
      ?.slice(this.cookieName.length + 1);
    if (!value) throw new Error(`login answered no ${this.cookieName} cookie`);
    this.cookie = value;
    return value;
  }
}
