import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

const CUSTOMERS = 2000;
const PAGE_SIZE = 100; // 20 pages: the simulator's latency per request sets how long a run lasts
const LEASE_MS = 60000;

/**
 * Scenario 8 of issue 14: SIGTERM during a run. splynx-sync runs as its own process on the faults suite's broker and
 * MariaDB, against a Splynx simulator slowed down so a run lasts. Times are measured in this process: from the moment
 * it sends SIGTERM to the child's `exit` event, and between the run events' own timestamps.
 */
describe('graceful shutdown: SIGTERM during a run (issue 14, scenario 8)', () => {
  let db: TestDatabase;
  let simulator: SplynxSimulator;
  let splynxUrl: string;
  let group: string;
  const probe = new KafkaProbe();
  const apps: AppProcess[] = [];

  const startSplynxSync = async (label: string, env: Record<string, string> = {}): Promise<AppProcess> => {
    const app = await startAppProcess(
      'splynx-sync',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        KAFKA_GROUP_ID: group,
        DATABASE_URL: db.url,
        SPLYNX_URL: splynxUrl,
        SPLYNX_API_KEY: simulator.apiKey,
        SPLYNX_API_SECRET: simulator.apiSecret,
        SPLYNX_PAGE_SIZE: String(PAGE_SIZE),
        ...env,
      },
      label,
    );
    apps.push(app);
    return app;
  };

  /** SIGTERM, then the exit code and the time from the signal to the exit. */
  const terminate = (app: AppProcess): Promise<{ code: number | null; ms: number }> =>
    new Promise((resolve) => {
      const sent = Date.now();
      app.child.once('exit', (code) => resolve({ code, ms: Date.now() - sent }));
      app.child.kill('SIGTERM');
    });

  const startTick = async (overrides: Parameters<typeof tick>[2] = {}) => {
    // The full job: every run reads all customers (the hourly one would read only what changed since the last).
    const t = tick('splynx', 'customers.full', overrides);
    await probe.produce(Topic.SplynxRequested, t.key, t.value);
    return t.value.payload.runId;
  };

  const started = (runId: string) => probe.forRun(Topic.RunStarted, runId);
  const claimOf = async (runId: string) =>
    (
      await db.dataSource.query<Array<{ status: string }>>('SELECT status FROM run_claims WHERE run_id = ?', [runId])
    )[0];
  const storedCustomers = async () => {
    const [r] = await db.dataSource.query<Array<{ n: string; ids: string; active: string }>>(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT splynx_id) AS ids, SUM(active) AS active FROM splynx_customers',
    );
    return { rows: Number(r.n), distinct: Number(r.ids), active: Number(r.active) };
  };
  /** Waits until the run has written some rows: SIGTERM then lands in the middle of it. */
  const midRun = () =>
    eventually(async () => ((await storedCustomers()).rows >= 3 * PAGE_SIZE ? true : undefined), 'rows', 60000, 100);

  before(async () => {
    db = await createTestDatabase('faults_shutdown');
    simulator = new SplynxSimulator({ customers: CUSTOMERS, seed: 14 });
    splynxUrl = await simulator.start();
    group = await freshGroup('faults-shutdown', [Topic.SplynxRequested]);
    await probe.watch([Topic.RunStarted, Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
  });

  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await probe.close();
    await simulator?.stop();
    await db?.drop();
  });

  it('(a) a run that can finish inside the grace period completes, is recorded, takes no new tick, and the process exits 0', async () => {
    simulator.setFaults({ latencyMs: 250 }); // about 5 s for the run
    const app = await startSplynxSync('faults-shutdown-a');
    const runId = await startTick();
    await midRun();
    const exit = terminate(app);
    // Sent after SIGTERM: the stopping process must not take it. Its deadline passes before anyone else could.
    const late = await startTick({ deadline: new Date(Date.now() + 3000).toISOString() });
    const { code, ms } = await exit;
    console.log(`(a) SIGTERM mid-run → exit ${code} after ${ms} ms (grace 25 s)`);

    assert.equal(code, 0);
    const end = await probe.waitForRunEnd(runId, 10000);
    assert.equal(end.topic, Topic.RunCompleted, `the run ended ${end.topic}: ${end.value}`);
    assert.equal(end.json.payload.stats.fetched, CUSTOMERS);
    assert.equal(end.json.payload.stats.created, CUSTOMERS);
    assert.equal((await claimOf(runId)).status, 'completed');
    assert.deepEqual(await storedCustomers(), { rows: CUSTOMERS, distinct: CUSTOMERS, active: CUSTOMERS });
    assert.equal(started(late).length, 0, 'the tick sent after SIGTERM was not taken by the stopping process');
    assert.equal(await claimOf(late), undefined, 'nor claimed');
    const log = fs.readFileSync(app.logFile, 'utf8');
    assert.doesNotMatch(log, /client is destroyed|UPSTREAM_UNREACHABLE/);
  });

  it('(b) a run that cannot finish in time is recorded INTERRUPTED and taken over by another replica at once; every record once', async () => {
    await db.dataSource.query('DELETE FROM splynx_customers');
    simulator.setFaults({ latencyMs: 1500 }); // about 30 s for the run
    const first = await startSplynxSync('faults-shutdown-b1', { SHUTDOWN_GRACE_MS: '2000' });
    const runId = await startTick();
    await eventually(() => (started(runId).length === 1 ? true : undefined), 'the run to start', 30000);
    // The second replica joins while the first runs (the run is detached from the bus: the rebalance leaves it be).
    const second = await startSplynxSync('faults-shutdown-b2');
    await midRun();
    const before = (await storedCustomers()).rows;
    const sigterm = Date.now();
    const { code, ms } = await terminate(first);
    assert.equal(code, 0);

    const failed = await probe.waitFor(Topic.RunFailed, (m) => m.json?.payload?.runId === runId, 'failed', 5000);
    assert.deepEqual(
      [failed.json.payload.error.origin, failed.json.payload.error.code, failed.json.payload.error.retriable],
      ['internal', 'INTERRUPTED', true],
    );
    const interruptedAt = new Date(failed.json.payload.finishedAt).getTime();
    simulator.setFaults({ latencyMs: 0 }); // the takeover may run at full speed
    const takeover = await eventually(() => started(runId)[1], 'the takeover', LEASE_MS);
    const takenOverAt = new Date(takeover.json.payload.startedAt).getTime();
    const end = await probe.waitForRunEnd(runId, 60000, takeover.json.occurredAt);
    console.log(
      `(b) SIGTERM → interrupted after ${interruptedAt - sigterm} ms (grace 2 s), exit 0 after ${ms} ms; ` +
        `interrupted → taken over after ${takenOverAt - interruptedAt} ms (lease ${LEASE_MS / 1000} s); ` +
        `rows before the takeover ${before}, after ${CUSTOMERS}`,
    );

    assert.ok(takenOverAt - interruptedAt < 10000, 'taken over at once, well before the lease would expire');
    assert.equal(end.topic, Topic.RunCompleted, `the takeover ended ${end.topic}: ${end.value}`);
    const stats = end.json.payload.stats;
    assert.equal(stats.fetched, CUSTOMERS);
    assert.equal(stats.created + stats.unchanged, CUSTOMERS, 'what the first wrote is unchanged, the rest created');
    assert.equal(stats.deactivated, 0);
    assert.equal(probe.forRun(Topic.RunCompleted, runId).length, 1);
    assert.equal((await claimOf(runId)).status, 'completed');
    assert.deepEqual(await storedCustomers(), { rows: CUSTOMERS, distinct: CUSTOMERS, active: CUSTOMERS });
    assert.match(fs.readFileSync(second.logFile, 'utf8'), new RegExp(`taking over running run ${runId}`));
  });

  it('(c) an idle process exits 0 in under 2 s', async () => {
    const idle = apps.find((a) => a.child.exitCode === null && a.child.signalCode === null)!;
    const { code, ms } = await terminate(idle);
    console.log(`(c) idle SIGTERM → exit ${code} after ${ms} ms`);
    assert.equal(code, 0);
    assert.ok(ms < 2000, `took ${ms} ms`);
  });
});
