import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { envelope, Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { SMTPServer } from 'smtp-server';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, insertCompanies, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { KafkaProbe } from '../support/kafka';
import { eventually } from '../support/wait';

const API_KEY = 'e2e-gateway-key-0123456789abc';
// The gateway's new consumer group reads run events from the oldest retained one, including other suites' runs on the
// shared broker: this suite's notifications and status are about its own company.
const COMPANY = 4242;
const OTHER_KEY = 'e2e-gateway-key-other-0123456';

interface Mail {
  to: string[];
  raw: string;
}

const ours = (mails: Mail[]) => mails.filter((m) => m.raw.includes(`(company ${COMPANY})`));

/** A real SMTP server that keeps what it receives. */
async function smtpSink(): Promise<{ port: number; mails: Mail[]; close: () => Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString()));
      stream.on('end', () => {
        // Unfold headers and quoted-printable soft line breaks, so assertions read the message as written.
        const unfolded = raw.replace(/=\r\n/g, '').replace(/\r\n[ \t]+/g, ' ');
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: unfolded });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise((r) => server.close(() => r())) };
}

/** A webhook receiver that keeps this suite's notifications and can be told to refuse the next N of them. */
async function webhookSink(): Promise<{
  url: string;
  received: any[];
  failNext: { n: number };
  attempts: { n: number };
  close: () => Promise<void>;
}> {
  const received: any[] = [];
  const failNext = { n: 0 };
  const attempts = { n: 0 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const hook = JSON.parse(body);
      if (hook.company_id !== COMPANY) return void res.writeHead(204).end();
      attempts.n++;
      if (failNext.n > 0) {
        failNext.n--;
        res.writeHead(503).end('down for maintenance');
        return;
      }
      received.push(hook);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/sync`,
    received,
    failNext,
    attempts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('the gateway in the distributed mode (gateway, scheduler, splynx-sync; Kafka, MariaDB, SMTP, webhook)', () => {
  let db: TestDatabase;
  let gateway: AppProcess;
  let scheduler: AppProcess;
  let splynx: AppProcess;
  let smtp: Awaited<ReturnType<typeof smtpSink>>;
  let webhook: Awaited<ReturnType<typeof webhookSink>>;
  const simulator = new SplynxSimulator({ customers: 120, seed: 33 });
  const probe = new KafkaProbe();

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    key: string | null = API_KEY,
    app = () => gateway,
  ) => {
    const res = await fetch(`${app().url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* html */
    }
    return { status: res.status, body: parsed };
  };

  /** A manual Splynx run through the gateway, to its end. */
  const runSplynx = async () => {
    const started = await call('POST', '/api/syncs/splynx/customers/run', { company_id: COMPANY });
    assert.equal(started.status, 202);
    const runId = started.body.run_id as string;
    return eventually(
      async () => {
        const r = await call('GET', `/api/runs/${runId}`);
        return r.status === 200 && ['completed', 'failed', 'skipped'].includes(r.body.status) ? r.body : undefined;
      },
      `run ${runId} to end`,
      60000,
    );
  };
  const splynxStatus = async () =>
    ((await call('GET', '/api/status')).body.data as any[]).find(
      (s) => s.domain === 'splynx' && s.job === 'customers' && s.company_id === COMPANY,
    );

  before(async () => {
    db = await createTestDatabase('gateway');
    await insertCompanies(db, [COMPANY]);
    smtp = await smtpSink();
    webhook = await webhookSink();
    const splynxUrl = await simulator.start();
    await probe.watch([Topic.RunCompleted]);
    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: `${API_KEY},${OTHER_KEY}`,
      SCHEDULER_RUN_ON_START: 'none',
    };
    scheduler = await startAppProcess('scheduler', common, 'gateway-e2e-scheduler');
    splynx = await startAppProcess(
      'splynx-sync',
      {
        ...common,
        SPLYNX_URL: splynxUrl,
        SPLYNX_API_KEY: simulator.apiKey,
        SPLYNX_API_SECRET: simulator.apiSecret,
        HTTP_RETRIES: '0',
      },
      'gateway-e2e-splynx-sync',
    );
    gateway = await startAppProcess(
      'gateway',
      {
        ...common,
        SCHEDULER_URL: scheduler.url,
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        NOTIFY_EMAIL_TO: 'ops@example.com',
        NOTIFY_EMAIL_FROM: 'hub@example.com',
        NOTIFY_WEBHOOK_URL: webhook.url,
        GATEWAY_RATE_LIMIT_PER_MINUTE: '100000',
      },
      'gateway-e2e-gateway',
    );
  });

  after(async () => {
    await Promise.all([gateway?.stop(), scheduler?.stop(), splynx?.stop()]);
    await probe.close();
    await simulator.stop();
    await smtp?.close();
    await webhook?.close();
    await db?.drop();
  });

  it('every /api route without a key, or with a wrong one, is 401; health, metrics, docs and the dashboard are open', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/api/runs'],
      ['GET', `/api/runs/${randomUUID()}`],
      ['GET', '/api/status'],
      ['POST', '/api/syncs/splynx/customers/run'],
      ['GET', '/api/companies'],
      ['POST', '/api/companies'],
      ['GET', '/api/companies/1'],
      ['PATCH', '/api/companies/1'],
      ['GET', '/api/companies/1/schedules'],
      ['POST', '/api/companies/1/schedules'],
      ['PATCH', '/api/schedules/1/toggle'],
      ['DELETE', '/api/schedules/1'],
      ['POST', '/api/schedules/1/run'],
      ['GET', '/api/settings/reseller.usage_sync_interval_minutes'],
      ['PUT', '/api/settings/reseller.usage_sync_interval_minutes'],
    ];
    for (const [method, path] of routes) {
      assert.equal(
        (await call(method, path, method === 'GET' || method === 'DELETE' ? undefined : {}, null)).status,
        401,
        `${method} ${path}`,
      );
      assert.equal(
        (await call(method, path, method === 'GET' || method === 'DELETE' ? undefined : {}, 'a-wrong-key-0123456789'))
          .status,
        401,
        `${method} ${path}, wrong key`,
      );
    }
    for (const path of ['/health/live', '/health/ready', '/metrics', '/docs-json', '/docs/events', '/'])
      assert.equal((await call('GET', path, undefined, null)).status, 200, path);
  });

  it('OpenAPI describes every public route and DTO, the forwarded company, schedule, settings and usage routes included', async () => {
    const doc = (await call('GET', '/docs-json', undefined, null)).body;
    assert.deepEqual(
      Object.keys(doc.paths)
        .filter((p) => p.startsWith('/api'))
        .sort(),
      [
        '/api/companies',
        '/api/companies/{companyId}/connections',
        '/api/companies/{companyId}/connections/devpos',
        '/api/companies/{companyId}/connections/quickbooks/authorize',
        '/api/companies/{companyId}/connections/{provider}',
        '/api/companies/{companyId}/documents',
        '/api/companies/{companyId}/documents/{eic}',
        '/api/companies/{companyId}/documents/{eic}/retry',
        '/api/companies/{companyId}/schedules',
        '/api/companies/{id}',
        '/api/crm/customers',
        '/api/crm/customers/duplicates',
        '/api/crm/customers/{id}',
        '/api/crm/customers/{id}/push',
        '/api/crm/customers/{id}/resolve',
        '/api/crm/customers/{id}/sync',
        '/api/runs',
        '/api/runs/{runId}',
        '/api/schedules/{id}',
        '/api/schedules/{id}/run',
        '/api/schedules/{id}/toggle',
        '/api/settings/{key}',
        '/api/status',
        '/api/syncs/{domain}/{job}/run',
        '/api/usage/configs',
        '/api/usage/configs/{id}',
        '/api/usage/configs/{id}/sync',
        '/api/usage/panels',
        '/api/usage/panels/{id}',
        '/api/usage/resellers',
      ],
    );
    for (const schema of [
      'UpsertScheduleDto',
      'ToggleScheduleDto',
      'PutSettingDto',
      'ManualRunDto',
      'CreateCompanyDto',
      'UpdateCompanyDto',
    ])
      assert.ok(doc.components.schemas[schema], schema);
    assert.deepEqual(doc.paths['/api/companies'].post.tags, ['companies']);
    assert.deepEqual(doc.paths['/api/companies/{companyId}/schedules'].post.tags, ['schedules']);
    assert.ok(doc.paths['/api/companies/{id}'].patch.responses['404'], 'PATCH documents its 404');
    assert.ok(doc.components.schemas.UpsertScheduleDto.properties.day_of_week);
    assert.match((await call('GET', '/docs', undefined, null)).body, /swagger/i);
  });

  it('bad bodies and queries are 400 naming each field, also on forwarded routes; unknown ids 404', async () => {
    const manual = await call('POST', '/api/syncs/splynx/customers/run', { company_id: 0, colour: 'red' });
    assert.equal(manual.status, 400);
    assert.deepEqual(Object.keys(manual.body.fields).sort(), ['colour', 'company_id']);
    const schedule = await call('POST', '/api/companies/1/schedules', {
      job_type: 'sales',
      frequency: 'weekly',
      hour_of_day: 30,
    });
    assert.equal(schedule.status, 400);
    assert.deepEqual(Object.keys(schedule.body.fields).sort(), ['day_of_week', 'hour_of_day']);
    const runs = await call('GET', '/api/runs?limit=0&status=weird&since=yesterday');
    assert.equal(runs.status, 400);
    assert.deepEqual(Object.keys(runs.body.fields).sort(), ['limit', 'since', 'status']);
    assert.equal((await call('GET', `/api/runs/${randomUUID()}`)).status, 404);
    const unknownJob = await call('POST', '/api/syncs/erp/invoices/run', {});
    assert.equal(unknownJob.status, 400, 'an unknown job is a bad request naming the registered jobs');
    assert.match(unknownJob.body.message[0], /no job erp\/invoices .*registered jobs: splynx\/customers, /);
    const otherDomains = await call('POST', '/api/syncs/splynx/reseller.usage/run', {});
    assert.equal(otherDomains.status, 400, "another domain's job is not one of this domain's");
    assert.match(otherDomains.body.message[0], /no job splynx\/reseller\.usage .*splynx\/customers\.full/);
    const badParams = await call('POST', '/api/syncs/splynx/customers/run', { params: { limit: 0, colour: 'red' } });
    assert.equal(badParams.status, 400);
    assert.deepEqual(Object.keys(badParams.body.fields).sort(), ['params.colour', 'params.limit']);
    assert.equal((await call('PATCH', '/api/schedules/424242/toggle', { enabled: true })).status, 404, 'forwarded 404');
  });

  it('the company routes are forwarded to the scheduler: POST creates (201), GET and PATCH answer as the scheduler does', async () => {
    const created = await call('POST', '/api/companies', { name: 'Through the gateway' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(
      [created.body.name, created.body.timezone, created.body.active],
      ['Through the gateway', 'Europe/Tirane', true],
    );
    const direct = await call('GET', `/api/companies/${created.body.id}`, undefined, API_KEY, () => scheduler);
    assert.deepEqual((await call('GET', `/api/companies/${created.body.id}`)).body, direct.body);
    assert.deepEqual(direct.body, created.body, 'stored by the scheduler');
    const listed = (await call('GET', '/api/companies')).body.map((c: { id: number }) => c.id);
    assert.deepEqual(listed, [1, COMPANY, created.body.id]);
    const patched = await call('PATCH', `/api/companies/${created.body.id}`, { active: false });
    assert.deepEqual([patched.status, patched.body.active], [200, false]);
    const bad = await call('PATCH', `/api/companies/${created.body.id}`, { timezone: 'Mars/Olympus' });
    assert.deepEqual([bad.status, Object.keys(bad.body.fields)], [400, ['timezone']], "the scheduler's 400, unchanged");
    const unknown = await call('GET', '/api/companies/424242');
    assert.deepEqual([unknown.status, unknown.body.message], [404, 'company 424242 not found']);
    const noCompany = await call('POST', '/api/companies/424242/schedules', { job_type: 'ping', frequency: 'hourly' });
    assert.deepEqual([noCompany.status, noCompany.body.message], [404, 'company 424242 not found']);
  });

  it('a failing upstream sends exactly one email and one webhook (a webhook that is down is retried); the recovery sends one more of each', async () => {
    // The company's schedule: the status shows its next run, and ten failures pause it. Its minute is half an hour
    // from now, so that it never comes due while these tests run (a fixed minute 15 did when the file ran across
    // XX:15, and its run showed as `running` where a failed one was expected). Europe/Tirane is a whole number of
    // hours from UTC, so its minutes are UTC's.
    const minute = (new Date().getUTCMinutes() + 30) % 60;
    assert.equal(
      (
        await call('POST', `/api/companies/${COMPANY}/schedules`, {
          domain: 'splynx',
          job_type: 'customers',
          frequency: 'hourly',
          minute,
        })
      ).status,
      201,
    );
    webhook.failNext.n = 1;
    simulator.setFaults({ errorRate: 1 });
    const first = await runSplynx();
    assert.equal(first.status, 'failed');
    const second = await runSplynx();
    assert.equal(second.status, 'failed');
    await eventually(() => (ours(smtp.mails).length >= 1 ? true : undefined), 'the failure email', 20000);
    await eventually(
      () => (webhook.received.length >= 1 ? true : undefined),
      'the failure webhook, after its retry',
      40000,
    );
    assert.equal(webhook.attempts.n, 2, 'delivered on the second attempt');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(ours(smtp.mails).length, 1, 'one email for two failed runs');
    assert.equal(webhook.received.length, 1, 'one webhook for two failed runs');
    const mail = ours(smtp.mails)[0];
    assert.deepEqual(mail.to, ['ops@example.com']);
    assert.match(mail.raw, /Subject: \[sync hub\] splynx\/customers \(company 4242\) failed/);
    assert.match(mail.raw, new RegExp(first.run_id));
    assert.match(mail.raw, /source\/UPSTREAM_UNAVAILABLE \(retriable\)/);
    assert.match(mail.raw, /Last success: never/);
    assert.match(mail.raw, /What to do: The splynx API answered server errors \(5xx\) on every attempt/);
    const hook = webhook.received[0];
    assert.equal(hook.kind, 'failure');
    assert.equal(hook.run_id, first.run_id);
    assert.deepEqual(
      [hook.domain, hook.job, hook.company_id, hook.error.code, hook.error.origin],
      ['splynx', 'customers', COMPANY, 'UPSTREAM_UNAVAILABLE', 'source'],
    );
    assert.equal((await splynxStatus()).state, 'failing');
    assert.equal((await splynxStatus()).consecutive_failures, 2);

    simulator.clearFaults();
    const recovered = await runSplynx();
    assert.equal(recovered.status, 'completed');
    await eventually(
      () => (ours(smtp.mails).length === 2 && webhook.received.length === 2 ? true : undefined),
      'the recovery email and webhook',
      20000,
    );
    assert.match(ours(smtp.mails)[1].raw, /Subject: \[sync hub\] splynx\/customers \(company 4242\) recovered/);
    assert.equal(webhook.received[1].kind, 'recovery');
    const status = await splynxStatus();
    assert.equal(status.state, 'healthy');
    assert.equal(status.consecutive_failures, 0);
    assert.ok(status.last_success_at);
    assert.ok(status.next_run_at, 'the hourly schedule has a next run');
  });

  it('ten consecutive failures pause the schedule through the scheduler, with a reason, and that is notified', async () => {
    const mailsBefore = ours(smtp.mails).length;
    simulator.setFaults({ errorRate: 1 });
    try {
      for (let i = 1; i <= 10; i++) assert.equal((await runSplynx()).status, 'failed', `failure ${i}`);
    } finally {
      simulator.clearFaults();
    }
    const schedule = await eventually(
      async () => {
        const list = (await call('GET', `/api/companies/${COMPANY}/schedules`)).body as any[];
        const s = list.find((x) => x.domain === 'splynx' && x.job_type === 'customers');
        return s.enabled === false ? s : undefined;
      },
      'the splynx schedule to be paused',
      20000,
    );
    assert.match(schedule.paused_reason, /paused after 10 consecutive failures \(last: UPSTREAM_UNAVAILABLE/);
    assert.equal(schedule.next_run_at, null);
    await eventually(
      () => (ours(smtp.mails).length === mailsBefore + 2 ? true : undefined),
      'failure and paused emails',
      20000,
    );
    assert.match(ours(smtp.mails)[mailsBefore].raw, /\) failed/);
    assert.match(ours(smtp.mails)[mailsBefore + 1].raw, /paused after 10 failures/);
    assert.match(ours(smtp.mails)[mailsBefore + 1].raw, /Then enable the schedule again/);
    await eventually(
      () => (webhook.received.some((h) => h.kind === 'paused') ? true : undefined),
      'the paused webhook',
    );
    assert.equal((await splynxStatus()).state, 'paused');
  });

  it('run events out of order give one correct row', async () => {
    const runId = randomUUID();
    const base = {
      runId,
      domain: 'splynx',
      job: 'customers',
      companyId: 7,
      trigger: 'manual',
      scheduledFor: '2026-11-21T10:00:00.000Z',
      startedAt: '2026-11-21T10:00:01.000Z',
    };
    const stats = { fetched: 5, created: 5, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
    await probe.produce(
      Topic.RunCompleted,
      runId,
      envelope(
        'sync.run.completed',
        { ...base, finishedAt: '2026-11-21T10:00:04.000Z', durationMs: 3000, stats },
        runId,
      ),
    );
    await probe.produce(
      Topic.RunStarted,
      runId,
      envelope('sync.run.started', { ...base, stats: { ...stats, fetched: 0, created: 0 } }, runId),
    );
    await probe.produce(
      Topic.RunCompleted,
      runId,
      envelope(
        'sync.run.completed',
        { ...base, finishedAt: '2026-11-21T10:00:04.000Z', durationMs: 3000, stats },
        runId,
      ),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const row = await eventually(async () => {
      const r = await call('GET', `/api/runs/${runId}`);
      return r.status === 200 ? r.body : undefined;
    }, 'the run row');
    assert.equal(row.status, 'completed');
    assert.equal(row.started_at, '2026-11-21T10:00:01.000Z');
    assert.equal(row.finished_at, '2026-11-21T10:00:04.000Z');
    assert.deepEqual(row.stats, stats);
    const listed = (await call('GET', '/api/runs?company_id=7')).body.data;
    assert.equal(listed.length, 1);
  });

  it('a run completed with warnings shows them through the API and status, and sends one warning notification per channel', async () => {
    const runId = randomUUID();
    const warnings = [
      'QuickBooks refresh token of company 4242 expires in 9 days: reconnect QuickBooks',
      'DevPos password of company 4242 was last changed 360 days ago',
    ];
    const hooksBefore = webhook.received.length;
    await probe.produce(
      Topic.RunCompleted,
      runId,
      envelope(
        'sync.run.completed',
        {
          runId,
          domain: 'accounting',
          job: 'connections.check',
          companyId: COMPANY,
          trigger: 'schedule',
          startedAt: new Date(Date.now() - 2000).toISOString(),
          finishedAt: new Date().toISOString(),
          durationMs: 2000,
          stats: { fetched: 2, created: 0, updated: 0, unchanged: 2, skipped: 0, failed: 0 },
          warnings,
        },
        runId,
      ),
    );
    const row = await eventually(async () => {
      const r = await call('GET', `/api/runs/${runId}`);
      return r.status === 200 ? r.body : undefined;
    }, 'the warned run row');
    assert.equal(row.status, 'completed');
    assert.deepEqual(row.warnings, warnings);
    const listed = (await call('GET', `/api/runs?domain=accounting&company_id=${COMPANY}`)).body.data as any[];
    assert.deepEqual(listed.find((r) => r.run_id === runId)?.warnings, warnings);
    const quiet = (await call('GET', `/api/runs?domain=splynx&company_id=${COMPANY}`)).body.data as any[];
    assert.ok(quiet.length > 0);
    assert.ok(
      quiet.every((r) => Array.isArray(r.warnings) && r.warnings.length === 0),
      'runs without warnings answer an empty list',
    );
    const job = ((await call('GET', '/api/status')).body.data as any[]).find(
      (s) => s.domain === 'accounting' && s.job === 'connections.check' && s.company_id === COMPANY,
    );
    assert.deepEqual([job.state, job.last_run.run_id, job.last_run.warnings], ['healthy', runId, warnings]);

    const hook = await eventually(() => webhook.received.find((h) => h.run_id === runId), 'the warning webhook', 20000);
    assert.equal(hook.kind, 'warning');
    assert.equal(
      hook.subject,
      `[sync hub] accounting/connections.check (company ${COMPANY}) completed with 2 warnings`,
    );
    assert.deepEqual(hook.warnings, warnings);
    assert.equal(hook.action, 'Act on each warning before it becomes a failure.');
    assert.ok(hook.text.includes(`completed with 2 warnings:\n- ${warnings[0]}\n- ${warnings[1]}\n`), hook.text);
    const mail = await eventually(
      () => ours(smtp.mails).find((m) => m.raw.includes(runId)),
      'the warning email',
      20000,
    );
    assert.match(
      mail.raw,
      /Subject: \[sync hub\] accounting\/connections\.check \(company 4242\) completed with 2 warnings/,
    );
    assert.match(mail.raw, /What to do: Act on each warning before it becomes a failure\./);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(webhook.received.length, hooksBefore + 1, 'one warning webhook, nothing else for this run');
  });

  it('GET /api/runs pages with a cursor and filters by domain, status, company and time', async () => {
    const all = (await call('GET', `/api/runs?domain=splynx&company_id=${COMPANY}&limit=500`)).body.data as any[];
    assert.ok(all.length >= 13);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await call(
        'GET',
        `/api/runs?domain=splynx&company_id=${COMPANY}&limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.ok(page.body.data.length <= 4);
      seen.push(...page.body.data.map((r: any) => r.run_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual(
      seen,
      all.map((r) => r.run_id),
      'pages cover every run once, in order',
    );
    const failed = (await call('GET', `/api/runs?status=failed&company_id=${COMPANY}`)).body.data as any[];
    assert.ok(failed.length >= 12 && failed.every((r) => r.status === 'failed'));
    assert.deepEqual(
      (await call('GET', `/api/runs?company_id=${COMPANY}&since=${new Date(Date.now() + 60000).toISOString()}`)).body
        .data,
      [],
    );
  });

  it('rate-limits each API key', async () => {
    const limited = await startAppProcess(
      'gateway',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        DATABASE_URL: db.url,
        GATEWAY_API_KEYS: `${API_KEY},${OTHER_KEY}`,
        SCHEDULER_URL: scheduler.url,
        GATEWAY_RATE_LIMIT_PER_MINUTE: '5',
        KAFKA_GROUP_ID: 'gateway-rate-limit-e2e',
      },
      'gateway-e2e-limited',
    );
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await call('GET', '/api/status', undefined, API_KEY, () => limited)).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
      assert.equal(
        (await call('GET', '/api/status', undefined, OTHER_KEY, () => limited)).status,
        200,
        'another key has its own budget',
      );
      assert.equal(
        (await call('GET', '/health/ready', undefined, null, () => limited)).status,
        200,
        'health is not limited',
      );
    } finally {
      await limited.stop();
    }
  });
});
