import { AppConfig } from '@sync-hub/config';
import { ConfigurationError } from '@sync-hub/contracts';
import { ResilientHttpClient, UpstreamAuthError, UpstreamHttpError, UpstreamProtocolError } from '@sync-hub/http';

/** One round's request: every table's last stored id, and the most rows per table. */
export interface CpExportRequest {
  cursors: Record<string, number>;
  limit: number;
}

/** One round's answer, checked for shape: rows per table (absent = none) and whether each has more. */
export interface CpExportAnswer {
  data: Record<string, unknown[]>;
  hasMore: Record<string, boolean>;
}

type CpConfig = AppConfig['crm']['cp'];

interface Endpoint {
  http: ResilientHttpClient;
  /** The URL's path and query. */
  path: string;
}

const UNAUTHORISED =
  'the loyalty-club export refused the token (HTTP 401): check CP_EXPORT_TOKEN, and that the API expects it as ' +
  '`Authorization: Bearer <token>`';

/** The request body: every table's cursor (0 for a table never synced) and the limit (docs/cp-export-api.md). */
export function exportRequest(tables: readonly string[], cursors: Map<string, number>, limit: number): CpExportRequest {
  const out: Record<string, number> = {};
  for (const table of tables) out[table] = cursors.get(table) ?? 0;
  return { cursors: out, limit };
}

/** Checks an export answer's shape: `data` an object of arrays (a table may be absent), `has_more` of booleans. */
export function readExportAnswer(body: unknown, tables: readonly string[]): CpExportAnswer {
  const fail = (why: string) => new UpstreamProtocolError('cp-export', `the export answered ${why}`);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw fail('no JSON object');
  const { data, has_more: hasMore } = body as { data?: unknown; has_more?: unknown };
  if (data !== undefined && (data === null || typeof data !== 'object' || Array.isArray(data)))
    throw fail('a `data` that is not an object');
  if (hasMore !== undefined && (hasMore === null || typeof hasMore !== 'object' || Array.isArray(hasMore)))
    throw fail('a `has_more` that is not an object');
  const out: CpExportAnswer = { data: {}, hasMore: {} };
  for (const table of tables) {
    const rows = (data as Record<string, unknown> | undefined)?.[table];
    if (rows !== undefined && rows !== null && !Array.isArray(rows)) throw fail(`\`data.${table}\` that is not a list`);
    out.data[table] = (rows as unknown[] | undefined) ?? [];
    out.hasMore[table] = (hasMore as Record<string, unknown> | undefined)?.[table] === true;
  }
  return out;
}

/**
 * The loyalty-club export and visit link (seed 002; the contract in docs/cp-export-api.md). Each request has
 * CP_EXPORT_TIMEOUT and CP_EXPORT_RETRY_ATTEMPTS attempts on a 5xx, a timeout or a network error, backing off from
 * CP_EXPORT_RETRY_DELAY; a 401 is a configuration failure, never retried. The token never reaches a log or an error.
 */
export class CpExportClient {
  private readonly exportHttp: Endpoint | null;
  private readonly visitHttp: Endpoint | null;
  /** The CLI's --test: one attempt, at most 30 s, so that a check answers quickly whatever the retry settings. */
  private readonly probeHttp: Endpoint | null;

  constructor(
    private readonly config: CpConfig,
    maxConcurrency = 1,
  ) {
    const endpoint = (name: string, url: string, attempts: number, timeoutMs: number): Endpoint => {
      // The configured URL is the whole endpoint: its origin is the client's base, its path and query the request's.
      const parsed = new URL(url);
      return {
        path: `${parsed.pathname}${parsed.search}`,
        http: new ResilientHttpClient({
          name,
          baseUrl: parsed.origin,
          timeoutMs,
          retries: Math.max(0, attempts - 1),
          retryBaseDelayMs: config.retryDelayMs,
          maxConcurrency,
          secrets: () => [config.token],
        }),
      };
    };
    this.exportHttp = config.exportUrl
      ? endpoint('cp-export', config.exportUrl, config.attempts, config.timeoutMs)
      : null;
    this.visitHttp = config.visitUrl ? endpoint('cp-visit', config.visitUrl, config.attempts, config.timeoutMs) : null;
    this.probeHttp = config.exportUrl
      ? endpoint('cp-export', config.exportUrl, 1, Math.min(config.timeoutMs, 30_000))
      : null;
  }

  async close(): Promise<void> {
    await Promise.all([this.exportHttp?.http.close(), this.visitHttp?.http.close(), this.probeHttp?.http.close()]);
  }

  /** One round: rows after each table's cursor. */
  async export(request: CpExportRequest, options: { once?: boolean } = {}): Promise<CpExportAnswer> {
    const endpoint = options.once ? this.probeHttp : this.exportHttp;
    if (!endpoint)
      throw new ConfigurationError(
        'CP_EXPORT_NOT_CONFIGURED',
        'CP_EXPORT_URL is not set: the loyalty-club export has no upstream',
      );
    const res = await this.call(endpoint, { method: 'POST', body: request });
    return readExportAnswer(res.body, Object.keys(request.cursors));
  }

  /** The hourly visit; any 2xx is success. Answers the status. */
  async visit(): Promise<number> {
    if (!this.visitHttp)
      throw new ConfigurationError(
        'CP_VISIT_NOT_CONFIGURED',
        'CP_VISIT_URL is not set: there is no sync-visit link to call',
      );
    return (await this.call(this.visitHttp, { method: 'GET' })).status;
  }

  private async call(
    endpoint: Endpoint,
    req: { method: 'GET' | 'POST'; body?: unknown },
  ): Promise<{ status: number; body: unknown }> {
    try {
      return await endpoint.http.request({
        ...req,
        path: endpoint.path,
        headers: { authorization: `Bearer ${this.config.token}` },
      });
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 401)
        throw new UpstreamAuthError('cp-export', UNAUTHORISED);
      throw err;
    }
  }
}
