import {
  UpstreamAuthError,
  UpstreamHttpError,
  UpstreamMalformedBodyError,
  UpstreamNetworkError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
} from './errors';

/** The classes `upstream_errors_total` counts by: what an alert or a dashboard groups upstream failures into. */
export type UpstreamErrorClass =
  'timeout' | 'rate_limited' | 'server_error' | 'client_error' | 'auth' | 'bad_response' | 'unreachable';

/** The class of a failed attempt; null for an error that is not the upstream's answer (a bug, a token store). */
export function upstreamErrorClass(err: unknown): UpstreamErrorClass | null {
  if (err instanceof UpstreamTimeoutError) return 'timeout';
  if (err instanceof UpstreamNetworkError) return 'unreachable';
  if (err instanceof UpstreamProtocolError || err instanceof UpstreamMalformedBodyError) return 'bad_response';
  if (err instanceof UpstreamAuthError) return 'auth';
  if (err instanceof UpstreamHttpError) {
    if (err.status === 429) return 'rate_limited';
    if (err.status === 408) return 'timeout';
    if (err.status === 401 || err.status === 403) return 'auth';
    return err.status >= 500 ? 'server_error' : 'client_error';
  }
  return null;
}

export type UpstreamErrorListener = (upstream: string, errorClass: UpstreamErrorClass) => void;

const listeners = new Set<UpstreamErrorListener>();

/**
 * Hears every failed attempt of every ResilientHttpClient in the process (the metrics count them). Process-wide rather
 * than an option of each client: the clients are built in a dozen places, and none of them should have to remember.
 * Returns the listener's removal.
 */
export function onUpstreamError(listener: UpstreamErrorListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Tells the listeners about a failed attempt, then rethrows it. A listener that throws does not change the error. */
export function reportUpstreamError(upstream: string, err: unknown): never {
  const errorClass = upstreamErrorClass(err);
  if (errorClass) {
    for (const listener of listeners) {
      try {
        listener(upstream, errorClass);
      } catch {
        // Metrics never break a request.
      }
    }
  }
  throw err;
}
