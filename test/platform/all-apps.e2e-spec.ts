import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Domain, DOMAINS, requestedTopic, Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { CONSUMED_TOPICS, freshGroup, KafkaProbe } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

const API_KEY = 'e2e-gateway-key-0123456789';
const APPS = ['gateway', 'scheduler', 'splynx-sync', 'accounting-sync', 'crm-sync', 'usage-sync'] as const;

describe('every app in the distributed mode, each its own process on one Kafka and one MariaDB', () => {
  let db: TestDatabase;
  let simulator: SplynxSimulator;
  const apps = new Map<string, AppProcess>();
  const probe = new KafkaProbe();
  const suiteStart = new Date();

  before(async () => {
    db = await createTestDatabase('all_apps');
    simulator = new SplynxSimulator({ customers: 300 });
    const splynxUrl = await simulator.start();
    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: API_KEY,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      SCHEDULER_RUN_ON_START: 'splynx:customers',
    };
    await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.SplynxRequested]);
    // Every consuming app in a group of its own from the end of its topics, made before any app starts (the scheduler's
    // start tick comes after). On a broker other suites used, a default group resumes where another suite's app stopped:
    // a tick left behind there would run here and hold splynx/customers' lease against this suite's, and a gateway late
    // in a test lane read thousands of earlier run events before this suite's (the scheduled run timed out in CI).
    const groups: Record<string, string> = {};
    for (const [app, topics] of Object.entries(CONSUMED_TOPICS))
      groups[app] = await freshGroup(`all-apps-${app}`, topics);
    // Started one after another: two cores, and topic provisioning is tried by each.
    for (const app of APPS) {
      apps.set(
        app,
        await startAppProcess(
          app,
          {
            ...common,
            SPLYNX_URL: splynxUrl,
            SPLYNX_API_KEY: simulator.apiKey,
            SPLYNX_API_SECRET: simulator.apiSecret,
            ...(groups[app] ? { KAFKA_GROUP_ID: groups[app] } : {}),
          },
          `all-apps-${app}`,
        ),
      );
    }
  });

  after(async () => {
    await Promise.all([...apps.values()].map((a) => a.stop()));
    await probe.close();
    await simulator?.stop();
    await db?.drop();
  });

  it('every app answers /health/live and /health/ready (database, bus, migrations) and serves /metrics', async () => {
    for (const [name, app] of apps) {
      const live = await fetch(`${app.url}/health/live`);
      assert.equal(live.status, 200, `${name} live`);
      const ready = await fetch(`${app.url}/health/ready`);
      assert.equal(ready.status, 200, `${name} ready`);
      const body = (await ready.json()) as { status: string; info: Record<string, { status: string }>; error: object };
      assert.equal(body.status, 'ok', `${name} status`);
      assert.deepEqual(
        Object.entries(body.info).map(([check, r]) => `${check}:${r.status}`),
        ['database:up', 'bus:up', 'migrations:up'],
        `${name} checks its database, bus and schema (terminus body)`,
      );
      assert.deepEqual(body.error, {});
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      assert.match(metrics, /process_resident_memory_bytes/, `${name} metrics`);
    }
  });

  it('every sync app consumes its topic and answers ping; usage-sync runs reseller.usage (no panels yet: nothing read)', async () => {
    const pings = DOMAINS.map((d: Domain) => tick(d, 'ping'));
    for (const p of pings) await probe.produce(requestedTopic(p.value.payload.domain), p.key, p.value);
    for (const p of pings) {
      const end = await probe.waitForRunEnd(p.value.runId!);
      assert.equal(end.topic, Topic.RunCompleted, `${p.value.payload.domain} ping completes`);
    }
    const usage = tick('usage', 'reseller.usage');
    await probe.produce(Topic.UsageRequested, usage.key, usage.value);
    const end = await probe.waitForRunEnd(usage.value.runId!);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    const { fetched, failed, notReached } = end.json.payload.stats;
    assert.deepEqual([fetched, failed, notReached], [0, 0, 0]);
  });

  it('the scheduler publishes the Splynx tick at start; the gateway shows the completed run from Kafka', async () => {
    // The probe reads the topic from the beginning: only this suite's scheduler counts.
    const scheduled = await probe.waitFor(
      Topic.SplynxRequested,
      (m) => m.json?.payload?.trigger === 'schedule' && new Date(m.json.occurredAt) >= suiteStart,
      'the scheduler tick',
    );
    const runId = scheduled.json.payload.runId as string;
    assert.equal(scheduled.key, '1:splynx:customers');
    const gateway = apps.get('gateway')!;
    const run = await eventually(
      async () => {
        const res = await fetch(`${gateway.url}/api/runs/${runId}`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        });
        if (res.status !== 200) return undefined;
        const body = (await res.json()) as { status: string; stats: { fetched: number } };
        return body.status === 'completed' ? body : undefined;
      },
      'the scheduled run as completed in the gateway',
      60000,
    );
    assert.equal(run.stats.fetched, 300);
    const [{ n }] = await db.dataSource.query('SELECT COUNT(*) AS n FROM splynx_customers');
    assert.equal(Number(n), 300);
    const list = await fetch(`${gateway.url}/api/runs?domain=splynx&status=completed`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    const listed = (await list.json()) as { data: Array<{ run_id: string }> };
    assert.ok(listed.data.some((r) => r.run_id === runId));
    assert.equal((await fetch(`${gateway.url}/api/runs`)).status, 401);
    assert.equal(
      (await fetch(`${gateway.url}/api/runs?limit=0`, { headers: { authorization: `Bearer ${API_KEY}` } })).status,
      400,
    );
  });
});
