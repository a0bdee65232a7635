import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { notRegisteredReason, Topic } from '@sync-hub/contracts';
import { provisionTopics } from '@sync-hub/messaging';
import { ConfigResourceTypes, Consumer, Kafka, logLevel } from 'kafkajs';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, insertCompanies, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { groupStartingNow } from '../support/kafka';
import { eventually } from '../support/wait';

const API_KEY = 'e2e-projection-key-0123456789';
// Companies of this suite only: the broker is shared, and the topic holds other suites' schedules too.
const COMPANY = 5151;
const TICKING = 5152;
const PRE_EXISTING = 5153;
/** A company whose schedule's job this version no longer runs (one an older version had). */
const RETIRED = 5154;
const AUTO_PAUSE = 'notifications.auto_pause_after';

interface Seen {
  key: string;
  value: Buffer | null;
}

describe("the gateway's projections of schedules and settings from the scheduler's compacted topics (scheduler, gateway; Kafka, MariaDB)", () => {
  let db: TestDatabase;
  let scheduler: AppProcess;
  let gateway: AppProcess;
  const kafka = new Kafka({
    clientId: 'e2e-projection',
    brokers: TEST_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  let consumer: Consumer;
  const records: Seen[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const status = async () => (await call('GET', '/api/status')).body.data as any[];
  const projected = async (id: number) =>
    (await db.dataSource.query('SELECT * FROM schedule_projections WHERE schedule_id = ?', [id]))[0];
  const projectedSetting = async (key: string) =>
    (await db.dataSource.query('SELECT * FROM setting_projections WHERE `key` = ?', [key]))[0];

  before(async () => {
    db = await createTestDatabase('schedule_projection');
    await insertCompanies(db, [COMPANY, TICKING]);
    // A row of an existing install, written before any event existed: only the new leader's republish can announce it.
    await db.dataSource.query(
      `INSERT INTO schedules (company_id, domain, job_type, frequency, minute, timezone, enabled, overlap_policy, catchup_window_s, next_run_at, created_at, updated_at)
       VALUES (?, 'splynx', 'customers', 'hourly', 30, 'UTC', 1, 'skip', 3600, '2030-01-01 00:30:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00')`,
      [PRE_EXISTING],
    );
    // Enabled, as the version that ran it left it: the scheduler disables it at start, saying why.
    await db.dataSource.query(
      `INSERT INTO schedules (company_id, domain, job_type, frequency, minute, timezone, enabled, overlap_policy, catchup_window_s, created_at, updated_at)
       VALUES (?, 'usage', 'reseller.retired', 'hourly', 0, 'UTC', 1, 'skip', 3600, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`,
      [RETIRED],
    );
    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: API_KEY,
      SCHEDULER_RUN_ON_START: 'none',
    };
    scheduler = await startAppProcess('scheduler', common, 'projection-scheduler');
    // Its own consumer group: like a new deployment, it reads the compacted topics from the beginning. The run events
    // start at their end: other suites' runs on the shared broker would otherwise count as this gateway's failures, and
    // ten of them auto-pause "their" schedule id, which in this database is another schedule (this suite's own).
    await provisionTopics({
      brokers: TEST_KAFKA_BROKERS.split(','),
      clientId: 'e2e-schedule-projection',
      groupId: 'unused',
      topicPartitions: 3,
      replicationFactor: 1,
    });
    const gatewayGroup = await groupStartingNow(`gateway-projection-${randomUUID().slice(0, 8)}`, [
      Topic.RunStarted,
      Topic.RunCompleted,
      Topic.RunFailed,
      Topic.RunSkipped,
    ]);
    gateway = await startAppProcess(
      'gateway',
      { ...common, SCHEDULER_URL: scheduler.url, KAFKA_GROUP_ID: gatewayGroup },
      'projection-gateway',
    );
    consumer = kafka.consumer({ groupId: `e2e-projection-raw-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [Topic.ScheduleChanged, Topic.SettingChanged], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void records.push({ key: message.key?.toString() ?? '', value: message.value }),
    });
  });

  after(async () => {
    // The topic outlives this suite's database: leave the setting at its default for the suites after it.
    if (gateway) await call('PUT', `/api/settings/${AUTO_PAUSE}`, { value: 10 }).catch(() => undefined);
    await consumer?.disconnect();
    await Promise.all([gateway?.stop(), scheduler?.stop()]);
    await db?.drop();
  });

  it('the topic is compacted (its dead-letter topic is not)', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: Topic.ScheduleChanged, configNames: ['cleanup.policy'] },
          { type: ConfigResourceTypes.TOPIC, name: `${Topic.ScheduleChanged}.dlq`, configNames: ['cleanup.policy'] },
        ],
      });
      const policy = (name: string) =>
        resources.find((r) => r.resourceName === name)!.configEntries.find((e) => e.configName === 'cleanup.policy')!
          .configValue;
      assert.equal(policy(Topic.ScheduleChanged), 'compact');
      assert.equal(policy(`${Topic.ScheduleChanged}.dlq`), 'delete');
    } finally {
      await admin.disconnect();
    }
  });

  it('schedules that existed before any event (the seeded rows) are in the projection: the leader republished them', async () => {
    const seeded = (await call('GET', '/api/companies/1/schedules')).body as any[];
    assert.equal(seeded.length, 10);
    const rows = await eventually(async () => {
      const s = (await status()).filter((x) => x.company_id === 1 && x.schedule_id !== null);
      const current = seeded.every((x) => s.some((r) => r.schedule_id === x.id && r.next_run_at === x.next_run_at));
      return current ? s : undefined;
    }, 'the seeded schedules in the gateway status, as the scheduler has them');
    const splynx = seeded.find((x) => x.domain === 'splynx');
    assert.ok(splynx.next_run_at, 'the registered job has a next run');
    assert.equal(rows.find((r) => r.schedule_id === splynx.id).next_run_at, splynx.next_run_at);
    const usage = seeded.find((x) => x.job_type === 'reseller.usage');
    assert.ok(usage.next_run_at, 'the reseller usage sync is registered: it has a next run');
    assert.equal(rows.find((r) => r.schedule_id === usage.id).next_run_at, usage.next_run_at);
    const retired = await eventually(
      async () => (await status()).find((s) => s.company_id === RETIRED && s.state === 'paused'),
      'the schedule of a job this version does not run, disabled',
    );
    assert.equal(retired.job, 'reseller.retired');
    assert.equal(
      (await projected(retired.schedule_id)).paused_reason,
      notRegisteredReason('usage', 'reseller.retired'),
    );
    const untouched = await eventually(
      async () => (await status()).find((s) => s.company_id === PRE_EXISTING),
      'the pre-existing row that no change ever touched',
    );
    assert.deepEqual(
      [untouched.domain, untouched.job, untouched.next_run_at],
      ['splynx', 'customers', '2030-01-01T00:30:00.000Z'],
    );
  });

  let id = 0;
  it('a schedule created through the API appears in the gateway status with its next run', async () => {
    const created = await call('POST', `/api/companies/${COMPANY}/schedules`, {
      domain: 'splynx',
      job_type: 'customers',
      frequency: 'daily',
      hour_of_day: 6,
      timezone: 'Europe/Tirane',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    id = created.body.id;
    const row = await eventually(
      // The row may first show without its next run (the creation event), then with it (the scheduler's next run).
      async () =>
        (await status()).find((s) => s.company_id === COMPANY && s.schedule_id === id && s.next_run_at !== null),
      'the new schedule in the gateway status with its next run',
      20000,
    );
    assert.deepEqual(
      [row.domain, row.job, row.next_run_at, row.expected_interval_minutes],
      ['splynx', 'customers', created.body.next_run_at, 1440],
    );
    const p = await projected(id);
    assert.deepEqual([p.company_id, p.timezone, Number(p.enabled)], [COMPANY, 'Europe/Tirane', 1]);
  });

  it('a toggle is seen: paused with the reason and no next run, then enabled again', async () => {
    const off = await call('PATCH', `/api/schedules/${id}/toggle`, { enabled: false, reason: 'maintenance window' });
    assert.equal(off.status, 200);
    const paused = await eventually(
      async () => (await status()).find((s) => s.schedule_id === id && s.state === 'paused'),
      'the schedule paused in the gateway status',
      20000,
    );
    assert.equal(paused.next_run_at, null);
    assert.equal((await projected(id)).paused_reason, 'maintenance window');
    const on = await call('PATCH', `/api/schedules/${id}/toggle`, { enabled: true });
    assert.equal(on.status, 200);
    await eventually(
      async () =>
        (await status()).find(
          (s) => s.schedule_id === id && s.state !== 'paused' && s.next_run_at === on.body.next_run_at,
        ),
      'the schedule enabled again, with its next run',
      20000,
    );
    assert.equal((await projected(id)).paused_reason, null);
  });

  it('a delete is a tombstone on the topic, and removes the schedule from the projection and the status', async () => {
    assert.equal((await call('DELETE', `/api/schedules/${id}`)).status, 204);
    await eventually(
      async () => ((await status()).some((s) => s.company_id === COMPANY) ? undefined : true),
      'the schedule gone from the gateway status',
      20000,
    );
    assert.equal(await projected(id), undefined);
    const last = await eventually(() => {
      const mine = records.filter((r) => r.key === String(id));
      return mine.length && mine[mine.length - 1].value === null ? mine[mine.length - 1] : undefined;
    }, 'a record without a value under the schedule id');
    assert.equal(last.value, null, 'a real tombstone, not the text "null"');
  });

  it('the minute loop publishes the schedules it advances: the projected next run moves on', async () => {
    const created = await call('POST', `/api/companies/${TICKING}/schedules`, {
      domain: 'accounting',
      job_type: 'ping',
      frequency: 'every_minutes',
      interval_minutes: 1,
    });
    assert.equal(created.status, 201);
    const first = created.body.next_run_at as string;
    const advanced = await eventually(
      async () => {
        const p = await projected(created.body.id);
        return p?.last_run_at && new Date(p.next_run_at).toISOString() > first ? p : undefined;
      },
      'the advanced next run in the projection',
      90000,
      1000,
    );
    assert.equal(new Date(advanced.last_run_at).toISOString(), first, 'the slot that ticked is its last run');
    const row = (await status()).find((s) => s.schedule_id === created.body.id);
    assert.equal(row.next_run_at, new Date(advanced.next_run_at).toISOString());
  });

  it('settings travel the same way: the leader publishes the defaults, a PUT through the gateway reaches its projection', async () => {
    const usage = await eventually(
      () => projectedSetting('reseller.usage_sync_interval_minutes'),
      "the usage interval's default, republished by the new leader",
    );
    assert.equal(usage.effective_value, 5);
    const put = await call('PUT', `/api/settings/${AUTO_PAUSE}`, { value: '7' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body, { key: AUTO_PAUSE, value: '7', effective_value: 7 });
    const row = await eventually(
      async () => {
        const p = await projectedSetting(AUTO_PAUSE);
        return p?.effective_value === 7 ? p : undefined;
      },
      'the new effective value in the gateway projection',
      20000,
    );
    assert.equal(JSON.parse(row.value), '7', 'the value as it was set');
    const payload = await eventually(() => {
      const last = records.filter((r) => r.key === AUTO_PAUSE).pop();
      const p = last?.value ? JSON.parse(last.value.toString()).payload : undefined;
      return p?.effectiveValue === 7 ? p : undefined;
    }, 'the setting on the topic, keyed by its key');
    assert.deepEqual(payload, { key: AUTO_PAUSE, value: '7', effectiveValue: 7 });
  });
});
