import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CompanyView, Topic } from '@sync-hub/contracts';
import { MIGRATIONS } from '@sync-hub/persistence';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { KafkaProbe, SeenMessage } from '../support/kafka';

const API_KEY = 'e2e-company-api-key-0123456789';
// A company of an install older than the companies table: only its schedules name it. Unique to this suite, since the
// compacted topic on the shared broker holds other suites' companies too.
const EXISTING = 6161;
const UNKNOWN = 999999;

/** A company's view as `scheduler.company.changed.v1` carries it (camelCase, the whole row). */
const asPayload = (c: CompanyView) => ({
  id: c.id,
  name: c.name,
  timezone: c.timezone,
  active: c.active,
  createdAt: c.created_at,
  updatedAt: c.updated_at,
});

describe('the company API and scheduler.company.changed.v1 (scheduler on Kafka and MariaDB)', () => {
  let db: TestDatabase;
  let scheduler: AppProcess;
  const probe = new KafkaProbe();
  const suffix = randomUUID().slice(0, 8);

  const call = async (method: string, path: string, body?: unknown, key: string | null = API_KEY) => {
    const res = await fetch(`${scheduler.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  /** The message carrying exactly this state of the company (the shared broker's topic holds other suites' companies). */
  const published = (expected: CompanyView, what: string): Promise<SeenMessage> =>
    probe.waitFor(
      Topic.CompanyChanged,
      (m) => m.key === String(expected.id) && isDeepStrictEqual(m.json?.payload, asPayload(expected)),
      what,
      30000,
    );

  before(async () => {
    db = await createTestDatabase('company_api');
    // An existing install upgrading: schedules of company EXISTING were written before the companies table existed.
    const migration = new (MIGRATIONS.find((m) => m.name === 'CreateCompanies1763700000013')!)();
    const runner = db.dataSource.createQueryRunner();
    try {
      await migration.down(runner);
      await runner.query(
        `INSERT INTO schedules (company_id, domain, job_type, frequency, minute, timezone, enabled, overlap_policy, catchup_window_s, created_at, updated_at)
         VALUES (?, 'splynx', 'customers', 'hourly', 30, 'UTC', 1, 'skip', 3600, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`,
        [EXISTING],
      );
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    await probe.watch([Topic.CompanyChanged]);
    scheduler = await startAppProcess(
      'scheduler',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        DATABASE_URL: db.url,
        GATEWAY_API_KEYS: API_KEY,
        SCHEDULER_RUN_ON_START: 'none',
      },
      'company-api-scheduler',
    );
  });

  after(async () => {
    await scheduler?.stop();
    await probe.close();
    await db?.drop();
  });

  it("company 1 is seeded, and so is every company an existing install's schedules name; the new leader published them", async () => {
    const { status, body } = await call('GET', '/api/companies');
    assert.equal(status, 200);
    assert.deepEqual(
      body.map((c: CompanyView) => [c.id, c.name, c.timezone, c.active]),
      [
        [1, 'Company 1', 'Europe/Tirane', true],
        [EXISTING, `Company ${EXISTING}`, 'Europe/Tirane', true],
      ],
    );
    const existing = body[1] as CompanyView;
    assert.match(existing.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual((await call('GET', `/api/companies/${EXISTING}`)).body, existing);
    const event = await published(existing, 'the republished existing company');
    assert.equal(event.json.type, 'scheduler.company.changed');
    assert.equal((await call('GET', `/api/companies/${EXISTING}/schedules`)).body.length, 1, 'its schedule kept');
  });

  let company: CompanyView;
  it('POST creates a company (201), timezone Europe/Tirane by default, and publishes it keyed by its id', async () => {
    const created = await call('POST', '/api/companies', { name: `Shpresa ${suffix}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    company = created.body;
    assert.deepEqual(
      [company.name, company.timezone, company.active, company.created_at],
      [`Shpresa ${suffix}`, 'Europe/Tirane', true, company.updated_at],
    );
    assert.ok(company.id > EXISTING, 'numbered after the highest company');
    assert.deepEqual((await call('GET', `/api/companies/${company.id}`)).body, company);
    assert.deepEqual(
      (await call('GET', '/api/companies')).body.map((c: CompanyView) => c.id),
      [1, EXISTING, company.id],
      'ordered by id',
    );
    const event = await published(company, 'the created company on the topic');
    assert.deepEqual(event.json.payload, asPayload(company));
    const other = await call('POST', '/api/companies', {
      name: `Nova ${suffix}`,
      timezone: 'America/New_York',
      active: false,
    });
    assert.equal(other.status, 201);
    assert.deepEqual([other.body.timezone, other.body.active], ['America/New_York', false]);
  });

  it('PATCH changes the fields given (200) and publishes the whole row; deactivating is a change like any other', async () => {
    const patched = await call('PATCH', `/api/companies/${company.id}`, { timezone: 'Europe/Rome', active: false });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(
      [patched.body.id, patched.body.name, patched.body.timezone, patched.body.active, patched.body.created_at],
      [company.id, company.name, 'Europe/Rome', false, company.created_at],
    );
    assert.ok(patched.body.updated_at >= company.updated_at);
    assert.deepEqual((await call('GET', `/api/companies/${company.id}`)).body, patched.body);
    const event = await published(patched.body, 'the changed company on the topic');
    assert.equal(event.json.payload.active, false);
    company = patched.body;
  });

  it('bad bodies are 400 naming each field; unknown ids (and ids that are no number) are 404', async () => {
    const cases: Array<[string, string, object, string[]]> = [
      ['POST', '/api/companies', {}, ['name']],
      ['POST', '/api/companies', { name: '', timezone: 'Mars/Olympus', active: 'yes' }, ['active', 'name', 'timezone']],
      ['POST', '/api/companies', { name: 'X', id: 5 }, ['id']],
      ['PATCH', `/api/companies/${company.id}`, { timezone: 'Europe/Atlantis' }, ['timezone']],
      ['PATCH', `/api/companies/${company.id}`, { name: 'x'.repeat(256), colour: 'red' }, ['colour', 'name']],
    ];
    for (const [method, path, body, fields] of cases) {
      const res = await call(method, path, body);
      assert.equal(res.status, 400, `${method} ${JSON.stringify(body)}`);
      assert.deepEqual(Object.keys(res.body.fields).sort(), fields, JSON.stringify(body));
    }
    assert.equal((await call('GET', `/api/companies/${company.id}`)).body.timezone, 'Europe/Rome', 'nothing changed');
    const unknown = await call('GET', `/api/companies/${UNKNOWN}`);
    assert.deepEqual([unknown.status, unknown.body.message], [404, `company ${UNKNOWN} not found`]);
    const patch = await call('PATCH', `/api/companies/${UNKNOWN}`, { name: 'Ghost' });
    assert.deepEqual([patch.status, patch.body.message], [404, `company ${UNKNOWN} not found`]);
    assert.equal((await call('GET', '/api/companies/abc')).status, 404);
    assert.equal((await call('PATCH', '/api/companies/abc', { name: 'Ghost' })).status, 404);
    assert.equal((await call('DELETE', `/api/companies/${company.id}`)).status, 404, 'no DELETE: deactivate instead');
    assert.ok(
      !probe.messages(Topic.CompanyChanged, (m) => m.json?.payload?.name === 'Ghost').length,
      'a refused write publishes nothing',
    );
  });

  it('a schedule of an unknown company is 404 and stored nowhere; listing its schedules is 404 too', async () => {
    const schedule = { domain: 'splynx', job_type: 'customers', frequency: 'hourly' };
    const refused = await call('POST', `/api/companies/${UNKNOWN}/schedules`, schedule);
    assert.deepEqual([refused.status, refused.body.message], [404, `company ${UNKNOWN} not found`]);
    const [{ n }] = await db.dataSource.query('SELECT COUNT(*) AS n FROM schedules WHERE company_id = ?', [UNKNOWN]);
    assert.equal(Number(n), 0);
    const list = await call('GET', `/api/companies/${UNKNOWN}/schedules`);
    assert.deepEqual([list.status, list.body.message], [404, `company ${UNKNOWN} not found`]);
    const created = await call('POST', `/api/companies/${company.id}/schedules`, schedule);
    assert.equal(created.status, 201, 'a company that exists, active or not, takes schedules');
    const listed = (await call('GET', `/api/companies/${company.id}/schedules`)).body;
    assert.deepEqual(
      listed.map((s: { job_type: string }) => s.job_type),
      ['accounting.connections.check', 'customers'],
      'the new schedule, beside the daily connections check every company gets',
    );
    assert.ok(listed.some((s: { id: number }) => s.id === created.body.id));
  });

  it('the topic is compacted: its latest message per company id is the company', async () => {
    const admin = new Kafka({
      clientId: 'e2e-company-api',
      brokers: TEST_KAFKA_BROKERS.split(','),
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: Topic.CompanyChanged, configNames: ['cleanup.policy'] }],
      });
      assert.equal(resources[0].configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue, 'compact');
    } finally {
      await admin.disconnect();
    }
  });

  it('every company route needs the API key', async () => {
    for (const [method, path] of [
      ['GET', '/api/companies'],
      ['POST', '/api/companies'],
      ['GET', '/api/companies/1'],
      ['PATCH', '/api/companies/1'],
    ]) {
      const body = method === 'GET' ? undefined : { name: 'Intruder' };
      assert.equal((await call(method, path, body, null)).status, 401, `${method} ${path}`);
      assert.equal((await call(method, path, body, 'wrong-key-wrong-key-wrong')).status, 401, `${method} ${path}`);
    }
    assert.equal((await call('GET', '/api/companies/1')).body.name, 'Company 1', 'nothing was changed');
  });
});
