import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { DownstreamConsumer, waitForCopy } from '../support/downstream-consumer';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

const CUSTOMERS = 900;

/**
 * Issue 16: examples/downstream-consumer, a standalone program that knows the hub only by its AsyncAPI document, keeps
 * a copy of Splynx customers from `splynx.customer.changed.v1` beside a real sync (Kafka, MariaDB, the simulator over
 * HTTP); its copy must equal the database after creations, updates and deactivations, and a consumer that starts late
 * must build the same copy from the compacted topic.
 */
describe('examples/downstream-consumer beside a Splynx sync (real Kafka and MariaDB)', () => {
  let db: TestDatabase;
  let simulator: SplynxSimulator;
  let app: AppProcess;
  const consumers: DownstreamConsumer[] = [];
  const probe = new KafkaProbe();
  const runs = new Set<string>();

  const rows = async (): Promise<Array<Record<string, any>>> =>
    db.dataSource.query('SELECT * FROM splynx_customers ORDER BY splynx_id');
  const fullSync = async () => {
    const t = tick('splynx', 'customers.full');
    runs.add(t.value.payload.runId);
    await probe.produce(Topic.SplynxRequested, t.key, t.value);
    const end = await probe.waitForRunEnd(t.value.payload.runId);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    return { runId: t.value.payload.runId, stats: end.json.payload.stats };
  };
  /** The run's change events as the probe reads them (their topic is read apart from the run's end): exactly `n`. */
  const events = async (runId: string, n: number) => {
    await eventually(
      () => (probe.forRun(Topic.SplynxCustomerChanged, runId).length >= n ? true : undefined),
      `${n} change events of the run`,
      30000,
      100,
    );
    assert.equal(probe.forRun(Topic.SplynxCustomerChanged, runId).length, n);
  };
  const matches = async (consumer: DownstreamConsumer) => waitForCopy(consumer, await rows(), runs, 60000);

  before(async () => {
    db = await createTestDatabase('downstream_e2e');
    simulator = new SplynxSimulator({ customers: CUSTOMERS, seed: 161 });
    app = await startAppProcess(
      'splynx-sync',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        KAFKA_GROUP_ID: await freshGroup('downstream-e2e', [Topic.SplynxRequested]),
        DATABASE_URL: db.url,
        SPLYNX_URL: await simulator.start(),
        SPLYNX_API_KEY: simulator.apiKey,
        SPLYNX_API_SECRET: simulator.apiSecret,
        SPLYNX_PAGE_SIZE: '200',
      },
      'downstream-e2e-splynx-sync',
    );
    await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped, Topic.SplynxCustomerChanged]);
    consumers.push(DownstreamConsumer.start(TEST_KAFKA_BROKERS, `downstream-e2e-${Date.now()}`));
  });

  after(async () => {
    for (const c of consumers) await c.stop();
    await app?.stop();
    await probe.close();
    await simulator?.stop();
    await db?.drop();
  });

  it('copies every customer a first sync creates', async () => {
    const { runId, stats } = await fullSync();
    assert.equal(stats.created, CUSTOMERS);
    await events(runId, CUSTOMERS);
    await matches(consumers[0]);
  });

  it('follows updates, creations and deactivations; a sync with nothing changed publishes nothing', async () => {
    simulator.mutate({ change: 25, remove: 10, add: 5 });
    const { runId, stats } = await fullSync();
    assert.deepEqual([stats.updated, stats.created, stats.deactivated], [25, 5, 10], JSON.stringify(stats));
    await events(runId, 40);
    await matches(consumers[0]);
    const copy = consumers[0].copy();
    assert.equal(Object.values(copy.customers).filter((c) => c.active === false).length >= 10, true);

    const quiet = await fullSync();
    assert.equal(quiet.stats.unchanged, CUSTOMERS - 5);
    // Sent before the run reports, but read from another topic than its end: a moment's grace before counting none.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(probe.forRun(Topic.SplynxCustomerChanged, quiet.runId).length, 0, 'nothing changed, nothing sent');
  });

  it('a consumer that starts late builds the same copy from the compacted topic', async () => {
    const late = DownstreamConsumer.start(TEST_KAFKA_BROKERS, `downstream-e2e-late-${Date.now()}`);
    consumers.push(late);
    await matches(late);
  });
});
