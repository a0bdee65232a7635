import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { Domain, scheduledParams, SyncRequestedPayload, tickMessage } from '@sync-hub/contracts';
import { EventPublisher } from '@sync-hub/messaging';
import { Repository } from 'typeorm';
import { SchedulerClock } from '../clock/clock';
import { SettingsService } from '../settings/settings.service';
import { UpsertScheduleDto } from '@sync-hub/contracts';
import { Cadence, humanNextRun, nextRunAfter } from './next-run';
import { Schedule } from './schedule.entity';

/** A schedule as the API shows it: snake_case, times in UTC ISO-8601, plus the next run in its zone and in words. */
export interface ScheduleView {
  id: number;
  company_id: number;
  domain: string;
  job_type: string;
  frequency: string;
  interval_minutes: number | null;
  minute: number;
  hour_of_day: number | null;
  day_of_week: number | null;
  day_of_month: number | null;
  timezone: string;
  date_range_days: number | null;
  enabled: boolean;
  paused_reason: string | null;
  overlap_policy: string;
  catchup_window_s: number;
  last_run_at: string | null;
  next_run_at: string | null;
  next_run_local: string | null;
  next_run_human: string | null;
}

export function cadenceOf(s: Schedule, intervalFromSetting?: number): Cadence {
  return {
    frequency: s.frequency,
    intervalMinutes: s.intervalSetting && intervalFromSetting ? intervalFromSetting : s.intervalMinutes,
    minute: s.minute,
    hourOfDay: s.hourOfDay,
    dayOfWeek: s.dayOfWeek,
    dayOfMonth: s.dayOfMonth,
    timezone: s.timezone,
  };
}

/** A deadline past which a tick is stale: its next slot, and never sooner than a minute from publishing. */
export function tickDeadline(cadence: Cadence, slot: Date, publishedAt: Date): Date {
  return new Date(Math.max(nextRunAfter(cadence, slot).getTime() - 1000, publishedAt.getTime() + 60000));
}

export function tickOf(
  s: Schedule,
  runId: string,
  slot: Date,
  deadline: Date,
  trigger: 'schedule' | 'manual',
): SyncRequestedPayload {
  return {
    runId,
    domain: s.domain as Domain,
    job: s.jobType,
    companyId: s.companyId,
    scheduleId: String(s.id),
    trigger,
    scheduledFor: slot.toISOString(),
    deadline: deadline.toISOString(),
    ...(scheduledParams(s.domain, s.jobType, s) ? { params: scheduledParams(s.domain, s.jobType, s) } : {}),
    overlapPolicy: s.overlapPolicy,
  };
}

/** Schedules (seed 001's API): create-or-update per (company, domain, job type), toggle, delete, run now. */
@Injectable()
export class SchedulesService {
  constructor(
    @InjectRepository(Schedule) private readonly schedules: Repository<Schedule>,
    private readonly settings: SettingsService,
    private readonly publisher: EventPublisher,
    private readonly clock: SchedulerClock,
  ) {}

  async list(companyId: number): Promise<Schedule[]> {
    return this.withNextRuns(
      await this.schedules.find({ where: { companyId }, order: { domain: 'ASC', jobType: 'ASC' } }),
    );
  }

  async listAll(): Promise<Schedule[]> {
    return this.withNextRuns(await this.schedules.find({ order: { companyId: 'ASC', domain: 'ASC', jobType: 'ASC' } }));
  }

  async get(id: number): Promise<Schedule> {
    const schedule = await this.schedules.findOneBy({ id });
    if (!schedule) throw new NotFoundException(`schedule ${id} not found`);
    return (await this.withNextRuns([schedule]))[0];
  }

  /** Enabled schedules without a next run (seeded rows, rows whose interval setting changed) get one computed and stored. */
  async withNextRuns(rows: Schedule[]): Promise<Schedule[]> {
    const now = this.clock.now();
    for (const s of rows) {
      if (!s.enabled || s.nextRunAt) continue;
      s.nextRunAt = await this.nextRun(s, now);
      s.updatedAt = now;
      await this.schedules.update({ id: s.id }, { nextRunAt: s.nextRunAt, updatedAt: now });
    }
    return rows;
  }

  /** Creates the company's schedule for (domain, job type), or updates the one it has. */
  async upsert(companyId: number, dto: UpsertScheduleDto): Promise<{ schedule: Schedule; created: boolean }> {
    const now = this.clock.now();
    const domain = dto.domain ?? 'accounting';
    const existing = await this.schedules.findOneBy({ companyId, domain, jobType: dto.job_type });
    const s =
      existing ??
      this.schedules.create({
        companyId,
        domain,
        jobType: dto.job_type,
        createdAt: now,
        enabled: true,
        minute: 0,
        timezone: 'UTC',
        overlapPolicy: 'skip',
        catchupWindowS: 3600,
      });
    s.frequency = dto.frequency;
    if (dto.interval_minutes !== undefined) s.intervalMinutes = dto.interval_minutes;
    if (dto.minute !== undefined) s.minute = dto.minute;
    if (dto.hour_of_day !== undefined) s.hourOfDay = dto.hour_of_day;
    if (dto.day_of_week !== undefined) s.dayOfWeek = dto.day_of_week;
    if (dto.day_of_month !== undefined) s.dayOfMonth = dto.day_of_month;
    if (dto.timezone !== undefined) s.timezone = dto.timezone;
    if (dto.date_range_days !== undefined) s.dateRangeDays = dto.date_range_days;
    if (dto.overlap_policy !== undefined) s.overlapPolicy = dto.overlap_policy;
    if (dto.catchup_window_s !== undefined) s.catchupWindowS = dto.catchup_window_s;
    if (dto.enabled !== undefined) {
      s.enabled = dto.enabled;
      if (dto.enabled) s.pausedReason = null;
    }
    s.updatedAt = now;
    s.nextRunAt = await this.nextRun(s, now);
    const saved = await this.schedules.save(s);
    return { schedule: saved, created: !existing };
  }

  async toggle(id: number, enabled: boolean, reason?: string): Promise<Schedule> {
    const s = await this.get(id);
    const now = this.clock.now();
    s.enabled = enabled;
    s.pausedReason = enabled ? null : (reason ?? null);
    s.updatedAt = now;
    s.nextRunAt = await this.nextRun(s, now);
    return this.schedules.save(s);
  }

  async remove(id: number): Promise<void> {
    const res = await this.schedules.delete({ id });
    if (!res.affected) throw new NotFoundException(`schedule ${id} not found`);
  }

  /** Publishes a manual tick now; the sync app applies the schedule's overlap policy. */
  async runNow(id: number): Promise<string> {
    const s = await this.get(id);
    const now = this.clock.now();
    const tick = tickOf(
      s,
      randomUUID(),
      now,
      new Date(now.getTime() + Math.max(s.catchupWindowS, 3600) * 1000),
      'manual',
    );
    const { topic, ...message } = tickMessage(tick);
    await this.publisher.publish(topic, [message]);
    return tick.runId;
  }

  /** After a setting that drives intervals changes, the affected schedules' next runs follow from the next minute. */
  async recomputeForSetting(key: string): Promise<void> {
    const now = this.clock.now();
    for (const s of await this.schedules.findBy({ intervalSetting: key, enabled: true })) {
      s.nextRunAt = await this.nextRun(s, now);
      s.updatedAt = now;
      await this.schedules.save(s);
    }
  }

  async nextRun(s: Schedule, after: Date): Promise<Date | null> {
    if (!s.enabled) return null;
    const interval = s.intervalSetting ? await this.settings.effective(s.intervalSetting) : undefined;
    return nextRunAfter(cadenceOf(s, interval), after);
  }

  view(s: Schedule): ScheduleView {
    const now = this.clock.now();
    const next = s.nextRunAt ? new Date(s.nextRunAt) : null;
    return {
      id: s.id,
      company_id: s.companyId,
      domain: s.domain,
      job_type: s.jobType,
      frequency: s.frequency,
      interval_minutes: s.intervalMinutes,
      minute: s.minute,
      hour_of_day: s.hourOfDay,
      day_of_week: s.dayOfWeek,
      day_of_month: s.dayOfMonth,
      timezone: s.timezone,
      date_range_days: s.dateRangeDays,
      enabled: !!s.enabled,
      paused_reason: s.pausedReason,
      overlap_policy: s.overlapPolicy,
      catchup_window_s: s.catchupWindowS,
      last_run_at: s.lastRunAt ? new Date(s.lastRunAt).toISOString() : null,
      next_run_at: next ? next.toISOString() : null,
      next_run_local: next ? DateTime.fromJSDate(next, { zone: s.timezone }).toISO() : null,
      next_run_human: humanNextRun(next, s.timezone, now),
    };
  }
}
