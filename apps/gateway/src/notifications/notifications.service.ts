import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { jobKey, RunEventPayload } from '@sync-hub/contracts';
import { StoredBackoff } from '@sync-hub/messaging';
import { DataSource, EntityManager, IsNull, LessThanOrEqual, Repository } from 'typeorm';
import { ScheduleProjectionService } from '../scheduler/schedule-projection.service';
import { SchedulerClient } from '../scheduler/scheduler.client';
import { SettingProjectionService } from '../scheduler/setting-projection.service';
import { NotificationChannels } from './channels';
import { Notification, NotificationKind, NotificationState } from './notification.entities';
import { NotificationMessage, notificationMessage } from './notification-message';

/** The send loop's job in @nestjs/schedule's SchedulerRegistry. */
export const SEND_JOB = 'notifications.send';
const SEND_INTERVAL_MS = 2000;
const AUTO_PAUSE_SETTING = 'notifications.auto_pause_after';
const AUTO_PAUSE_DEFAULT = 10;
/** A failed send is retried after 10 s, doubling, at most 10 minutes apart (no jitter: one loop sends, in order). */
const RETRY_BACKOFF = new StoredBackoff(10_000, 600_000);

/** How long to wait before the next try of a notification that has failed `attempts` times. */
export function retryDelayMs(attempts: number): number {
  return RETRY_BACKOFF.delayAfter(attempts);
}

/**
 * Notifications on changes, not on every tick (seed 000: "notify admins if sync fails"): the first failure of a job
 * after a success, its recovery, and the pause after N consecutive failures (setting notifications.auto_pause_after,
 * default 10, read from the gateway's projection of settings), which pauses the schedule through the scheduler. A
 * completed run with warnings is the exception: each such run is notified, since each warning is still to be acted on.
 * Notifications are queued per channel in the database and sent by a loop that retries with backoff, so a channel that
 * is down loses nothing.
 */
@Injectable()
export class NotificationsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(NotificationsService.name);
  private readonly locks = new Map<string, Promise<void>>();
  private sending: Promise<number> | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(Notification) private readonly queue: Repository<Notification>,
    private readonly channels: NotificationChannels,
    private readonly scheduler: SchedulerClient,
    private readonly schedules: ScheduleProjectionService,
    private readonly settings: SettingProjectionService,
    private readonly registry: SchedulerRegistry,
  ) {}

  /** The send loop, a named @nestjs/schedule job (stopped by ScheduleModule on shutdown). */
  onApplicationBootstrap(): void {
    this.registry.addInterval(
      SEND_JOB,
      // sendPending logs its own failure.
      setInterval(() => void this.sendPending().catch(() => undefined), SEND_INTERVAL_MS),
    );
  }

  /** Folds a finished run into its job's state; queues what changed. One run is counted once, however often it comes. */
  async onRunFinished(status: 'completed' | 'failed', event: RunEventPayload): Promise<void> {
    if (event.job === 'ping') return;
    const key = jobKey(event.companyId, event.domain, event.job);
    await this.serialized(key, async () => {
      const pauseAfter = status === 'failed' ? await this.autoPauseAfter() : AUTO_PAUSE_DEFAULT;
      let pauseNeeded = false;
      await this.db.transaction(async (m) => {
        const state = await this.lockState(m, key);
        if (state.lastRunId === event.runId) return;
        state.lastRunId = event.runId;
        state.updatedAt = new Date();
        const queued: NotificationKind[] = [];
        if (status === 'completed') {
          if (state.failureAnnounced) queued.push('recovery');
          // Every run with warnings, not only the first: each is something still to act on.
          if (event.warnings?.length) queued.push('warning');
          state.failureAnnounced = false;
          state.consecutiveFailures = 0;
          state.paused = false;
          state.lastSuccessAt = event.finishedAt ? new Date(event.finishedAt) : new Date();
        } else {
          state.consecutiveFailures++;
          if (!state.failureAnnounced) {
            queued.push('failure');
            state.failureAnnounced = true;
          }
          pauseNeeded = state.consecutiveFailures >= pauseAfter && !state.paused;
        }
        await m.getRepository(NotificationState).save(state);
        for (const kind of queued) await this.enqueue(m, kind, event, notificationMessage(kind, event, state));
      });
      if (pauseNeeded) await this.pause(key, event, pauseAfter);
    });
    void this.sendPending().catch(() => undefined);
  }

  /** Sends due notifications; a failed send is retried with backoff (10 s doubling, at most 10 minutes). */
  sendPending(now = new Date()): Promise<number> {
    this.sending ??= this.sendDue(now)
      .catch((err: Error) => {
        // The one place the send loop's failures are logged (a notification's own failure is logged where it is known).
        this.logger.warn(`sending notifications failed: ${err.message}`);
        throw err;
      })
      .finally(() => (this.sending = null));
    return this.sending;
  }

  private async sendDue(now: Date): Promise<number> {
    const due = await this.queue.find({
      where: { sentAt: IsNull(), nextAttemptAt: LessThanOrEqual(now) },
      order: { id: 'ASC' },
      take: 50,
    });
    let sent = 0;
    for (const n of due) {
      try {
        await this.channels.send(n.channel, JSON.parse(n.message) as NotificationMessage);
        await this.queue.update({ id: n.id }, { sentAt: new Date(), attempts: n.attempts + 1, lastError: null });
        sent++;
      } catch (err) {
        const attempts = n.attempts + 1;
        const backoff = retryDelayMs(attempts);
        this.logger.warn(
          `${n.channel} notification ${n.id} failed (attempt ${attempts}), retrying in ${backoff / 1000} s: ${(err as Error).message}`,
        );
        await this.queue.update(
          { id: n.id },
          {
            attempts,
            lastError: (err as Error).message.slice(0, 2000),
            nextAttemptAt: new Date(now.getTime() + backoff),
          },
        );
      }
    }
    return sent;
  }

  /** Pauses the job's schedule, found in the gateway's projection, through the scheduler (which owns schedules). */
  private async pause(key: string, event: RunEventPayload, pauseAfter: number): Promise<void> {
    try {
      const schedule = await this.schedules.forJob(event.companyId, event.domain, event.job);
      if (schedule)
        await this.scheduler.toggle(schedule.scheduleId, {
          enabled: false,
          reason: `paused after ${pauseAfter} consecutive failures (last: ${event.error?.code ?? 'unknown'}, run ${event.runId})`,
        });
      await this.db.transaction(async (m) => {
        const state = await this.lockState(m, key);
        state.paused = true;
        state.updatedAt = new Date();
        await m.getRepository(NotificationState).save(state);
        if (schedule) await this.enqueue(m, 'paused', event, notificationMessage('paused', event, state, pauseAfter));
      });
      this.logger.warn(
        schedule
          ? `paused schedule ${schedule.scheduleId} of ${key} after ${pauseAfter} failures`
          : `${key} failed ${pauseAfter} times but has no schedule to pause`,
      );
    } catch (err) {
      // Not marked paused: the next failure tries again.
      this.logger.error(`could not pause ${key}: ${(err as Error).message}`);
    }
  }

  /** The setting, from the gateway's projection of settings (the scheduler publishes them); its default until then. */
  private autoPauseAfter(): Promise<number> {
    return this.settings.effective(AUTO_PAUSE_SETTING, AUTO_PAUSE_DEFAULT);
  }

  private async enqueue(
    m: EntityManager,
    kind: NotificationKind,
    event: RunEventPayload,
    message: NotificationMessage,
  ): Promise<void> {
    const now = new Date();
    for (const channel of this.channels.enabled()) {
      await m
        .createQueryBuilder()
        .insert()
        .into(Notification)
        .values({
          kind,
          channel,
          jobKey: jobKey(event.companyId, event.domain, event.job),
          runId: event.runId,
          message: JSON.stringify(message),
          attempts: 0,
          nextAttemptAt: now,
          createdAt: now,
        })
        .orIgnore()
        .execute();
    }
    this.logger.log(
      `queued ${kind} notification for ${event.domain}/${event.job} (company ${event.companyId}) on ${this.channels.enabled().join(', ') || 'no channel'}`,
    );
  }

  /** The job's state row, locked for this transaction on MySQL (two gateway replicas may see two runs of one job). */
  private async lockState(m: EntityManager, key: string): Promise<NotificationState> {
    await m
      .createQueryBuilder()
      .insert()
      .into(NotificationState)
      .values({
        jobKey: key,
        consecutiveFailures: 0,
        failureAnnounced: false,
        paused: false,
        lastSuccessAt: null,
        lastRunId: null,
        updatedAt: new Date(),
      })
      .orIgnore()
      .execute();
    const qb = m.getRepository(NotificationState).createQueryBuilder('s').where('s.job_key = :key', { key });
    if (m.connection.options.type === 'mysql') qb.setLock('pessimistic_write');
    return qb.getOneOrFail();
  }

  private serialized(key: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.locks.set(key, next);
    return next.finally(() => {
      if (this.locks.get(key) === next) this.locks.delete(key);
    });
  }
}
