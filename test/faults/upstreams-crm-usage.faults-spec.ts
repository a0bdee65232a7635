import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { jobKey, Topic } from '@sync-hub/contracts';
import { SecretBox } from '@sync-hub/persistence';
import { CpExportSimulator, EylandooSimulator, MarzbanSimulator, RobawsSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe, SeenMessage } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

const API_KEY = 'faults-upstreams-crm-usage-key-0123456789';
/** A company id no other suite uses: notification states are per (company, domain, job). */
const COMPANY = 1406;
const CLIENTS = 120;
const PAGE = 20;
const PAGES = CLIENTS / PAGE;
/** The Robaws client's attempts of one request (its floor of 3 retries), and its 429 rounds (1 + 2). */
const ROBAWS_ATTEMPTS = 4;
const ROBAWS_THROTTLED_ATTEMPTS = ROBAWS_ATTEMPTS * 3;
/** The job registry's tries of a run (1 + retries) after a retriable failure. */
const ROBAWS_TRIES = 3;
const CP_ATTEMPTS = 3;
const CP_TRIES = 2;
const USAGE_TRIES = 2;
const CONFIGS_PER_PANEL = 3;
/** Panel-level failures in a row that open a panel's circuit (PanelCircuits). */
const CIRCUIT_FAILURES = 5;
const RUN_TOPICS = [Topic.RunStarted, Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped];

interface Hook {
  kind: string;
  domain: string;
  job: string;
  company_id: number;
  error: { origin: string; code: string; retriable: boolean } | null;
}

/** The notification webhook: every message the gateway sends for this suite's company. */
async function webhookSink(): Promise<{ url: string; received: Hook[]; close: () => Promise<void> }> {
  const received: Hook[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const hook = JSON.parse(body) as Hook;
      if (hook.company_id === COMPANY) received.push(hook);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/sync`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * Scenario 6 of the fault suite for Robaws, the loyalty-club export and the VPN panels: crm-sync, usage-sync and the
 * gateway as processes on the faults broker and MariaDB, the upstreams as simulators in this process whose scripted
 * faults let each request be counted. Three lanes run at once (Robaws, the export, the panels); in each, runs follow
 * one another. Asserted: the requests each policy allows, exactly; the `failed` event's classification; one failure
 * notification per incident (N failed runs in a row: one; a success, then a failure: a second); a run's partial
 * stats in its `failed` event and in `sync_runs`; a panel failing gives its configs a hard failure (usage kept) while
 * the run completes.
 */
describe('slow and failing upstreams: Robaws, the loyalty-club export, VPN panels (crm-sync, usage-sync, gateway)', () => {
  let db: TestDatabase;
  let crm: AppProcess;
  let usage: AppProcess;
  let gateway: AppProcess;
  let sink: Awaited<ReturnType<typeof webhookSink>>;
  const probe = new KafkaProbe();
  const secretsKey = randomBytes(32);
  const robaws = new RobawsSimulator({ clients: CLIENTS, seed: 1406 });
  const cp = new CpExportSimulator({ rows: 30, seed: 1406 });
  const eylandoo = new EylandooSimulator({ seed: 1406, growBytesPerRead: 0 });
  const marzban = new MarzbanSimulator({
    seed: 1407,
    growBytesPerRead: 0,
    adminPassword: `faults-mzb-${randomBytes(6).toString('hex')}`,
  });
  const configIds: Record<'eylandoo' | 'marzban', number[]> = { eylandoo: [], marzban: [] };

  let sending: Promise<void> = Promise.resolve();
  const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => db.dataSource.query(sql, params);

  /** Sends a tick of this suite's company and waits for the run's end. */
  const run = async (domain: 'crm' | 'usage', job: string, params?: Record<string, unknown>) => {
    const t = tick(domain, job, { companyId: COMPANY, ...(params ? { params } : {}) });
    // One send at a time: the probe connects its producer on the first send, and the lanes start together.
    const sent = (sending = sending.then(() =>
      probe.produce(domain === 'crm' ? Topic.CrmRequested : Topic.UsageRequested, t.key, t.value),
    ));
    await sent;
    const end: SeenMessage = await probe.waitForRunEnd(t.value.payload.runId, 120_000);
    return { runId: t.value.payload.runId, end, payload: end.json.payload };
  };
  const classification = (payload: { error?: Hook['error'] }) =>
    payload.error ? [payload.error.origin, payload.error.code, payload.error.retriable] : null;
  const syncRun = async (runId: string) =>
    eventually(
      async () => {
        const [row] = await q<{ status: string; stats: string | null }>(
          'SELECT status, stats FROM sync_runs WHERE run_id = ?',
          [runId],
        );
        return row && row.status !== 'running'
          ? { status: row.status, stats: JSON.parse(row.stats ?? 'null') }
          : undefined;
      },
      `sync_runs row of ${runId}`,
      30_000,
    );
  /** Queued notifications of one job, by kind, in order. */
  const queued = async (domain: string, job: string): Promise<string[]> =>
    (
      await q<{ kind: string }>('SELECT kind FROM notifications WHERE job_key = ? ORDER BY id', [
        jobKey(COMPANY, domain, job),
      ])
    ).map((r) => r.kind);

  before(async () => {
    db = await createTestDatabase('faults_upstreams_b');
    sink = await webhookSink();
    const [robawsUrl] = await Promise.all([robaws.start(), cp.start(), eylandoo.start(), marzban.start()]);
    const box = new SecretBox(secretsKey);
    const [{ insertId: reseller }] = [
      (await q('INSERT INTO resellers (name, created_at, updated_at) VALUES (?, NOW(3), NOW(3))', [
        'Faults Reseller',
      ])) as unknown as { insertId: number },
    ];
    const panels: Array<['eylandoo' | 'marzban', string, object]> = [
      ['eylandoo', eylandoo.url, { apiKey: eylandoo.apiKey }],
      ['marzban', marzban.url, { username: marzban.adminUsername, password: marzban.adminPassword }],
    ];
    for (const [type, url, credentials] of panels) {
      const { insertId: panel } = (await q(
        `INSERT INTO panels (name, type, url, max_concurrency, active, created_at, updated_at)
         VALUES (?, ?, ?, 8, 1, NOW(3), NOW(3))`,
        [`faults-${type}`, type, url],
      )) as unknown as { insertId: number };
      await q('UPDATE panels SET credentials_sealed = ? WHERE id = ?', [
        box.sealJson(credentials, `panels:${panel}`),
        panel,
      ]);
      for (let i = 1; i <= CONFIGS_PER_PANEL; i++) {
        const { insertId } = (await q(
          `INSERT INTO reseller_configs (reseller_id, panel_id, external_username, status, usage_bytes, created_at, updated_at)
           VALUES (?, ?, ?, 'active', 1000, NOW(3), NOW(3))`,
          [reseller, panel, `user${i}`],
        )) as unknown as { insertId: number };
        configIds[type].push(insertId);
      }
    }
    await probe.watch(RUN_TOPICS);
    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: API_KEY,
      SCHEDULER_RUN_ON_START: 'none',
    };
    [crm, usage, gateway] = await Promise.all([
      startAppProcess(
        'crm-sync',
        {
          ...common,
          KAFKA_GROUP_ID: await freshGroup('faults-upstreams-crm', [Topic.CrmRequested]),
          ROBAWS_URL: robawsUrl,
          ROBAWS_API_KEY: robaws.apiKey,
          ROBAWS_API_SECRET: robaws.apiSecret,
          ROBAWS_PAGE_SIZE: String(PAGE),
          HTTP_RETRY_BASE_DELAY_MS: '10',
          CP_EXPORT_URL: cp.exportUrl,
          CP_VISIT_URL: cp.visitUrl,
          CP_EXPORT_TOKEN: cp.token,
          CP_EXPORT_TIMEOUT: '1',
          CP_EXPORT_RETRY_ATTEMPTS: String(CP_ATTEMPTS),
          CP_EXPORT_RETRY_DELAY: '0',
          CP_EXPORT_BATCH_LIMIT: '10',
        },
        'faults-upstreams-crm-sync',
      ),
      startAppProcess(
        'usage-sync',
        {
          ...common,
          KAFKA_GROUP_ID: await freshGroup('faults-upstreams-usage', [Topic.UsageRequested]),
          SECRETS_KEY: secretsKey.toString('base64'),
          USAGE_PANEL_TIMEOUT: '1',
        },
        'faults-upstreams-usage-sync',
      ),
      startAppProcess(
        'gateway',
        {
          ...common,
          KAFKA_GROUP_ID: await freshGroup('faults-upstreams-gateway', RUN_TOPICS),
          NOTIFY_WEBHOOK_URL: sink.url,
        },
        'faults-upstreams-gateway',
      ),
    ]);
  });

  after(async () => {
    cp.resetFaults();
    await Promise.all([crm?.stop(), usage?.stop(), gateway?.stop()]);
    await probe.close();
    await Promise.all([robaws.stop(), cp.stop(), eylandoo.stop(), marzban.stop(), sink?.close()]);
    await db?.drop();
  });

  /** Robaws: a cut body after three pages; a 5xx burst ridden out; a throttle streak and a 5xx incident. */
  const robawsLane = async () => {
    // (a) Every body cut off after three pages: a cut body is asked again like a 5xx (ROBAWS_ATTEMPTS per request),
    // then the try fails; the next tries are cut from their first page. What the first try wrote is in the failed
    // event, which reports the try that got furthest.
    robaws.setFaults({ script: [{ kind: 'truncate', times: 1000, after: 3 }] });
    let before = robaws.counters.requests;
    const cut = await run('crm', 'robaws.customers.full');
    robaws.clearFaults();
    assert.equal(cut.end.topic, Topic.RunFailed, cut.end.value);
    assert.deepEqual(classification(cut.payload), ['source', 'UPSTREAM_BAD_RESPONSE', true]);
    assert.equal(
      robaws.counters.requests - before,
      3 + ROBAWS_TRIES * ROBAWS_ATTEMPTS,
      'three pages, then each try asks a cut page ROBAWS_ATTEMPTS times',
    );
    const written = Number((await q('SELECT COUNT(*) AS n FROM robaws_customers'))[0].n);
    assert.equal(written, 3 * PAGE, 'the three pages read were stored');
    assert.deepEqual([cut.payload.stats.fetched, cut.payload.stats.created], [written, written], 'and reported');
    const cutRow = await syncRun(cut.runId);
    assert.equal(cutRow.status, 'failed');
    assert.deepEqual([cutRow.stats.fetched, cutRow.stats.created], [written, written], 'sync_runs keeps them');

    // (b) Three 503s, then Robaws answers: the client's retries absorb them, the run completes (and recovers).
    robaws.setFaults({ script: [{ kind: 'error', times: 3, status: 503 }] });
    before = robaws.counters.requests;
    const burst = await run('crm', 'robaws.customers.full');
    assert.equal(burst.end.topic, Topic.RunCompleted, burst.end.value);
    assert.equal(robaws.counters.requests - before, 3 + PAGES);
    assert.deepEqual([burst.payload.stats.created, burst.payload.stats.unchanged], [CLIENTS - written, written]);

    // (c) Throttled for good, three runs in a row: each gives up after the bounded attempts of each try.
    const streak: string[] = [];
    for (let i = 0; i < 3; i++) {
      robaws.setFaults({ script: [{ kind: 'rate-limited', times: 1000, retryAfterSeconds: 0 }] });
      before = robaws.counters.requests;
      const throttled = await run('crm', 'robaws.customers.incremental');
      robaws.clearFaults();
      assert.equal(throttled.end.topic, Topic.RunFailed, throttled.end.value);
      assert.deepEqual(classification(throttled.payload), ['source', 'UPSTREAM_RATE_LIMITED', true]);
      assert.equal(robaws.counters.requests - before, ROBAWS_TRIES * ROBAWS_THROTTLED_ATTEMPTS);
      streak.push(throttled.runId);
    }
    // (d) A success ends the incident; the next failure (5xx) is a new one.
    const ok = await run('crm', 'robaws.customers.incremental');
    assert.equal(ok.end.topic, Topic.RunCompleted, ok.end.value);
    robaws.setFaults({ script: [{ kind: 'error', times: 1000, status: 503 }] });
    before = robaws.counters.requests;
    const down = await run('crm', 'robaws.customers.incremental');
    robaws.clearFaults();
    assert.equal(down.end.topic, Topic.RunFailed, down.end.value);
    assert.deepEqual(classification(down.payload), ['source', 'UPSTREAM_UNAVAILABLE', true]);
    assert.equal(robaws.counters.requests - before, ROBAWS_TRIES * ROBAWS_ATTEMPTS);
    return { streak, down: down.runId };
  };

  /** The export: it hangs; every attempt of every try times out, then it is fine again. */
  const cpLane = async () => {
    cp.setFaults({ hangNext: 1000, hangMs: 0 });
    const before = cp.counters.requests;
    const started = Date.now();
    const hung = await run('crm', 'cp.export');
    const ms = Date.now() - started;
    cp.resetFaults();
    assert.equal(hung.end.topic, Topic.RunFailed, hung.end.value);
    assert.deepEqual(classification(hung.payload), ['source', 'UPSTREAM_TIMEOUT', true]);
    assert.equal(cp.counters.requests - before, CP_TRIES * CP_ATTEMPTS);
    cp.setFaults({ script: [{ kind: 'error', times: 2 }] });
    const recovered = await run('crm', 'cp.export');
    assert.equal(recovered.end.topic, Topic.RunCompleted, recovered.end.value);
    return { hungMs: ms };
  };

  /** The panels: one failing (the run completes, its configs hard failures), then both (the run fails) three times. */
  const usageLane = async () => {
    marzban.setFaults({ errorRate: 1, errorStatus: 502 });
    const partial = await run('usage', 'reseller.usage');
    assert.equal(partial.end.topic, Topic.RunCompleted, partial.end.value);
    const s = partial.payload.stats;
    assert.deepEqual([s.fetched, s.failed, s.panelTypes.marzban.hardFailures], [3, 3, 3]);
    assert.equal(marzban.counters.requests, CONFIGS_PER_PANEL, 'one request (the login) per config, no retry');
    const rows = await q<{ id: number; usage_bytes: string; last_usage_error: string | null }>(
      `SELECT id, usage_bytes, last_usage_error FROM reseller_configs WHERE id IN (${configIds.marzban.join(',')})`,
    );
    for (const r of rows) {
      assert.equal(Number(r.usage_bytes), 1000, 'the usage is kept, never 0');
      assert.match(r.last_usage_error ?? '', /HTTP 502/);
    }

    const eylandooBefore = eylandoo.counters.requests;
    assert.equal(eylandooBefore, CONFIGS_PER_PANEL, 'its three configs read');
    eylandoo.setFaults({ errorRate: 1, errorStatus: 503 });
    const failed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const all = await run('usage', 'reseller.usage');
      assert.equal(all.end.topic, Topic.RunFailed, all.end.value);
      assert.deepEqual(classification(all.payload), ['source', 'USAGE_PANELS_FAILED', true]);
      assert.equal(all.payload.stats.failed, 2 * CONFIGS_PER_PANEL, 'the last try reported every config as failed');
      failed.push(all.runId);
    }
    // Each panel's circuit opened at its fifth failure in a row: no call since, in any try of any run.
    assert.equal(marzban.counters.requests, CIRCUIT_FAILURES, 'three in the partial run, two in the first try');
    assert.equal(eylandoo.counters.requests - eylandooBefore, CIRCUIT_FAILURES);
    return { failed, tries: USAGE_TRIES };
  };

  it('bounded attempts, the classification, one notification per incident, partial stats, a partial usage run', async () => {
    const started = Date.now();
    const [robawsRuns, cpRuns, usageRuns] = await Promise.all([robawsLane(), cpLane(), usageLane()]);
    const lanesMs = Date.now() - started;

    // Notifications: the gateway queues one per incident and channel (only the webhook here).
    await eventually(
      async () => ((await queued('crm', 'robaws.customers.incremental')).length === 3 ? true : undefined),
      'the incremental job’s notifications',
      30_000,
    );
    await eventually(
      async () => ((await queued('usage', 'reseller.usage')).length === 1 ? true : undefined),
      'the usage job’s notification',
      30_000,
    );
    await eventually(() => (sink.received.length >= 8 ? true : undefined), 'the webhook deliveries', 30_000);
    // A little longer than the send loop's interval: nothing more is on its way.
    await new Promise((r) => setTimeout(r, 2500));
    const byJob = (job: string) =>
      sink.received.filter((h) => h.job === job).map((h) => `${h.kind}${h.error ? `:${h.error.code}` : ''}`);
    console.log(
      `lanes ${lanesMs} ms (export hanging → failed after ${cpRuns.hungMs} ms); notifications: ` +
        JSON.stringify(
          Object.fromEntries(
            ['robaws.customers.full', 'robaws.customers.incremental', 'cp.export', 'reseller.usage'].map((j) => [
              j,
              byJob(j),
            ]),
          ),
        ),
    );
    assert.deepEqual(await queued('crm', 'robaws.customers.incremental'), ['failure', 'recovery', 'failure']);
    assert.deepEqual(byJob('robaws.customers.incremental'), [
      'failure:UPSTREAM_RATE_LIMITED',
      'recovery',
      'failure:UPSTREAM_UNAVAILABLE',
    ]);
    assert.deepEqual(byJob('robaws.customers.full'), ['failure:UPSTREAM_BAD_RESPONSE', 'recovery']);
    assert.deepEqual(byJob('cp.export'), ['failure:UPSTREAM_TIMEOUT', 'recovery']);
    assert.deepEqual(byJob('reseller.usage'), ['failure:USAGE_PANELS_FAILED'], 'three failed runs, one notification');
    const [state] = await q<{ consecutive_failures: number }>(
      'SELECT consecutive_failures FROM notification_states WHERE job_key = ?',
      [jobKey(COMPANY, 'usage', 'reseller.usage')],
    );
    assert.equal(state.consecutive_failures, usageRuns.failed.length);
    for (const runId of [...robawsRuns.streak, robawsRuns.down, ...usageRuns.failed])
      assert.equal((await syncRun(runId)).status, 'failed');

    // No secret in any log line of the three processes.
    for (const app of [crm, usage, gateway]) {
      const log = fs.readFileSync(app.logFile, 'utf8');
      for (const secret of [
        robaws.apiSecret,
        cp.token,
        marzban.adminPassword,
        eylandoo.apiKey,
        secretsKey.toString('base64'),
      ])
        assert.ok(!log.includes(secret), `${app.logFile} holds a secret`);
    }
  });
});
