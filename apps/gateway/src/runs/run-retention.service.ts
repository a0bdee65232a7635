import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { In, Repository } from 'typeorm';
import { Notification } from '../notifications/notification.entities';
import { SyncRun } from './sync-run.entity';

/** The job's name in the SchedulerRegistry. */
export const RUN_RETENTION_JOB = 'run-history.retention';
/** Daily at 02:30 UTC: no seeded schedule runs then, and it is night in Europe. */
export const RUN_RETENTION_CRON = '0 30 2 * * *';
const BATCH_SIZE = 500;

export interface RetentionResult {
  cutoff: Date;
  runs: number;
  notifications: number;
}

/**
 * Keeps `sync_runs` from growing forever: every day, runs created more than RUN_HISTORY_RETENTION_DAYS ago are
 * deleted, except each job's last success (its newest completed run), which status and notifications read whatever
 * its age. Sent notifications older than that go too; unsent ones stay until sent.
 */
@Injectable()
export class RunRetentionService {
  private readonly logger = new Logger(RunRetentionService.name);

  constructor(
    @InjectRepository(SyncRun) private readonly runs: Repository<SyncRun>,
    @InjectRepository(Notification) private readonly notifications: Repository<Notification>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Cron(RUN_RETENTION_CRON, { name: RUN_RETENTION_JOB, timeZone: 'UTC', waitForCompletion: true })
  async onSchedule(): Promise<void> {
    try {
      await this.purge();
    } catch (err) {
      this.logger.error(`run history retention failed; it runs again tomorrow: ${(err as Error).message}`);
    }
  }

  /**
   * Deletes in batches of `batchSize` rows, each a SELECT of ids then a DELETE by primary key: short statements
   * that hold few locks, and the same SQL on MySQL (which refuses a DELETE reading its own table in a subquery)
   * and SQLite. Gateway replicas may run it at once: a row deleted twice is deleted once.
   */
  async purge(now = new Date(), batchSize = BATCH_SIZE): Promise<RetentionResult> {
    const days = this.config.gateway.runHistoryRetentionDays;
    const cutoff = new Date(now.getTime() - days * 86400000);
    const runs = await this.inBatches(
      batchSize,
      (limit) => this.expiredRunIds(cutoff, limit),
      (ids) => this.runs.delete({ runId: In(ids) }),
    );
    const notifications = await this.inBatches(
      batchSize,
      (limit) => this.expiredNotificationIds(cutoff, limit),
      (ids) => this.notifications.delete({ id: In(ids) }),
    );
    this.logger.log(
      `run history retention (${days} days, before ${cutoff.toISOString()}): removed ${runs} run(s) and ${notifications} sent notification(s)`,
    );
    return { cutoff, runs, notifications };
  }

  private async inBatches<Id>(
    batchSize: number,
    select: (limit: number) => Promise<Id[]>,
    remove: (ids: Id[]) => Promise<{ affected?: number | null }>,
  ): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = await select(batchSize);
      if (ids.length === 0) return removed;
      const { affected } = await remove(ids);
      removed += affected ?? ids.length;
      // 0: another replica took these rows; it goes on with the rest. Either way no loop without progress.
      if (ids.length < batchSize || affected === 0) return removed;
    }
  }

  /** Oldest first, over the (created_at, run_id) index; a completed run with no newer completed run is kept. */
  private async expiredRunIds(cutoff: Date, limit: number): Promise<string[]> {
    const rows: Array<{ run_id: string }> = await this.runs
      .createQueryBuilder('r')
      .select('r.run_id', 'run_id')
      .where('r.created_at < :cutoff', { cutoff })
      .andWhere(
        `NOT (r.status = 'completed' AND NOT EXISTS (
           SELECT 1 FROM sync_runs n
            WHERE n.company_id = r.company_id AND n.domain = r.domain AND n.job = r.job
              AND n.status = 'completed' AND n.created_at > r.created_at))`,
      )
      .orderBy('r.created_at', 'ASC')
      .addOrderBy('r.run_id', 'ASC')
      .limit(limit)
      .getRawMany();
    return rows.map((r) => r.run_id);
  }

  private async expiredNotificationIds(cutoff: Date, limit: number): Promise<number[]> {
    const rows: Array<{ id: number | string }> = await this.notifications
      .createQueryBuilder('n')
      .select('n.id', 'id')
      .where('n.sent_at IS NOT NULL AND n.sent_at < :cutoff', { cutoff })
      .orderBy('n.id', 'ASC')
      .limit(limit)
      .getRawMany();
    return rows.map((r) => Number(r.id));
  }
}
