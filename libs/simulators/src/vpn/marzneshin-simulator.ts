import { createHmac, randomBytes } from 'node:crypto';
import { seededRandom } from '../random';
import { checkFaults, TransportFaultInjector, TransportFaults } from '../transport-faults';
import { SimRequest, SimResponse, SimulatorHttpServer } from '../http-server';

// ---- Shared by the VPN panel simulators (this one and threexui-simulator.ts): users, usage, transport. ----
// It lives here because this helper may own only the two simulator files; it is a pure move to its own module.

/**
 * Faults every VPN panel simulator can switch on; all default off. Rates are fractions of API requests (0..1); `script`
 * holds counted ones (transport-faults.ts), whose `error` answers as `errorStatus` does.
 */
export interface VpnPanelFaults extends TransportFaults {
  /** Added to the panel's own latency (`latencyMs` option) on every API request. */
  latencyMs: number;
  /** Answer `errorStatus` to this fraction of requests, as the panel (500) or its reverse proxy (502, 503) would. */
  errorRate: number;
  errorStatus: 500 | 502 | 503;
  /** Answer the proxy's 429, with Retry-After, to this fraction of requests. */
  rateLimitRate: number;
  retryAfterSeconds: number;
  /** Hold this fraction of requests (see `hangMs`) so the client's timeout fires. */
  timeoutRate: number;
  /** Hold the next this-many requests, then serve normally again. */
  hangNext: number;
  /** How long a held request waits before it is answered normally; 0 holds it until stop(), dead or resetFaults(). */
  hangMs: number;
  script: NonNullable<TransportFaults['script']>;
}

/** What a panel saw; the control routes are not counted. */
export interface VpnPanelCounters {
  requests: number;
  /** Requests refused for a missing, wrong or expired token, cookie or API token (logins refused are not counted). */
  unauthorized: number;
  /** Answers that carried a user's traffic. */
  usageReads: number;
  /** Usage asked for a user the panel does not have. */
  unknownUsers: number;
  /** Answers replaced by a 5xx or 429 fault. */
  faulted: number;
  /** Requests held by a timeout fault. */
  held: number;
  /** Requests being served now, and the most at once since the counters were reset: a client's concurrency. */
  inFlight: number;
  peakInFlight: number;
}

export const NO_VPN_PANEL_FAULTS: Readonly<VpnPanelFaults> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 500,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  timeoutRate: 0,
  hangNext: 0,
  hangMs: 0,
  script: [],
});

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const DAY_MS = 86_400_000;

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A PRNG for one user of one panel: the same (seed, username, salt) always draws the same numbers. */
export function panelUserRandom(seed: number, username: string, salt = ''): () => number {
  return seededRandom(fnv1a(`${seed}\u0000${salt}\u0000${username}`));
}

/** The page an nginx in front of a panel answers for a 429, 502 or 503: HTML, not the panel's JSON. */
export function proxyErrorPage(status: number): SimResponse {
  const reason = { 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable' }[status];
  const title = `${status} ${reason ?? 'Error'}`;
  return {
    status,
    text: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
    headers: { 'content-type': 'text/html' },
  };
}

export interface PanelUsage {
  up: number;
  down: number;
  /** Traffic over the user's whole life, resets included (Marzneshin's `lifetime_used_traffic`). */
  lifetime: number;
  /** When the usage was last reset, or null. */
  resetAt: number | null;
}

interface UsageEntry extends PanelUsage {
  reads: number;
  /** The share of new traffic that is download, fixed per user. */
  downShare: number;
}

export interface PanelUserBookOptions {
  seed: number;
  /** `n`: the users are `${usernamePrefix}1` … `${usernamePrefix}n`; `'any'`: every well-formed name is a user. */
  users: number | 'any';
  usernamePrefix: string;
  /** Bytes added after each read; undefined for a deterministic 0.25–32 MiB per (user, read). 0 for none. */
  growBytesPerRead?: number;
  isWellFormed: (username: string) => boolean;
  now: () => number;
}

/**
 * Which users a panel has and their traffic. Users are generated on first sight from (seed, username), so 10,000 of
 * them cost only the ones asked about. Usage grows after every read, as live traffic would between two syncs.
 */
export class PanelUserBook {
  /**
   * Generated dates count from the start of the day the book was made (by `now`): expiries stay spread around
   * "today" whenever the simulator runs, and two simulators of one seed and one clock agree to the byte.
   */
  readonly anchorMs: number;
  private readonly added = new Set<string>();
  private readonly removed = new Set<string>();
  private readonly usage = new Map<string, UsageEntry>();
  /** Set by reset() of everyone: users not yet seen start at zero from then on too. */
  private everyoneResetAt: number | null = null;

  constructor(private readonly options: PanelUserBookOptions) {
    const { users, growBytesPerRead } = options;
    if (users !== 'any' && (!Number.isInteger(users) || users < 0))
      throw new Error("users must be a non-negative integer or 'any'");
    if (growBytesPerRead !== undefined && (!Number.isInteger(growBytesPerRead) || growBytesPerRead < 0))
      throw new Error('growBytesPerRead must be a non-negative integer');
    this.anchorMs = Math.floor(options.now() / DAY_MS) * DAY_MS;
  }

  /** The name of generated user `i` (1-based). */
  username(i: number): string {
    return `${this.options.usernamePrefix}${i}`;
  }

  /** The 1-based index of a generated user, or null when the name is not one of them. */
  generatedIndex(username: string): number | null {
    const { users, usernamePrefix } = this.options;
    if (users === 'any' || !username.startsWith(usernamePrefix)) return null;
    const rest = username.slice(usernamePrefix.length);
    if (!/^[1-9]\d*$/.test(rest)) return null;
    const i = Number(rest);
    return i <= users ? i : null;
  }

  exists(username: string): boolean {
    if (this.added.has(username)) return true;
    if (this.removed.has(username)) return false;
    return this.options.users === 'any' ? this.options.isWellFormed(username) : this.generatedIndex(username) !== null;
  }

  /** Adds a user with no traffic yet (or gives a removed one back, starting afresh). */
  add(username: string): void {
    this.removed.delete(username);
    this.added.add(username);
    this.usage.set(username, { ...this.entry(username), up: 0, down: 0, lifetime: 0, reads: 0, resetAt: null });
  }

  remove(username: string): boolean {
    if (!this.exists(username)) return false;
    this.added.delete(username);
    this.removed.add(username);
    this.usage.delete(username);
    return true;
  }

  /** The usage the next read will answer, without counting a read. */
  peek(username: string): PanelUsage {
    const { up, down, lifetime, resetAt } = this.entry(username);
    return { up, down, lifetime, resetAt };
  }

  /** The usage as a read answers it; then the traffic grows, so the next read sees more. */
  read(username: string): PanelUsage {
    const entry = this.entry(username);
    const answer = this.peek(username);
    const grow = this.options.growBytesPerRead ?? this.increment(username, entry.reads);
    const down = Math.round(grow * entry.downShare);
    entry.down += down;
    entry.up += grow - down;
    entry.lifetime += grow;
    entry.reads++;
    return answer;
  }

  /** Sets a user's traffic: total bytes (split as the user's traffic usually is) or up and down. */
  set(username: string, usage: number | { up: number; down: number }): void {
    const entry = this.entry(username);
    const { up, down } = typeof usage === 'number' ? this.split(usage, entry.downShare) : usage;
    for (const value of [up, down])
      if (!Number.isSafeInteger(value) || value < 0) throw new Error('usage must be non-negative integers of bytes');
    entry.lifetime += Math.max(0, up + down - entry.up - entry.down);
    entry.up = up;
    entry.down = down;
  }

  /** Zeroes the traffic of one user, or of everyone (as a panel's monthly reset); lifetime traffic is kept. */
  reset(username?: string): void {
    const at = this.options.now();
    if (username !== undefined) {
      Object.assign(this.entry(username), { up: 0, down: 0, resetAt: at });
      return;
    }
    this.everyoneResetAt = at;
    for (const entry of this.usage.values()) Object.assign(entry, { up: 0, down: 0, resetAt: at });
  }

  counts(): { generated: number | 'any'; added: number; removed: number; seen: number } {
    return { generated: this.options.users, added: this.added.size, removed: this.removed.size, seen: this.usage.size };
  }

  private entry(username: string): UsageEntry {
    let entry = this.usage.get(username);
    if (!entry) {
      entry = this.generate(username);
      this.usage.set(username, entry);
    }
    return entry;
  }

  /** A user's traffic when first seen: a tenth never connected, the others up to 8 GiB, mostly download. */
  private generate(username: string): UsageEntry {
    const r = panelUserRandom(this.options.seed, username, 'usage');
    const downShare = 0.6 + r() * 0.35;
    const never = r() < 0.1;
    const used = never ? 0 : Math.floor(r() * 8 * GIB);
    const lifetime = used + (never ? 0 : Math.floor(r() * 2 * used));
    const resetAt = this.everyoneResetAt;
    const { up, down } = resetAt === null ? this.split(used, downShare) : { up: 0, down: 0 };
    return { up, down, lifetime, resetAt, reads: 0, downShare };
  }

  private split(total: number, downShare: number): { up: number; down: number } {
    const down = Math.round(total * downShare);
    return { up: total - down, down };
  }

  private increment(username: string, read: number): number {
    return Math.floor((0.25 + panelUserRandom(this.options.seed, username, `read-${read}`)() * 31.75) * MIB);
  }
}

export interface PanelTransportOptions {
  seed: number;
  /** The panel's own latency on every API request. */
  latencyMs: number;
  /** The panel's own 500 (a 502 or 503 comes from the proxy in front of it). */
  internalError: () => SimResponse;
}

/**
 * The HTTP side every panel shares: start and stop, a dead switch that closes the port (connections refused) and
 * opens it again on the same port, the panel's latency, the fault switches, and the request counters.
 */
export class PanelTransport {
  faults: VpnPanelFaults = { ...NO_VPN_PANEL_FAULTS };
  latencyMs: number;
  /** Requests served, by "METHOD /path-pattern". */
  readonly requests = new Map<string, number>();

  private readonly injector: TransportFaultInjector;
  private server: SimulatorHttpServer | null = null;
  private port: number | null = null;
  private dead = false;
  /** A pending death (from the HTTP control) or revival. */
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly options: PanelTransportOptions,
    private readonly counters: VpnPanelCounters,
    private readonly handler: (req: SimRequest) => Promise<SimResponse>,
  ) {
    this.latencyMs = options.latencyMs;
    if (!Number.isInteger(this.latencyMs) || this.latencyMs < 0)
      throw new Error('latencyMs must be a non-negative integer');
    this.injector = new TransportFaultInjector(options.seed);
  }

  async start(port = 0): Promise<string> {
    this.dead = false;
    await this.open(port);
    return this.url;
  }

  /** Stops serving (a pending death or revival is cancelled); requests held by a fault are dropped. */
  async stop(): Promise<void> {
    this.clearTimers();
    this.dead = false;
    await this.close();
  }

  get url(): string {
    if (this.port === null) throw new Error('The panel simulator is not started');
    return `http://127.0.0.1:${this.port}`;
  }

  get isDead(): boolean {
    return this.dead;
  }

  /** Dead: the port is closed, so connections are refused; alive again: the same port serves again. */
  async setDead(dead: boolean, forMs?: number): Promise<void> {
    this.clearTimers();
    if (this.port === null) throw new Error('The panel simulator is not started');
    if (dead && !this.dead) {
      this.dead = true;
      await this.close();
    } else if (!dead && this.dead) {
      this.dead = false;
      await this.open(this.port);
    }
    if (dead && forMs !== undefined) this.timers.add(setTimeout(() => void this.setDead(false), forMs));
  }

  /** Goes dead a moment from now, for `forMs`: what the HTTP control does, so that its own answer gets out first. */
  dieSoon(forMs: number): void {
    this.timers.add(setTimeout(() => void this.setDead(true, forMs), 10));
  }

  setFaults(faults: Partial<VpnPanelFaults>): void {
    const known = Object.fromEntries(Object.entries(faults).filter(([key]) => key in NO_VPN_PANEL_FAULTS));
    const next: VpnPanelFaults = { ...this.faults, ...known };
    if (![500, 502, 503].includes(next.errorStatus)) throw new Error('errorStatus must be 500, 502 or 503');
    checkFaults(next);
    this.faults = next;
    this.injector.reset();
  }

  /** All faults off; held requests are answered now. The panel's own latency stays. */
  resetFaults(): void {
    this.setFaults(NO_VPN_PANEL_FAULTS);
    this.injector.release();
  }

  setLatency(ms: number): void {
    if (!Number.isInteger(ms) || ms < 0) throw new Error('latencyMs must be a non-negative integer');
    this.latencyMs = ms;
  }

  resetCounters(): void {
    const inFlight = this.counters.inFlight;
    for (const key of Object.keys(this.counters) as Array<keyof VpnPanelCounters>) this.counters[key] = 0;
    this.counters.inFlight = inFlight;
    this.counters.peakInFlight = inFlight;
    this.requests.clear();
  }

  /** One API request: counted, held or delayed or failed as the faults say, else answered by `answer`. */
  async serve(req: SimRequest, route: string, answer: () => SimResponse): Promise<SimResponse> {
    const c = this.counters;
    c.requests++;
    this.requests.set(route, (this.requests.get(route) ?? 0) + 1);
    c.inFlight++;
    c.peakInFlight = Math.max(c.peakInFlight, c.inFlight);
    const f = this.faults;
    const faulted = (res: SimResponse): SimResponse => {
      c.faulted++;
      return res;
    };
    try {
      return await this.injector.intercept(
        req,
        f,
        {
          error: () => faulted(f.errorStatus === 500 ? this.options.internalError() : proxyErrorPage(f.errorStatus)),
          rateLimited: () => faulted(proxyErrorPage(429)),
          held: () => c.held++,
        },
        answer,
        this.latencyMs,
      );
    } finally {
      c.inFlight--;
    }
  }

  /** The controls every panel has: faults, latency, dead, counters. Null when the route is not one of them. */
  control(req: SimRequest, body: Record<string, unknown>): SimResponse | null {
    switch (`${req.method} ${req.path}`) {
      case 'POST /__simulator/faults':
        this.setFaults(body);
        return { status: 200, body: this.faults };
      case 'DELETE /__simulator/faults':
        this.resetFaults();
        return { status: 200, body: this.faults };
      case 'POST /__simulator/latency':
        this.setLatency(Number(body.ms));
        return { status: 200, body: { latencyMs: this.latencyMs } };
      case 'POST /__simulator/dead': {
        // Over HTTP it must come back by itself: nothing could reach a dead panel to revive it.
        const forMs = Number(body.forMs);
        if (!Number.isInteger(forMs) || forMs <= 0) return { status: 400, body: { error: 'forMs must be > 0' } };
        this.dieSoon(forMs);
        return { status: 202, body: { deadForMs: forMs } };
      }
      case 'POST /__simulator/counters/reset':
        this.resetCounters();
        return { status: 200, body: this.counters };
      default:
        return null;
    }
  }

  snapshot(): Record<string, unknown> {
    return {
      dead: this.dead,
      latencyMs: this.latencyMs,
      faults: this.faults,
      counters: this.counters,
      requests: Object.fromEntries(this.requests),
      heldNow: this.injector.heldNow,
    };
  }

  private async open(port: number): Promise<void> {
    this.server = new SimulatorHttpServer(this.handler);
    this.port = Number(new URL(await this.server.listen(port)).port);
  }

  private async close(): Promise<void> {
    await this.server?.close();
    this.server = null;
    this.injector.release();
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/** A path segment decoded as the panels' routers decode it; a malformed escape is kept as it is. */
export function decodePathSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** A string field of a control request's JSON body; anything else is an empty name, which no user has. */
export function controlString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A form body (`application/x-www-form-urlencoded`) or a JSON one, as the panels' login routes take either. */
export function panelFormFields(req: SimRequest): Record<string, string> {
  if (typeof req.body === 'string') return Object.fromEntries(new URLSearchParams(req.body));
  if (typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body))
    return Object.fromEntries(
      Object.entries(req.body as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : String(v)]),
    );
  return {};
}

// ---- Marzneshin ----

export interface MarzneshinSimulatorOptions {
  seed?: number;
  /** `n` (default 1000): the users are `user1` … `user{n}`; `'any'`: every well-formed username is a user. */
  users?: number | 'any';
  usernamePrefix?: string;
  adminUsername?: string;
  adminPassword?: string;
  /** A sudo admin (the default) sees every user; another gets 403 "You're not allowed" for a user it lacks. */
  sudo?: boolean;
  /** How long an access token is accepted; default 1440 minutes, the `JWT_ACCESS_TOKEN_EXPIRE_MINUTES` default. */
  tokenTtlMs?: number;
  /** The panel's own latency on every API request. */
  latencyMs?: number;
  /** Bytes a user's traffic grows by after each read; by default a deterministic 0.25–32 MiB per read. */
  growBytesPerRead?: number;
  now?: () => number;
}

/** `UserResponse` as `GET /api/users/{username}` answers it (marzneshin `app/models/user.py`). */
export interface MarzneshinUser {
  id: number;
  username: string;
  expire_strategy: 'never' | 'fixed_date' | 'start_on_first_use';
  expire_date: string | null;
  usage_duration: number | null;
  activation_deadline: string | null;
  key: string;
  data_limit: number | null;
  data_limit_reset_strategy: 'no_reset' | 'day' | 'week' | 'month' | 'year';
  note: string | null;
  sub_updated_at: string | null;
  sub_last_user_agent: string | null;
  online_at: string | null;
  activated: boolean;
  is_active: boolean;
  expired: boolean;
  data_limit_reached: boolean;
  enabled: boolean;
  used_traffic: number;
  lifetime_used_traffic: number;
  sub_revoked_at: string | null;
  created_at: string;
  service_ids: number[];
  subscription_url: string;
  owner_username: string;
  traffic_reset_at: string | null;
}

export interface MarzneshinCounters extends VpnPanelCounters {
  /** Tokens answered by `POST /api/admins/token`. */
  tokensIssued: number;
  /** Token requests refused for wrong credentials. */
  loginFailures: number;
}

export const MARZNESHIN_TOKEN_PATH = '/api/admins/token';
export const MARZNESHIN_USER_PATH = '/api/users/{username}';

const USERNAME = /^[a-z0-9_]{3,32}$/;
/** Fields the panel computes; an override of these is ignored, the others replace the generated values. */
const COMPUTED = new Set(['username', 'used_traffic', 'lifetime_used_traffic', 'data_limit_reached', 'expired']);
const DATA_LIMITS = [null, 0, 5 * GIB, 10 * GIB, 20 * GIB, 50 * GIB, 100 * GIB];
const AGENTS = ['v2rayNG/1.8.19', 'Streisand/1.5.6', 'Hiddify/2.0.5', 'NekoBox/1.3.2', 'ClashMeta/1.18.0'];
const NOTES = ['paid until renewal', 'reseller trial', 'family plan', 'moved from the old panel'];

/** A naive datetime as pydantic writes one: no zone, no fraction. */
const naive = (ms: number): string => new Date(ms).toISOString().slice(0, 19);
const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)];

/**
 * Marzneshin's admin API as a usage sync uses it (../shared/reference/upstream-apis.md, section 4c):
 * `POST /api/admins/token` (an OAuth2 password form) answers a bearer JWT that expires after `tokenTtlMs`, and
 * `GET /api/users/{username}` answers the user with `used_traffic`, which grows between reads. FastAPI's error bodies
 * (`{"detail": …}`): 401 without or with a bad or expired token, 404 for an unknown user, 422 for a malformed form.
 */
export class MarzneshinSimulator {
  readonly adminUsername: string;
  readonly adminPassword: string;
  readonly tokenTtlMs: number;
  readonly sudo: boolean;
  readonly counters: MarzneshinCounters = {
    requests: 0,
    unauthorized: 0,
    usageReads: 0,
    unknownUsers: 0,
    faulted: 0,
    held: 0,
    inFlight: 0,
    peakInFlight: 0,
    tokensIssued: 0,
    loginFailures: 0,
  };

  private readonly seed: number;
  private readonly now: () => number;
  private readonly book: PanelUserBook;
  private readonly transport: PanelTransport;
  private readonly overrides = new Map<string, Partial<MarzneshinUser>>();
  /** Explicitly added users: their id and when they were created. */
  private readonly addedMeta = new Map<string, { id: number; createdAt: number }>();
  /** Live tokens and when each stops being accepted. */
  private readonly tokens = new Map<string, number>();
  private readonly secret = randomBytes(32);
  private nextId: number;

  constructor(options: MarzneshinSimulatorOptions = {}) {
    this.seed = options.seed ?? 42;
    this.now = options.now ?? Date.now;
    this.adminUsername = options.adminUsername ?? 'admin';
    this.adminPassword = options.adminPassword ?? 'sim-marzneshin-password';
    this.sudo = options.sudo ?? true;
    this.tokenTtlMs = options.tokenTtlMs ?? 1440 * 60_000;
    if (!Number.isInteger(this.tokenTtlMs) || this.tokenTtlMs <= 0) throw new Error('tokenTtlMs must be > 0');
    const users = options.users ?? 1000;
    this.book = new PanelUserBook({
      seed: this.seed,
      users,
      usernamePrefix: options.usernamePrefix ?? 'user',
      growBytesPerRead: options.growBytesPerRead,
      isWellFormed: (name) => USERNAME.test(name),
      now: this.now,
    });
    this.nextId = users === 'any' ? 1_000_001 : users + 1;
    this.transport = new PanelTransport(
      {
        seed: this.seed,
        latencyMs: options.latencyMs ?? 0,
        internalError: () => ({
          status: 500,
          text: 'Internal Server Error',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        }),
      },
      this.counters,
      (req) => this.handle(req),
    );
  }

  start(port = 0): Promise<string> {
    return this.transport.start(port);
  }

  stop(): Promise<void> {
    return this.transport.stop();
  }

  get url(): string {
    return this.transport.url;
  }

  // ---- users, for tests ----

  /** The name of generated user `i` (1-based). */
  username(i: number): string {
    return this.book.username(i);
  }

  hasUser(username: string): boolean {
    return this.book.exists(username);
  }

  /** The user as the next read would answer it, without counting a read or growing its traffic; null if unknown. */
  user(username: string): MarzneshinUser | null {
    return this.book.exists(username) ? this.render(username) : null;
  }

  /** Adds a user (no traffic unless `used_traffic` is given), or changes an existing one's fields. */
  addUser(username: string, fields: Partial<MarzneshinUser> = {}): MarzneshinUser {
    if (!USERNAME.test(username)) throw new Error(`Not a Marzneshin username: ${username}`);
    if (!this.book.exists(username)) {
      this.book.add(username);
      this.addedMeta.set(username, { id: this.nextId++, createdAt: this.now() });
    }
    const kept = Object.fromEntries(Object.entries(fields).filter(([key]) => !COMPUTED.has(key)));
    this.overrides.set(username, { ...this.overrides.get(username), ...kept });
    if (fields.used_traffic !== undefined) this.book.set(username, fields.used_traffic);
    return this.render(username);
  }

  /** Deletes a user: from now on its reads are 404s. False when there was no such user. */
  removeUser(username: string): boolean {
    this.overrides.delete(username);
    this.addedMeta.delete(username);
    return this.book.remove(username);
  }

  /** The `used_traffic` the next read will answer. */
  usage(username: string): number {
    this.known(username);
    const { up, down } = this.book.peek(username);
    return up + down;
  }

  setUsage(username: string, bytes: number): void {
    this.known(username);
    this.book.set(username, bytes);
  }

  /** Zeroes one user's `used_traffic`, or everyone's, as the panel's reset does; `lifetime_used_traffic` stays. */
  resetUsage(username?: string): void {
    if (username !== undefined) this.known(username);
    this.book.reset(username);
  }

  // ---- auth, for tests ----

  /** A token as `POST /api/admins/token` would answer it (counted as issued). */
  issueToken(): string {
    this.counters.tokensIssued++;
    const now = this.now();
    const expiresAt = now + this.tokenTtlMs;
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = {
      sub: this.adminUsername,
      access: this.sudo ? 'sudo' : 'admin',
      iat: Math.floor(now / 1000),
      exp: Math.floor(expiresAt / 1000),
    };
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
    const token = `${unsigned}.${createHmac('sha256', this.secret).update(unsigned).digest('base64url')}`;
    if (this.tokens.size >= 10_000) for (const [t, at] of this.tokens) if (at <= now) this.tokens.delete(t);
    this.tokens.set(token, expiresAt);
    return token;
  }

  /** Every token issued so far stops being accepted now, as after a restart with a new secret. */
  expireTokens(): void {
    this.tokens.clear();
  }

  // ---- faults and counters ----

  get faults(): VpnPanelFaults {
    return this.transport.faults;
  }

  setFaults(faults: Partial<VpnPanelFaults>): void {
    this.transport.setFaults(faults);
  }

  resetFaults(): void {
    this.transport.resetFaults();
  }

  get latencyMs(): number {
    return this.transport.latencyMs;
  }

  setLatency(ms: number): void {
    this.transport.setLatency(ms);
  }

  get isDead(): boolean {
    return this.transport.isDead;
  }

  /** Dead: connections to the port are refused (for `forMs`, or until setDead(false)). */
  setDead(dead: boolean, forMs?: number): Promise<void> {
    return this.transport.setDead(dead, forMs);
  }

  /** Requests served, by route: `POST /api/admins/token`, `GET /api/users/:username`. */
  get requests(): ReadonlyMap<string, number> {
    return this.transport.requests;
  }

  requestCount(route: string): number {
    return this.transport.requests.get(route) ?? 0;
  }

  resetCounters(): void {
    this.transport.resetCounters();
  }

  // ---- HTTP ----

  async handle(req: SimRequest): Promise<SimResponse> {
    if (req.path.startsWith('/__simulator')) return this.admin(req);
    const user = req.path.match(/^\/api\/users\/([^/]+)$/);
    const route =
      req.path === MARZNESHIN_TOKEN_PATH
        ? `${req.method} ${MARZNESHIN_TOKEN_PATH}`
        : user
          ? `${req.method} /api/users/:username`
          : `${req.method} (other)`;
    return this.transport.serve(req, route, () => {
      if (req.path === MARZNESHIN_TOKEN_PATH)
        return req.method === 'POST' ? this.token(req) : detail(405, 'Method Not Allowed');
      if (user)
        return req.method === 'GET' ? this.getUser(req, decodePathSegment(user[1])) : detail(405, 'Method Not Allowed');
      return detail(404, 'Not Found');
    });
  }

  /** FastAPI's OAuth2PasswordRequestForm: form fields only (a JSON body lacks them: 422). */
  private token(req: SimRequest): SimResponse {
    const form = typeof req.body === 'string' ? new URLSearchParams(req.body) : new URLSearchParams();
    const missing = ['username', 'password'].filter((field) => !form.has(field));
    if (missing.length > 0)
      return {
        status: 422,
        body: {
          detail: missing.map((field) => ({
            type: 'missing',
            loc: ['body', field],
            msg: 'Field required',
            input: null,
          })),
        },
      };
    if (form.get('username') !== this.adminUsername || form.get('password') !== this.adminPassword) {
      this.counters.loginFailures++;
      return { ...detail(401, 'Incorrect username or password'), headers: { 'www-authenticate': 'Bearer' } };
    }
    return { status: 200, body: { access_token: this.issueToken(), is_sudo: this.sudo, token_type: 'bearer' } };
  }

  private getUser(req: SimRequest, username: string): SimResponse {
    const header = String(req.headers.authorization ?? '');
    const space = header.indexOf(' ');
    const scheme = space > 0 ? header.slice(0, space) : header;
    if (!header || scheme.toLowerCase() !== 'bearer') {
      this.counters.unauthorized++;
      return { ...detail(401, 'Not authenticated'), headers: { 'www-authenticate': 'Bearer' } };
    }
    const expiresAt = this.tokens.get(header.slice(space + 1));
    if (expiresAt === undefined || expiresAt <= this.now()) {
      this.counters.unauthorized++;
      return { ...detail(401, 'Could not validate credentials'), headers: { 'www-authenticate': 'Bearer' } };
    }
    if (!this.book.exists(username)) {
      this.counters.unknownUsers++;
      // A non-sudo admin is refused before the lookup tells it apart: a missing user is "not yours" too.
      return this.sudo ? detail(404, 'User not found') : detail(403, "You're not allowed");
    }
    this.counters.usageReads++;
    const read = this.book.read(username);
    return { status: 200, body: this.render(username, read) };
  }

  private known(username: string): void {
    if (!this.book.exists(username)) throw new Error(`No Marzneshin user ${username}`);
  }

  private render(username: string, usage: PanelUsage = this.book.peek(username)): MarzneshinUser {
    const r = panelUserRandom(this.seed, username, 'profile');
    const added = this.addedMeta.get(username);
    const index = this.book.generatedIndex(username);
    const anchor = this.book.anchorMs;
    const createdAt = added?.createdAt ?? anchor - Math.floor((30 + r() * 365) * DAY_MS);
    const roll = r();
    const strategy = roll < 0.5 ? 'never' : roll < 0.8 ? 'fixed_date' : 'start_on_first_use';
    const online = r() < 0.85 ? anchor - Math.floor(r() * 30 * DAY_MS) : null;
    const generated: MarzneshinUser = {
      id: added?.id ?? index ?? 1 + Math.floor(r() * 999_999),
      username,
      expire_strategy: strategy,
      expire_date: strategy === 'fixed_date' ? naive(anchor + (Math.floor(r() * 730) - 30) * DAY_MS) : null,
      usage_duration: strategy === 'start_on_first_use' ? pick(r, [7, 14, 30, 90]) * 86_400 : null,
      activation_deadline:
        strategy === 'start_on_first_use' && r() < 0.5 ? naive(createdAt + (30 + Math.floor(r() * 60)) * DAY_MS) : null,
      key: Array.from({ length: 4 }, () =>
        Math.floor(r() * 2 ** 32)
          .toString(16)
          .padStart(8, '0'),
      ).join(''),
      data_limit: added ? null : pick(r, DATA_LIMITS),
      data_limit_reset_strategy: r() < 0.7 ? 'no_reset' : pick(r, ['day', 'week', 'month', 'year'] as const),
      note: r() < 0.2 ? pick(r, NOTES) : null,
      sub_updated_at: online === null ? null : naive(online - Math.floor(r() * DAY_MS)),
      sub_last_user_agent: online === null ? null : pick(r, AGENTS),
      online_at: online === null ? null : naive(online),
      activated: strategy !== 'start_on_first_use' || online !== null,
      is_active: true,
      expired: false,
      data_limit_reached: false,
      enabled: r() > 0.08,
      used_traffic: 0,
      lifetime_used_traffic: 0,
      sub_revoked_at: null,
      created_at: naive(createdAt),
      service_ids: r() < 0.2 ? [1, 2] : [1 + Math.floor(r() * 3)],
      subscription_url: '',
      owner_username: this.adminUsername,
      traffic_reset_at: null,
    };
    const user: MarzneshinUser = { ...generated, ...this.overrides.get(username) };
    user.used_traffic = usage.up + usage.down;
    user.lifetime_used_traffic = Math.max(usage.lifetime, user.used_traffic);
    user.traffic_reset_at = usage.resetAt === null ? user.traffic_reset_at : naive(usage.resetAt);
    user.data_limit_reached = !!user.data_limit && user.used_traffic >= user.data_limit;
    user.expired = user.expire_date !== null && Date.parse(`${user.expire_date}Z`) <= this.now();
    user.is_active = user.enabled && user.activated && !user.expired && !user.data_limit_reached;
    user.subscription_url ||= `/sub/${username}/${user.key}`;
    return user;
  }

  // ---- controls ----

  /**
   * Test and demo controls over HTTP: state, faults, latency, dead (for a while), counters, users (add, change,
   * remove, look without reading), usage (set, reset), tokens (expire all).
   */
  private admin(req: SimRequest): SimResponse {
    const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
    try {
      const common = this.transport.control(req, body);
      if (common) return common;
      const one = req.path.match(/^\/__simulator\/users\/([^/]+)$/);
      if (one) {
        const username = decodePathSegment(one[1]);
        if (req.method === 'GET') {
          const user = this.user(username);
          return user ? { status: 200, body: user } : detail(404, 'User not found');
        }
        if (req.method === 'DELETE')
          return this.removeUser(username)
            ? { status: 200, body: { removed: username } }
            : detail(404, 'User not found');
      }
      switch (`${req.method} ${req.path}`) {
        case 'GET /__simulator/state':
          return {
            status: 200,
            body: { ...this.transport.snapshot(), users: this.book.counts(), liveTokens: this.tokens.size },
          };
        case 'POST /__simulator/users': {
          const { username, ...fields } = body;
          return { status: 200, body: this.addUser(controlString(username), fields) };
        }
        case 'POST /__simulator/usage': {
          const username = controlString(body.username);
          this.setUsage(username, Number(body.bytes));
          return { status: 200, body: { username, used_traffic: this.usage(username) } };
        }
        case 'POST /__simulator/usage/reset':
          this.resetUsage(body.username === undefined ? undefined : controlString(body.username));
          return { status: 200, body: { reset: body.username ?? 'everyone' } };
        case 'POST /__simulator/tokens/expire':
          this.expireTokens();
          return { status: 200, body: { liveTokens: 0 } };
        default:
          return detail(404, 'Unknown simulator control');
      }
    } catch (err) {
      return detail(400, (err as Error).message);
    }
  }
}

function detail(status: number, message: string): SimResponse {
  return { status, body: { detail: message } };
}
