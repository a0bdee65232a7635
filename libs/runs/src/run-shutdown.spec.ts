import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { envelope, RunError, RunStats, SPLYNX_CUSTOMERS, SyncRequestedPayload, Topic } from '@sync-hub/contracts';
import {
  BusContext,
  InProcessBus,
  InProcessEventPublisher,
  MessageProcessor,
  ReliablePublisher,
} from '@sync-hub/messaging';
import { MetricsService } from '@sync-hub/observability';
import { JobLease, JobLeasesService, OutboxMessage } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../test/support/sqlite';
import { JobContext } from './job-handler';
import { RunClaim } from './run-claim.entity';
import { RunClaimsService } from './run-claims.service';
import { RUN_CLAIM_LEASE_MS, RunExecutor } from './run-executor';

const GRACE_MS = 300;
const JOB_KEY = 'job:1:splynx:customers';

function tickOf(over: Partial<SyncRequestedPayload> = {}) {
  const now = Date.now();
  const payload: SyncRequestedPayload = {
    runId: crypto.randomUUID(),
    domain: 'splynx',
    job: 'customers',
    companyId: 1,
    trigger: 'manual',
    scheduledFor: new Date(now).toISOString(),
    deadline: new Date(now + 60000).toISOString(),
    ...over,
  };
  return envelope('sync.splynx.requested', payload, payload.runId);
}

/** A tick as the consumer hands it over: the run then proceeds apart from the bus, as in a deployed app. */
const fromBus = (value: unknown): BusContext => ({
  getMessage: () => ({ value }),
  getTopic: () => 'sync.splynx.requested.v1',
  getHeartbeat: () => async () => undefined,
});

describe('RunExecutor at shutdown (SIGTERM)', () => {
  let db: DataSource;
  let bus: InProcessBus;
  let claims: RunClaimsService;
  let leases: JobLeasesService;
  const events = (topic: Topic, runId: string) =>
    bus.unconsumed(topic).filter((m) => (m.value as { runId: string }).runId === runId);
  const claimOf = (runId: string) => db.getRepository(RunClaim).findOneByOrFail({ runId });

  /** One replica of splynx-sync, with its customers job bound to `run`. */
  function replica(run: (ctx: JobContext) => Promise<RunStats>): RunExecutor {
    const config = loadConfig('splynx-sync', { SHUTDOWN_GRACE_MS: String(GRACE_MS) });
    const publisher = new InProcessEventPublisher(bus);
    const metrics = new MetricsService();
    const executor = new RunExecutor(
      config,
      new MessageProcessor(publisher, config, metrics),
      new ReliablePublisher(publisher, db.getRepository(OutboxMessage)),
      claims,
      leases,
      metrics,
    );
    executor.bind(SPLYNX_CUSTOMERS, { run });
    return executor;
  }

  /** A job that runs until `finish()`, or until its signal is aborted if it heeds it. */
  function controllableJob(heedsSignal = true) {
    const job = {
      started: false,
      finish: () => undefined as void,
      run: ({ signal }: JobContext): Promise<RunStats> =>
        new Promise<RunStats>((resolve, reject) => {
          job.started = true;
          job.finish = () => resolve({ ...new RunStats(), fetched: 7, created: 7 });
          if (heedsSignal) signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        }),
    };
    return job;
  }

  async function startRun(executor: RunExecutor, job: { started: boolean }) {
    const tick = tickOf();
    await executor.handleTick(tick, fromBus(tick));
    await until(async () => job.started);
    return tick;
  }

  beforeEach(async () => {
    db = await inMemoryDatabase([RunClaim]);
    bus = new InProcessBus();
    claims = new RunClaimsService(db.getRepository(RunClaim));
    leases = new JobLeasesService(db.getRepository(JobLease));
  });

  it('an idle process stops at once', async () => {
    const executor = replica(async () => new RunStats());
    const started = Date.now();
    await executor.beforeApplicationShutdown();
    // Far below the grace period it would otherwise wait (SHUTDOWN_GRACE_MS); loose enough for a busy machine.
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  });

  it('a run that ends within the grace period is waited for and recorded completed', async () => {
    const job = controllableJob();
    const executor = replica(job.run);
    const tick = await startRun(executor, job);
    const stopping = executor.beforeApplicationShutdown();
    setTimeout(() => job.finish(), GRACE_MS / 3);
    await stopping;
    assert.equal(events(Topic.RunCompleted, tick.runId!).length, 1, 'completed published before shutdown goes on');
    assert.equal(events(Topic.RunFailed, tick.runId!).length, 0);
    assert.equal((await claimOf(tick.runId!)).status, 'completed');
    assert.equal(await leases.holder(JOB_KEY, new Date()), null);
  });

  it('a run still going after the grace period is interrupted: failed INTERRUPTED (internal, retriable), lease released, claim handed over', async () => {
    const job = controllableJob();
    const executor = replica(job.run);
    const tick = await startRun(executor, job);
    const sigterm = Date.now();
    await executor.beforeApplicationShutdown();
    const tookMs = Date.now() - sigterm;
    assert.ok(tookMs >= GRACE_MS && tookMs < GRACE_MS + 1000, `shutdown took ${tookMs} ms`);

    const [failed] = events(Topic.RunFailed, tick.runId!);
    assert.ok(failed, 'a failed event is published');
    const error = (failed.value as { payload: { error: RunError } }).payload.error;
    assert.equal(error.code, 'INTERRUPTED');
    assert.equal(error.origin, 'internal');
    assert.equal(error.retriable, true);
    assert.equal(events(Topic.RunCompleted, tick.runId!).length, 0);
    assert.equal(await leases.holder(JOB_KEY, new Date()), null, 'the job lease is released');
    const claim = await claimOf(tick.runId!);
    assert.equal(claim.status, 'running', 'the claim stays open for another replica');
    assert.ok(claim.claimedUntil.getTime() <= Date.now(), 'and has expired: it is taken over at the next sweep');
  });

  it('another replica takes an interrupted run over at its next sweep, not after the lease, and completes it', async () => {
    const job = controllableJob();
    const stopping = replica(job.run);
    const tick = await startRun(stopping, job);
    await stopping.beforeApplicationShutdown();

    let ran = 0;
    const other = replica(async ({ tick: t }) => (ran++, assert.equal(t.runId, tick.runId), new RunStats()));
    assert.equal(await other.sweep(), 1, 'taken over at once');
    await until(async () => events(Topic.RunCompleted, tick.runId!).length === 1);
    assert.equal(ran, 1);
    assert.equal((await claimOf(tick.runId!)).status, 'completed');
    assert.equal(events(Topic.RunStarted, tick.runId!).length, 2, 'started by each replica');
    const attemptOf = (topic: Topic, i = 0) =>
      (events(topic, tick.runId!)[i].value as { payload: { attempt?: number; takeoverReason?: string } }).payload;
    for (const p of [attemptOf(Topic.RunStarted, 0), attemptOf(Topic.RunFailed)])
      assert.equal(p.attempt, undefined, 'the interrupted attempt is the first');
    for (const p of [attemptOf(Topic.RunStarted, 1), attemptOf(Topic.RunCompleted)])
      assert.deepEqual([p.attempt, p.takeoverReason], [2, 'handed_over'], 'the takeover is attempt 2, a handover');
    assert.equal((await claimOf(tick.runId!)).attempt, 2);
  });

  it('a job that ignores its signal still has its lease released a few seconds after the interruption', async () => {
    const job = controllableJob(false);
    const executor = replica(job.run);
    const tick = await startRun(executor, job);
    const sigterm = Date.now();
    await executor.beforeApplicationShutdown();
    const tookMs = Date.now() - sigterm;
    assert.ok(tookMs >= GRACE_MS + 2900 && tookMs < GRACE_MS + 5000, `shutdown took ${tookMs} ms`);
    assert.equal(await leases.holder(JOB_KEY, new Date()), null, 'the lease does not outlive the process');
    assert.equal(events(Topic.RunFailed, tick.runId!).length, 1);
    job.finish();
  });

  it('a stopping process takes nothing over and hands a buffered run over instead of starting it', async () => {
    // A dead worker's run, whose claim expired: not for a process that is stopping.
    const dead = tickOf({ companyId: 2 });
    const past = new Date(Date.now() - 5 * RUN_CLAIM_LEASE_MS);
    await claims.claim(
      { runId: dead.runId!, app: 'splynx-sync', jobKey: 'job:2:splynx:customers', tick: dead.payload },
      RUN_CLAIM_LEASE_MS,
      past,
    );

    const job = controllableJob();
    const executor = replica(job.run);
    const tick = await startRun(executor, job);
    const buffered = tickOf({ overlapPolicy: 'buffer_one' });
    await executor.handleTick(buffered, fromBus(buffered));
    assert.equal((await claimOf(buffered.runId!)).status, 'waiting');

    const stopping = executor.beforeApplicationShutdown();
    assert.equal(await executor.sweep(), 0, 'no takeover while stopping');
    job.finish();
    await stopping;
    assert.equal(events(Topic.RunCompleted, tick.runId!).length, 1);
    const waiting = await claimOf(buffered.runId!);
    assert.equal(waiting.status, 'waiting', 'not started here');
    assert.ok(waiting.claimedUntil.getTime() <= Date.now(), 'handed over: the next sweep elsewhere starts it');
    assert.equal(events(Topic.RunStarted, buffered.runId!).length, 0);

    const other = replica(async () => new RunStats());
    assert.equal(await other.sweep(), 2, 'the buffered run and the dead worker’s run');
    await until(async () => events(Topic.RunCompleted, buffered.runId!).length === 1);
    await until(async () => events(Topic.RunCompleted, dead.runId!).length === 1);
  });
});

async function until(probe: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
