import { randomBytes, randomUUID } from 'node:crypto';
import { TransportFaultInjector, TransportFaults } from '../transport-faults';
import { SimRequest, SimResponse, SimulatorHttpServer } from '../http-server';
import { QboCounters, QboRealm } from './qbo-api';
import { QboLimits, scaledLimits } from './qbo-limits';
import { QBO_PURCHASES, QBO_SALES, QboEntity, QboEntityName, QboFault, entityName, text } from './qbo-model';

export interface QuickBooksSimulatorOptions {
  seed?: number;
  clientId?: string;
  clientSecret?: string;
  /** The one redirect URI registered for the app; authorize and the code exchange must name it exactly. */
  redirectUri?: string;
  /** The company the simulated user picks when approving (Intuit's realmId). */
  realmId?: string;
  companyName?: string;
  /** Wall clock under the simulated clock; `advance()` moves the simulated time past it. */
  now?: () => number;
  accessTokenTtlSeconds?: number;
  authCodeTtlSeconds?: number;
  /** Multiplies Intuit's per-realm limits (500 requests/min, 10 concurrent, 40 batch requests/min); the bench uses 10. */
  limitsScale?: number;
  /** Exact per-realm limits, overriding the scaled ones (tests use small numbers). */
  limits?: Partial<QboLimits>;
  /** The companies' home currency (a transaction in another currency needs a party in that currency). */
  homeCurrency?: string;
}

/** Faults a test can switch on; all default off. Rates are fractions of requests (0..1), from a seeded PRNG. */
export interface QuickBooksFaults extends TransportFaults {
  /** Which requests the faults hit: the accounting API, the token/revoke endpoints, or both. */
  target: 'all' | 'api' | 'oauth';
  /** Only requests of this method (`GET`: reads and queries, while writes pass); null: every method. */
  method: 'GET' | 'POST' | null;
}

export const QBO_PATHS = {
  authorize: '/connect/oauth2',
  token: '/oauth2/v1/tokens/bearer',
  revoke: '/v2/oauth2/tokens/revoke',
  api: '/v3/company',
} as const;

const SCOPE = 'com.intuit.quickbooks.accounting';
const DAY = 86400;
/** Rolling refresh-token lifetime (intuit-oauth README shows 8726400 s, 101 days) and the 5-year hard limit. */
const REFRESH_TTL = 101 * DAY;
const REFRESH_HARD_TTL = 5 * 365 * DAY;
/** A superseded refresh token keeps working this long after its successor was issued. */
const ROTATION_GRACE = DAY;
const NO_FAULTS: QuickBooksFaults = {
  latencyMs: 0,
  errorRate: 0,
  rateLimitRate: 0,
  retryAfterSeconds: 60,
  script: [],
  target: 'all',
  method: null,
};

interface Connection {
  id: number;
  realmId: string;
  startedAt: number;
  refreshes: number;
  revoked: boolean;
}

interface RefreshToken {
  value: string;
  connection: Connection;
  expiresAt: number;
  supersededAt: number | null;
}

interface AccessToken {
  connection: Connection;
  expiresAt: number;
}

interface AuthCode {
  realmId: string;
  redirectUri: string;
  expiresAt: number;
  used: boolean;
}

function oauthError(status: number, error: string, description?: string): SimResponse {
  return { status, body: description ? { error_description: description, error } : { error } };
}

/** The lowercase gateway JSON Intuit answers an expired or invalid access token with (python-quickbooks #250). */
function gatewayFault(status: 401 | 403, nowMs: number): SimResponse {
  const [code, type, name] =
    status === 401
      ? ['3200', 'AUTHENTICATION', 'AuthenticationFailed']
      : ['3100', 'SERVICE', 'ApplicationAuthorizationFailed'];
  return {
    status,
    body: {
      warnings: null,
      intuitObject: null,
      fault: {
        error: [
          {
            message: `message=${name}; errorCode=00${code}; statusCode=${status}`,
            detail: status === 401 ? 'Token expired or invalid' : 'Not authorized for this company',
            code,
            element: null,
          },
        ],
        type,
      },
      report: null,
      queryResponse: null,
      batchItemResponse: [],
      attachableResponse: [],
      syncErrorResponse: null,
      requestId: null,
      time: nowMs,
      status: null,
      cdcresponse: [],
    },
  };
}

function fault(status: number, type: string, message: string, detail: string, code: string): SimResponse {
  return {
    status,
    body: { Fault: { Error: [{ Message: message, Detail: detail, code }], type }, time: new Date().toISOString() },
  };
}

function htmlError(message: string): SimResponse {
  return {
    status: 400,
    text: `<!DOCTYPE html><html><head><title>Intuit</title></head><body><h1>Error</h1><p>${message}</p></body></html>`,
    headers: { 'content-type': 'text/html; charset=utf-8' },
  };
}

/**
 * QuickBooks Online OAuth2 and the start of the Accounting API v3, as ../shared/reference/upstream-apis.md section 2
 * describes them: an authorize page that approves at once, the token endpoint (Basic client auth, form encoding,
 * one-use codes, 3600 s access tokens, refresh tokens that rotate and stay valid 24 h after their successor), revoke,
 * companyinfo behind a bearer token, `intuit_tid` on every answer. Time is a simulated clock tests can advance.
 */
export class QuickBooksSimulator {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  readonly realmId: string;
  faults: QuickBooksFaults = { ...NO_FAULTS };
  /** Requests served, by "METHOD /path-pattern", for tests to assert on. */
  readonly requests = new Map<string, number>();

  private readonly seed: number;
  private readonly companyName: string;
  private readonly wallClock: () => number;
  private readonly accessTtl: number;
  private readonly codeTtl: number;
  private offsetMs = 0;
  private nextConnection = 1;
  private readonly codes = new Map<string, AuthCode>();
  private readonly refreshTokens = new Map<string, RefreshToken>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly connections: Connection[] = [];
  private readonly injector: TransportFaultInjector;
  private readonly limits: QboLimits;
  private readonly homeCurrency: string;
  private readonly realms = new Map<string, QboRealm>();
  /** `refuseCreatesMatching`: creates of transactions whose DocNumber or PrivateNote matches are refused. */
  private refusedCreates: RegExp | null = null;
  private server: SimulatorHttpServer | null = null;
  private baseUrl = '';

  constructor(options: QuickBooksSimulatorOptions = {}) {
    this.seed = options.seed ?? 42;
    this.clientId = options.clientId ?? 'sim-qbo-client-0001';
    this.clientSecret = options.clientSecret ?? 'sim-qbo-secret-0001';
    this.redirectUri = options.redirectUri ?? 'http://localhost:3000/accounting/callback';
    this.realmId = options.realmId ?? '9130350000000001';
    this.companyName = options.companyName ?? 'Simulated Company AL';
    this.wallClock = options.now ?? Date.now;
    this.accessTtl = options.accessTokenTtlSeconds ?? 3600;
    this.codeTtl = options.authCodeTtlSeconds ?? 300;
    this.injector = new TransportFaultInjector(this.seed);
    this.limits = scaledLimits(options.limitsScale ?? 1, options.limits);
    this.homeCurrency = options.homeCurrency ?? 'ALL';
  }

  async start(port = 0): Promise<string> {
    this.server = new SimulatorHttpServer((req) => this.handle(req));
    this.baseUrl = await this.server.listen(port);
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  /** Where a client points intuit-oauth / its own client: the real hosts are all served by this one server. */
  get urls() {
    return {
      authorize: `${this.baseUrl}${QBO_PATHS.authorize}`,
      token: `${this.baseUrl}${QBO_PATHS.token}`,
      revoke: `${this.baseUrl}${QBO_PATHS.revoke}`,
      api: `${this.baseUrl}${QBO_PATHS.api}`,
    };
  }

  /** Simulated time in ms. */
  now(): number {
    return this.wallClock() + this.offsetMs;
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }

  setFaults(faults: Partial<QuickBooksFaults>): void {
    this.faults = { ...this.faults, ...faults };
    this.injector.reset();
  }

  clearFaults(): void {
    this.setFaults(NO_FAULTS);
  }

  /**
   * Changes the per-realm limits now, for realms already in use too (the limiter reads them at every request): a test
   * makes them tight for a throttle storm and loosens them again. `windowMs` shortens the per-minute window.
   */
  setLimits(limits: Partial<QboLimits>): QboLimits {
    Object.assign(this.limits, limits);
    return { ...this.limits };
  }

  /**
   * Refuses, in every realm, each create of a transaction (Invoice, CreditMemo, Bill, VendorCredit; alone or as a batch
   * item) whose DocNumber or PrivateNote matches `pattern`, with a 6000 business ValidationFault whose `element` names
   * the field that matched: QuickBooks refusing one document while the others of the batch are created. Updates and
   * other entities pass. `null` lifts it. Refused creates are not counted (counters count successes).
   */
  refuseCreatesMatching(pattern: RegExp | null): void {
    this.refusedCreates = pattern;
  }

  private refusalOf(entity: QboEntityName, body: unknown): QboFault | null {
    const pattern = this.refusedCreates;
    if (!pattern || !(QBO_SALES.includes(entity) || QBO_PURCHASES.includes(entity))) return null;
    if (!body || typeof body !== 'object') return null;
    const fields = body as Record<string, unknown>;
    for (const element of ['DocNumber', 'PrivateNote'])
      if (typeof fields[element] === 'string' && pattern.test(fields[element]))
        return QboFault.business(
          `The ${entity} was refused: its ${element} "${fields[element]}" matches the simulator's refusal switch.`,
          element,
        );
    return null;
  }

  /** Successful refresh_token grants: for one realm, or all realms. */
  refreshCount(realmId?: string): number {
    return this.connections.filter((c) => !realmId || c.realmId === realmId).reduce((n, c) => n + c.refreshes, 0);
  }

  /** Successful refresh_token grants per connection (one authorization and the chain of refresh tokens after it). */
  refreshCounts(): Array<{ connection: number; realmId: string; refreshes: number; revoked: boolean }> {
    return this.connections.map((c) => ({
      connection: c.id,
      realmId: c.realmId,
      refreshes: c.refreshes,
      revoked: c.revoked,
    }));
  }

  /**
   * A completed authorization without the browser: a new connection for `realmId` and its first refresh token, as the
   * code exchange would give it. What an operator copies into QBO_REFRESH_TOKEN; the embedded mode seeds company 1 so.
   */
  connect(realmId = this.realmId): { realmId: string; refreshToken: string } {
    const connection: Connection = {
      id: this.nextConnection++,
      realmId,
      startedAt: this.now(),
      refreshes: 0,
      revoked: false,
    };
    this.connections.push(connection);
    const issued = this.issue(connection, false).body as { refresh_token: string };
    return { realmId, refreshToken: issued.refresh_token };
  }

  /** Makes every issued access token (of one realm, or all) expired now, as if an hour had passed. */
  expireAccessTokens(realmId?: string): void {
    const past = this.now() - 1000;
    for (const t of this.accessTokens.values()) if (!realmId || t.connection.realmId === realmId) t.expiresAt = past;
  }

  /** Revokes a connection's tokens on Intuit's side (the user disconnected the app), for reauth tests. */
  revokeRealm(realmId: string): void {
    for (const c of this.connections) if (c.realmId === realmId) this.revokeConnection(c);
  }

  requestCount(key: string): number {
    return this.requests.get(key) ?? 0;
  }

  async handle(req: SimRequest): Promise<SimResponse> {
    const out = await this.route(req);
    return { ...out, headers: { ...out.headers, intuit_tid: randomUUID() } };
  }

  private async route(req: SimRequest): Promise<SimResponse> {
    if (req.path.startsWith('/__simulator')) return this.admin(req);
    const route = this.routeOf(req);
    this.requests.set(route, (this.requests.get(route) ?? 0) + 1);

    const isApi = req.path.startsWith(`${QBO_PATHS.api}/`);
    const isOauth = req.path === QBO_PATHS.token || req.path === QBO_PATHS.revoke;
    if (isOauth && this.faults.target !== 'api' && this.faultsHit(req))
      return this.withFaults(req, () => this.serve(req, isApi));
    return this.serve(req, isApi);
  }

  private serve(req: SimRequest, isApi: boolean): Promise<SimResponse> | SimResponse {
    if (req.method === 'GET' && req.path === QBO_PATHS.authorize) return this.authorize(req.query);
    if (req.method === 'POST' && req.path === QBO_PATHS.token) return this.token(req);
    if (req.method === 'POST' && req.path === QBO_PATHS.revoke) return this.revoke(req);
    if (isApi) return this.api(req);
    return { status: 404, body: { error: 'not_found' } };
  }

  private faultsHit(req: SimRequest): boolean {
    return this.faults.method === null || this.faults.method === req.method;
  }

  /**
   * The switched-on transport faults around one request: latency, Intuit's 503 or throttle fault instead of the
   * answer, a scripted hang or truncation (transport-faults.ts).
   */
  private withFaults(req: SimRequest, serve: () => Promise<SimResponse> | SimResponse): Promise<SimResponse> {
    return this.injector.intercept(
      req,
      this.faults,
      {
        error: () =>
          fault(503, 'SystemFault', 'Service Unavailable', 'The service is temporarily unavailable.', '10000'),
        rateLimited: () =>
          fault(
            429,
            'ValidationFault',
            'ThrottleExceeded',
            'You have exceeded the number of allowed requests.',
            '003001',
          ),
      },
      serve,
    );
  }

  private routeOf(req: SimRequest): string {
    return `${req.method} ${req.path
      .replace(/^\/v3\/company\/[^/]+/, '/v3/company/:realmId')
      .replace(/companyinfo\/[^/]+$/, 'companyinfo/:realmId')
      .replace(/^(\/v3\/company\/:realmId\/(?!companyinfo\/)[^/]+)\/[^/]+$/, '$1/:id')}`;
  }

  /** Intuit shows an error page (no redirect) for an unknown client or an unregistered redirect URI. */
  private authorize(q: URLSearchParams): SimResponse {
    if (q.get('client_id') !== this.clientId) return htmlError('Invalid client_id: the app is not known.');
    const redirect = q.get('redirect_uri') ?? '';
    if (redirect !== this.redirectUri)
      return htmlError(
        'The redirect_uri query parameter value is invalid. Make sure it is listed in the Redirect URIs section of the app.',
      );
    const back = new URL(redirect);
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    if (q.get('response_type') !== 'code') {
      back.searchParams.set('error', 'unsupported_response_type');
      return { status: 302, headers: { location: back.toString() } };
    }
    const scopes = (q.get('scope') ?? '').split(/[ +]/).filter(Boolean);
    if (!scopes.includes(SCOPE)) {
      back.searchParams.set('error', 'invalid_scope');
      return { status: 302, headers: { location: back.toString() } };
    }
    const code = `AB${randomBytes(24).toString('hex')}`;
    this.codes.set(code, {
      realmId: this.realmId,
      redirectUri: redirect,
      expiresAt: this.now() + this.codeTtl * 1000,
      used: false,
    });
    back.searchParams.set('code', code);
    back.searchParams.set('realmId', this.realmId);
    return { status: 302, headers: { location: back.toString() } };
  }

  private clientAuthenticated(req: SimRequest): boolean {
    const header = String(req.headers.authorization ?? '');
    if (!header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 && decoded.slice(0, colon) === this.clientId && decoded.slice(colon + 1) === this.clientSecret;
  }

  private token(req: SimRequest): SimResponse {
    if (!this.clientAuthenticated(req)) return oauthError(401, 'invalid_client');
    if (
      !String(req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded') ||
      typeof req.body !== 'string'
    )
      return oauthError(400, 'invalid_request');
    const form = new URLSearchParams(req.body);
    const hard = String(req.headers['x-include-refresh-token-hard-expires-in'] ?? '') === 'true';
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      if (!code || code.used || code.expiresAt <= this.now() || form.get('redirect_uri') !== code.redirectUri)
        return oauthError(400, 'invalid_grant');
      code.used = true;
      const connection: Connection = {
        id: this.nextConnection++,
        realmId: code.realmId,
        startedAt: this.now(),
        refreshes: 0,
        revoked: false,
      };
      this.connections.push(connection);
      return this.issue(connection, hard);
    }
    if (grant === 'refresh_token') {
      const token = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!token || !this.refreshValid(token)) return oauthError(400, 'invalid_grant');
      token.supersededAt ??= this.now();
      token.connection.refreshes++;
      return this.issue(token.connection, hard);
    }
    return oauthError(400, 'unsupported_grant_type');
  }

  private refreshValid(token: RefreshToken): boolean {
    const now = this.now();
    if (token.connection.revoked || token.expiresAt <= now) return false;
    if (token.connection.startedAt + REFRESH_HARD_TTL * 1000 <= now) return false;
    return token.supersededAt === null || token.supersededAt + ROTATION_GRACE * 1000 > now;
  }

  private issue(connection: Connection, hard: boolean): SimResponse {
    const now = this.now();
    const access = `eyJ${randomBytes(32).toString('base64url')}`;
    const refresh = `AB11${randomBytes(24).toString('hex')}`;
    this.accessTokens.set(access, { connection, expiresAt: now + this.accessTtl * 1000 });
    this.refreshTokens.set(refresh, {
      value: refresh,
      connection,
      expiresAt: now + REFRESH_TTL * 1000,
      supersededAt: null,
    });
    const hardLeft = Math.floor((connection.startedAt + REFRESH_HARD_TTL * 1000 - now) / 1000);
    return {
      status: 200,
      headers: { 'cache-control': 'no-store' },
      body: {
        token_type: 'bearer',
        access_token: access,
        expires_in: this.accessTtl,
        refresh_token: refresh,
        x_refresh_token_expires_in: Math.min(REFRESH_TTL, hardLeft),
        ...(hard ? { x_refresh_token_hard_expires_in: hardLeft } : {}),
      },
    };
  }

  /** Revoking a refresh token (or an access token) ends its whole connection: every token issued along it. */
  private revoke(req: SimRequest): SimResponse {
    if (!this.clientAuthenticated(req)) return oauthError(401, 'invalid_client');
    const given = ((req.body ?? {}) as Record<string, unknown>).token;
    const token = typeof given === 'string' ? given : '';
    if (!token) return oauthError(400, 'invalid_request');
    const connection = this.refreshTokens.get(token)?.connection ?? this.accessTokens.get(token)?.connection;
    if (connection) this.revokeConnection(connection);
    return { status: 200 };
  }

  private revokeConnection(connection: Connection): void {
    connection.revoked = true;
    for (const [value, t] of this.accessTokens) if (t.connection === connection) this.accessTokens.delete(value);
  }

  /**
   * The Accounting API: the bearer token and its realm first, then the realm's limits (a refused request is a 429 with
   * the ThrottleExceeded fault and no Retry-After, as Intuit sends), then the switched-on faults (their latency is
   * time in flight), then the route itself.
   */
  private async api(req: SimRequest): Promise<SimResponse> {
    const header = String(req.headers.authorization ?? '');
    const token = header.startsWith('Bearer ') ? this.accessTokens.get(header.slice(7)) : undefined;
    if (!token || token.connection.revoked || token.expiresAt <= this.now()) return gatewayFault(401, this.now());
    const match = req.path.match(/^\/v3\/company\/([^/]+)\/(.*)$/);
    const realm = match?.[1] ?? '';
    if (realm !== token.connection.realmId) return gatewayFault(403, this.now());
    const rest = match?.[2] ?? '';
    const state = this.realm(realm);
    const admission = state.limiter.admit(req.method === 'POST' && rest.toLowerCase() === 'batch');
    if ('refused' in admission) {
      state.counters.throttled++;
      return state.fault(
        new QboFault(
          '003001',
          'ThrottleExceeded',
          'You have exceeded the number of allowed requests.',
          '',
          'ValidationFault',
          429,
        ),
      );
    }
    state.counters.requests++;
    try {
      if (this.faults.target !== 'oauth' && this.faultsHit(req))
        return await this.withFaults(req, () => this.realmRoute(req, realm, rest, state));
      return this.realmRoute(req, realm, rest, state);
    } finally {
      admission.release();
    }
  }

  private realmRoute(req: SimRequest, realm: string, rest: string, state: QboRealm): SimResponse {
    const info = rest.match(/^companyinfo\/([^/]+)$/i);
    if (req.method === 'GET' && info) {
      if (info[1] !== realm)
        return fault(
          400,
          'ValidationFault',
          'Object Not Found',
          'Object Not Found : Something you are trying to use has been made inactive.',
          '610',
        );
      return {
        status: 200,
        body: {
          CompanyInfo: {
            CompanyName: this.companyName,
            LegalName: this.companyName,
            Country: 'AL',
            Id: realm,
            SyncToken: '0',
            domain: 'QBO',
            sparse: false,
            MetaData: { CreateTime: '2024-01-01T00:00:00-08:00', LastUpdatedTime: '2024-01-01T00:00:00-08:00' },
          },
          time: new Date(this.now()).toISOString(),
        },
      };
    }
    return state.handle(req, rest);
  }

  /** A realm's API state, made (with its seeded lists) on first use. */
  private realm(realmId: string): QboRealm {
    let found = this.realms.get(realmId);
    if (!found) {
      found = new QboRealm(realmId, () => this.now(), this.limits, this.homeCurrency);
      found.refuseCreate = (entity, body) => this.refusalOf(entity, body);
      this.realms.set(realmId, found);
    }
    return found;
  }

  /** Every entity of a realm, by type (seeded lists included), as the API would answer them. */
  documents(realmId = this.realmId): Record<QboEntityName, QboEntity[]> {
    return this.realm(realmId).documents();
  }

  /** One type's entities in a realm. */
  entities(type: QboEntityName, realmId = this.realmId): QboEntity[] {
    return this.realm(realmId).company.list(type);
  }

  entity(type: QboEntityName, id: string, realmId = this.realmId): QboEntity | undefined {
    const company = this.realm(realmId).company;
    return company.has(type, id) ? company.get(type, id) : undefined;
  }

  /** Out of band, as a person in QBO: stores the row as given (Id, SyncToken "0" and MetaData filled if missing). */
  putEntity(type: QboEntityName, fields: Record<string, unknown>, realmId = this.realmId): QboEntity {
    return this.realm(realmId).company.put(type, fields);
  }

  /** Out of band: the entity is gone from QBO (a read answers 610). False when there was none. */
  deleteEntity(type: QboEntityName, id: string, realmId = this.realmId): boolean {
    return this.realm(realmId).company.remove(type, id);
  }

  /** Out of band: someone edited it in QBO, so the SyncToken a client holds is now stale (5010). */
  bumpSyncToken(type: QboEntityName, id: string, realmId = this.realmId): QboEntity {
    return this.realm(realmId).company.touch(type, id);
  }

  /**
   * Out of band: QuickBooks refuses every create or update of a document (invoice, credit memo, bill, vendor credit)
   * numbered `docNumber`, with a ValidationFault (by default 6140, Duplicate Document Number, on `DocNumber`: a number
   * the company already used), in a batch item's Fault or a request's. Until `acceptDocumentNumber`.
   */
  refuseDocumentNumber(
    docNumber: string,
    fault: { code?: string; message?: string; detail?: string; element?: string } = {},
    realmId = this.realmId,
  ): void {
    this.realm(realmId).documentRefusals.set(
      docNumber,
      new QboFault(
        fault.code ?? '6140',
        fault.message ?? 'Duplicate Document Number Error',
        fault.detail ??
          `Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber=${docNumber}`,
        fault.element ?? 'DocNumber',
      ),
    );
  }

  /** Lifts `refuseDocumentNumber`: the cause is gone. False when the number was not refused. */
  acceptDocumentNumber(docNumber: string, realmId = this.realmId): boolean {
    return this.realm(realmId).documentRefusals.delete(docNumber);
  }

  /** What a realm's API did: creates/updates/deletes per entity, queries, batches, uploads, 429s, replays. */
  apiCounters(realmId = this.realmId): QboCounters {
    return structuredClone(this.realm(realmId).counters);
  }

  /** The content of an uploaded attachment (as the upload carried it), by Attachable Id. */
  attachmentContent(id: string, realmId = this.realmId): string | undefined {
    return this.realm(realmId).files.get(id);
  }

  /** `{realm?, type, entity}` puts a row; `{realm?, type, id}` deletes one or bumps its SyncToken. */
  private adminEntity(path: string, body: Record<string, unknown>): SimResponse {
    const realmId = typeof body.realm === 'string' ? body.realm : this.realmId;
    const type = entityName(text(body.type));
    if (!type) return { status: 400, body: { error: `unknown entity type ${text(body.type)}` } };
    const id = text(body.id);
    if (path.endsWith('/delete'))
      return this.deleteEntity(type, id, realmId)
        ? { status: 204 }
        : { status: 404, body: { error: 'no such entity' } };
    if (path.endsWith('/bump')) {
      if (!this.entity(type, id, realmId)) return { status: 404, body: { error: 'no such entity' } };
      return { status: 200, body: { [type]: this.bumpSyncToken(type, id, realmId) } };
    }
    const fields = body.entity && typeof body.entity === 'object' ? (body.entity as Record<string, unknown>) : {};
    return { status: 200, body: { [type]: this.putEntity(type, fields, realmId) } };
  }

  /** `{realm?, docNumber, code?, message?, detail?, element?}` refuses a document number; `/delete` lifts it. */
  private adminDocumentRefusal(path: string, body: Record<string, unknown>): SimResponse {
    const realmId = typeof body.realm === 'string' ? body.realm : this.realmId;
    const docNumber = text(body.docNumber);
    if (!docNumber) return { status: 400, body: { error: 'docNumber is required' } };
    if (path.endsWith('/delete'))
      return this.acceptDocumentNumber(docNumber, realmId)
        ? { status: 204 }
        : { status: 404, body: { error: `document number ${docNumber} is not refused` } };
    const given = (k: string) => (typeof body[k] === 'string' ? body[k] : undefined);
    this.refuseDocumentNumber(
      docNumber,
      { code: given('code'), message: given('message'), detail: given('detail'), element: given('element') },
      realmId,
    );
    return { status: 200, body: { realm: realmId, refused: [...this.realm(realmId).documentRefusals.keys()] } };
  }

  /**
   * Test and demo controls: GET state, POST faults, POST advance ({seconds}), POST limits ({requestsPerMinute?,
   * concurrent?, batchesPerMinute?, windowMs?}), POST expire-tokens ({realmId?}),
   * GET documents (?realm=&type=), GET counters (?realm=), POST entities ({realm?, type, entity}),
   * POST entities/delete and entities/bump ({realm?, type, id}), POST document-refusals and document-refusals/delete
   * ({realm?, docNumber, …}).
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
            connections: this.refreshCounts(),
            requests: Object.fromEntries(this.requests),
            limits: this.limits,
            realms: Object.fromEntries([...this.realms].map(([id, r]) => [id, r.counters])),
          },
        };
      case 'GET /__simulator/documents': {
        const realmId = req.query.get('realm') ?? this.realmId;
        const type = req.query.get('type');
        const all = this.documents(realmId);
        if (type === null) return { status: 200, body: { realm: realmId, documents: all } };
        const name = entityName(type);
        if (!name) return { status: 400, body: { error: `unknown entity type ${type}` } };
        return { status: 200, body: { realm: realmId, documents: { [name]: all[name] } } };
      }
      case 'GET /__simulator/counters':
        return { status: 200, body: this.apiCounters(req.query.get('realm') ?? this.realmId) };
      case 'POST /__simulator/entities':
      case 'POST /__simulator/entities/delete':
      case 'POST /__simulator/entities/bump':
        return this.adminEntity(req.path, body);
      case 'POST /__simulator/document-refusals':
      case 'POST /__simulator/document-refusals/delete':
        return this.adminDocumentRefusal(req.path, body);
      case 'POST /__simulator/faults':
        this.setFaults(body);
        return { status: 200, body: this.faults };
      case 'POST /__simulator/advance':
        this.advance(Number(body.seconds ?? 0));
        return { status: 200, body: { now: new Date(this.now()).toISOString() } };
      case 'POST /__simulator/limits': {
        const given: Partial<QboLimits> = {};
        for (const key of ['requestsPerMinute', 'concurrent', 'batchesPerMinute', 'windowMs'] as const)
          if (body[key] !== undefined) given[key] = Number(body[key]);
        if (Object.values(given).some((v) => !Number.isInteger(v) || v < 1))
          return { status: 400, body: { error: 'limits are whole numbers ≥ 1' } };
        return { status: 200, body: this.setLimits(given) };
      }
      case 'POST /__simulator/expire-tokens':
        this.expireAccessTokens(typeof body.realmId === 'string' ? body.realmId : undefined);
        return { status: 204 };
      default:
        return { status: 404, body: { error: 'unknown simulator control' } };
    }
  }
}
