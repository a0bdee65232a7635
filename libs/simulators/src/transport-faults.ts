import { SimResponse } from './http-server';
import { seededRandom } from './random';

/** Faults every simulator can switch on; all default off. Rates are fractions of requests (0..1). */
export interface TransportFaults {
  latencyMs: number;
  /** Answer the upstream's own 5xx to this fraction of requests. */
  errorRate: number;
  /** Answer the upstream's own 429, with Retry-After, to this fraction of requests. */
  rateLimitRate: number;
  retryAfterSeconds: number;
}

/**
 * Draws the transport faults of one request from a seeded PRNG (so a test sees the same sequence every run): waits the
 * latency, then answers the upstream's error or throttle shape, or null to serve the request.
 */
export class TransportFaultInjector {
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = seededRandom(seed);
  }

  /** Restarts the sequence: called whenever a test switches faults. */
  reset(): void {
    this.random = seededRandom(this.seed);
  }

  async draw(
    faults: TransportFaults,
    answers: { error: () => SimResponse; rateLimited: () => SimResponse },
  ): Promise<SimResponse | null> {
    if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
    if (faults.errorRate > 0 && this.random() < faults.errorRate) return answers.error();
    if (faults.rateLimitRate > 0 && this.random() < faults.rateLimitRate) {
      const throttled = answers.rateLimited();
      return { ...throttled, headers: { ...throttled.headers, 'retry-after': String(faults.retryAfterSeconds) } };
    }
    return null;
  }
}
