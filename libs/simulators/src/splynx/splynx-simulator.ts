import { createHmac, randomBytes } from 'node:crypto';
import { seededRandom } from '../random';
import { TransportFaultInjector, TransportFaults } from '../transport-faults';
import { SimRequest, SimResponse, SimulatorHttpServer } from '../http-server';
import { SplynxCustomerRecord } from './customer-generator';
import { SplynxCustomerStore } from './customer-store';
import { BadListQuery, parseListQuery } from './list-query';
import { splynxDateTime, wallClockIn } from './splynx-dates';

export interface SplynxSimulatorOptions {
  seed?: number;
  customers?: number;
  apiKey?: string;
  apiSecret?: string;
  /** Access tokens live this long (the real API: 30 minutes). */
  accessTokenTtlSeconds?: number;
  /** Epoch milliseconds now: token expiry, and the last_update stamped on changed and added customers. */
  now?: () => number;
  /** The Splynx server's time zone (IANA name), in which it writes last_update; default 'UTC'. */
  timeZone?: string;
}

/** Faults a test can switch on; all default off. Rates are fractions of requests (0..1), drawn from a seeded PRNG. */
export interface SplynxFaults extends TransportFaults {
  /** Serve this fraction of listed customers malformed. */
  malformedRate: number;
  /** These customer ids are always served malformed. */
  malformedIds: number[];
}

const API = '/api/2.0/admin';
const NO_FAULTS: SplynxFaults = {
  latencyMs: 0,
  errorRate: 0,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  script: [],
  malformedRate: 0,
  malformedIds: [],
};

function error(status: number, internalCode: string, message: string): SimResponse {
  return { status, body: { error: { message, code: status, internal_code: internalCode } } };
}

interface Token {
  access: string;
  accessExpires: number;
  refresh: string;
  refreshExpires: number;
}

/**
 * Splynx API 2.0 as documented (../shared/reference/upstream-apis.md): three auth modes, 30-minute access tokens
 * with renewal, bare-array lists with limit/offset and main_attributes filters, HEAD with X-total-count, the error
 * envelope, 422 on invalid input, string-typed numbers. Records are generated from the seed on demand (see
 * SplynxCustomerStore); a changed or added customer's last_update is the simulator's now in its time zone.
 */
export class SplynxSimulator {
  readonly apiKey: string;
  readonly apiSecret: string;
  faults: SplynxFaults = { ...NO_FAULTS };
  /** Requests served, by "METHOD /path-pattern", for tests to assert on. */
  readonly requests = new Map<string, number>();

  private readonly seed: number;
  private readonly ttl: number;
  private readonly now: () => number;
  readonly timeZone: string;
  private readonly customers: SplynxCustomerStore;
  /** Epoch ms to the server's wall clock (seconds) in `timeZone`. */
  private readonly wallClock: (epochMs: number) => number;
  private readonly tokens = new Map<string, Token>();
  private readonly refreshIndex = new Map<string, Token>();
  private readonly lastNonce = new Map<string, number>();
  private readonly injector: TransportFaultInjector;
  private server: SimulatorHttpServer | null = null;

  constructor(options: SplynxSimulatorOptions = {}) {
    this.seed = options.seed ?? 42;
    this.apiKey = options.apiKey ?? 'sim-splynx-key-0001';
    this.apiSecret = options.apiSecret ?? 'sim-splynx-secret-0001';
    this.ttl = options.accessTokenTtlSeconds ?? 1800;
    this.now = options.now ?? Date.now;
    this.timeZone = options.timeZone ?? 'UTC';
    this.injector = new TransportFaultInjector(this.seed);
    this.wallClock = wallClockIn(this.timeZone);
    this.customers = new SplynxCustomerStore(this.seed, options.customers ?? 2000, () => this.wallClock(this.now()));
  }

  async start(port = 0): Promise<string> {
    this.server = new SimulatorHttpServer((req) => this.handle(req));
    return this.server.listen(port);
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  get customerCount(): number {
    return this.customers.size;
  }

  customerIds(): number[] {
    return this.customers.allIds();
  }

  /** The customer as the API lists it (no injected malformation), or null when there is no such id. */
  customer(id: number): SplynxCustomerRecord | null {
    return this.customers.record(id);
  }

  /** The customer's last_update (`YYYY-MM-DD HH:MM:SS` in the simulator's time zone), or null when absent. */
  lastUpdateOf(id: number): string | null {
    return this.customers.lastUpdateOf(id);
  }

  setFaults(faults: Partial<SplynxFaults>): void {
    this.faults = { ...this.faults, ...faults };
    this.injector.reset();
  }

  clearFaults(): void {
    this.setFaults(NO_FAULTS);
  }

  /**
   * Changes `change` customers (new content, last_update now in the simulator's time zone), removes `remove`, adds
   * `add` (last_update now); returns the ids touched and that last_update.
   */
  mutate(spec: { change?: number; remove?: number; add?: number }): {
    changed: number[];
    removed: number[];
    added: number[];
    lastUpdate: string;
  } {
    return this.customers.mutate(spec);
  }

  /** Makes every issued access token expired now (as if 30 minutes had passed). */
  expireAccessTokens(): void {
    for (const t of this.tokens.values()) t.accessExpires = Math.floor(this.now() / 1000) - 1;
  }

  requestCount(key: string): number {
    return this.requests.get(key) ?? 0;
  }

  private count(route: string): void {
    this.requests.set(route, (this.requests.get(route) ?? 0) + 1);
  }

  async handle(req: SimRequest): Promise<SimResponse> {
    if (req.path.startsWith('/__simulator')) return this.admin(req);
    this.count(this.routeOf(req));
    return this.injector.intercept(
      req,
      this.faults,
      {
        error: () => error(500, 'SERVER_ERROR', 'Internal server error'),
        rateLimited: () => error(429, 'TOO_MANY_REQUESTS', 'Too many requests'),
      },
      () => this.serve(req),
    );
  }

  private serve(req: SimRequest): SimResponse {
    if (req.method === 'POST' && req.path === `${API}/auth/tokens`) return this.issueToken(req);
    const renew = req.path.match(new RegExp(`^${API}/auth/tokens/([\\w-]+)$`));
    if (renew && req.method === 'GET') return this.renewToken(renew[1]);
    if (renew && req.method === 'DELETE') return this.revoke(renew[1]);

    const denied = this.authenticate(req);
    if (denied) return denied;

    if (req.path === `${API}/api/check` && req.method === 'GET')
      return { status: 200, body: { status: 'ok', message: 'API is valid', same_server: 0 } };
    if (req.path === `${API}/customers/customer`) {
      if (req.method === 'GET' || req.method === 'HEAD') return this.list(req);
      if (req.method === 'POST') return this.create(req.body);
    }
    const one = req.path.match(new RegExp(`^${API}/customers/customer/(\\d+)$`));
    if (one && req.method === 'GET') {
      const record = this.customer(Number(one[1]));
      return record ? { status: 200, body: record } : error(404, 'NOT_FOUND', 'Customer not found');
    }
    return error(404, 'NOT_FOUND', `No route ${req.method} ${req.path}`);
  }

  private routeOf(req: SimRequest): string {
    return `${req.method} ${req.path.replace(/\/\d+$/, '/:id').replace(/tokens\/[\w-]+$/, 'tokens/:refresh')}`;
  }

  private signatureValid(key: string, nonce: string, signature: string): boolean {
    const expected = createHmac('sha256', this.apiSecret).update(`${nonce}${key}`).digest('hex').toUpperCase();
    return key === this.apiKey && signature === expected;
  }

  private issueToken(req: SimRequest): SimResponse {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.auth_type !== 'api_key') {
      return { status: 422, body: [{ field: 'auth_type', message: 'Auth type is invalid. Supported here: api_key.' }] };
    }
    const missing = ['key', 'nonce', 'signature'].filter((f) => body[f] === undefined || body[f] === '');
    if (missing.length)
      return { status: 422, body: missing.map((field) => ({ field, message: `${field} cannot be blank.` })) };
    if (!this.signatureValid(String(body.key), String(body.nonce), String(body.signature)))
      return error(401, 'INVALID_USER', 'Invalid API key or signature');
    const token = this.newToken();
    return { status: 201, body: { ...this.tokenBody(token), permissions: [] } };
  }

  private newToken(): Token {
    const nowS = Math.floor(this.now() / 1000);
    const token = {
      access: randomBytes(16).toString('hex'),
      accessExpires: nowS + this.ttl,
      refresh: randomBytes(16).toString('hex'),
      refreshExpires: nowS + 7 * 86400,
    };
    this.tokens.set(token.access, token);
    this.refreshIndex.set(token.refresh, token);
    return token;
  }

  private tokenBody(t: Token) {
    return {
      access_token: t.access,
      access_token_expiration: t.accessExpires,
      refresh_token: t.refresh,
      refresh_token_expiration: t.refreshExpires,
    };
  }

  private renewToken(refresh: string): SimResponse {
    const old = this.refreshIndex.get(refresh);
    if (!old) return error(404, 'NOT_FOUND', 'Refresh token not found');
    if (old.refreshExpires < Math.floor(this.now() / 1000))
      return error(401, 'EXPIRED_REFRESH_TOKEN', 'Refresh token expired');
    this.tokens.delete(old.access);
    this.refreshIndex.delete(refresh);
    return { status: 200, body: this.tokenBody(this.newToken()) };
  }

  private revoke(refresh: string): SimResponse {
    const token = this.refreshIndex.get(refresh);
    if (!token) return error(404, 'NOT_FOUND', 'Refresh token not found');
    this.tokens.delete(token.access);
    this.refreshIndex.delete(refresh);
    return { status: 204 };
  }

  private authenticate(req: SimRequest): SimResponse | null {
    const header = String(req.headers.authorization ?? '');
    if (!header) return error(401, 'MISSED_AUTHORIZATION_HEADER', 'Authorization header is missing');
    if (header.startsWith('Basic ')) {
      const [key, secret] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      return key === this.apiKey && secret === this.apiSecret
        ? null
        : error(401, 'UNAUTHORIZED', 'Invalid credentials');
    }
    const ea = header.match(/^Splynx-EA \((.*)\)$/);
    if (!ea) return error(401, 'INVALID_AUTH_TYPE', 'Unsupported authorization type');
    const params = new URLSearchParams(ea[1]);
    const access = params.get('access_token');
    if (access) {
      const token = this.tokens.get(access);
      if (!token) return error(401, 'UNAUTHORIZED', 'Access token is invalid');
      if (token.accessExpires < Math.floor(this.now() / 1000))
        return error(401, 'EXPIRED_ACCESS_TOKEN', 'Access token expired');
      return null;
    }
    const key = params.get('key') ?? '';
    const nonce = params.get('nonce') ?? '';
    if (!this.signatureValid(key, nonce, params.get('signature') ?? ''))
      return error(401, 'UNAUTHORIZED', 'Invalid signature');
    // A nonce must grow: a replayed signed request is refused.
    if (Number(nonce) <= (this.lastNonce.get(key) ?? 0))
      return error(401, 'UNAUTHORIZED', 'Nonce has already been used');
    this.lastNonce.set(key, Number(nonce));
    return null;
  }

  /**
   * GET: the page of records the main_attributes filters, order[id], limit and offset select; HEAD: how many the
   * filters select, in X-total-count. A query the simulator cannot answer exactly is a 400, never a guess.
   */
  private list(req: SimRequest): SimResponse {
    try {
      const query = parseListQuery(req.query);
      if (req.method === 'GET') return { status: 200, body: this.customers.select(query).map((id) => this.render(id)) };
      return {
        status: 204,
        headers: {
          'X-total-count': String(this.customers.count(query)),
          'Access-Control-Expose-Headers': 'X-total-count',
        },
      };
    } catch (err) {
      if (err instanceof BadListQuery) return error(400, 'BAD_REQUEST', err.message);
      throw err;
    }
  }

  private render(id: number): SplynxCustomerRecord {
    const record = this.customers.record(id)!;
    const malformed =
      this.faults.malformedIds.includes(id) ||
      (this.faults.malformedRate > 0 && seededRandom(id * 31 + this.seed)() < this.faults.malformedRate);
    // Malformed as real exports go wrong: a required field missing and a number that is not one.
    return malformed ? { ...record, name: null, partner_id: 'n/a' } : record;
  }

  private create(body: unknown): SimResponse {
    const b = (body ?? {}) as Record<string, unknown>;
    const missing = ['name', 'partner_id', 'location_id'].filter((f) => !b[f]);
    if (missing.length)
      return { status: 422, body: missing.map((field) => ({ field, message: `${field} cannot be blank.` })) };
    return { status: 201, body: { id: this.customers.add() } };
  }

  /**
   * Test and demo controls: GET state (with the time zone and the server's wall clock now), POST faults, POST mutate,
   * POST expire-tokens, GET last-update/:id.
   */
  private admin(req: SimRequest): SimResponse {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const lastUpdate = req.path.match(/^\/__simulator\/last-update\/(\d+)$/);
    if (lastUpdate && req.method === 'GET') {
      const value = this.lastUpdateOf(Number(lastUpdate[1]));
      return value
        ? { status: 200, body: { id: Number(lastUpdate[1]), last_update: value } }
        : error(404, 'NOT_FOUND', 'Customer not found');
    }
    switch (`${req.method} ${req.path}`) {
      case 'GET /__simulator/state':
        return {
          status: 200,
          body: {
            customers: this.customers.size,
            timeZone: this.timeZone,
            now: splynxDateTime(this.wallClock(this.now())),
            faults: this.faults,
            requests: Object.fromEntries(this.requests),
          },
        };
      case 'POST /__simulator/faults':
        this.setFaults(body);
        return { status: 200, body: this.faults };
      case 'POST /__simulator/mutate':
        return { status: 200, body: this.mutate(body) };
      case 'POST /__simulator/expire-tokens':
        this.expireAccessTokens();
        return { status: 204 };
      default:
        return error(404, 'NOT_FOUND', 'Unknown simulator control');
    }
  }
}
