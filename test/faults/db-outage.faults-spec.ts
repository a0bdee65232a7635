import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { deadLetterTopic, runEventMessage, Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe, SeenMessage } from '../support/kafka';
import { TcpProxy } from '../support/tcp-proxy';
import { tick } from '../support/ticks';
import { eventually, freePort } from '../support/wait';

const API_KEY = 'faults-db-outage-key-0123456789';
const OUTAGE_MS = 30_000;
/** The stale tick's deadline, after the cut: it is first handled while still due, and is past it once the database is back. */
const STALE_DEADLINE_AFTER_CUT_MS = 12_000;
const RUN_TOPICS = [Topic.RunStarted, Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped];
const ENDS: string[] = [Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped];
const DLQS = [Topic.SplynxRequested, ...RUN_TOPICS].map((t) => deadLetterTopic(t));

interface Ready {
  status: number;
  body: { status: string; error?: Record<string, { status: string; message?: string }> };
}

async function ready(app: AppProcess): Promise<Ready> {
  const res = await fetch(`${app.url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Ready['body'] };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The app's log lines (pino JSON) whose message matches. */
function logLines(app: AppProcess, pattern: RegExp): string[] {
  return fs
    .readFileSync(app.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      try {
        const { msg } = JSON.parse(l) as { msg?: unknown };
        return typeof msg === 'string' ? msg : '';
      } catch {
        return l;
      }
    })
    .filter((m) => pattern.test(m));
}

/**
 * Scenario 3 of the fault suite: MariaDB is taken away for 30 s by a TCP proxy between it and the apps (the scheduler,
 * splynx-sync with its simulator, the gateway, as real processes on the real broker). Readiness names the database while
 * it is gone and recovers alone; nothing crashes; the messages that arrive meanwhile wait in their partition instead
 * of going to a `.dlq`: a tick still due when the database is back runs once, one whose deadline passed meanwhile is
 * skipped `stale` once, a run event reaches the gateway's history once; a manual run afterwards works.
 */
describe('database unreachable 30 s (scheduler, splynx-sync, gateway through a TCP proxy to MariaDB; real broker)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let scheduler: AppProcess;
  let splynx: AppProcess;
  let gateway: AppProcess;
  const simulator = new SplynxSimulator({ customers: 150, seed: 3 });
  const probe = new KafkaProbe();
  const kafka = new Kafka({
    clientId: 'faults-db-outage',
    brokers: TEST_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const apps = () => [scheduler, splynx, gateway];

  const manualRun = () =>
    fetch(`${gateway.url}/api/syncs/splynx/customers.full/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(10_000),
    });
  const runRecord = async (runId: string) => {
    const res = await fetch(`${gateway.url}/api/runs/${runId}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    return res.status === 200 ? ((await res.json()) as { status: string; skip_reason: string | null }) : undefined;
  };
  /** Records of this suite's runs on any dead-letter topic (the suite's broker carries other files' letters too). */
  const deadLettersOf = (runIds: string[]): SeenMessage[] =>
    DLQS.flatMap((t) => probe.messages(t, (m) => runIds.some((id) => m.value.includes(id))));

  before(async () => {
    // Everything that does not depend on something else at once: the machine has two cores, and CI a time budget.
    const [database, splynxUrl, splynxGroup, gatewayGroup, schedulerPort] = await Promise.all([
      createTestDatabase('db_outage'),
      simulator.start(),
      freshGroup('db-outage', [Topic.SplynxRequested]),
      // Every topic the gateway reads starts now: an earlier file's schedule change left on the suite's broker would
      // otherwise be the gateway's message that waits out the outage, and hold back this file's run event behind it.
      freshGroup('db-outage-gw', [...RUN_TOPICS, Topic.ScheduleChanged, Topic.SettingChanged]),
      freePort(),
      probe.watch([Topic.SplynxRequested, ...RUN_TOPICS, ...DLQS]),
      producer.connect(),
    ]);
    db = database;
    proxy = await TcpProxy.start();
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: proxy.urlFor(db.url), GATEWAY_API_KEYS: API_KEY };
    [scheduler, splynx, gateway] = await Promise.all([
      startAppProcess(
        'scheduler',
        { ...common, PORT: String(schedulerPort), SCHEDULER_CLOCK: 'manual', SCHEDULER_RUN_ON_START: 'none' },
        'db-outage-scheduler',
      ),
      startAppProcess(
        'splynx-sync',
        {
          ...common,
          KAFKA_GROUP_ID: splynxGroup,
          SPLYNX_URL: splynxUrl,
          SPLYNX_API_KEY: simulator.apiKey,
          SPLYNX_API_SECRET: simulator.apiSecret,
        },
        'db-outage-splynx-sync',
      ),
      startAppProcess(
        'gateway',
        { ...common, KAFKA_GROUP_ID: gatewayGroup, SCHEDULER_URL: `http://127.0.0.1:${schedulerPort}` },
        'db-outage-gateway',
      ),
    ]);
  });

  after(async () => {
    // MariaDB is reachable again even if an assertion failed mid-outage: the apps stop cleanly.
    proxy?.restore();
    await Promise.all([gateway?.stop(), splynx?.stop(), scheduler?.stop()]);
    await producer.disconnect();
    await probe.close();
    await simulator.stop();
    await proxy?.close();
    await db?.drop();
  });

  it('readiness 503 naming the database, then 200 alone; nothing dead-lettered; due tick runs once, stale one skipped once', async () => {
    for (const app of apps()) assert.equal((await ready(app)).status, 200, `${app.logFile}: ready before the outage`);

    proxy.cut('reset');
    const cutAt = Date.now();

    // What arrives while the database is gone. A tick whose deadline passes during the outage: it is handled first,
    // while still due, and waits in its partition. With one broker kafkajs fetches nothing more until it is done, so
    // the manual run's tick posted next (the gateway publishes without the database) waits unfetched behind it.
    const stale = tick('splynx', 'customers', {
      companyId: 2,
      deadline: new Date(cutAt + STALE_DEADLINE_AFTER_CUT_MS).toISOString(),
    });
    const staleRunId = stale.value.payload.runId;
    await producer.send({
      topic: Topic.SplynxRequested,
      messages: [{ key: stale.key, value: JSON.stringify(stale.value) }],
    });
    const waiting = (id: string) => logLines(splynx, new RegExp(`message ${id} .*cannot be handled now`));
    await eventually(
      () => waiting(stale.value.id).length === 1 || undefined,
      'splynx-sync to wait out the outage with the tick',
      20_000,
      250,
    );
    const posted = await manualRun();
    assert.equal(posted.status, 202, await posted.clone().text());
    const dueRunId = ((await posted.json()) as { run_id: string }).run_id;
    const dueMessageId = (
      await probe.waitFor(Topic.SplynxRequested, (m) => m.json?.payload?.runId === dueRunId, 'the manual tick', 10_000)
    ).json.id as string;
    // A run event for the gateway's history, as a sync app publishes it.
    const event = runEventMessage(Topic.RunSkipped, tick('splynx', 'customers', { companyId: 3 }).value.payload, {
      startedAt: new Date(),
      skipReason: 'overlap',
    });
    const {
      id: eventMessageId,
      payload: { runId: eventRunId },
    } = event.value as { id: string; payload: { runId: string } };
    await producer.send({
      topic: Topic.RunSkipped,
      messages: [{ key: event.key, value: JSON.stringify(event.value) }],
    });

    // Readiness: 503 naming the database, in every app, within seconds; the bus is fine.
    const unready = await Promise.all(
      apps().map(async (app) => {
        const down = await eventually(
          async () => ((r) => (r.status === 503 ? r : undefined))(await ready(app)),
          `${app.logFile}: readiness 503 without the database`,
          15_000,
          250,
        );
        assert.equal(down.body.error?.database?.status, 'down', JSON.stringify(down.body));
        assert.equal(down.body.error?.bus, undefined, `only the database is down: ${JSON.stringify(down.body)}`);
        return Date.now() - cutAt;
      }),
    );

    await eventually(
      () =>
        logLines(gateway, new RegExp(`message ${eventMessageId} .*cannot be handled now`)).length === 1 || undefined,
      'the gateway to wait out the outage with the run event',
      20_000,
      250,
    );

    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
    // Nothing ran, nothing was dead-lettered, nothing crashed while the database was gone.
    const runIds = [dueRunId, staleRunId, eventRunId];
    assert.deepEqual(deadLettersOf(runIds), [], 'no dead letter during the outage');
    assert.deepEqual(
      RUN_TOPICS.flatMap((t) => probe.forRun(t, dueRunId).concat(probe.forRun(t, staleRunId))),
      [],
      'no run event for the ticks while the database is gone',
    );
    for (const app of apps()) assert.equal(app.child.exitCode, null, `${app.logFile}: alive through the outage`);
    assert.ok(Date.now() > Date.parse(stale.value.payload.deadline), 'the stale tick is past its deadline');

    proxy.restore();
    const restoredAt = Date.now();
    const outageMs = restoredAt - cutAt;

    // Readiness recovers alone, in every app.
    const readyAgain = await Promise.all(
      apps().map(async (app) => {
        await eventually(
          async () => ((await ready(app)).status === 200 ? true : undefined),
          `${app.logFile}: readiness 200 after the database is back`,
          30_000,
          250,
        );
        return Date.now() - restoredAt;
      }),
    );

    // The due tick runs, once; the stale one is skipped `stale`, once; the run event is in the history.
    const dueEnd = await probe.waitForRunEnd(dueRunId, 60_000);
    assert.equal(dueEnd.topic, Topic.RunCompleted, JSON.stringify(dueEnd.json));
    assert.equal(dueEnd.json.payload.stats.fetched, 150);
    const dueStarted = probe.forRun(Topic.RunStarted, dueRunId)[0];
    const ranAfterMs = Date.parse(dueStarted.json.payload.startedAt) - restoredAt;
    const staleEnd = await probe.waitForRunEnd(staleRunId, 30_000);
    assert.equal(staleEnd.topic, Topic.RunSkipped);
    assert.equal(staleEnd.json.payload.skipReason, 'stale');
    const staleAfterMs = Date.parse(staleEnd.json.payload.startedAt) - restoredAt;
    // A few seconds for any second copy (a redelivery, a retry) to show up before counting.
    await new Promise((r) => setTimeout(r, 4000));
    const count = (topic: Topic, runId: string) => probe.forRun(topic, runId).length;
    assert.deepEqual(
      RUN_TOPICS.map((t) => count(t, dueRunId)),
      [1, 1, 0, 0],
      'the due tick: started once, completed once (started, completed, failed, skipped)',
    );
    assert.deepEqual(
      RUN_TOPICS.map((t) => count(t, staleRunId)),
      [0, 0, 0, 1],
      'the stale tick: skipped once, never started',
    );
    assert.deepEqual(deadLettersOf(runIds), [], 'no dead letter after the outage either');
    const claims = await db.dataSource.query<Array<{ run_id: string; status: string }>>(
      'SELECT run_id, status FROM run_claims WHERE run_id IN (?, ?) ORDER BY status',
      [dueRunId, staleRunId],
    );
    assert.deepEqual(
      claims.map((c) => [c.run_id, c.status]),
      [
        [dueRunId, 'completed'],
        [staleRunId, 'skipped'],
      ],
    );
    // What an operator sees in the gateway: each run once, with its end.
    const records = await eventually(
      async () => {
        const r = await Promise.all([runRecord(dueRunId), runRecord(staleRunId), runRecord(eventRunId)]);
        return r[0]?.status === 'completed' && r[1]?.status === 'skipped' && r[2]?.status === 'skipped' ? r : undefined;
      },
      'the gateway to record the runs',
      30_000,
      250,
    );
    assert.equal(records[1]?.skip_reason, 'stale');
    assert.equal(records[2]?.skip_reason, 'overlap');

    // One line when each message started waiting, one when it was handled: not one per try.
    const handled = (app: AppProcess, id: string) => logLines(app, new RegExp(`message ${id} .*handled after waiting`));
    assert.equal(waiting(stale.value.id).length, 1);
    assert.equal(handled(splynx, stale.value.id).length, 1);
    // The manual tick was fetched after the stale one was handled, the database back: it had nothing to wait for.
    assert.equal(waiting(dueMessageId).length, 0);
    assert.equal(handled(splynx, dueMessageId).length, 0);
    assert.equal(handled(gateway, eventMessageId).length, 1);

    // A manual run after recovery, without restarting anything.
    const again = await manualRun();
    assert.equal(again.status, 202, await again.clone().text());
    const againRunId = ((await again.json()) as { run_id: string }).run_id;
    const againEnd = await probe.waitForRunEnd(againRunId, 60_000);
    assert.equal(againEnd.topic, Topic.RunCompleted, JSON.stringify(againEnd.json));
    assert.equal(againEnd.json.payload.stats.fetched, 150);

    for (const app of apps()) assert.equal(app.child.exitCode, null, `${app.logFile}: still running`);
    assert.ok(ENDS.includes(againEnd.topic));

    console.log(
      `database cut ${seconds(outageMs)} (proxy: ${proxy.counts.reset} connection(s) reset during the cut); ` +
        `readiness 503 after ${unready.map(seconds).join(' / ')} (scheduler / splynx-sync / gateway); ` +
        `200 again ${readyAgain.map(seconds).join(' / ')} after the restore; ` +
        `due tick started ${seconds(ranAfterMs)} after the restore, completed once; stale tick skipped ${seconds(staleAfterMs)} after it, once; ` +
        `dead letters: ${deadLettersOf(runIds).length}`,
    );
  });
});
