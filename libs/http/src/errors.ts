import { ClassifiedError } from '@sync-hub/contracts';

/** Any failure talking to an upstream API. `retriable` drives the retry policy and the run's error classification. */
export abstract class UpstreamError extends ClassifiedError {
  readonly origin = 'source' as const;
  constructor(
    readonly upstream: string,
    message: string,
  ) {
    super(`${upstream}: ${message}`);
  }
}

/** The upstream answered with a status we do not accept. */
export class UpstreamHttpError extends UpstreamError {
  readonly code: string;
  readonly retriable: boolean;
  constructor(
    upstream: string,
    readonly status: number,
    readonly request: string,
    readonly body: unknown,
    readonly retryAfterMs: number | null = null,
    /** The answer's headers (request ids such as QuickBooks' intuit_tid), never the request's. */
    readonly headers: Record<string, string | string[] | undefined> = {},
  ) {
    super(upstream, `${request} answered ${status}${describeBody(body)}`);
    this.name = 'UpstreamHttpError';
    this.retriable = status === 408 || status === 429 || status >= 500;
    this.code =
      status === 429 ? 'UPSTREAM_RATE_LIMITED' : status >= 500 ? 'UPSTREAM_UNAVAILABLE' : `UPSTREAM_HTTP_${status}`;
  }
}

/** Credentials were refused: an operator must fix them; retrying does not help. */
export class UpstreamAuthError extends UpstreamError {
  readonly code = 'UPSTREAM_AUTH_REJECTED';
  readonly retriable = false;
  override readonly origin = 'source' as const;
  constructor(upstream: string, message: string) {
    super(upstream, message);
    this.name = 'UpstreamAuthError';
  }
  override toRunError() {
    // Reported as a configuration error: the fix is new credentials, not a retry.
    return { ...super.toRunError(), origin: 'config' as const };
  }
}

export class UpstreamNetworkError extends UpstreamError {
  readonly code = 'UPSTREAM_UNREACHABLE';
  readonly retriable = true;
  constructor(upstream: string, request: string, cause: Error) {
    super(upstream, `${request} failed: ${cause.message}`);
    this.name = 'UpstreamNetworkError';
  }
}

export class UpstreamTimeoutError extends UpstreamError {
  readonly code = 'UPSTREAM_TIMEOUT';
  readonly retriable = true;
  constructor(upstream: string, request: string, timeoutMs: number) {
    super(upstream, `${request} timed out after ${timeoutMs} ms`);
    this.name = 'UpstreamTimeoutError';
  }
}

/** The upstream answered 2xx with something we cannot read. */
export class UpstreamProtocolError extends UpstreamError {
  readonly code = 'UPSTREAM_BAD_RESPONSE';
  readonly retriable = false;
  constructor(upstream: string, message: string) {
    super(upstream, message);
    this.name = 'UpstreamProtocolError';
  }
}

/**
 * The upstream answered 2xx with a body that is not the JSON it announced, typically cut off half-way (a proxy timeout,
 * a worker that died mid-answer). Unlike a readable answer of the wrong shape (UpstreamProtocolError), asking again
 * usually helps, so it is retried like a 5xx; when the retries are spent the run fails as the same bad response.
 */
export class UpstreamMalformedBodyError extends UpstreamError {
  readonly code = 'UPSTREAM_BAD_RESPONSE';
  readonly retriable = true;
  constructor(upstream: string, request: string, received: number) {
    super(upstream, `${request} answered malformed or truncated JSON (${received} bytes)`);
    this.name = 'UpstreamMalformedBodyError';
  }
}

function describeBody(body: unknown): string {
  if (body == null || body === '') return '';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return `: ${text.slice(0, 300)}`;
}
