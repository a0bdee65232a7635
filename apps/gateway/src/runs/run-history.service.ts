import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { RunEventPayload, RunStatus } from '@sync-hub/contracts';
import { isDuplicateKeyError } from '@sync-hub/persistence';
import { Repository } from 'typeorm';
import { SyncRun } from './sync-run.entity';

const TERMINAL: RunStatus[] = ['completed', 'failed', 'skipped'];

export interface RunQuery {
  domain?: string;
  job?: string;
  status?: string;
  companyId?: number;
  since?: Date;
  /** Rows strictly after this position in (created_at desc, run_id desc) order. */
  after?: { createdAt: Date; runId: string };
  limit: number;
}

/** An opaque cursor: the last row's position, base64url. */
export function encodeCursor(run: { createdAt: Date; runId: string }): string {
  return Buffer.from(`${new Date(run.createdAt).toISOString()}|${run.runId}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; runId: string } | null {
  const [at, runId] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at);
  return runId && !Number.isNaN(createdAt.getTime()) ? { createdAt, runId } : null;
}

/**
 * Folds run events into `sync_runs`. Events may arrive twice and in any order. Within one attempt of a run, a terminal
 * event wins over `started` whenever it arrives, and a repeated event changes nothing. An event of a later attempt (the
 * run was taken over) supersedes everything an earlier attempt said, its terminal event too: an interrupted run that
 * the takeover completed shows completed, with its attempts, the takeover's time and reason. An earlier attempt's
 * event that arrives late changes nothing. The run keeps its first start time.
 */
@Injectable()
export class RunHistoryService {
  constructor(@InjectRepository(SyncRun) private readonly runs: Repository<SyncRun>) {}

  async record(status: Exclude<RunStatus, 'requested'>, event: RunEventPayload, now = new Date()): Promise<void> {
    const row = this.toRow(status, event, now);
    try {
      await this.runs.insert(row);
      return;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    const update = () =>
      this.runs.createQueryBuilder().update(SyncRun).where('run_id = :runId', { runId: event.runId });
    const { createdAt: _created, runId: _id, startedAt, ...attemptFields } = row;
    // A later attempt: all it says replaces the earlier attempt's, whatever status that reached.
    const superseded = await update()
      .set({ ...attemptFields, startedAt: () => 'COALESCE(started_at, :firstStartedAt)' })
      .setParameter('firstStartedAt', startedAt)
      .andWhere('attempts < :attempt', { attempt: row.attempts })
      .execute();
    if ((superseded.affected ?? 0) > 0) return;
    const sameAttempt = update().andWhere('attempts = :attempt', { attempt: row.attempts });
    if (status === 'running') {
      // `started` after a terminal event only fills in what the terminal event lacked.
      await sameAttempt
        .set({ status: 'running', startedAt, updatedAt: now })
        .andWhere('status = :requested', { requested: 'requested' })
        .execute();
      return;
    }
    await sameAttempt
      .set({ ...attemptFields, startedAt: () => 'COALESCE(started_at, :firstStartedAt)' })
      .setParameter('firstStartedAt', startedAt)
      .andWhere('status NOT IN (:...terminal)', { terminal: TERMINAL })
      .execute();
  }

  async list(query: RunQuery): Promise<SyncRun[]> {
    const qb = this.runs
      .createQueryBuilder('r')
      .orderBy('r.created_at', 'DESC')
      .addOrderBy('r.run_id', 'DESC')
      .limit(query.limit);
    if (query.domain) qb.andWhere('r.domain = :domain', { domain: query.domain });
    if (query.job) qb.andWhere('r.job = :job', { job: query.job });
    if (query.status) qb.andWhere('r.status = :status', { status: query.status });
    if (query.companyId) qb.andWhere('r.company_id = :companyId', { companyId: query.companyId });
    if (query.since) qb.andWhere('r.created_at >= :since', { since: query.since });
    if (query.after) {
      qb.andWhere('(r.created_at < :at OR (r.created_at = :at AND r.run_id < :afterId))', {
        at: query.after.createdAt,
        afterId: query.after.runId,
      });
    }
    return qb.getMany();
  }

  find(runId: string): Promise<SyncRun | null> {
    return this.runs.findOneBy({ runId });
  }

  private toRow(status: RunStatus, e: RunEventPayload, now: Date): SyncRun {
    return {
      runId: e.runId,
      domain: e.domain,
      job: e.job,
      companyId: e.companyId,
      scheduleId: e.scheduleId ?? null,
      trigger: e.trigger,
      status,
      scheduledFor: e.scheduledFor ? new Date(e.scheduledFor) : null,
      startedAt: new Date(e.startedAt),
      finishedAt: e.finishedAt ? new Date(e.finishedAt) : null,
      durationMs: e.durationMs ?? null,
      stats: status === 'running' ? null : e.stats,
      error: e.error ?? null,
      warnings: status === 'completed' && e.warnings?.length ? e.warnings : null,
      skipReason: e.skipReason ?? null,
      attempts: e.attempt ?? 1,
      takenOverAt: e.takenOverAt ? new Date(e.takenOverAt) : null,
      takeoverReason: e.takeoverReason ?? null,
      createdAt: now,
      updatedAt: now,
    };
  }
}
