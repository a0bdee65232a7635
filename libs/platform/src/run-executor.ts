import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import {
  ClassifiedError,
  envelope,
  EventEnvelope,
  RunError,
  RunEventPayload,
  RunStats,
  SkipReason,
  SyncRequestedPayload,
  Topic,
} from '@sync-hub/contracts';
import { BusContext, Heartbeat, MessageProcessor, ReliablePublisher } from '@sync-hub/messaging';
import { MetricsService, withRunLogContext } from '@sync-hub/observability';
import { RunClaimsService } from '@sync-hub/persistence';
import { QueryFailedError } from 'typeorm';

/** What a job gets while it runs. */
export interface JobContext {
  tick: SyncRequestedPayload;
  /** Call between pages: keeps the bus membership and the run's claim alive. */
  heartbeat: Heartbeat;
}

export type JobHandler = (ctx: JobContext) => Promise<RunStats>;

export type RunOutcome =
  | { status: 'completed'; stats: RunStats }
  | { status: 'failed'; stats: RunStats; error: RunError }
  | { status: 'skipped'; reason: SkipReason }
  | { status: 'duplicate' };

/** How long a claim lasts without renewal; the executor renews it every third of that while the job runs. */
export const RUN_CLAIM_LEASE_MS = 60000;
const HELD_POLL_MS = 2000;

/** Maps any error to the classification carried by a `failed` event (DESIGN.md section 7). */
export function classifyError(err: unknown): RunError {
  if (err instanceof ClassifiedError) return err.toRunError();
  if (err instanceof QueryFailedError) return { code: 'DATABASE_QUERY_FAILED', message: err.message, retriable: false, origin: 'destination' };
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && /^(ECONNREFUSED|ETIMEDOUT|ECONNRESET|PROTOCOL_CONNECTION_LOST|ER_CON_COUNT_ERROR|ER_LOCK_DEADLOCK|ER_LOCK_WAIT_TIMEOUT)$/.test(e.code)) {
    return { code: 'DATABASE_UNAVAILABLE', message: e.message ?? e.code, retriable: true, origin: 'destination' };
  }
  return { code: 'INTERNAL_ERROR', message: e?.message ?? String(err), retriable: false, origin: 'internal' };
}

/**
 * The lifecycle of one run in a sync app: a tick past its deadline is skipped as stale; a run id already executed
 * is not executed again; otherwise `started`, the job, then `completed` with stats or `failed` with a classified
 * error. Every app handles `ping` here, with no upstream work.
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger(RunExecutor.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly processor: MessageProcessor,
    private readonly publisher: ReliablePublisher,
    private readonly claims: RunClaimsService,
    private readonly metrics: MetricsService,
  ) {}

  /** Entry point for a `sync.<domain>.requested.v1` handler. */
  handleTick(value: unknown, ctx: BusContext, jobs: Record<string, JobHandler>): Promise<void> {
    return this.processor.process(value, ctx, SyncRequestedPayload, async (message, heartbeat) => {
      await this.execute(message, jobs, heartbeat);
    });
  }

  async execute(message: EventEnvelope<SyncRequestedPayload>, jobs: Record<string, JobHandler>, heartbeat: Heartbeat, now = () => new Date()): Promise<RunOutcome> {
    const tick = message.payload;
    return withRunLogContext({ runId: tick.runId, domain: tick.domain, job: tick.job }, async () => {
      if (now() > new Date(tick.deadline)) {
        if (await this.claims.recordSkipped(tick.runId, this.config.appName, now())) {
          this.logger.warn(`tick for ${tick.domain}/${tick.job} reached after its deadline ${tick.deadline}: skipped as stale`);
          await this.emit(Topic.RunSkipped, tick, { startedAt: now(), skipReason: 'stale' });
        }
        return { status: 'skipped', reason: 'stale' };
      }
      if (!(await this.claimOrWait(tick, heartbeat, now))) return { status: 'duplicate' };

      const startedAt = now();
      await this.emit(Topic.RunStarted, tick, { startedAt });
      const renewal = setInterval(() => void this.claims.renew(tick.runId, RUN_CLAIM_LEASE_MS).catch(() => undefined), RUN_CLAIM_LEASE_MS / 3);
      try {
        const stats = await this.runJob(tick, jobs, heartbeat);
        const finishedAt = now();
        await this.claims.finish(tick.runId, 'completed', finishedAt);
        await this.emit(Topic.RunCompleted, tick, { startedAt, finishedAt, stats });
        this.record(tick, 'completed', stats, startedAt, finishedAt);
        this.logger.log(`run completed: ${JSON.stringify(stats)}`);
        return { status: 'completed', stats };
      } catch (err) {
        const error = classifyError(err);
        const finishedAt = now();
        const stats = statsOf(err);
        this.logger.error(`run failed [${error.origin}/${error.code}${error.retriable ? ', retriable' : ''}]: ${error.message}`);
        await this.claims.finish(tick.runId, 'failed', finishedAt);
        await this.emit(Topic.RunFailed, tick, { startedAt, finishedAt, stats, error });
        this.record(tick, 'failed', stats, startedAt, finishedAt);
        return { status: 'failed', stats, error };
      } finally {
        clearInterval(renewal);
      }
    });
  }

  /** Publishes a `skipped` event for a tick that will not run (overlap, pause, a missed slot). */
  async skip(tick: SyncRequestedPayload, reason: SkipReason): Promise<void> {
    await this.emit(Topic.RunSkipped, tick, { startedAt: new Date(), skipReason: reason });
  }

  private async runJob(tick: SyncRequestedPayload, jobs: Record<string, JobHandler>, heartbeat: Heartbeat): Promise<RunStats> {
    if (tick.job === 'ping') return new RunStats();
    const job = jobs[tick.job];
    if (!job) {
      throw new JobNotSupportedError(tick.domain, tick.job);
    }
    return job({ tick, heartbeat });
  }

  /** True when this process now owns the run. A duplicate of a finished run is dropped; one still held by a live
   *  worker waits until that worker finishes or stops renewing, so a crashed worker's run is taken over. */
  private async claimOrWait(tick: SyncRequestedPayload, heartbeat: Heartbeat, now: () => Date): Promise<boolean> {
    for (;;) {
      const outcome = await this.claims.claim(tick.runId, this.config.appName, RUN_CLAIM_LEASE_MS, now());
      if (outcome.kind === 'claimed') return true;
      if (outcome.kind === 'finished') {
        this.logger.log(`run ${tick.runId} was already executed (${outcome.status}); duplicate tick ignored`);
        return false;
      }
      await heartbeat();
      await new Promise((r) => setTimeout(r, HELD_POLL_MS));
    }
  }

  private async emit(
    topic: Topic,
    tick: SyncRequestedPayload,
    fields: { startedAt: Date; finishedAt?: Date; stats?: RunStats; error?: RunError; skipReason?: SkipReason },
  ): Promise<void> {
    const payload: RunEventPayload = {
      runId: tick.runId,
      domain: tick.domain,
      job: tick.job,
      companyId: tick.companyId,
      ...(tick.scheduleId ? { scheduleId: tick.scheduleId } : {}),
      trigger: tick.trigger,
      scheduledFor: tick.scheduledFor,
      startedAt: fields.startedAt.toISOString(),
      ...(fields.finishedAt
        ? { finishedAt: fields.finishedAt.toISOString(), durationMs: fields.finishedAt.getTime() - fields.startedAt.getTime() }
        : {}),
      stats: { ...new RunStats(), ...fields.stats },
      ...(fields.error ? { error: fields.error } : {}),
      ...(fields.skipReason ? { skipReason: fields.skipReason } : {}),
    };
    const type = topic.replace(/\.v1$/, '');
    await this.publisher.publish(topic, { key: tick.runId, value: envelope(type, payload, tick.runId) });
  }

  private record(tick: SyncRequestedPayload, status: string, stats: RunStats, startedAt: Date, finishedAt: Date): void {
    const labels = { domain: tick.domain, job: tick.job };
    this.metrics.runs.inc({ ...labels, status });
    this.metrics.runDuration.observe(labels, (finishedAt.getTime() - startedAt.getTime()) / 1000);
    for (const outcome of ['created', 'updated', 'unchanged', 'failed', 'deactivated'] as const) {
      const n = stats[outcome] ?? 0;
      if (n > 0) this.metrics.records.inc({ ...labels, outcome }, n);
    }
  }
}

export class JobNotSupportedError extends ClassifiedError {
  readonly code = 'JOB_NOT_SUPPORTED';
  readonly origin = 'config' as const;
  readonly retriable = false;
  constructor(domain: string, job: string) {
    super(`${domain}/${job} is not implemented by this version of the ${domain} sync service`);
    this.name = 'JobNotSupportedError';
  }
}

const PARTIAL_STATS = Symbol('partialStats');

/** Lets a job that fails half-way report what it had done; the `failed` event carries these stats. */
export function attachStats<E>(err: E, stats: RunStats): E {
  if (err && typeof err === 'object') (err as Record<symbol, unknown>)[PARTIAL_STATS] = { ...stats };
  return err;
}

export function statsOf(err: unknown): RunStats {
  return ((err && typeof err === 'object' && (err as Record<symbol, unknown>)[PARTIAL_STATS]) as RunStats) ?? new RunStats();
}
