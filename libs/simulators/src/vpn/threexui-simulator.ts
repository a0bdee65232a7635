import { randomBytes, timingSafeEqual } from 'node:crypto';
import { SimRequest, SimResponse } from '../http-server';
import {
  PanelTransport,
  PanelUserBook,
  VpnPanelCounters,
  VpnPanelFaults,
  panelFormFields,
  panelUserRandom,
  controlString,
  decodePathSegment,
} from './marzneshin-simulator';

export type ThreeXuiGeneration = 'legacy' | 'v3.1';

export interface ThreeXuiSimulatorOptions {
  seed?: number;
  /** `n` (default 1000): the clients' emails are `user1` … `user{n}`; `'any'`: every well-formed email is a client. */
  users?: number | 'any';
  emailPrefix?: string;
  /** The panel's login. */
  adminUsername?: string;
  adminPassword?: string;
  /** `legacy` (v2.x to 3.0): cookie only, `/panel/api/inbounds/getClientTraffics/{email}`; `v3.1`: that route and
   * `/panel/api/clients/traffic/{email}`, by cookie or `Authorization: Bearer <apiToken>`. Default `legacy`. */
  generation?: ThreeXuiGeneration;
  /** The API token of Settings → Security (v3.1 only); without it no bearer token is accepted. */
  apiToken?: string;
  /** The panel's `webBasePath`, e.g. `/secret-path/`; every route is under it. Default `/`. */
  basePath?: string;
  cookieName?: string;
  /** How long a login's session cookie is accepted (the panel's "session max age"; 60 minutes by default). */
  sessionTtlMs?: number;
  /**
   * An API request without a valid session (and not an XHR, which gets a 401) is answered by a 307 to the base path,
   * the login page (`redirect`, legacy's default, as `checkLogin` does), or by an empty 404 (`not-found`, v3.1's
   * default and late 2.x builds', whose `checkAPIAuth` hides the API).
   */
  unauthenticated?: 'redirect' | 'not-found';
  /**
   * An unknown client's traffic: HTTP 200 with `{success: false, msg: "Error getting traffics (record not found)"}`
   * (`failure`, the default), or `{success: true, msg: "", obj: null}` (`null-obj`, builds whose lookup finds nothing
   * without an error).
   */
  unknownClient?: 'failure' | 'null-obj';
  /** The panel's own latency on every API request. */
  latencyMs?: number;
  /** Bytes a client's traffic grows by after each read; by default a deterministic 0.25–32 MiB per read. */
  growBytesPerRead?: number;
  now?: () => number;
}

/** `xray.ClientTraffic`, the `obj` of a traffic answer; `subId`, `uuid` and `lastOnline` only from v3.1 here. */
export interface ThreeXuiClientTraffic {
  id: number;
  inboundId: number;
  enable: boolean;
  email: string;
  up: number;
  down: number;
  /** Unix ms; 0 never; negative: a duration that starts at first use. */
  expiryTime: number;
  /** Quota in bytes; 0 unlimited. */
  total: number;
  /** Days between automatic resets; 0 none. */
  reset: number;
  subId?: string;
  uuid?: string;
  lastOnline?: number;
}

/** What can be set on a client; `up` and `down` set its traffic. */
export type ThreeXuiClientFields = Partial<Omit<ThreeXuiClientTraffic, 'email' | 'id'>>;

/** The envelope of every 3x-ui JSON answer (`entity.Msg`). */
export interface ThreeXuiMsg<T = unknown> {
  success: boolean;
  msg: string;
  obj: T | null;
}

export interface ThreeXuiCounters extends VpnPanelCounters {
  /** Sessions opened by `POST /login`. */
  loginsIssued: number;
  /** Logins refused (wrong or missing credentials). */
  loginFailures: number;
  /** API requests let in by the bearer API token rather than a cookie. */
  apiTokenRequests: number;
}

export const THREEXUI_LEGACY_TRAFFIC_PATH = 'panel/api/inbounds/getClientTraffics/';
export const THREEXUI_V31_TRAFFIC_PATH = 'panel/api/clients/traffic/';

const EMAIL = /^[^\s/]{1,64}$/;
const GIB = 1024 ** 3;
const DAY_MS = 86_400_000;
const TOTALS = [0, 0, 10 * GIB, 30 * GIB, 50 * GIB, 100 * GIB];
const LOGIN_AGAIN = 'The login time has expired, please log in again';
const LOGIN_PAGE =
  '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Login</title></head>\n' +
  '<body><div id="app"><form id="login" method="post"><input name="username"><input name="password" type="password">' +
  '</form></div></body>\n</html>\n';

const msg = <T>(success: boolean, text: string, obj: T | null = null): SimResponse => ({
  status: 200,
  body: { success, msg: text, obj } satisfies ThreeXuiMsg<T>,
});
/** gin's own 404, for a route that does not exist (a method mismatch is one too: gin does not answer 405). */
const ginNotFound = (): SimResponse => ({
  status: 404,
  text: '404 page not found',
  headers: { 'content-type': 'text/plain' },
});

/**
 * The 3x-ui panel (MHSanaei/3x-ui) as a usage sync uses it (../shared/reference/upstream-apis.md, section 4d):
 * `POST /login` (form or JSON) opens a session cookie `3x-ui` that expires after `sessionTtlMs`; the client traffic
 * `GET /panel/api/inbounds/getClientTraffics/{email}`, and from v3.1 `GET /panel/api/clients/traffic/{email}` with a
 * bearer API token, answer the `{success, msg, obj}` envelope with HTTP 200 even when they fail. `up` and `down`
 * grow between reads.
 */
export class ThreeXuiSimulator {
  readonly adminUsername: string;
  readonly adminPassword: string;
  readonly generation: ThreeXuiGeneration;
  readonly apiToken: string | null;
  readonly basePath: string;
  readonly cookieName: string;
  readonly sessionTtlMs: number;
  readonly unauthenticated: 'redirect' | 'not-found';
  readonly unknownClient: 'failure' | 'null-obj';
  readonly counters: ThreeXuiCounters = {
    requests: 0,
    unauthorized: 0,
    usageReads: 0,
    unknownUsers: 0,
    faulted: 0,
    held: 0,
    inFlight: 0,
    peakInFlight: 0,
    loginsIssued: 0,
    loginFailures: 0,
    apiTokenRequests: 0,
  };

  private readonly seed: number;
  private readonly now: () => number;
  private readonly book: PanelUserBook;
  private readonly transport: PanelTransport;
  private readonly overrides = new Map<string, ThreeXuiClientFields>();
  private readonly addedIds = new Map<string, number>();
  /** Live sessions (the cookie's value) and when each stops being accepted. */
  private readonly sessions = new Map<string, number>();
  private nextId: number;

  constructor(options: ThreeXuiSimulatorOptions = {}) {
    this.seed = options.seed ?? 42;
    this.now = options.now ?? Date.now;
    this.adminUsername = options.adminUsername ?? 'admin';
    this.adminPassword = options.adminPassword ?? 'sim-3x-ui-password';
    this.generation = options.generation ?? 'legacy';
    if (this.generation !== 'legacy' && this.generation !== 'v3.1') throw new Error("generation: 'legacy' or 'v3.1'");
    if (options.apiToken !== undefined && this.generation !== 'v3.1')
      throw new Error('An API token needs the v3.1 generation: legacy panels have none');
    this.apiToken = options.apiToken ?? null;
    const base = options.basePath ?? '/';
    this.basePath = `/${base.replace(/^\/+|\/+$/g, '')}/`.replace(/^\/\/$/, '/');
    this.cookieName = options.cookieName ?? '3x-ui';
    this.sessionTtlMs = options.sessionTtlMs ?? 60 * 60_000;
    if (!Number.isInteger(this.sessionTtlMs) || this.sessionTtlMs <= 0) throw new Error('sessionTtlMs must be > 0');
    this.unauthenticated = options.unauthenticated ?? (this.generation === 'legacy' ? 'redirect' : 'not-found');
    this.unknownClient = options.unknownClient ?? 'failure';
    const users = options.users ?? 1000;
    this.book = new PanelUserBook({
      seed: this.seed,
      users,
      usernamePrefix: options.emailPrefix ?? 'user',
      growBytesPerRead: options.growBytesPerRead,
      isWellFormed: (email) => EMAIL.test(email),
      now: this.now,
    });
    this.nextId = users === 'any' ? 1_000_001 : users + 1;
    this.transport = new PanelTransport(
      // gin's recovery answers a panic with an empty 500.
      { seed: this.seed, latencyMs: options.latencyMs ?? 0, internalError: () => ({ status: 500, text: '' }) },
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

  /** The panel's address with its base path, e.g. `http://127.0.0.1:41234/secret/`. */
  get url(): string {
    return `${this.transport.url}${this.basePath}`;
  }

  // ---- clients, for tests ----

  /** The email of generated client `i` (1-based): the "username" a reseller config holds. */
  email(i: number): string {
    return this.book.username(i);
  }

  hasUser(email: string): boolean {
    return this.book.exists(email);
  }

  /** The traffic as the next read would answer it (v3.1's fields too), without counting a read; null if unknown. */
  user(email: string): ThreeXuiClientTraffic | null {
    return this.book.exists(email) ? this.render(email, 'v3.1') : null;
  }

  /** Adds a client (no traffic unless `up`/`down` are given), or changes an existing one's fields. */
  addUser(email: string, fields: ThreeXuiClientFields = {}): ThreeXuiClientTraffic {
    if (!EMAIL.test(email)) throw new Error(`Not a 3x-ui client email: ${email}`);
    if (!this.book.exists(email)) {
      this.book.add(email);
      this.addedIds.set(email, this.nextId++);
    }
    const { up, down, ...rest } = fields;
    this.overrides.set(email, { ...this.overrides.get(email), ...rest });
    if (up !== undefined || down !== undefined) {
      const current = this.book.peek(email);
      this.book.set(email, { up: up ?? current.up, down: down ?? current.down });
    }
    return this.render(email, 'v3.1');
  }

  /** Deletes a client: from now on its reads are the unknown-client answer. False when there was no such client. */
  removeUser(email: string): boolean {
    this.overrides.delete(email);
    this.addedIds.delete(email);
    return this.book.remove(email);
  }

  /** The `up` and `down` the next read will answer. */
  usage(email: string): { up: number; down: number; total: number } {
    this.known(email);
    const { up, down } = this.book.peek(email);
    return { up, down, total: up + down };
  }

  /** Sets a client's traffic: total bytes (split up/down as its traffic usually is) or `{up, down}`. */
  setUsage(email: string, usage: number | { up: number; down: number }): void {
    this.known(email);
    this.book.set(email, usage);
  }

  /** Zeroes one client's `up` and `down`, or every client's, as the panel's traffic reset does. */
  resetUsage(email?: string): void {
    if (email !== undefined) this.known(email);
    this.book.reset(email);
  }

  // ---- auth, for tests ----

  /** A session cookie's value as `POST /login` would set it (counted as a login). */
  login(): string {
    this.counters.loginsIssued++;
    const now = this.now();
    const session = randomBytes(48).toString('base64url');
    if (this.sessions.size >= 10_000) for (const [s, at] of this.sessions) if (at <= now) this.sessions.delete(s);
    this.sessions.set(session, now + this.sessionTtlMs);
    return session;
  }

  /** Every session opened so far stops being accepted now, as after the panel restarts with a new secret. */
  expireSessions(): void {
    this.sessions.clear();
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

  /** Requests served, by route relative to the base path: `POST /login`, `GET /panel/api/…/:email`, `GET /`. */
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
    const inside = req.path === this.basePath.slice(0, -1) || req.path.startsWith(this.basePath);
    const rel = inside ? req.path.slice(this.basePath.length) : null;
    const traffic = rel === null ? null : this.trafficRoute(rel);
    const route =
      rel === null
        ? `${req.method} (other)`
        : traffic
          ? `${req.method} /${traffic.prefix}:email`
          : rel === '' || rel === 'login'
            ? `${req.method} /${rel}`
            : `${req.method} (other)`;
    return this.transport.serve(req, route, () => {
      if (rel === null) return ginNotFound();
      if (rel === '' && req.method === 'GET')
        return { status: 200, text: LOGIN_PAGE, headers: { 'content-type': 'text/html; charset=utf-8' } };
      if (rel === 'login' && req.method === 'POST') return this.loginRoute(req);
      if (traffic && req.method === 'GET') return this.authorised(req) ?? this.traffic(traffic.email, traffic.prefix);
      return ginNotFound();
    });
  }

  private trafficRoute(rel: string): { prefix: string; email: string } | null {
    const prefixes =
      this.generation === 'v3.1'
        ? [THREEXUI_LEGACY_TRAFFIC_PATH, THREEXUI_V31_TRAFFIC_PATH]
        : [THREEXUI_LEGACY_TRAFFIC_PATH];
    for (const prefix of prefixes) {
      const segment = rel.startsWith(prefix) ? rel.slice(prefix.length) : '';
      if (segment && !segment.includes('/')) return { prefix, email: decodePathSegment(segment) };
    }
    return null;
  }

  private loginRoute(req: SimRequest): SimResponse {
    const form = panelFormFields(req);
    const refuse = (text: string): SimResponse => {
      this.counters.loginFailures++;
      return msg(false, text);
    };
    if (!form.username) return refuse('Please enter username');
    if (!form.password) return refuse('Please enter password');
    if (form.username !== this.adminUsername || form.password !== this.adminPassword)
      return refuse('Wrong username or password');
    const session = this.login();
    const expires = new Date(this.now() + this.sessionTtlMs).toUTCString();
    return {
      ...msg(true, 'Logged in successfully'),
      headers: {
        'set-cookie': `${this.cookieName}=${session}; Path=/; Expires=${expires}; Max-Age=${Math.ceil(this.sessionTtlMs / 1000)}; HttpOnly; SameSite=Lax`,
      },
    };
  }

  /** Null when the request may pass: a live session cookie, or (v3.1) the API token; else the panel's refusal. */
  private authorised(req: SimRequest): SimResponse | null {
    if (this.apiToken !== null) {
      const header = String(req.headers.authorization ?? '');
      if (header.startsWith('Bearer ') && sameSecret(header.slice(7), this.apiToken)) {
        this.counters.apiTokenRequests++;
        return null;
      }
    }
    const session = this.cookie(req);
    const expiresAt = session === null ? undefined : this.sessions.get(session);
    if (expiresAt !== undefined && expiresAt > this.now()) return null;
    this.counters.unauthorized++;
    if (req.headers['x-requested-with'] === 'XMLHttpRequest')
      return this.generation === 'legacy' ? { ...msg(false, LOGIN_AGAIN), status: 401 } : { status: 401 };
    if (this.unauthenticated === 'not-found') return { status: 404 };
    return {
      status: 307,
      text: `<a href="${this.basePath}">Temporary Redirect</a>.\n\n`,
      headers: { location: this.basePath, 'content-type': 'text/html; charset=utf-8' },
    };
  }

  private cookie(req: SimRequest): string | null {
    for (const part of String(req.headers.cookie ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === this.cookieName) return part.slice(eq + 1).trim();
    }
    return null;
  }

  private traffic(email: string, prefix: string): SimResponse {
    if (!this.book.exists(email)) {
      this.counters.unknownUsers++;
      return this.unknownClient === 'null-obj'
        ? msg(true, '')
        : msg(false, 'Error getting traffics (record not found)');
    }
    this.counters.usageReads++;
    const usage = this.book.read(email);
    // Only the v3.1 route's answer is known to carry subId, uuid and lastOnline; the legacy one is kept minimal.
    const fields = prefix === THREEXUI_V31_TRAFFIC_PATH ? 'v3.1' : 'legacy';
    return msg(true, '', this.render(email, fields, usage));
  }

  private known(email: string): void {
    if (!this.book.exists(email)) throw new Error(`No 3x-ui client ${email}`);
  }

  private render(email: string, fields: ThreeXuiGeneration, usage = this.book.peek(email)): ThreeXuiClientTraffic {
    const r = panelUserRandom(this.seed, email, 'client');
    const roll = r();
    const expiryTime =
      roll < 0.4
        ? 0
        : roll < 0.9
          ? this.book.anchorMs + (Math.floor(r() * 730) - 30) * DAY_MS
          : -(1 + Math.floor(r() * 90)) * DAY_MS;
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
    const generated: ThreeXuiClientTraffic = {
      id: this.addedIds.get(email) ?? this.book.generatedIndex(email) ?? 1 + Math.floor(r() * 999_999),
      inboundId: 1 + Math.floor(r() * 3),
      enable: r() > 0.05,
      email,
      up: 0,
      down: 0,
      expiryTime,
      total: TOTALS[Math.floor(r() * TOTALS.length)],
      reset: r() < 0.8 ? 0 : 30,
      subId: hex(16),
      uuid: `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(r() * 4)]}${hex(3)}-${hex(12)}`,
      lastOnline: r() < 0.15 ? 0 : this.book.anchorMs - Math.floor(r() * 30 * DAY_MS),
    };
    const client: ThreeXuiClientTraffic = {
      ...generated,
      ...this.overrides.get(email),
      up: usage.up,
      down: usage.down,
    };
    // The panel's traffic job disables a client whose quota is spent or whose time is up.
    const depleted = client.total > 0 && client.up + client.down >= client.total;
    const ended = client.expiryTime > 0 && client.expiryTime <= this.now();
    client.enable = client.enable && !depleted && !ended;
    if (fields === 'legacy') {
      delete client.subId;
      delete client.uuid;
      delete client.lastOnline;
    }
    return client;
  }

  // ---- controls ----

  /**
   * Test and demo controls over HTTP: state, faults, latency, dead (for a while), counters, clients (add, change,
   * remove, look without reading), usage (set, reset), sessions (expire all).
   */
  private admin(req: SimRequest): SimResponse {
    const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
    const fail = (status: number, error: string): SimResponse => ({ status, body: { error } });
    try {
      const common = this.transport.control(req, body);
      if (common) return common;
      const one = req.path.match(/^\/__simulator\/users\/([^/]+)$/);
      if (one) {
        const email = decodePathSegment(one[1]);
        if (req.method === 'GET') {
          const client = this.user(email);
          return client ? { status: 200, body: client } : fail(404, `No client ${email}`);
        }
        if (req.method === 'DELETE')
          return this.removeUser(email) ? { status: 200, body: { removed: email } } : fail(404, `No client ${email}`);
      }
      switch (`${req.method} ${req.path}`) {
        case 'GET /__simulator/state':
          return {
            status: 200,
            body: {
              ...this.transport.snapshot(),
              generation: this.generation,
              users: this.book.counts(),
              liveSessions: this.sessions.size,
            },
          };
        case 'POST /__simulator/users': {
          const { email, ...fields } = body;
          return { status: 200, body: this.addUser(controlString(email), fields) };
        }
        case 'POST /__simulator/usage': {
          const email = controlString(body.email);
          const usage =
            body.bytes !== undefined ? Number(body.bytes) : { up: Number(body.up ?? 0), down: Number(body.down ?? 0) };
          this.setUsage(email, usage);
          return { status: 200, body: { email, ...this.usage(email) } };
        }
        case 'POST /__simulator/usage/reset':
          this.resetUsage(body.email === undefined ? undefined : controlString(body.email));
          return { status: 200, body: { reset: body.email ?? 'everyone' } };
        case 'POST /__simulator/sessions/expire':
          this.expireSessions();
          return { status: 200, body: { liveSessions: 0 } };
        default:
          return fail(404, 'Unknown simulator control');
      }
    } catch (err) {
      return fail(400, (err as Error).message);
    }
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
