import { SimResponse } from './http-server';
import { seededRandom } from './random';

/**
 * A fault for a counted streak of requests, so a test can assert the exact number of attempts a client makes: the
 * `times` requests matching `path` after the first `after` of them get it, the rest pass.
 * - `error`: the upstream's own 5xx (`status` replaces its status code);
 * - `rate-limited`: the upstream's own 429, with `Retry-After: retryAfterSeconds`, or none when that is null;
 * - `truncate`: the request is served, but a 2xx body is cut off half-way (a 200 whose JSON ends early);
 * - `hang`: nothing is answered for `hangMs` (default 120 s, past any client timeout), then the request is served.
 */
export interface ScriptedFault {
  kind: 'error' | 'rate-limited' | 'truncate' | 'hang';
  times: number;
  /** Matching requests let through before the streak starts (default 0): a run fails after some pages. */
  after?: number;
  /**
   * Only requests whose `METHOD /path`, or `METHOD /path?query` when they have one, match this regular expression count
   * (default: every request). The query lets a fault hit one page of a list (e.g. the page after a given id).
   */
  path?: string;
  status?: number;
  /** `rate-limited`: seconds in Retry-After; null: no Retry-After at all (QuickBooks sends none). Default 1. */
  retryAfterSeconds?: number | null;
  hangMs?: number;
}

/** Faults every simulator can switch on; all default off. Rates are fractions of requests (0..1). */
export interface TransportFaults {
  latencyMs: number;
  /** Answer the upstream's own 5xx to this fraction of requests. */
  errorRate: number;
  /** Answer the upstream's own 429, with Retry-After, to this fraction of requests. */
  rateLimitRate: number;
  retryAfterSeconds: number;
  /** Counted streaks of faults (see ScriptedFault), applied before the random ones above. */
  script?: ScriptedFault[];
}

export interface FaultAnswers {
  error: () => SimResponse;
  rateLimited: () => SimResponse;
}

const DEFAULT_HANG_MS = 120_000;

/** A 2xx response whose body ends half-way: what a proxy or a crashed worker leaves behind. */
export function truncatedResponse(res: SimResponse): SimResponse {
  const full = res.text ?? (res.body === undefined ? '' : JSON.stringify(res.body));
  if (full.length === 0) return res;
  const headers = { ...res.headers };
  if (res.text === undefined) headers['content-type'] = 'application/json; charset=utf-8';
  return { status: res.status, headers, text: full.slice(0, Math.max(1, Math.floor(full.length / 2))) };
}

/**
 * Draws the transport faults of one request from a seeded PRNG (so a test sees the same sequence every run): waits the
 * latency, then answers the upstream's error or throttle shape, or null to serve the request. `intercept` adds the
 * counted streaks (ScriptedFault) around the request's own handler.
 */
export class TransportFaultInjector {
  private random: () => number;
  /** Matching requests seen so far, per entry of the current script. */
  private seen: number[] = [];

  constructor(private readonly seed: number) {
    this.random = seededRandom(seed);
  }

  /** Restarts the sequence and the streaks' counts: called whenever a test switches faults. */
  reset(): void {
    this.random = seededRandom(this.seed);
    this.seen = [];
  }

  /**
   * One request through every switched-on fault: a scripted hang waits, a scripted or drawn error or throttle answers
   * instead of `serve`, and a scripted truncation cuts what `serve` answered.
   */
  async intercept(
    req: { method: string; path: string; query?: URLSearchParams },
    faults: TransportFaults,
    answers: FaultAnswers,
    serve: () => Promise<SimResponse> | SimResponse,
  ): Promise<SimResponse> {
    const hits = this.scripted(req, faults.script ?? []);
    const hang = hits.find((f) => f.kind === 'hang');
    if (hang) await sleep(hang.hangMs ?? DEFAULT_HANG_MS);
    const error = hits.find((f) => f.kind === 'error');
    if (error) {
      const answer = answers.error();
      return { ...answer, status: error.status ?? answer.status };
    }
    const throttle = hits.find((f) => f.kind === 'rate-limited');
    if (throttle)
      return throttled(
        answers.rateLimited(),
        throttle.retryAfterSeconds === undefined ? 1 : throttle.retryAfterSeconds,
      );
    const drawn = await this.draw(faults, answers);
    if (drawn) return drawn;
    const out = await serve();
    const cut =
      hits.some((f) => f.kind === 'truncate') && out.status >= 200 && out.status < 300 && req.method !== 'HEAD';
    return cut ? truncatedResponse(out) : out;
  }

  async draw(faults: TransportFaults, answers: FaultAnswers): Promise<SimResponse | null> {
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (faults.errorRate > 0 && this.random() < faults.errorRate) return answers.error();
    if (faults.rateLimitRate > 0 && this.random() < faults.rateLimitRate)
      return throttled(answers.rateLimited(), faults.retryAfterSeconds);
    return null;
  }

  /** The script's entries this request falls in; every entry whose path matches counts it. */
  private scripted(
    req: { method: string; path: string; query?: URLSearchParams },
    script: ScriptedFault[],
  ): ScriptedFault[] {
    const query = req.query?.toString();
    const route = `${req.method} ${req.path}${query ? `?${query}` : ''}`;
    return script.filter((fault, i) => {
      if (fault.path && !new RegExp(fault.path).test(route)) return false;
      const n = (this.seen[i] = (this.seen[i] ?? 0) + 1);
      const after = fault.after ?? 0;
      return n > after && n <= after + fault.times;
    });
  }
}

function throttled(answer: SimResponse, retryAfterSeconds: number | null): SimResponse {
  const headers = { ...answer.headers };
  if (retryAfterSeconds === null) delete headers['retry-after'];
  else headers['retry-after'] = String(retryAfterSeconds);
  return { ...answer, headers };
}

/** Unref'd: a hang still pending when a test ends does not keep its process alive. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
