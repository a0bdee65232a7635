import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { pauseBroker, resumeBroker } from '../support/broker';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe, SeenMessage } from '../support/kafka';
import { eventually } from '../support/wait';

const API_KEY = 'faults-broker-outage-key-0123456789';
const HOUR = 3_600_000;
const OUTAGE_MS = 30_000;
/** Hourly steps the scheduler takes while the broker is down. */
const SLOTS_IN_OUTAGE = 3;
const RUN_TOPICS = [Topic.RunStarted, Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped];
const ENDS: string[] = [Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped];

interface Ready {
  status: number;
  body: {
    status: string;
    info?: Record<string, unknown>;
    error?: Record<string, { status: string; message?: string }>;
  };
}

async function ready(app: AppProcess): Promise<Ready> {
  const res = await fetch(`${app.url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Ready['body'] };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Scenario 2 of the fault suite: the broker is killed for 30 s (its data kept) and started again, under the scheduler,
 * a sync app and the gateway as real processes on MariaDB. Nothing crashes, readiness names the bus while it is gone
 * and recovers alone, a manual run is refused at once (503), the ticks decided meanwhile go out once each when the
 * broker is back, their runs end once, and a manual run afterwards works.
 */
describe('broker down 30 s (scheduler, splynx-sync, gateway; a real broker killed and restarted, MariaDB)', () => {
  let db: TestDatabase;
  let scheduler: AppProcess;
  let splynx: AppProcess;
  let gateway: AppProcess;
  const simulator = new SplynxSimulator({ customers: 150, seed: 14 });
  const probe = new KafkaProbe();
  /** Reads, after the outage, every topic the outbox held messages for. */
  const counter = new KafkaProbe();
  // Slots an hour apart from the next real hour: their deadlines are in the real future, so the runs are not stale.
  const clockStart = new Date(Math.ceil(Date.now() / HOUR) * HOUR + 30_000);
  const apps = () => [scheduler, splynx, gateway];

  const clock = async (body: object) => {
    const res = await fetch(`${scheduler.url}/__clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { now: string; leader: boolean; ticks: number };
  };
  const manualRun = (signal?: AbortSignal) =>
    fetch(`${gateway.url}/api/syncs/splynx/customers.full/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{}',
      signal,
    });
  /** This suite's scheduled Splynx ticks (the probe reads the topic from the beginning). */
  const scheduledTicks = (): SeenMessage[] =>
    probe.messages(Topic.SplynxRequested, (m) => m.json?.payload?.trigger === 'schedule');

  before(async () => {
    db = await createTestDatabase('broker_outage');
    const splynxUrl = await simulator.start();
    await probe.watch([Topic.SplynxRequested, ...RUN_TOPICS]);
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url, GATEWAY_API_KEYS: API_KEY };
    scheduler = await startAppProcess(
      'scheduler',
      {
        ...common,
        SCHEDULER_CLOCK: 'manual',
        SCHEDULER_CLOCK_START: clockStart.toISOString(),
        SCHEDULER_RUN_ON_START: 'none',
      },
      'broker-outage-scheduler',
    );
    splynx = await startAppProcess(
      'splynx-sync',
      {
        ...common,
        KAFKA_GROUP_ID: await freshGroup('broker-outage', [Topic.SplynxRequested]),
        SPLYNX_URL: splynxUrl,
        SPLYNX_API_KEY: simulator.apiKey,
        SPLYNX_API_SECRET: simulator.apiSecret,
      },
      'broker-outage-splynx-sync',
    );
    gateway = await startAppProcess('gateway', { ...common, SCHEDULER_URL: scheduler.url }, 'broker-outage-gateway');
  });

  after(async () => {
    // The broker is back even if an assertion failed mid-outage: the next suite needs it.
    await resumeBroker().catch(() => undefined);
    await Promise.all([gateway?.stop(), splynx?.stop(), scheduler?.stop()]);
    await probe.close();
    await counter.close();
    await simulator.stop();
    await db?.drop();
  });

  it('nothing crashes; readiness names the bus and recovers; ticks decided meanwhile go out once; manual runs work after', async () => {
    // Preconditions, not the test: on a slow machine the scheduler may take its lease, and a consumer join its group,
    // a moment after its process first answered ready.
    await eventually(async () => ((await clock({})).leader ? true : undefined), 'the scheduler to lead', 30_000, 250);
    for (const app of apps())
      await eventually(
        async () => ((await ready(app)).status === 200 ? true : undefined),
        `${app.logFile}: ready before the outage`,
        30_000,
        250,
      );

    await pauseBroker();
    const downAt = Date.now();

    // Readiness: 503 naming the bus, in every app, within seconds.
    for (const app of apps()) {
      const down = await eventually(
        async () => ((r) => (r.status === 503 ? r : undefined))(await ready(app)),
        `${app.logFile}: readiness 503 without the broker`,
        15_000,
        250,
      );
      assert.equal(down.body.error?.bus?.status, 'down', JSON.stringify(down.body));
      assert.match(down.body.error?.bus?.message ?? '', /cannot reach the broker/);
      assert.equal(down.body.error?.database, undefined, 'only the bus is down');
    }
    const unreadyAfterMs = Date.now() - downAt;

    // A manual run is refused at once, saying why, rather than hanging on the producer's retries.
    const postedAt = Date.now();
    const refused = await manualRun(AbortSignal.timeout(10_000));
    const refusedInMs = Date.now() - postedAt;
    assert.equal(refused.status, 503, await refused.clone().text());
    assert.match(((await refused.json()) as { message: string }).message, /bus is down/);
    assert.ok(refusedInMs < 5000, `refused in ${refusedInMs} ms`);

    // The scheduler decides three hourly slots while the broker is down: each step answers (the ticks wait in the outbox).
    const decided: number[] = [];
    for (let i = 0; i < SLOTS_IN_OUTAGE; i++) {
      const stepAt = Date.now();
      const step = await clock({ advance_minutes: 60 });
      decided.push(step.ticks);
      assert.ok(Date.now() - stepAt < 10_000, `a step during the outage took ${Date.now() - stepAt} ms`);
    }
    assert.ok(
      decided.some((n) => n >= 1),
      `the steps ticked: ${decided.join(', ')}`,
    );
    // What the outbox holds now: the envelope of every message decided while the broker was away (a row of many
    // messages, as the scheduler's step writes them, holds one `key<TAB>json` line per message).
    const held = (
      await db.dataSource.query<Array<{ topic: string; value: string; count: number | string }>>(
        'SELECT topic, value, message_count AS count FROM outbox_messages ORDER BY id',
      )
    ).flatMap((r) =>
      (Number(r.count) === 1 ? [r.value] : r.value.split('\n').map((line) => line.slice(line.indexOf('\t') + 1))).map(
        (json) => ({ topic: r.topic, id: (JSON.parse(json) as { id: string }).id }),
      ),
    );
    const waiting = held.length;
    const heldTicks = held.filter((h) => h.topic === Topic.SplynxRequested);
    assert.ok(heldTicks.length >= 1, `Splynx ticks wait in the outbox: ${JSON.stringify(held)}`);
    assert.ok(
      probe.messages(Topic.SplynxRequested, (m) => heldTicks.some((h) => h.id === m.json?.id)).length === 0,
      'nothing of it was sent during the outage',
    );

    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
    for (const app of apps()) assert.equal(app.child.exitCode, null, `${app.logFile}: alive through the outage`);
    await resumeBroker();
    const upAt = Date.now();
    const outageMs = upAt - downAt;

    // The outbox drains (timed alongside readiness); every message it held is on its topic exactly once (counted by
    // envelope id, by a reader of its own from the beginning of each topic).
    const drained = eventually(
      async () =>
        Number((await db.dataSource.query<Array<{ n: string }>>('SELECT COUNT(*) AS n FROM outbox_messages'))[0].n) ===
          0 || undefined,
      'the outbox to drain',
      90_000,
      250,
    ).then(() => Date.now() - upAt);

    // Readiness recovers alone, in every app (a consumer once it has rejoined its group).
    for (const app of apps())
      await eventually(
        async () => ((await ready(app)).status === 200 ? true : undefined),
        `${app.logFile}: readiness 200 after the broker is back`,
        60_000,
        250,
      );
    const readyAgainMs = Date.now() - upAt;

    const drainedMs = await drained;
    await counter.watch([...new Set(held.map((h) => h.topic))]);
    const copies = (h: { topic: string; id: string }) => counter.messages(h.topic, (m) => m.json?.id === h.id).length;
    await eventually(() => (held.every((h) => copies(h) >= 1) ? true : undefined), 'every held message on the bus');
    // A few seconds for any late copy (a retried send) to show up before counting.
    await new Promise((r) => setTimeout(r, 5000));
    assert.deepEqual(
      held.filter((h) => copies(h) !== 1).map((h) => ({ ...h, copies: copies(h) })),
      [],
      'each message the outbox held is published exactly once',
    );
    const ticks = await eventually(() => {
      const seen = scheduledTicks().filter((t) => heldTicks.some((h) => h.id === t.json.id));
      return seen.length === heldTicks.length ? seen : undefined;
    }, 'the suite reader to see the ticks');

    // Each of their runs ends exactly once (the first runs; the others may meet its lease and be skipped).
    for (const t of ticks) {
      const runId = t.json.payload.runId as string;
      const end = await probe.waitForRunEnd(runId, 90_000);
      assert.ok(ENDS.includes(end.topic));
      await new Promise((r) => setTimeout(r, 200));
      const ends = ENDS.flatMap((topic) => probe.forRun(topic, runId));
      assert.equal(ends.length, 1, `run ${runId} ended once: ${ends.map((e) => e.topic).join(', ')}`);
    }
    assert.ok(
      ticks.some((t) => probe.forRun(Topic.RunCompleted, t.json.payload.runId).length === 1),
      'a scheduled run completed',
    );

    // A manual run after recovery, without restarting anything.
    const runs = await eventually(
      async () => {
        // The previous runs' leases may still be held: a run that is skipped as overlap is retried.
        const res = await manualRun();
        assert.equal(res.status, 202, await res.clone().text());
        const { run_id } = (await res.json()) as { run_id: string };
        const end = await probe.waitForRunEnd(run_id, 60_000);
        return end.topic === Topic.RunCompleted ? end : undefined;
      },
      'a manual run to complete after recovery',
      90_000,
      2000,
    );
    assert.equal(runs.json.payload.stats.fetched, 150);

    for (const app of apps()) assert.equal(app.child.exitCode, null, `${app.logFile}: still running`);

    // kafkajs's own lines (its retries while the broker was gone) are in the app's JSON shape, with the app's name:
    // none in kafkajs's default shape (`"logger":"kafkajs"`, no app).
    for (const app of apps()) {
      const lines = fs
        .readFileSync(app.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('kafkajs'));
      const parsed = lines.map((l) => {
        assert.doesNotThrow(() => JSON.parse(l), `${app.logFile}: not JSON: ${l}`);
        return JSON.parse(l) as Record<string, unknown>;
      });
      const kafkajs = parsed.filter((l) => l.context === 'kafkajs');
      assert.ok(kafkajs.length > 0, `${app.logFile}: kafkajs logged the outage through the app logger`);
      for (const l of parsed) {
        assert.equal(l.logger, undefined, `kafkajs's own shape: ${JSON.stringify(l)}`);
        assert.equal(typeof l.app, 'string', JSON.stringify(l));
        assert.equal(typeof l.msg, 'string', JSON.stringify(l));
        assert.equal(typeof l.level, 'number', JSON.stringify(l));
      }
    }

    console.log(
      `broker down ${seconds(outageMs)} (killed to accepting again); unready after ${seconds(unreadyAfterMs)}; manual run refused in ${refusedInMs} ms; ` +
        `ready again ${seconds(readyAgainMs)} after the broker; outbox drained ${seconds(drainedMs)} after it ` +
        `(${waiting} messages, ${heldTicks.length} Splynx tick(s), each sent once)`,
    );
  });
});
