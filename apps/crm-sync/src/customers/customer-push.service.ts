import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  Optional,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { RobawsCustomerRecord, RunStats } from '@sync-hub/contracts';
import { UpstreamHttpError } from '@sync-hub/http';
import { ReliablePublisher } from '@sync-hub/messaging';
import { readCursor } from '@sync-hub/persistence';
import { attachStats } from '@sync-hub/runs';
import { DataSource, In, IsNull, Not, Repository } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { RobawsApiClient } from '../robaws/robaws-api.client';
import { ChangeEventSink, CustomerChangeEvents } from './customer-change-events';
import { INCREMENTAL_OVERLAP_MS, ROBAWS_CLIENTS_STREAM } from './customer-pull.service';
import { robawsCustomerRecord } from './customer-views';
import { mapRobawsClient, RobawsClientRecord } from './normalise';
import { decidePush, rowKeepingEdit } from './push-plan';
import { CustomerConflict, LocalEdit, RobawsCustomer } from './robaws-customer.entity';

export interface CustomerPushStats extends RunStats {
  pushed: number;
  conflicts: number;
}

export interface CustomerPushOptions {
  /** Say what would be sent; send and write nothing. */
  dryRun?: boolean;
  /** At most this many dirty customers. */
  limit?: number;
  /** Only this customer's local edit. */
  clientId?: number;
  signal?: AbortSignal;
  /** The run's id, carried by the change events of what it stores; none are sent without it. */
  runId?: string;
}

/** One merge-patch a push sends (or, in a dry run, would send). */
export interface PlannedPatch {
  robawsId: number;
  patch: Record<string, unknown>;
}

export interface CustomerPushResult {
  stats: CustomerPushStats;
  planned: PlannedPatch[];
}

/** Dirty customers handled per bulk read of Robaws's current versions (and so the longest residual window). */
const BATCH = 500;
/** PATCHes in flight at once (the bucket, not this, sets the rate). */
const PUSH_CONCURRENCY = 4;
/** Robaws's largest page. */
const LIST_PAGE_SIZE = 100;

/**
 * How Robaws's current version of each customer in a batch was read: from one list of the clients changed since the
 * batch's oldest known version, or (when that list would be long) one GET per customer.
 */
type CurrentVersions = Map<number, RobawsClientRecord | null>;

/**
 * Sends local edits to Robaws (robaws.customers.push): one `application/merge-patch+json` PATCH per dirty customer,
 * carrying only the edited fields Robaws does not hold yet. An edited field Robaws changed since the edit's base is a
 * conflict: nothing is sent, both versions are stored and the operator resolves it (`resolve`). Robaws's current
 * versions are read in bulk (the clients changed since the batch's oldest known version) rather than one GET per
 * customer, so that a push costs about one request per customer against the 15/s bucket (docs/decisions.md, "Robaws
 * push (issue 11)").
 */
@Injectable()
export class CustomerPushService {
  private readonly logger = new Logger(CustomerPushService.name);
  private readonly events: CustomerChangeEvents;

  constructor(
    private readonly robaws: RobawsApiClient,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() outbox?: ReliablePublisher,
  ) {
    this.events = new CustomerChangeEvents(outbox, config, this.logger);
  }

  async push(options: CustomerPushOptions): Promise<CustomerPushResult> {
    const stats: CustomerPushStats = {
      fetched: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
      pushed: 0,
      conflicts: 0,
    };
    const planned: PlannedPatch[] = [];
    // Each customer's event is sent once its write commits: a push writes one customer at a time.
    const sink = this.events.open(options.runId, { dryRun: options.dryRun });
    try {
      const ids = await this.dirtyIds(options, stats);
      // Everything Robaws changed before this instant is stored (the pull's cursor minus its overlap): a customer
      // missing from the list of clients changed since then is as its stored record says.
      const cursor = await readCursor(this.dataSource.manager, ROBAWS_CLIENTS_STREAM);
      const pulledUpTo = cursor ? new Date(cursor.position).getTime() - INCREMENTAL_OVERLAP_MS : null;
      for (let i = 0; i < ids.length; i += BATCH) {
        options.signal?.throwIfAborted();
        const rows = await this.dataSource
          .getRepository(RobawsCustomer)
          .find({ where: { robawsId: In(ids.slice(i, i + BATCH)) }, order: { robawsId: 'ASC' } });
        const current = await this.readCurrent(rows, pulledUpTo, options.signal);
        await this.pushRows(rows, current, options, stats, planned, sink);
      }
      planned.sort((a, b) => a.robawsId - b.robawsId);
      return { stats, planned };
    } catch (err) {
      throw attachStats(err, stats);
    }
  }

  /** Ends a conflict: `local` keeps the edit (based on Robaws's current version), `remote` drops it. */
  async resolve(robawsId: number, keep: 'local' | 'remote'): Promise<RobawsCustomer> {
    if (keep !== 'local' && keep !== 'remote') throw new BadRequestException('keep must be "local" or "remote"');
    const repo = this.dataSource.getRepository(RobawsCustomer);
    const row = await repo.findOneBy({ robawsId });
    if (!row) throw new NotFoundException(`No Robaws customer ${robawsId}`);
    if (!row.conflict) throw new ConflictException(`Robaws customer ${robawsId} has no conflict to resolve`);
    if (keep === 'remote' || !row.localDirty) {
      // Robaws's version wins: the row is the newest stored record, normalised, and the edit is gone.
      const { robawsId: _id, ...fields } = mapRobawsClient(row.metadata, this.config.crm.robaws.defaultCountry).fields;
      await repo.update({ robawsId }, {
        ...fields,
        localDirty: null,
        conflict: null,
      } as QueryDeepPartialEntity<RobawsCustomer>);
    } else {
      // The edit stays, now based on the version Robaws had when the conflict was found: the next push sends it
      // (unless Robaws changes an edited field yet again, which is a new conflict).
      // (A field edited again after the conflict keeps its newest value and its own base.)
      const edit: LocalEdit = {
        ...row.localDirty,
        fields: { ...row.conflict.local, ...row.localDirty.fields },
        base: { ...row.localDirty.base, ...row.conflict.remote },
        baseUpdatedAt: row.conflict.remoteUpdatedAt,
      };
      await repo.update({ robawsId }, { localDirty: edit, conflict: null });
    }
    this.logger.log(`Robaws customer ${robawsId}: conflict resolved, kept the ${keep} version`);
    return repo.findOneByOrFail({ robawsId });
  }

  /** The customers to push: a local edit and no open conflict, by id. */
  private async dirtyIds(options: CustomerPushOptions, stats: CustomerPushStats): Promise<number[]> {
    const repo = this.dataSource.getRepository(RobawsCustomer);
    if (options.clientId !== undefined) {
      const row = await repo.findOne({
        select: { robawsId: true, localDirty: true, conflict: true },
        where: { robawsId: options.clientId },
      });
      if (!row?.localDirty) return [];
      if (row.conflict) {
        // Pushing it would overwrite Robaws's change the operator has not decided on yet.
        stats.skipped++;
        this.logger.warn(`Robaws customer ${row.robawsId} has an open conflict: resolve it before pushing`);
        return [];
      }
      return [row.robawsId];
    }
    const rows = await repo.find({
      select: { robawsId: true },
      where: { localDirty: Not(IsNull()), conflict: IsNull() },
      order: { robawsId: 'ASC' },
      take: options.limit,
    });
    return rows.map((r) => r.robawsId);
  }

  /**
   * Robaws's current record of each row. One list of the clients changed since the oldest version the batch knows
   * (a row knows its edit's base and, when pulls run, everything up to the pull cursor): a client absent from it is as
   * stored. When that list would be far longer than the batch, one GET per customer instead.
   */
  private async readCurrent(
    rows: RobawsCustomer[],
    pulledUpTo: number | null,
    signal: AbortSignal | undefined,
  ): Promise<CurrentVersions> {
    const current: CurrentVersions = new Map();
    if (rows.length === 0) return current;
    let from = Number.POSITIVE_INFINITY;
    for (const row of rows) {
      const base = row.localDirty?.baseUpdatedAt ? Date.parse(row.localDirty.baseUpdatedAt) : Number.NaN;
      const known = Math.max(Number.isNaN(base) ? Number.NEGATIVE_INFINITY : base, pulledUpTo ?? -Infinity);
      from = Math.min(from, known);
    }
    const wanted = new Set(rows.map((r) => r.robawsId));
    // A list is worth it while it costs well under one request per customer (the GETs it replaces).
    const maxPages = Math.ceil(rows.length / 10) + 10;
    let listed = rows.length > 1 && Number.isFinite(from);
    if (listed) {
      const pages = this.robaws.clientPages({ updatedFrom: new Date(from), pageSize: LIST_PAGE_SIZE });
      for await (const page of pages) {
        signal?.throwIfAborted();
        if (page.totalPages > maxPages) {
          this.logger.log(
            `${page.totalItems} Robaws client(s) changed since ${new Date(from).toISOString()}: ` +
              `reading the ${rows.length} to push one by one instead`,
          );
          listed = false;
          break;
        }
        for (const record of page.items) if (wanted.has(Number(record.id))) current.set(Number(record.id), record);
      }
    }
    if (listed) {
      for (const row of rows) if (!current.has(row.robawsId)) current.set(row.robawsId, row.metadata);
      return current;
    }
    for (const row of rows) {
      signal?.throwIfAborted();
      current.set(row.robawsId, await this.robaws.getClient(row.robawsId));
    }
    return current;
  }

  /**
   * A few PATCHes in flight, taken in id order: the API client's bucket keeps them within 15/s, and Robaws's latency
   * (not the bucket) would otherwise set the pace. The first failure that ends the run stops taking new customers.
   */
  private async pushRows(
    rows: RobawsCustomer[],
    current: CurrentVersions,
    options: CustomerPushOptions,
    stats: CustomerPushStats,
    planned: PlannedPatch[],
    sink: ChangeEventSink | null,
  ): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | null = null;
    const worker = async (): Promise<void> => {
      while (failure === null && next < rows.length) {
        const row = rows[next++];
        try {
          options.signal?.throwIfAborted();
          await this.pushOne(row, current, options, stats, planned, sink);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUSH_CONCURRENCY, rows.length) }, worker));
    if (failure !== null) throw (failure as { error: unknown }).error;
  }

  private async pushOne(
    row: RobawsCustomer,
    versions: CurrentVersions,
    options: CustomerPushOptions,
    stats: CustomerPushStats,
    planned: PlannedPatch[],
    sink: ChangeEventSink | null,
  ): Promise<void> {
    const edit = row.localDirty;
    if (!edit) return;
    stats.fetched++;
    const gone = () =>
      this.write(row.robawsId, sink, (repo) => repo.update({ robawsId: row.robawsId }, { deletedUpstream: true }));
    const dryRun = options.dryRun ?? false;
    const current = versions.get(row.robawsId) ?? null;
    if (current === null) {
      stats.failed++;
      this.logger.warn(`Robaws customer ${row.robawsId} is not in Robaws (404): edit kept, marked deleted_upstream`);
      if (!dryRun) await gone();
      return;
    }
    const region = this.config.crm.robaws.defaultCountry;
    const decision = decidePush(edit, current, region);
    if (decision.kind === 'conflict') {
      stats.conflicts++;
      this.logger.warn(
        `Robaws customer ${row.robawsId}: Robaws changed ${decision.fields.join(', ')} since the local edit; ` +
          'not pushed, kept as a conflict for the operator',
      );
      if (dryRun) return;
      const conflict: CustomerConflict = {
        local: { ...edit.fields },
        remote: decision.remote,
        remoteUpdatedAt: typeof current.updatedAt === 'string' ? current.updatedAt : null,
        detectedAt: new Date().toISOString(),
      };
      const mapped = mapRobawsClient(current, region);
      const { robawsId: _id, ...keeping } = rowKeepingEdit(mapped.fields, edit);
      await this.write(row.robawsId, sink, (repo) =>
        repo.update(
          { robawsId: row.robawsId },
          {
            ...keeping,
            conflict,
            syncedAt: new Date(),
          },
        ),
      );
      return;
    }
    if (decision.kind === 'in-sync') {
      stats.unchanged++;
      if (!dryRun) await this.storeClean(row.robawsId, current, null, sink);
      return;
    }
    planned.push({ robawsId: row.robawsId, patch: decision.patch });
    if (dryRun) return;
    let answer: RobawsClientRecord;
    try {
      answer = await this.robaws.patchClient(row.robawsId, decision.patch);
    } catch (err) {
      if (!(err instanceof UpstreamHttpError) || err.retriable || err.status < 400 || err.status >= 500) throw err;
      stats.failed++;
      const message = (err.body as { message?: unknown } | null)?.message;
      this.logger.warn(
        `Robaws refused the edit of customer ${row.robawsId} (HTTP ${err.status}` +
          `${typeof message === 'string' ? `: ${message.slice(0, 200)}` : ''}); edit kept`,
      );
      if (err.status === 404) await gone();
      return;
    }
    stats.pushed++;
    await this.storeClean(row.robawsId, answer, new Date(), sink, edit);
  }

  /**
   * The row as Robaws answered (or holds) it: every field from that record, the edit and any conflict gone. With
   * `pushed`, only while the row still holds that edit: an operator who edited the customer again while the PATCH was
   * on its way keeps the newer edit, and only the upstream record (metadata, version) is stored beside it; its base
   * is then older than Robaws's version, so the next push shows it as a conflict rather than losing either.
   */
  private async storeClean(
    robawsId: number,
    record: RobawsClientRecord,
    pushedAt: Date | null,
    sink: ChangeEventSink | null,
    pushed?: LocalEdit,
  ): Promise<void> {
    const mapped = mapRobawsClient(record, this.config.crm.robaws.defaultCountry).fields;
    let editedAgain = false;
    await this.write(robawsId, sink, async (repo) => {
      if (pushed) {
        const clean = await repo
          .createQueryBuilder()
          .update(RobawsCustomer)
          .set({ localDirty: null })
          .where('robaws_id = :robawsId AND local_dirty = :edit', { robawsId, edit: JSON.stringify(pushed) })
          .execute();
        if (!clean.affected) {
          editedAgain = true;
          await repo.update({ robawsId }, {
            metadata: mapped.metadata,
            upstreamUpdatedAt: mapped.upstreamUpdatedAt,
            contentHash: mapped.contentHash,
            syncedAt: new Date(),
            ...(pushedAt ? { pushedAt } : {}),
          } as QueryDeepPartialEntity<RobawsCustomer>);
          return;
        }
      }
      const { robawsId: _id, ...fields } = mapped;
      await repo.update({ robawsId }, {
        ...fields,
        localDirty: null,
        conflict: null,
        syncedAt: new Date(),
        deletedUpstream: false,
        ...(pushedAt ? { pushedAt } : {}),
      } as QueryDeepPartialEntity<RobawsCustomer>);
    });
    if (editedAgain)
      this.logger.warn(`Robaws customer ${robawsId} was edited again during its push: the newer edit is kept`);
  }

  /**
   * One customer's write, in one transaction with its change event when `sink` is given: the stored record is read
   * (locked on MariaDB) before the write and again after it, and an event is enqueued when a field of the record
   * changed (`deactivated` when the write marked it deleted_upstream). A write that ends the local edit (Robaws's answer
   * to its PATCH stored, or Robaws found holding it already) is compared with Robaws's version the hub held before,
   * without the edit: a local edit sends nothing when made, so its event, sent now, names the fields it changed.
   */
  private async write(
    robawsId: number,
    sink: ChangeEventSink | null,
    work: (repo: Repository<RobawsCustomer>) => Promise<unknown>,
  ): Promise<void> {
    if (!sink) {
      await work(this.dataSource.getRepository(RobawsCustomer));
      return;
    }
    const mysql = this.dataSource.options.type === 'mysql';
    const batch = await this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(RobawsCustomer);
      const before = await repo.findOne({
        where: { robawsId },
        ...(mysql ? { lock: { mode: 'pessimistic_write' as const } } : {}),
      });
      await work(repo);
      if (!before) return null;
      const after = await repo.findOneByOrFail({ robawsId });
      const record = robawsCustomerRecord(after);
      const previous =
        before.localDirty && !after.localDirty ? this.upstreamRecord(before) : robawsCustomerRecord(before);
      const changeType = record.deleted_upstream && !previous.deleted_upstream ? 'deactivated' : 'updated';
      return this.events.enqueue(manager, sink, [{ changeType, record, before: previous }], new Date());
    });
    if (batch) await this.events.committed(sink, batch);
  }

  /** A customer's record as Robaws's version the hub holds (its stored upstream record) has it: the row less its edit. */
  private upstreamRecord(row: RobawsCustomer): RobawsCustomerRecord {
    const { fields } = mapRobawsClient(row.metadata, this.config.crm.robaws.defaultCountry);
    return robawsCustomerRecord({ ...fields, robawsId: row.robawsId, deletedUpstream: row.deletedUpstream });
  }
}
