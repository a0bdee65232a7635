import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { companyChangedMessage, Topic } from '@sync-hub/contracts';
import { DevposSimulator, QuickBooksSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { groupStartingNow, KafkaProbe, SeenMessage } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';
import { simulatedAccountingEnv } from '../support/accounting-env';

const RANGE = { from: '2026-02-02', to: '2026-02-22' };
const DOCUMENT_TYPES = ['Invoice', 'CreditMemo', 'Bill', 'VendorCredit'] as const;
const API_KEY = 'accounting-documents-e2e-key';

/** A stored row as `accounting.document.changed.v1` carries it (the API's DocumentView without its times). */
interface StoredDocument {
  eic: string;
  status: string;
  qbo_id: string | null;
  sync_token: string | null;
  attachment_status: string | null;
  attachment_id: string | null;
}
const STORED_COLUMNS = 'eic, status, qbo_id, sync_token, attachment_status, attachment_id';

/** The DevPos → QuickBooks document jobs in the distributed mode: accounting-sync on Kafka and MariaDB, simulators. */
describe('accounting-sync: DevPos e-invoices into QuickBooks (Kafka, MariaDB, simulators over HTTP)', () => {
  let db: TestDatabase;
  let qbo: QuickBooksSimulator;
  let devpos: DevposSimulator;
  let app: AppProcess;
  let appEnv: Record<string, string>;
  const probe = new KafkaProbe();
  /** The first test's dry run: it sends no change event, which is looked at once the next run's have come. */
  let dryRunId = '';

  const run = async (job: string, params: Record<string, unknown>): Promise<SeenMessage> => {
    const t = tick('accounting', job, { params });
    await probe.produce(Topic.AccountingRequested, t.key, t.value);
    return probe.waitForRunEnd(t.value.runId!, 120000);
  };
  const inQbo = () => DOCUMENT_TYPES.reduce((n, t) => n + qbo.entities(t).length, 0);
  /** The run's change events on the broker, by key, in the order sent, once there are at least `count`. */
  const changesOf = async (runId: string, count: number) => {
    await eventually(
      () => (probe.forRun(Topic.AccountingDocumentChanged, runId).length >= count ? true : undefined),
      `${count} change events of run ${runId}`,
      30000,
      100,
    );
    const byKey = new Map<string, SeenMessage[]>();
    for (const m of probe.forRun(Topic.AccountingDocumentChanged, runId))
      byKey.set(m.key!, [...(byKey.get(m.key!) ?? []), m]);
    return byKey;
  };

  before(async () => {
    db = await createTestDatabase('accounting_documents');
    qbo = new QuickBooksSimulator({ seed: 21 });
    await qbo.start();
    devpos = new DevposSimulator({ seed: 21 });
    const devposUrl = await devpos.start();
    const user = devpos.users[0];
    devpos.generate(user.tenant, { ...RANGE, salesPerDay: 4, purchasesPerDay: 2 });
    // Sales only in March: a bills run there meets DevPos's "no documents" 500.
    devpos.generate(user.tenant, { from: '2026-03-02', to: '2026-03-04', salesPerDay: 2, purchasesPerDay: 0 });
    const seed = qbo.connect();
    await probe.watch([
      Topic.RunStarted,
      Topic.RunCompleted,
      Topic.RunFailed,
      Topic.RunSkipped,
      Topic.AccountingDocumentChanged,
    ]);
    const company = companyChangedMessage({
      id: 1,
      name: 'Company 1',
      timezone: 'Europe/Tirane',
      active: true,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    await probe.produce(company.topic, company.key, company.value);
    const group = await groupStartingNow(`accounting-documents-${randomBytes(4).toString('hex')}`, [
      Topic.AccountingRequested,
    ]);
    appEnv = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      KAFKA_GROUP_ID: group,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: API_KEY,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      ...simulatedAccountingEnv(qbo, seed, devpos, devposUrl),
      HTTP_RETRIES: '1',
      HTTP_RETRY_BASE_DELAY_MS: '20',
    };
    app = await startAppProcess('accounting-sync', appEnv, 'accounting-documents');
  });

  after(async () => {
    await app?.stop();
    await probe.close();
    await qbo?.stop();
    await devpos?.stop();
    await db?.drop();
  });

  it('a dry run reads DevPos and writes nothing anywhere', async () => {
    const end = await run('full', { ...RANGE, dryRun: true });
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    dryRunId = end.json.payload.runId;
    assert.ok(end.json.payload.stats.fetched > 0);
    assert.ok(end.json.payload.stats.created > 0, 'what it would create');
    assert.match(end.json.payload.warnings.join('\n'), /dry run of 2026-02-02 … 2026-02-22: \d+ to create/);
    assert.equal(inQbo(), 0);
    const [{ n }] = await db.dataSource.query('SELECT COUNT(*) AS n FROM accounting_documents');
    assert.equal(Number(n), 0);
  });

  it('a full run yields exactly the expected invoices and bills, and their change events; a second run writes and sends nothing', async () => {
    const end = await run('full', RANGE);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    const stats = end.json.payload.stats;
    const source = devpos
      .documentsOf(devpos.users[0].tenant)
      .filter((d) => d.invoiceCreatedDate.slice(0, 10) <= RANGE.to);
    const rejected = source.filter((d) => d.invoiceStatus === 'Refuzuar').length;
    assert.deepEqual([stats.fetched, stats.skipped, stats.failed], [source.length, rejected, 0]);
    assert.equal(stats.created, source.length - rejected);
    assert.equal(inQbo(), stats.created, 'one QuickBooks document per document');
    const rows: Array<{ eic: string; qbo_entity: string; qbo_id: string; status: string }> = await db.dataSource.query(
      "SELECT eic, qbo_entity, qbo_id, status FROM accounting_documents WHERE status = 'synced'",
    );
    assert.equal(rows.length, stats.created);
    for (const r of rows)
      assert.match(String(qbo.entity(r.qbo_entity as 'Invoice', r.qbo_id)?.PrivateNote), new RegExp(r.eic));

    // The run's change events, read back from the broker: each document created when stored (pending, or skipped),
    // then updated when synced and when its PDF was attached; the last carries the row as MariaDB holds it.
    const stored: StoredDocument[] = await db.dataSource.query(`SELECT ${STORED_COLUMNS} FROM accounting_documents`);
    const byKey = await changesOf(end.json.payload.runId, stats.created * 3 + stats.skipped);
    assert.deepEqual([...byKey.keys()].sort(), stored.map((r) => `1:${r.eic}`).sort(), 'one key per stored document');
    for (const row of stored) {
      const changes = byKey.get(`1:${row.eic}`)!.map((m) => m.json.payload);
      assert.deepEqual(
        changes.map((c) => [c.changeType, c.record.status]),
        row.status === 'skipped'
          ? [['created', 'skipped']]
          : [
              ['created', 'pending'],
              ['updated', 'synced'],
              ['updated', 'synced'],
            ],
        row.eic,
      );
      const last = changes[changes.length - 1];
      assert.deepEqual(
        [last.record.eic, last.record.status, last.record.qbo_id, last.record.sync_token],
        [row.eic, row.status, row.qbo_id, row.sync_token],
      );
      assert.deepEqual(
        [last.record.attachment_status, last.record.attachment_id],
        [row.attachment_status, row.attachment_id],
      );
      assert.equal(last.id, `1:${row.eic}`);
    }
    assert.equal(probe.forRun(Topic.AccountingDocumentChanged, dryRunId).length, 0, 'the dry run sent none');

    const writes = qbo.apiCounters();
    const again = await run('full', RANGE);
    assert.equal(again.topic, Topic.RunCompleted);
    assert.deepEqual([again.json.payload.stats.created, again.json.payload.stats.updated], [0, 0]);
    assert.equal(again.json.payload.stats.unchanged, stats.created);
    assert.equal(qbo.apiCounters().batches, writes.batches, 'no QuickBooks write');
    assert.deepEqual(qbo.apiCounters().updates, writes.updates);
    // Its events (none) were sent before its end was: a moment more for the probe to read any that came late.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(probe.forRun(Topic.AccountingDocumentChanged, again.json.payload.runId).length, 0, 'nothing changed');
  });

  it("the retry route's run sends the document's change under the retry's run id", async () => {
    const [doc]: StoredDocument[] = await db.dataSource.query(
      `SELECT ${STORED_COLUMNS} FROM accounting_documents WHERE status = 'synced' AND qbo_entity = 'Invoice' LIMIT 1`,
    );
    devpos.setDocument(devpos.users[0].tenant, doc.eic, { amount: 9753 });
    const res = await fetch(`${app.url}/api/companies/1/documents/${doc.eic}/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { run_id: string; run_status: string; document: { sync_token: string } };
    assert.equal(body.run_status, 'completed');
    assert.notEqual(body.document.sync_token, doc.sync_token, 'updated in QuickBooks');
    const changes = (await changesOf(body.run_id, 1)).get(`1:${doc.eic}`)!.map((m) => m.json.payload);
    assert.deepEqual(
      changes.map((c) => [c.changeType, c.changedFields, c.record.sync_token]),
      [['updated', ['sync_token'], body.document.sync_token]],
    );
  });

  it("the empty-purchases 500 does not fail a bills run; a range's sales still sync", async () => {
    const end = await run('bills', { from: '2026-03-02', to: '2026-03-04' });
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    const sales = await run('sales', { from: '2026-03-02', to: '2026-03-04' });
    assert.equal(sales.topic, Topic.RunCompleted, sales.value);
    assert.ok(sales.json.payload.stats.created > 0);
  });

  it('bad params are refused: from without to', async () => {
    const end = await run('sales', { from: '2026-03-02' });
    assert.equal(end.topic, Topic.RunFailed);
    assert.equal(end.json.payload.error.origin, 'config');
    assert.match(end.json.payload.error.message, /from and to go together/);
  });

  it("a run whose tick beats its company's event waits for the company, then goes on with it", async () => {
    // A company created a moment ago, or company 1 just after a first start: the tick and the company travel apart.
    const t = tick('accounting', 'sales', { companyId: 7, params: { from: '2026-03-02', to: '2026-03-04' } });
    await probe.produce(Topic.AccountingRequested, t.key, t.value);
    await probe.waitFor(Topic.RunStarted, (m) => m.json?.payload?.runId === t.value.runId, 'the run to start');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(probe.forRun(Topic.RunFailed, t.value.runId!).length, 0, 'it waits; it has not failed');
    const now = new Date().toISOString();
    const company = companyChangedMessage({
      id: 7,
      name: 'Company 7',
      timezone: 'Europe/Tirane',
      active: true,
      createdAt: now,
      updatedAt: now,
    });
    await probe.produce(company.topic, company.key, company.value);
    const end = await probe.waitForRunEnd(t.value.runId!, 60000);
    // Company 7 has no connections: the run got past the company and failed on what a person must do next.
    assert.equal(end.topic, Topic.RunFailed, end.value);
    assert.equal(end.json.payload.error.origin, 'config');
    assert.doesNotMatch(end.json.payload.error.message, /unknown to accounting-sync/);
    assert.match(end.json.payload.error.message, /is not connected for company 7/);
  });

  it('SIGKILL of accounting-sync in the middle of a batch, restart, re-run: no duplicate in QuickBooks; the topic ends as the table', async () => {
    const range = { from: '2026-04-06', to: '2026-04-07' };
    devpos.generate(devpos.users[0].tenant, { ...range, salesPerDay: 5, purchasesPerDay: 0 });
    const expected = devpos
      .documentsOf(devpos.users[0].tenant, 'sales')
      .filter((d) => d.invoiceCreatedDate.slice(0, 10) >= range.from && d.invoiceCreatedDate.slice(0, 10) <= range.to)
      .filter((d) => d.invoiceStatus !== 'Refuzuar' && !d.selfIssuingType).length;
    const before = inQbo();
    // QuickBooks answers slowly: the batch is in flight when the process dies, and QuickBooks still creates it.
    qbo.setFaults({ latencyMs: 3000, target: 'api' });
    const t = tick('accounting', 'sales', { params: range });
    await probe.produce(Topic.AccountingRequested, t.key, t.value);
    await eventually(
      async () => {
        const [{ n }] = await db.dataSource.query(
          "SELECT COUNT(*) AS n FROM accounting_documents WHERE status = 'pending'",
        );
        return Number(n) > 0 ? true : undefined;
      },
      'a batch written pending and sent',
      60000,
      50,
    );
    await new Promise((r) => setTimeout(r, 1000)); // the batch is on its way: QuickBooks takes 3 s to answer it
    app.child.kill('SIGKILL');
    await app.stop();
    await eventually(
      () => (inQbo() === before + expected ? true : undefined),
      'QuickBooks to create the batch it got',
      20000,
    );
    qbo.clearFaults();

    app = await startAppProcess('accounting-sync', appEnv, 'accounting-documents-restarted');
    // The killed run's lease (sales, bills and full share the company's `documents` lease) would hold for up to two
    // minutes: let it lapse now, as time would.
    await db.dataSource.query(
      "UPDATE job_leases SET expires_at = '2000-01-01 00:00:00' WHERE name = 'job:1:accounting:documents'",
    );
    const replayed = qbo.apiCounters().replayed;
    const end = await run('sales', range);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.equal(inQbo(), before + expected, 'no duplicate in QuickBooks');
    assert.ok(qbo.apiCounters().replayed > replayed, 'the pending batch was answered from its requestid');
    const [{ n }] = await db.dataSource.query(
      "SELECT COUNT(*) AS n FROM accounting_documents WHERE status = 'pending'",
    );
    assert.equal(Number(n), 0);
    // The killed run's pending rows went out with their events; the re-run's finish them: the topic's latest event of
    // each document is its row, as a consumer reading the compacted topic would have it.
    const rows: StoredDocument[] = await db.dataSource.query(
      `SELECT ${STORED_COLUMNS} FROM accounting_documents WHERE txn_date BETWEEN ? AND ?`,
      [range.from, range.to],
    );
    await changesOf(end.json.payload.runId, 1);
    for (const row of rows) {
      const latest = await eventually(() => {
        const seen = probe.messages(Topic.AccountingDocumentChanged, (m) => m.key === `1:${row.eic}`);
        const last = seen[seen.length - 1]?.json.payload;
        return last?.record.attachment_status === row.attachment_status ? last : undefined;
      }, `the latest change event of ${row.eic}`);
      assert.deepEqual(
        [latest.record.status, latest.record.qbo_id, latest.record.sync_token, latest.record.attachment_id],
        [row.status, row.qbo_id, row.sync_token, row.attachment_id],
      );
    }
    const killedRun = probe.forRun(Topic.AccountingDocumentChanged, t.value.runId!);
    assert.ok(
      killedRun.some((m) => m.json.payload.record.status === 'pending'),
      'the killed run sent the pending rows it committed',
    );
  });
});
