import { Logger } from '@nestjs/common';
import { AppConfig } from '@sync-hub/config';
import { ConfigurationError } from '@sync-hub/contracts';
import {
  HttpClientOptions,
  HttpRequest,
  HttpResponse,
  ResilientHttpClient,
  UpstreamAuthError,
  UpstreamHttpError,
  UpstreamProtocolError,
} from '@sync-hub/http';
import { TokenBucket } from 'limiter';
import type { RobawsClientRecord } from '../customers/normalise';

const API = '/api/v2';
/** Robaws's bucket: 15 tokens a second, bursts of 20 (upstream-apis.md section 3). */
export const ROBAWS_RATE = { perSecond: 15, burst: 20 };
/** Below this many tokens left (`x-ratelimit-remaining`), the client's own bucket is drained to match the server's. */
const SLOW_DOWN_BELOW = 5;
/** Robaws's advice after a 429 without Retry-After: "it's safe to pause for a second and retry". */
export const ROBAWS_THROTTLED_WAIT_MS = 1000;
/**
 * Rounds of retries after the usual ones while Robaws still answers 429: (retries + 1) × (rounds + 1) attempts of one
 * request at most, 12 with the floor of 3 retries. A bucket refilling at 15/s clears in about a second, so a 429 that
 * outlasts ~11 s is a quota or a block, and Robaws blocks integrations that keep hitting 429s: give up, let the run fail
 * as UPSTREAM_RATE_LIMITED (retriable: the next run tries again).
 */
export const ROBAWS_THROTTLED_ROUNDS = 2;

export interface RobawsPage {
  items: RobawsClientRecord[];
  page: number;
  totalItems: number;
  totalPages: number;
}

export interface RobawsWebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  /** Given once, when the endpoint is created. */
  secret?: string;
  createdAt?: string;
}

export interface ClientPageOptions {
  /** Only clients changed at or after this instant (Robaws's `updatedFrom`). */
  updatedFrom?: Date;
  pageSize: number;
  /** Start at this page (a resumed run). */
  fromPage?: number;
}

export interface RobawsApiClientOptions {
  /** Requests a second and burst; default Robaws's real bucket. */
  rate?: { perSecond: number; burst: number };
  /** The wait after a 429 without Retry-After (default ROBAWS_THROTTLED_WAIT_MS); tests shorten it. */
  throttledWaitMs?: number;
}

/**
 * Robaws API v2 (HTTP Basic with an API key pair). Never sends faster than Robaws's bucket (15/s, burst 20): a local
 * token bucket paces every request, and Robaws's `x-ratelimit-remaining` drains it further when others use the same
 * key. A 429 waits (Retry-After, else a second) and is tried again, for ROBAWS_THROTTLED_ROUNDS more rounds after the
 * usual retries (at least 3, on 429, 5xx, timeouts and network errors).
 */
export class RobawsApiClient {
  private readonly logger = new Logger(RobawsApiClient.name);
  private readonly http: ResilientHttpClient;
  /** null: unpaced (ROBAWS_REQUESTS_PER_SECOND=0). */
  private readonly bucket: TokenBucket | null;

  constructor(
    private readonly config: AppConfig['crm']['robaws'],
    http: Omit<HttpClientOptions, 'name' | 'baseUrl' | 'secrets'>,
    options: RobawsApiClientOptions = {},
  ) {
    const perSecond = config.requestsPerSecond ?? ROBAWS_RATE.perSecond;
    const rate = options.rate ?? {
      perSecond,
      burst: Math.max(1, Math.round((perSecond * ROBAWS_RATE.burst) / ROBAWS_RATE.perSecond)),
    };
    this.bucket =
      rate.perSecond > 0
        ? new TokenBucket({ bucketSize: rate.burst, tokensPerInterval: rate.perSecond, interval: 'second' })
        : null;
    this.http = new ResilientHttpClient({
      ...http,
      retries: Math.max(http.retries, 3),
      name: 'robaws',
      baseUrl: config.baseUrl ?? 'http://robaws.invalid',
      secrets: () => [config.apiSecret, this.basic()],
      rateLimitedWaitMs: options.throttledWaitMs ?? ROBAWS_THROTTLED_WAIT_MS,
      rateLimitedRounds: ROBAWS_THROTTLED_ROUNDS,
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** Pages of clients, `sort=id:asc` (new clients land at the end, so a page in progress does not shift). */
  async *clientPages(options: ClientPageOptions): AsyncGenerator<RobawsPage> {
    for (let page = options.fromPage ?? 0; ; page++) {
      const query: Record<string, string | number> = { page, size: options.pageSize, sort: 'id:asc' };
      if (options.updatedFrom) query.updatedFrom = options.updatedFrom.toISOString();
      const res = await this.call<Partial<RobawsPage>>({ method: 'GET', path: `${API}/clients`, query });
      const body = res.body;
      if (!body || !Array.isArray(body.items))
        throw new UpstreamProtocolError('robaws', 'GET /api/v2/clients answered no items list');
      const totalPages = Number(body.totalPages ?? 0);
      yield { items: body.items, page, totalItems: Number(body.totalItems ?? 0), totalPages };
      if (body.items.length < options.pageSize || page + 1 >= totalPages) return;
    }
  }

  /** One client, or null when Robaws has none with this id (404). */
  async getClient(id: number): Promise<RobawsClientRecord | null> {
    try {
      return (await this.call<RobawsClientRecord>({ method: 'GET', path: `${API}/clients/${id}` })).body;
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 404) return null;
      throw err;
    }
  }

  /** RFC 7386 merge-patch of one client; answers the client as Robaws stored it. */
  async patchClient(id: number, patch: Record<string, unknown>): Promise<RobawsClientRecord> {
    const res = await this.call<RobawsClientRecord>({
      method: 'PATCH',
      path: `${API}/clients/${id}`,
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify(patch),
    });
    return res.body;
  }

  async listWebhookEndpoints(): Promise<RobawsWebhookEndpoint[]> {
    const res = await this.call<{ items?: RobawsWebhookEndpoint[] }>({
      method: 'GET',
      path: `${API}/webhook-endpoints`,
    });
    return res.body?.items ?? [];
  }

  async createWebhookEndpoint(url: string, events: string[]): Promise<RobawsWebhookEndpoint> {
    const res = await this.call<RobawsWebhookEndpoint>({
      method: 'POST',
      path: `${API}/webhook-endpoints`,
      body: { url, events },
    });
    return res.body;
  }

  async deleteWebhookEndpoint(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `${API}/webhook-endpoints/${encodeURIComponent(id)}` });
  }

  private basic(): string {
    return Buffer.from(`${this.config.apiKey}:${this.config.apiSecret}`).toString('base64');
  }

  private async call<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    if (!this.config.baseUrl)
      throw new ConfigurationError('ROBAWS_NOT_CONFIGURED', 'ROBAWS_URL is not set: the Robaws sync has no upstream');
    try {
      const res = await this.http.request<T>({
        ...req,
        // Every attempt (retries included) takes a token first; the answer's remaining count reins the bucket in.
        authorize: async () => {
          await this.bucket?.removeTokens(1);
          return { authorization: `Basic ${this.basic()}` };
        },
      });
      this.observe(res.headers);
      return res;
    } catch (err) {
      this.observe(err instanceof UpstreamHttpError ? err.headers : undefined);
      if (err instanceof UpstreamHttpError && (err.status === 401 || err.status === 403))
        throw new UpstreamAuthError(
          'robaws',
          `credentials refused (HTTP ${err.status}): check ROBAWS_API_KEY / ROBAWS_API_SECRET and the user's rights`,
        );
      throw err;
    }
  }

  /** Robaws says how many tokens it has left: when fewer than ours, ours drop to match (others share the key). */
  private observe(headers: Record<string, string | string[] | undefined> | undefined): void {
    const raw = headers?.['x-ratelimit-remaining'];
    const remaining = Number(Array.isArray(raw) ? raw[0] : raw);
    if (!this.bucket || !Number.isFinite(remaining) || remaining >= SLOW_DOWN_BELOW) return;
    this.bucket.drip();
    if (this.bucket.content > remaining) {
      this.logger.debug(`Robaws has ${remaining} request(s) left in its bucket: slowing down`);
      this.bucket.content = remaining;
    }
  }
}
