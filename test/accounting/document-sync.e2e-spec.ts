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

/** The DevPos → QuickBooks document jobs in the distributed mode: accounting-sync on Kafka and MariaDB, simulators. */
describe('accounting-sync: DevPos e-invoices into QuickBooks (Kafka, MariaDB, simulators over HTTP)', () => {
  let db: TestDatabase;
  let qbo: QuickBooksSimulator;
  let devpos: DevposSimulator;
  let app: AppProcess;
  let appEnv: Record<string, string>;
  const probe = new KafkaProbe();

  const run = async (job: string, params: Record<string, unknown>): Promise<SeenMessage> => {
    const t = tick('accounting', job, { params });
    await probe.produce(Topic.AccountingRequested, t.key, t.value);
    return probe.waitForRunEnd(t.value.runId!, 120000);
  };
  const inQbo = () => DOCUMENT_TYPES.reduce((n, t) => n + qbo.entities(t).length, 0);

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
    await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
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
      GATEWAY_API_KEYS: 'accounting-documents-e2e-key',
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
    assert.ok(end.json.payload.stats.fetched > 0);
    assert.ok(end.json.payload.stats.created > 0, 'what it would create');
    assert.match(end.json.payload.warnings.join('\n'), /dry run of 2026-02-02 … 2026-02-22: \d+ to create/);
    assert.equal(inQbo(), 0);
    const [{ n }] = await db.dataSource.query('SELECT COUNT(*) AS n FROM accounting_documents');
    assert.equal(Number(n), 0);
  });

  it('a full run yields exactly the expected invoices and bills; a second run makes no QuickBooks write', async () => {
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

    const writes = qbo.apiCounters();
    const again = await run('full', RANGE);
    assert.equal(again.topic, Topic.RunCompleted);
    assert.deepEqual([again.json.payload.stats.created, again.json.payload.stats.updated], [0, 0]);
    assert.equal(again.json.payload.stats.unchanged, stats.created);
    assert.equal(qbo.apiCounters().batches, writes.batches, 'no QuickBooks write');
    assert.deepEqual(qbo.apiCounters().updates, writes.updates);
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

  it('SIGKILL of accounting-sync in the middle of a batch, restart, re-run: no duplicate in QuickBooks', async () => {
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
  });
});
