import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { jobKey } from '@sync-hub/contracts';
import { DataSource } from 'typeorm';
import { ScheduleProjection } from '../scheduler/schedule-projection.entity';
import { ScheduleProjectionService } from '../scheduler/schedule-projection.service';
import { JobState, jobState } from './job-state';

export interface JobStatus {
  domain: string;
  job: string;
  company_id: number;
  state: JobState;
  schedule_id: number | null;
  last_run: {
    run_id: string;
    status: string;
    started_at: string | null;
    finished_at: string | null;
    warnings: string[];
  } | null;
  last_success_at: string | null;
  consecutive_failures: number;
  next_run_at: string | null;
  expected_interval_minutes: number | null;
}

const MINUTES: Record<string, number> = { hourly: 60, daily: 1440, weekly: 10080, monthly: 44640 };

/** MySQL returns Date; SQLite returns its UTC text, which must not be read as local time. */
function asDate(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}
const iso = (d: Date | string | null | undefined) => asDate(d)?.toISOString() ?? null;

type JobKeyed = { company_id: number | string; domain: string; job: string };
const keyOf = (r: JobKeyed) => jobKey(Number(r.company_id), r.domain, r.job);

/**
 * Freshness of every job (DESIGN.md section 9): from run history (the gateway's own table) and the gateway's projection
 * of the scheduler's schedules (kept from scheduler.schedule.changed.v1; the scheduler's table is never read).
 */
@Injectable()
export class StatusService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly projection: ScheduleProjectionService,
  ) {}

  /** Three grouped reads of run history (not three per job: the dashboard polls this every few seconds). */
  async status(now = new Date()): Promise<JobStatus[]> {
    const schedules = await this.projection.all();
    const lastRuns: Array<
      JobKeyed & {
        run_id: string;
        status: string;
        started_at: Date | string | null;
        finished_at: Date | string | null;
        warnings: string | null;
      }
    > = await this.db.query(
      `SELECT r.company_id, r.domain, r.job, r.run_id, r.status, r.started_at, r.finished_at, r.warnings
         FROM sync_runs r
         JOIN (SELECT company_id, domain, job, MAX(created_at) AS at FROM sync_runs WHERE status <> 'skipped' GROUP BY company_id, domain, job) l
           ON l.company_id = r.company_id AND l.domain = r.domain AND l.job = r.job AND l.at = r.created_at
        WHERE r.status <> 'skipped'
        ORDER BY r.run_id`,
    );
    const successes: Array<JobKeyed & { finished: Date | string }> = await this.db.query(
      "SELECT company_id, domain, job, MAX(COALESCE(finished_at, created_at)) AS finished FROM sync_runs WHERE status = 'completed' GROUP BY company_id, domain, job",
    );
    const failures: Array<JobKeyed & { failures: number | string }> = await this.db.query(
      `SELECT r.company_id, r.domain, r.job, COUNT(*) AS failures
         FROM sync_runs r
         LEFT JOIN (SELECT company_id, domain, job, MAX(created_at) AS at FROM sync_runs WHERE status = 'completed' GROUP BY company_id, domain, job) s
           ON s.company_id = r.company_id AND s.domain = r.domain AND s.job = r.job
        WHERE r.status = 'failed' AND (s.at IS NULL OR r.created_at > s.at)
        GROUP BY r.company_id, r.domain, r.job`,
    );
    const last = new Map(lastRuns.map((r) => [keyOf(r), r])); // ties on created_at: the last by run id wins
    const success = new Map(successes.map((r) => [keyOf(r), asDate(r.finished)]));
    const failing = new Map(failures.map((r) => [keyOf(r), Number(r.failures)]));

    const jobs = new Map<string, { domain: string; job: string; companyId: number; schedule?: ScheduleProjection }>();
    for (const r of lastRuns) jobs.set(keyOf(r), { domain: r.domain, job: r.job, companyId: Number(r.company_id) });
    for (const s of schedules)
      jobs.set(jobKey(s.companyId, s.domain, s.jobType), {
        domain: s.domain,
        job: s.jobType,
        companyId: s.companyId,
        schedule: s,
      });

    const out: JobStatus[] = [];
    for (const [key, { domain, job, companyId, schedule }] of jobs) {
      if (job === 'ping' && !schedule) continue;
      const lastRun = last.get(key);
      const lastSuccessAt = success.get(key) ?? null;
      const consecutiveFailures = failing.get(key) ?? 0;
      const intervalMinutes = schedule
        ? ((schedule.frequency === 'every_minutes' ? schedule.intervalMinutes : MINUTES[schedule.frequency]) ?? null)
        : null;
      out.push({
        domain,
        job,
        company_id: companyId,
        state: jobState(
          {
            paused: !!schedule && !schedule.enabled,
            lastStatus: lastRun?.status ?? null,
            consecutiveFailures,
            lastSuccessAt,
            since: schedule ? asDate(schedule.scheduleCreatedAt) : null,
            intervalMinutes,
          },
          now,
        ),
        schedule_id: schedule ? schedule.scheduleId : null,
        last_run: lastRun
          ? {
              run_id: lastRun.run_id,
              status: lastRun.status,
              started_at: iso(lastRun.started_at),
              finished_at: iso(lastRun.finished_at),
              warnings: lastRun.warnings ? (JSON.parse(lastRun.warnings) as string[]) : [],
            }
          : null,
        last_success_at: iso(lastSuccessAt),
        consecutive_failures: consecutiveFailures,
        next_run_at: schedule && schedule.enabled ? iso(schedule.nextRunAt) : null,
        expected_interval_minutes: intervalMinutes,
      });
    }
    return out.sort(
      (a, b) => a.domain.localeCompare(b.domain) || a.job.localeCompare(b.job) || a.company_id - b.company_id,
    );
  }
}
