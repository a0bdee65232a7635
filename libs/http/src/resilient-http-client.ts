import { Logger } from '@nestjs/common';
import {
  BulkheadPolicy,
  DelegateBackoff,
  IRetryBackoffContext,
  bulkhead,
  handleWhen,
  retry,
  wrap,
  RetryPolicy,
} from 'cockatiel';
import { Agent, errors as undiciErrors, request } from 'undici';
import {
  UpstreamError,
  UpstreamHttpError,
  UpstreamMalformedBodyError,
  UpstreamNetworkError,
  UpstreamTimeoutError,
} from './errors';
import { reportUpstreamError } from './upstream-error-class';

export interface HttpClientOptions {
  /** The upstream's name, used in errors, logs and metrics. */
  name: string;
  baseUrl: string;
  timeoutMs: number;
  /** Retries after the first attempt, on 408/429/5xx and network errors only. */
  retries: number;
  retryBaseDelayMs: number;
  /** Requests in flight to this upstream at most; the rest queue. */
  maxConcurrency: number;
  /** Values that must never appear in a log line or an error message (keys, secrets, tokens). */
  secrets?: () => string[];
  /**
   * How long to wait after a 429 that names no Retry-After (QuickBooks sends none and asks for 60 s); unset: the usual
   * backoff.
   */
  rateLimitedWaitMs?: number;
  /**
   * More rounds of retries after the usual ones are spent, when the last answer was a 429: a throttle storm is waited
   * out rather than failing the work (QuickBooks). Unset: none.
   */
  rateLimitedRounds?: number;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: URLSearchParams | Record<string, string | number>;
  headers?: Record<string, string>;
  /** Computed again for every attempt: signatures with a nonce must not be replayed by a retry. */
  authorize?: () => Promise<Record<string, string>> | Record<string, string>;
  /** Sent as JSON unless it is already a string or bytes (then `content-type` is the caller's). */
  body?: unknown;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

const MAX_BACKOFF_MS = 30000;

/** Delay before a retry: the upstream's Retry-After when it gave one, else exponential backoff with full jitter. */
export function retryDelayMs(attempt: number, baseDelayMs: number, error: unknown, random = Math.random): number {
  if (error instanceof UpstreamHttpError && error.retryAfterMs !== null)
    return Math.min(error.retryAfterMs, MAX_BACKOFF_MS * 4);
  const ceiling = Math.min(MAX_BACKOFF_MS, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return null;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * The one HTTP client every upstream client is built on: per-request timeout, bounded concurrency (cockatiel
 * bulkhead), retries with backoff and jitter on 429/5xx/network errors honouring Retry-After (cockatiel retry),
 * keep-alive connections (undici), and secrets scrubbed from everything it logs or throws.
 */
export class ResilientHttpClient {
  private readonly logger: Logger;
  private readonly agent: Agent;
  private readonly policy: RetryPolicy;
  private readonly limiter: BulkheadPolicy;

  constructor(private readonly options: HttpClientOptions) {
    this.logger = new Logger(`HttpClient:${options.name}`);
    this.agent = new Agent({ connections: options.maxConcurrency, keepAliveTimeout: 10000, pipelining: 1 });
    this.limiter = bulkhead(options.maxConcurrency, Number.MAX_SAFE_INTEGER);
    this.policy = retry(
      handleWhen((err) => err instanceof UpstreamError && err.retriable),
      {
        maxAttempts: options.retries,
        backoff: new DelegateBackoff((ctx: IRetryBackoffContext<unknown>) => {
          const error = 'error' in ctx.result ? ctx.result.error : undefined;
          if (
            options.rateLimitedWaitMs !== undefined &&
            error instanceof UpstreamHttpError &&
            error.status === 429 &&
            error.retryAfterMs === null
          )
            return options.rateLimitedWaitMs;
          return retryDelayMs(ctx.attempt, options.retryBaseDelayMs, error);
        }),
      },
    );
    this.policy.onRetry((reason) => {
      const why = 'error' in reason ? this.redact(reason.error.message) : 'unexpected result';
      this.logger.warn(`retrying in ${Math.round(reason.delay)} ms after: ${why}`);
    });
  }

  /** Sends the request; answers 2xx as a response and anything else as an UpstreamError. */
  async request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    for (let round = 1; ; round++) {
      try {
        return await wrap(this.policy, this.limiter).execute(() =>
          this.once<T>(req).catch((err: unknown) => reportUpstreamError(this.options.name, err)),
        );
      } catch (err) {
        const throttled = err instanceof UpstreamHttpError && err.status === 429;
        if (!throttled || round > (this.options.rateLimitedRounds ?? 0)) throw err;
        const wait = err.retryAfterMs ?? this.options.rateLimitedWaitMs ?? MAX_BACKOFF_MS;
        this.logger.warn(
          `still throttled (429) after ${this.options.retries} retries: waiting ${wait} ms, round ${round}`,
        );
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.options.secrets?.() ?? [])
      if (secret.length >= 4) out = out.split(secret).join('[redacted]');
    return out;
  }

  private async once<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const url = new URL(this.options.baseUrl + req.path);
    const query =
      req.query instanceof URLSearchParams
        ? req.query
        : new URLSearchParams(Object.entries(req.query ?? {}).map(([k, v]) => [k, String(v)]));
    query.forEach((v, k) => url.searchParams.append(k, v));
    const label = this.redact(`${req.method} ${req.path}`);
    const raw = typeof req.body === 'string' || req.body instanceof Uint8Array;
    const body =
      req.body === undefined ? undefined : raw ? (req.body as string | Uint8Array) : JSON.stringify(req.body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}),
      ...req.headers,
      ...(req.authorize ? await req.authorize() : {}),
    };

    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: req.method,
        headers,
        body,
        dispatcher: this.agent,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      throw this.transportError(err as Error, label);
    }

    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw this.transportError(err as Error, label);
    }
    let parsed: unknown = text;
    const type = String(res.headers['content-type'] ?? '');
    if (text.length > 0 && (type.includes('json') || /^[[{]/.test(text))) {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (res.statusCode < 300)
          throw new UpstreamMalformedBodyError(this.options.name, label, Buffer.byteLength(text));
      }
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      return { status: res.statusCode, headers: res.headers, body: parsed as T };
    }
    const redactedBody =
      typeof parsed === 'string' ? this.redact(parsed) : (JSON.parse(this.redact(JSON.stringify(parsed))) as unknown);
    throw new UpstreamHttpError(
      this.options.name,
      res.statusCode,
      label,
      redactedBody,
      parseRetryAfter(res.headers['retry-after']),
      res.headers,
    );
  }

  private transportError(err: Error, label: string): UpstreamError {
    const timedOut =
      err.name === 'TimeoutError' ||
      err.name === 'AbortError' ||
      err instanceof undiciErrors.HeadersTimeoutError ||
      err instanceof undiciErrors.BodyTimeoutError;
    return timedOut
      ? new UpstreamTimeoutError(this.options.name, label, this.options.timeoutMs)
      : new UpstreamNetworkError(this.options.name, label, new Error(this.redact(err.message)));
  }
}
