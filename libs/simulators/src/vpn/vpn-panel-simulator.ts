import { SimRequest, SimResponse, SimulatorHttpServer } from '../http-server';
import { checkFaults, TransportFaultInjector, TransportFaults } from '../transport-faults';
import { VpnUser, VpnUserBook, VpnUserFields } from './vpn-users';

export interface VpnPanelSimulatorOptions {
  seed?: number;
  /** Every username is a user, generated from (seed, username) on first use; false: only added users. Default true. */
  autoCreateUsers?: boolean;
  /** Bytes added to a user's usage after every served read; unset: each user's own deterministic increment. */
  growBytesPerRead?: number;
  /** The panel's own latency on every API request (kept across resetFaults(); fault latency adds to it). */
  latencyMs?: number;
  now?: () => number;
}

/**
 * Faults a test can switch on; all default off. Rates are fractions of API requests (0..1), from a seeded PRNG;
 * `script` holds counted ones (transport-faults.ts). A held request (`hangNext`, `timeoutRate`, a scripted hang with
 * `hangMs` 0) waits until stop(), a dead switch or resetFaults().
 */
export interface VpnPanelFaults extends TransportFaults {
  /**
   * The status of an `errorRate` or scripted `error` fault: 500 is the panel's own error, 502/503/504 its reverse
   * proxy's page.
   */
  errorStatus: 500 | 502 | 503 | 504;
  timeoutRate: number;
  hangNext: number;
  hangMs: number;
  script: NonNullable<TransportFaults['script']>;
}

/** A dead panel: every request answers its proxy's 502 (`error`), or nothing listens on the port (`refuse`). */
export type VpnPanelDeadMode = 'error' | 'refuse';

export interface VpnPanelCounters {
  /** API requests received (the control routes aside; none while refusing). */
  requests: number;
  /** User reads answered 200. */
  reads: number;
  unauthorized: number;
  /** Unknown users and unknown routes. */
  notFound: number;
  /** Answers replaced by a 5xx or 429 fault. */
  faulted: number;
  /** Requests held by a timeout fault. */
  held: number;
  /** Requests answered 502 by a dead panel. */
  deadAnswers: number;
  /** Requests being answered now, and the most at once: the bench checks a client's per-panel concurrency. */
  inFlight: number;
  maxInFlight: number;
}

const NO_FAULTS: VpnPanelFaults = {
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 500,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  timeoutRate: 0,
  hangNext: 0,
  hangMs: 0,
  script: [],
};
const BASE_COUNTERS: VpnPanelCounters = {
  requests: 0,
  reads: 0,
  unauthorized: 0,
  notFound: 0,
  faulted: 0,
  held: 0,
  deadAnswers: 0,
  inFlight: 0,
  maxInFlight: 0,
};
const REASONS: Record<number, string> = {
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** What nginx in front of a panel answers when the panel behind it fails: HTML, not the panel's JSON. */
export function nginxErrorPage(status: number): SimResponse {
  const title = `${status} ${REASONS[status] ?? 'Error'}`;
  return {
    status,
    text: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
    headers: { 'content-type': 'text/html' },
  };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function controlError(status: number, error: string): SimResponse {
  return { status, body: { error } };
}

/**
 * What every VPN panel simulator shares: its users (vpn-users.ts), the transport faults, the panel's latency, the dead
 * switch, the counters and the `/__simulator/...` controls. A panel supplies its routes and its own error bodies.
 */
export abstract class VpnPanelSimulator<C extends VpnPanelCounters = VpnPanelCounters> {
  faults: VpnPanelFaults = { ...NO_FAULTS };
  latencyMs: number;
  dead: VpnPanelDeadMode | null = null;
  readonly counters: C;
  /** API requests by "METHOD /route-pattern". */
  readonly routes = new Map<string, number>();

  protected readonly seed: number;
  protected readonly now: () => number;
  protected readonly users: VpnUserBook;
  private readonly injector: TransportFaultInjector;
  private server: SimulatorHttpServer | null = null;
  private port: number | null = null;

  protected constructor(options: VpnPanelSimulatorOptions, extraCounters: Omit<C, keyof VpnPanelCounters>) {
    this.seed = options.seed ?? 42;
    this.now = options.now ?? Date.now;
    this.latencyMs = 0;
    this.setLatency(options.latencyMs ?? 0);
    this.users = new VpnUserBook({
      seed: this.seed,
      autoCreate: options.autoCreateUsers,
      growBytesPerRead: options.growBytesPerRead,
    });
    this.counters = { ...BASE_COUNTERS, ...extraCounters } as C;
    this.injector = new TransportFaultInjector(this.seed);
  }

  /** The route key of an API request ("GET /api/user/:username"), or null when no route matches. */
  protected abstract routeKey(req: SimRequest): string | null;

  /** Answers an API request that passed the faults. */
  protected abstract serve(req: SimRequest): SimResponse | Promise<SimResponse>;

  /** The panel application's own 500 (a proxy's 502/503/504 and 429 are nginx pages). */
  protected abstract internalError(): SimResponse;

  /** The panel's answer to a path no route matches. */
  protected abstract noRoute(): SimResponse;

  /** Controls only this panel has; null when the route is not one of them. */
  protected panelControl(_req: SimRequest, _body: Record<string, unknown>): SimResponse | null {
    return null;
  }

  /** The panel's state as the state control shows it, besides the shared part. */
  protected panelState(): Record<string, unknown> {
    return {};
  }

  async start(port = 0): Promise<string> {
    const server = new SimulatorHttpServer((req) => this.handle(req));
    const url = await server.listen(port);
    this.server = server;
    this.port = Number(new URL(url).port);
    this.dead = null;
    return url;
  }

  /** Stops serving; requests still held by a timeout fault are dropped with their connections. */
  async stop(): Promise<void> {
    await this.server?.close();
    this.server = null;
    this.injector.release();
  }

  get url(): string {
    if (this.port === null) throw new Error('The panel simulator is not started');
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Kills the panel: `error` answers every API request with its proxy's 502 at once; `refuse` stops listening, so
   * connections are refused (open ones are cut). null brings it back on the same port.
   */
  async setDead(mode: VpnPanelDeadMode | null): Promise<void> {
    if (mode !== null && mode !== 'error' && mode !== 'refuse') throw new Error('dead must be error, refuse or null');
    if (this.port === null) throw new Error('The panel simulator is not started');
    if (mode === 'refuse' && this.server) await this.stop();
    if (mode !== 'refuse' && !this.server) await this.start(this.port);
    this.dead = mode;
    this.injector.release();
  }

  setFaults(faults: Partial<VpnPanelFaults>): void {
    const next = { ...this.faults, ...faults };
    if (![500, 502, 503, 504].includes(next.errorStatus)) throw new Error('errorStatus must be 500, 502, 503 or 504');
    checkFaults(next);
    this.faults = next;
    this.injector.reset();
  }

  /** All faults off; requests still held are answered now. The panel's latency and a dead switch stay. */
  resetFaults(): void {
    this.setFaults(NO_FAULTS);
    this.injector.release();
  }

  /** The panel's own latency on every API request. */
  setLatency(ms: number): void {
    if (!Number.isInteger(ms) || ms < 0) throw new Error('latencyMs must be a non-negative integer');
    this.latencyMs = ms;
  }

  /** Counters back to 0 (the requests in flight stay counted). */
  resetCounters(): void {
    for (const key of Object.keys(this.counters) as Array<keyof C>)
      if (key !== 'inFlight') (this.counters[key] as number) = 0;
    this.counters.maxInFlight = this.counters.inFlight;
    this.routes.clear();
  }

  routeCount(key: string): number {
    return this.routes.get(key) ?? 0;
  }

  // ---- users, for tests ----

  /** Adds (or replaces) a user: the generated one for (seed, username) with `fields` over it. */
  addUser(username: string, fields: VpnUserFields = {}): VpnUser {
    return this.users.add(username, fields);
  }

  /** The panel deletes the user: it is unknown (404) from now on, until addUser(). */
  removeUser(username: string): boolean {
    return this.users.remove(username);
  }

  /** The user as it is now (a copy), without serving a read; null when unknown. */
  user(username: string): VpnUser | null {
    return this.users.peek(username);
  }

  /** Users held so far: the added ones and those generated by a lookup. */
  get userCount(): number {
    return this.users.size;
  }

  /** A panel-side traffic reset: used traffic back to 0. */
  resetUsage(username: string): VpnUser {
    return this.users.resetUsage(username);
  }

  /** Sets the used traffic; the next read answers exactly this. */
  setUsage(username: string, bytes: number): VpnUser {
    return this.users.setUsage(username, bytes);
  }

  /** Bytes added after every read for all users; null: each user's own increment; 0: usage frozen. */
  setGrowth(bytesPerRead: number | null): void {
    this.users.setGrowth(bytesPerRead);
  }

  // ---- HTTP ----

  async handle(req: SimRequest): Promise<SimResponse> {
    if (req.path.startsWith('/__simulator')) return this.control(req);
    this.counters.requests++;
    const matched = this.routeKey(req);
    const key = matched ?? `${req.method} (no route)`;
    this.routes.set(key, (this.routes.get(key) ?? 0) + 1);
    this.counters.inFlight++;
    this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.counters.inFlight);
    try {
      if (this.dead === 'error') {
        this.counters.deadAnswers++;
        return nginxErrorPage(502);
      }
      const faulted = (res: SimResponse): SimResponse => {
        this.counters.faulted++;
        return res;
      };
      return await this.injector.intercept(
        req,
        this.faults,
        {
          error: () =>
            faulted(this.faults.errorStatus === 500 ? this.internalError() : nginxErrorPage(this.faults.errorStatus)),
          rateLimited: () => faulted(nginxErrorPage(429)),
          held: () => this.counters.held++,
        },
        () => {
          if (matched !== null) return this.serve(req);
          this.counters.notFound++;
          return this.noRoute();
        },
        this.latencyMs,
      );
    } finally {
      this.counters.inFlight--;
    }
  }

  /** Serves a user read: the usage now, then it grows; counts the read or the unknown user. */
  protected readUser(username: string): VpnUser | null {
    const user = this.users.read(username);
    if (user) this.counters.reads++;
    else this.counters.notFound++;
    return user;
  }

  // ---- controls ----

  /** Test and demo controls over HTTP: state, faults, latency, dead, growth, counters, users. */
  private async control(req: SimRequest): Promise<SimResponse> {
    const body = isObject(req.body) ? req.body : {};
    try {
      const own = this.panelControl(req, body);
      if (own) return own;
      const one = req.path.match(/^\/__simulator\/users\/([^/]+)(\/usage|\/reset)?$/);
      if (one) return this.userControl(req.method, decodeURIComponent(one[1]), one[2], body);
      switch (`${req.method} ${req.path}`) {
        case 'GET /__simulator/state':
          return { status: 200, body: this.snapshot() };
        case 'POST /__simulator/faults':
          this.setFaults(Object.fromEntries(Object.entries(body).filter(([key]) => key in NO_FAULTS)));
          return { status: 200, body: this.faults };
        case 'DELETE /__simulator/faults':
          this.resetFaults();
          return { status: 200, body: this.faults };
        case 'POST /__simulator/latency':
          this.setLatency(Number(body.ms));
          return { status: 200, body: { latencyMs: this.latencyMs } };
        case 'POST /__simulator/dead':
          // `refuse` would close the socket this control answers on, and nothing could revive it over HTTP.
          if (body.mode === 'refuse') return controlError(400, 'refuse is only available in process: setDead()');
          await this.setDead((body.mode ?? null) as VpnPanelDeadMode | null);
          return { status: 200, body: { dead: this.dead } };
        case 'POST /__simulator/growth':
          this.setGrowth(
            body.bytesPerRead === null || body.bytesPerRead === undefined ? null : Number(body.bytesPerRead),
          );
          return { status: 200, body: { growBytesPerRead: this.users.growBytesPerRead } };
        case 'DELETE /__simulator/counters':
          this.resetCounters();
          return { status: 200, body: this.counters };
        case 'POST /__simulator/users': {
          if (typeof body.username !== 'string') return controlError(400, 'username is required');
          const { username, ...fields } = body;
          return { status: 201, body: this.addUser(username, fields) };
        }
        default:
          return controlError(404, 'unknown simulator control');
      }
    } catch (err) {
      return controlError(400, (err as Error).message);
    }
  }

  private userControl(
    method: string,
    username: string,
    action: string | undefined,
    body: Record<string, unknown>,
  ): SimResponse {
    if (this.users.peek(username) === null) return controlError(404, `no user ${username}`);
    if (method === 'GET' && !action) return { status: 200, body: this.user(username) };
    if (method === 'DELETE' && !action) return { status: 200, body: { removed: this.removeUser(username) } };
    if (method === 'POST' && action === '/usage')
      return { status: 200, body: this.setUsage(username, Number(body.bytes)) };
    if (method === 'POST' && action === '/reset') return { status: 200, body: this.resetUsage(username) };
    return controlError(404, 'unknown simulator control');
  }

  private snapshot(): Record<string, unknown> {
    return {
      users: this.users.size,
      autoCreateUsers: this.users.autoCreate,
      growBytesPerRead: this.users.growBytesPerRead,
      latencyMs: this.latencyMs,
      faults: this.faults,
      dead: this.dead,
      counters: this.counters,
      routes: Object.fromEntries(this.routes),
      heldNow: this.injector.heldNow,
      ...this.panelState(),
    };
  }
}
