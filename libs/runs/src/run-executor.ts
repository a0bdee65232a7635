import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import {
  findJob,
  JobDeclaration,
  jobKey,
  parseJobParams,
  RunError,
  RunEventFields,
  runEventMessage,
  RunStats,
  SkipReason,
  RunTakeover,
  SyncRequestedPayload,
  TAKEOVER_REASON_TEXT,
  Topic,
} from '@sync-hub/contracts';
import { BusContext, MessageProcessor, ReliablePublisher } from '@sync-hub/messaging';
import { MetricsService, withRunLogContext } from '@sync-hub/observability';
import { JobLeasesService } from '@sync-hub/persistence';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { SyncJob } from './job-handler';
import { RunClaimsService } from './run-claims.service';
import { RunWarnings } from './run-warnings';
import {
  attachStats,
  classifyError,
  InvalidJobParamsError,
  JobNotSupportedError,
  RunInterruptedError,
  RunTimeLimitError,
  statsOf,
} from './run-errors';

export type RunOutcome =
  | { status: 'completed'; stats: RunStats; warnings?: string[] }
  | { status: 'failed'; stats: RunStats; error: RunError }
  | { status: 'skipped'; reason: SkipReason }
  | { status: 'waiting' }
  | { status: 'duplicate' };

/** What a successful try of a job gives: its stats and its warnings. */
interface JobResult {
  stats: RunStats;
  warnings: string[];
}

/** How long a run claim lasts without renewal. */
export const RUN_CLAIM_LEASE_MS = 60000;
/** Claims and job leases of runs in flight are renewed this often (a third of the claim's lease). */
export const LEASE_RENEWAL_MS = RUN_CLAIM_LEASE_MS / 3;
/** How often a process looks for runs to take over: a stopping replica's handed over ones wait at most this long. */
export const SWEEP_INTERVAL_MS = 5000;
/** How long an interrupted job gets to stop at its next signal check before its lease is released anyway. */
const INTERRUPTED_JOB_STOP_MS = 3000;
/** How long interrupted runs get to record their ending (claim, lease, `failed` event) before the process exits. */
const INTERRUPT_RECORDING_MS = 10000;
const MAX_RETRY_DELAY_MS = 60000;

/**
 * The lease that keeps two runs of one job of one company from overlapping: the job's own, or its lease group's (jobs
 * that write the same records, one at a time per company).
 */
export function jobLeaseName(tick: Pick<SyncRequestedPayload, 'companyId' | 'domain' | 'job'>): string {
  const group = findJob(tick.domain, tick.job)?.leaseGroup;
  return `job:${jobKey(tick.companyId, tick.domain, group ?? tick.job)}`;
}

/**
 * The lifecycle of runs in a sync app. A tick is *accepted* while its message is handled: a tick past its deadline is
 * skipped as stale; a run id already taken on is a duplicate; the job's lease decides overlap (`skip` drops the tick
 * with a `skipped` event, `buffer_one` keeps one waiting, `allow` runs alongside). The run itself then proceeds apart
 * from the bus, so the partition keeps flowing and a job's next tick can be seen while it runs. The claim row holds
 * the tick: if this process dies, another replica (or this one restarted) takes the run over once the claim expires.
 * What a job may do (lease, time limit, retries, params) is its entry in the job registry.
 */
@Injectable()
export class RunExecutor implements BeforeApplicationShutdown {
  private readonly logger = new Logger(RunExecutor.name);
  private readonly handlers = new Map<string, { declaration: JobDeclaration; handler: SyncJob }>();
  /** Ticks of the runs this process is executing, by run id: their claims and leases are renewed. */
  private readonly running = new Map<string, SyncRequestedPayload>();
  /** The lease renewal in progress per run, which the run waits for before it releases its job lease. */
  private readonly renewing = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Interrupts a job in flight (by run id) when the process stops. */
  private readonly interrupts = new Map<string, () => void>();
  /** Set at shutdown: no run is started or taken over any more. */
  private stopping = false;
  /** Overridable for tests; the wall clock otherwise. */
  clock: () => Date = () => new Date();
  /** First backoff step between tries of a run after a retriable failure (doubling, jittered, at most a minute). */
  retryBaseDelayMs = 1000;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly processor: MessageProcessor,
    private readonly publisher: ReliablePublisher,
    private readonly claims: RunClaimsService,
    private readonly leases: JobLeasesService,
    private readonly metrics: MetricsService,
  ) {}

  /** Binds a handler to its registry entry (RunsModule.forDomain does it for the handler classes it is given). */
  bind(declaration: JobDeclaration, handler: SyncJob): void {
    if (!findJob(declaration.domain, declaration.job)) {
      throw new Error(`${declaration.domain}/${declaration.job} has a handler but no entry in the job registry`);
    }
    if (declaration.leaseMs < 3 * LEASE_RENEWAL_MS) {
      throw new Error(
        `${declaration.domain}/${declaration.job}: a lease of ${declaration.leaseMs} ms is too short to be renewed every ${LEASE_RENEWAL_MS} ms`,
      );
    }
    this.handlers.set(`${declaration.domain}/${declaration.job}`, { declaration, handler });
  }

  /** The registered jobs this process has a handler for (ping is built in). */
  boundJobs(): JobDeclaration[] {
    return [...this.handlers.values()].map((h) => h.declaration);
  }

  /**
   * At SIGTERM, once the consumer has stopped (startApp) and before any client, the producer or the database closes
   * (onApplicationShutdown): no run starts or is taken over any more; runs in flight get SHUTDOWN_GRACE_MS to finish;
   * those still going then are interrupted, recorded as failed INTERRUPTED and their claims handed over, so another
   * replica takes them over at its next sweep.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.inFlight.size === 0) return;
    const graceMs = this.config.shutdownGraceMs;
    // ScheduleModule stops its intervals now: the claims and leases of the runs finishing are renewed from here.
    const renewal = setInterval(() => void this.renewLeases().catch(() => undefined), LEASE_RENEWAL_MS);
    try {
      this.logger.log(`waiting up to ${graceMs / 1000} s for ${this.inFlight.size} run(s) to finish`);
      if (await this.settledWithin(graceMs)) return;
      this.logger.warn(`interrupting ${this.interrupts.size} run(s) still going after ${graceMs / 1000} s`);
      for (const interrupt of this.interrupts.values()) interrupt();
      if (!(await this.settledWithin(INTERRUPT_RECORDING_MS))) {
        this.logger.error(
          `${this.inFlight.size} run(s) could not record their ending in time: their claims are taken over once they expire`,
        );
      }
    } finally {
      clearInterval(renewal);
    }
  }

  /** Whether every run in flight has ended within `ms`. */
  private async settledWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    try {
      return await Promise.race([Promise.allSettled([...this.inFlight]).then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Entry point for a `sync.<domain>.requested.v1` handler. A stopping process takes no new tick, not even to record
   * it as skipped: it is left for redelivery, and the partition's next owner decides it.
   */
  async handleTick(value: unknown, ctx: BusContext): Promise<void> {
    this.processor.giveUpIfStopping('a tick', ctx.getTopic());
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

  /**
   * Runs whose holder died (or handed them over at shutdown): take over their claims and carry them on. A running run
   * taken over is its next attempt: its events say so (attempt, when, why), so its record shows the takeover.
   */
  @Interval('runs.sweep', SWEEP_INTERVAL_MS)
  async sweep(): Promise<number> {
    if (this.stopping) return 0;
    const now = this.clock();
    let resumed = 0;
    for (const claim of await this.claims.expired(this.config.appName, now)) {
      const outcome = await this.claims.takeOver(claim, this.config.appName, RUN_CLAIM_LEASE_MS, now);
      if (!outcome.won) continue;
      const tick = JSON.parse(claim.tick) as SyncRequestedPayload;
      if (!(await this.acquireJobLease(tick, now))) continue; // still waiting
      const takeover = outcome.takeover;
      this.logger.warn(
        `taking over ${claim.status} run ${tick.runId} (${tick.domain}/${tick.job})` +
          (takeover
            ? ` as attempt ${takeover.attempt}: ${TAKEOVER_REASON_TEXT[takeover.reason]}, last renewed until ${claim.claimedUntil.toISOString()}`
            : ' whose worker stopped renewing it'),
      );
      if (claim.status === 'waiting') await this.claims.setStatus(tick.runId, 'running', now);
      this.launch(() => this.run(tick, takeover));
      resumed++;
    }
    return resumed;
  }

  /** Keeps the claims and job leases of the runs in flight alive (and the claims of runs waiting behind them). */
  @Interval('runs.lease-renewal', LEASE_RENEWAL_MS)
  async renewLeases(): Promise<void> {
    const now = this.clock();
    for (const tick of this.running.values()) {
      // A run that ends meanwhile waits for this renewal before it releases its lease: a renewal landing after the
      // release would take the lease again for a run that is over, and hold its job for a whole lease.
      const renewal = (async () => {
        await this.claims.renew(tick.runId, jobLeaseName(tick), RUN_CLAIM_LEASE_MS, now);
        if (tick.job !== 'ping') await this.acquireJobLease(tick, now);
      })();
      this.renewing.set(tick.runId, renewal);
      try {
        await renewal;
      } finally {
        this.renewing.delete(tick.runId);
      }
    }
  }

  private leaseMs(tick: SyncRequestedPayload): number {
    return this.handlers.get(`${tick.domain}/${tick.job}`)?.declaration.leaseMs ?? RUN_CLAIM_LEASE_MS;
  }

  private acquireJobLease(tick: SyncRequestedPayload, now: Date): Promise<boolean> {
    return this.leases.acquire(jobLeaseName(tick), tick.runId, this.leaseMs(tick), now, tick.runId);
  }

  private async accept(
    tick: SyncRequestedPayload,
  ): Promise<RunOutcome | { status: 'started'; run: () => Promise<RunOutcome> }> {
    const now = this.clock();
    const claim = { runId: tick.runId, app: this.config.appName, jobKey: jobLeaseName(tick), tick };
    return withRunLogContext({ runId: tick.runId, domain: tick.domain, job: tick.job }, async () => {
      if (now > new Date(tick.deadline)) {
        if (await this.claims.recordSkipped(claim, now)) {
          this.logger.warn(
            `tick for ${tick.domain}/${tick.job} reached after its deadline ${tick.deadline}: skipped as stale`,
          );
          await this.emit(Topic.RunSkipped, tick, { startedAt: now, skipReason: 'stale' });
          this.recordSkipped(tick, 'stale');
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
      if (tick.job !== 'ping' && policy !== 'allow' && !(await this.acquireJobLease(tick, now))) {
        if (policy === 'buffer_one' && !(await this.claims.waiting(claim.jobKey))) {
          await this.claims.setStatus(tick.runId, 'waiting', now);
          this.logger.log(`${tick.domain}/${tick.job} is still running: this run waits for it (buffer_one)`);
          return { status: 'waiting' };
        }
        await this.claims.finish(tick.runId, 'skipped', now);
        this.logger.warn(`${tick.domain}/${tick.job} is still running: tick skipped (overlap)`);
        await this.emit(Topic.RunSkipped, tick, { startedAt: now, skipReason: 'overlap' });
        this.recordSkipped(tick, 'overlap');
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

  /**
   * started → the job → its lease released → completed or failed; then a buffered run, if any, starts. A job that
   * outlives its time limit is reported failed at the limit, but keeps its lease until it has really stopped.
   */
  private run(tick: SyncRequestedPayload, takeover?: RunTakeover): Promise<RunOutcome> {
    return withRunLogContext({ runId: tick.runId, domain: tick.domain, job: tick.job }, async () => {
      this.running.set(tick.runId, tick);
      const startedAt = this.clock();
      // `started` goes out while the job begins; it is sent before `completed` either way.
      const started = this.emit(Topic.RunStarted, tick, { startedAt, takeover });
      started.catch(() => undefined);
      let outcome: RunOutcome;
      let stopped: Promise<unknown> = Promise.resolve();
      let released: Promise<void> | null = null;
      // Once the job has really stopped: stop renewing this run and release its job lease. Done before its end is
      // published when it can be, so whoever sees `completed` or `failed` finds the job free for its next run.
      const release = (): Promise<void> =>
        (released ??= (async () => {
          await stopped;
          this.running.delete(tick.runId);
          await this.renewing.get(tick.runId)?.catch(() => undefined);
          if (tick.job !== 'ping') {
            await this.leases
              .release(jobLeaseName(tick), tick.runId)
              .catch((err: Error) => this.logger.warn(`releasing the job lease failed (it expires): ${err.message}`));
          }
        })());
      try {
        outcome = await this.finishRun(
          tick,
          takeover,
          startedAt,
          started,
          (job) => {
            stopped = job.settled;
          },
          release,
        );
      } finally {
        // Whatever happened (the database may have failed while the end was recorded): stop renewing this run. An
        // unrecorded end leaves its claim to expire, and the sweeper then runs it again from the stored tick.
        await release();
      }
      if (tick.job !== 'ping') await this.startWaiting(jobLeaseName(tick));
      return outcome;
    });
  }

  /**
   * The job under its registry entry, then its end recorded: its lease released (`release`; at a time limit the job
   * may still run, and its lease waits for it), the claim finished and `completed` (with the successful try's warnings)
   * or `failed` sent.
   */
  private async finishRun(
    tick: SyncRequestedPayload,
    takeover: RunTakeover | undefined,
    startedAt: Date,
    started: Promise<void>,
    onJob: (job: { settled: Promise<unknown> }) => void,
    release: () => Promise<void>,
  ): Promise<RunOutcome> {
    try {
      const job = this.runJob(tick);
      onJob(job);
      const { stats, warnings } = await job.result;
      const finishedAt = this.clock();
      // In this order: a crash before the claim is finished re-runs the tick; after it, the lease expires at worst.
      await this.claims.finish(tick.runId, 'completed', finishedAt);
      await release();
      await started.then(() =>
        this.emit(Topic.RunCompleted, tick, { startedAt, finishedAt, stats, warnings, takeover }),
      );
      this.record(tick, 'completed', stats, startedAt, finishedAt);
      this.logger.log(
        `run completed: ${JSON.stringify(stats)}${warnings.length ? `, with ${warnings.length} warning(s)` : ''}`,
      );
      return { status: 'completed', stats, ...(warnings.length ? { warnings } : {}) };
    } catch (err) {
      const error = classifyError(err);
      const finishedAt = this.clock();
      const stats = statsOf(err);
      this.logger.error(
        `run failed [${error.origin}/${error.code}${error.retriable ? ', retriable' : ''}]: ${error.message}`,
      );
      if (err instanceof RunInterruptedError) {
        // The claim stays open for another replica: lease released (the job stopped, or dies with this process), the
        // end published, then the claim handed over, so the takeover finds the job free and follows the `failed` event.
        await release();
        await started.then(() => this.emit(Topic.RunFailed, tick, { startedAt, finishedAt, stats, error, takeover }));
        await this.claims.handOver(tick.runId, this.clock());
        this.record(tick, 'failed', stats, startedAt, finishedAt, error);
        return { status: 'failed', stats, error };
      }
      await this.claims.finish(tick.runId, 'failed', finishedAt);
      // A job stopped at its time limit may still be running: it keeps its lease until it stops (released after).
      if (!(err instanceof RunTimeLimitError)) await release();
      await started.then(() => this.emit(Topic.RunFailed, tick, { startedAt, finishedAt, stats, error, takeover }));
      this.record(tick, 'failed', stats, startedAt, finishedAt, error);
      return { status: 'failed', stats, error };
    }
  }

  private async startWaiting(leaseName: string): Promise<void> {
    const next = await this.claims.waiting(leaseName);
    if (!next) return;
    const tick = JSON.parse(next.tick) as SyncRequestedPayload;
    const now = this.clock();
    if (this.stopping) {
      // Not started here: another replica takes it over at its next sweep.
      await this.claims.handOver(tick.runId, now);
      return;
    }
    if (!(await this.acquireJobLease(tick, now))) return;
    if (now > new Date(tick.deadline)) {
      await this.claims.finish(tick.runId, 'skipped', now);
      await this.leases.release(leaseName, tick.runId);
      await this.emit(Topic.RunSkipped, tick, { startedAt: now, skipReason: 'stale' });
      this.recordSkipped(tick, 'stale');
      return;
    }
    await this.claims.setStatus(tick.runId, 'running', now);
    this.launch(() => this.run(tick));
  }

  /**
   * The job under its registry entry: params validated, retried with backoff after a retriable failure, stopped at its
   * time limit. `result` settles at the limit at the latest; `settled` when the job has really stopped. Each try
   * collects its own warnings, so those of a try that failed are dropped with it.
   */
  private runJob(tick: SyncRequestedPayload): { result: Promise<JobResult>; settled: Promise<unknown> } {
    const bound = this.handlers.get(`${tick.domain}/${tick.job}`);
    if (!bound) {
      const result =
        tick.job === 'ping'
          ? Promise.resolve({ stats: new RunStats(), warnings: [] })
          : Promise.reject(new JobNotSupportedError(tick.domain, tick.job));
      return { result, settled: Promise.resolve() };
    }
    const { declaration, handler } = bound;
    const parsed = parseJobParams(declaration, tick.params);
    if (parsed.problems) {
      return {
        result: Promise.reject(new InvalidJobParamsError(tick.domain, tick.job, parsed.problems)),
        settled: Promise.resolve(),
      };
    }
    // Aborted at the time limit, or at shutdown when the grace period is over.
    const limit = new AbortController();
    const timer = setTimeout(
      () => limit.abort(new RunTimeLimitError(tick.domain, tick.job, declaration.timeLimitMs)),
      declaration.timeLimitMs,
    );
    let interrupted: () => void = () => undefined;
    const interruptedJobStopped = new Promise<void>((resolve) => (interrupted = resolve));
    this.interrupts.set(tick.runId, () => {
      limit.abort(new RunInterruptedError(tick.domain, tick.job, this.config.shutdownGraceMs));
      // Its lease is released once the job stops at its next signal check, or after a few seconds anyway: the
      // process exits next, which stops the job for good.
      setTimeout(interrupted, INTERRUPTED_JOB_STOP_MS).unref();
    });
    const policy = retry(
      handleWhen((err) => !limit.signal.aborted && classifyError(err).retriable),
      {
        maxAttempts: declaration.retries,
        backoff: new ExponentialBackoff({ initialDelay: this.retryBaseDelayMs, maxDelay: MAX_RETRY_DELAY_MS }),
      },
    );
    policy.onRetry((reason) => {
      const why = 'error' in reason ? classifyError(reason.error) : null;
      this.logger.warn(
        `try ${reason.attempt} of ${declaration.retries + 1} failed${why ? ` [${why.origin}/${why.code}]: ${why.message}` : ''}; retrying in ${Math.round(reason.delay / 1000)} s`,
      );
    });
    // The furthest a failed try got: a failed run reports it (see furthest()).
    let furthestTry: RunStats | null = null;
    const work = policy.execute(async ({ attempt }): Promise<JobResult> => {
      const warnings = new RunWarnings();
      const warn = (message: string) => this.logWarning(tick, warnings, message);
      try {
        const stats = await handler.run({
          tick,
          params: parsed.params,
          signal: limit.signal,
          attempt: attempt + 1,
          warn,
        });
        return { stats, warnings: warnings.list() };
      } catch (err) {
        furthestTry = furthest(furthestTry, statsOf(err));
        attachStats(err, furthestTry);
        throw err;
      }
    }, limit.signal);
    const settled = Promise.race([
      work.then(
        () => undefined,
        () => undefined,
      ),
      interruptedJobStopped,
    ]);
    const timedOut = new Promise<never>((_, reject) =>
      limit.signal.addEventListener('abort', () => reject(limit.signal.reason as Error), { once: true }),
    );
    timedOut.catch(() => undefined);
    const result = Promise.race([work, timedOut]).finally(() => {
      clearTimeout(timer);
      this.interrupts.delete(tick.runId);
    });
    return { result, settled };
  }

  /** Keeps a job's warning for this try and logs it once, in the run's log context wherever the job called from. */
  private logWarning(tick: SyncRequestedPayload, warnings: RunWarnings, message: string): void {
    if (!warnings.add(message)) return;
    // The body runs synchronously, inside the context.
    void withRunLogContext({ runId: tick.runId, domain: tick.domain, job: tick.job }, async () =>
      this.logger.warn(`run warning: ${message}`),
    );
  }

  /** Publishes a run event through the outbox-backed publisher. */
  async emit(topic: Topic, tick: SyncRequestedPayload, fields: RunEventFields): Promise<void> {
    await this.publisher.publish(topic, runEventMessage(topic, tick, fields));
  }

  private record(
    tick: SyncRequestedPayload,
    status: string,
    stats: RunStats,
    startedAt: Date,
    finishedAt: Date,
    error?: RunError,
  ): void {
    const labels = { domain: tick.domain, job: tick.job };
    this.metrics.runs.inc({ ...labels, status });
    if (error) this.metrics.runFailures.inc({ ...labels, origin: error.origin, code: error.code });
    this.metrics.runDuration.observe(labels, (finishedAt.getTime() - startedAt.getTime()) / 1000);
    for (const outcome of ['created', 'updated', 'unchanged', 'failed', 'deactivated'] as const) {
      const n = stats[outcome] ?? 0;
      if (n > 0) this.metrics.records.inc({ ...labels, outcome }, n);
    }
  }

  /** A skipped tick counts as a run with status `skipped` (no duration: it never started), and by its reason. */
  private recordSkipped(tick: SyncRequestedPayload, reason: SkipReason): void {
    const labels = { domain: tick.domain, job: tick.job };
    this.metrics.runs.inc({ ...labels, status: 'skipped' });
    this.metrics.runsSkipped.inc({ ...labels, reason });
  }
}

/**
 * A failed run's stats are those of its try that got furthest (read the most records, then wrote the most), the last
 * of equals. Without this, a run whose first try wrote pages and whose retries then failed at once would report nothing
 * written, though its rows are in the table. Tries are not added up: a record two tries read is one record.
 */
function furthest(best: RunStats | null, latest: RunStats): RunStats {
  const progress = (s: RunStats) => [s.fetched, s.created + s.updated + s.unchanged + (s.deactivated ?? 0)];
  if (!best) return latest;
  const [bf, bw] = progress(best);
  const [lf, lw] = progress(latest);
  return lf > bf || (lf === bf && lw >= bw) ? latest : best;
}
