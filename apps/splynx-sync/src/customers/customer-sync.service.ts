import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import {
  ChangeType,
  changedFields,
  changeEventMessage,
  RunStats,
  SPLYNX_CUSTOMER_RECORD_FIELDS,
  SplynxCustomerRecord,
  Topic,
} from '@sync-hub/contracts';
import { ChangeEventSender, ReliablePublisher } from '@sync-hub/messaging';
import {
  bulkUpsert,
  hydrate,
  readCursor,
  selectList,
  StoredForm,
  transactionRetryingDeadlocks,
  writeCursor,
} from '@sync-hub/persistence';
import { attachStats } from '@sync-hub/runs';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { SplynxClient } from './splynx.client';
import { SplynxClock } from './splynx-clock';
import { SplynxCustomer } from './splynx-customer.entity';
import { MalformedCustomerError, mapSplynxCustomer, SplynxCustomerRow } from './splynx-customer.mapper';

export interface CustomerSyncOptions {
  /**
   * `incremental` (the hourly job): only customers whose `last_update` is at or after the watermark minus the overlap
   * (everything when there is no watermark yet); deactivates nothing. `full` (the daily job, the CLI's `--full`): every
   * customer, then those it did not see are marked inactive. Default `full`.
   */
  mode?: 'incremental' | 'full';
  /** Fetch and compare only; write nothing. */
  dryRun?: boolean;
  /** Stop after this many customers. A limited run never deactivates anything and moves no watermark. */
  limit?: number;
  /** Aborted at the run's time limit: the sync stops between pages and deactivates nothing. */
  signal?: AbortSignal;
  /** The run's id, carried by its change events (`splynx.customer.changed.v1`); none are sent without it. */
  runId?: string;
}

export interface CustomerSyncStats extends RunStats {
  deactivated: number;
}

/** The watermark's stream in sync_cursors: the instant (ISO, UTC) up to which every change has been read. */
export const SPLYNX_CUSTOMERS_STREAM = 'splynx.customers';
/** Rows per INSERT … ON DUPLICATE KEY UPDATE: the page, unless a huge page size would pass the bind-variable limit. */
const MAX_ROWS_PER_STATEMENT = 1500;
/** The columns a sync writes besides the key `splynx_id` (the benchmark's ceiling writes the same). */
export const SPLYNX_CUSTOMER_COLUMNS = [
  'login',
  'name',
  'email',
  'phone',
  'status',
  'category',
  'billing_type',
  'partner_id',
  'location_id',
  'date_add',
  'last_update',
  'raw',
  'content_hash',
  'synced_at',
  'active',
  'sync_generation',
];

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What one run has read so far, besides its stats: bounded, whatever the number of customers. */
interface RunState {
  /** The run's mark on every row it writes or sees (its start, ms). */
  generation: number;
  /** The newest `last_update` read (ms), for the watermark. */
  newestChange: number;
  /** The highest id of the pages before: keyset pages never repeat one, so a repeat is dropped, not counted twice. */
  highestId: number;
  /** Dry-run full run: customers seen that are active in the table (what it would not deactivate). */
  activeSeen: number;
  /** The run whose change events this run sends, or null when it sends none (CHANGE_EVENTS, a dry run, no run id). */
  eventsRunId: string | null;
  /** Sends the committed pages' change events, in commit order, in the background (with eventsRunId). */
  sender: ChangeEventSender | null;
}

/** The stored columns a change event's record is made of (and compared on). */
const RECORD_COLUMNS = [
  'splynx_id',
  'login',
  'name',
  'email',
  'phone',
  'status',
  'category',
  'billing_type',
  'partner_id',
  'location_id',
  'date_add',
  'last_update',
  'active',
];
/** Customers deactivated per transaction, with their change events, when events are on. */
const DEACTIVATE_BATCH = 1000;

/** A stored or mapped customer in the shape its change event carries. */
export function splynxCustomerRecord(
  c: Pick<SplynxCustomer, Exclude<keyof SplynxCustomerRecord, 'lastUpdate'>> & { lastUpdate: Date | null },
): SplynxCustomerRecord {
  return {
    splynxId: c.splynxId,
    login: c.login,
    name: c.name,
    email: c.email,
    phone: c.phone,
    status: c.status,
    category: c.category,
    billingType: c.billingType,
    partnerId: c.partnerId,
    locationId: c.locationId,
    dateAdd: c.dateAdd,
    lastUpdate: c.lastUpdate ? c.lastUpdate.toISOString() : null,
    active: c.active,
  };
}

/**
 * Mirrors Splynx customers into `splynx_customers` (seed 000), page by page: each page is compared with the stored
 * content hashes and only new or changed customers are written, in one multi-row upsert. Incremental runs read only
 * what changed since the watermark; a full run reads everything and marks each row it saw with its generation, then
 * deactivates in one statement the active customers without that mark. Memory holds a few pages, whatever the size.
 */
@Injectable()
export class CustomerSyncService {
  private readonly logger = new Logger(CustomerSyncService.name);
  private readonly clock: SplynxClock;

  constructor(
    private readonly splynx: SplynxClient,
    @InjectRepository(SplynxCustomer) private readonly customers: Repository<SplynxCustomer>,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly outbox?: ReliablePublisher,
  ) {
    this.clock = new SplynxClock(config.splynx.timeZone);
  }

  async run(options: CustomerSyncOptions = {}): Promise<CustomerSyncStats> {
    const stats: CustomerSyncStats = {
      fetched: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
      deactivated: 0,
    };
    const full = (options.mode ?? 'full') === 'full';
    const dryRun = options.dryRun ?? false;
    const complete = options.limit === undefined;
    const sendsEvents = !dryRun && this.outbox !== undefined && this.config.changeEvents.includes('splynx');
    const state: RunState = {
      generation: Date.now(),
      newestChange: -Infinity,
      highestId: 0,
      activeSeen: 0,
      eventsRunId: sendsEvents && options.runId ? options.runId : null,
      sender: null,
    };
    if (state.eventsRunId) state.sender = new ChangeEventSender(this.outbox!, this.logger, 'customer change events');
    try {
      const watermark = await this.readWatermark();
      const since = full || watermark === null ? undefined : this.changedSince(watermark, state.generation);
      if (since !== undefined) this.logger.log(`reading customers changed since ${since} (${this.clock.timeZone})`);
      // Stages at once: page N+1 is fetched while page N is mapped and earlier pages are written, up to
      // SPLYNX_WRITE_CONCURRENCY writes in flight on as many connections. Keyset pages never share an id, so their
      // writes do not depend on each other.
      const pages = this.splynx.customerPages(this.config.splynx.pageSize, options.limit, since);
      const writing = new Set<Promise<void>>();
      let next = pages.next();
      for (;;) {
        const current = await next;
        options.signal?.throwIfAborted();
        if (current.done) break;
        next = pages.next();
        next.catch(() => undefined); // a failure is seen when awaited, not reported as unhandled meanwhile
        const page = current.value;
        stats.fetched += page.length;
        const mapped = this.mapPage(page, state, stats);
        while (writing.size >= this.config.splynx.writeConcurrency) await Promise.race(writing);
        const write = this.applyPage(mapped, state, stats, { dryRun, full });
        writing.add(write);
        // A failed write stays in the set: the next wait for a free writer, or the last, throws it.
        write.then(
          () => writing.delete(write),
          () => undefined,
        );
      }
      await Promise.all(writing);
      options.signal?.throwIfAborted();
      if (complete && full) stats.deactivated = await this.deactivateUnseen(state, dryRun);
      if (complete && !dryRun) await this.advanceWatermark(watermark, state);
      return stats;
    } catch (err) {
      throw attachStats(err, stats);
    } finally {
      // The events of every committed page go out before the run reports; what the bus refuses stays in the outbox.
      await state.sender?.finish();
    }
  }

  /**
   * The `last_update` an incremental run asks from: the watermark minus the overlap, on Splynx's clock. When the zone
   * has fallen back since then (a DST end), its wall clock repeated an hour: that much more is read, or changes made in
   * the repeated hour would sort before the watermark's wall time and be missed.
   */
  changedSince(watermark: number, now: number): string {
    let from = watermark - this.config.splynx.incrementalOverlapSeconds * 1000;
    const repeated = this.clock.offsetAt(from) - this.clock.offsetAt(now);
    if (repeated > 0) from -= repeated * 60_000;
    return this.clock.format(from);
  }

  private async readWatermark(): Promise<number | null> {
    const cursor = await readCursor(this.dataSource.manager, SPLYNX_CUSTOMERS_STREAM);
    const at = cursor ? Date.parse(cursor.position) : NaN;
    return Number.isNaN(at) ? null : at;
  }

  /**
   * After the run's writes committed: the newest `last_update` read, but never past the run's start. A customer changed
   * while the run was paging, after its page was read, carries a `last_update` after the start, so the next run sees
   * it (within the overlap of clock skew between Splynx and this host). The watermark never moves back.
   */
  private async advanceWatermark(previous: number | null, state: RunState): Promise<void> {
    if (!Number.isFinite(state.newestChange)) return;
    const next = Math.max(previous ?? -Infinity, Math.min(state.newestChange, state.generation));
    if (previous !== null && next <= previous) return;
    await writeCursor(this.dataSource.manager, SPLYNX_CUSTOMERS_STREAM, new Date(next).toISOString());
  }

  private mapPage(page: unknown[], state: RunState, stats: CustomerSyncStats) {
    const rows: SplynxCustomerRow[] = [];
    /** Unreadable customers Splynx still has: they must not be deactivated for being unreadable today. */
    const unreadable: number[] = [];
    const floor = state.highestId;
    const inPage = new Set<number>();
    for (const raw of page) {
      try {
        const row = mapSplynxCustomer(raw, this.clock);
        if (row.splynxId <= floor || inPage.has(row.splynxId)) continue; // already handled
        inPage.add(row.splynxId);
        state.highestId = Math.max(state.highestId, row.splynxId);
        if (row.lastUpdate) state.newestChange = Math.max(state.newestChange, row.lastUpdate.getTime());
        rows.push(row);
      } catch (err) {
        if (!(err instanceof MalformedCustomerError)) throw err;
        stats.failed++;
        if (err.customerId !== null) {
          unreadable.push(err.customerId);
          state.highestId = Math.max(state.highestId, err.customerId);
        }
        this.logger.warn(
          { customerId: err.customerId, problems: err.problems },
          `skipping malformed Splynx customer ${err.customerId ?? '(no id)'}`,
        );
      }
    }
    return { rows, unreadable };
  }

  private async applyPage(
    page: { rows: SplynxCustomerRow[]; unreadable: number[] },
    state: RunState,
    stats: CustomerSyncStats,
    mode: { dryRun: boolean; full: boolean },
  ): Promise<void> {
    const { rows, unreadable } = page;
    if (rows.length === 0 && unreadable.length === 0) return;
    const stored = new Map<number, { hash: string; active: boolean; record?: SplynxCustomerRecord }>();
    const events = state.eventsRunId !== null;
    for (const ids of chunks([...rows.map((r) => r.splynxId), ...unreadable], MAX_ROWS_PER_STATEMENT)) {
      if (events) {
        // The columns of the record too: an updated customer's event names the fields that changed.
        const m = this.customers.manager;
        const found: Array<Record<string, unknown>> = await m.query(
          `SELECT ${selectList(m, SplynxCustomer, [...RECORD_COLUMNS, 'content_hash'])} FROM splynx_customers ` +
            `WHERE splynx_id IN (${ids.map(() => '?').join(', ')})`,
          ids,
        );
        for (const c of hydrate(m, SplynxCustomer, found))
          stored.set(c.splynxId, { hash: c.contentHash, active: c.active, record: splynxCustomerRecord(c) });
        continue;
      }
      const found = await this.customers
        .createQueryBuilder('c')
        .select('c.splynx_id', 'id')
        .addSelect('c.content_hash', 'hash')
        .addSelect('c.active', 'active')
        .where('c.splynx_id IN (:...ids)', { ids })
        .getRawMany<{ id: number | string; hash: string; active: number | boolean | string }>();
      for (const f of found)
        stored.set(Number(f.id), { hash: f.hash, active: Number(f.active) === 1 || f.active === true });
    }

    const syncedAt = new Date();
    const changed: QueryDeepPartialEntity<SplynxCustomer>[] = [];
    const changes: Array<{ changeType: ChangeType; record: SplynxCustomerRecord; before?: SplynxCustomerRecord }> = [];
    /** Stored customers this full run saw and does not rewrite: marked with its generation all the same. */
    const seenOnly: number[] = [];
    for (const row of rows) {
      const existing = stored.get(row.splynxId);
      if (existing?.active) state.activeSeen++;
      if (!existing) stats.created++;
      else if (existing.hash !== row.contentHash || !existing.active) stats.updated++;
      else {
        stats.unchanged++;
        seenOnly.push(row.splynxId);
        continue;
      }
      const { rawText, ...columns } = row;
      if (events) {
        const record = splynxCustomerRecord({ ...row, active: true });
        changes.push({ changeType: existing ? 'updated' : 'created', record, before: existing?.record });
      }
      changed.push({
        ...columns,
        raw: new StoredForm(row.raw, rawText),
        syncedAt,
        active: true,
        syncGeneration: state.generation,
      } as unknown as QueryDeepPartialEntity<SplynxCustomer>);
    }
    for (const id of unreadable) {
      if (!stored.has(id)) continue;
      if (stored.get(id)!.active) state.activeSeen++;
      seenOnly.push(id);
    }
    if (mode.dryRun) return;
    if (!events) {
      await this.writePage(this.customers.manager, changed, seenOnly, state, mode.full);
      return;
    }
    // The page's rows and its change events commit together (the transactional outbox); the events go out after.
    const messages = changes.flatMap(({ changeType, record, before }) => {
      const fields = changedFields(SPLYNX_CUSTOMER_RECORD_FIELDS, record, before);
      // A rewrite the record does not show (a field of Splynx's own record the hub does not map) is no change to it.
      if (fields.length === 0) return [];
      const id = String(record.splynxId);
      const change = {
        changeType,
        id,
        runId: state.eventsRunId!,
        occurredAt: syncedAt.toISOString(),
        changedFields: fields,
        record,
      };
      return [changeEventMessage(Topic.SplynxCustomerChanged, change)];
    });
    // Two pages write at once: neighbouring keys can deadlock, and the page is then written again.
    const batch = await transactionRetryingDeadlocks(this.dataSource, async (m) => {
      await this.writePage(m, changed, seenOnly, state, mode.full);
      return this.outbox!.enqueueBatch(m, Topic.SplynxCustomerChanged, messages, syncedAt);
    });
    state.sender!.queue(batch);
    // Memory flat whatever the size: when the sender falls behind, the writers wait for it.
    await state.sender!.keepUp();
  }

  private async writePage(
    m: EntityManager,
    changed: QueryDeepPartialEntity<SplynxCustomer>[],
    seenOnly: number[],
    state: RunState,
    full: boolean,
  ): Promise<void> {
    const customers = m.getRepository(SplynxCustomer);
    for (const batch of chunks(changed, MAX_ROWS_PER_STATEMENT)) {
      await bulkUpsert(customers, batch, SPLYNX_CUSTOMER_COLUMNS, ['splynx_id']);
    }
    if (!full) return;
    for (const ids of chunks(seenOnly, MAX_ROWS_PER_STATEMENT)) {
      await customers
        .createQueryBuilder()
        .update(SplynxCustomer)
        .set({ syncGeneration: state.generation })
        .where('splynx_id IN (:...ids)', { ids })
        .execute();
    }
  }

  /**
   * After a complete full run: every active customer not marked with this run's generation has vanished from Splynx
   * and is marked inactive, in one statement (never deleted). A dry run counts them instead: the active customers
   * less those it saw active.
   */
  private async deactivateUnseen(state: RunState, dryRun: boolean): Promise<number> {
    if (dryRun) {
      const active = await this.customers.countBy({ active: true });
      return Math.max(0, active - state.activeSeen);
    }
    if (state.eventsRunId) return this.deactivateWithEvents(state, state.eventsRunId);
    const result = await this.customers
      .createQueryBuilder()
      .update(SplynxCustomer)
      .set({ active: false, syncedAt: new Date() })
      .where('active = :active AND sync_generation <> :generation', { active: true, generation: state.generation })
      .execute();
    return result.affected ?? 0;
  }

  /**
   * The same, with a change event per deactivated customer: DEACTIVATE_BATCH customers per transaction, read (and on
   * MariaDB locked), deactivated and their events written to the outbox together. Memory holds one batch.
   */
  private async deactivateWithEvents(state: RunState, runId: string): Promise<number> {
    const mysql = this.dataSource.options.type === 'mysql';
    let deactivated = 0;
    for (;;) {
      const { done, batch, count } = await transactionRetryingDeadlocks(this.dataSource, async (m) => {
        const active: unknown = m.connection.driver.preparePersistentValue(
          true,
          m.connection.getMetadata(SplynxCustomer).findColumnWithPropertyName('active')!,
        );
        const rows: Array<Record<string, unknown>> = await m.query(
          `SELECT ${selectList(m, SplynxCustomer, RECORD_COLUMNS)} FROM splynx_customers ` +
            `WHERE active = ? AND sync_generation <> ? ORDER BY splynx_id LIMIT ${DEACTIVATE_BATCH}${mysql ? ' FOR UPDATE' : ''}`,
          [active, state.generation],
        );
        const customers = hydrate(m, SplynxCustomer, rows);
        if (customers.length === 0) return { done: true, batch: null, count: 0 };
        const syncedAt = new Date();
        const ids = customers.map((c) => c.splynxId);
        await m
          .createQueryBuilder()
          .update(SplynxCustomer)
          .set({ active: false, syncedAt })
          .where('splynx_id IN (:...ids)', { ids })
          .execute();
        const messages = customers.map((c) =>
          changeEventMessage(Topic.SplynxCustomerChanged, {
            changeType: 'deactivated',
            id: String(c.splynxId),
            runId,
            occurredAt: syncedAt.toISOString(),
            changedFields: ['active'],
            record: splynxCustomerRecord({ ...c, active: false }),
          }),
        );
        const enqueued = await this.outbox!.enqueueBatch(m, Topic.SplynxCustomerChanged, messages, syncedAt);
        return { done: customers.length < DEACTIVATE_BATCH, batch: enqueued, count: customers.length };
      });
      if (batch) {
        deactivated += count;
        state.sender!.queue(batch);
      }
      if (done) return deactivated;
    }
  }
}
