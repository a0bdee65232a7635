import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { pauseBroker, resumeBroker } from '../support/broker';
import { createTestDatabase, TestDatabase } from '../support/database';
import { DownstreamConsumer, waitForCopy } from '../support/downstream-consumer';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

const CUSTOMERS = 600;
const PAGE = 50;

/**
 * Issue 16: a sync process killed (SIGKILL) after its pages committed and before their change events were sent. The
 * broker is taken away while a full sync runs, so every page's events stay in the outbox, committed with the page; the
 * process is then killed, the broker comes back, and the process is started again. Its outbox flush sends what the
 * dead process left: the downstream consumer's copy equals the database, and an event sent more than once carries the
 * same state each time (nothing twice in effect).
 */
describe('change events: SIGKILL between the page commit and the send (a real broker stopped and restarted, MariaDB)', () => {
  let db: TestDatabase;
  const apps: AppProcess[] = [];
  let consumer: DownstreamConsumer;
  const simulator = new SplynxSimulator({ customers: CUSTOMERS, seed: 162 });
  const probe = new KafkaProbe();
  const readers: KafkaProbe[] = [];
  const runs = new Set<string>();
  let env: Record<string, string>;

  const rows = async (): Promise<Array<Record<string, any>>> =>
    db.dataSource.query('SELECT * FROM splynx_customers ORDER BY splynx_id');
  const scalar = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number(Object.values((await db.dataSource.query(sql, params))[0] ?? { n: 0 })[0] ?? 0);
  const matches = async () => waitForCopy(consumer, await rows(), runs, 90000);
  const send = async () => {
    const t = tick('splynx', 'customers.full');
    runs.add(t.value.payload.runId);
    await probe.produce(Topic.SplynxRequested, t.key, t.value);
    return t.value.payload.runId;
  };

  before(async () => {
    db = await createTestDatabase('faults_change_events');
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      KAFKA_GROUP_ID: await freshGroup('faults-change-events', [Topic.SplynxRequested]),
      DATABASE_URL: db.url,
      SPLYNX_URL: await simulator.start(),
      SPLYNX_API_KEY: simulator.apiKey,
      SPLYNX_API_SECRET: simulator.apiSecret,
      SPLYNX_PAGE_SIZE: String(PAGE),
    };
    apps.push(await startAppProcess('splynx-sync', env, 'faults-change-events-splynx-sync'));
    await probe.watch([Topic.RunStarted, Topic.RunCompleted, Topic.RunFailed, Topic.SplynxCustomerChanged]);
    consumer = DownstreamConsumer.start(TEST_KAFKA_BROKERS, `faults-change-events-${Date.now()}`);
  });

  after(async () => {
    await resumeBroker().catch(() => undefined);
    await consumer?.stop();
    for (const app of apps) await app.stop().catch(() => undefined);
    await probe.close();
    for (const r of readers) await r.close();
    await simulator.stop();
    await db?.drop();
  });

  it('a first full sync: the copy equals the database', async () => {
    const runId = await send();
    const end = await probe.waitForRunEnd(runId);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    await matches();
  });

  it('the events of pages committed while the broker is gone survive a SIGKILL and go out after the restart', async () => {
    simulator.mutate({ change: 40, remove: 15, add: 10 });
    // Pages slow enough that the broker is gone before most of them are written.
    simulator.setFaults({ latencyMs: 250 });
    const runId = await send();
    await eventually(() => probe.forRun(Topic.RunStarted, runId)[0], 'the run to start', 60000, 50);
    await pauseBroker();
    // The run goes on without the bus: its pages commit with their events in the outbox, and it ends (its claim says
    // so in the database; its completed event waits in the outbox too).
    await eventually(
      async () =>
        (await scalar(`SELECT COUNT(*) AS n FROM run_claims WHERE run_id = ? AND status = 'completed'`, [runId])) === 1
          ? true
          : undefined,
      'the run to complete without the bus',
      120000,
      200,
    );
    const waiting = await scalar(`SELECT COALESCE(SUM(message_count), 0) AS n FROM outbox_messages WHERE topic = ?`, [
      Topic.SplynxCustomerChanged,
    ]);
    assert.ok(waiting > 0, 'change events committed and not sent');
    const [first] = apps;
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await exited;
    simulator.clearFaults();

    await resumeBroker();
    apps.push(
      await startAppProcess(
        'splynx-sync',
        { ...env, KAFKA_GROUP_ID: `${env.KAFKA_GROUP_ID}-restarted` },
        'faults-change-events-splynx-sync-restarted',
      ),
    );
    await matches();
    await eventually(
      async () => ((await scalar('SELECT COUNT(*) AS n FROM outbox_messages')) === 0 ? true : undefined),
      'the outbox to be empty',
      60000,
      250,
    );

    // Every change of the run reached the bus; one sent twice (a flush cut short) carries the same state both times.
    // Read by a probe started now, from the beginning: one that lived through the broker's stop may not have rejoined.
    const reader = new KafkaProbe();
    readers.push(reader);
    await reader.watch([Topic.SplynxCustomerChanged]);
    await eventually(
      () =>
        new Set(reader.forRun(Topic.SplynxCustomerChanged, runId).map((m) => m.key)).size >= 65 ? true : undefined,
      'the change events of the run read back',
      60000,
      200,
    );
    const events = reader.forRun(Topic.SplynxCustomerChanged, runId).map((m) => m.json.payload);
    const byId = new Map<string, string>();
    for (const e of events) {
      const state = JSON.stringify([e.changeType, e.changedFields, e.record]);
      assert.equal(byId.get(e.id) ?? state, state, `customer ${e.id} was published with two different states`);
      byId.set(e.id, state);
    }
    assert.equal(byId.size, 65, '40 updated, 10 created, 15 deactivated');
    assert.ok(events.length >= waiting, `${events.length} events seen, ${waiting} were waiting at the kill`);
  });
});
