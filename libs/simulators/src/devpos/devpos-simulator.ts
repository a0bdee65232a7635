import { randomBytes } from 'node:crypto';
import { TransportFaultInjector, TransportFaults } from '../transport-faults';
import { SimRequest, SimResponse, SimulatorHttpServer } from '../http-server';
import { seededRandom } from '../random';
import {
  DevposDocument,
  DevposDocumentGenerator,
  DevposDocumentKind,
  DevposGenerateOptions,
  DevposListRow,
  documentPdf,
} from './document-generator';

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
  /** Documents generated at construction, as `generate(tenant, …)` would (seed defaults to the simulator's). */
  documents?: Array<{ tenant: string } & DevposGenerateOptions>;
}

/** One GetSalesInvoice / GetPurchaseInvoice call as served, for tests to assert on. */
export interface DevposListCall {
  endpoint: 'GetSalesInvoice' | 'GetPurchaseInvoice';
  tenant: string;
  fromDate: string;
  toDate: string;
  status: number;
  rows: number;
}

interface StoredDocument {
  kind: DevposDocumentKind;
  row: DevposListRow;
  document: DevposDocument;
}

/** Faults a test can switch on; all default off. Rates are fractions of requests (0..1), from a seeded PRNG. */
export interface DevposFaults extends TransportFaults {
  /** Extra latency of a list call per day of its range: long ranges are slow on the real DevPos (and time out). */
  listLatencyPerDayMs: number;
  /** Fraction of single-document calls (GET /api/v3/EInvoice) answered with `einvoiceFailureStatus`, as observed. */
  einvoiceFailureRate: number;
  einvoiceFailureStatus: 405 | 415;
}

export const DEVPOS_PATHS = {
  token: '/connect/token',
  login: '/Account/Login',
  api: '/api/v3',
} as const;

const NO_FAULTS: DevposFaults = {
  latencyMs: 0,
  errorRate: 0,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  script: [],
  listLatencyPerDayMs: 0,
  einvoiceFailureRate: 0,
  einvoiceFailureStatus: 405,
};

/** The ASP.NET Web API body of an unhandled exception: what DevPos answers with its 500s. */
const SERVER_ERROR: SimResponse = { status: 500, body: { message: 'An error has occurred.' } };
const EINVOICE_FAILURES: Record<405 | 415, SimResponse> = {
  405: { status: 405, body: { message: "The requested resource does not support http method 'GET'." } },
  415: {
    status: 415,
    body: { message: "The request entity's media type 'text/plain' is not supported for this resource." },
  },
};

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
  /** Every list call served (after auth and date validation), in order. */
  readonly listCalls: DevposListCall[] = [];
  /** Generated documents per tenant, by EIC: their rows are the very objects in the lists above. */
  private readonly documents = new Map<string, Map<string, StoredDocument>>();
  private einvoiceRandom: () => number;

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
    this.einvoiceRandom = seededRandom(this.seed);
    for (const { tenant, ...range } of options.documents ?? []) this.generate(tenant, range);
  }

  /**
   * Adds the tenant's generated documents of a range (document-generator.ts) to its lists; a document already there
   * (same EIC, e.g. an overlapping range) is kept as it is, with any change a test made. Returns how many were added.
   */
  generate(tenant: string, options: DevposGenerateOptions): number {
    const generator = new DevposDocumentGenerator(tenant, options.seed ?? this.seed);
    const stored = this.documents.get(tenant) ?? new Map<string, StoredDocument>();
    this.documents.set(tenant, stored);
    let added = 0;
    for (const doc of generator.generate(options)) {
      if (stored.has(doc.row.eic)) continue;
      stored.set(doc.row.eic, doc);
      const lists = doc.kind === 'sales' ? this.salesInvoices : this.purchaseInvoices;
      const list = lists.get(tenant) ?? [];
      lists.set(tenant, list);
      list.push(doc.row as unknown as Record<string, unknown>);
      added++;
    }
    return added;
  }

  /** A generated document (row fields and full-document fields), or undefined. */
  document(tenant: string, eic: string): DevposDocument | undefined {
    const stored = this.documents.get(tenant)?.get(eic);
    return stored ? { ...stored.document, ...stored.row } : undefined;
  }

  /** The tenant's generated documents of one kind (or both), in the order their lists hold them. */
  documentsOf(tenant: string, kind?: DevposDocumentKind): DevposDocument[] {
    return [...(this.documents.get(tenant)?.values() ?? [])]
      .filter((d) => !kind || d.kind === kind)
      .map((d) => ({ ...d.document, ...d.row }));
  }

  /**
   * Changes one generated document, in its list row and its full document alike. A new `amount` without its own
   * lines becomes one line at the document's first VAT rate, so the totals still add up.
   */
  setDocument(tenant: string, eic: string, changes: Partial<DevposDocument>): DevposDocument {
    const stored = this.documents.get(tenant)?.get(eic);
    if (!stored) throw new Error(`DevPos simulator: no document ${eic} for tenant ${tenant}`);
    const next: DevposDocument = { ...stored.document, ...stored.row, ...changes };
    if (changes.amount !== undefined && !changes.invoiceProducts) {
      const vatRate = stored.document.invoiceProducts[0]?.vatRate ?? 20;
      const before = Math.round((changes.amount / (1 + vatRate / 100)) * 100) / 100;
      const vatAmount = Math.round((changes.amount - before) * 100) / 100;
      next.invoiceProducts = [
        {
          ...(stored.document.invoiceProducts[0] ?? { Name: 'Mall', Unit: 'copë' }),
          Quantity: 1,
          unitPrice: before,
          vatRate,
          vatAmount,
          totalPriceBeforeVat: before,
          totalPriceAfterVat: changes.amount,
        },
      ];
    }
    if (changes.amount !== undefined || changes.invoiceProducts) {
      Object.assign(next, DevposDocumentGenerator.totals(next.invoiceProducts));
      next.amount = next.totalPrice;
      next.invoicePayments = [
        { paymentMethodType: next.invoicePayments[0]?.paymentMethodType ?? 0, amount: next.amount },
      ];
    }
    for (const key of Object.keys(stored.row) as Array<keyof DevposListRow>)
      (stored.row as unknown as Record<string, unknown>)[key] = next[key];
    stored.document = next;
    return this.document(tenant, eic)!;
  }

  /** Generated documents of the tenant: sales and purchases, or one kind. */
  count(tenant: string, kind?: DevposDocumentKind): number {
    return this.documentsOf(tenant, kind).length;
  }

  /** List calls served, optionally of one endpoint, tenant or exact range. */
  listCallCount(
    filter: Partial<Pick<DevposListCall, 'endpoint' | 'tenant' | 'fromDate' | 'toDate' | 'status'>> = {},
  ): number {
    return this.listCalls.filter((c) =>
      (Object.keys(filter) as Array<keyof typeof filter>).every((k) => filter[k] === undefined || c[k] === filter[k]),
    ).length;
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
    this.einvoiceRandom = seededRandom(this.seed);
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
    if (req.path === DEVPOS_PATHS.login) return this.serve(req);
    return this.injector.intercept(
      req,
      this.faults,
      {
        error: () => SERVER_ERROR,
        rateLimited: () => ({ status: 429, body: { message: 'Too many requests' } }),
      },
      () => this.serve(req),
    );
  }

  private async serve(req: SimRequest): Promise<SimResponse> {
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
  private async api(req: SimRequest): Promise<SimResponse> {
    const header = String(req.headers.authorization ?? '');
    const session = header.startsWith('Bearer ') ? this.sessions.get(header.slice(7)) : undefined;
    const tenant = String(req.headers.tenant ?? '');
    if (!session || session.expiresAt <= this.now() || session.tenant !== tenant) {
      const back = encodeURIComponent(`${req.path}${req.query.size ? `?${req.query}` : ''}`);
      return { status: 302, headers: { location: `${DEVPOS_PATHS.login}?ReturnUrl=${back}` } };
    }
    const list = req.path.match(/^\/api\/v3\/EInvoice\/(GetSalesInvoice|GetPurchaseInvoice)$/);
    if (req.method === 'GET' && list) return this.list(req, list[1] as DevposListCall['endpoint'], tenant);
    if (req.path === `${DEVPOS_PATHS.api}/EInvoice`) return this.einvoice(req, tenant);
    return { status: 404, body: { message: `No route ${req.method} ${req.path}` } };
  }

  /**
   * A list, with the real one's failures: date-only ranges (400 otherwise), `includePdf=true` → 500, and a purchase
   * range without documents → 500 (not an empty array, as the sales list answers). A row's day is the local date of
   * its `invoiceCreatedDate` (it carries Tirane's offset, so its first ten characters are that date).
   */
  private async list(req: SimRequest, endpoint: DevposListCall['endpoint'], tenant: string): Promise<SimResponse> {
    const from = req.query.get('fromDate') ?? '';
    const to = req.query.get('toDate') ?? '';
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
    if (!dateOnly.test(from) || !dateOnly.test(to))
      return { status: 400, body: { message: 'fromDate and toDate must be dates (YYYY-MM-DD)' } };
    const days = Math.max(1, Math.round((Date.parse(to) - Date.parse(from)) / 86400000) + 1);
    if (this.faults.listLatencyPerDayMs > 0)
      await new Promise((r) => setTimeout(r, this.faults.listLatencyPerDayMs * days));
    const source = endpoint === 'GetSalesInvoice' ? this.salesInvoices : this.purchaseInvoices;
    const rows = (source.get(tenant) ?? []).filter((row) => {
      const created = row.invoiceCreatedDate ?? row.dateTimeCreated;
      const day = typeof created === 'string' ? created.slice(0, 10) : '';
      return !day || (day >= from && day <= to);
    });
    let out: SimResponse = { status: 200, body: rows };
    if (req.query.get('includePdf')?.toLowerCase() === 'true') out = SERVER_ERROR;
    else if (endpoint === 'GetPurchaseInvoice' && rows.length === 0) out = SERVER_ERROR;
    this.listCalls.push({ endpoint, tenant, fromDate: from, toDate: to, status: out.status, rows: rows.length });
    return out;
  }

  /**
   * The single document by EIC (`GET /api/v3/EInvoice?EIC=…`): the full document with its PDF as base64. The real
   * one is unreliable (405/415 seen): the fault switch answers those to a fraction of calls.
   */
  private einvoice(req: SimRequest, tenant: string): SimResponse {
    if (req.method !== 'GET') return EINVOICE_FAILURES[405];
    if (this.faults.einvoiceFailureRate > 0 && this.einvoiceRandom() < this.faults.einvoiceFailureRate)
      return EINVOICE_FAILURES[this.faults.einvoiceFailureStatus];
    const eic = req.query.get('EIC') ?? req.query.get('eic') ?? '';
    if (!eic) return { status: 400, body: { message: 'The EIC field is required.' } };
    const document = this.document(tenant, eic);
    if (!document) return { status: 404, body: { message: `No document with EIC ${eic}` } };
    return { status: 200, body: { ...document, pdf: documentPdf(document).toString('base64') } };
  }

  /**
   * Test and demo controls: GET state, POST faults, POST advance ({seconds}), POST expire-tokens, POST documents
   * ({tenant, from, to, salesPerDay, purchasesPerDay, seed?}: generate), POST document ({tenant, eic, changes}).
   */
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
            listCalls: this.listCalls,
            documents: Object.fromEntries([...this.documents].map(([tenant, docs]) => [tenant, docs.size])),
          },
        };
      case 'POST /__simulator/faults':
        this.setFaults(body);
        return { status: 200, body: this.faults };
      case 'POST /__simulator/advance':
        this.advance(Number(body.seconds ?? 0));
        return { status: 200, body: { now: new Date(this.now()).toISOString() } };
      case 'POST /__simulator/documents': {
        const { tenant, ...range } = body as unknown as { tenant: string } & DevposGenerateOptions;
        try {
          return {
            status: 200,
            body: { added: this.generate(String(tenant), range), count: this.count(String(tenant)) },
          };
        } catch (err) {
          return { status: 400, body: { message: (err as Error).message } };
        }
      }
      case 'POST /__simulator/document': {
        const { tenant, eic, changes } = body as { tenant?: string; eic?: string; changes?: Partial<DevposDocument> };
        try {
          return { status: 200, body: this.setDocument(String(tenant), String(eic), changes ?? {}) };
        } catch (err) {
          return { status: 404, body: { message: (err as Error).message } };
        }
      }
      case 'POST /__simulator/expire-tokens':
        this.expireTokens();
        return { status: 204 };
      default:
        return { status: 404, body: { message: 'unknown simulator control' } };
    }
  }
}
