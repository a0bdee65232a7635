import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findJob, notRegisteredReason, Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe } from '../support/kafka';

const API_KEY = 'e2e-schedule-api-key-0123456789';

describe('the schedule and settings API, and overlap where the work runs (scheduler + splynx-sync on Kafka and MariaDB)', () => {
  let db: TestDatabase;
  let scheduler: AppProcess;
  let splynx: AppProcess;
  const simulator = new SplynxSimulator({ customers: 1500, seed: 21 });
  const probe = new KafkaProbe();
  /** A company of this suite besides the seeded company 1 (a schedule's company must exist). */
  let company = 0;

  const call = async (method: string, path: string, body?: unknown, key: string | null = API_KEY) => {
    const res = await fetch(`${scheduler.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  before(async () => {
    db = await createTestDatabase('schedule_api');
    const url = await simulator.start();
    await probe.watch([Topic.SplynxRequested, Topic.RunStarted, Topic.RunCompleted, Topic.RunSkipped]);
    const env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: API_KEY,
      SCHEDULER_RUN_ON_START: 'none',
    };
    // splynx-sync's group from the end of its topic, made before the scheduler ticks: the default group would resume
    // where another suite's splynx-sync stopped on this broker, and run what it left behind here.
    const splynxGroup = await freshGroup('schedule-api-splynx', [Topic.SplynxRequested]);
    scheduler = await startAppProcess('scheduler', env, 'schedule-api-scheduler');
    const created = await call('POST', '/api/companies', { name: 'Schedules of a second company' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    company = created.body.id;
    splynx = await startAppProcess(
      'splynx-sync',
      {
        ...env,
        SPLYNX_URL: url,
        SPLYNX_API_KEY: simulator.apiKey,
        SPLYNX_API_SECRET: simulator.apiSecret,
        SPLYNX_PAGE_SIZE: '100',
        KAFKA_GROUP_ID: splynxGroup,
      },
      'schedule-api-splynx-sync',
    );
  });

  after(async () => {
    await Promise.all([scheduler?.stop(), splynx?.stop()]);
    await probe.close();
    await simulator.stop();
    await db?.drop();
  });

  it('GET /api/companies/:id/schedules lists the seeded cadences, each of a registered job with its next run', async () => {
    const { status, body } = await call('GET', '/api/companies/1/schedules');
    assert.equal(status, 200);
    assert.deepEqual(body.map((s: { domain: string; job_type: string }) => `${s.domain}/${s.job_type}`).sort(), [
      'accounting/accounting.connections.check',
      'crm/cp.export',
      'crm/cp.reconcile',
      'crm/cp.visit',
      'crm/robaws.customers.full',
      'crm/robaws.customers.incremental',
      'crm/robaws.customers.push',
      'splynx/customers',
      'splynx/customers.full',
      'usage/reseller.usage',
    ]);
    const full = body.find((s: { job_type: string }) => s.job_type === 'robaws.customers.full');
    assert.equal(full.frequency, 'weekly');
    assert.equal(full.day_of_week, 0);
    assert.equal(full.hour_of_day, 4);
    const splynxFull = body.find((s: { domain: string; job_type: string }) => s.job_type === 'customers.full');
    assert.deepEqual(
      [splynxFull.domain, splynxFull.frequency, splynxFull.hour_of_day, splynxFull.minute],
      ['splynx', 'daily', 2, 30],
      'the daily full Splynx sync at 02:30 (issue 15)',
    );
    const registered = body.filter((s: { domain: string; job_type: string }) => findJob(s.domain, s.job_type));
    assert.deepEqual(registered.map((s: { job_type: string }) => s.job_type).sort(), [
      'accounting.connections.check',
      'cp.export',
      'cp.reconcile',
      'cp.visit',
      'customers',
      'customers.full',
      'reseller.usage',
      'robaws.customers.full',
      'robaws.customers.incremental',
      'robaws.customers.push',
    ]);
    assert.equal(registered.length, body.length, 'every seeded job has a handler in this version');
    for (const s of registered) {
      assert.equal(s.enabled, true);
      assert.match(s.next_run_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/, `${s.job_type} has a next run`);
      assert.ok(s.next_run_local && s.next_run_human, `${s.job_type} next run in its zone and in words`);
      assert.ok(Date.parse(s.next_run_at) > Date.now());
    }
    assert.deepEqual(
      (await call('GET', `/api/companies/${company}/schedules`)).body.map((s: { job_type: string }) => s.job_type),
      ['accounting.connections.check'],
      'a new company has only the daily connections check it was created with',
    );
    assert.equal((await call('GET', '/api/companies/99/schedules')).status, 404, 'a company that does not exist');
  });

  let weeklyId = 0;
  it('POST creates (201) and then updates (200) the company schedule for a domain and job type', async () => {
    const created = await call('POST', `/api/companies/${company}/schedules`, {
      job_type: 'ping',
      frequency: 'weekly',
      hour_of_day: 8,
      day_of_week: 1,
      date_range_days: 7,
      timezone: 'Europe/Tirane',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.domain, 'accounting', 'domain defaults to accounting');
    assert.equal(created.body.next_run_human.endsWith('at 8:00 AM'), true, created.body.next_run_human);
    assert.equal(
      new Date(created.body.next_run_local).getUTCDay() === 1 || created.body.next_run_local.includes('+01:00'),
      true,
    );
    weeklyId = created.body.id;
    const updated = await call('POST', `/api/companies/${company}/schedules`, {
      job_type: 'ping',
      frequency: 'monthly',
      day_of_month: 31,
      hour_of_day: 6,
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.id, weeklyId);
    assert.equal(updated.body.frequency, 'monthly');
    assert.equal(updated.body.timezone, 'Europe/Tirane', 'fields not sent are kept');
  });

  it('a schedule of a job without a handler (one an older version ran) stays disabled with the reason; enabling or running it is 409', async () => {
    // The API takes only the jobs this version knows: such a row is what an older version left.
    await db.dataSource.query(
      `INSERT INTO schedules (company_id, domain, job_type, frequency, minute, hour_of_day, day_of_week, timezone, enabled, paused_reason, overlap_policy, catchup_window_s, created_at, updated_at)
       VALUES (?, 'usage', 'reseller.retired', 'weekly', 0, 8, 1, 'UTC', 0, ?, 'skip', 3600, NOW(3), NOW(3))`,
      [company, notRegisteredReason('usage', 'reseller.retired')],
    );
    const retired = (await call('GET', `/api/companies/${company}/schedules`)).body.find(
      (s: { job_type: string }) => s.job_type === 'reseller.retired',
    );
    assert.deepEqual(
      [retired.domain, retired.enabled, retired.paused_reason, retired.next_run_at],
      ['usage', false, notRegisteredReason('usage', 'reseller.retired'), null],
    );
    const enable = await call('PATCH', `/api/schedules/${retired.id}/toggle`, { enabled: true });
    assert.equal(enable.status, 409);
    assert.match(enable.body.message, /usage\/reseller\.retired is not available in this version yet/);
    assert.match(enable.body.message, /splynx\/customers/, 'names the jobs this version runs');
    const run = await call('POST', `/api/schedules/${retired.id}/run`);
    assert.equal(run.status, 409);
    assert.match(run.body.message, /cannot run: usage\/reseller\.retired is not available/);
    const created = await call('POST', `/api/companies/${company}/schedules`, {
      domain: 'usage',
      job_type: 'reseller.retired',
      frequency: 'hourly',
    });
    assert.equal(created.status, 400, 'a new schedule must be of a job this version knows');
    assert.match(JSON.stringify(created.body.fields.job_type), /reseller\.usage/);
    assert.equal((await call('DELETE', `/api/schedules/${retired.id}`)).status, 204);
  });

  it('POST rejects bad bodies with 400 naming each field', async () => {
    const cases: Array<[object, string[]]> = [
      [{}, ['job_type', 'frequency']],
      [{ job_type: 'sales', frequency: 'weekly', hour_of_day: 8 }, ['day_of_week']],
      [{ job_type: 'sales', frequency: 'monthly', hour_of_day: 8 }, ['day_of_month']],
      [{ job_type: 'sales', frequency: 'daily' }, ['hour_of_day']],
      [{ job_type: 'sales', frequency: 'every_minutes' }, ['interval_minutes']],
      [{ domain: 'crm', job_type: 'sales', frequency: 'hourly' }, ['job_type']],
      [{ domain: 'erp', job_type: 'sales', frequency: 'hourly' }, ['domain', 'job_type']],
      [
        {
          job_type: 'sales',
          frequency: 'daily',
          hour_of_day: 24,
          minute: 60,
          timezone: 'Mars/Olympus',
          date_range_days: 0,
        },
        ['hour_of_day', 'minute', 'timezone', 'date_range_days'],
      ],
      [{ job_type: 'sales', frequency: 'yearly' }, ['frequency']],
      [
        { job_type: 'sales', frequency: 'hourly', overlap_policy: 'queue', enabled: 'yes' },
        ['overlap_policy', 'enabled'],
      ],
      [{ job_type: 'sales', frequency: 'hourly', color: 'blue' }, ['color']],
    ];
    for (const [body, fields] of cases) {
      const res = await call('POST', `/api/companies/${company}/schedules`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.deepEqual(Object.keys(res.body.fields).sort(), [...fields].sort(), JSON.stringify(body));
    }
    assert.equal(
      (await call('POST', '/api/companies/x/schedules', { job_type: 'sales', frequency: 'hourly' })).status,
      400,
    );
  });

  it('PATCH toggle disables (no next run) and enables (next run again); 404 and 400 where due', async () => {
    const off = await call('PATCH', `/api/schedules/${weeklyId}/toggle`, { enabled: false });
    assert.equal(off.status, 200);
    assert.equal(off.body.enabled, false);
    assert.equal(off.body.next_run_at, null);
    const on = await call('PATCH', `/api/schedules/${weeklyId}/toggle`, { enabled: true });
    assert.equal(on.body.enabled, true);
    assert.ok(on.body.next_run_at);
    assert.equal((await call('PATCH', `/api/schedules/${weeklyId}/toggle`, { enabled: 'no' })).status, 400);
    assert.equal((await call('PATCH', '/api/schedules/99999/toggle', { enabled: true })).status, 404);
    assert.equal((await call('PATCH', '/api/schedules/abc/toggle', { enabled: true })).status, 404);
  });

  it('GET and PUT settings: clamped, defaulted, 404 for unknown keys, 400 without a value', async () => {
    const key = '/api/settings/reseller.usage_sync_interval_minutes';
    assert.deepEqual((await call('GET', key)).body, {
      key: 'reseller.usage_sync_interval_minutes',
      value: 5,
      effective_value: 5,
    });
    assert.deepEqual((await call('PUT', key, { value: 0 })).body, {
      key: 'reseller.usage_sync_interval_minutes',
      value: 0,
      effective_value: 1,
    });
    assert.deepEqual((await call('PUT', key, { value: 'abc' })).body, {
      key: 'reseller.usage_sync_interval_minutes',
      value: 'abc',
      effective_value: 5,
    });
    assert.deepEqual((await call('PUT', key, { value: 3 })).body.effective_value, 3);
    assert.equal((await call('GET', key)).body.effective_value, 3);
    assert.equal((await call('PUT', key, {})).status, 400);
    assert.equal((await call('GET', '/api/settings/no.such.setting')).status, 404);
    assert.equal((await call('PUT', '/api/settings/no.such.setting', { value: 1 })).status, 404);
  });

  it('every route needs the API key', async () => {
    for (const [method, path] of [
      ['GET', '/api/companies/1/schedules'],
      ['POST', '/api/companies/1/schedules'],
      ['PATCH', '/api/schedules/1/toggle'],
      ['DELETE', '/api/schedules/1'],
      ['POST', '/api/schedules/1/run'],
      ['GET', '/api/settings/x'],
      ['PUT', '/api/settings/x'],
    ]) {
      assert.equal(
        (await call(method, path, method === 'GET' ? undefined : {}, null)).status,
        401,
        `${method} ${path}`,
      );
      assert.equal(
        (await call(method, path, method === 'GET' ? undefined : {}, 'wrong-key-wrong-key-wrong')).status,
        401,
        `${method} ${path} with a wrong key`,
      );
    }
  });

  it('POST run publishes now (202); a run still going when the next tick comes yields a skipped event, reason overlap', async () => {
    const splynxSchedule = (await call('GET', '/api/companies/1/schedules')).body.find(
      (s: { domain: string }) => s.domain === 'splynx',
    );
    simulator.setFaults({ latencyMs: 150 }); // 15 pages: the first run takes a few seconds
    const first = await call('POST', `/api/schedules/${splynxSchedule.id}/run`);
    assert.equal(first.status, 202);
    assert.match(first.body.run_id, /^[0-9a-f-]{36}$/);
    await probe.waitFor(
      Topic.RunStarted,
      (m) => m.json?.payload?.runId === first.body.run_id,
      'the first run to start',
    );
    const second = await call('POST', `/api/schedules/${splynxSchedule.id}/run`);
    const skipped = await probe.waitFor(
      Topic.RunSkipped,
      (m) => m.json?.payload?.runId === second.body.run_id,
      'the overlapping tick to be skipped',
    );
    assert.equal(skipped.json.payload.skipReason, 'overlap');
    assert.equal(skipped.json.payload.trigger, 'manual');
    assert.equal(skipped.json.payload.scheduleId, String(splynxSchedule.id));
    const done = await probe.waitForRunEnd(first.body.run_id);
    assert.equal(done.topic, Topic.RunCompleted);
    assert.equal(done.json.payload.stats.fetched, 1500);
    simulator.clearFaults();
    assert.equal((await call('POST', '/api/schedules/99999/run')).status, 404);
  });

  it('DELETE removes a schedule (204); then it is 404 everywhere', async () => {
    assert.equal((await call('DELETE', `/api/schedules/${weeklyId}`)).status, 204);
    assert.equal((await call('DELETE', `/api/schedules/${weeklyId}`)).status, 404);
    assert.equal((await call('POST', `/api/schedules/${weeklyId}/run`)).status, 404);
    assert.equal((await call('PATCH', `/api/schedules/${weeklyId}/toggle`, { enabled: true })).status, 404);
  });
});
