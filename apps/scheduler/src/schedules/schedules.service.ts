import { ConflictException, Injectable, Logger, NotFoundException, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import {
  findJob,
  notRegisteredReason,
  registeredJobNames,
  registeredJobs,
  ScheduleView,
  tickMessage,
  UpsertScheduleDto,
} from '@sync-hub/contracts';
import { EventPublisher, ReliablePublisher } from '@sync-hub/messaging';
import { Brackets, DataSource, EntityManager, Repository, SelectQueryBuilder } from 'typeorm';
import { SchedulerClock } from '../clock/clock';
import { CompaniesService } from '../companies/companies.service';
import { lockedQuery, transactionWithEvents } from '../events/transaction-with-events';
import { SettingsService } from '../settings/settings.service';
import { cadenceOf } from './cadence';
import { humanNextRun, nextRunAfter } from './next-run';
import { Schedule } from './schedule.entity';
import { scheduleEvents } from './schedule-events';
import { tickOf } from './tick';

/** What one write changed: its rows go out on `scheduler.schedule.changed.v1` if and only if it commits. */
interface ScheduleChanges {
  changed: Schedule[];
  deleted: number[];
}

const REPUBLISH_BATCH = 1000;

/**
 * Schedules (seed 001's API): create-or-update per (company, domain, job type), toggle, delete, run now. Every change
 * is written with its `scheduler.schedule.changed.v1` event in one transaction (the transactional outbox), so other apps
 * can keep a projection of schedules instead of reading this table. A schedule of a job this version has no handler
 * for (not in the job registry) is kept disabled, with `notRegisteredReason` as its paused reason.
 */
@Injectable()
export class SchedulesService implements OnModuleInit {
  private readonly logger = new Logger(SchedulesService.name);

  constructor(
    @InjectRepository(Schedule) private readonly schedules: Repository<Schedule>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly settings: SettingsService,
    private readonly publisher: EventPublisher,
    private readonly outbox: ReliablePublisher,
    private readonly clock: SchedulerClock,
    private readonly companies: CompaniesService,
  ) {}

  onModuleInit(): void {
    this.settings.onChange((key) => this.recomputeForSetting(key));
    this.companies.onCreated((company) => this.addCompanyDefaults(company.id, company.timezone));
  }

  /**
   * Every company's own schedules, created with it (company 1's are seeded by migrations): the daily
   * `accounting.connections.check` at 05:00 in the company's time zone (issue 9).
   */
  async addCompanyDefaults(companyId: number, timezone: string): Promise<void> {
    await this.upsert(companyId, {
      domain: 'accounting',
      job_type: 'accounting.connections.check',
      frequency: 'daily',
      hour_of_day: 5,
      minute: 0,
      timezone,
    });
  }

  /** The company's schedules; 404 for a company that does not exist (an existing one may have none). */
  async list(companyId: number): Promise<Schedule[]> {
    await this.companies.get(companyId);
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
    const missing = rows.filter((s) => s.enabled && !s.nextRunAt);
    if (missing.length === 0) return rows;
    const now = this.clock.now();
    const filled = await this.write(async (m, changes) => {
      const current = await this.locked(m)
        .where('s.id IN (:...ids)', { ids: missing.map((s) => s.id) })
        .getMany();
      for (const s of current) {
        if (!s.enabled || s.nextRunAt) continue;
        s.nextRunAt = await this.nextRun(s, now);
        s.updatedAt = now;
        changes.changed.push(await m.save(s));
      }
      return new Map(current.map((s) => [s.id, s]));
    });
    return rows.map((s) => filled.get(s.id) ?? s);
  }

  /** Creates the company's schedule for (domain, job type), or updates the one it has; 404 for an unknown company. */
  async upsert(companyId: number, dto: UpsertScheduleDto): Promise<{ schedule: Schedule; created: boolean }> {
    const now = this.clock.now();
    const domain = dto.domain ?? 'accounting';
    return this.write(async (m, changes) => {
      await this.companies.assertExists(m, companyId);
      const existing = await this.locked(m)
        .where('s.company_id = :companyId AND s.domain = :domain AND s.job_type = :job', {
          companyId,
          domain,
          job: dto.job_type,
        })
        .getOne();
      const s =
        existing ??
        m.create(Schedule, {
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
      // Stored, but kept disabled until a version with a handler for the job starts (reconcileRegistry enables it).
      if (!findJob(domain, dto.job_type)) {
        s.enabled = false;
        s.pausedReason = notRegisteredReason(domain, dto.job_type);
      }
      s.updatedAt = now;
      s.nextRunAt = await this.nextRun(s, now);
      const saved = await m.save(s);
      changes.changed.push(saved);
      return { schedule: saved, created: !existing };
    });
  }

  async toggle(id: number, enabled: boolean, reason?: string): Promise<Schedule> {
    const now = this.clock.now();
    return this.write(async (m, changes) => {
      const s = await this.locked(m).where('s.id = :id', { id }).getOne();
      if (!s) throw new NotFoundException(`schedule ${id} not found`);
      if (enabled) this.assertRegistered(s, 'cannot be enabled');
      s.enabled = enabled;
      s.pausedReason = enabled ? null : (reason ?? null);
      s.updatedAt = now;
      s.nextRunAt = await this.nextRun(s, now);
      const saved = await m.save(s);
      changes.changed.push(saved);
      return saved;
    });
  }

  async remove(id: number): Promise<void> {
    await this.write(async (m, changes) => {
      const res = await m.delete(Schedule, { id });
      if (!res.affected) throw new NotFoundException(`schedule ${id} not found`);
      changes.deleted.push(id);
    });
  }

  /** Publishes a manual tick now; the sync app applies the schedule's overlap policy. */
  async runNow(id: number): Promise<string> {
    const s = await this.get(id);
    this.assertRegistered(s, 'cannot run');
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
    await this.write(async (m, changes) => {
      const rows = await this.locked(m)
        .where('s.interval_setting = :key AND s.enabled = :on', { key, on: true })
        .getMany();
      for (const s of rows) {
        const next = await this.nextRun(s, now);
        if (next?.getTime() === (s.nextRunAt ? new Date(s.nextRunAt).getTime() : null)) continue;
        s.nextRunAt = next;
        s.updatedAt = now;
        changes.changed.push(await m.save(s));
      }
    });
  }

  /**
   * Keeps schedules in step with the job registry (at start, and when a replica starts leading): an enabled schedule
   * of a job without a handler is disabled with `notRegisteredReason`; one disabled for exactly that reason whose job
   * has a handler now (a newer version) is enabled again. Schedules paused for any other reason are left alone.
   */
  async reconcileRegistry(): Promise<{ disabled: number; enabled: number }> {
    const now = this.clock.now();
    const registered = registeredJobs();
    const params: Record<string, unknown> = { on: true, off: false };
    const pairs = registered.map((j, i) => {
      params[`d${i}`] = j.domain;
      params[`j${i}`] = j.job;
      return `(s.domain = :d${i} AND s.job_type = :j${i})`;
    });
    const isRegistered = pairs.length ? `(${pairs.join(' OR ')})` : '1 = 0';
    return this.write(async (m, changes) => {
      const unavailable = await this.locked(m)
        .where('s.enabled = :on', params)
        .andWhere(new Brackets((w) => w.where(`NOT ${isRegistered}`, params)))
        .getMany();
      for (const s of unavailable) {
        s.enabled = false;
        s.pausedReason = notRegisteredReason(s.domain, s.jobType);
        s.nextRunAt = null;
        s.updatedAt = now;
        changes.changed.push(await m.save(s));
      }
      const available = (
        await this.locked(m)
          .where('s.enabled = :off', params)
          .andWhere(new Brackets((w) => w.where(isRegistered, params)))
          .getMany()
      ).filter((s) => s.pausedReason === notRegisteredReason(s.domain, s.jobType));
      for (const s of available) {
        s.enabled = true;
        s.pausedReason = null;
        s.nextRunAt = await this.nextRun(s, now);
        s.updatedAt = now;
        changes.changed.push(await m.save(s));
      }
      if (unavailable.length || available.length)
        this.logger.log(
          `job registry: disabled ${unavailable.length} schedule(s) of jobs without a handler, enabled ${available.length} whose job has one now`,
        );
      return { disabled: unavailable.length, enabled: available.length };
    });
  }

  /**
   * Publishes every schedule as it is, in batches through the outbox: a projection that started after some changes
   * (or before any event existed: seeded rows, existing installs) becomes complete. On a compacted topic this only
   * adds a newer copy of each key. The leader does it once each time it starts leading.
   */
  async republishAll(): Promise<number> {
    let lastId = 0;
    let total = 0;
    for (;;) {
      const rows = await this.write(async (m, changes) => {
        // Locked: a concurrent change of one of these rows commits (and enqueues its event) before or after this
        // batch, never in between, so the topic's order per key stays the order of the writes.
        const qb = this.locked(m).where('s.id > :lastId', { lastId }).orderBy('s.id', 'ASC').limit(REPUBLISH_BATCH);
        const batch = await qb.getMany();
        changes.changed.push(...batch);
        return batch;
      });
      total += rows.length;
      if (rows.length < REPUBLISH_BATCH) return total;
      lastId = rows[rows.length - 1].id;
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

  /** A job without a handler cannot be enabled or run: 409, naming why and what this version can run. */
  private assertRegistered(s: Schedule, what: string): void {
    if (findJob(s.domain, s.jobType)) return;
    throw new ConflictException(
      `schedule ${s.id} ${what}: ${notRegisteredReason(s.domain, s.jobType)}. Jobs this version runs: ${registeredJobNames()}`,
    );
  }

  /** Rows read to be changed: locked until the transaction ends (MySQL), so events go out in the order rows change. */
  private locked(m: EntityManager): SelectQueryBuilder<Schedule> {
    return lockedQuery(m, Schedule, 's');
  }

  /** A change and its events in one transaction (the transactional outbox); the events are sent after the commit. */
  private write<T>(work: (m: EntityManager, changes: ScheduleChanges) => Promise<T>): Promise<T> {
    return transactionWithEvents(this.dataSource, this.outbox, this.logger, 'schedule', async (m, events) => {
      const changes: ScheduleChanges = { changed: [], deleted: [] };
      const out = await work(m, changes);
      events.push(...scheduleEvents(changes.changed, changes.deleted));
      return out;
    });
  }
}
