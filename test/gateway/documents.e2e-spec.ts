import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { companyChangedMessage, Topic } from '@sync-hub/contracts';
import { provisionTopics } from '@sync-hub/messaging';
import { DevposDocument, DevposSimulator, QuickBooksSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { CONSUMED_TOPICS, KafkaProbe, freshGroup, groupStartingNow } from '../support/kafka';
import { eventually } from '../support/wait';
import { simulatedAccountingEnv } from '../support/accounting-env';

const API_KEY = 'e2e-documents-key-0123456789';
const RANGE = { from: '2026-05-04', to: '2026-05-08' };
// QBO_REALM_ID / QBO_REFRESH_TOKEN and DEVPOS_* seed company 1's connections: this suite's company is company 1, as
// announced (with the same fields) by every suite that syncs documents.
const COMPANY = 1;
const DOCS = `/api/companies/${COMPANY}/documents`;

/** The documents routes through the gateway, forwarded to accounting-sync: Kafka, MariaDB, both simulators over HTTP. */
describe('the documents API through the gateway (accounting-sync, Kafka, MariaDB, QuickBooks and DevPos simulators)', () => {
  let db: TestDatabase;
  let gateway: AppProcess;
  let accounting: AppProcess;
  const qbo = new QuickBooksSimulator({ seed: 33 });
  const devpos = new DevposSimulator({ seed: 33 });
  const probe = new KafkaProbe();
  /** Two sales invoices and a bill QuickBooks refuses (6140, their numbers taken), and the full run's stats. */
  let refusedSale: DevposDocument;
  let stillRefused: DevposDocument;
  let refusedPurchase: DevposDocument;
  let firstRun: any;

  const call = async (method: string, path: string, key: string | null = API_KEY) => {
    const res = await fetch(`${gateway.url}${path}`, {
      method,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, text };
  };
  const ok = async (path: string) => {
    const res = await call('GET', path);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return res.body;
  };
  /** A manual run through the gateway (published on Kafka, run by accounting-sync), to its end in the run history. */
  const runNow = async (job: string, params: Record<string, unknown>) => {
    const started = await fetch(`${gateway.url}/api/syncs/accounting/${job}/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ company_id: COMPANY, params }),
    });
    assert.equal(started.status, 202, await started.clone().text());
    const { run_id } = (await started.json()) as { run_id: string };
    return { runId: run_id, ended: () => runEnd(run_id) };
  };
  const runEnd = (runId: string) =>
    eventually(
      async () => {
        const r = await call('GET', `/api/runs/${runId}`);
        return r.status === 200 && ['completed', 'failed', 'skipped'].includes(r.body.status) ? r.body : undefined;
      },
      `run ${runId} to end in the run history`,
      120000,
      250,
    );
  /** Every page of a listing, following next_cursor. */
  const allPages = async (query: string) => {
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await ok(`${DOCS}?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.data);
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    return { documents: seen, pages };
  };
  const rows = async (
    where = '1 = 1',
  ): Promise<Array<{ eic: string; doc_type: string; status: string; txn_date: string }>> =>
    db.dataSource.query(
      `SELECT eic, doc_type, status, txn_date FROM accounting_documents WHERE company_id = ${COMPANY} AND ${where} ORDER BY eic`,
    );
  const leaseHeld = (job: string) =>
    eventually(
      async () => {
        const held = await db.dataSource.query(
          'SELECT owner FROM job_leases WHERE name = ? AND expires_at > UTC_TIMESTAMP(3)',
          // sales, bills and full share the company's `documents` lease (their leaseGroup).
          [`job:${COMPANY}:accounting:documents`],
        );
        return held.length ? true : undefined;
      },
      `accounting/${job} to hold its lease`,
      60000,
      50,
    );

  before(async () => {
    db = await createTestDatabase('documents_api');
    await qbo.start();
    const devposUrl = await devpos.start();
    const user = devpos.users[0];
    devpos.generate(user.tenant, { ...RANGE, salesPerDay: 4, purchasesPerDay: 2 });
    const live = (d: DevposDocument) => d.invoiceStatus !== 'Refuzuar' && !d.selfIssuingType && d.amount > 0;
    const sales = devpos.documentsOf(user.tenant, 'sales').filter(live);
    [refusedSale, stillRefused] = [sales[2], sales[9]];
    refusedPurchase = devpos.documentsOf(user.tenant, 'purchase').filter(live)[1];
    assert.ok(refusedSale && stillRefused && refusedPurchase, 'the generated range has the documents this suite needs');
    for (const d of [refusedSale, stillRefused, refusedPurchase]) qbo.refuseDocumentNumber(d.documentNumber);

    const seed = qbo.connect();
    // On a fresh broker nothing has created the topics yet; a group starting now needs them.
    await provisionTopics({
      brokers: TEST_KAFKA_BROKERS.split(','),
      clientId: 'e2e-documents',
      groupId: 'unused',
      topicPartitions: 3,
      replicationFactor: 1,
    });
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url, GATEWAY_API_KEYS: API_KEY };
    accounting = await startAppProcess(
      'accounting-sync',
      {
        ...common,
        KAFKA_GROUP_ID: await eventually(
          () =>
            groupStartingNow(`accounting-documents-api-${randomBytes(4).toString('hex')}`, [Topic.AccountingRequested]),
          'the new topic to have a leader',
          30000,
          500,
        ),
        SECRETS_KEY: randomBytes(32).toString('base64'),
        ...simulatedAccountingEnv(qbo, seed, devpos, devposUrl),
        HTTP_RETRIES: '1',
        HTTP_RETRY_BASE_DELAY_MS: '20',
      },
      'documents-api-accounting-sync',
    );
    gateway = await startAppProcess(
      'gateway',
      {
        ...common,
        KAFKA_GROUP_ID: await freshGroup('gateway-documents', CONSUMED_TOPICS.gateway),
        ACCOUNTING_SYNC_URL: accounting.url,
      },
      'documents-api-gateway',
    );
    const now = new Date().toISOString();
    const company = companyChangedMessage({
      id: COMPANY,
      name: 'Company 1',
      timezone: 'Europe/Tirane',
      active: true,
      createdAt: now,
      updatedAt: now,
    });
    await probe.produce(company.topic, company.key, company.value);
    await eventually(
      async () => ((await call('GET', DOCS)).status === 200 ? true : undefined),
      `accounting-sync to learn company ${COMPANY}`,
      60000,
      300,
    );
    const run = await runNow('full', RANGE);
    firstRun = await run.ended();
  });

  after(async () => {
    await Promise.all([gateway?.stop(), accounting?.stop()]);
    await probe.close();
    await qbo.stop();
    await devpos.stop();
    await db?.drop();
  });

  it('the full run completed, with the three refused documents counted failed and the rest synced', async () => {
    assert.equal(firstRun.status, 'completed', JSON.stringify(firstRun));
    assert.equal(firstRun.stats.failed, 3);
    assert.ok(firstRun.stats.created > 20);
    assert.equal((await rows("status = 'synced'")).length, firstRun.stats.created);
  });

  it('the routes need the key at the gateway', async () => {
    for (const [method, path] of [
      ['GET', DOCS],
      ['GET', `${DOCS}/${refusedSale.eic}`],
      ['POST', `${DOCS}/${refusedSale.eic}/retry`],
    ]) {
      assert.equal((await call(method, path, null)).status, 401, `${method} ${path}`);
      assert.equal((await call(method, path, 'a-wrong-key-0123456789')).status, 401, `${method} ${path}, wrong key`);
    }
  });

  it('OpenAPI at the gateway documents the three routes, their query and answers', async () => {
    const doc = (await call('GET', '/docs-json', null)).body;
    const list = doc.paths['/api/companies/{companyId}/documents'].get;
    assert.deepEqual(
      list.parameters
        .filter((p: any) => p.in === 'query')
        .map((p: any) => p.name)
        .sort(),
      ['cursor', 'from', 'limit', 'status', 'to', 'type'],
    );
    assert.deepEqual(list.parameters.find((p: any) => p.name === 'status').schema.enum, [
      'synced',
      'failed',
      'skipped',
      'pending',
    ]);
    assert.ok(doc.paths['/api/companies/{companyId}/documents/{eic}'].get.responses['404']);
    const retry = doc.paths['/api/companies/{companyId}/documents/{eic}/retry'].post;
    assert.deepEqual(Object.keys(retry.responses).sort(), ['200', '404', '409', '504']);
    assert.match(retry.responses['200'].description, /last_error/);
  });

  it('lists every document newest date first; pages of 4 follow each other without a gap or a repeat', async () => {
    const all = await ok(`${DOCS}?limit=500`);
    assert.equal(all.next_cursor, null);
    assert.equal(all.data.length, (await rows()).length);
    const dates = all.data.map((d: any) => d.txn_date);
    assert.deepEqual(dates, [...dates].sort().reverse(), 'newest transaction date first');
    assert.ok(all.data.every((d: any) => d.company_id === COMPANY && d.source === 'devpos'));

    const paged = await allPages('limit=4');
    assert.equal(paged.pages, Math.ceil(all.data.length / 4));
    assert.deepEqual(
      paged.documents.map((d) => d.eic),
      all.data.map((d: any) => d.eic),
      'the same documents in the same order',
    );
    const first = await ok(`${DOCS}`);
    assert.equal(first.data.length, Math.min(50, all.data.length), 'default page size 50');
  });

  it('filters by status, type and date range, alone and together, and pages within a filter', async () => {
    const failed = await ok(`${DOCS}?status=failed`);
    assert.deepEqual(
      failed.data.map((d: any) => d.eic).sort(),
      [refusedSale.eic, stillRefused.eic, refusedPurchase.eic].sort(),
    );
    const purchases = await allPages('type=purchase&limit=3');
    assert.ok(purchases.documents.length > 0 && purchases.documents.every((d) => d.type === 'purchase'));
    assert.equal(purchases.documents.length, (await rows("doc_type = 'purchase'")).length);
    assert.ok(purchases.documents.every((d) => ['Bill', 'VendorCredit'].includes(d.qbo_entity)));

    const day = await ok(`${DOCS}?from=2026-05-06&to=2026-05-06&limit=500`);
    assert.ok(day.data.length > 0 && day.data.every((d: any) => d.txn_date === '2026-05-06'));
    assert.equal(day.data.length, (await rows("txn_date = '2026-05-06'")).length);
    const since = await ok(`${DOCS}?from=2026-05-07&limit=500`);
    assert.equal(since.data.length, (await rows("txn_date >= '2026-05-07'")).length);

    const together = await allPages('type=sales&status=synced&from=2026-05-05&to=2026-05-07&limit=5');
    assert.equal(
      together.documents.length,
      (await rows("doc_type = 'sales' AND status = 'synced' AND txn_date BETWEEN '2026-05-05' AND '2026-05-07'"))
        .length,
    );
    assert.ok(together.documents.every((d) => d.type === 'sales' && d.status === 'synced'));
    const skipped = await ok(`${DOCS}?status=skipped&limit=500`);
    assert.equal(skipped.data.length, (await rows("status = 'skipped'")).length);
    assert.equal((await ok(`${DOCS}?from=2027-01-01`)).data.length, 0);
  });

  it('one document: a synced one with its QuickBooks id, a refused one with QuickBooks’ reason', async () => {
    const synced = (await ok(`${DOCS}?status=synced&type=sales&limit=1`)).data[0];
    const one = await ok(`${DOCS}/${synced.eic}`);
    assert.deepEqual(one, synced);
    assert.equal(one.last_error, null);
    assert.match(String(qbo.entity(one.qbo_entity, one.qbo_id)?.PrivateNote), new RegExp(one.eic));
    assert.ok(one.synced_at && one.sync_token !== null);
    assert.deepEqual([one.attachment_status, one.attachment_warning], ['attached', null], "DevPos's PDF is attached");
    const attachable = qbo.entity('Attachable', one.attachment_id) as unknown as {
      AttachableRef: Array<{ EntityRef: unknown }>;
    };
    assert.deepEqual(attachable.AttachableRef[0].EntityRef, { type: one.qbo_entity, value: one.qbo_id });

    const refused = await ok(`${DOCS}/${refusedSale.eic}`);
    assert.equal(refused.status, 'failed');
    assert.equal(refused.document_number, refusedSale.documentNumber);
    assert.equal(refused.type, 'sales');
    assert.equal(refused.qbo_id, null);
    assert.equal(refused.last_error.code, 'QBO_6140');
    assert.equal(refused.last_error.element, 'DocNumber');
    assert.match(
      refused.last_error.message,
      /^Duplicate Document Number Error : You must specify a different number\. .*DocNumber=/,
    );
  });

  it('404 for an unknown company (or not a number) and an unknown document, on each route', async () => {
    for (const [method, path] of [
      ['GET', '/api/companies/999999/documents'],
      ['GET', `/api/companies/999999/documents/${refusedSale.eic}`],
      ['POST', `/api/companies/999999/documents/${refusedSale.eic}/retry`],
      ['GET', '/api/companies/abc/documents'],
      ['GET', `${DOCS}/00000000-0000-4000-8000-000000000000`],
      ['POST', `${DOCS}/00000000-0000-4000-8000-000000000000/retry`],
    ]) {
      const res = await call(method, path);
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
      assert.match(res.body.message, /not found/);
    }
    assert.equal((await call('GET', '/api/companies/999999/documents')).body.message, 'company 999999 not found');
  });

  it('a bad query is a 400 naming each bad field', async () => {
    const cases: Array<[string, string]> = [
      ['status=lost', 'status'],
      ['type=invoice', 'type'],
      ['from=2026-5-1', 'from'],
      ['to=yesterday', 'to'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=!!', 'cursor'],
      ['cursor=AAAAAAAA', 'cursor'],
      ['from=2026-05-08&to=2026-05-04', 'to'],
      ['colour=red', 'colour'],
    ];
    for (const [query, field] of cases) {
      const res = await call('GET', `${DOCS}?${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assert.deepEqual(Object.keys(res.body.fields), [field], query);
    }
  });

  it('Retry while the cause stands: the run completes and the document is still failed, with the reason', async () => {
    const res = await call('POST', `${DOCS}/${stillRefused.eic}/retry`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.run_status, 'completed');
    assert.equal(res.body.reason, null);
    assert.equal(res.body.document.status, 'failed');
    assert.equal(res.body.document.last_error.code, 'QBO_6140');
    const run = await runEnd(res.body.run_id);
    assert.deepEqual(
      [run.status, run.job, run.trigger, run.company_id, run.stats.fetched, run.stats.failed],
      ['completed', 'sales', 'manual', COMPANY, 1, 1],
    );
  });

  it('Retry after the cause is removed: synced, once in QuickBooks, and its run is in the run history', async () => {
    const before = qbo.apiCounters();
    const untouched = await rows(`eic NOT IN ('${refusedSale.eic}', '${refusedPurchase.eic}')`);
    qbo.acceptDocumentNumber(refusedSale.documentNumber);
    const res = await call('POST', `${DOCS}/${refusedSale.eic}/retry`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.run_status, 'completed');
    assert.equal(res.body.document.status, 'synced');
    assert.equal(res.body.document.last_error, null);
    assert.ok(res.body.document.qbo_id);
    assert.deepEqual(await ok(`${DOCS}/${refusedSale.eic}`), res.body.document);
    const invoices = qbo.entities('Invoice').filter((i) => i.DocNumber === refusedSale.documentNumber);
    assert.deepEqual(
      invoices.map((i) => i.Id),
      [res.body.document.qbo_id],
      'one invoice, the one the row names',
    );
    assert.equal(qbo.apiCounters().creates.Invoice, (before.creates.Invoice ?? 0) + 1, 'nothing else was created');
    assert.deepEqual(await rows(`eic NOT IN ('${refusedSale.eic}', '${refusedPurchase.eic}')`), untouched);

    const run = await runEnd(res.body.run_id);
    assert.deepEqual(
      [run.status, run.domain, run.job, run.trigger, run.company_id, run.stats.created, run.stats.fetched],
      ['completed', 'accounting', 'sales', 'manual', COMPANY, 1, 1],
    );
    const history = await ok(`/api/runs?domain=accounting&job=sales&company_id=${COMPANY}&limit=5`);
    assert.equal(history.data[0].run_id, res.body.run_id, 'the newest sales run of the company');
  });

  it('a purchase is retried by the bills job', async () => {
    qbo.acceptDocumentNumber(refusedPurchase.documentNumber);
    const res = await call('POST', `${DOCS}/${refusedPurchase.eic}/retry`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      [res.body.run_status, res.body.document.status, res.body.document.type],
      ['completed', 'synced', 'purchase'],
    );
    const run = await runEnd(res.body.run_id);
    assert.deepEqual([run.job, run.status, run.stats.created], ['bills', 'completed', 1]);
    assert.deepEqual(
      (await ok(`${DOCS}?status=failed`)).data.map((d: any) => d.eic),
      [stillRefused.eic],
    );
  });

  it('409 while the sales job runs for the company: not run (skipped in the history), nothing touched', async () => {
    devpos.setFaults({ listLatencyPerDayMs: 1500 });
    try {
      const running = await runNow('sales', RANGE);
      await leaseHeld('sales');
      const res = await call('POST', `${DOCS}/${stillRefused.eic}/retry`);
      assert.equal(res.status, 409, res.text);
      assert.match(
        res.body.message,
        /^a document sync \(sales, bills or full\) is running for company 1: document .+ was not retried/,
      );
      assert.deepEqual([res.body.run_status, res.body.reason], ['skipped', 'overlap']);
      assert.equal(res.body.document.eic, stillRefused.eic);
      const skipped = await runEnd(res.body.run_id);
      assert.deepEqual([skipped.status, skipped.skip_reason, skipped.trigger], ['skipped', 'overlap', 'manual']);
      assert.equal((await running.ended()).status, 'completed');
    } finally {
      devpos.clearFaults();
    }
  });

  it('409 while a full sync runs for the company (the document jobs share one lease)', async () => {
    devpos.setFaults({ listLatencyPerDayMs: 1500 });
    try {
      const running = await runNow('full', RANGE);
      await leaseHeld('full');
      const res = await call('POST', `${DOCS}/${refusedPurchase.eic}/retry`);
      assert.equal(res.status, 409, res.text);
      assert.match(
        res.body.message,
        /^a document sync \(sales, bills or full\) is running for company 1: document .+ was not retried/,
      );
      assert.deepEqual([res.body.run_status, res.body.document.eic], ['skipped', refusedPurchase.eic]);
      const skipped = await runEnd(res.body.run_id);
      assert.deepEqual([skipped.job, skipped.status, skipped.skip_reason], ['bills', 'skipped', 'overlap']);
      assert.equal((await running.ended()).status, 'completed');
    } finally {
      devpos.clearFaults();
    }
    // Once it has ended, the retry runs (and gives the lease back: a full run runs again).
    const again = await call('POST', `${DOCS}/${refusedPurchase.eic}/retry`);
    assert.equal(again.status, 200, again.text);
    const full = await runNow('full', RANGE);
    assert.equal((await full.ended()).status, 'completed');
  });

  it("a retry whose run fails (DevPos down) answers 200 with run_status failed and the run's error; the row is as it was", async () => {
    const before = await ok(`${DOCS}/${stillRefused.eic}`);
    devpos.setFaults({ errorRate: 1 });
    let res;
    try {
      res = await call('POST', `${DOCS}/${stillRefused.eic}/retry`);
    } finally {
      devpos.clearFaults();
    }
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.run_status, 'failed');
    assert.match(res.body.reason, /^source\/\S+: /);
    assert.deepEqual(res.body.document, before, 'nothing was written');
    const run = await runEnd(res.body.run_id);
    assert.deepEqual([run.status, run.trigger, run.error.origin], ['failed', 'manual', 'source']);
  });

  it('a document DevPos no longer lists on its date: the run completes, and reason says nothing was retried', async () => {
    const before = await ok(`${DOCS}/${stillRefused.eic}`);
    devpos.setDocument(devpos.users[0].tenant, stillRefused.eic, { invoiceCreatedDate: '2026-06-15T10:00:00+02:00' });
    const res = await call('POST', `${DOCS}/${stillRefused.eic}/retry`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.run_status, 'completed');
    assert.equal(
      res.body.reason,
      `DevPos did not list document ${stillRefused.documentNumber} (${stillRefused.eic}) on ${before.txn_date} for the sales job: nothing was retried`,
    );
    assert.deepEqual(res.body.document, before);
  });
});
