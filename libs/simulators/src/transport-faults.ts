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
  /** `hang`: how long (default 120 s); 0 holds the request until the simulator releases its holds (reset, stop). */
  hangMs?: number;
}

const SCRIPT_KINDS = new Set(['error', 'rate-limited', 'truncate', 'hang']);

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
  /** Hold this fraction of requests (see `hangMs`) so the client's timeout fires; drawn from its own seeded PRNG. */
  timeoutRate?: number;
  /** Hold the next this-many requests, then serve normally again (counted down in these faults). */
  hangNext?: number;
  /** How long a `timeoutRate`/`hangNext` hold lasts before the request is served; 0 holds it until released. */
  hangMs?: number;
}

/** The upstream's own fault answers; `held` counts a request held by a hang (scripted or drawn). */
export interface FaultAnswers {
  error: () => SimResponse;
  rateLimited: () => SimResponse;
  held?: () => void;
}

/**
 * Checks faults a test or an HTTP control sent: `integers` must be non-negative integers, `rates` 0..1, and a script a
 * list of well-formed entries. Throws the first problem, so the control answers 400 with it.
 */
export function checkFaults(
  faults: TransportFaults,
  integers: ReadonlyArray<keyof TransportFaults> = ['latencyMs', 'retryAfterSeconds', 'hangNext', 'hangMs'],
  rates: ReadonlyArray<keyof TransportFaults> = ['errorRate', 'rateLimitRate', 'timeoutRate'],
): void {
  const nonNegativeInteger = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  for (const key of integers)
    if (faults[key] !== undefined && !nonNegativeInteger(faults[key]))
      throw new Error(`${key} must be a non-negative integer`);
  for (const key of rates) {
    const v = faults[key];
    if (v !== undefined && (typeof v !== 'number' || v < 0 || v > 1)) throw new Error(`${key} must be 0..1`);
  }
  if (faults.script === undefined) return;
  if (!Array.isArray(faults.script)) throw new Error('script must be a list of faults');
  for (const f of faults.script) {
    if (typeof f !== 'object' || f === null || !SCRIPT_KINDS.has(f.kind))
      throw new Error('script: kind must be error, rate-limited, truncate or hang');
    if (!nonNegativeInteger(f.times)) throw new Error('script: times must be a non-negative integer');
    for (const key of ['after', 'status', 'hangMs'] as const)
      if (f[key] !== undefined && !nonNegativeInteger(f[key])) throw new Error(`script: ${key} must be an integer`);
    if (f.retryAfterSeconds !== undefined && f.retryAfterSeconds !== null && !nonNegativeInteger(f.retryAfterSeconds))
      throw new Error('script: retryAfterSeconds must be a non-negative integer or null');
    if (f.path !== undefined && typeof f.path !== 'string')
      throw new Error('script: path must be a regular expression');
  }
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
  /** The `timeoutRate` draws: a sequence of their own, so holds do not shift the error and throttle draws. */
  private holdRandom: () => number;
  /** Matching requests seen so far, per entry of the current script. */
  private seen: number[] = [];
  /** Requests held now, each with the function that answers it at once. */
  private readonly holds = new Set<() => void>();

  constructor(private readonly seed: number) {
    this.random = seededRandom(seed);
    this.holdRandom = seededRandom(seed + 1);
  }

  /** Restarts the sequences and the streaks' counts: called whenever a test switches faults. Holds stay held. */
  reset(): void {
    this.random = seededRandom(this.seed);
    this.holdRandom = seededRandom(this.seed + 1);
    this.seen = [];
  }

  /** Requests being held by a hang now. */
  get heldNow(): number {
    return this.holds.size;
  }

  /** Answers every held request now (as if its hang had ended): on a reset of the faults, a stop, a dead panel. */
  release(): void {
    for (const done of [...this.holds]) done();
  }

  /**
   * One request through every switched-on fault: a scripted, counted (`hangNext`) or drawn (`timeoutRate`) hang holds
   * it, a scripted or drawn error or throttle answers instead of `serve`, and a scripted truncation cuts what `serve`
   * answered. `ownLatencyMs` is the upstream's own latency, waited with the faults' `latencyMs`.
   */
  async intercept(
    req: { method: string; path: string; query?: URLSearchParams },
    faults: TransportFaults,
    answers: FaultAnswers,
    serve: () => Promise<SimResponse> | SimResponse,
    ownLatencyMs = 0,
  ): Promise<SimResponse> {
    // Counted as the request arrives, so a request still held cannot take a later test's fault.
    const hits = this.scripted(req, faults.script ?? []);
    const hang = hits.find((f) => f.kind === 'hang');
    const holdMs = hang ? (hang.hangMs ?? DEFAULT_HANG_MS) : this.drawHold(faults);
    if (holdMs !== null) {
      answers.held?.();
      await this.hold(holdMs);
    }
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
    const drawn = await this.draw(faults, answers, ownLatencyMs);
    if (drawn) return drawn;
    const out = await serve();
    const cut =
      hits.some((f) => f.kind === 'truncate') && out.status >= 200 && out.status < 300 && req.method !== 'HEAD';
    return cut ? truncatedResponse(out) : out;
  }

  /** The latency (the upstream's own, `ownLatencyMs`, plus the faults'), then a drawn error or throttle, or null. */
  async draw(faults: TransportFaults, answers: FaultAnswers, ownLatencyMs = 0): Promise<SimResponse | null> {
    if (ownLatencyMs + faults.latencyMs > 0) await sleep(ownLatencyMs + faults.latencyMs);
    if (faults.errorRate > 0 && this.random() < faults.errorRate) return answers.error();
    if (faults.rateLimitRate > 0 && this.random() < faults.rateLimitRate)
      return throttled(answers.rateLimited(), faults.retryAfterSeconds);
    return null;
  }

  /** A `hangNext` (counted down) or `timeoutRate` hold for this request: its length, or null for none. */
  private drawHold(faults: TransportFaults): number | null {
    if ((faults.hangNext ?? 0) > 0) {
      faults.hangNext = (faults.hangNext ?? 0) - 1;
      return faults.hangMs ?? 0;
    }
    if ((faults.timeoutRate ?? 0) > 0 && this.holdRandom() < (faults.timeoutRate ?? 0)) return faults.hangMs ?? 0;
    return null;
  }

  /** Holds a request `ms` (0: until release()); unref'd, so a hold pending when a test ends keeps nothing alive. */
  private hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms > 0 ? setTimeout(() => done(), ms).unref() : null;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.holds.delete(done);
        resolve();
      };
      this.holds.add(done);
    });
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
