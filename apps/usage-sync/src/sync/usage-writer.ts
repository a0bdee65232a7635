import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  UsageConfigUpdatedPayload,
  usageConfigUpdatedMessage,
  usageLimitCrossedMessage,
  UsageEventMessage,
} from '@sync-hub/contracts';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { ReliablePublisher } from '@sync-hub/messaging';
import { lockedQuery } from '@sync-hub/persistence';
import { DataSource, EntityManager } from 'typeorm';
import { Panel, ResellerConfig } from '../model/usage.entities';
import type { UsageReading } from '../panels/panel-adapter';
import { crossedThresholds, limitLevel, percentOfLimit } from './usage-limits';

/** Rows one statement writes at most: ids and byte counts inline, at most one bound error text a row. */
export const WRITE_BATCH = 500;

/** A config's reading to store: a usage (`ok`) or a hard failure (a skip stores nothing). */
export interface ConfigReading {
  configId: number;
  reading: Exclude<UsageReading, { status: 'skipped' }>;
  /**
   * When the panel was asked. A reading asked for before the config's last write (a diagnostic's, during a run) is
   * older than what is stored: it is dropped, so usage never moves back and a crossing is never announced twice.
   */
  readAt?: Date;
}

/** What storing a reading did to its config, against the row as it was when written. */
export interface WrittenConfig {
  configId: number;
  status: 'updated' | 'unchanged' | 'hard_failure';
  previous: number;
  current: number;
  /** The reading was older than the stored usage and was dropped. */
  superseded?: boolean;
}

/** A panel's health after a run (or a diagnostic): when it last answered, and its last failure. */
export interface PanelHealth {
  panelId: number;
  /** Set when the panel answered at least one read. */
  succeededAt: Date | null;
  /** The last panel-level failure (unreachable, 5xx, refused credentials, circuit open), if any. */
  error: string | null;
}

const safeInt = (n: number): string => {
  if (!Number.isSafeInteger(n)) throw new Error(`not a safe integer: ${n}`);
  return String(n);
};

/**
 * Stores readings in multi-row statements (one UPDATE … CASE for the usages of a batch, one for its failures), each
 * batch in one transaction with its events in the outbox: `usage.config.updated.v1` for every config whose usage
 * changed, `usage.limit.crossed.v1` once per threshold crossed (reseller_configs.limit_alert_percent remembers the
 * level announced). The rows are read locked first, so `previous` is what was stored, whoever wrote it (the job or a
 * diagnostic). Works on MariaDB and on SQLite.
 */
@Injectable()
export class UsageWriter {
  private readonly logger = new Logger(UsageWriter.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: ReliablePublisher,
    @Optional() @Inject(APP_CONFIG) private readonly config?: AppConfig,
  ) {}

  /**
   * `usage.config.updated.v1` is the usage domain's change event (issue 16): CHANGE_EVENTS without `usage` stops it.
   * `usage.limit.crossed.v1` is an alert, not a record's change, and is sent either way.
   */
  private get sendsConfigUpdates(): boolean {
    return this.config?.changeEvents.includes('usage') ?? true;
  }

  async write(readings: ConfigReading[], options: { runId?: string; now?: Date } = {}): Promise<WrittenConfig[]> {
    const now = options.now ?? new Date();
    const written: WrittenConfig[] = [];
    for (let i = 0; i < readings.length; i += WRITE_BATCH) {
      const batch = readings.slice(i, i + WRITE_BATCH);
      written.push(
        ...(await this.dataSource.transaction(async (m) => {
          const events: Array<UsageEventMessage<unknown>> = [];
          const out = await this.writeBatch(m, batch, now, options.runId, events);
          await this.outbox.enqueue(m, events, now);
          return out;
        })),
      );
      await this.outbox
        .flush()
        .catch((err: Error) => this.logger.warn(`usage events wait in the outbox: ${err.message}`));
    }
    return written;
  }

  /** One statement per panel (a handful a run): last_success_at, last_error and last_error_at. */
  async recordPanelHealth(health: PanelHealth[], now = new Date()): Promise<void> {
    for (const h of health) {
      const set: Partial<Pick<Panel, 'lastSuccessAt' | 'lastError' | 'lastErrorAt'>> = {};
      if (h.succeededAt) set.lastSuccessAt = h.succeededAt;
      if (h.error !== null) Object.assign(set, { lastError: h.error, lastErrorAt: now });
      if (Object.keys(set).length === 0) continue;
      await this.dataSource.createQueryBuilder().update(Panel).set(set).where('id = :id', { id: h.panelId }).execute();
    }
  }

  private async writeBatch(
    m: EntityManager,
    batch: ConfigReading[],
    now: Date,
    runId: string | undefined,
    events: Array<UsageEventMessage<unknown>>,
  ): Promise<WrittenConfig[]> {
    const stored = new Map(
      (
        await lockedQuery(m, ResellerConfig, 'c')
          .select([
            'c.id',
            'c.resellerId',
            'c.usageBytes',
            'c.trafficLimitBytes',
            'c.limitAlertPercent',
            'c.usageSyncedAt',
          ])
          .where('c.id IN (:...ids)', { ids: batch.map((r) => r.configId) })
          .getMany()
      ).map((c) => [c.id, c]),
    );
    const written: WrittenConfig[] = [];
    const usage: string[] = [];
    const level: string[] = [];
    const ok: number[] = [];
    const errors: string[] = [];
    const failed: number[] = [];
    const params: Record<string, string> = {};
    for (const { configId, reading, readAt } of batch) {
      const row = stored.get(configId);
      if (!row) continue; // deleted meanwhile
      const previous = row.usageBytes;
      if (readAt && row.usageSyncedAt && new Date(row.usageSyncedAt).getTime() > readAt.getTime()) {
        // Stored after this reading was asked for: the stored usage is the newer one.
        written.push({ configId, status: 'unchanged', previous, current: previous, superseded: true });
        continue;
      }
      if (reading.status === 'hard_failure') {
        params[`e${failed.length}`] = reading.error;
        errors.push(`WHEN ${safeInt(configId)} THEN :e${failed.length}`);
        failed.push(configId);
        written.push({ configId, status: 'hard_failure', previous, current: previous });
        continue;
      }
      const current = reading.bytes;
      const limit = row.trafficLimitBytes;
      const reached = limitLevel(current, limit);
      usage.push(`WHEN ${safeInt(configId)} THEN ${safeInt(current)}`);
      level.push(`WHEN ${safeInt(configId)} THEN ${reached}`);
      ok.push(configId);
      written.push({ configId, status: current === previous ? 'unchanged' : 'updated', previous, current });
      if (current !== previous && this.sendsConfigUpdates) {
        const payload: UsageConfigUpdatedPayload = {
          configId,
          resellerId: row.resellerId,
          previous,
          current,
          delta: current - previous,
          limit: limit && limit > 0 ? limit : null,
          percent: percentOfLimit(current, limit),
        };
        events.push(usageConfigUpdatedMessage(payload, runId, now));
      }
      for (const threshold of crossedThresholds(row.limitAlertPercent, reached))
        events.push(
          usageLimitCrossedMessage(
            { configId, resellerId: row.resellerId, threshold, usage: current, limit: limit! },
            runId,
            now,
          ),
        );
    }
    if (ok.length > 0)
      await m
        .createQueryBuilder()
        .update(ResellerConfig)
        .set({
          usageBytes: () => `CASE id ${usage.join(' ')} ELSE usage_bytes END`,
          limitAlertPercent: () => `CASE id ${level.join(' ')} ELSE limit_alert_percent END`,
          usageSyncedAt: now,
          lastUsageError: null,
          lastUsageErrorAt: null,
        })
        .where(`id IN (${ok.map(safeInt).join(', ')})`)
        .execute();
    if (failed.length > 0)
      await m
        .createQueryBuilder()
        .update(ResellerConfig)
        .set({
          lastUsageError: () => `CASE id ${errors.join(' ')} ELSE last_usage_error END`,
          lastUsageErrorAt: now,
        })
        .where(`id IN (${failed.map(safeInt).join(', ')})`)
        .setParameters(params)
        .execute();
    return written;
  }
}
