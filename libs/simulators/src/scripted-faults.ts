import { SimResponse } from './http-server';

/**
 * Faults for the next N requests, counted down as requests come: a burst a test can count exactly ("three 503s, then
 * success"), where the rate-based transport faults only give a proportion. All default 0 (off).
 */
export interface ScriptedFaults {
  /** Serve this many requests as usual before the scripted faults begin (a run that fails after some pages). */
  afterRequests: number;
  /** Answer the next this-many requests with the upstream's own 5xx. */
  errorNext: number;
  /** Answer the next this-many requests 429. */
  rateLimitNext: number;
  /** The scripted 429s' `Retry-After`, in seconds; null: none sent (Robaws's bucket and the panels send none). */
  rateLimitRetryAfterSeconds: number | null;
  /**
   * Answer the next this-many requests as usual, but with the JSON body cut in half under a 200: what a client reads
   * when a proxy or a dying upstream ends the body early and the framing still looks whole.
   */
  truncateNext: number;
}

export const NO_SCRIPTED_FAULTS: Readonly<ScriptedFaults> = Object.freeze({
  afterRequests: 0,
  errorNext: 0,
  rateLimitNext: 0,
  rateLimitRetryAfterSeconds: null,
  truncateNext: 0,
});

/** What a scripted fault does to one request: answer this instead, or serve it and cut its body, or nothing. */
export type ScriptedOutcome = { answer: SimResponse } | 'truncate' | null;

/** The scripted faults of one simulator; errors first, then throttles, then cut bodies. */
export class ScriptedFaultQueue {
  faults: ScriptedFaults = { ...NO_SCRIPTED_FAULTS };
  /** Requests answered by a scripted fault so far. */
  served = 0;

  set(faults: Partial<ScriptedFaults>): void {
    const next = { ...this.faults, ...faults };
    for (const key of ['afterRequests', 'errorNext', 'rateLimitNext', 'truncateNext'] as const)
      if (!Number.isInteger(next[key]) || next[key] < 0) throw new Error(`${key} must be a non-negative integer`);
    const after = next.rateLimitRetryAfterSeconds;
    if (after !== null && (!Number.isInteger(after) || after < 0))
      throw new Error('rateLimitRetryAfterSeconds must be a non-negative integer or null');
    this.faults = next;
  }

  reset(): void {
    this.faults = { ...NO_SCRIPTED_FAULTS };
  }

  /** Takes the next scripted fault, if any: `error` and `rateLimited` build the upstream's own answers. */
  next(answers: { error: () => SimResponse; rateLimited: () => SimResponse }): ScriptedOutcome {
    const f = this.faults;
    if (f.errorNext + f.rateLimitNext + f.truncateNext === 0) return null;
    if (f.afterRequests > 0) {
      f.afterRequests--;
      return null;
    }
    if (f.errorNext > 0) {
      f.errorNext--;
      this.served++;
      return { answer: answers.error() };
    }
    if (f.rateLimitNext > 0) {
      f.rateLimitNext--;
      this.served++;
      const throttled = answers.rateLimited();
      const { 'retry-after': _dropped, ...headers } = throttled.headers ?? {};
      if (f.rateLimitRetryAfterSeconds !== null) headers['retry-after'] = String(f.rateLimitRetryAfterSeconds);
      return { answer: { ...throttled, headers } };
    }
    if (f.truncateNext > 0) {
      f.truncateNext--;
      this.served++;
      return 'truncate';
    }
    return null;
  }
}

/** The answer with its JSON body cut in half, still a 200 with a JSON content type. */
export function truncatedAnswer(res: SimResponse): SimResponse {
  const full = res.text ?? JSON.stringify(res.body ?? {});
  return {
    status: 200,
    text: full.slice(0, Math.max(1, Math.floor(full.length / 2))),
    headers: { ...res.headers, 'content-type': 'application/json; charset=utf-8' },
  };
}
