/** Intuit's per-realm limits ("API call limits and throttles" and the 2016 concurrency blog). */
export interface QboLimits {
  requestsPerMinute: number;
  concurrent: number;
  batchesPerMinute: number;
  /**
   * The length of the "minute" the two per-minute limits count in, in ms; unset: 60 000, Intuit's. Tests shorten it so a
   * client that waits a second after a 429 (QBO_RATE_LIMIT_WAIT_SECONDS=1) finds the window cleared, as a client
   * waiting Intuit's 60 s would.
   */
  windowMs?: number;
}

export const QBO_LIMITS: QboLimits = { requestsPerMinute: 500, concurrent: 10, batchesPerMinute: 40 };

export function scaledLimits(scale = 1, overrides: Partial<QboLimits> = {}): QboLimits {
  return {
    requestsPerMinute: overrides.requestsPerMinute ?? QBO_LIMITS.requestsPerMinute * scale,
    concurrent: overrides.concurrent ?? QBO_LIMITS.concurrent * scale,
    batchesPerMinute: overrides.batchesPerMinute ?? QBO_LIMITS.batchesPerMinute * scale,
    ...(overrides.windowMs !== undefined ? { windowMs: overrides.windowMs } : {}),
  };
}

/**
 * One realm's windows on the simulator's clock: requests admitted in the last 60 s (all API calls), batch calls in the
 * last 60 s, and requests in flight. A refused request takes no slot, so a client that waits a minute gets through.
 * The limits are read at every admission: `QuickBooksSimulator.setLimits` changes them for realms already in use.
 */
export class RealmLimiter {
  private requests: number[] = [];
  private batches: number[] = [];
  private inFlight = 0;

  constructor(
    private readonly limits: QboLimits,
    private readonly now: () => number,
  ) {}

  /** A release function when admitted, or the limit that refused it. */
  admit(batch: boolean): { release: () => void } | { refused: keyof QboLimits } {
    const now = this.now();
    const since = now - (this.limits.windowMs ?? 60_000);
    this.requests = this.requests.filter((t) => t > since);
    this.batches = this.batches.filter((t) => t > since);
    if (this.inFlight >= this.limits.concurrent) return { refused: 'concurrent' };
    if (this.requests.length >= this.limits.requestsPerMinute) return { refused: 'requestsPerMinute' };
    if (batch && this.batches.length >= this.limits.batchesPerMinute) return { refused: 'batchesPerMinute' };
    this.requests.push(now);
    if (batch) this.batches.push(now);
    this.inFlight++;
    let released = false;
    return {
      release: () => {
        if (!released) this.inFlight--;
        released = true;
      },
    };
  }
}
