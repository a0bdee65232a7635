import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { checkFaults, TransportFaultInjector, TransportFaults } from '../transport-faults';
import { SimRequest, SimResponse, SimulatorHttpServer } from '../http-server';
import { generateClient, RobawsClient } from './client-generator';

export interface RobawsSimulatorOptions {
  seed?: number;
  clients?: number;
  apiKey?: string;
  apiSecret?: string;
  /** The token bucket (the real one: 15 tokens/s, burst 20); `scale` multiplies both, `enabled: false` switches it off. */
  rateLimit?: Partial<RobawsRateLimit>;
  /** Waits before the 2nd, 3rd, … delivery attempt of a webhook; its length is the number of retries. */
  webhookRetryDelaysMs?: number[];
  /** Per-attempt timeout of a webhook delivery (the real one: 2 s connect, 2 s read). */
  webhookTimeoutMs?: number;
  now?: () => number;
}

export interface RobawsRateLimit {
  enabled: boolean;
  ratePerSecond: number;
  burst: number;
  scale: number;
}

export type RobawsFaults = TransportFaults;

export const ROBAWS_WEBHOOK_EVENTS = ['client.created', 'client.updated'] as const;
export type RobawsWebhookEvent = (typeof ROBAWS_WEBHOOK_EVENTS)[number];

export interface RobawsWebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  secret: string;
  createdAt: string;
}

export interface RobawsDeliveryAttempt {
  at: string;
  signature: string;
  /** The HTTP status, or null when the request failed (refused, timed out). */
  status: number | null;
  error?: string;
}

export interface RobawsDelivery {
  id: string;
  endpointId: string;
  url: string;
  event: RobawsWebhookEvent;
  clientId: number;
  body: string;
  attempts: RobawsDeliveryAttempt[];
  delivered: boolean;
}

/** One PATCH as received, for tests that check a client sends only the changed fields. */
export interface RobawsPatch {
  clientId: number;
  contentType: string;
  body: unknown;
  status: number;
}

export interface RobawsCounters {
  requests: number;
  patches: number;
  rateLimited: number;
}

const API = '/api/v2';
const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 10;
const NO_FAULTS: RobawsFaults = { latencyMs: 0, errorRate: 0, rateLimitRate: 0, retryAfterSeconds: 1, script: [] };
const REAL_LIMIT: RobawsRateLimit = { enabled: true, ratePerSecond: 15, burst: 20, scale: 1 };
const IMMUTABLE = new Set(['id', 'createdAt', 'updatedAt']);
const SORTABLE = new Set(['id', 'name', 'email', 'createdAt', 'updatedAt']);
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386: objects merge recursively, `null` removes a member, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** The RFC 6902 operations a client PATCH needs (add, replace, remove); anything else is refused. */
function jsonPatch(target: Record<string, unknown>, ops: unknown): Record<string, unknown> | string {
  if (!Array.isArray(ops)) return 'A JSON Patch document must be an array of operations';
  const out = structuredClone(target);
  for (const op of ops) {
    if (!isObject(op) || typeof op.path !== 'string' || !op.path.startsWith('/')) return 'Invalid JSON Patch operation';
    const keys = op.path
      .slice(1)
      .split('/')
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    let parent: Record<string, unknown> = out;
    for (const key of keys.slice(0, -1)) {
      if (!isObject(parent[key])) parent[key] = {};
      parent = parent[key] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    if (op.op === 'remove') delete parent[last];
    else if (op.op === 'add' || op.op === 'replace') parent[last] = op.value;
    else return `Unsupported JSON Patch operation: ${String(op.op)}`;
  }
  return out;
}

/**
 * Robaws API v2 for clients (../shared/reference/upstream-apis.md, section 3): Basic auth with the API key and secret,
 * 0-based `page`/`size` lists answering `{items, page, size, totalItems, totalPages}`, `updatedFrom`, PATCH with
 * merge-patch (or JSON Patch), Spring Boot error bodies, the 15/s token bucket with `x-ratelimit-remaining`, and
 * webhook endpoints whose deliveries are signed `Robaws-Signature: t=…,v1=…` and retried while they fail.
 */
export class RobawsSimulator {
  readonly apiKey: string;
  readonly apiSecret: string;
  faults: RobawsFaults = { ...NO_FAULTS };
  rateLimit: RobawsRateLimit;
  /** Requests served, by "METHOD /path-pattern". */
  readonly requests = new Map<string, number>();
  readonly counters: RobawsCounters = { requests: 0, patches: 0, rateLimited: 0 };
  readonly patches: RobawsPatch[] = [];
  readonly deliveries: RobawsDelivery[] = [];

  private readonly seed: number;
  private readonly now: () => number;
  private readonly store = new Map<number, RobawsClient>();
  private readonly endpoints = new Map<string, RobawsWebhookEndpoint>();
  private readonly injector: TransportFaultInjector;
  private readonly retryDelays: number[];
  private readonly webhookTimeoutMs: number;
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private server: SimulatorHttpServer | null = null;
  private nextId: number;
  private tokens: number;
  private refilledAt: number;
  private lastUpdate = 0;
  private stopped = false;

  constructor(options: RobawsSimulatorOptions = {}) {
    this.seed = options.seed ?? 42;
    this.apiKey = options.apiKey ?? 'sim-robaws-key-0001';
    this.apiSecret = options.apiSecret ?? 'sim-robaws-secret-0001';
    this.now = options.now ?? Date.now;
    this.rateLimit = { ...REAL_LIMIT, ...options.rateLimit };
    this.retryDelays = options.webhookRetryDelaysMs ?? [200, 1000, 5000];
    this.webhookTimeoutMs = options.webhookTimeoutMs ?? 2000;
    this.injector = new TransportFaultInjector(this.seed);
    const count = options.clients ?? 3000;
    // Ids start where a real account's would, well away from 1, so nobody mistakes a row number for an id.
    for (let i = 0; i < count; i++) {
      const client = generateClient(this.seed, 1001 + i);
      this.store.set(client.id, client);
    }
    this.nextId = 1001 + count;
    this.tokens = this.capacity;
    this.refilledAt = this.now();
  }

  async start(port = 0): Promise<string> {
    this.stopped = false;
    this.server = new SimulatorHttpServer((req) => this.handle(req));
    return this.server.listen(port);
  }

  /** Stops serving and cancels the webhook retries still waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Waiting retries end at once (and give up), so `deliveriesSettled()` still resolves after a stop.
    for (const [timer, wake] of this.timers) {
      clearTimeout(timer);
      wake();
    }
    this.timers.clear();
    await this.server?.close();
  }

  // ---- test helpers ----

  /** All clients, by id. Copies: changing them changes nothing here. */
  clients(): RobawsClient[] {
    return [...this.store.values()].map((c) => structuredClone(c));
  }

  client(id: number): RobawsClient | null {
    const c = this.store.get(id);
    return c ? structuredClone(c) : null;
  }

  get clientCount(): number {
    return this.store.size;
  }

  /** Changes a client as someone in Robaws would (merge-patch semantics), moving `updatedAt` and firing webhooks. */
  updateClient(id: number, fields: Record<string, unknown>): RobawsClient {
    const current = this.store.get(id);
    if (!current) throw new Error(`No Robaws client ${id}`);
    return structuredClone(this.apply(current, mergePatch(current, fields) as Record<string, unknown>));
  }

  createClient(fields: Record<string, unknown> & { name: string }): RobawsClient {
    return structuredClone(this.insert(fields));
  }

  /** Deletes a client as someone in Robaws would (Robaws sends no webhook for it): a full pull must notice. */
  removeClient(id: number): void {
    if (!this.store.delete(id)) throw new Error(`No Robaws client ${id}`);
  }

  /** Changes `count` clients spread over the id range (a new email each); returns their ids. */
  changeClients(count: number): number[] {
    const ids = [...this.store.keys()];
    const step = Math.max(1, Math.floor(ids.length / Math.max(1, count)));
    const changed: number[] = [];
    for (let i = Math.floor(step / 2); changed.length < count && i < ids.length; i += step) {
      const id = ids[i];
      this.updateClient(id, { email: `changed-${this.counters.requests}-${changed.length}@client${id}.example` });
      changed.push(id);
    }
    return changed;
  }

  /**
   * Switches faults (the others stay): rates, latency, and a `script` of counted ones (a 5xx burst, 429s with or
   * without Retry-After, cut bodies, hangs; transport-faults.ts), whose counts start again.
   */
  setFaults(faults: Partial<RobawsFaults>): void {
    const next = { ...this.faults, ...faults };
    checkFaults(next);
    this.faults = next;
    this.injector.reset();
  }

  /** All faults off; requests held by a hang are answered now. */
  clearFaults(): void {
    this.setFaults(NO_FAULTS);
    this.injector.release();
  }

  /** Changes the bucket at run time; it starts full again. */
  setRateLimit(limit: Partial<RobawsRateLimit>): void {
    this.rateLimit = { ...this.rateLimit, ...limit };
    this.tokens = this.capacity;
    this.refilledAt = this.now();
  }

  /** Registers a webhook endpoint as `POST /api/v2/webhook-endpoints` would; the answer holds the secret. */
  registerWebhook(url: string, events: string[] = [...ROBAWS_WEBHOOK_EVENTS]): RobawsWebhookEndpoint {
    const endpoint: RobawsWebhookEndpoint = {
      id: randomUUID(),
      url,
      events,
      secret: randomBytes(24).toString('hex'),
      createdAt: new Date(this.now()).toISOString(),
    };
    this.endpoints.set(endpoint.id, endpoint);
    return { ...endpoint };
  }

  webhookEndpoints(): RobawsWebhookEndpoint[] {
    return [...this.endpoints.values()].map((e) => ({ ...e }));
  }

  /** Resolves when every delivery started so far has succeeded or given up. */
  async deliveriesSettled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  requestCount(key: string): number {
    return this.requests.get(key) ?? 0;
  }

  // ---- HTTP ----

  async handle(req: SimRequest): Promise<SimResponse> {
    if (req.path.startsWith('/__simulator')) return this.admin(req);
    this.counters.requests++;
    const route = `${req.method} ${req.path.replace(/\/(\d+|[0-9a-f-]{36})$/, '/:id')}`;
    this.requests.set(route, (this.requests.get(route) ?? 0) + 1);
    const throttled = (): SimResponse => {
      this.counters.rateLimited++;
      return { ...this.error(req, 429, 'Rate limit exceeded'), headers: { 'x-ratelimit-remaining': '0' } };
    };
    return this.injector.intercept(
      req,
      this.faults,
      { error: () => this.error(req, 500), rateLimited: throttled },
      () => {
        // The bucket is taken only by requests that got past the faults, as a 5xx or 429 upstream of it takes none.
        const remaining = this.take();
        if (remaining === null) return throttled();
        const served = this.route(req);
        return remaining === undefined
          ? served
          : { ...served, headers: { ...served.headers, 'x-ratelimit-remaining': String(remaining) } };
      },
    );
  }

  private get capacity(): number {
    return this.rateLimit.burst * this.rateLimit.scale;
  }

  /** Takes a token: the tokens left, null when the bucket is empty, undefined when the limit is off. */
  private take(): number | null | undefined {
    if (!this.rateLimit.enabled) return undefined;
    const now = this.now();
    const rate = this.rateLimit.ratePerSecond * this.rateLimit.scale;
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return null;
    this.tokens -= 1;
    return Math.floor(this.tokens);
  }

  private route(req: SimRequest): SimResponse {
    const denied = this.authenticate(req);
    if (denied) return denied;
    if (req.path === `${API}/clients`) {
      if (req.method === 'GET') return this.list(req);
      if (req.method === 'POST') {
        if (!isObject(req.body) || typeof req.body.name !== 'string' || !req.body.name.trim())
          return this.error(req, 400, 'name: must not be blank');
        return { status: 201, body: this.insert(req.body as Record<string, unknown> & { name: string }) };
      }
    }
    const one = req.path.match(new RegExp(`^${API}/clients/(\\d+)$`));
    if (one) {
      const client = this.store.get(Number(one[1]));
      if (!client) return this.error(req, 404, `Client with id ${one[1]} not found`);
      if (req.method === 'GET') return { status: 200, body: client };
      if (req.method === 'PATCH') return this.patch(req, client);
    }
    if (req.path === `${API}/webhook-endpoints`) {
      if (req.method === 'GET') {
        // The secret is shown once, at creation ("Please do store the secret we return to you").
        const items = [...this.endpoints.values()].map(({ secret: _secret, ...rest }) => rest);
        return { status: 200, body: { items, page: 0, size: items.length, totalItems: items.length, totalPages: 1 } };
      }
      if (req.method === 'POST') return this.createEndpoint(req);
    }
    const endpoint = req.path.match(new RegExp(`^${API}/webhook-endpoints/([\\w-]+)$`));
    if (endpoint && req.method === 'DELETE') {
      if (!this.endpoints.delete(endpoint[1]))
        return this.error(req, 404, `Webhook endpoint with id ${endpoint[1]} not found`);
      return { status: 204 };
    }
    return this.error(req, 404);
  }

  /** Spring Boot's error body, as the observed 403 shows it. */
  private error(req: SimRequest, status: number, message?: string): SimResponse {
    return {
      status,
      body: {
        timestamp: new Date(this.now()).toISOString().replace('Z', '+00:00'),
        status,
        error: REASONS[status] ?? 'Error',
        ...(message ? { message } : {}),
        path: req.path,
        correlationId: randomUUID(),
        serverVersion: 'sim-robaws-master',
      },
    };
  }

  private authenticate(req: SimRequest): SimResponse | null {
    const header = String(req.headers.authorization ?? '');
    if (!header.startsWith('Basic ')) return this.error(req, 401, 'Full authentication is required');
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const ok = colon > 0 && decoded.slice(0, colon) === this.apiKey && decoded.slice(colon + 1) === this.apiSecret;
    return ok ? null : this.error(req, 401, 'Bad credentials');
  }

  private list(req: SimRequest): SimResponse {
    const q = req.query;
    const page = q.has('page') ? Number(q.get('page')) : 0;
    const size = q.has('size') ? Number(q.get('size')) : DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(page) || page < 0) return this.error(req, 400, 'page: must be 0 or greater');
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE)
      return this.error(req, 400, `size: must be between 1 and ${MAX_PAGE_SIZE}`);
    let items = [...this.store.values()];
    const updatedFrom = q.get('updatedFrom');
    if (updatedFrom !== null) {
      const from = Date.parse(updatedFrom);
      if (Number.isNaN(from)) return this.error(req, 400, `updatedFrom: cannot parse '${updatedFrom}'`);
      items = items.filter((c) => Date.parse(c.updatedAt) >= from);
    }
    for (const [key, value] of q) {
      const field = key.match(/^extraFields\[(.+)\]$/);
      if (field) items = items.filter((c) => String(this.extraValue(c, field[1]) ?? '') === value);
    }
    const sorts = (q.get('sort') ?? 'id:asc').split(',').map((s) => s.split(':'));
    for (const [field] of sorts)
      if (!SORTABLE.has(field)) return this.error(req, 400, `sort: unknown property '${field}'`);
    // The store is in id order already (ids only grow): the bench's 20,000-client pull need not sort every page.
    const byId = sorts.length === 1 && sorts[0][0] === 'id' && (sorts[0][1] ?? 'asc').toLowerCase() === 'asc';
    if (!byId)
      items.sort((a, b) => {
        for (const [field, dir] of sorts) {
          const x = a[field] as string | number;
          const y = b[field] as string | number;
          if (x === y) continue;
          const order = (x ?? '') < (y ?? '') ? -1 : 1;
          return dir?.toLowerCase() === 'desc' ? -order : order;
        }
        return a.id - b.id;
      });
    const totalItems = items.length;
    return {
      status: 200,
      body: {
        items: items.slice(page * size, page * size + size),
        page,
        size,
        totalItems,
        totalPages: Math.ceil(totalItems / size),
      },
    };
  }

  private extraValue(client: RobawsClient, name: string): string | number | boolean | undefined {
    const field = client.extraFields?.[name];
    if (!field) return undefined;
    return field.stringValue ?? field.booleanValue ?? field.dateValue ?? field.decimalValue ?? field.integerValue;
  }

  private patch(req: SimRequest, current: RobawsClient): SimResponse {
    const contentType = String(req.headers['content-type'] ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    const record = (status: number): void => {
      this.counters.patches++;
      this.patches.push({ clientId: current.id, contentType, body: req.body, status });
    };
    let next: Record<string, unknown> | string;
    if (contentType === 'application/merge-patch+json' || contentType === 'application/json') {
      next = isObject(req.body)
        ? (mergePatch(current, req.body) as Record<string, unknown>)
        : 'The request body must be a JSON object';
    } else if (contentType === 'application/json-patch+json') {
      next = req.body === undefined ? 'The request body is not valid JSON' : jsonPatch(current, req.body);
    } else {
      record(415);
      return this.error(req, 415, `Content-Type '${contentType}' is not supported`);
    }
    if (typeof next === 'string' || typeof next.name !== 'string' || !next.name.trim()) {
      record(400);
      return this.error(req, 400, typeof next === 'string' ? next : 'name: must not be blank');
    }
    record(200);
    return { status: 200, body: this.apply(current, next) };
  }

  /** Stores a changed client; when anything but the read-only fields changed, moves `updatedAt` and fires webhooks. */
  private apply(current: RobawsClient, next: Record<string, unknown>): RobawsClient {
    for (const key of IMMUTABLE) next[key] = current[key];
    if (JSON.stringify(next) === JSON.stringify(current)) return current;
    const changed = { ...(next as RobawsClient), updatedAt: this.stamp() };
    this.store.set(changed.id, changed);
    this.emit('client.updated', changed);
    return changed;
  }

  private insert(fields: Record<string, unknown> & { name: string }): RobawsClient {
    const at = this.stamp();
    const client = {
      email: null,
      tel: null,
      gsm: null,
      website: null,
      vatNumber: null,
      currency: 'EUR',
      language: 'nl',
      isActive: true,
      address: { addressLine1: null, addressLine2: null, postalCode: null, city: null, country: null },
      extraFields: {},
      ...fields,
      id: this.nextId++,
      createdAt: at,
      updatedAt: at,
    } as RobawsClient;
    this.store.set(client.id, client);
    this.emit('client.created', client);
    return client;
  }

  /** The change time: strictly after the previous change, so `updatedAt` orders changes even within a millisecond. */
  private stamp(): string {
    this.lastUpdate = Math.max(this.now(), this.lastUpdate + 1);
    return new Date(this.lastUpdate).toISOString();
  }

  private createEndpoint(req: SimRequest): SimResponse {
    const body = isObject(req.body) ? req.body : {};
    let url: URL | null;
    try {
      url = typeof body.url === 'string' ? new URL(body.url) : null;
    } catch {
      url = null;
    }
    if (!url || !/^https?:$/.test(url.protocol)) return this.error(req, 400, 'url: must be a valid URL');
    const events = body.events;
    if (
      !Array.isArray(events) ||
      events.length === 0 ||
      !events.every((e) => typeof e === 'string' && /^[a-z-]+\.[a-z-]+$/.test(e))
    )
      return this.error(req, 400, 'events: must be a non-empty list of event types');
    return { status: 201, body: this.registerWebhook(String(body.url), events as string[]) };
  }

  // ---- webhook delivery ----

  private emit(event: RobawsWebhookEvent, client: RobawsClient): void {
    for (const endpoint of this.endpoints.values()) {
      if (!endpoint.events.includes(event)) continue;
      const id = randomUUID();
      const delivery: RobawsDelivery = {
        id,
        endpointId: endpoint.id,
        url: endpoint.url,
        event,
        clientId: client.id,
        body: JSON.stringify({ id, event, data: client }),
        attempts: [],
        delivered: false,
      };
      this.deliveries.push(delivery);
      const run = this.deliver(delivery, endpoint.secret).finally(() => this.pending.delete(run));
      this.pending.add(run);
    }
  }

  /** Signs `t + "." + body` with the endpoint's secret, afresh on every attempt (the timestamp is the attempt's). */
  static sign(secret: string, body: string, t: number): string {
    return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
  }

  private async deliver(delivery: RobawsDelivery, secret: string): Promise<void> {
    for (let attempt = 0; attempt <= this.retryDelays.length && !this.stopped; attempt++) {
      if (attempt > 0) await this.sleep(this.retryDelays[attempt - 1]);
      if (this.stopped) return;
      const signature = RobawsSimulator.sign(secret, delivery.body, Math.floor(this.now() / 1000));
      const record: RobawsDeliveryAttempt = { at: new Date(this.now()).toISOString(), signature, status: null };
      delivery.attempts.push(record);
      try {
        const res = await fetch(delivery.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'robaws-signature': signature },
          body: delivery.body,
          signal: AbortSignal.timeout(this.webhookTimeoutMs),
        });
        await res.arrayBuffer();
        record.status = res.status;
        if (res.status >= 200 && res.status < 300) {
          delivery.delivered = true;
          return;
        }
      } catch (err) {
        record.error = (err as Error).message;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }

  // ---- controls ----

  /** Test and demo controls over HTTP: state, faults, rate limit, deliveries, patches, client changes. */
  private admin(req: SimRequest): SimResponse {
    const body = isObject(req.body) ? req.body : {};
    const update = req.path.match(/^\/__simulator\/clients\/(\d+)$/);
    if (update && req.method === 'POST') {
      const id = Number(update[1]);
      if (!this.store.has(id)) return this.error(req, 404, `Client with id ${id} not found`);
      return { status: 200, body: this.updateClient(id, body) };
    }
    switch (`${req.method} ${req.path}`) {
      case 'GET /__simulator/state':
        return {
          status: 200,
          body: {
            clients: this.store.size,
            faults: this.faults,
            rateLimit: this.rateLimit,
            counters: this.counters,
            requests: Object.fromEntries(this.requests),
            webhookEndpoints: this.endpoints.size,
          },
        };
      case 'POST /__simulator/faults':
        try {
          this.setFaults(body);
        } catch (err) {
          return this.error(req, 400, (err as Error).message);
        }
        return { status: 200, body: this.faults };
      case 'POST /__simulator/rate-limit':
        this.setRateLimit(body);
        return { status: 200, body: this.rateLimit };
      case 'POST /__simulator/change':
        return { status: 200, body: { changed: this.changeClients(Number(body.count ?? 1)) } };
      case 'GET /__simulator/deliveries':
        return { status: 200, body: this.deliveries };
      case 'GET /__simulator/patches':
        return { status: 200, body: this.patches };
      default:
        return this.error(req, 404, 'Unknown simulator control');
    }
  }
}
