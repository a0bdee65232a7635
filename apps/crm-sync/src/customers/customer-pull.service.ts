import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { RobawsCustomerRecord, RunStats } from '@sync-hub/contracts';
import { EnqueuedBatch, ReliablePublisher } from '@sync-hub/messaging';
import {
  bulkUpsert,
  isDeadlock,
  readCursor,
  StoredForm,
  transactionRetryingDeadlocks,
  writeCursor,
} from '@sync-hub/persistence';
import { attachStats } from '@sync-hub/runs';
import { DataSource, EntityManager, In } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { RobawsApiClient, RobawsPage } from '../robaws/robaws-api.client';
import { ChangeEventSink, CustomerChange, CustomerChangeEvents } from './customer-change-events';
import { RecordColumns, robawsCustomerRecord } from './customer-views';
import { EDITABLE_FIELDS, RobawsCustomer } from './robaws-customer.entity';
import { mapRobawsClient, MappedCustomer, RobawsClientRecord, RobawsCustomerFields } from './normalise';

/** The incremental pull's stream in sync_cursors: the `updatedAt` of the newest change stored. */
export const ROBAWS_CLIENTS_STREAM = 'robaws.clients';
/** Incremental pulls ask for changes since the cursor minus this: a change stamped just before it is not missed. */
export const INCREMENTAL_OVERLAP_MS = 5 * 60_000;
/** A full pull checks each customer it did not see with a GET before marking it; beyond this many it trusts the list. */
const VERIFY_VANISHED_AT_MOST = 100;
/** Pages read ahead of the one being written (an unlimited run). */
const PAGES_AHEAD = 4;
/** Rows written in one transaction at most, and how long the first page of a batch may wait for the others. */
const WRITE_BATCH_ROWS = 500;
const WRITE_BATCH_MS = 1000;
/** Tries of a batch's transaction that MariaDB ended as a deadlock's victim (a webhook writing the same rows). */
const DEADLOCK_TRIES = 3;
/** Customers marked deleted_upstream per statement (and, with change events, per transaction). */
const MARK_GONE_BATCH = 1000;

export type PullMode = 'incremental' | 'full';

export interface CustomerPullStats extends RunStats {
  deletedUpstream: number;
  invalidPhones: number;
  invalidVat: number;
}

export interface CustomerPullOptions {
  mode: PullMode;
  dryRun?: boolean;
  /** Stop after this many customers; a limited run moves no cursor and marks nothing deleted. */
  limit?: number;
  /** Only this client, fetched by id (the CLI's --client-id, POST /api/crm/customers/:id/sync). */
  clientId?: number;
  signal?: AbortSignal;
  /** The run's id, carried by its change events (`crm.robaws.customer.changed.v1`); none are sent without it. */
  runId?: string;
  /** Called after each page is stored (the CLI's progress). */
  onPage?: (progress: { page: number; totalPages: number; stats: CustomerPullStats }) => void;
}

export interface CustomerPullResult {
  stats: CustomerPullStats;
  /** Dry runs: the first customers as they would be stored (at most 20). */
  preview: RobawsCustomerFields[];
}

/** How a record relates to what is stored: written (created / updated) or counted only. */
type Outcome = 'created' | 'updated' | 'unchanged' | 'older';

interface StoredState {
  hash: string;
  upstreamUpdatedAt: Date | null;
  deletedUpstream: boolean;
  localDirty: RobawsCustomer['localDirty'];
  /** Read only when the write sends change events: the record it replaces. */
  record?: RobawsCustomerRecord;
}

/** A write's outcome per customer, and its change events in the outbox (null when it sends none). */
interface Written {
  outcomes: Outcome[];
  batch: EnqueuedBatch | null;
}

/** The columns a pull writes besides the key `robaws_id` (the benchmark's table ceiling writes the same). */
export const ROBAWS_CUSTOMER_COLUMNS = [
  'name',
  'role',
  'email',
  'tel',
  'gsm',
  'phone',
  'website',
  'address_line1',
  'address_line2',
  'postal_code',
  'city',
  'country',
  'vat_number',
  'vat_valid',
  'currency',
  'language',
  'is_active',
  'metadata',
  'content_hash',
  'upstream_updated_at',
  'synced_at',
  'deleted_upstream',
];

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Robaws clients into `robaws_customers` (seed 003). Each page is normalised, compared with the stored content hashes
 * and written in one multi-row upsert inside one transaction; unchanged customers are counted, not rewritten. A
 * customer with a local edit not pushed yet keeps its edited fields: the pull stores the newer upstream record
 * (`metadata`, `upstream_updated_at`) beside them, which is how a push later tells that Robaws moved on. Every
 * customer a write creates, changes or marks deleted_upstream has a change event (`crm.robaws.customer.changed.v1`),
 * written to the outbox in the write's transaction and sent once it commits.
 */
@Injectable()
export class CustomerPullService {
  private readonly logger = new Logger(CustomerPullService.name);
  private readonly observers = new Set<NonNullable<CustomerPullOptions['onPage']>>();
  private readonly events: CustomerChangeEvents;

  constructor(
    private readonly robaws: RobawsApiClient,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() outbox?: ReliablePublisher,
  ) {
    this.events = new CustomerChangeEvents(outbox, config, this.logger);
  }

  /** Sees every page any pull stores (the CLI's progress, whichever way the run was started); answers an unsubscribe. */
  observe(observer: NonNullable<CustomerPullOptions['onPage']>): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  async pull(options: CustomerPullOptions): Promise<CustomerPullResult> {
    const stats = this.emptyCounts();
    const preview: RobawsCustomerFields[] = [];
    const one = options.clientId !== undefined;
    // A run of pages sends its batches' events in the background; one client's, once its write has committed.
    const sink = this.events.open(options.runId, { dryRun: options.dryRun, background: !one });
    try {
      if (one) await this.pullOne(options.clientId!, options, stats, preview, sink);
      else await this.pullPages(options, stats, preview, sink);
      return { stats, preview };
    } catch (err) {
      throw attachStats(err, stats);
    } finally {
      // The events of every committed batch go out before the run reports; what the bus refuses stays in the outbox.
      await sink?.sender?.finish();
    }
  }

  /**
   * Stores one client's record as a webhook delivered it, unless a version at least as new is stored already (an
   * older event arriving late changes nothing). Answers what it did. Its change event carries no run id.
   */
  applyRecord(record: RobawsClientRecord): Promise<Outcome> {
    return this.applyOne(record, this.events.open(null, {}));
  }

  private async applyOne(record: RobawsClientRecord, sink: ChangeEventSink | null): Promise<Outcome> {
    const stats = this.emptyCounts();
    const mapped = mapRobawsClient(record, this.config.crm.robaws.defaultCountry);
    const written = await this.dataSource.transaction((manager) =>
      this.writePage(manager, [mapped], stats, false, sink),
    );
    if (sink && written.batch) await this.events.committed(sink, written.batch);
    return written.outcomes[0];
  }

  private emptyCounts(): CustomerPullStats {
    return {
      fetched: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
      deletedUpstream: 0,
      invalidPhones: 0,
      invalidVat: 0,
    };
  }

  private async pullOne(
    id: number,
    options: CustomerPullOptions,
    stats: CustomerPullStats,
    preview: RobawsCustomerFields[],
    sink: ChangeEventSink | null,
  ): Promise<void> {
    const record = await this.robaws.getClient(id);
    if (record === null) {
      // Robaws has no such client: a stored one is marked, never deleted.
      if (sink) {
        stats.deletedUpstream += await this.markGone([id], sink);
        return;
      }
      const stored = await this.dataSource.getRepository(RobawsCustomer).findOneBy({ robawsId: id });
      if (stored && !stored.deletedUpstream) {
        stats.deletedUpstream++;
        if (!options.dryRun)
          await this.dataSource.getRepository(RobawsCustomer).update({ robawsId: id }, { deletedUpstream: true });
      }
      return;
    }
    stats.fetched++;
    const mapped = this.map([record], stats);
    if (options.dryRun) preview.push(...mapped.map((m) => m.fields));
    const written = await this.dataSource.transaction((manager) =>
      this.writePage(manager, mapped, stats, options.dryRun ?? false, sink),
    );
    if (sink && written.batch) await this.events.committed(sink, written.batch);
  }

  private async pullPages(
    options: CustomerPullOptions,
    stats: CustomerPullStats,
    preview: RobawsCustomerFields[],
    sink: ChangeEventSink | null,
  ): Promise<void> {
    const startedAt = new Date();
    const dryRun = options.dryRun ?? false;
    const cursor = await readCursor(this.dataSource.manager, ROBAWS_CLIENTS_STREAM);
    const updatedFrom =
      options.mode === 'incremental' && cursor
        ? new Date(new Date(cursor.position).getTime() - INCREMENTAL_OVERLAP_MS)
        : undefined;
    const seen = options.mode === 'full' ? new Set<number>() : null;
    let newest = cursor ? new Date(cursor.position).getTime() : Number.NEGATIVE_INFINITY;
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;

    const pages = this.robaws.clientPages({ updatedFrom, pageSize: this.config.crm.robaws.pageSize });
    // Pages are read ahead while earlier ones are normalised and written (one after another: the generator runs its
    // requests in order). A limited run reads one page ahead only, so as not to spend Robaws's tokens on pages it drops.
    const lookahead = options.limit === undefined ? PAGES_AHEAD : 1;
    const ahead: Array<Promise<IteratorResult<RobawsPage>>> = [];
    // Pages are written together, up to WRITE_BATCH_ROWS rows or WRITE_BATCH_MS after the first of them arrived: a
    // commit per 100-row page would spend most of a fast pull waiting on commits.
    let pending = new Map<number, MappedCustomer>();
    let pendingSince = 0;
    // One write in flight: the next batch is read and normalised while the previous one is written. (Two batches
    // written at once on two connections measured no faster: the pull's own CPU, not MariaDB, is what it waits on.)
    let writing: Promise<void> = Promise.resolve();
    const flush = async (last: boolean): Promise<void> => {
      const batch = [...pending.values()];
      pending = new Map();
      // The cursor moves with the last rows, in their transaction: a run that dies before leaves it where it was, and
      // the next run reads those changes again.
      const moveCursor = last && !dryRun && options.limit === undefined && Number.isFinite(newest);
      const cursorAt = moveCursor ? new Date(newest).toISOString() : null;
      await writing;
      writing = this.writeBatch(batch, stats, dryRun, cursorAt, sink);
      writing.catch(() => undefined); // a failure is seen when awaited
    };
    try {
      for (;;) {
        while (ahead.length < lookahead) {
          const next = pages.next();
          next.catch(() => undefined); // a failure is seen when awaited, not reported as unhandled meanwhile
          ahead.push(next);
        }
        const current = await ahead.shift()!;
        options.signal?.throwIfAborted();
        if (current.done) {
          if (pending.size > 0) await flush(true);
          break;
        }
        const page = current.value;
        const records = page.items.slice(0, Math.min(page.items.length, remaining));
        remaining -= records.length;
        stats.fetched += records.length;
        const mapped = this.map(records, stats);
        if (pending.size === 0) pendingSince = Date.now();
        for (const m of mapped) {
          const id = Number(m.fields.robawsId);
          seen?.add(id);
          pending.set(id, m);
          const at = m.fields.upstreamUpdatedAt?.getTime();
          if (at !== undefined && at > newest) newest = at;
        }
        if (dryRun && preview.length < 20) preview.push(...mapped.slice(0, 20 - preview.length).map((m) => m.fields));
        const last = remaining <= 0 || records.length < page.items.length || page.page + 1 >= page.totalPages;
        if (last || pending.size >= WRITE_BATCH_ROWS || Date.now() - pendingSince >= WRITE_BATCH_MS) await flush(last);
        const progress = { page: page.page + 1, totalPages: page.totalPages, stats };
        options.onPage?.(progress);
        for (const observer of this.observers) observer(progress);
        if (remaining <= 0) break;
      }
      await writing;
    } catch (err) {
      // Robaws failed mid-pull (issue 14): the pages already read are stored all the same (the cursor stays), so the
      // failed run's stats say what it wrote and the next run does not read them as new again.
      if (pending.size > 0 && !options.signal?.aborted) await flush(false).catch(() => undefined);
      throw err;
    } finally {
      // A failed run returns only once nothing of it is still writing.
      await writing.catch(() => undefined);
    }
    options.signal?.throwIfAborted();
    if (seen && options.limit === undefined)
      stats.deletedUpstream = await this.markVanished(seen, startedAt, dryRun, sink);
  }

  /**
   * One batch in one transaction, with the cursor and the batch's change events when given. Its counts join the run's
   * stats only once it committed, so that a transaction MariaDB rolled back as a deadlock victim is simply tried again
   * (its events too: they are worked out from the reads of the try that commits).
   */
  private async writeBatch(
    batch: MappedCustomer[],
    stats: CustomerPullStats,
    dryRun: boolean,
    cursorAt: string | null,
    sink: ChangeEventSink | null,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const counts = this.emptyCounts();
      let enqueued: EnqueuedBatch | null;
      try {
        enqueued = await this.dataSource.transaction(async (manager) => {
          const written = await this.writePage(manager, batch, counts, dryRun, sink);
          if (cursorAt !== null) await writeCursor(manager, ROBAWS_CLIENTS_STREAM, cursorAt);
          return written.batch;
        });
      } catch (err) {
        if (attempt < DEADLOCK_TRIES && isDeadlock(err)) continue;
        throw err;
      }
      for (const key of ['created', 'updated', 'unchanged', 'invalidPhones', 'invalidVat'] as const)
        stats[key] += counts[key];
      if (sink && enqueued) await this.events.committed(sink, enqueued);
      return;
    }
  }

  private map(records: RobawsClientRecord[], stats: CustomerPullStats): MappedCustomer[] {
    const out: MappedCustomer[] = [];
    for (const record of records) {
      const id = Number(record?.id);
      if (!Number.isInteger(id) || id <= 0) {
        stats.failed++;
        this.logger.warn(`skipping a Robaws client without a readable id (${JSON.stringify(record?.id)})`);
        continue;
      }
      out.push(mapRobawsClient(record, this.config.crm.robaws.defaultCountry));
    }
    return out;
  }

  /**
   * Compares pages' customers with what is stored and writes the new and changed ones in one upsert, with their change
   * events when `sink` is given (the stored records are then read too, to name the fields that changed).
   */
  private async writePage(
    manager: EntityManager,
    mapped: MappedCustomer[],
    stats: CustomerPullStats,
    dryRun: boolean,
    sink: ChangeEventSink | null,
  ): Promise<Written> {
    if (mapped.length === 0) return { outcomes: [], batch: null };
    const repo = manager.getRepository(RobawsCustomer);
    const ids = mapped.map((m) => Number(m.fields.robawsId));
    const stored = new Map<number, StoredState>();
    const found = sink
      ? await this.events.readStored(manager, ids)
      : await repo.find({
          select: {
            robawsId: true,
            contentHash: true,
            upstreamUpdatedAt: true,
            deletedUpstream: true,
            localDirty: true,
          },
          where: { robawsId: In(ids) },
        });
    for (const row of found)
      stored.set(Number(row.robawsId), {
        hash: row.contentHash,
        upstreamUpdatedAt: row.upstreamUpdatedAt,
        deletedUpstream: row.deletedUpstream,
        localDirty: row.localDirty,
        record: sink ? robawsCustomerRecord(row) : undefined,
      });

    const syncedAt = new Date();
    const rows: Array<QueryDeepPartialEntity<RobawsCustomer>> = [];
    const changes: CustomerChange[] = [];
    const outcomes: Outcome[] = [];
    for (const m of mapped) {
      const id = Number(m.fields.robawsId);
      const existing = stored.get(id);
      const outcome = this.compare(m, existing);
      outcomes.push(outcome);
      if (outcome === 'older' || outcome === 'unchanged') {
        stats.unchanged++;
        continue;
      }
      stats[outcome]++;
      if (m.invalidPhones.length > 0) {
        stats.invalidPhones++;
        // Logged when the record is written, so once per version rather than on every pull.
        this.logger.warn(
          { robawsId: id, fields: m.invalidPhones },
          `Robaws client ${id}: phone number(s) in ${m.invalidPhones.join(', ')} could not be normalised; kept as given`,
        );
      }
      if (m.invalidVat) stats.invalidVat++;
      const row = this.row(m, existing?.localDirty ?? null, syncedAt);
      rows.push(row);
      if (sink)
        changes.push({
          changeType: outcome,
          record: robawsCustomerRecord(row as unknown as RecordColumns),
          before: existing?.record,
        });
    }
    if (dryRun || rows.length === 0) return { outcomes, batch: null };
    await bulkUpsert(repo, rows, ROBAWS_CUSTOMER_COLUMNS, ['robaws_id']);
    return { outcomes, batch: sink ? await this.events.enqueue(manager, sink, changes, syncedAt) : null };
  }

  private compare(m: MappedCustomer, existing: StoredState | undefined): Outcome {
    if (!existing) return 'created';
    const incoming = m.fields.upstreamUpdatedAt?.getTime();
    const current = existing.upstreamUpdatedAt?.getTime();
    if (incoming !== undefined && current !== undefined && incoming < current) return 'older';
    if (existing.hash === m.fields.contentHash && !existing.deletedUpstream) return 'unchanged';
    return 'updated';
  }

  /** The row to store: the upstream fields, except those a pending local edit holds. */
  private row(
    mapped: MappedCustomer,
    localDirty: RobawsCustomer['localDirty'],
    syncedAt: Date,
  ): QueryDeepPartialEntity<RobawsCustomer> {
    const { robawsId, metadata, ...rest } = mapped.fields;
    const row: Record<string, unknown> = {
      ...rest,
      robawsId: Number(robawsId),
      // The record's JSON as hashed: serialised once.
      metadata: new StoredForm(metadata, mapped.metadataJson),
      syncedAt,
      deletedUpstream: false,
    };
    if (localDirty) {
      for (const field of EDITABLE_FIELDS)
        if (Object.prototype.hasOwnProperty.call(localDirty.fields, field)) row[field] = localDirty.fields[field];
      if ('tel' in localDirty.fields || 'gsm' in localDirty.fields)
        row.phone = [row.tel, row.gsm].find((p) => typeof p === 'string' && E164.test(p)) ?? null;
    }
    return row;
  }

  /**
   * After a complete full pull: customers stored before the run started that the run did not see are gone from
   * Robaws. Each is checked with a GET first (a client deleted mid-run shifts the pages after it, so the list alone
   * may miss one that exists); a client found is stored, a 404 is marked `deleted_upstream`. Past
   * VERIFY_VANISHED_AT_MOST candidates the list is trusted.
   */
  private async markVanished(
    seen: Set<number>,
    startedAt: Date,
    dryRun: boolean,
    sink: ChangeEventSink | null,
  ): Promise<number> {
    const repo = this.dataSource.getRepository(RobawsCustomer);
    const candidates = (
      await repo
        .createQueryBuilder('c')
        .select('c.robaws_id', 'id')
        .where('c.deleted_upstream = :no AND c.synced_at < :startedAt', { no: false, startedAt })
        .getRawMany<{ id: number | string }>()
    )
      .map((r) => Number(r.id))
      .filter((id) => !seen.has(id));
    const gone: number[] = [];
    const verify = candidates.length <= VERIFY_VANISHED_AT_MOST;
    for (const id of candidates) {
      if (!verify) {
        gone.push(id);
        continue;
      }
      const record = await this.robaws.getClient(id);
      if (record === null) gone.push(id);
      else if (!dryRun) await this.applyOne(record, sink);
    }
    if (!dryRun)
      for (let i = 0; i < gone.length; i += MARK_GONE_BATCH) {
        const ids = gone.slice(i, i + MARK_GONE_BATCH);
        if (sink) await this.markGone(ids, sink);
        else await repo.update({ robawsId: In(ids) }, { deletedUpstream: true });
      }
    if (gone.length > 0)
      this.logger.log(`${gone.length} Robaws customer(s) no longer in Robaws: marked deleted_upstream`);
    return gone.length;
  }

  /**
   * Marks the customers of `ids` not marked yet `deleted_upstream`, with a `deactivated` change event each, in one
   * transaction (tried again if MariaDB makes it a deadlock's victim: a webhook writing one of them). Answers how many.
   */
  private async markGone(ids: number[], sink: ChangeEventSink): Promise<number> {
    const { count, batch } = await transactionRetryingDeadlocks(this.dataSource, async (manager) => {
      const rows = await this.events.readStored(manager, ids, true);
      if (rows.length === 0) return { count: 0, batch: null };
      const now = new Date();
      await manager
        .getRepository(RobawsCustomer)
        .update({ robawsId: In(rows.map((r) => r.robawsId)) }, { deletedUpstream: true });
      const changes: CustomerChange[] = rows.map((row) => ({
        changeType: 'deactivated',
        record: robawsCustomerRecord({ ...row, deletedUpstream: true }),
        before: robawsCustomerRecord(row),
      }));
      return { count: rows.length, batch: await this.events.enqueue(manager, sink, changes, now) };
    });
    if (batch) await this.events.committed(sink, batch);
    return count;
  }
}
