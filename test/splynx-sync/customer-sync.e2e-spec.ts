import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deadLetterTopic, SPLYNX_CUSTOMERS, Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

const CUSTOMERS = 1234;
const HTTP_RETRIES = 2;

interface Row {
  splynx_id: number;
  login: string | null;
  name: string;
  email: string | null;
  phone: string | null;
  status: string;
  category: string | null;
  billing_type: string | null;
  partner_id: number | null;
  location_id: number | null;
  date_add: Date | string | null;
  raw: string;
  content_hash: string;
  synced_at: Date;
  active: number;
}

/** mysql2 reads a DATE column as a Date at midnight UTC (the hub's connections use timezone Z). */
const dateOnly = (d: Date | string | null) => (d instanceof Date ? d.toISOString().slice(0, 10) : d);

describe('splynx-sync in the distributed mode (real Kafka, MariaDB, simulator over HTTP)', () => {
  let db: TestDatabase;
  let simulator: SplynxSimulator;
  let app: AppProcess;
  const probe = new KafkaProbe();
  const runTopics = [Topic.RunStarted, Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped];

  const rows = async (): Promise<Row[]> => db.dataSource.query('SELECT * FROM splynx_customers ORDER BY splynx_id');

  const runTick = async (params?: Record<string, unknown>, job: 'customers' | 'customers.full' = 'customers') => {
    const t = tick('splynx', job, params ? { params } : {});
    await probe.produce(Topic.SplynxRequested, t.key, t.value);
    const finished = await probe.waitForRunEnd(t.value.runId!);
    return { runId: t.value.runId!, event: finished };
  };

  before(async () => {
    db = await createTestDatabase('splynx_e2e');
    simulator = new SplynxSimulator({ customers: CUSTOMERS, seed: 7 });
    const splynxUrl = await simulator.start();
    app = await startAppProcess(
      'splynx-sync',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        // From the end of its topic: on a broker other suites used, the default group would resume where another
        // suite's splynx-sync stopped, and run what it left behind here.
        KAFKA_GROUP_ID: await freshGroup('splynx-e2e', [Topic.SplynxRequested]),
        DATABASE_URL: db.url,
        SPLYNX_URL: splynxUrl,
        SPLYNX_API_KEY: simulator.apiKey,
        SPLYNX_API_SECRET: simulator.apiSecret,
        SPLYNX_PAGE_SIZE: '500',
        HTTP_RETRIES: String(HTTP_RETRIES),
        HTTP_RETRY_BASE_DELAY_MS: '20',
      },
      'splynx-sync-e2e',
    );
    await probe.watch([
      ...runTopics,
      Topic.SplynxRequested,
      deadLetterTopic(Topic.SplynxRequested),
      Topic.SplynxCustomerChanged,
    ]);
  });

  after(async () => {
    await app?.stop();
    await probe.close();
    await simulator?.stop();
    await db?.drop();
  });

  it('1. a tick yields rows equal to the simulator data and a completed event read by an independent consumer', async () => {
    const { runId, event } = await runTick();
    assert.equal(event.topic, Topic.RunCompleted, `run ended ${event.topic}: ${event.value}`);
    assert.equal(event.key, runId);
    assert.deepEqual(event.json.payload.stats, {
      fetched: CUSTOMERS,
      created: CUSTOMERS,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
      deactivated: 0,
    });
    assert.equal(probe.forRun(Topic.RunStarted, runId).length, 1, 'one started event');

    const stored = await rows();
    assert.equal(stored.length, CUSTOMERS);
    for (const row of stored) {
      const source = simulator.customer(row.splynx_id)!;
      assert.ok(source, `customer ${row.splynx_id} exists upstream`);
      assert.deepEqual(
        [
          row.login,
          row.name,
          row.email,
          row.phone,
          row.status,
          row.category,
          row.billing_type,
          row.partner_id,
          row.location_id,
          row.active,
        ],
        [
          source.login,
          source.name,
          source.email,
          source.phone,
          source.status,
          source.category,
          source.billing_type,
          Number(source.partner_id),
          Number(source.location_id),
          1,
        ],
        `row ${row.splynx_id} mirrors Splynx`,
      );
      assert.deepEqual(JSON.parse(row.raw), source, `raw record of ${row.splynx_id}`);
    }

    // One created event per customer on the broker, each carrying its stored row (read apart from the run's end).
    await eventually(
      () => (probe.forRun(Topic.SplynxCustomerChanged, runId).length >= CUSTOMERS ? true : undefined),
      'the change events',
      30000,
      100,
    );
    const changes = probe.forRun(Topic.SplynxCustomerChanged, runId);
    assert.equal(changes.length, CUSTOMERS);
    const byId = new Map(stored.map((r) => [String(r.splynx_id), r]));
    for (const m of changes) {
      const { changeType, id, record, changedFields } = m.json.payload;
      assert.equal(m.key, id);
      assert.equal(changeType, 'created');
      assert.equal(changedFields.length, 13);
      const row = byId.get(id)!;
      assert.deepEqual(
        [record.splynxId, record.name, record.email, record.partnerId, record.dateAdd, record.active],
        [row.splynx_id, row.name, row.email, row.partner_id, dateOnly(row.date_add), true],
      );
    }
    assert.equal(new Set(changes.map((m) => m.key)).size, CUSTOMERS, 'one per customer');
  });

  it('2. after 10 changes and 5 removals upstream, the next full run reports updated=10, deactivated=5 and nothing else changes', async () => {
    const before = new Map((await rows()).map((r) => [r.splynx_id, r]));
    const { changed, removed } = simulator.mutate({ change: 10, remove: 5 });
    assert.equal(changed.length, 10);
    assert.equal(removed.length, 5);

    const { event, runId } = await runTick(undefined, 'customers.full');
    assert.equal(event.topic, Topic.RunCompleted, event.value);
    // Ten updated, five deactivated; the unchanged send nothing (MariaDB's dates read back equal to what was written).
    await eventually(
      () => (probe.forRun(Topic.SplynxCustomerChanged, runId).length >= 15 ? true : undefined),
      'the change events',
      30000,
      100,
    );
    const changes = probe.forRun(Topic.SplynxCustomerChanged, runId).map((m) => m.json.payload);
    assert.deepEqual(
      changes
        .filter((c) => c.changeType === 'updated')
        .map((c) => Number(c.id))
        .sort((a, b) => a - b),
      [...changed].sort((a, b) => a - b),
    );
    assert.deepEqual(
      changes
        .filter((c) => c.changeType === 'deactivated')
        .map((c) => Number(c.id))
        .sort((a, b) => a - b),
      [...removed].sort((a, b) => a - b),
    );
    assert.equal(changes.length, 15);
    for (const c of changes) {
      if (c.changeType === 'deactivated') assert.deepEqual(c.changedFields, ['active']);
      else assert.ok(c.changedFields.includes('lastUpdate') && !c.changedFields.includes('dateAdd'), c.changedFields);
    }
    assert.deepEqual(event.json.payload.stats, {
      fetched: CUSTOMERS - 5,
      created: 0,
      updated: 10,
      unchanged: CUSTOMERS - 15,
      skipped: 0,
      failed: 0,
      deactivated: 5,
    });

    const afterRows = await rows();
    assert.equal(afterRows.length, CUSTOMERS, 'nothing is deleted');
    const touched = new Set([...changed, ...removed]);
    for (const row of afterRows) {
      const prior = before.get(row.splynx_id)!;
      if (removed.includes(row.splynx_id)) {
        assert.equal(row.active, 0, `removed customer ${row.splynx_id} is inactive`);
        assert.equal(row.content_hash, prior.content_hash);
      } else if (changed.includes(row.splynx_id)) {
        assert.notEqual(row.content_hash, prior.content_hash, `changed customer ${row.splynx_id} is rewritten`);
        assert.deepEqual(JSON.parse(row.raw), simulator.customer(row.splynx_id));
      } else {
        assert.ok(!touched.has(row.splynx_id));
        const { sync_generation: mark, ...rest } = row as Row & { sync_generation: string };
        const { sync_generation: priorMark, ...priorRest } = prior as Row & { sync_generation: string };
        assert.deepEqual(rest, priorRest, `customer ${row.splynx_id} is untouched, synced_at included`);
        assert.ok(Number(mark) > Number(priorMark), `customer ${row.splynx_id} carries the full run's mark`);
      }
    }
  });

  it('3. with every upstream call failing 500, the run fails after the retries as a retriable source error and no row changes', async () => {
    const before = await rows();
    const listRequestsBefore = simulator.requestCount('GET /api/2.0/admin/customers/customer');
    simulator.setFaults({ errorRate: 1 });
    try {
      const { event } = await runTick();
      assert.equal(event.topic, Topic.RunFailed, event.value);
      const error = event.json.payload.error;
      assert.equal(error.origin, 'source');
      assert.equal(error.retriable, true);
      assert.equal(error.code, 'UPSTREAM_UNAVAILABLE');
      assert.match(error.message, /500/);
      assert.equal(
        simulator.requestCount('GET /api/2.0/admin/customers/customer') - listRequestsBefore,
        (1 + HTTP_RETRIES) * (1 + SPLYNX_CUSTOMERS.retries),
        'each try of the run (the job allows SPLYNX_CUSTOMERS.retries more) asks for the first page once plus the HTTP retries',
      );
    } finally {
      simulator.clearFaults();
    }
    assert.deepEqual(await rows(), before, 'no existing row changed');
  });

  it('4. invalid messages land on the .dlq topic and the consumer goes on to the next valid tick', async () => {
    const dlq = deadLetterTopic(Topic.SplynxRequested);
    await probe.produce(Topic.SplynxRequested, '1:splynx:customers', 'this is not json');
    const wrongJob = tick('splynx', 'customers');
    (wrongJob.value.payload as { job: string }).job = 'invoices';
    await probe.produce(Topic.SplynxRequested, wrongJob.key, wrongJob.value);

    const { event } = await runTick();
    assert.equal(event.topic, Topic.RunCompleted, 'the next valid tick is processed');

    const notJson = await probe.waitFor(dlq, (m) => m.value === 'this is not json', 'the non-JSON message on the DLQ');
    assert.match(notJson.headers.error, /must be a JSON object envelope/);
    assert.equal(notJson.headers.attempts, '0');
    assert.equal(notJson.headers.originalTopic, Topic.SplynxRequested);
    const badJob = await probe.waitFor(
      dlq,
      (m) => m.json?.payload?.runId === wrongJob.value.runId,
      'the wrong-job message on the DLQ',
    );
    assert.match(badJob.headers.error, /payload\.job: job must be one of customers, customers\.full, ping/);
    assert.equal(badJob.key, wrongJob.key, 'the DLQ keeps the original key');
    assert.equal(probe.forRun(Topic.RunStarted, wrongJob.value.runId!).length, 0, 'an invalid tick never starts a run');
  });

  it('5. the same tick published twice executes once', async () => {
    const twice = tick('splynx', 'customers');
    await probe.produce(Topic.SplynxRequested, twice.key, twice.value);
    await probe.produce(Topic.SplynxRequested, twice.key, {
      ...twice.value,
      id: '9c3bd9a5-3c1e-4f5a-8f3e-0a6f3c2a1b7d',
    });
    const end = await probe.waitForRunEnd(twice.value.runId!);
    assert.equal(end.topic, Topic.RunCompleted);
    // Same key, same partition: once this later tick ends, both copies above have been consumed.
    const { event } = await runTick();
    assert.equal(event.topic, Topic.RunCompleted);
    assert.equal(probe.forRun(Topic.RunStarted, twice.value.runId!).length, 1, 'started once');
    assert.equal(probe.forRun(Topic.RunCompleted, twice.value.runId!).length, 1, 'completed once');
    assert.equal(
      probe.forRun(Topic.RunSkipped, twice.value.runId!).length,
      0,
      'the copy is not reported as a skipped run',
    );
    const claims = await db.dataSource.query('SELECT status FROM run_claims WHERE run_id = ?', [twice.value.runId]);
    assert.deepEqual(claims, [{ status: 'completed' }]);
  });

  it('6. the hourly run reads only the customers changed since the watermark; the daily full run is what deactivates', async () => {
    const { changed, removed, added } = simulator.mutate({ change: 7, remove: 2, add: 3 });
    const requestsBefore = simulator.requestCount('GET /api/2.0/admin/customers/customer');
    const { event } = await runTick();
    assert.equal(event.topic, Topic.RunCompleted, event.value);
    const stats = event.json.payload.stats;
    assert.equal(stats.created, 3);
    assert.equal(stats.updated, 7);
    assert.equal(stats.deactivated, 0);
    // The overlap (5 minutes) also re-reads the 10 customers test 2 changed a moment ago, unchanged since.
    assert.equal(stats.fetched, 10 + stats.unchanged);
    assert.ok(stats.unchanged <= 12, `unchanged ${stats.unchanged}: only what the overlap re-reads`);
    assert.equal(
      simulator.requestCount('GET /api/2.0/admin/customers/customer') - requestsBefore,
      1,
      'one page of 500 holds every change',
    );
    const [cursor] = await db.dataSource.query(`SELECT position FROM sync_cursors WHERE stream = 'splynx.customers'`);
    assert.ok(cursor, 'the watermark is stored');
    const byId = new Map((await rows()).map((r) => [r.splynx_id, r]));
    for (const id of [...changed, ...added]) assert.deepEqual(JSON.parse(byId.get(id)!.raw), simulator.customer(id));
    for (const id of removed) assert.equal(byId.get(id)!.active, 1, 'still active until the full run');

    const full = await runTick(undefined, 'customers.full');
    assert.equal(full.event.json.payload.stats.deactivated, 2);
    const afterFull = new Map((await rows()).map((r) => [r.splynx_id, r]));
    for (const id of removed) assert.equal(afterFull.get(id)!.active, 0);
  });
});
