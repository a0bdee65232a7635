import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { envelope, RunStats, SyncRequestedPayload, Topic } from '@sync-hub/contracts';
import { UpstreamHttpError } from '@sync-hub/http';
import { EventPublisher, InProcessBus, InProcessEventPublisher, MessageProcessor, OutgoingMessage, ReliablePublisher } from '@sync-hub/messaging';
import { MetricsService } from '@sync-hub/observability';
import { OutboxMessage, RunClaim, RunClaimsService } from '@sync-hub/persistence';
import { DataSource, QueryFailedError } from 'typeorm';
import { inMemoryDatabase } from '../../../test/support/sqlite';
import { RunExecutor } from './run-executor';

function tickOf(over: Partial<SyncRequestedPayload> = {}) {
  const now = Date.now();
  const payload: SyncRequestedPayload = {
    runId: crypto.randomUUID(), domain: 'splynx', job: 'customers', companyId: 1, trigger: 'manual',
    scheduledFor: new Date(now).toISOString(), deadline: new Date(now + 60000).toISOString(), ...over,
  };
  return envelope('sync.splynx.requested', payload, payload.runId);
}

const noHeartbeat = async () => undefined;

describe('RunExecutor', () => {
  let db: DataSource;
  let bus: InProcessBus;
  let executor: RunExecutor;
  const events = (topic: Topic, runId: string) => bus.unconsumed(topic).filter((m) => (m.value as { runId: string }).runId === runId);

  before(async () => {
    db = await inMemoryDatabase([]);
    bus = new InProcessBus();
    const config = loadConfig('splynx-sync', {});
    const publisher = new InProcessEventPublisher(bus);
    const metrics = new MetricsService();
    executor = new RunExecutor(
      config,
      new MessageProcessor(publisher, config, metrics),
      new ReliablePublisher(publisher, db.getRepository(OutboxMessage)),
      new RunClaimsService(db.getRepository(RunClaim)),
      metrics,
    );
  });

  it('emits started then completed with the job stats, keyed by run id', async () => {
    const tick = tickOf();
    const stats: RunStats = { fetched: 3, created: 2, updated: 1, unchanged: 0, skipped: 0, failed: 0 };
    const outcome = await executor.execute(tick, { customers: async () => stats }, noHeartbeat);
    assert.deepEqual(outcome, { status: 'completed', stats });
    const [started] = events(Topic.RunStarted, tick.runId!).map((m) => m);
    assert.equal(started.key, tick.runId);
    const [completed] = events(Topic.RunCompleted, tick.runId!);
    const payload = (completed.value as { payload: { stats: RunStats; trigger: string; durationMs: number } }).payload;
    assert.deepEqual(payload.stats, stats);
    assert.equal(payload.trigger, 'manual');
    assert.ok(payload.durationMs >= 0);
  });

  it('executes a run id once, however often its tick arrives', async () => {
    const tick = tickOf();
    let runs = 0;
    const jobs = { customers: async () => (runs++, new RunStats()) };
    assert.equal((await executor.execute(tick, jobs, noHeartbeat)).status, 'completed');
    assert.deepEqual(await executor.execute(tick, jobs, noHeartbeat), { status: 'duplicate' });
    assert.equal(runs, 1);
    assert.equal(events(Topic.RunStarted, tick.runId!).length, 1);
  });

  it('skips a tick reached after its deadline as stale, once', async () => {
    const tick = tickOf({ deadline: new Date(Date.now() - 1000).toISOString() });
    let ran = false;
    const jobs = { customers: async () => ((ran = true), new RunStats()) };
    assert.deepEqual(await executor.execute(tick, jobs, noHeartbeat), { status: 'skipped', reason: 'stale' });
    await executor.execute(tick, jobs, noHeartbeat);
    assert.equal(ran, false);
    const skipped = events(Topic.RunSkipped, tick.runId!);
    assert.equal(skipped.length, 1);
    assert.equal((skipped[0].value as { payload: { skipReason: string } }).payload.skipReason, 'stale');
  });

  it('classifies failures: upstream 5xx is a retriable source error, a query error a destination error', async () => {
    const upstream = tickOf();
    const outcome = await executor.execute(upstream, { customers: async () => { throw new UpstreamHttpError('splynx', 503, 'GET /x', null); } }, noHeartbeat);
    assert.equal(outcome.status, 'failed');
    const [failed] = events(Topic.RunFailed, upstream.runId!);
    assert.deepEqual((failed.value as { payload: { error: unknown } }).payload.error, {
      code: 'UPSTREAM_UNAVAILABLE', message: 'splynx: GET /x answered 503', retriable: true, origin: 'source',
    });
    const destination = tickOf();
    await executor.execute(destination, { customers: async () => { throw new QueryFailedError('INSERT', [], new Error('Data too long')); } }, noHeartbeat);
    const error = (events(Topic.RunFailed, destination.runId!)[0].value as { payload: { error: { origin: string; code: string } } }).payload.error;
    assert.equal(error.origin, 'destination');
    assert.equal(error.code, 'DATABASE_QUERY_FAILED');
  });

  it('answers ping with no work, and fails a job this app does not implement as a config error', async () => {
    assert.equal((await executor.execute(tickOf({ job: 'ping' }), {}, noHeartbeat)).status, 'completed');
    const outcome = await executor.execute(tickOf({ domain: 'accounting', job: 'sales' }), {}, noHeartbeat);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.status === 'failed' && outcome.error.code, 'JOB_NOT_SUPPORTED');
  });
});

describe('RunClaimsService', () => {
  it('lets a run whose holder stopped renewing be taken over, but not one still held', async () => {
    const db = await inMemoryDatabase([]);
    const claims = new RunClaimsService(db.getRepository(RunClaim));
    const t0 = new Date('2026-11-21T10:00:00Z');
    assert.deepEqual(await claims.claim('run-a', 'worker-1', 60000, t0), { kind: 'claimed' });
    const held = await claims.claim('run-a', 'worker-2', 60000, new Date(t0.getTime() + 30000));
    assert.equal(held.kind, 'held');
    assert.deepEqual(await claims.claim('run-a', 'worker-2', 60000, new Date(t0.getTime() + 61000)), { kind: 'claimed' });
    await claims.finish('run-a', 'completed');
    assert.deepEqual(await claims.claim('run-a', 'worker-3', 60000, new Date(t0.getTime() + 3600000)), { kind: 'finished', status: 'completed' });
    await db.destroy();
  });
});

describe('ReliablePublisher', () => {
  it('keeps a message the bus refuses in the outbox and sends it, in order, once the bus is back', async () => {
    const db = await inMemoryDatabase([]);
    const sent: Array<{ topic: string; m: OutgoingMessage }> = [];
    let busUp = false;
    class FlakyBus extends EventPublisher {
      async publish(topic: string, messages: OutgoingMessage[]) {
        if (!busUp) throw new Error('broker unreachable');
        for (const m of messages) sent.push({ topic, m });
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
    assert.deepEqual(sent.map((s) => [s.topic, s.m.key, s.m.value]), [
      ['sync.run.started.v1', 'r1', { n: 1 }],
      ['sync.run.completed.v1', 'r1', { n: 2 }],
    ]);
    assert.equal(await db.getRepository(OutboxMessage).count(), 0);
    await db.destroy();
  });
});
