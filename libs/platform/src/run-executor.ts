import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import {
  ClassifiedError,
  Domain,
  RunError,
  runEventMessage,
  RunStats,
  SkipReason,
  SyncRequestedPayload,
  Topic,
} from '@sync-hub/contracts';
import { BusContext, MessageProcessor, ReliablePublisher } from '@sync-hub/messaging';
import { MetricsService, withRunLogContext } from '@sync-hub/observability';
import { JobLeasesService, jobLeaseName, RunClaimsService } from '@sync-hub/persistence';
import { QueryFailedError } from 'typeorm';

/** What a job gets while it runs (its claim and lease are renewed by the executor meanwhile). */
export interface JobContext {
  tick: SyncRequestedPayload;
}

export type JobHandler = (ctx: JobContext) => Promise<RunStats>;

export type RunOutcome =
  | { status: 'completed'; stats: RunStats }
  | { status: 'failed'; stats: RunStats; error: RunError }
  | { status: 'skipped'; reason: SkipReason }
  | { status: 'waiting' }
  | { status: 'duplicate' };

/** How long a run claim and a job lease last without renewal; renewed every third of that while the job runs. */
export const RUN_CLAIM_LEASE_MS = 60000;
/** Seed 004: the usage sync is unique for 5 minutes (Laravel ShouldBeUnique). */
const JOB_LEASE_MS: Record<string, number> = { 'usage:reseller.usage': 300000 };
const SWEEP_INTERVAL_MS = 20000;
const SHUTDOWN_GRACE_MS = 25000;

/** Maps any error to the classification carried by a `failed` event (DESIGN.md section 7). */
export function classifyError(err: unknown): RunError {
  if (err instanceof ClassifiedError) return err.toRunError();
  if (err instanceof QueryFailedError)
    return { code: 'DATABASE_QUERY_FAILED', message: err.message, retriable: false, origin: 'destination' };
  const e = err as { code?: string; message?: string };
  if (
    typeof e?.code === 'string' &&
    /^(ECONNREFUSED|ETIMEDOUT|ECONNRESET|PROTOCOL_CONNECTION_LOST|ER_CON_COUNT_ERROR|ER_LOCK_DEADLOCK|ER_LOCK_WAIT_TIMEOUT)$/.test(
      e.code,
    )
  ) {
    return { code: 'DATABASE_UNAVAILABLE', message: e.message ?? e.code, retriable: true, origin: 'destination' };
  }
  return { code: 'INTERNAL_ERROR', message: e?.message ?? String(err), retriable: false, origin: 'internal' };
}

/**
 * The lifecycle of runs in a sync app. A tick is *accepted* while its message is handled: a tick past its deadline is
 * skipped as stale; a run id already taken on is a duplicate; the job's lease decides overlap (`skip` drops the tick
 * with a `skipped` event, `buffer_one` keeps one waiting, `allow` runs alongside). The run itself then proceeds apart
 * from the bus, so the partition keeps flowing and a job's next tick can be seen while it runs. The claim row holds
 * the tick: if this process dies, another replica (or this one restarted) takes the run over once the claim expires.
 */
@Injectable()
export class RunExecutor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RunExecutor.name);
  private readonly jobs = new Map<string, Record<string, JobHandler>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private sweeper: NodeJS.Timeout | null = null;
  /** Overridable for tests; the wall clock otherwise. */
  clock: () => Date = () => new Date();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly processor: MessageProcessor,
    private readonly publisher: ReliablePublisher,
    private readonly claims: RunClaimsService,
    private readonly leases: JobLeasesService,
    private readonly metrics: MetricsService,
  ) {}

  /** A sync app declares the jobs it implements for its domain; `ping` is built in. */
  registerJobs(domain: Domain, handlers: Record<string, JobHandler>): void {
    this.jobs.set(domain, { ...this.jobs.get(domain), ...handlers });
  }

  onApplicationBootstrap(): void {
    this.sweeper = setInterval(
      () => void this.sweep().catch((err) => this.logger.warn(`sweep failed: ${err.message}`)),
      SWEEP_INTERVAL_MS,
    );
    this.sweeper.unref();
  }

  /** Stops taking over runs and gives runs in flight a moment to finish; the rest are taken over after restart. */
  async onApplicationShutdown(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.inFlight.size === 0) return;
    this.logger.log(`waiting up to ${SHUTDOWN_GRACE_MS / 1000} s for ${this.inFlight.size} run(s) to finish`);
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref()),
    ]);
  }

  /** Entry point for a `sync.<domain>.requested.v1` handler. */
  handleTick(value: unknown, ctx: BusContext): Promise<void> {
    return this.processor.process(value, ctx, SyncRequestedPayload, async (message) => {
      const outcome = await this.accept(message.payload);
      if (outcome.status === 'started') this.launch(outcome.run);
    });
  }

  /** Runs a tick to its end in this call (the CLI, tests): accepted as from the bus, then run inline. */
  async execute(tick: SyncRequestedPayload): Promise<RunOutcome> {
    const outcome = await this.accept(tick);
    return outcome.status === 'started' ? outcome.run() : outcome;
  }

  /** Runs whose holder died: take over their claims and carry them on. */
  async sweep(): Promise<number> {
    const now = this.clock();
    let resumed = 0;
    for (const claim of await this.claims.expired(this.config.appName, now)) {
      if (!(await this.claims.takeOver(claim.runId, this.config.appName, RUN_CLAIM_LEASE_MS, now))) continue;
      const tick = JSON.parse(claim.tick) as SyncRequestedPayload;
      if (!(await this.leases.acquire(claim.jobKey, tick.runId, this.jobLeaseMs(tick), now, tick.runId))) continue; // still waiting
      this.logger.warn(
        `taking over ${claim.status} run ${tick.runId} (${tick.domain}/${tick.job}) whose worker stopped renewing it`,
      );
      if (claim.status === 'waiting') await this.claims.setStatus(tick.runId, 'running', now);
      this.launch(() => this.run(tick));
      resumed++;
    }
    return resumed;
  }

  private async accept(
    tick: SyncRequestedPayload,
  ): Promise<RunOutcome | { status: 'started'; run: () => Promise<RunOutcome> }> {
    const now = this.clock();
    const jobKey = jobLeaseName(tick.companyId, tick.domain, tick.job);
    const claim = { runId: tick.runId, app: this.config.appName, jobKey, tick };
    return withRunLogContext({ runId: tick.runId, domain: tick.domain, job: tick.job }, async () => {
      if (now > new Date(tick.deadline)) {
        if (await this.claims.recordSkipped(claim, now)) {
          this.logger.warn(
            `tick for ${tick.domain}/${tick.job} reached after its deadline ${tick.deadline}: skipped as stale`,
          );
          await this.emit(Topic.RunSkipped, tick, { startedAt: now, skipReason: 'stale' });
        }
        return { status: 'skipped', reason: 'stale' };
      }
      const claimed = await this.claims.claim(claim, RUN_CLAIM_LEASE_MS, now);
      if (claimed.kind !== 'claimed') {
        this.logger.log(
          `run ${tick.runId} was already taken on (${claimed.kind === 'finished' ? claimed.status : 'in progress'}); duplicate tick ignored`,
        );
        return { status: 'duplicate' };
      }
      const policy = tick.overlapPolicy ?? 'skip';
      if (
        tick.job !== 'ping' &&
        policy !== 'allow' &&
        !(await this.leases.acquire(jobKey, tick.runId, this.jobLeaseMs(tick), now, tick.runId))
      ) {
        if (policy === 'buffer_one' && !(await this.claims.waiting(jobKey))) {
          await this.claims.setStatus(tick.runId, 'waiting', now);
          this.logger.log(`${tick.domain}/${tick.job} is still running: this run waits for it (buffer_one)`);
          return { status: 'waiting' };
        }
        await this.claims.finish(tick.runId, 'skipped', now);
        this.logger.warn(`${tick.domain}/${tick.job} is still running: tick skipped (overlap)`);
        await this.emit(Topic.RunSkipped, tick, { startedAt: now, skipReason: 'overlap' });
        return { status: 'skipped', reason: 'overlap' };
      }
      return { status: 'started', run: () => this.run(tick) };
    });
  }

  private launch(run: () => Promise<unknown>): void {
    const running: Promise<unknown> = run()
      .catch((err) => this.logger.error(`run could not be finished: ${(err as Error).message}`))
      .finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }

  private jobLeaseMs(tick: SyncRequestedPayload): number {
    return JOB_LEASE_MS[`${tick.domain}:${tick.job}`] ?? RUN_CLAIM_LEASE_MS;
  }

  /** started → the job → completed or failed; then the job lease is released and a buffered run, if any, starts. */
  private run(tick: SyncRequestedPayload): Promise<RunOutcome> {
    const jobKey = jobLeaseName(tick.companyId, tick.domain, tick.job);
    return withRunLogContext({ runId: tick.runId, domain: tick.domain, job: tick.job }, async () => {
      const startedAt = this.clock();
      // `started` goes out while the job begins; it is sent before `completed` either way.
      const started = this.emit(Topic.RunStarted, tick, { startedAt });
      started.catch(() => undefined);
      const renewal = setInterval(() => {
        const now = this.clock();
        void Promise.all([
          this.claims.renew(tick.runId, jobKey, RUN_CLAIM_LEASE_MS, now),
          tick.job === 'ping'
            ? undefined
            : this.leases.acquire(jobKey, tick.runId, this.jobLeaseMs(tick), now, tick.runId),
        ]).catch((err) => this.logger.warn(`renewing the run's claim failed: ${err.message}`));
      }, RUN_CLAIM_LEASE_MS / 3);
      let outcome: RunOutcome;
      try {
        const stats = await this.runJob(tick);
        const finishedAt = this.clock();
        await Promise.all([
          this.claims.finish(tick.runId, 'completed', finishedAt),
          started.then(() => this.emit(Topic.RunCompleted, tick, { startedAt, finishedAt, stats })),
        ]);
        this.record(tick, 'completed', stats, startedAt, finishedAt);
        this.logger.log(`run completed: ${JSON.stringify(stats)}`);
        outcome = { status: 'completed', stats };
      } catch (err) {
        const error = classifyError(err);
        const finishedAt = this.clock();
        const stats = statsOf(err);
        this.logger.error(
          `run failed [${error.origin}/${error.code}${error.retriable ? ', retriable' : ''}]: ${error.message}`,
        );
        await Promise.all([
          this.claims.finish(tick.runId, 'failed', finishedAt),
          started.then(() => this.emit(Topic.RunFailed, tick, { startedAt, finishedAt, stats, error })),
        ]);
        this.record(tick, 'failed', stats, startedAt, finishedAt);
        outcome = { status: 'failed', stats, error };
      } finally {
        clearInterval(renewal);
      }
      if (tick.job !== 'ping') {
        await this.leases.release(jobKey, tick.runId);
        await this.startWaiting(jobKey);
      }
      return outcome;
    });
  }

  private async startWaiting(jobKey: string): Promise<void> {
    const next = await this.claims.waiting(jobKey);
    if (!next) return;
    const tick = JSON.parse(next.tick) as SyncRequestedPayload;
    const now = this.clock();
    if (!(await this.leases.acquire(jobKey, tick.runId, this.jobLeaseMs(tick), now, tick.runId))) return;
    if (now > new Date(tick.deadline)) {
      await this.claims.finish(tick.runId, 'skipped', now);
      await this.leases.release(jobKey, tick.runId);
      await this.emit(Topic.RunSkipped, tick, { startedAt: now, skipReason: 'stale' });
      return;
    }
    await this.claims.setStatus(tick.runId, 'running', now);
    this.launch(() => this.run(tick));
  }

  private async runJob(tick: SyncRequestedPayload): Promise<RunStats> {
    if (tick.job === 'ping') return new RunStats();
    const job = this.jobs.get(tick.domain)?.[tick.job];
    if (!job) throw new JobNotSupportedError(tick.domain, tick.job);
    return job({ tick });
  }

  /** Publishes a run event through the outbox-backed publisher. */
  async emit(
    topic: Topic,
    tick: SyncRequestedPayload,
    fields: { startedAt: Date; finishedAt?: Date; stats?: RunStats; error?: RunError; skipReason?: SkipReason },
  ): Promise<void> {
    await this.publisher.publish(topic, runEventMessage(topic, tick, fields));
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
  return (
    ((err && typeof err === 'object' && (err as Record<symbol, unknown>)[PARTIAL_STATS]) as RunStats) ?? new RunStats()
  );
}
