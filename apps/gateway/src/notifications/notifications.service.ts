import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { RunEventPayload } from '@sync-hub/contracts';
import { DataSource, EntityManager, IsNull, LessThanOrEqual, Repository } from 'typeorm';
import { SchedulerClient } from '../scheduler/scheduler.client';
import { NotificationChannels } from './channels';
import { Notification, NotificationKind, NotificationState } from './notification.entities';
import { NotificationMessage, notificationMessage } from './notification-message';

const SEND_INTERVAL_MS = 2000;
const AUTO_PAUSE_SETTING = 'notifications.auto_pause_after';
const AUTO_PAUSE_DEFAULT = 10;

/**
 * Notifications on changes, not on every tick (seed 000: "notify admins if sync fails"): the first failure of a job
 * after a success, its recovery, and the pause after N consecutive failures (setting notifications.auto_pause_after,
 * default 10), which pauses the schedule through the scheduler. Notifications are queued per channel in the database
 * and sent by a loop that retries with backoff, so a channel that is down loses nothing.
 */
@Injectable()
export class NotificationsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NotificationsService.name);
  private readonly locks = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<number> | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(Notification) private readonly queue: Repository<Notification>,
    private readonly channels: NotificationChannels,
    private readonly scheduler: SchedulerClient,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.sendPending().catch((err) => this.logger.warn(`sending notifications failed: ${err.message}`)),
      SEND_INTERVAL_MS,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Folds a finished run into its job's state; queues what changed. One run is counted once, however often it comes. */
  async onRunFinished(status: 'completed' | 'failed', event: RunEventPayload): Promise<void> {
    if (event.job === 'ping') return;
    const jobKey = `${event.companyId}:${event.domain}:${event.job}`;
    await this.serialized(jobKey, async () => {
      const pauseAfter = status === 'failed' ? await this.autoPauseAfter() : AUTO_PAUSE_DEFAULT;
      let pauseNeeded = false;
      await this.db.transaction(async (m) => {
        const state = await this.lockState(m, jobKey);
        if (state.lastRunId === event.runId) return;
        state.lastRunId = event.runId;
        state.updatedAt = new Date();
        const queued: NotificationKind[] = [];
        if (status === 'completed') {
          if (state.failureAnnounced) queued.push('recovery');
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
      if (pauseNeeded) await this.pause(jobKey, event, pauseAfter);
    });
    void this.sendPending().catch(() => undefined);
  }

  /** Sends due notifications; a failed send is retried with backoff (10 s doubling, at most 10 minutes). */
  sendPending(now = new Date()): Promise<number> {
    this.sending ??= this.sendDue(now).finally(() => (this.sending = null));
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
        const backoff = Math.min(10000 * 2 ** (attempts - 1), 600000);
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

  private async pause(jobKey: string, event: RunEventPayload, pauseAfter: number): Promise<void> {
    try {
      const paused = await this.scheduler.pause(
        event.companyId,
        event.domain,
        event.job,
        `paused after ${pauseAfter} consecutive failures (last: ${event.error?.code ?? 'unknown'}, run ${event.runId})`,
      );
      await this.db.transaction(async (m) => {
        const state = await this.lockState(m, jobKey);
        state.paused = true;
        state.updatedAt = new Date();
        await m.getRepository(NotificationState).save(state);
        if (paused) await this.enqueue(m, 'paused', event, notificationMessage('paused', event, state, pauseAfter));
      });
      this.logger.warn(
        paused
          ? `paused schedule ${paused.scheduleId} of ${jobKey} after ${pauseAfter} failures`
          : `${jobKey} failed ${pauseAfter} times but has no schedule to pause`,
      );
    } catch (err) {
      // Not marked paused: the next failure tries again.
      this.logger.error(`could not pause ${jobKey}: ${(err as Error).message}`);
    }
  }

  private async autoPauseAfter(): Promise<number> {
    const res = await this.scheduler.forward('GET', `/api/settings/${AUTO_PAUSE_SETTING}`, undefined);
    const value = (res.body as { effective_value?: number } | undefined)?.effective_value;
    return res.status === 200 && typeof value === 'number' ? value : AUTO_PAUSE_DEFAULT;
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
          jobKey: `${event.companyId}:${event.domain}:${event.job}`,
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
  private async lockState(m: EntityManager, jobKey: string): Promise<NotificationState> {
    await m
      .createQueryBuilder()
      .insert()
      .into(NotificationState)
      .values({
        jobKey,
        consecutiveFailures: 0,
        failureAnnounced: false,
        paused: false,
        lastSuccessAt: null,
        lastRunId: null,
        updatedAt: new Date(),
      })
      .orIgnore()
      .execute();
    const qb = m.getRepository(NotificationState).createQueryBuilder('s').where('s.job_key = :jobKey', { jobKey });
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
