import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export type JobState = 'healthy' | 'running' | 'overdue' | 'failing' | 'paused';

export interface JobStatus {
  domain: string;
  job: string;
  company_id: number;
  state: JobState;
  schedule_id: number | null;
  last_run: { run_id: string; status: string; started_at: string | null; finished_at: string | null } | null;
  last_success_at: string | null;
  consecutive_failures: number;
  next_run_at: string | null;
  expected_interval_minutes: number | null;
}

interface ScheduleRow {
  id: number;
  company_id: number;
  domain: string;
  job_type: string;
  frequency: string;
  interval_minutes: number | null;
  enabled: number | boolean;
  paused_reason: string | null;
  next_run_at: Date | string | null;
  created_at: Date | string;
}

const MINUTES: Record<string, number> = { hourly: 60, daily: 1440, weekly: 10080, monthly: 44640 };
const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

/** The state a job is in, most urgent first: paused, running, failing, overdue, healthy. */
export function jobState(s: { paused: boolean; lastStatus: string | null; consecutiveFailures: number; lastSuccessAt: Date | null; since: Date | null; intervalMinutes: number | null }, now: Date): JobState {
  if (s.paused) return 'paused';
  if (s.lastStatus === 'running') return 'running';
  if (s.consecutiveFailures > 0) return 'failing';
  const reference = s.lastSuccessAt ?? s.since;
  if (s.intervalMinutes && reference && now.getTime() - reference.getTime() > 2 * s.intervalMinutes * 60000) return 'overdue';
  return 'healthy';
}

/**
 * Freshness of every job (DESIGN.md section 9): from run history (the gateway's own table) and the schedules (the
 * scheduler's table, read here, never written).
 */
@Injectable()
export class StatusService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async status(now = new Date()): Promise<JobStatus[]> {
    const schedules: ScheduleRow[] = await this.db.query(
      'SELECT id, company_id, domain, job_type, frequency, interval_minutes, enabled, paused_reason, next_run_at, created_at FROM schedules',
    );
    const groups: Array<{ domain: string; job: string; company_id: number }> = await this.db.query(
      "SELECT DISTINCT domain, job, company_id FROM sync_runs WHERE status <> 'skipped'",
    );
    const keys = new Map<string, { domain: string; job: string; companyId: number; schedule?: ScheduleRow }>();
    for (const g of groups) keys.set(`${g.company_id}:${g.domain}:${g.job}`, { domain: g.domain, job: g.job, companyId: Number(g.company_id) });
    for (const s of schedules) {
      const key = `${s.company_id}:${s.domain}:${s.job_type}`;
      keys.set(key, { domain: s.domain, job: s.job_type, companyId: Number(s.company_id), schedule: s });
    }
    const out: JobStatus[] = [];
    for (const { domain, job, companyId, schedule } of keys.values()) {
      if (job === 'ping' && !schedule) continue;
      const [last] = await this.db.query(
        "SELECT run_id, status, started_at, finished_at, created_at FROM sync_runs WHERE domain = ? AND job = ? AND company_id = ? AND status <> 'skipped' ORDER BY created_at DESC, run_id DESC LIMIT 1",
        [domain, job, companyId],
      );
      const [success] = await this.db.query(
        "SELECT finished_at, created_at FROM sync_runs WHERE domain = ? AND job = ? AND company_id = ? AND status = 'completed' ORDER BY created_at DESC LIMIT 1",
        [domain, job, companyId],
      );
      const [{ failures }] = await this.db.query(
        `SELECT COUNT(*) AS failures FROM sync_runs WHERE domain = ? AND job = ? AND company_id = ? AND status = 'failed'${success ? ' AND created_at > ?' : ''}`,
        success ? [domain, job, companyId, success.created_at] : [domain, job, companyId],
      );
      const intervalMinutes = schedule ? (schedule.frequency === 'every_minutes' ? schedule.interval_minutes : MINUTES[schedule.frequency]) ?? null : null;
      const consecutiveFailures = Number(failures);
      const lastSuccessAt = success ? new Date(success.finished_at ?? success.created_at) : null;
      out.push({
        domain,
        job,
        company_id: companyId,
        state: jobState(
          {
            paused: !!schedule && !Number(schedule.enabled),
            lastStatus: last?.status ?? null,
            consecutiveFailures,
            lastSuccessAt,
            since: schedule ? new Date(schedule.created_at) : null,
            intervalMinutes,
          },
          now,
        ),
        schedule_id: schedule ? Number(schedule.id) : null,
        last_run: last ? { run_id: last.run_id, status: last.status, started_at: iso(last.started_at), finished_at: iso(last.finished_at) } : null,
        last_success_at: iso(lastSuccessAt),
        consecutive_failures: consecutiveFailures,
        next_run_at: schedule && Number(schedule.enabled) ? iso(schedule.next_run_at) : null,
        expected_interval_minutes: intervalMinutes,
      });
    }
    return out.sort((a, b) => a.domain.localeCompare(b.domain) || a.job.localeCompare(b.job) || a.company_id - b.company_id);
  }
}
