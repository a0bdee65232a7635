import { ExponentialBackoff, noJitterGenerator } from 'cockatiel';

/**
 * Backoff for retries kept in the database (an outbox row, a queued notification): the delay before the next try of
 * something that has failed `attempts` times, from cockatiel's exponential backoff. No jitter: one flusher or sender
 * works through the rows in order, so there is no herd to spread.
 */
export class StoredBackoff {
  private readonly backoff: ExponentialBackoff<unknown>;

  constructor(initialDelayMs: number, maxDelayMs: number) {
    this.backoff = new ExponentialBackoff({
      initialDelay: initialDelayMs,
      maxDelay: maxDelayMs,
      generator: noJitterGenerator,
    });
  }

  delayAfter(attempts: number): number {
    let step = this.backoff.next();
    for (let i = 1; i < attempts; i++) step = step.next(undefined);
    return step.duration;
  }
}
