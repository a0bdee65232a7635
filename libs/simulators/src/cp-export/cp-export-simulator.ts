import { seededRandom } from '../random';
import { checkFaults, TransportFaultInjector, TransportFaults } from '../transport-faults';
import { SimRequest, SimResponse, SimulatorHttpServer } from '../http-server';
import {
  CP_TABLES,
  CpGenerationContext,
  CpRow,
  CpTable,
  cpCountUpTo,
  cpDateTime,
  cpIdOfNth,
  cpTableSpec,
  generateCpRow,
  isCpGap,
  isCpTable,
} from './cp-row-generator';

export { CP_TABLES, CP_TABLE_NAMES, CpColumn, CpColumnType, CpRow, CpTable, CpTableSpec } from './cp-row-generator';

export interface CpExportSimulatorOptions {
  seed?: number;
  /** Rows generated per table at start: one number for all, or per table (a table not named gets 200). */
  rows?: number | Partial<Record<CpTable, number>>;
  token?: string;
  /** Every id divisible by this is missing, as auto-increment ids have gaps (e.g. 50); 0, the default, for none. */
  gapEvery?: number;
  /** How a table with nothing new shows in `data`: left out (the default) or as `[]`; has_more is false either way. */
  emptyTables?: 'absent' | 'empty';
  now?: () => number;
}

/**
 * Faults a test can switch on; all default off. Rates are fractions of API requests (0..1), from a seeded PRNG;
 * `script` holds counted ones (transport-faults.ts). A held request (`hangNext`, `timeoutRate`, a scripted hang with
 * `hangMs` 0) waits until stop() or resetFaults().
 */
export interface CpFaults extends TransportFaults {
  /** The status of an `errorRate` or scripted `error` fault (a script entry's own `status` wins): 500, 502 or 503. */
  errorStatus: 500 | 502 | 503;
  timeoutRate: number;
  hangNext: number;
  hangMs: number;
  script: NonNullable<TransportFaults['script']>;
}

export type CpMalformation = 'missing_pk' | 'bad_type';

export interface CpCounters {
  /** API requests received (the control routes aside). */
  requests: number;
  /** 200 answers to POST /api/export. */
  exports: number;
  /** 200 answers to GET /api/sync-visit. */
  visits: number;
  unauthorized: number;
  /** Rows in the 200 export answers. */
  rowsServed: number;
  /** Answers replaced by a 5xx or 429 fault. */
  faulted: number;
  /** Requests held by a timeout fault. */
  held: number;
}

export const CP_EXPORT_PATH = '/api/export';
export const CP_VISIT_PATH = '/api/sync-visit';
export const CP_EXPORT_MAX_LIMIT = 5000;

const NO_FAULTS: CpFaults = {
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
const ERROR_MESSAGES: Record<number, string> = {
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
};
/** What a `bad_type` corruption puts in the table's `badTypeColumn`: words where a number is declared. */
const BAD_VALUES: Record<CpTable, string> = {
  client: 'beaucoup',
  client_abonnement: 'inconnu',
  history: 'dix',
  promotion_pass_orders: 'deux',
  promotion_pass_vendu: 'N/A',
  partner: 'oui',
  promotion: 'vingt pour cent',
};

interface TableState {
  maxId: number;
  /** Rows that differ from the generated ones: updated, or appended (those are never generated). */
  changed: Map<number, CpRow>;
  corrupted: Map<number, CpMalformation>;
}

type ExportRequest = { cursors: Record<CpTable, number>; limit: number };

function fail(status: number, error: string): SimResponse {
  return { status, body: { error } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The export body as docs/cp-export-api.md states it, or the 400 message. */
function parseExportRequest(body: unknown): ExportRequest | string {
  if (!isObject(body)) return 'body must be a JSON object';
  if (!isObject(body.cursors)) return 'cursors must be an object of table name to last id';
  const cursors = Object.fromEntries(CP_TABLES.map((t) => [t.name, 0])) as Record<CpTable, number>;
  for (const [table, cursor] of Object.entries(body.cursors)) {
    if (!isCpTable(table)) return `unknown table: ${table}`;
    if (typeof cursor !== 'number' || !Number.isSafeInteger(cursor) || cursor < 0)
      return `cursor for ${table} must be a non-negative integer`;
    cursors[table] = cursor;
  }
  const limit = body.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > CP_EXPORT_MAX_LIMIT)
    return `limit must be an integer from 1 to ${CP_EXPORT_MAX_LIMIT}`;
  return { cursors, limit };
}

/**
 * The Club Privilèges export API as docs/cp-export-api.md defines it: `POST /api/export` answers every table's rows
 * after its cursor (id ascending, at most `limit`, `has_more` by look-ahead), `GET /api/sync-visit` the hourly visit,
 * both behind `Authorization: Bearer <token>`. Rows are generated on demand from (seed, table, id); only updated,
 * appended and corrupted rows are held, so 7 × 30,000 rows cost next to nothing.
 */
export class CpExportSimulator {
  readonly token: string;
  faults: CpFaults = { ...NO_FAULTS };
  readonly counters: CpCounters = {
    requests: 0,
    exports: 0,
    visits: 0,
    unauthorized: 0,
    rowsServed: 0,
    faulted: 0,
    held: 0,
  };
  lastVisitAt: string | null = null;

  private readonly seed: number;
  private readonly now: () => number;
  private readonly emptyTables: 'absent' | 'empty';
  private readonly context: CpGenerationContext;
  private readonly tables = new Map<CpTable, TableState>();
  private readonly injector: TransportFaultInjector;
  private changeRandom: () => number;
  private server: SimulatorHttpServer | null = null;
  private baseUrl: string | null = null;

  constructor(options: CpExportSimulatorOptions = {}) {
    this.seed = options.seed ?? 42;
    this.token = options.token ?? 'sim-cp-export-token-0001';
    this.now = options.now ?? Date.now;
    this.emptyTables = options.emptyTables ?? 'absent';
    const gapEvery = options.gapEvery ?? 0;
    if (!Number.isInteger(gapEvery) || gapEvery === 1 || gapEvery < 0)
      throw new Error('gapEvery must be 0 (no gaps) or an integer of 2 or more');
    const initialMaxId = {} as Record<CpTable, number>;
    for (const { name } of CP_TABLES) {
      const rows = typeof options.rows === 'number' ? options.rows : (options.rows?.[name] ?? 200);
      if (!Number.isInteger(rows) || rows < 0) throw new Error(`rows for ${name} must be a non-negative integer`);
      initialMaxId[name] = rows === 0 ? 0 : cpIdOfNth(rows, gapEvery);
      this.tables.set(name, { maxId: initialMaxId[name], changed: new Map(), corrupted: new Map() });
    }
    this.context = { seed: this.seed, initialMaxId, gapEvery };
    this.injector = new TransportFaultInjector(this.seed);
    this.changeRandom = seededRandom(this.seed + 2);
  }

  async start(port = 0): Promise<string> {
    this.server = new SimulatorHttpServer((req) => this.handle(req));
    this.baseUrl = await this.server.listen(port);
    return this.baseUrl;
  }

  /** Stops serving; requests still held by a timeout fault are dropped with their connections. */
  async stop(): Promise<void> {
    await this.server?.close();
    this.server = null;
    this.injector.release();
  }

  get exportUrl(): string {
    return `${this.base()}${CP_EXPORT_PATH}`;
  }

  get visitUrl(): string {
    return `${this.base()}${CP_VISIT_PATH}`;
  }

  // ---- data, for tests ----

  maxId(table: CpTable): number {
    return this.state(table).maxId;
  }

  /** Rows that exist (the gaps left out). */
  count(table: CpTable): number {
    return cpCountUpTo(this.maxId(table), this.context.gapEvery);
  }

  /** Every current row of the table, id ascending, as the API serves it (corruptions included). Copies. */
  rows(table: CpTable): CpRow[] {
    const out: CpRow[] = [];
    for (let id = 1; id <= this.maxId(table); id++)
      if (this.exists(table, id)) out.push(structuredClone(this.served(table, id)));
    return out;
  }

  /** One row as served, or null for a gap or an id not yet given. A copy. */
  row(table: CpTable, id: number): CpRow | null {
    return this.exists(table, id) ? structuredClone(this.served(table, id)) : null;
  }

  /** New rows with the next ids, created (and updated) now, as a client of the loyalty club would add them. */
  append(table: CpTable, n: number): CpRow[] {
    const state = this.state(table);
    const at = this.now();
    const added: CpRow[] = [];
    for (let i = 0; i < n; i++) {
      let id = state.maxId + 1;
      if (isCpGap(id, this.context.gapEvery)) id++;
      const row = generateCpRow(table, id, this.context, at);
      state.changed.set(id, row);
      state.maxId = id;
      added.push(structuredClone(row));
    }
    return added;
  }

  /**
   * Changes an existing row, keeping its id: `changes` as given, or a plausible change of the table's own. Moves
   * `updated_at` to now, except on `history`, which has none (pass `updated_at` in `changes` to add one anyway).
   */
  update(table: CpTable, id: number, changes?: CpRow): CpRow {
    const { primaryKey } = cpTableSpec(table);
    if (!this.exists(table, id)) throw new Error(`No ${table} row ${id}`);
    if (changes && primaryKey in changes) throw new Error(`The primary key ${primaryKey} cannot change`);
    const state = this.state(table);
    const current = state.changed.get(id) ?? generateCpRow(table, id, this.context);
    const next: CpRow = {
      ...current,
      ...(table === 'history' ? {} : { updated_at: cpDateTime(this.now()) }),
      ...(changes ?? this.plausibleChange(table, current)),
    };
    state.changed.set(id, next);
    return structuredClone(next);
  }

  /** Updates `n` existing rows spread over the whole id range; returns their ids, ascending. */
  updateRandom(table: CpTable, n: number): number[] {
    const count = this.count(table);
    const picked = Math.min(n, count);
    const step = count / Math.max(1, picked);
    const ids: number[] = [];
    for (let k = 0; k < picked; k++) {
      // One row from each of `picked` equal slices of the rows: distinct, and spread over the whole range.
      const from = Math.floor(k * step);
      const nth = 1 + from + Math.floor(this.changeRandom() * (Math.floor((k + 1) * step) - from));
      const id = cpIdOfNth(nth, this.context.gapEvery);
      this.update(table, id);
      ids.push(id);
    }
    return ids;
  }

  /** Serves the row malformed from now on: without its primary key, or a word in its table's `badTypeColumn`. */
  corrupt(table: CpTable, id: number, kind: CpMalformation): void {
    if (!this.exists(table, id)) throw new Error(`No ${table} row ${id}`);
    if (kind !== 'missing_pk' && kind !== 'bad_type') throw new Error(`Unknown malformation: ${String(kind)}`);
    this.state(table).corrupted.set(id, kind);
  }

  /** Serves the row as it was before corrupt(). */
  repair(table: CpTable, id: number): void {
    this.state(table).corrupted.delete(id);
  }

  setFaults(faults: Partial<CpFaults>): void {
    const next = { ...this.faults, ...faults };
    if (![500, 502, 503].includes(next.errorStatus)) throw new Error('errorStatus must be 500, 502 or 503');
    checkFaults(next);
    this.faults = next;
    this.injector.reset();
  }

  /** All faults off; requests still held are answered now. Corrupted rows stay so until repair(). */
  resetFaults(): void {
    this.setFaults(NO_FAULTS);
    this.injector.release();
  }

  // ---- HTTP ----

  async handle(req: SimRequest): Promise<SimResponse> {
    if (req.path.startsWith('/__simulator')) return this.admin(req);
    if (req.path !== CP_EXPORT_PATH && req.path !== CP_VISIT_PATH) return fail(404, 'not found');
    this.counters.requests++;
    const faulted = (res: SimResponse): SimResponse => {
      this.counters.faulted++;
      return res;
    };
    return this.injector.intercept(
      req,
      this.faults,
      {
        error: () => faulted(fail(this.faults.errorStatus, ERROR_MESSAGES[this.faults.errorStatus])),
        rateLimited: () => faulted(fail(429, 'too many requests')),
        held: () => this.counters.held++,
      },
      () => this.answer(req),
    );
  }

  /** The API's answer to a request that passed the faults. */
  private answer(req: SimRequest): SimResponse {
    if (!this.authorised(req)) {
      this.counters.unauthorized++;
      return fail(401, 'unauthorized');
    }
    if (req.path === CP_VISIT_PATH) {
      if (req.method !== 'GET') return { ...fail(405, 'method not allowed'), headers: { allow: 'GET' } };
      this.counters.visits++;
      this.lastVisitAt = cpDateTime(this.now());
      return { status: 200, body: { status: 'ok', visited_at: this.lastVisitAt } };
    }
    if (req.method !== 'POST') return { ...fail(405, 'method not allowed'), headers: { allow: 'POST' } };
    const request = parseExportRequest(req.body);
    if (typeof request === 'string') return fail(400, request);
    return this.export(request);
  }

  private export({ cursors, limit }: ExportRequest): SimResponse {
    const data: Record<string, CpRow[]> = {};
    const hasMore: Record<string, boolean> = {};
    for (const { name } of CP_TABLES) {
      const { maxId } = this.state(name);
      const rows: CpRow[] = [];
      let id = cursors[name] + 1;
      for (; id <= maxId && rows.length < limit; id++) if (this.exists(name, id)) rows.push(this.served(name, id));
      // Exact look-ahead: gaps are single ids, so the next existing id is `id` or `id + 1`.
      hasMore[name] = this.exists(name, id) || this.exists(name, id + 1);
      if (rows.length > 0 || this.emptyTables === 'empty') data[name] = rows;
      this.counters.rowsServed += rows.length;
    }
    this.counters.exports++;
    return { status: 200, body: { data, has_more: hasMore } };
  }

  /** Exactly `Bearer <token>`: another scheme, a bare token or another token is a 401. */
  private authorised(req: SimRequest): boolean {
    const header = req.headers.authorization;
    return typeof header === 'string' && header === `Bearer ${this.token}`;
  }

  // ---- rows ----

  private state(table: CpTable): TableState {
    const state = this.tables.get(table);
    if (!state) throw new Error(`Unknown Club Privilèges table: ${String(table)}`);
    return state;
  }

  private exists(table: CpTable, id: number): boolean {
    return Number.isInteger(id) && id >= 1 && id <= this.state(table).maxId && !isCpGap(id, this.context.gapEvery);
  }

  /** The row as the API serves it; not a copy (the HTTP path only serialises it). */
  private served(table: CpTable, id: number): CpRow {
    const state = this.state(table);
    const row = state.changed.get(id) ?? generateCpRow(table, id, this.context);
    const kind = state.corrupted.get(id);
    if (!kind) return row;
    const spec = cpTableSpec(table);
    if (kind === 'bad_type') return { ...row, [spec.badTypeColumn]: BAD_VALUES[table] };
    const { [spec.primaryKey]: _pk, ...withoutKey } = row;
    return withoutKey;
  }

  /** What someone at the loyalty club would change on a row of this table. */
  private plausibleChange(table: CpTable, row: CpRow): CpRow {
    const r = this.changeRandom;
    switch (table) {
      case 'client':
        return {
          points: Number(row.points) + 25 * (1 + Math.floor(r() * 10)),
          telephone: `06 ${String(Math.floor(r() * 1e8))
            .padStart(8, '0')
            .match(/../g)!
            .join(' ')}`,
        };
      case 'client_abonnement':
        return { statut: row.statut === 'actif' ? 'resilie' : 'actif' };
      case 'history':
        return { description: `${String(row.description)} (corrigé)` };
      case 'promotion_pass_orders':
        return { statut: row.statut === 'payee' ? 'annulee' : 'payee' };
      case 'promotion_pass_vendu':
        return { utilise: 1, date_utilisation: cpDateTime(this.now()) };
      case 'partner':
        return { actif: row.actif === 1 ? 0 : 1 };
      case 'promotion': {
        const end = Date.parse(`${String(row.date_fin)}T00:00:00Z`) + 30 * 86_400_000;
        return { date_fin: new Date(end).toISOString().slice(0, 10), actif: 1 };
      }
    }
  }

  private base(): string {
    if (!this.baseUrl) throw new Error('The Club Privilèges simulator is not started');
    return this.baseUrl;
  }

  // ---- controls ----

  /** Test and demo controls over HTTP: state, faults, appends, updates, corruptions. */
  private admin(req: SimRequest): SimResponse {
    const body = isObject(req.body) ? req.body : {};
    const table = typeof body.table === 'string' ? body.table : undefined;
    if (table !== undefined && !isCpTable(table)) return fail(400, `unknown table: ${table}`);
    try {
      switch (`${req.method} ${req.path}`) {
        case 'GET /__simulator/state':
          return { status: 200, body: this.snapshot() };
        case 'POST /__simulator/faults':
          this.setFaults(Object.fromEntries(Object.entries(body).filter(([key]) => key in NO_FAULTS)));
          return { status: 200, body: this.faults };
        case 'DELETE /__simulator/faults':
          this.resetFaults();
          return { status: 200, body: this.faults };
        case 'POST /__simulator/append': {
          const count = Number(body.count ?? 1);
          if (!Number.isInteger(count) || count < 0) return fail(400, 'count must be a non-negative integer');
          const appended: Record<string, { count: number; maxId: number }> = {};
          for (const name of table ? [table] : CP_TABLES.map((t) => t.name)) {
            this.append(name, count);
            appended[name] = { count, maxId: this.maxId(name) };
          }
          return { status: 200, body: { appended } };
        }
        case 'POST /__simulator/update': {
          if (!table) return fail(400, 'table is required');
          if (body.id !== undefined) {
            const changes = isObject(body.changes) ? body.changes : undefined;
            return { status: 200, body: { updated: [this.update(table, Number(body.id), changes)] } };
          }
          const ids = this.updateRandom(table, Number(body.count ?? 1));
          return { status: 200, body: { updated: ids.map((id) => this.row(table, id)) } };
        }
        case 'POST /__simulator/corrupt': {
          if (!table) return fail(400, 'table is required');
          if (body.kind === null) this.repair(table, Number(body.id));
          else this.corrupt(table, Number(body.id), body.kind as CpMalformation);
          return { status: 200, body: { table, id: Number(body.id), kind: body.kind } };
        }
        default:
          return fail(404, 'unknown simulator control');
      }
    } catch (err) {
      return fail(400, (err as Error).message);
    }
  }

  private snapshot(): Record<string, unknown> {
    const tables = Object.fromEntries(
      CP_TABLES.map(({ name }) => {
        const state = this.state(name);
        return [
          name,
          {
            count: this.count(name),
            maxId: state.maxId,
            changed: state.changed.size,
            corrupted: Object.fromEntries(state.corrupted),
          },
        ];
      }),
    );
    return {
      tables,
      faults: this.faults,
      counters: this.counters,
      heldNow: this.injector.heldNow,
      lastVisitAt: this.lastVisitAt,
    };
  }
}
