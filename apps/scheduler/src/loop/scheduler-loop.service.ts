import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { CronJob } from 'cron';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { runEventMessage, scheduledRunId, tickMessage, Topic } from '@sync-hub/contracts';
import { ChangeEventSender, EnqueuedBatch, OutgoingMessage, ReliablePublisher } from '@sync-hub/messaging';
import { hydrate, JobLeasesService, selectList } from '@sync-hub/persistence';

import { DataSource, EntityManager, IsNull, Repository } from 'typeorm';
import { SchedulerClock } from '../clock/clock';
import { CompaniesService } from '../companies/companies.service';
import { cadenceOf } from '../schedules/cadence';
import { latestRunAtOrBefore, nextRunAfter } from '../schedules/next-run';
import { Schedule } from '../schedules/schedule.entity';
import { scheduleEvents } from '../schedules/schedule-events';
import { SchedulesService } from '../schedules/schedules.service';
import { tickDeadline, tickOf } from '../schedules/tick';
import { SettingsService } from '../settings/settings.service';
import { dueIdsSql } from './due-query';

export const LEADER_LEASE = 'scheduler.leader';
/** The loop's jobs in @nestjs/schedule's SchedulerRegistry (none with the manual clock: POST /__clock steps instead). */
export const MINUTE_JOB = 'scheduler.minute';
export const LEASE_RENEWAL_JOB = 'scheduler.lease-renewal';
const DUE_BATCH = 1000;
/** Rows per advancing UPDATE: one statement per due batch. */
const UPDATE_CHUNK = 1000;

export interface StepResult {
  now: string;
  leader: boolean;
  ticks: number;
  skipped: number;
}

class LostLeadershipError extends Error {}

/** What the step decided for one due schedule. */
interface DueDecision {
  id: number;
  next: Date;
  /** The slot ticked, or null when only a missed slot was reported. */
  ranAt: Date | null;
  messages: Array<{ topic: string } & OutgoingMessage>;
  missed: boolean;
}

/**
 * The scheduler's loop (DESIGN.md section 5). One replica leads through the `scheduler.leader` lease; every minute the
 * leader selects due schedules with one indexed query, and for each batch advances `next_run_at` and writes the ticks
 * (and the advanced schedules' change events) to the outbox in one transaction fenced by its lease, then sends them. So
 * two replicas never tick one slot twice, and a tick is never lost between "decided" and "sent". A slot missed while no
 * scheduler ran is run once if within the schedule's catch-up window, and reported as skipped otherwise.
 *
 * The timers are @nestjs/schedule jobs: `scheduler.minute` (a cron at second 0) and `scheduler.lease-renewal` (every
 * third of the lease), visible in the SchedulerRegistry and stopped by ScheduleModule on shutdown.
 */
@Injectable()
export class SchedulerLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SchedulerLoop.name);
  readonly owner = randomUUID();
  private leading = false;
  /**
   * Set when this replica starts leading: its next publishing step re-checks the registry, republishes companies,
   * schedules and settings.
   */
  private newlyLeading = false;
  private startTicksPending: string[];
  private stepping: Promise<StepResult> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(Schedule) private readonly schedules: Repository<Schedule>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly leases: JobLeasesService,
    private readonly outbox: ReliablePublisher,
    private readonly settings: SettingsService,
    private readonly schedulesService: SchedulesService,
    private readonly clock: SchedulerClock,
    private readonly registry: SchedulerRegistry,
    private readonly adapterHost: HttpAdapterHost,
    private readonly companies: CompaniesService,
  ) {
    this.startTicksPending = [...config.scheduler.runOnStart];
  }

  /**
   * Every replica, with either clock, first brings schedules in step with the job registry. With the system clock it
   * then registers its jobs, and takes its first step once the app serves (in the embedded mode, once the other apps'
   * handlers listen on the in-process bus).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.guarded('bringing schedules in step with the job registry', () =>
      this.schedulesService.reconcileRegistry(),
    );
    if (this.clock.manual) return;
    const renewal = setInterval(
      () => void this.guarded('the lease renewal', () => this.step(false)),
      Math.floor(this.config.scheduler.leaderLeaseMs / 3),
    );
    this.registry.addInterval(LEASE_RENEWAL_JOB, renewal);
    const minute = CronJob.from({
      cronTime: '0 * * * * *',
      onTick: () => void this.guarded('the minute step', () => this.step(true)),
      start: true,
    });
    this.registry.addCronJob(MINUTE_JOB, minute);
    this.whenServing(() => void this.guarded('the first step', () => this.step(true)));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stepping?.catch(() => undefined);
    if (this.leading) await this.leases.release(LEADER_LEASE, this.owner).catch(() => undefined);
  }

  /** The one place the loop's failures are logged: a failed step is retried by the next one. */
  private async guarded(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.logger.error(`scheduler: ${what} failed: ${(err as Error).message}`);
    }
  }

  private whenServing(run: () => void): void {
    const server = this.adapterHost?.httpAdapter?.getHttpServer?.() as
      { listening?: boolean; once(event: 'listening', fn: () => void): void } | undefined;
    if (!server || server.listening) setImmediate(run);
    else server.once('listening', run);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** One turn: take or keep leadership; as leader, publish what is due. Never two turns at once in one process. */
  step(publishDue = true): Promise<StepResult> {
    const run = async (): Promise<StepResult> => {
      const now = this.clock.now();
      const wasLeading = this.leading;
      this.leading = await this.leases.acquire(LEADER_LEASE, this.owner, this.config.scheduler.leaderLeaseMs, now);
      if (this.leading !== wasLeading)
        this.logger.log(this.leading ? 'leading the scheduler' : 'standing by: another replica leads');
      if (this.leading && !wasLeading) this.newlyLeading = true;
      const result: StepResult = { now: now.toISOString(), leader: this.leading, ticks: 0, skipped: 0 };
      if (!this.leading || !publishDue) return result;
      try {
        // Rows written behind the API's back (a restore, an older version) follow the registry before they tick.
        if (this.newlyLeading) await this.schedulesService.reconcileRegistry();
        await this.fillMissingNextRuns();
        if (this.startTicksPending.length) result.ticks += await this.publishStartTicks(now);
        const due = await this.publishDue(now);
        result.ticks += due.ticks;
        result.skipped += due.skipped;
        if (this.newlyLeading) {
          this.newlyLeading = false;
          const companies = await this.companies.republishAll();
          this.logger.log(
            `republished ${companies} compan${companies === 1 ? 'y' : 'ies'} on scheduler.company.changed.v1 as the new leader`,
          );
          const published = await this.schedulesService.republishAll();
          this.logger.log(`republished ${published} schedule(s) on scheduler.schedule.changed.v1 as the new leader`);
          const settings = await this.settings.republishAll();
          this.logger.log(`republished ${settings} setting(s) on scheduler.setting.changed.v1 as the new leader`);
        }
      } catch (err) {
        if (!(err instanceof LostLeadershipError)) throw err;
        this.leading = false;
        this.logger.warn('lost leadership during a step; the new leader carries on');
      }
      return result;
    };
    const next = (this.stepping ?? Promise.resolve()).catch(() => undefined).then(run);
    this.stepping = next;
    return next;
  }

  /** Seeded rows, and rows whose interval setting changed, have no next run yet. */
  private async fillMissingNextRuns(): Promise<void> {
    await this.schedulesService.withNextRuns(await this.schedules.findBy({ enabled: true, nextRunAt: IsNull() }));
  }

  /** SCHEDULER_RUN_ON_START: one tick per listed job when this process first leads (the embedded mode's first sync). */
  private async publishStartTicks(now: Date): Promise<number> {
    const jobs = this.startTicksPending;
    this.startTicksPending = [];
    const minute = new Date(Math.floor(now.getTime() / 60000) * 60000);
    const messages: Array<{ topic: string } & OutgoingMessage> = [];
    for (const s of await this.schedules.findBy({ enabled: true })) {
      if (!jobs.includes(`${s.domain}:${s.jobType}`)) continue;
      const cadence = cadenceOf(s, s.intervalSetting ? await this.settings.effective(s.intervalSetting) : undefined);
      // The run id derives from (schedule, minute): replicas starting in the same minute start one run.
      const tick = tickOf(
        s,
        scheduledRunId(String(s.id), minute),
        minute,
        tickDeadline(cadence, minute, now),
        'schedule',
      );
      messages.push(tickMessage(tick));
    }
    await this.dataSource.transaction(async (m) => {
      if (!(await this.leases.holdsWithin(m, LEADER_LEASE, this.owner, now))) throw new LostLeadershipError();
      await this.outbox.enqueue(m, messages);
    });
    await this.outbox.flush();
    return messages.length;
  }

  private async publishDue(now: Date): Promise<{ ticks: number; skipped: number }> {
    let ticks = 0;
    let skipped = 0;
    const sender = new ChangeEventSender(this.outbox, this.logger, 'ticks');
    const intervals = new Map<string, number>();
    // Due schedules mostly share a few cadences: compute each (cadence, instant) once per step.
    const memo = new Map<string, Date | null>();
    const cached = (key: string, compute: () => Date | null) =>
      memo.has(key) ? memo.get(key)! : (memo.set(key, compute()), memo.get(key)!);
    try {
      for (;;) {
        // One transaction per batch, fenced by the leader lease: the due rows are read locked (MySQL), so a schedule
        // paused or edited through the API meanwhile waits for this batch, or is seen as it now is; never ticked stale.
        const batch = await this.dataSource.transaction(async (m) => {
          if (!(await this.leases.holdsWithin(m, LEADER_LEASE, this.owner, now))) throw new LostLeadershipError();
          const due = await this.lockDue(m, now);
          if (due.length === 0) return null;
          const decided: DueDecision[] = [];
          for (const s of due) {
            const messages: Array<{ topic: string } & OutgoingMessage> = [];
            if (s.intervalSetting && !intervals.has(s.intervalSetting))
              intervals.set(s.intervalSetting, await this.settings.effective(s.intervalSetting));
            const cadence = cadenceOf(s, s.intervalSetting ? intervals.get(s.intervalSetting) : undefined);
            const key = JSON.stringify(cadence);
            const pending = new Date(s.nextRunAt!);
            const latest =
              cached(`${key}|latest|${pending.getTime()}`, () => latestRunAtOrBefore(cadence, now, pending)) ?? pending;
            const withinWindow = now.getTime() - latest.getTime() <= s.catchupWindowS * 1000;
            if (withinWindow) {
              const deadline = cached(`${key}|deadline|${latest.getTime()}`, () => tickDeadline(cadence, latest, now));
              messages.push(tickMessage(tickOf(s, scheduledRunId(String(s.id), latest), latest, deadline, 'schedule')));
            }
            // Slots missed while no scheduler ran are not replayed one by one: the oldest is reported as skipped.
            const missed = withinWindow ? (pending < latest ? pending : null) : pending;
            if (missed) {
              const tick = tickOf(s, scheduledRunId(String(s.id), missed), missed, missed, 'schedule');
              messages.push({
                topic: Topic.RunSkipped,
                ...runEventMessage(Topic.RunSkipped, tick, { startedAt: now, skipReason: 'missed' }),
              });
              this.logger.warn(
                `schedule ${s.id} (${s.domain}/${s.jobType}) missed slot(s) from ${missed.toISOString()} while no scheduler ran${withinWindow ? `; running ${latest.toISOString()} once` : ', beyond its catch-up window'}`,
              );
            }
            decided.push({
              id: s.id,
              next: cached(`${key}|next`, () => nextRunAfter(cadence, now)),
              ranAt: withinWindow ? latest : null,
              messages,
              missed: missed !== null,
            });
          }

          for (let i = 0; i < decided.length; i += UPDATE_CHUNK)
            await this.advance(m, decided.slice(i, i + UPDATE_CHUNK), now);
          // The rows as they now are (locked since they were read): their scheduler.schedule.changed.v1 events keep
          // next_run_at and last_run_at current in projections.
          for (const [i, s] of due.entries()) {
            s.nextRunAt = decided[i].next;
            if (decided[i].ranAt) s.lastRunAt = decided[i].ranAt;
            s.updatedAt = now;
          }
          // A few outbox rows per topic rather than a row per message: a step of 100,000 due schedules writes (and its
          // flush reads and deletes) some hundred rows instead of 200,000.
          const byTopic = new Map<string, OutgoingMessage[]>();
          for (const { topic, ...message } of [...decided.flatMap((d) => d.messages), ...scheduleEvents(due)]) {
            const list = byTopic.get(topic);
            if (list) list.push(message);
            else byTopic.set(topic, [message]);
          }
          // Stamped with the real time, not the step's (a manual clock may be hours ahead): the flush sends the rows
          // that are due by the wall clock.
          const enqueued: EnqueuedBatch[] = [];
          for (const [topic, messages] of byTopic) enqueued.push(await this.outbox.enqueueBatch(m, topic, messages));
          return {
            enqueued,
            size: due.length,
            ticks: decided.filter((d) => d.ranAt).length,
            skipped: decided.filter((d) => d.missed).length,
          };
        });
        if (!batch) break;
        ticks += batch.ticks;
        skipped += batch.skipped;
        // The batch goes out from memory while the next is decided (its rows are not read back), in commit order, on a
        // connection of its own; the next batch waits only while more than one batch's messages are unsent.
        for (const enqueued of batch.enqueued) sender.queue(enqueued);
        await sender.keepUp();
        if (batch.size < DUE_BATCH) break;
      }
    } finally {
      // What is still being sent (a lost lease included: its batches committed), then the outbox flushed; what the bus
      // refused waits there, for the next flush.
      await sender.finish();
    }
    return { ticks, skipped };
  }

  /**
   * At most DUE_BATCH due schedules, oldest first, locked until the step's transaction ends (MySQL): their ids by a range
   * of idx_schedules_due (dueIdsSql), then the rows by primary key, read locked too, so they are the rows as they now
   * are (a plain read would see the transaction's snapshot, older than a change committed before the ids were locked).
   * Both as plain SQL: through the query builder, the second read's IN list of 1,000 named parameters cost the step
   * more CPU than MariaDB spent answering it (12 % of the scheduler's profile, docs/benchmarks.md).
   */
  private async lockDue(m: EntityManager, now: Date): Promise<Schedule[]> {
    const mysql = m.connection.options.type === 'mysql';
    const enabled = this.prepared(m, 'enabled', true);
    const at = this.prepared(m, 'nextRunAt', now);
    const rows: Array<{ id: number | string }> = await m.query(dueIdsSql(mysql, DUE_BATCH), [enabled, at]);
    if (rows.length === 0) return [];
    const ids = rows.map((r) => Number(r.id));
    const due: Array<Record<string, unknown>> = await m.query(
      `SELECT ${selectList(m, Schedule)} FROM schedules WHERE id IN (${ids.map(() => '?').join(', ')})` +
        ` AND enabled = ? AND next_run_at <= ? ORDER BY next_run_at ASC, id ASC${mysql ? ' FOR UPDATE' : ''}`,
      [...ids, enabled, at],
    );
    return hydrate(m, Schedule, due);
  }

  /** A value as TypeORM writes it to a schedules column (dates as the engine stores them). */
  private prepared(m: EntityManager, property: keyof Schedule, value: unknown): unknown {
    return this.preparer(m, property)(value);
  }

  /** `prepared` for one column, its metadata looked up once: `advance` prepares two values a row. */
  private preparer(m: EntityManager, property: keyof Schedule): (value: unknown) => unknown {
    const column = m.connection.getMetadata(Schedule).findColumnWithPropertyName(property)!;
    return (value) => m.connection.driver.preparePersistentValue(value, column) as unknown;
  }

  /**
   * One UPDATE per chunk: next_run_at (and last_run_at when a tick went out) by CASE on id, with positional parameters
   * (the query builder's named ones cost more to bind than the statement takes to run).
   */
  private async advance(
    m: EntityManager,
    rows: Array<{ id: number; next: Date; ranAt: Date | null }>,
    now: Date,
  ): Promise<void> {
    const params: unknown[] = [];
    const nextRunAt = this.preparer(m, 'nextRunAt');
    const lastRunAt = this.preparer(m, 'lastRunAt');
    const next = rows.map((r) => (params.push(r.id, nextRunAt(r.next)), 'WHEN ? THEN ?'));
    const ran = rows.filter((r) => r.ranAt);
    const last = ran.map((r) => (params.push(r.id, lastRunAt(r.ranAt)), 'WHEN ? THEN ?'));
    params.push(this.prepared(m, 'updatedAt', now), ...rows.map((r) => r.id));
    await m.query(
      `UPDATE schedules SET next_run_at = CASE id ${next.join(' ')} END` +
        (last.length ? `, last_run_at = CASE id ${last.join(' ')} ELSE last_run_at END` : '') +
        `, updated_at = ? WHERE id IN (${rows.map(() => '?').join(', ')})`,
      params,
    );
  }
}
