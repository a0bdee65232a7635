import { randomBytes } from 'node:crypto';
import { TransportFaultInjector, TransportFaults } from '../transport-faults';
import { SimRequest, SimResponse, SimulatorHttpServer } from '../http-server';

export interface DevposUser {
  /** The company's NIPT/NUIS, sent as the `tenant` header. */
  tenant: string;
  username: string;
  password: string;
}

export interface DevposSimulatorOptions {
  seed?: number;
  /** The fixed public web-app client id (empty secret) every customer's login uses. */
  clientId?: string;
  users?: DevposUser[];
  tokenTtlSeconds?: number;
  now?: () => number;
}

/** Faults a test can switch on; all default off. Rates are fractions of requests (0..1), from a seeded PRNG. */
export type DevposFaults = TransportFaults;

export const DEVPOS_PATHS = {
  token: '/connect/token',
  login: '/Account/Login',
  api: '/api/v3',
} as const;

const NO_FAULTS: DevposFaults = { latencyMs: 0, errorRate: 0, rateLimitRate: 0, retryAfterSeconds: 1 };

const LOGIN_PAGE =
  '<!DOCTYPE html><html lang="sq"><head><meta charset="utf-8"><title>DevPos - Hyr</title></head><body>' +
  '<form method="post" action="/Account/Login"><input name="Username"><input name="Password" type="password">' +
  '<button type="submit">Hyr</button></form></body></html>';

function oauthError(status: number, error: string, description?: string): SimResponse {
  return { status, body: description ? { error, error_description: description } : { error } };
}

interface Session {
  tenant: string;
  expiresAt: number;
}

/**
 * DevPos (../shared/reference/upstream-apis.md section 7): the password-grant login at /connect/token with the public
 * client's Basic auth and a `tenant` header, 8-hour tokens without refresh, and API calls that, without a valid
 * token, are redirected to the HTML login page instead of answering JSON, as the real one does.
 */
export class DevposSimulator {
  readonly clientId: string;
  readonly users: DevposUser[];
  faults: DevposFaults = { ...NO_FAULTS };
  /** Requests served, by "METHOD /path", for tests to assert on. */
  readonly requests = new Map<string, number>();
  /** Invoices served by GetSalesInvoice / GetPurchaseInvoice, per tenant; a test fills them. */
  readonly salesInvoices = new Map<string, Array<Record<string, unknown>>>();
  readonly purchaseInvoices = new Map<string, Array<Record<string, unknown>>>();

  private readonly seed: number;
  private readonly ttl: number;
  private readonly wallClock: () => number;
  private offsetMs = 0;
  private readonly sessions = new Map<string, Session>();
  private readonly logins = new Map<string, number>();
  private readonly injector: TransportFaultInjector;
  private server: SimulatorHttpServer | null = null;

  constructor(options: DevposSimulatorOptions = {}) {
    this.seed = options.seed ?? 42;
    this.clientId = options.clientId ?? 'devpos-web-client';
    this.users = options.users ?? [{ tenant: 'L91234567A', username: 'sim-user', password: 'sim-password-0001' }];
    this.ttl = options.tokenTtlSeconds ?? 28800;
    this.wallClock = options.now ?? Date.now;
    this.injector = new TransportFaultInjector(this.seed);
  }

  async start(port = 0): Promise<string> {
    this.server = new SimulatorHttpServer((req) => this.handle(req));
    return this.server.listen(port);
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  now(): number {
    return this.wallClock() + this.offsetMs;
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }

  setFaults(faults: Partial<DevposFaults>): void {
    this.faults = { ...this.faults, ...faults };
    this.injector.reset();
  }

  clearFaults(): void {
    this.setFaults(NO_FAULTS);
  }

  /** Successful logins, for one tenant or all. */
  loginCount(tenant?: string): number {
    if (tenant) return this.logins.get(tenant) ?? 0;
    return [...this.logins.values()].reduce((a, b) => a + b, 0);
  }

  expireTokens(): void {
    for (const s of this.sessions.values()) s.expiresAt = this.now() - 1000;
  }

  requestCount(key: string): number {
    return this.requests.get(key) ?? 0;
  }

  async handle(req: SimRequest): Promise<SimResponse> {
    if (req.path.startsWith('/__simulator')) return this.admin(req);
    const route = `${req.method} ${req.path}`;
    this.requests.set(route, (this.requests.get(route) ?? 0) + 1);
    if (req.path !== DEVPOS_PATHS.login) {
      const faulted = await this.injector.draw(this.faults, {
        error: () => ({ status: 500, body: { message: 'An error has occurred.' } }),
        rateLimited: () => ({ status: 429, body: { message: 'Too many requests' } }),
      });
      if (faulted) return faulted;
    }
    if (req.method === 'POST' && req.path === DEVPOS_PATHS.token) return this.token(req);
    if (req.method === 'GET' && req.path === DEVPOS_PATHS.login)
      return { status: 200, text: LOGIN_PAGE, headers: { 'content-type': 'text/html; charset=utf-8' } };
    if (req.path.startsWith(`${DEVPOS_PATHS.api}/`)) return this.api(req);
    return { status: 404, body: { message: `No route ${req.method} ${req.path}` } };
  }

  private token(req: SimRequest): SimResponse {
    const header = String(req.headers.authorization ?? '');
    const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const id = colon >= 0 ? decoded.slice(0, colon) : decoded;
    if (id !== this.clientId || (colon >= 0 && decoded.slice(colon + 1) !== ''))
      return oauthError(400, 'invalid_client');
    if (
      !String(req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded') ||
      typeof req.body !== 'string'
    )
      return oauthError(400, 'invalid_request');
    const form = new URLSearchParams(req.body);
    if (form.get('grant_type') !== 'password') return oauthError(400, 'unsupported_grant_type');
    const tenant = String(req.headers.tenant ?? '');
    if (!tenant || !form.get('username') || !form.get('password'))
      return oauthError(400, 'invalid_request', 'tenant, username and password are required');
    const user = this.users.find((u) => u.tenant === tenant && u.username === form.get('username'));
    if (!user || user.password !== form.get('password'))
      return oauthError(400, 'invalid_grant', 'invalid_username_or_password');
    const access = randomBytes(32).toString('base64url');
    this.sessions.set(access, { tenant, expiresAt: this.now() + this.ttl * 1000 });
    this.logins.set(tenant, (this.logins.get(tenant) ?? 0) + 1);
    return { status: 200, body: { access_token: access, expires_in: this.ttl, token_type: 'Bearer', scope: 'api' } };
  }

  /** Without a valid bearer token for the tenant, the real API redirects to its login page (HTML, not JSON). */
  private api(req: SimRequest): SimResponse {
    const header = String(req.headers.authorization ?? '');
    const session = header.startsWith('Bearer ') ? this.sessions.get(header.slice(7)) : undefined;
    const tenant = String(req.headers.tenant ?? '');
    if (!session || session.expiresAt <= this.now() || session.tenant !== tenant) {
      const back = encodeURIComponent(`${req.path}${req.query.size ? `?${req.query}` : ''}`);
      return { status: 302, headers: { location: `${DEVPOS_PATHS.login}?ReturnUrl=${back}` } };
    }
    const list = req.path.match(/^\/api\/v3\/EInvoice\/(GetSalesInvoice|GetPurchaseInvoice)$/);
    if (req.method === 'GET' && list) {
      const from = req.query.get('fromDate') ?? '';
      const to = req.query.get('toDate') ?? '';
      const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
      if (!dateOnly.test(from) || !dateOnly.test(to))
        return { status: 400, body: { message: 'fromDate and toDate must be dates (YYYY-MM-DD)' } };
      const source = list[1] === 'GetSalesInvoice' ? this.salesInvoices : this.purchaseInvoices;
      const rows = (source.get(tenant) ?? []).filter((row) => {
        const created = row.invoiceCreatedDate ?? row.dateTimeCreated;
        const day = typeof created === 'string' ? created.slice(0, 10) : '';
        return !day || (day >= from && day <= to);
      });
      return { status: 200, body: rows };
    }
    return { status: 404, body: { message: `No route ${req.method} ${req.path}` } };
  }

  /** Test and demo controls: GET state, POST faults, POST advance ({seconds}), POST expire-tokens. */
  private admin(req: SimRequest): SimResponse {
    const body = (req.body ?? {}) as Record<string, unknown>;
    switch (`${req.method} ${req.path}`) {
      case 'GET /__simulator/state':
        return {
          status: 200,
          body: {
            now: new Date(this.now()).toISOString(),
            faults: this.faults,
            logins: Object.fromEntries(this.logins),
            requests: Object.fromEntries(this.requests),
          },
        };
      case 'POST /__simulator/faults':
        this.setFaults(body);
        return { status: 200, body: this.faults };
      case 'POST /__simulator/advance':
        this.advance(Number(body.seconds ?? 0));
        return { status: 200, body: { now: new Date(this.now()).toISOString() } };
      case 'POST /__simulator/expire-tokens':
        this.expireTokens();
        return { status: 204 };
      default:
        return { status: 404, body: { message: 'unknown simulator control' } };
    }
  }
}
