import { BulkheadPolicy } from 'cockatiel';
import { TokenBucket } from 'limiter';

/** One group of items with its own workers (a panel and its configs). */
export interface FanOutLane<T> {
  items: readonly T[];
  /** Items worked at once at most (the panel's max_concurrency). */
  concurrency: number;
  /** Calls started a second at most (the panel's requests_per_second); null: unpaced. */
  requestsPerSecond: number | null;
}

/** What a lane's worker calls an upstream through: its pace, then a slot of the shared cap. */
export type LaneCall = <V>(fn: () => Promise<V>) => Promise<V>;

export interface FanOutOptions<T, R> {
  /**
   * Reads one item; calls the upstream only through `call` (a read that makes no call, a skip or an open circuit,
   * takes neither a pace token nor a shared slot). Must not throw for an upstream failure: it answers it.
   */
  read: (item: T, call: LaneCall, lane: number) => Promise<R>;
  /** Takes each result as it comes, synchronously (results that come after the stop are dropped). */
  onResult: (item: T, result: R, lane: number) => void;
  /** The cap shared by every lane (USAGE_MAX_CONCURRENCY): calls in flight at once over all of them. */
  shared: BulkheadPolicy;
  /** Aborted at the time limit: no item is started after it, and reads in flight are not waited for. */
  signal: AbortSignal;
  /**
   * Slow start: a lane works with one worker until a result says its upstream answers (`answered`), then with all of
   * them. A dead panel then holds one shared slot while its first reads time out, not `concurrency` of them, so it
   * never slows the other lanes. Unset: every lane starts with all its workers.
   */
  answered?: (result: R) => boolean;
}

/** Per lane: items whose result was taken, and items not reached before the stop (in flight or never started). */
export interface LaneOutcome {
  reached: number;
  notReached: number;
}

const STOPPED = Symbol('stopped');

/**
 * Works through every lane at once, each with `concurrency` workers taking its items in order, so a slow or dead lane
 * holds only its own workers: the others go on at their pace. Calls also queue, first come first served, for a slot of
 * the shared cap, which keeps the lanes fair to each other. Resolves when every item was read, or at the stop.
 */
export async function fanOut<T, R>(
  lanes: ReadonlyArray<FanOutLane<T>>,
  options: FanOutOptions<T, R>,
): Promise<LaneOutcome[]> {
  const { signal } = options;
  const stopped = new Promise<typeof STOPPED>((resolve) => {
    if (signal.aborted) resolve(STOPPED);
    else signal.addEventListener('abort', () => resolve(STOPPED), { once: true });
  });
  return Promise.all(
    lanes.map(async (lane, index) => {
      const bucket =
        lane.requestsPerSecond && lane.requestsPerSecond > 0
          ? new TokenBucket({
              bucketSize: lane.requestsPerSecond,
              tokensPerInterval: lane.requestsPerSecond,
              interval: 'second',
            })
          : null;
      const call: LaneCall = async (fn) => {
        if (bucket) await bucket.removeTokens(1);
        // A call queued for a shared slot when the stop comes is cancelled there, never made.
        return options.shared.execute(() => fn(), signal);
      };
      let next = 0;
      let reached = 0;
      let open = !options.answered;
      let opened: () => void = () => undefined;
      const whenOpen = new Promise<void>((resolve) => (opened = resolve));
      const openLane = () => ((open = true), opened());
      const worker = async (_: unknown, n: number): Promise<void> => {
        // Every worker but the first waits for the lane to open (or for the first to finish the lane alone).
        if (n > 0 && !open && (await Promise.race([whenOpen, stopped])) === STOPPED) return;
        try {
          while (!signal.aborted && next < lane.items.length) {
            const item = lane.items[next++];
            const reading = options.read(item, call, index);
            reading.catch(() => undefined); // abandoned at the stop: its late failure is nobody's
            const result = await Promise.race([reading, stopped]);
            if (result === STOPPED) return;
            reached++;
            options.onResult(item, result, index);
            if (!open && options.answered?.(result)) openLane();
          }
        } finally {
          if (n === 0) openLane();
        }
      };
      const workers = Math.max(1, Math.min(lane.concurrency, lane.items.length));
      await Promise.all(Array.from({ length: workers }, worker));
      return { reached, notReached: lane.items.length - reached };
    }),
  );
}
