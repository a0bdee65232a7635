import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { companyChangedMessage, findJob, Topic } from '@sync-hub/contracts';
import { DevposSimulator, QuickBooksSimulator, ScriptedFault, SplynxSimulator } from '@sync-hub/simulators';
import { simulatedAccountingEnv } from '../support/accounting-env';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe, SeenMessage } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually, freePort } from '../support/wait';

const CUSTOMERS = 500;
const PAGE_SIZE = 100;
const SPLYNX_LIST = '^GET /api/2.0/admin/customers/customer\\?';
/** The list page after customer 200: every try of a run writes two pages, then fails on this one. */
const SPLYNX_THIRD_PAGE = `${SPLYNX_LIST}.*main_attributes%5Bid%5D%5B1%5D=200&`;
const DEVPOS_SALES = '^GET /api/v3/EInvoice/GetSalesInvoice(\\?|$)';
const QBO_BATCH = '^POST /v3/company/[^/]+/batch(\\?|$)';
/** HTTP_RETRIES: a failing request is tried exactly this many times in all. */
const ATTEMPTS = 3;
/** A run failing retriably is tried again by the run library: its job declaration's retries, plus the first try. */
const RUN_TRIES = findJob('splynx', 'customers')!.retries + 1;
const ACCOUNTING_RUN_TRIES = findJob('accounting', 'sales')!.retries + 1;
const RANGE = { from: '2026-04-06', to: '2026-04-08' };

interface Hook {
  kind: string;
  domain: string;
  job: string;
  run_id: string;
  text: string;
  error: { code: string; origin: string; retriable: boolean } | null;
}

/** The notification webhook: keeps what the gateway sends. */
async function webhookSink(): Promise<{ url: string; received: Hook[]; close: () => Promise<void> }> {
  const received: Hook[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(JSON.parse(body) as Hook);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * Issue 14, scenario 6, for the billing upstreams: splynx-sync, accounting-sync and the gateway as processes on the
 * faults suite's broker and MariaDB, the Splynx, DevPos and QuickBooks simulators over HTTP with counted faults, and a
 * webhook receiving the gateway's notifications. Each failed run is classified in its `failed` event, keeps the records
 * it wrote (event and sync_runs), every upstream got exactly the attempts the retry policy allows, and a streak of
 * failures of one job is one notification. The Splynx and accounting scenarios run concurrently.
 */
describe('slow and failing billing upstreams (issue 14, scenario 6): Splynx, DevPos, QuickBooks', () => {
  let db: TestDatabase;
  const splynx = new SplynxSimulator({ customers: CUSTOMERS, seed: 66 });
  const devpos = new DevposSimulator({ seed: 66 });
  const qbo = new QuickBooksSimulator({ seed: 66 });
  let webhook: Awaited<ReturnType<typeof webhookSink>>;
  const probe = new KafkaProbe();
  const apps: AppProcess[] = [];

  const ended = async (topic: string, domain: 'splynx' | 'accounting', job: string): Promise<SeenMessage> => {
    const t = tick(domain, job, domain === 'accounting' ? { params: RANGE } : {});
    await probe.produce(topic, t.key, t.value);
    return probe.waitForRunEnd(t.value.payload.runId, 60000);
  };
  const classOf = (end: SeenMessage) => {
    const e = end.json.payload.error;
    return e ? [e.origin, e.code, e.retriable] : null;
  };
  const storedRun = async (runId: string) => {
    const found = await eventually(async () => {
      const [row] = await db.dataSource.query<Array<{ status: string; stats: unknown; error: unknown }>>(
        'SELECT status, stats, error FROM sync_runs WHERE run_id = ?',
        [runId],
      );
      return row && row.status !== 'running' ? row : undefined;
    }, `sync_runs ${runId}`);
    const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
    return { status: found.status, stats: json(found.stats), error: json(found.error) };
  };
  const hooksOf = (domain: string) => webhook.received.filter((h) => h.domain === domain).map((h) => h.kind);

  /** One Splynx run under counted faults on the customer list: its end and the list requests it made. */
  const splynxRun = async (...script: ScriptedFault[]) => {
    splynx.requests.clear();
    splynx.setFaults({ script: script.map((f) => ({ path: SPLYNX_LIST, ...f })) });
    const end = await ended(Topic.SplynxRequested, 'splynx', 'customers');
    splynx.clearFaults();
    return { end, requests: splynx.requestCount('GET /api/2.0/admin/customers/customer') };
  };
  const requestsOf = (sim: { requests: Map<string, number> }, pattern: string) =>
    [...sim.requests].filter(([k]) => new RegExp(pattern).test(k)).reduce((n, [, v]) => n + v, 0);

  before(async () => {
    db = await createTestDatabase('faults_upstreams_billing');
    webhook = await webhookSink();
    const [splynxUrl, devposUrl] = await Promise.all([splynx.start(), devpos.start(), qbo.start()]);
    devpos.generate(devpos.users[0].tenant, { ...RANGE, salesPerDay: 25, purchasesPerDay: 0 });
    await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
    const now = new Date().toISOString();
    const company = companyChangedMessage({
      id: 1,
      name: 'Company 1',
      timezone: 'Europe/Tirane',
      active: true,
      createdAt: now,
      updatedAt: now,
    });
    await probe.produce(company.topic, company.key, company.value);
    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: 'upstreams-billing-key',
      // Short limits so every failure is quick: 3 attempts, 1 ms backoff, 500 ms per request.
      HTTP_RETRIES: String(ATTEMPTS - 1),
      HTTP_RETRY_BASE_DELAY_MS: '1',
      HTTP_TIMEOUT_MS: '500',
    };
    const started = await Promise.all([
      startAppProcess(
        'splynx-sync',
        {
          ...common,
          KAFKA_GROUP_ID: await freshGroup('faults-upstreams-splynx', [Topic.SplynxRequested]),
          SPLYNX_URL: splynxUrl,
          SPLYNX_API_KEY: splynx.apiKey,
          SPLYNX_API_SECRET: splynx.apiSecret,
          SPLYNX_PAGE_SIZE: String(PAGE_SIZE),
        },
        'faults-upstreams-splynx-sync',
      ),
      startAppProcess(
        'accounting-sync',
        {
          ...common,
          KAFKA_GROUP_ID: await freshGroup('faults-upstreams-accounting', [Topic.AccountingRequested]),
          SECRETS_KEY: randomBytes(32).toString('base64'),
          ...simulatedAccountingEnv(qbo, qbo.connect(), devpos, devposUrl),
          DEVPOS_TIMEOUT_MS: '500',
          QBO_RATE_LIMIT_WAIT_SECONDS: '1',
        },
        'faults-upstreams-accounting-sync',
      ),
      startAppProcess(
        'gateway',
        {
          ...common,
          SCHEDULER_URL: `http://127.0.0.1:${await freePort()}`,
          // From the end of the run topics: the suites before this one on the broker left run events (other companies'
          // failures, company 1's runs with warnings) that would notify here too.
          KAFKA_GROUP_ID: await freshGroup('faults-upstreams-billing-gateway', [
            Topic.RunStarted,
            Topic.RunCompleted,
            Topic.RunFailed,
            Topic.RunSkipped,
          ]),
          NOTIFY_WEBHOOK_URL: webhook.url,
        },
        'faults-upstreams-gateway',
      ),
    ]);
    apps.push(...started);
  });

  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await probe.close();
    await Promise.all([splynx.stop(), devpos.stop(), qbo.stop(), webhook?.close()]);
    await db?.drop();
  });

  it('classifies each failure, bounds the attempts, keeps partial stats, and notifies once per streak', async () => {
    const t0 = Date.now();
    const [splynxFigures, accountingFigures] = await Promise.all([splynxScenario(), accountingScenario()]);
    console.log(`upstreams-billing: both scenarios in ${Date.now() - t0} ms`);
    console.log(`  splynx: ${splynxFigures}`);
    console.log(`  accounting: ${accountingFigures}`);
  });

  async function splynxScenario(): Promise<string> {
    // 1. Cut-off pages after two good ones: the run fails as a bad response and keeps the 200 customers it wrote.
    const cut = await splynxRun({ kind: 'truncate', times: 1000, path: SPLYNX_THIRD_PAGE });
    assert.deepEqual(classOf(cut.end), ['source', 'UPSTREAM_BAD_RESPONSE', true], cut.end.value);
    assert.equal(cut.requests, RUN_TRIES * (2 + ATTEMPTS));
    // The last try's stats: the first try created the 200, the later ones found them unchanged. The page read last may
    // still be in flight to the database when the next read fails, so the written count is one or two pages.
    const written = (st: Record<string, unknown>) => Number(st.created) + Number(st.unchanged);
    const stats = cut.end.json.payload.stats as Record<string, unknown>;
    assert.equal(stats.fetched, 2 * PAGE_SIZE, 'the pages read before the failure');
    assert.ok([PAGE_SIZE, 2 * PAGE_SIZE].includes(written(stats)), `written ${written(stats)}`);
    const cutRow = await storedRun(cut.end.json.payload.runId);
    assert.equal(cutRow.status, 'failed');
    assert.deepEqual(cutRow.stats, stats, 'sync_runs keeps the partial stats');
    assert.equal(cutRow.error.code, 'UPSTREAM_BAD_RESPONSE');
    const [{ n }] = await db.dataSource.query<Array<{ n: string }>>('SELECT COUNT(*) AS n FROM splynx_customers');
    assert.equal(Number(n), 2 * PAGE_SIZE);

    // 2–4. A 5xx outage, a hang, an endless 429 without Retry-After: three attempts each, each classified.
    const outage = await splynxRun({ kind: 'error', times: 1000 });
    assert.deepEqual(
      [classOf(outage.end), outage.requests],
      [['source', 'UPSTREAM_UNAVAILABLE', true], RUN_TRIES * ATTEMPTS],
    );
    const hung = await splynxRun({ kind: 'hang', times: 1000, hangMs: 10000 });
    assert.deepEqual([classOf(hung.end), hung.requests], [['source', 'UPSTREAM_TIMEOUT', true], RUN_TRIES * ATTEMPTS]);
    const throttled = await splynxRun({ kind: 'rate-limited', times: 1000, retryAfterSeconds: null });
    assert.deepEqual(
      [classOf(throttled.end), throttled.requests],
      [['source', 'UPSTREAM_RATE_LIMITED', true], RUN_TRIES * ATTEMPTS],
    );
    // Four failed runs in a row: one notification, the first run's.
    await eventually(() => (hooksOf('splynx').length >= 1 ? true : undefined), 'the failure notification', 15000);
    await new Promise((r) => setTimeout(r, 3000)); // a send loop turn (2 s) and more: nothing else comes
    assert.deepEqual(hooksOf('splynx'), ['failure']);
    const first = webhook.received.find((h) => h.domain === 'splynx')!;
    assert.equal(first.run_id, cut.end.json.payload.runId);
    assert.match(first.text, /Error: source\/UPSTREAM_BAD_RESPONSE \(retriable\)/);
    assert.match(first.text, /What to do: The splynx API answered something we cannot read/);

    // 5. A short 5xx burst and a 429 with Retry-After: retried, and the run completes (every page once more).
    const recovered = await splynxRun(
      { kind: 'error', times: 2 },
      { kind: 'rate-limited', times: 1, after: 3, retryAfterSeconds: 1 },
    );
    assert.equal(recovered.end.topic, Topic.RunCompleted, recovered.end.value);
    const pages = CUSTOMERS / PAGE_SIZE + 1; // the last, empty page ends the list
    assert.equal(recovered.requests, pages + 2 + 1);
    assert.equal(recovered.end.json.payload.stats.fetched, CUSTOMERS);

    // 6. A new incident after the success: a second failure notification.
    const again = await splynxRun({ kind: 'error', times: 1000 });
    assert.deepEqual(classOf(again.end), ['source', 'UPSTREAM_UNAVAILABLE', true]);
    await eventually(
      () => (hooksOf('splynx').length >= 3 ? true : undefined),
      'the recovery and the new failure',
      15000,
    );
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(hooksOf('splynx'), ['failure', 'recovery', 'failure']);
    const [{ queued }] = await db.dataSource.query<Array<{ queued: string }>>(
      "SELECT COUNT(*) AS queued FROM notifications WHERE job_key LIKE '%:splynx:%'",
    );
    assert.equal(Number(queued), 3, 'one row per notification (one channel)');
    return `truncated after 2 pages → ${cut.requests} list requests, stats ${JSON.stringify(stats)}; 5xx/hang/429 → ${outage.requests}/${hung.requests}/${throttled.requests} requests; recovered with ${recovered.requests}; notifications ${hooksOf('splynx').join(', ')}`;
  }

  async function accountingScenario(): Promise<string> {
    // 1. DevPos down (5xx) on the sales list: three attempts, then the run fails as the upstream being unavailable.
    devpos.requests.clear();
    devpos.setFaults({ script: [{ kind: 'error', times: 1000, path: DEVPOS_SALES }] });
    const down = await ended(Topic.AccountingRequested, 'accounting', 'sales');
    devpos.clearFaults();
    assert.deepEqual(classOf(down), ['source', 'UPSTREAM_UNAVAILABLE', true], down.value);
    const listed = requestsOf(devpos, DEVPOS_SALES);
    assert.equal(listed, ACCOUNTING_RUN_TRIES * ATTEMPTS);

    // 2. QuickBooks answers the first batch of 30, then 503s: the run fails, and its stats keep the 30 it created.
    qbo.requests.clear();
    qbo.setFaults({ target: 'api', script: [{ kind: 'error', times: 1000, after: 1, path: QBO_BATCH }] });
    const partial = await ended(Topic.AccountingRequested, 'accounting', 'sales');
    qbo.clearFaults();
    assert.deepEqual(classOf(partial), ['source', 'UPSTREAM_UNAVAILABLE', true], partial.value);
    const batches = requestsOf(qbo, QBO_BATCH);
    // Up to four lanes send batches at once; every one after the first is tried exactly ATTEMPTS times.
    assert.equal((batches - 1) % ATTEMPTS, 0, `${batches} batch requests`);
    // The one batch QuickBooks answered (whichever lane sent it first) is in the stats, as many as are stored synced.
    // Later tries of the run find them unchanged: the last try's stats say so.
    const stats = partial.json.payload.stats as Record<string, number>;
    const created = stats.created + stats.unchanged;
    const [{ synced }] = await db.dataSource.query<Array<{ synced: string }>>(
      "SELECT COUNT(*) AS synced FROM accounting_documents WHERE status = 'synced'",
    );
    assert.ok(created > 0 && created <= 30, `created ${created}: one batch`);
    assert.equal(Number(synced), created, 'the stats count what was written');
    const row = await storedRun(partial.json.payload.runId);
    assert.deepEqual(
      [row.status, Number(row.stats.created) + Number(row.stats.unchanged), row.error.code],
      ['failed', created, 'UPSTREAM_UNAVAILABLE'],
    );

    // Two failed runs of accounting/sales: one notification.
    await eventually(() => (hooksOf('accounting').length >= 1 ? true : undefined), 'the failure notification', 15000);
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(hooksOf('accounting'), ['failure']);
    assert.match(
      webhook.received.find((h) => h.domain === 'accounting')!.text,
      /server errors \(5xx\) on every attempt/,
    );
    return `DevPos 5xx → ${listed} list requests; QuickBooks 5xx after one batch → ${batches} batch requests, written ${created}; notifications ${hooksOf('accounting').join(', ')}`;
  }
});
