import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ConsoleLogger, Logger, LoggerService } from '@nestjs/common';
import { loadConfig } from '@sync-hub/config';
import {
  ConfigurationError,
  envelope,
  JobDeclaration,
  RunStats,
  SPLYNX_CUSTOMERS,
  SyncRequestedPayload,
  Topic,
} from '@sync-hub/contracts';
import { UpstreamHttpError } from '@sync-hub/http';
import {
  ConsumerStoppingError,
  EventPublisher,
  InProcessBus,
  InProcessContext,
  InProcessEventPublisher,
  MessageProcessor,
  OutgoingMessage,
  ReliablePublisher,
} from '@sync-hub/messaging';
import { currentRunLogFields, MetricsService } from '@sync-hub/observability';
import { JobLease, JobLeasesService, OutboxMessage } from '@sync-hub/persistence';
import { DataSource, QueryFailedError } from 'typeorm';
import { inMemoryDatabase } from '../../../test/support/sqlite';
import { JobContext } from './job-handler';
import { attachStats } from './run-errors';
import { RunClaim } from './run-claim.entity';
import { RunClaimsService } from './run-claims.service';
import { jobLeaseName, RUN_CLAIM_LEASE_MS, RunExecutor } from './run-executor';

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

/** splynx/customers' job lease: its lease group's, shared with customers.full. */
const CUSTOMERS_LEASE = jobLeaseName({ companyId: 1, domain: 'splynx', job: 'customers' });

describe('RunExecutor', () => {
  let db: DataSource;
  let bus: InProcessBus;
  let executor: RunExecutor;
  let claims: RunClaimsService;
  let leases: JobLeasesService;
  const events = (topic: Topic, runId: string) =>
    bus.unconsumed(topic).filter((m) => (m.value as { runId: string }).runId === runId);
  const skipReason = (runId: string) =>
    (events(Topic.RunSkipped, runId)[0]?.value as { payload: { skipReason: string } } | undefined)?.payload.skipReason;

  function makeExecutor(appName = 'splynx-sync'): RunExecutor {
    const config = loadConfig(appName, {});
    const publisher = new InProcessEventPublisher(bus);
    const metrics = new MetricsService();
    return new RunExecutor(
      config,
      new MessageProcessor(publisher, config, metrics),
      new ReliablePublisher(publisher, db.getRepository(OutboxMessage)),
      claims,
      leases,
      metrics,
    );
  }

  before(async () => {
    db = await inMemoryDatabase([RunClaim]);
    bus = new InProcessBus();
    claims = new RunClaimsService(db.getRepository(RunClaim));
    leases = new JobLeasesService(db.getRepository(JobLease));
    executor = makeExecutor();
    executor.retryBaseDelayMs = 1;
  });

  /** Binds splynx/customers to a function, under its registry entry (or a variant of it). */
  function bindCustomers(
    run: (ctx: JobContext<{ limit?: number }>) => Promise<RunStats>,
    declaration: JobDeclaration = SPLYNX_CUSTOMERS,
  ): void {
    executor.bind(declaration, { run });
  }

  it('emits started then completed with the job stats, keyed by run id', async () => {
    const stats: RunStats = { fetched: 3, created: 2, updated: 1, unchanged: 0, skipped: 0, failed: 0 };
    bindCustomers(async () => stats);
    const tick = tickOf();
    assert.deepEqual(await executor.execute(tick.payload), { status: 'completed', stats });
    const [started] = events(Topic.RunStarted, tick.runId!);
    assert.equal(started.key, tick.runId);
    const payload = (
      events(Topic.RunCompleted, tick.runId!)[0].value as {
        payload: { stats: RunStats; trigger: string; durationMs: number };
      }
    ).payload;
    assert.deepEqual(payload.stats, stats);
    assert.equal(payload.trigger, 'manual');
    assert.ok(payload.durationMs >= 0);
    assert.equal(await leases.holder(CUSTOMERS_LEASE, new Date()), null, 'the job lease is released');
  });

  it('releases the job lease before it publishes the end: whoever sees completed or failed finds the job free', async () => {
    const atEnd: Array<{ topic: string; holder: JobLease | null }> = [];
    const inner = new InProcessEventPublisher(bus);
    const watching = new (class extends InProcessEventPublisher {
      override async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
        if (topic === Topic.RunCompleted || topic === Topic.RunFailed)
          atEnd.push({ topic, holder: await leases.holder(CUSTOMERS_LEASE, new Date()) });
        return inner.publish(topic, messages);
      }
    })(bus);
    const config = loadConfig('splynx-sync', {});
    const metrics = new MetricsService();
    const watched = new RunExecutor(
      config,
      new MessageProcessor(watching, config, metrics),
      new ReliablePublisher(watching, db.getRepository(OutboxMessage)),
      claims,
      leases,
      metrics,
    );
    watched.bind(SPLYNX_CUSTOMERS, { run: async () => new RunStats() });
    assert.equal((await watched.execute(tickOf().payload)).status, 'completed');
    watched.bind(
      { ...SPLYNX_CUSTOMERS, retries: 0 },
      {
        run: () => Promise.reject(new ConfigurationError('UPSTREAM_AUTH_REJECTED', 'the key was refused')),
      },
    );
    assert.equal((await watched.execute(tickOf().payload)).status, 'failed');
    assert.deepEqual(atEnd, [
      { topic: Topic.RunCompleted, holder: null },
      { topic: Topic.RunFailed, holder: null },
    ]);
  });

  it('executes a run id once, however often its tick arrives', async () => {
    let runs = 0;
    bindCustomers(async () => (runs++, new RunStats()));
    const tick = tickOf();
    assert.equal((await executor.execute(tick.payload)).status, 'completed');
    assert.deepEqual(await executor.execute(tick.payload), { status: 'duplicate' });
    assert.equal(runs, 1);
    assert.equal(events(Topic.RunStarted, tick.runId!).length, 1);
  });

  it('skips a tick reached after its deadline as stale, once', async () => {
    let ran = false;
    bindCustomers(async () => ((ran = true), new RunStats()));
    const tick = tickOf({ deadline: new Date(Date.now() - 1000).toISOString() });
    assert.deepEqual(await executor.execute(tick.payload), { status: 'skipped', reason: 'stale' });
    await executor.execute(tick.payload);
    assert.equal(ran, false);
    assert.equal(events(Topic.RunSkipped, tick.runId!).length, 1);
    assert.equal(skipReason(tick.runId!), 'stale');
  });

  it('a stopping process takes no new tick, not even to skip it: left for redelivery, nothing claimed or sent', async () => {
    const config = loadConfig('splynx-sync', {});
    const publisher = new InProcessEventPublisher(bus);
    const metrics = new MetricsService();
    const processor = new MessageProcessor(publisher, config, metrics);
    const stopping = new RunExecutor(
      config,
      processor,
      new ReliablePublisher(publisher, db.getRepository(OutboxMessage)),
      claims,
      leases,
      metrics,
    );
    let runs = 0;
    stopping.bind(SPLYNX_CUSTOMERS, { run: async () => (runs++, new RunStats()) });
    const ctx = (value: unknown) =>
      new InProcessContext([{ topic: 'sync.splynx.requested.v1', key: '1:splynx:customers', value, headers: {} }]);
    // Taken while running; after SIGTERM (the processor stopped first, then the consumer), neither a live tick nor a
    // stale one is touched.
    const before = tickOf();
    await stopping.handleTick(before, ctx(before));
    await eventuallyTrue(async () => events(Topic.RunCompleted, before.runId!).length === 1);
    processor.stop();
    const live = tickOf();
    const stale = tickOf({ deadline: new Date(Date.now() - 1000).toISOString() });
    for (const t of [live, stale]) {
      await assert.rejects(stopping.handleTick(t, ctx(t)), ConsumerStoppingError);
      assert.equal(await db.getRepository(RunClaim).countBy({ runId: t.runId! }), 0, 'not claimed');
      assert.deepEqual(
        [Topic.RunStarted, Topic.RunSkipped].map((topic) => events(topic, t.runId!).length),
        [0, 0],
      );
    }
    assert.equal(runs, 1, 'only the tick taken before the stop ran');
  });

  it('classifies failures: upstream 5xx is a retriable source error, a query error a destination error', async () => {
    bindCustomers(async () => {
      throw new UpstreamHttpError('splynx', 503, 'GET /x', null);
    });
    const upstream = tickOf();
    assert.equal((await executor.execute(upstream.payload)).status, 'failed');
    assert.deepEqual(
      (events(Topic.RunFailed, upstream.runId!)[0].value as { payload: { error: unknown } }).payload.error,
      {
        code: 'UPSTREAM_UNAVAILABLE',
        message: 'splynx: GET /x answered 503',
        retriable: true,
        origin: 'source',
      },
    );
    bindCustomers(async () => {
      throw new QueryFailedError('INSERT', [], new Error('Data too long'));
    });
    const destination = tickOf();
    await executor.execute(destination.payload);
    const error = (
      events(Topic.RunFailed, destination.runId!)[0].value as { payload: { error: { origin: string; code: string } } }
    ).payload.error;
    assert.equal(error.origin, 'destination');
    assert.equal(error.code, 'DATABASE_QUERY_FAILED');

    // The connection lost under a query (TypeORM wraps mysql2's error): the database's outage, retriable.
    bindCustomers(async () => {
      const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), {
        code: 'PROTOCOL_CONNECTION_LOST',
      });
      throw new QueryFailedError('INSERT', [], lost);
    });
    const outage = tickOf();
    await executor.execute(outage.payload);
    const unavailable = (
      events(Topic.RunFailed, outage.runId!)[0].value as {
        payload: { error: { origin: string; code: string; retriable: boolean; message: string } };
      }
    ).payload.error;
    assert.deepEqual(
      [unavailable.origin, unavailable.code, unavailable.retriable],
      ['destination', 'DATABASE_UNAVAILABLE', true],
    );
    assert.match(unavailable.message, /^the database cannot serve \(PROTOCOL_CONNECTION_LOST: Connection lost/);
  });

  it('answers ping with no work, and fails a job this app does not implement as a config error', async () => {
    assert.equal((await executor.execute(tickOf({ job: 'ping' }).payload)).status, 'completed');
    const outcome = await executor.execute(tickOf({ domain: 'accounting', job: 'sales' }).payload);
    assert.equal(outcome.status === 'failed' && outcome.error.code, 'JOB_NOT_SUPPORTED');
  });

  it("retries a retriable failure as often as the job's registry entry allows, then reports the last", async () => {
    const attempts: number[] = [];
    bindCustomers(async ({ attempt }) => {
      attempts.push(attempt);
      if (attempt < 3) throw new UpstreamHttpError('splynx', 502, 'GET /customers', null);
      return { ...new RunStats(), fetched: 5 };
    });
    const recovered = tickOf();
    assert.deepEqual(await executor.execute(recovered.payload), {
      status: 'completed',
      stats: { ...new RunStats(), fetched: 5 },
    });
    assert.deepEqual(attempts, [1, 2, 3], 'SPLYNX_CUSTOMERS allows two retries');
    assert.equal(events(Topic.RunStarted, recovered.runId!).length, 1, 'one run, however many tries');

    attempts.length = 0;
    bindCustomers(async ({ attempt }) => {
      attempts.push(attempt);
      throw new ConfigurationError('UPSTREAM_AUTH_REJECTED', 'the key was refused');
    });
    const refused = await executor.execute(tickOf().payload);
    assert.equal(refused.status === 'failed' && refused.error.code, 'UPSTREAM_AUTH_REJECTED');
    assert.deepEqual(attempts, [1], 'a failure that retrying cannot fix is not retried');
  });

  it('a failed run reports the stats of its try that got furthest, not only its last try', async () => {
    bindCustomers(async ({ attempt }) => {
      // Try 1 reads and writes 60 records, then fails; try 2 fails after 30 (unchanged); try 3 fails at once.
      const tries: Record<number, Partial<RunStats>> = {
        1: { fetched: 60, created: 58, updated: 2 },
        2: { fetched: 30, unchanged: 30 },
        3: {},
      };
      throw attachStats(new UpstreamHttpError('splynx', 502, 'GET /customers', null), {
        ...new RunStats(),
        ...tries[attempt],
      });
    });
    const t = tickOf();
    const outcome = await executor.execute(t.payload);
    const expected = { ...new RunStats(), fetched: 60, created: 58, updated: 2 };
    assert.deepEqual(outcome.status === 'failed' && outcome.stats, expected);
    assert.deepEqual(
      (events(Topic.RunFailed, t.runId!)[0].value as { payload: { stats: RunStats } }).payload.stats,
      JSON.parse(JSON.stringify(expected)),
      'and so does its failed event',
    );

    // Equal progress: the last try's (what the table holds now).
    bindCustomers(async ({ attempt }) => {
      throw attachStats(new UpstreamHttpError('splynx', 502, 'GET /customers', null), {
        ...new RunStats(),
        fetched: 100,
        ...(attempt === 1 ? { created: 100 } : { unchanged: 100 }),
      });
    });
    const again = await executor.execute(tickOf().payload);
    assert.deepEqual(again.status === 'failed' && again.stats, { ...new RunStats(), fetched: 100, unchanged: 100 });
  });

  it('stops a run at its time limit and reports it failed, keeping the job lease until the job has stopped', async () => {
    let aborted = false;
    let stop: () => void = () => undefined;
    bindCustomers(
      ({ signal }) =>
        new Promise<RunStats>((resolve) => {
          signal.addEventListener('abort', () => (aborted = true));
          stop = () => resolve(new RunStats());
        }),
      { ...SPLYNX_CUSTOMERS, timeLimitMs: 50 },
    );
    const tick = tickOf();
    const outcome = executor.execute(tick.payload);
    await eventuallyTrue(async () => events(Topic.RunFailed, tick.runId!).length === 1);
    const failed = events(Topic.RunFailed, tick.runId!)[0];
    assert.equal((failed.value as { payload: { error: { code: string } } }).payload.error.code, 'RUN_TIME_LIMIT');
    assert.equal(aborted, true, 'the job saw its signal aborted');
    assert.ok(await leases.holder(CUSTOMERS_LEASE, new Date()), 'the lease is held while the job still runs');
    stop();
    assert.equal((await outcome).status, 'failed');
    assert.equal(await leases.holder(CUSTOMERS_LEASE, new Date()), null, 'released once stopped');
  });

  it("validates params against the job's params DTO and fails a bad tick as a config error naming the field", async () => {
    let ran = false;
    bindCustomers(async () => ((ran = true), new RunStats()));
    const bad = await executor.execute(tickOf({ params: { limit: 0, colour: 'red' } }).payload);
    assert.equal(bad.status, 'failed');
    if (bad.status !== 'failed') return;
    assert.equal(bad.error.code, 'INVALID_PARAMS');
    assert.equal(bad.error.origin, 'config');
    assert.match(bad.error.message, /params\.limit: limit must not be less than 1/);
    assert.match(bad.error.message, /params\.colour: property colour should not exist/);
    assert.equal(ran, false);
    let seen: unknown;
    bindCustomers(async ({ params }) => ((seen = params), new RunStats()));
    await executor.execute(tickOf({ params: { limit: 10, dryRun: true } }).payload);
    assert.deepEqual({ ...(seen as object) }, { limit: 10, dryRun: true });
  });

  it('stops renewing a run whose end could not be recorded, so the sweeper can run it again', async () => {
    bindCustomers(async () => new RunStats());
    const finish = claims.finish.bind(claims);
    claims.finish = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' });
    };
    const tick = tickOf();
    try {
      await assert.rejects(executor.execute(tick.payload), /ECONNREFUSED/);
    } finally {
      claims.finish = finish;
    }
    assert.equal(await leases.holder(CUSTOMERS_LEASE, new Date()), null, 'the job lease is released');
    const before = await db.getRepository(RunClaim).findOneByOrFail({ runId: tick.runId! });
    await executor.renewLeases();
    const after = await db.getRepository(RunClaim).findOneByOrFail({ runId: tick.runId! });
    assert.equal(after.status, 'running', 'its end was never recorded');
    assert.equal(after.claimedUntil.getTime(), before.claimedUntil.getTime(), 'no longer renewed: it will expire');
  });

  it('a lease renewal still on its way when the run ends does not take the lease again after its release', async () => {
    let finishJob!: () => void;
    let started = false;
    bindCustomers(async () => {
      started = true;
      await new Promise<void>((resolve) => (finishJob = resolve));
      return new RunStats();
    });
    const tick = tickOf();
    const running = executor.execute(tick.payload);
    while (!started) await new Promise((r) => setTimeout(r, 5));
    // The renewal's lease write is held until the run has ended (a slow database round trip).
    const acquire = leases.acquire.bind(leases);
    let letRenewalThrough!: () => void;
    const held = new Promise<void>((resolve) => (letRenewalThrough = resolve));
    leases.acquire = async (...args: Parameters<JobLeasesService['acquire']>) => {
      await held;
      return acquire(...args);
    };
    try {
      const renewal = executor.renewLeases();
      finishJob();
      await new Promise((r) => setTimeout(r, 50));
      letRenewalThrough();
      await renewal;
      assert.equal((await running).status, 'completed');
    } finally {
      leases.acquire = acquire;
    }
    const lease = jobLeaseName(tick.payload);
    assert.equal(await leases.holder(lease, new Date()), null, 'the ended run holds no lease');
    bindCustomers(async () => new RunStats());
    const next = tickOf();
    assert.equal((await executor.execute(next.payload)).status, 'completed', 'the next run is not skipped as overlap');
  });

  describe('warnings', () => {
    const warningsOf = (runId: string) =>
      (events(Topic.RunCompleted, runId)[0].value as { payload: { warnings?: string[] } }).payload.warnings;

    it('a job that warns completes, with each distinct warning once, in order, on its completed event', async () => {
      bindCustomers(async ({ warn }) => {
        warn('the refresh token of company 1 expires in 9 days');
        warn('the refresh token of company 2 expires in 3 days');
        warn('the refresh token of company 1 expires in 9 days');
        return { ...new RunStats(), fetched: 2 };
      });
      const tick = tickOf();
      const expected = [
        'the refresh token of company 1 expires in 9 days',
        'the refresh token of company 2 expires in 3 days',
      ];
      assert.deepEqual(await executor.execute(tick.payload), {
        status: 'completed',
        stats: { ...new RunStats(), fetched: 2 },
        warnings: expected,
      });
      assert.deepEqual(warningsOf(tick.runId!), expected);
    });

    it('a run without warnings has none on its event (the field is absent, as in older events)', async () => {
      bindCustomers(async () => new RunStats());
      const tick = tickOf();
      assert.deepEqual(await executor.execute(tick.payload), { status: 'completed', stats: new RunStats() });
      assert.equal(warningsOf(tick.runId!), undefined);
    });

    it('caps them at 50, the last saying how many more, and cuts a long one to 1000 characters', async () => {
      bindCustomers(async ({ warn }) => {
        warn('x'.repeat(5000));
        for (let i = 1; i <= 60; i++) warn(`warning ${i}`);
        return new RunStats();
      });
      const tick = tickOf();
      await executor.execute(tick.payload);
      const warnings = warningsOf(tick.runId!)!;
      assert.equal(warnings.length, 50);
      assert.equal(warnings[0], `${'x'.repeat(999)}…`);
      assert.equal(warnings[48], 'warning 48');
      assert.equal(warnings[49], '… and 12 more', '61 distinct: 49 shown, 12 more');
    });

    it('drops the warnings of a try that failed and was retried: only the successful try counts', async () => {
      bindCustomers(async ({ attempt, warn }) => {
        warn(`try ${attempt} saw a token about to expire`);
        if (attempt < 2) throw new UpstreamHttpError('splynx', 503, 'GET /customers', null);
        return new RunStats();
      });
      const tick = tickOf();
      assert.equal((await executor.execute(tick.payload)).status, 'completed');
      assert.deepEqual(warningsOf(tick.runId!), ['try 2 saw a token about to expire']);
    });

    it('a run that fails after warning sends its error and no warnings', async () => {
      bindCustomers(async ({ warn }) => {
        warn('a token expires soon');
        throw new ConfigurationError('UPSTREAM_AUTH_REJECTED', 'the key was refused');
      });
      const tick = tickOf();
      const outcome = await executor.execute(tick.payload);
      assert.equal(outcome.status, 'failed');
      assert.equal('warnings' in outcome, false);
      const failed = (events(Topic.RunFailed, tick.runId!)[0].value as { payload: Record<string, unknown> }).payload;
      assert.equal('warnings' in failed, false);
    });

    it('logs each warning once at warn level, in the run log context, even when called from outside it', async () => {
      const lines: Array<{ message: string; context?: string; fields: object }> = [];
      const capture = (level: string) => (message: unknown, context?: string) => {
        if (level === 'warn') lines.push({ message: String(message), context, fields: currentRunLogFields() });
      };
      const logger: LoggerService = {
        log: capture('log'),
        error: capture('error'),
        warn: capture('warn'),
        debug: capture('debug'),
        verbose: capture('verbose'),
      };
      Logger.overrideLogger(logger);
      // A pump started outside any run: what it calls runs outside the run's async context.
      const queued: Array<() => void> = [];
      const pump = setInterval(() => queued.splice(0).forEach((f) => f()), 1);
      try {
        bindCustomers(async ({ warn }) => {
          warn('a token expires in 5 days');
          warn('a token expires in 5 days');
          await new Promise<void>((r) => queued.push(() => (warn('a second token expires in 2 days'), r())));
          return new RunStats();
        });
        const tick = tickOf();
        await executor.execute(tick.payload);
        const fields = { runId: tick.runId, domain: 'splynx', job: 'customers' };
        assert.deepEqual(
          lines.filter((l) => l.message.startsWith('run warning: ')),
          [
            { message: 'run warning: a token expires in 5 days', context: 'RunExecutor', fields },
            { message: 'run warning: a second token expires in 2 days', context: 'RunExecutor', fields },
          ],
        );
      } finally {
        clearInterval(pump);
        Logger.overrideLogger(new ConsoleLogger());
      }
    });
  });

  it('refuses a handler for a job the registry does not declare', () => {
    const unknown = { ...SPLYNX_CUSTOMERS, job: 'invoices' };
    assert.throws(() => executor.bind(unknown, { run: async () => new RunStats() }), /no entry in the job registry/);
  });

  describe('overlap policies, while a run of the same job holds its lease', () => {
    const waiting: Array<() => void> = [];
    const release = () => waiting.splice(0).forEach((r) => r());
    let started = 0;
    const holdTheJob = async () => {
      started = 0;
      bindCustomers(() => {
        started++;
        return new Promise<RunStats>((r) => void waiting.push(() => r(new RunStats())));
      });
      const first = tickOf();
      const running = executor.execute(first.payload);
      await eventuallyTrue(async () => started === 1);
      return { first, running };
    };

    it('skip (the default): the tick is dropped with a skipped event, reason overlap', async () => {
      const { running } = await holdTheJob();
      const second = tickOf();
      assert.deepEqual(await executor.execute(second.payload), { status: 'skipped', reason: 'overlap' });
      assert.equal(skipReason(second.runId!), 'overlap');
      release();
      assert.equal((await running).status, 'completed');
      assert.equal(started, 1);
    });

    it('buffer_one: one tick waits and runs when the job is free; a second one is skipped', async () => {
      const { running } = await holdTheJob();
      const buffered = tickOf({ overlapPolicy: 'buffer_one' });
      const extra = tickOf({ overlapPolicy: 'buffer_one' });
      assert.deepEqual(await executor.execute(buffered.payload), { status: 'waiting' });
      assert.deepEqual(await executor.execute(extra.payload), { status: 'skipped', reason: 'overlap' });
      release();
      await running;
      await eventuallyTrue(async () => started === 2);
      release();
      await eventuallyTrue(async () => events(Topic.RunCompleted, buffered.runId!).length === 1);
    });

    it('allow: runs alongside', async () => {
      const { running } = await holdTheJob();
      const alongside = tickOf({ overlapPolicy: 'allow' });
      const second = executor.execute(alongside.payload);
      await eventuallyTrue(async () => started === 2);
      release();
      await Promise.all([running, second]);
    });
  });

  it('takes over the run of a worker that died, from the stored tick', async () => {
    const crashedAt = new Date(Date.now() - 5 * 60000);
    const tick = tickOf();
    // A worker claimed the run and took the job lease five minutes ago, then stopped renewing.
    await claims.claim(
      { runId: tick.runId!, app: 'splynx-sync', jobKey: CUSTOMERS_LEASE, tick: tick.payload },
      RUN_CLAIM_LEASE_MS,
      crashedAt,
    );
    await leases.acquire(CUSTOMERS_LEASE, tick.runId!, RUN_CLAIM_LEASE_MS, crashedAt, tick.runId);
    let ran = 0;
    bindCustomers(async () => (ran++, new RunStats()));
    const sweptAt = new Date();
    assert.equal(await executor.sweep(), 1);
    await eventuallyTrue(async () => events(Topic.RunCompleted, tick.runId!).length === 1);
    assert.equal(ran, 1);
    assert.equal(await executor.sweep(), 0, 'nothing left to take over');
    // Both events of the takeover say which attempt it is, when it happened and why.
    for (const topic of [Topic.RunStarted, Topic.RunCompleted]) {
      const [event] = events(topic, tick.runId!);
      const p = (event.value as { payload: { attempt: number; takenOverAt: string; takeoverReason: string } }).payload;
      assert.deepEqual([p.attempt, p.takeoverReason], [2, 'claim_expired'], topic);
      assert.ok(new Date(p.takenOverAt) >= sweptAt, `${topic}: taken over at the sweep`);
    }
    const stored = await db.getRepository(RunClaim).findOneByOrFail({ runId: tick.runId! });
    assert.deepEqual([stored.status, stored.attempt, stored.takeoverReason], ['completed', 2, 'claim_expired']);
  });

  it("a first attempt's events carry no attempt: they read as before", async () => {
    bindCustomers(async () => new RunStats());
    const tick = tickOf();
    await executor.execute(tick.payload);
    for (const topic of [Topic.RunStarted, Topic.RunCompleted]) {
      const p = (events(topic, tick.runId!)[0].value as { payload: Record<string, unknown> }).payload;
      assert.deepEqual([p.attempt, p.takenOverAt, p.takeoverReason], [undefined, undefined, undefined], topic);
    }
  });
});

async function eventuallyTrue(probe: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('jobLeaseName', () => {
  it("is the job's own per company, or its lease group's: the accounting document jobs share one", () => {
    const lease = (job: string, companyId = 1) => jobLeaseName({ companyId, domain: 'accounting', job });
    assert.equal(lease('sales'), lease('bills'));
    assert.equal(lease('sales'), lease('full'));
    assert.equal(lease('full'), 'job:1:accounting:documents');
    assert.notEqual(lease('sales', 1), lease('sales', 2), 'per company');
    assert.notEqual(lease('accounting.connections.check'), lease('full'), 'other jobs keep their own');
    const splynx = (job: string) => jobLeaseName({ companyId: 1, domain: 'splynx', job });
    assert.equal(splynx('customers'), splynx('customers.full'), 'an incremental and a full Splynx run never overlap');
    assert.equal(splynx('customers'), 'job:1:splynx:splynx.customers');
  });
});

describe('RunClaimsService', () => {
  const claim = { runId: 'run-a', app: 'worker', jobKey: CUSTOMERS_LEASE, tick: {} };
  const at = (t0: Date, ms: number) => new Date(t0.getTime() + ms);

  it('lets a run whose holder stopped renewing be taken over, but not one still held', async () => {
    const db = await inMemoryDatabase([RunClaim]);
    const claims = new RunClaimsService(db.getRepository(RunClaim));
    const t0 = new Date('2026-11-21T10:00:00Z');
    const read = () => db.getRepository(RunClaim).findOneByOrFail({ runId: 'run-a' });
    assert.deepEqual(await claims.claim(claim, 60000, t0), { kind: 'claimed' });
    assert.equal((await claims.claim(claim, 60000, at(t0, 30000))).kind, 'held');
    assert.deepEqual(await claims.takeOver(await read(), 'worker-2', 60000, at(t0, 30000)), { won: false });
    const stale = await read();
    assert.deepEqual(await claims.takeOver(stale, 'worker-2', 60000, at(t0, 61000)), {
      won: true,
      takeover: { attempt: 2, takenOverAt: at(t0, 61000), reason: 'claim_expired' },
    });
    assert.deepEqual(
      await claims.takeOver(stale, 'worker-3', 60000, at(t0, 200000)),
      { won: false },
      'a second worker that read the same claim loses: the attempt it read is gone',
    );
    const taken = await read();
    assert.deepEqual(
      [taken.app, taken.attempt, taken.takenOverAt?.toISOString(), taken.takeoverReason],
      ['worker-2', 2, at(t0, 61000).toISOString(), 'claim_expired'],
    );
    await claims.finish('run-a', 'completed');
    assert.deepEqual(await claims.claim(claim, 60000, at(t0, 3600000)), { kind: 'finished', status: 'completed' });
    await db.destroy();
  });

  it('a handed-over claim is taken over as a handover; the next takeover after the lease is an expiry again', async () => {
    const db = await inMemoryDatabase([RunClaim]);
    const claims = new RunClaimsService(db.getRepository(RunClaim));
    const read = () => db.getRepository(RunClaim).findOneByOrFail({ runId: 'run-a' });
    const t0 = new Date('2026-11-21T10:00:00Z');
    await claims.claim(claim, 60000, t0);
    await claims.handOver('run-a', at(t0, 10000));
    const handedOver = await claims.takeOver(await read(), 'worker-2', 60000, at(t0, 12000));
    assert.deepEqual(handedOver, {
      won: true,
      takeover: { attempt: 2, takenOverAt: at(t0, 12000), reason: 'handed_over' },
    });
    assert.equal((await read()).handedOverAt, null, 'the handover is consumed by its takeover');
    // worker-2 dies in turn: its claim expires.
    const expired = await claims.takeOver(await read(), 'worker-3', 60000, at(t0, 73000));
    assert.deepEqual(expired, {
      won: true,
      takeover: { attempt: 3, takenOverAt: at(t0, 73000), reason: 'claim_expired' },
    });
    await db.destroy();
  });

  it('a waiting run changes hands without a new attempt: it never started', async () => {
    const db = await inMemoryDatabase([RunClaim]);
    const claims = new RunClaimsService(db.getRepository(RunClaim));
    const read = () => db.getRepository(RunClaim).findOneByOrFail({ runId: 'run-a' });
    const t0 = new Date('2026-11-21T10:00:00Z');
    await claims.claim(claim, 60000, t0);
    await claims.setStatus('run-a', 'waiting', t0);
    assert.deepEqual(await claims.takeOver(await read(), 'worker-2', 60000, at(t0, 61000)), { won: true });
    const moved = await read();
    assert.deepEqual([moved.app, moved.attempt, moved.takenOverAt], ['worker-2', 1, null]);
    await db.destroy();
  });
});

describe('JobLeasesService', () => {
  it('one holder at a time; renewable by its owner; taken over once expired; released only by its owner', async () => {
    const db = await inMemoryDatabase([RunClaim]);
    const leases = new JobLeasesService(db.getRepository(JobLease));
    const t0 = new Date('2026-11-21T10:00:00Z');
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    assert.equal(await leases.acquire('scheduler.leader', 'a', 30000, at(0)), true);
    assert.equal(await leases.acquire('scheduler.leader', 'b', 30000, at(10)), false);
    assert.equal(await leases.acquire('scheduler.leader', 'a', 30000, at(20)), true, 'renewed');
    assert.equal(await leases.acquire('scheduler.leader', 'b', 30000, at(40)), false, 'renewal moved the expiry');
    await leases.release('scheduler.leader', 'b');
    assert.equal((await leases.holder('scheduler.leader', at(40)))?.owner, 'a', 'not released by a non-owner');
    assert.equal(await leases.acquire('scheduler.leader', 'b', 30000, at(51)), true, 'taken over after expiry');
    await db.destroy();
  });
});

describe('ReliablePublisher', () => {
  it('keeps a message the bus refuses in the outbox and sends it, in order, once the bus is back', async () => {
    const db = await inMemoryDatabase([RunClaim]);
    const sent: Array<{ topic: string; m: OutgoingMessage }> = [];
    let busUp = false;
    class FlakyBus extends EventPublisher {
      async publish(topic: string, messages: OutgoingMessage[]) {
        if (!busUp) throw new Error('broker unreachable');
        for (const m of messages) sent.push({ topic, m });
      }
      async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>) {
        for (const b of batches) await this.publish(b.topic, b.messages);
      }
      isConnected() {
        return busUp;
      }
    }
    const publisher = new ReliablePublisher(new FlakyBus(), db.getRepository(OutboxMessage));
    await publisher.publish('sync.run.started.v1', { key: 'r1', value: { n: 1 } });
    await publisher.publish('sync.run.completed.v1', { key: 'r1', value: { n: 2 } });
    assert.equal(await db.getRepository(OutboxMessage).count(), 2);
    const later = new Date(Date.now() + 60000);
    assert.equal(await publisher.flush(later), 0, 'still down: nothing sent, nothing lost');
    assert.equal(await db.getRepository(OutboxMessage).count(), 2);
    busUp = true;
    assert.equal(await publisher.flush(new Date(Date.now() + 3600000)), 2);
    assert.deepEqual(
      sent.map((s) => [s.topic, s.m.key, s.m.value]),
      [
        ['sync.run.started.v1', 'r1', { n: 1 }],
        ['sync.run.completed.v1', 'r1', { n: 2 }],
      ],
    );
    assert.equal(await db.getRepository(OutboxMessage).count(), 0);
    await db.destroy();
  });
});
