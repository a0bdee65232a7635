import { Logger } from '@nestjs/common';
import { HttpClientOptions, ResilientHttpClient } from '@sync-hub/http';
import { BaseAdapter, PanelTarget, UsageReading, UsageTarget } from './panel-adapter';

/** The inferred contract's user path (docs/vpn-panels-api.md); a panel's `settings.paths.user` overrides it. */
export const EYLANDOO_USER_PATH = '/api/v1/users/{username}';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** A URL for a log line: user info (a password someone put in it) left out. */
function withoutUserInfo(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/**
 * Eylandoo (seed 004): `GET {url}{paths.user}` with `X-API-Key`. Usage from the first field present, in the seed's
 * order: `userInfo.total_traffic_bytes`; `userInfo.upload_bytes + download_bytes`; `data.data_used`; else 0 ("no
 * traffic data fields found"). An HTTP or network error, bad credentials or an unknown user is a hard failure (never
 * 0); an empty username is skipped without a call. The log lines are the seed's.
 */
export class EylandooAdapter extends BaseAdapter {
  readonly type = 'eylandoo' as const;
  protected readonly logger = new Logger('Eylandoo');
  private readonly http: ResilientHttpClient;
  private readonly userPath: string;

  constructor(panel: PanelTarget, http: Pick<HttpClientOptions, 'timeoutMs' | 'maxConcurrency'>) {
    super(panel);
    const paths = (panel.settings.paths ?? {}) as { user?: unknown };
    this.userPath =
      typeof paths.user === 'string' && paths.user.includes('{username}') ? paths.user : EYLANDOO_USER_PATH;
    this.http = new ResilientHttpClient({
      name: `eylandoo:${panel.name}`,
      baseUrl: panel.url.replace(/\/+$/, ''),
      timeoutMs: http.timeoutMs,
      retries: 0,
      retryBaseDelayMs: 0,
      maxConcurrency: http.maxConcurrency,
      secrets: () => [panel.credentials.apiKey ?? ''],
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
        `Eylandoo usage fetch skipped: empty username (config_id: ${config.configId})`,
      );
      return { status: 'skipped', reason: 'empty username' };
    }
    let body: unknown;
    try {
      body = (
        await this.http.request({
          method: 'GET',
          path: this.userPath.replace('{username}', encodeURIComponent(username)),
          headers: { 'x-api-key': this.panel.credentials.apiKey ?? '' },
        })
      ).body;
    } catch (err) {
      // The seed's three lines, in its order: the request, the usage lookup, the config's hard failure.
      const failed = this.failure('Eylandoo Get User', username, err);
      this.noUserData(username);
      this.hardFailure(config, username);
      return failed;
    }
    const reading = this.usageOf(username, body);
    if (reading.status !== 'ok') {
      this.noUserData(username);
      this.hardFailure(config, username);
      return reading;
    }
    this.logger.log(
      { config_id: config.configId, username, usage_bytes: reading.bytes, source_field: reading.sourceField },
      `Eylandoo usage for user ${username}: ${reading.bytes} bytes (config_id: ${config.configId})`,
    );
    return reading;
  }

  private noUserData(username: string): void {
    this.logger.warn({ username }, `Eylandoo Get User Usage: failed to retrieve user data (username: ${username})`);
  }

  private hardFailure(config: UsageTarget, username: string): void {
    const url = withoutUserInfo(this.panel.url);
    this.logger.warn(
      { config_id: config.configId, panel_url: url },
      `Eylandoo usage fetch failed for user ${username} (hard failure) (config_id: ${config.configId}, panel_url: ${url})`,
    );
  }

  /** The seed's fallback chain over a 2xx answer. */
  private usageOf(username: string, body: unknown): UsageReading {
    if (
      body === null ||
      typeof body !== 'object' ||
      Array.isArray(body) ||
      (body as { success?: unknown }).success === false
    )
      return {
        status: 'hard_failure',
        error: `eylandoo panel ${this.panel.name}: the answer for ${username} holds no user data`,
        scope: 'config',
      };
    const { userInfo, data } = body as { userInfo?: Record<string, unknown>; data?: Record<string, unknown> };
    if (isCount(userInfo?.total_traffic_bytes)) {
      this.logger.log(
        { username, usage_bytes: userInfo.total_traffic_bytes },
        `Eylandoo usage from userInfo.total_traffic_bytes (username: ${username}, usage_bytes: ${userInfo.total_traffic_bytes})`,
      );
      return { status: 'ok', bytes: userInfo.total_traffic_bytes, sourceField: 'userInfo.total_traffic_bytes' };
    }
    if (isCount(userInfo?.upload_bytes) && isCount(userInfo?.download_bytes)) {
      const total = userInfo.upload_bytes + userInfo.download_bytes;
      this.logger.log(
        {
          username,
          upload_bytes: userInfo.upload_bytes,
          download_bytes: userInfo.download_bytes,
          total_usage_bytes: total,
        },
        `Eylandoo usage from userInfo.upload_bytes + download_bytes (username: ${username}, upload_bytes: ${userInfo.upload_bytes}, download_bytes: ${userInfo.download_bytes}, total_usage_bytes: ${total})`,
      );
      return { status: 'ok', bytes: total, sourceField: 'userInfo.upload_bytes + download_bytes' };
    }
    if (isCount(data?.data_used)) {
      this.logger.log(
        { username, usage_bytes: data.data_used },
        `Eylandoo usage from data.data_used (username: ${username}, usage_bytes: ${data.data_used})`,
      );
      return { status: 'ok', bytes: data.data_used, sourceField: 'data.data_used' };
    }
    this.logger.log({ username }, `Eylandoo usage: no traffic data fields found, returning 0 (username: ${username})`);
    return { status: 'ok', bytes: 0, sourceField: 'none' };
  }
}
