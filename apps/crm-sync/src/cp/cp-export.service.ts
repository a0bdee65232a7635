import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import {
  changeEventMessage,
  LOYALTY_CHANGE_TOPICS,
  LoyaltyRowChangedPayload,
  RunStats,
  TableStats,
  Topic,
} from '@sync-hub/contracts';
import { ChangeEventSender, EnqueuedBatch, OutgoingMessage, ReliablePublisher } from '@sync-hub/messaging';
import { bulkUpsert, StoredForm, SyncCursor, writeCursor } from '@sync-hub/persistence';
import { attachStats } from '@sync-hub/runs';
import { DataSource, In } from 'typeorm';
import { CpExportClient, exportRequest } from './cp-export.client';
import { changedSourceColumns, CpStoredRow, toStoredRow } from './cp-rows';
import { CP_TABLE_SPECS, cpEntity, CpTableSpec, exportStream, reconcileStream, writtenColumns } from './cp-tables';

/** `export`: from each table's cursor (the scheduled job, the CLI); `reconcile`: from id 0 on cursors of its own. */
export type CpMode = 'export' | 'reconcile';

export interface CpRunStats extends RunStats {
  rounds: number;
  tablesWithMore: number;
  tables: Record<string, TableStats>;
}

export interface CpRoundProgress {
  round: number;
  /** Rounds the run may make at most (Infinity: a reconcile, bounded by its time limit). */
  maxRounds: number;
  stats: CpRunStats;
  /** The tables that still have rows after this round. */
  withMore: string[];
}

export interface CpRunOptions {
  mode: CpMode;
  /** Rounds at most; default CP_EXPORT_MAX_LOOPS for an export, no limit for a reconcile (its time limit holds). */
  maxRounds?: number;
  signal?: AbortSignal;
  onRound?: (progress: CpRoundProgress) => void;
  /**
   * The run's id, carried by its change events (`crm.loyalty.<table>.changed.v1`). Without one (a direct call outside
   * the run lifecycle) they are sent all the same, with runId null: the rows are written either way, and an event not
   * sent with its row is never sent (the next run finds the row unchanged).
   */
  runId?: string;
}

export interface CpStreamState {
  table: string;
  destination: string;
  lastId: number;
  lastSyncedAt: Date | null;
  rows: number;
}

export interface CpProbe {
  reachable: boolean;
  /** null: not known (no answer, or one that came before the token was checked). */
  authorised: boolean | null;
  latencyMs: number;
  /** What went wrong and what to check, when something did. */
  problem: string | null;
}

const emptyTable = (): TableStats => ({ fetched: 0, created: 0, updated: 0, unchanged: 0, failed: 0 });

/** A run's change events: the run id they carry and the sender of the committed rounds' events. */
interface CpRunEvents {
  runId: string | null;
  sender: ChangeEventSender;
}

/** The topic of a destination's change events; a table added without one fails its run before anything is written. */
export function loyaltyChangeTopic(spec: CpTableSpec): Topic {
  const topic = LOYALTY_CHANGE_TOPICS[spec.destination];
  if (!topic) throw new Error(`cp: no change-event topic for the table ${spec.destination} (LOYALTY_CHANGE_TOPICS)`);
  return topic;
}

/** The stored source_row as the object it was, or undefined when it is not one (every column then counts changed). */
function storedSourceRow(json: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The loyalty-club export (issue 12, seed 002). A round is one request for every table from its cursor; each table's
 * rows of a round are upserted with its cursor's advance in one transaction, so a crash never skips a row and a re-run
 * never duplicates one. Rows that fail their table's declared types are counted and logged, and the rest stored.
 */
@Injectable()
export class CpExportService {
  private readonly logger = new Logger(CpExportService.name);
  private readonly observers = new Set<(progress: CpRoundProgress) => void>();

  constructor(
    private readonly client: CpExportClient,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly outbox?: ReliablePublisher,
  ) {}

  /** Sees every round of any run in this process (the CLI's progress, however the run was started). */
  observe(observer: (progress: CpRoundProgress) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  async run(options: CpRunOptions): Promise<CpRunStats> {
    const streamOf = options.mode === 'export' ? exportStream : reconcileStream;
    const cursors = await this.readCursors(streamOf);
    const stats: CpRunStats = {
      fetched: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
      rounds: 0,
      tablesWithMore: 0,
      tables: Object.fromEntries(CP_TABLE_SPECS.map((s) => [s.source, emptyTable()])),
    };
    const maxRounds =
      options.maxRounds ?? (options.mode === 'export' ? this.config.crm.cp.maxLoops : Number.POSITIVE_INFINITY);
    const sources = CP_TABLE_SPECS.map((s) => s.source);
    // The export has no dry run: every run that writes sends its rows' events, unless CHANGE_EVENTS leaves crm out.
    const events: CpRunEvents | null =
      this.outbox && this.config.changeEvents.includes('crm')
        ? {
            runId: options.runId ?? null,
            sender: new ChangeEventSender(this.outbox, this.logger, 'loyalty-club change events'),
          }
        : null;
    let withMore: string[] = [];
    try {
      if (events) for (const spec of CP_TABLE_SPECS) loyaltyChangeTopic(spec);
      for (let round = 1; round <= maxRounds; round++) {
        options.signal?.throwIfAborted();
        const answer = await this.client.export(exportRequest(sources, cursors, this.config.crm.cp.batchLimit));
        options.signal?.throwIfAborted();
        stats.rounds++;
        let moved = false;
        for (const spec of CP_TABLE_SPECS) {
          const rows = answer.data[spec.source];
          if (rows.length === 0) continue;
          const before = cursors.get(spec.source) ?? 0;
          const after = await this.storeRows(spec, rows, before, streamOf(spec), stats, events);
          cursors.set(spec.source, after);
          if (after > before) moved = true;
        }
        withMore = sources.filter((s) => answer.hasMore[s]);
        const progress = { round, maxRounds, stats, withMore };
        options.onRound?.(progress);
        for (const observer of this.observers) observer(progress);
        if (withMore.length === 0) break;
        if (!moved) {
          // Every row answered was refused and none had an id to move past: asking again would get the same rows.
          this.logger.warn(
            `cp ${options.mode}: round ${round} moved no cursor; stopping (${withMore.join(', ')} still have rows)`,
          );
          break;
        }
      }
      stats.tablesWithMore = withMore.length;
      await this.finish(options.mode, streamOf, cursors, withMore.length === 0);
      if (withMore.length > 0)
        this.logger.log(
          `cp ${options.mode}: stopped after ${stats.rounds} round(s) with rows left in ${withMore.join(', ')}; the next run goes on`,
        );
      return stats;
    } catch (err) {
      throw attachStats(err, stats);
    } finally {
      // The events of every committed round go out before the run reports; what the bus refuses stays in the outbox.
      await events?.sender.finish();
    }
  }

  /**
   * One request with `limit` 1 and no retry (the CLI's --test): whether the export answers and takes the token, and
   * how fast. `authorised` is null when the answer said nothing about the token (a 5xx before it was checked).
   */
  async probe(): Promise<CpProbe> {
    const started = process.hrtime.bigint();
    const latency = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    try {
      await this.client.export(
        exportRequest(
          CP_TABLE_SPECS.map((s) => s.source),
          new Map(),
          1,
        ),
        { once: true },
      );
      return { reachable: true, authorised: true, latencyMs: latency(), problem: null };
    } catch (err) {
      const e = err as { code?: string; status?: number; message?: string };
      const ms = latency();
      const message = e.message ?? String(err);
      if (e.code === 'UPSTREAM_AUTH_REJECTED')
        return { reachable: true, authorised: false, latencyMs: ms, problem: message };
      if (typeof e.status === 'number')
        return { reachable: true, authorised: e.status === 403 ? false : null, latencyMs: ms, problem: message };
      if (e.code === 'UPSTREAM_BAD_RESPONSE')
        return { reachable: true, authorised: true, latencyMs: ms, problem: message };
      return { reachable: false, authorised: null, latencyMs: ms, problem: message };
    }
  }

  /** Every table's export stream: destination, last id, last synced at, rows stored (the CLI's --state). */
  async state(): Promise<CpStreamState[]> {
    const cursors = await this.dataSource
      .getRepository(SyncCursor)
      .findBy({ stream: In(CP_TABLE_SPECS.map(exportStream)) });
    const byStream = new Map(cursors.map((c) => [c.stream, c]));
    const out: CpStreamState[] = [];
    for (const spec of CP_TABLE_SPECS) {
      const cursor = byStream.get(exportStream(spec));
      out.push({
        table: spec.source,
        destination: spec.destination,
        lastId: cursor ? Number(cursor.position) : 0,
        lastSyncedAt: cursor?.syncedAt ?? null,
        rows: await this.dataSource.getRepository(cpEntity(spec)).count(),
      });
    }
    return out;
  }

  /** Export cursors back to 0 (all tables, or those named): the next export reads them from the start. */
  async reset(tables?: string[]): Promise<string[]> {
    const specs = tables ? CP_TABLE_SPECS.filter((s) => tables.includes(s.source)) : CP_TABLE_SPECS;
    await this.dataSource.transaction(async (manager) => {
      for (const spec of specs) await writeCursor(manager, exportStream(spec), '0');
    });
    return specs.map((s) => s.source);
  }

  private async readCursors(streamOf: (spec: CpTableSpec) => string): Promise<Map<string, number>> {
    const rows = await this.dataSource.getRepository(SyncCursor).findBy({ stream: In(CP_TABLE_SPECS.map(streamOf)) });
    const positions = new Map(rows.map((r) => [r.stream, Number(r.position)]));
    return new Map(
      CP_TABLE_SPECS.map((spec) => {
        const at = positions.get(streamOf(spec));
        return [spec.source, at !== undefined && Number.isFinite(at) && at > 0 ? at : 0];
      }),
    );
  }

  /**
   * A table's rows of one round and its cursor's advance, in one transaction. New and changed rows are upserted in one
   * statement; a row equal to the stored one (the same source JSON) is counted unchanged and not written. Answers the
   * table's new cursor: the highest id answered, refused rows with a readable id included (they are counted and
   * logged, and the weekly reconcile reads them again). With `events`, the new and changed rows' change events are
   * written to the outbox in the same transaction and handed to the run's sender once it commits.
   */
  private async storeRows(
    spec: CpTableSpec,
    rows: unknown[],
    cursor: number,
    stream: string,
    stats: CpRunStats,
    events: CpRunEvents | null,
  ): Promise<number> {
    const syncedAt = new Date();
    const table = stats.tables[spec.source];
    const good = new Map<number, CpStoredRow>();
    let next = cursor;
    let failed = 0;
    rows.forEach((raw, index) => {
      const result = toStoredRow(spec, raw, syncedAt);
      if (result.ok) {
        good.set(result.row.id, result.row);
        next = Math.max(next, result.row.id);
        return;
      }
      failed++;
      if (result.id !== null) next = Math.max(next, result.id);
      this.logger.warn(
        { table: spec.source, position: index + 1, id: result.id, afterId: cursor },
        `cp: ${spec.source} row ${index + 1} of ${rows.length} (ids after ${cursor}) refused, not stored: ${result.reason}`,
      );
    });
    const counts = { created: 0, updated: 0, unchanged: 0 };
    const batch = await this.dataSource.transaction(async (manager): Promise<EnqueuedBatch | null> => {
      const repo = manager.getRepository(cpEntity(spec));
      const ids = [...good.keys()];
      const stored = new Map<number, string>();
      if (ids.length > 0)
        for (const row of await repo
          .createQueryBuilder('t')
          .select(`t.${spec.primaryKey}`, 'id')
          .addSelect('t.source_row', 'json')
          .where(`t.${spec.primaryKey} IN (:...ids)`, { ids })
          .getRawMany<{ id: number | string; json: string }>())
          stored.set(Number(row.id), row.json);
      const write: Array<Record<string, unknown>> = [];
      const messages: OutgoingMessage[] = [];
      for (const row of good.values()) {
        const before = stored.get(row.id);
        if (before === row.json) {
          counts.unchanged++;
          continue;
        }
        counts[before === undefined ? 'created' : 'updated']++;
        write.push({ ...row.values, source_row: new StoredForm(row.source, row.json) });
        if (!events) continue;
        const changed =
          before === undefined
            ? changedSourceColumns(row.source)
            : changedSourceColumns(row.source, storedSourceRow(before));
        // Other JSON for the same values (the columns in another order) is rewritten, but is no change to the row.
        if (changed.length === 0) continue;
        const change: LoyaltyRowChangedPayload = {
          changeType: before === undefined ? 'created' : 'updated',
          id: String(row.id),
          table: spec.destination,
          runId: events.runId,
          occurredAt: syncedAt.toISOString(),
          changedFields: changed,
          record: row.source,
        };
        messages.push(changeEventMessage(loyaltyChangeTopic(spec), change));
      }
      if (write.length > 0) await bulkUpsert(repo, write, writtenColumns(spec), [spec.primaryKey]);
      if (next > cursor) await writeCursor(manager, stream, String(next));
      // The rows and their events commit together (the transactional outbox); the events go out after the commit.
      return events && messages.length > 0
        ? this.outbox!.enqueueBatch(manager, loyaltyChangeTopic(spec), messages, syncedAt)
        : null;
    });
    if (events && batch) {
      events.sender.queue(batch);
      // Memory flat whatever the table's size (a reconcile reads every row): the rounds wait when the sender is behind.
      await events.sender.keepUp();
    }
    // Counted once committed: a rolled-back round counts nothing.
    table.fetched += rows.length;
    table.failed += failed;
    stats.fetched += rows.length;
    stats.failed += failed;
    for (const key of ['created', 'updated', 'unchanged'] as const) {
      table[key] += counts[key];
      stats[key] += counts[key];
    }
    return next;
  }

  /**
   * After a run: each export stream's `synced_at` says when its table was last known up to date (tables without new
   * rows too). A reconcile that read everything sets its own cursors back to 0, so next week's starts from the first id.
   */
  private async finish(
    mode: CpMode,
    streamOf: (spec: CpTableSpec) => string,
    cursors: Map<string, number>,
    complete: boolean,
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      for (const spec of CP_TABLE_SPECS) {
        if (mode === 'reconcile') {
          if (complete) await manager.getRepository(SyncCursor).delete({ stream: streamOf(spec) });
          continue;
        }
        await writeCursor(manager, streamOf(spec), String(cursors.get(spec.source) ?? 0));
      }
    });
  }
}
