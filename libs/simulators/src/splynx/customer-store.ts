import { generateCustomer, generatedKeyFields, SplynxCustomerRecord } from './customer-generator';
import { BadListQuery, compileCondition, Condition, FieldReader, ListQuery } from './list-query';
import { parseSplynxDateTime, splynxDate, splynxDateTime } from './splynx-dates';

/** Fields a filter reads without building the record, cheapest first: AND evaluates them in this order. */
const INDEXED = ['id', 'last_update', 'status', 'date_add'];
/** Operators on id that `idRange` turns into a range of positions. */
const ID_BOUNDS = new Set(['>', '>=', '=', '<', '<=', 'BETWEEN']);
/** Fields whose value is an object, which a `main_attributes` filter cannot compare. */
const NOT_SCALAR = new Set(['customer_labels', 'additional_attributes']);

/**
 * The simulator's customers: ids in ascending order, a revision per edited customer, and the last_update (and, for
 * added customers, date_add) the simulator stamped when it changed them. Records are generated from the seed on
 * demand, so a 1,000,000-customer store holds ids and one typed array of last_update values, not records.
 */
export class SplynxCustomerStore {
  private ids: number[];
  private nextId: number;
  private readonly revisions = new Map<number, number>();
  /** last_update of every customer the simulator changed or added, in wall seconds. */
  private readonly stamps = new Map<number, number>();
  /** date_add of added customers (the day they were added), in wall seconds. */
  private readonly created = new Map<number, number>();
  /** last_update of ids 1..generated in wall seconds, stamps applied; built on the first filter that reads it. */
  private lastUpdateIndex: Uint32Array | null = null;
  private readonly fieldNames: Set<string>;
  private cached: { id: number; record: SplynxCustomerRecord } | null = null;

  /** `wallNow` answers the server's wall clock now, in wall seconds (see splynx-dates.ts). */
  constructor(
    private readonly seed: number,
    private readonly generated: number,
    private readonly wallNow: () => number,
  ) {
    this.ids = Array.from({ length: generated }, (_, i) => i + 1);
    this.nextId = generated + 1;
    this.fieldNames = new Set(Object.keys(generateCustomer(seed, 1)).filter((f) => !NOT_SCALAR.has(f)));
  }

  get size(): number {
    return this.ids.length;
  }

  allIds(): number[] {
    return [...this.ids];
  }

  has(id: number): boolean {
    return this.ids[this.lowerBound(id)] === id;
  }

  /** The record as listed: generated for its revision, with the dates the simulator stamped. */
  record(id: number): SplynxCustomerRecord | null {
    if (!this.has(id)) return null;
    const record = generateCustomer(this.seed, id, this.revisions.get(id) ?? 0);
    const stamp = this.stamps.get(id);
    if (stamp !== undefined) record.last_update = splynxDateTime(stamp);
    const created = this.created.get(id);
    if (created !== undefined) record.date_add = splynxDate(created);
    return record;
  }

  lastUpdateOf(id: number): string | null {
    return this.has(id) ? splynxDateTime(this.lastUpdateSeconds(id)) : null;
  }

  /**
   * Changes `change` customers (new content, last_update now), removes `remove`, adds `add` (date_add today,
   * last_update now); returns the ids touched and the last_update they were given.
   */
  mutate(spec: { change?: number; remove?: number; add?: number }): {
    changed: number[];
    removed: number[];
    added: number[];
    lastUpdate: string;
  } {
    const now = this.wallNow();
    const changed = this.spread(spec.change ?? 0, 0);
    for (const id of changed) {
      this.revisions.set(id, (this.revisions.get(id) ?? 0) + 1);
      this.stamp(id, now);
    }
    const touched = new Set(changed);
    const removed = this.spread(spec.remove ?? 0, 1).filter((id) => !touched.has(id));
    const gone = new Set(removed);
    this.ids = this.ids.filter((id) => !gone.has(id));
    const added = Array.from({ length: spec.add ?? 0 }, () => this.add(now));
    return { changed, removed, added, lastUpdate: splynxDateTime(now) };
  }

  /** A new customer (POST create), added now. */
  add(now = this.wallNow()): number {
    const id = this.nextId++;
    this.ids.push(id);
    this.created.set(id, now - (now % 86400));
    this.stamp(id, now);
    return id;
  }

  /** The page of ids the query selects: filters ANDed, in id order, `offset` matches skipped, `limit` taken. */
  select(query: ListQuery): number[] {
    const page: number[] = [];
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    if (limit === 0) return page;
    let skip = query.offset;
    this.scan(query, (id) => {
      if (skip > 0) skip--;
      else page.push(id);
      return page.length < limit;
    });
    return page;
  }

  /** How many customers the query's filters select (HEAD's X-total-count): limit and offset do not apply. */
  count(query: ListQuery): number {
    if (!query.conditions.length) return this.ids.length;
    let total = 0;
    this.scan(query, () => {
      total++;
      return true;
    });
    return total;
  }

  /**
   * Visits the matching ids in order until `visit` answers false. Only the id range the id conditions allow is
   * walked (the keyset query `id > after` starts at after's position), and each id is tested on typed or cheap
   * fields before any record is generated.
   */
  private scan(query: ListQuery, visit: (id: number) => boolean): void {
    const match = this.compile(query.conditions);
    const [from, to] = this.idRange(query.conditions);
    const step = query.descending ? -1 : 1;
    for (let i = query.descending ? to - 1 : from; i >= from && i < to; i += step) {
      const id = this.ids[i];
      if (match(id) && !visit(id)) return;
    }
  }

  /** The conditions as one test; id bounds are left out, since `idRange` only walks the ids inside them. */
  private compile(conditions: Condition[]): (id: number) => boolean {
    const rank = (c: Condition) => (INDEXED.includes(c.field) ? INDEXED.indexOf(c.field) : INDEXED.length);
    const tests = [...conditions]
      .sort((a, b) => rank(a) - rank(b))
      .map((c) => ({ c, test: compileCondition(c, this.reader(c)) }))
      .filter(({ c }) => !(c.field === 'id' && ID_BOUNDS.has(c.op)))
      .map(({ test }) => test);
    if (tests.length === 0) return () => true;
    if (tests.length === 1) return tests[0];
    return (id) => {
      for (const test of tests) if (!test(id)) return false;
      return true;
    };
  }

  /** The [from, to) positions in `ids` that the id conditions (> >= = < <= BETWEEN) leave. */
  private idRange(conditions: Condition[]): [number, number] {
    let low = Number.NEGATIVE_INFINITY;
    let high = Number.POSITIVE_INFINITY;
    for (const c of conditions.filter((x) => x.field === 'id' && ID_BOUNDS.has(x.op))) {
      const [a, b] = c.operands.map(Number);
      if (c.op === '>') low = Math.max(low, a + 1);
      if (c.op === '>=' || c.op === '=' || c.op === 'BETWEEN') low = Math.max(low, a);
      if (c.op === '<') high = Math.min(high, a - 1);
      if (c.op === '<=' || c.op === '=') high = Math.min(high, a);
      if (c.op === 'BETWEEN') high = Math.min(high, b);
    }
    const from = low === Number.NEGATIVE_INFINITY ? 0 : this.lowerBound(low);
    const to = high === Number.POSITIVE_INFINITY ? this.ids.length : this.lowerBound(high + 1);
    return [from, Math.max(from, to)];
  }

  private reader(c: Condition): FieldReader {
    const name = `main_attributes[${c.field}]`;
    switch (c.field) {
      case 'id':
        return {
          read: (id) => id,
          parse: (v) => {
            if (!/^\d+$/.test(v.trim())) throw new BadListQuery(`${name}: ${v} is not an id`);
            return Number(v);
          },
          text: (id) => String(id),
        };
      case 'last_update':
        return this.dateReader(name, (id) => this.lastUpdateSeconds(id), splynxDateTime);
      case 'date_add':
        return this.dateReader(name, (id) => this.dateAddSeconds(id), splynxDate);
      case 'status': {
        const status = (id: number) => generatedKeyFields(this.seed, id, this.revisions.get(id) ?? 0).status;
        return { read: status, parse: (v) => v, text: status };
      }
      default: {
        if (!this.fieldNames.has(c.field)) throw new BadListQuery(`Unknown attribute ${name}`);
        // Other fields need the record; one cached record serves every condition on the same id.
        const text = (id: number) => {
          const value = this.cachedRecord(id)[c.field];
          return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
        };
        return { read: text, parse: (v) => v, text };
      }
    }
  }

  private dateReader(name: string, seconds: (id: number) => number, format: (s: number) => string): FieldReader {
    return {
      read: seconds,
      parse: (v) => {
        const parsed = parseSplynxDateTime(v.trim());
        if (parsed === null) throw new BadListQuery(`${name}: ${v} is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)`);
        return parsed;
      },
      text: (id) => format(seconds(id)),
    };
  }

  private cachedRecord(id: number): SplynxCustomerRecord {
    if (this.cached?.id !== id) this.cached = { id, record: this.record(id)! };
    return this.cached.record;
  }

  private lastUpdateSeconds(id: number): number {
    if (id > this.generated) return this.stamps.get(id)!;
    this.lastUpdateIndex ??= this.buildLastUpdateIndex();
    return this.lastUpdateIndex[id];
  }

  private dateAddSeconds(id: number): number {
    return this.created.get(id) ?? generatedKeyFields(this.seed, id).dateAdd;
  }

  /** One pass over the generator (a few PRNG draws per id, no records), then the stamps on top. */
  private buildLastUpdateIndex(): Uint32Array {
    const index = new Uint32Array(this.generated + 1);
    for (let id = 1; id <= this.generated; id++) index[id] = generatedKeyFields(this.seed, id).lastUpdate;
    for (const [id, seconds] of this.stamps) if (id <= this.generated) index[id] = seconds;
    return index;
  }

  private stamp(id: number, seconds: number): void {
    this.stamps.set(id, seconds);
    if (this.lastUpdateIndex && id <= this.generated) this.lastUpdateIndex[id] = seconds;
  }

  /** Ids spread evenly over the list, offset by `phase`, so changes are not all on the first page. */
  private spread(n: number, phase: number): number[] {
    if (n <= 0) return [];
    const step = Math.max(1, Math.floor(this.ids.length / n));
    const out: number[] = [];
    for (
      let i = Math.min(phase + Math.floor(step / 2), this.ids.length - 1);
      out.length < n && i < this.ids.length;
      i += step
    )
      out.push(this.ids[i]);
    return out;
  }

  private lowerBound(id: number): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
