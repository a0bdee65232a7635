import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { companyChangedMessage, Topic } from '@sync-hub/contracts';
import { DevposDocument, DevposSimulator, QboEntity, QuickBooksSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { groupStartingNow, KafkaProbe, SeenMessage } from '../support/kafka';
import { tick } from '../support/ticks';
import { simulatedAccountingEnv } from '../support/accounting-env';

const DOCUMENT_TYPES = ['Invoice', 'CreditMemo', 'Bill', 'VendorCredit'] as const;
type DocumentType = (typeof DOCUMENT_TYPES)[number];
/** Each test has its own range of DevPos documents, so what one changes is no other's. */
const STORM = { from: '2026-07-06', to: '2026-07-08' };
const CHANGES = { from: '2026-05-04', to: '2026-05-06' };
const REFUSED = { from: '2026-06-01', to: '2026-06-03' };
const LONE = { from: '2026-08-03', to: '2026-08-03' };

interface DocumentRow {
  eic: string;
  company_id: number;
  qbo_entity: DocumentType;
  qbo_id: string | null;
  sync_token: string | null;
  content_hash: string;
  status: string;
  generation: number;
  error_code: string | null;
  error_message: string | null;
  error_element: string | null;
}

/** A sum of counters by entity (creates, updates, deletes). */
const total = (counts: Partial<Record<string, number>>): number =>
  Object.values(counts).reduce<number>((a, b) => a + (b ?? 0), 0);

/**
 * What goes wrong between DevPos and QuickBooks (issue 10), in the distributed mode: accounting-sync on Kafka and
 * MariaDB against both simulators over HTTP. A 429 storm is waited out; one changed document is one sparse update;
 * QuickBooks failing (5xx) never recreates a document, only a definite 610 does, once; a refused document is `failed`
 * with QuickBooks' reason while the rest sync.
 */
describe('accounting-sync: QuickBooks throttling, outages, deletions and refusals (Kafka, MariaDB, simulators over HTTP)', () => {
  let db: TestDatabase;
  let qbo: QuickBooksSimulator;
  let devpos: DevposSimulator;
  let app: AppProcess;
  let tenant: string;
  const probe = new KafkaProbe();

  const run = async (job: string, params: Record<string, unknown>): Promise<SeenMessage> => {
    const t = tick('accounting', job, { params });
    await probe.produce(Topic.AccountingRequested, t.key, t.value);
    return probe.waitForRunEnd(t.value.runId!, 120000);
  };
  /** The DevPos documents of a range that QuickBooks must hold: every one but those DevPos marks refused. */
  const expectedIn = (range: { from: string; to: string }): DevposDocument[] =>
    devpos
      .documentsOf(tenant)
      .filter((d) => d.invoiceCreatedDate.slice(0, 10) >= range.from && d.invoiceCreatedDate.slice(0, 10) <= range.to)
      .filter((d) => d.invoiceStatus !== 'Refuzuar');
  /** Every QuickBooks document carrying this EIC, whatever its type. */
  const inQbo = (eic: string): Array<QboEntity & { type: DocumentType }> =>
    DOCUMENT_TYPES.flatMap((type) =>
      qbo
        .entities(type)
        .filter((e) => e.PrivateNote === `DevPos EIC ${eic}`)
        .map((e) => ({ ...e, type })),
    );
  const allInQbo = () => DOCUMENT_TYPES.reduce((n, t) => n + qbo.entities(t).length, 0);
  const row = async (eic: string): Promise<DocumentRow> => {
    const [found] = await db.dataSource.query('SELECT * FROM accounting_documents WHERE eic = ?', [eic]);
    assert.ok(found, `a row for ${eic}`);
    return found as DocumentRow;
  };
  const syncedRows = (range: { from: string; to: string }, entity: DocumentType): Promise<DocumentRow[]> =>
    db.dataSource.query(
      "SELECT * FROM accounting_documents WHERE status = 'synced' AND qbo_entity = ? AND txn_date BETWEEN ? AND ? ORDER BY eic",
      [entity, range.from, range.to],
    );
  /** A document changed in DevPos: its amount (and so its one line and totals) moves by `by`. */
  const change = (eic: string, by: number): number => {
    const before = devpos.document(tenant, eic)!.amount;
    const amount = Math.round((before + by) * 100) / 100;
    assert.equal(devpos.setDocument(tenant, eic, { amount }).amount, amount);
    return amount;
  };

  before(async () => {
    db = await createTestDatabase('accounting_faults');
    qbo = new QuickBooksSimulator({ seed: 41 });
    await qbo.start();
    devpos = new DevposSimulator({ seed: 41 });
    const devposUrl = await devpos.start();
    const user = devpos.users[0];
    tenant = user.tenant;
    devpos.generate(tenant, { ...STORM, salesPerDay: 5, purchasesPerDay: 2 });
    devpos.generate(tenant, { ...CHANGES, salesPerDay: 3, purchasesPerDay: 2 });
    devpos.generate(tenant, { ...REFUSED, salesPerDay: 3, purchasesPerDay: 1 });
    const seed = qbo.connect();
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
    const group = await groupStartingNow(`accounting-faults-${randomBytes(4).toString('hex')}`, [
      Topic.AccountingRequested,
    ]);
    app = await startAppProcess(
      'accounting-sync',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        KAFKA_GROUP_ID: group,
        DATABASE_URL: db.url,
        GATEWAY_API_KEYS: 'accounting-faults-e2e-key',
        SECRETS_KEY: randomBytes(32).toString('base64'),
        ...simulatedAccountingEnv(qbo, seed, devpos, devposUrl),
        // QuickBooks sends a 429 without Retry-After; against the simulator's 1 s window a second is Intuit's minute.
        QBO_RATE_LIMIT_WAIT_SECONDS: '1',
        HTTP_RETRIES: '1',
        HTTP_RETRY_BASE_DELAY_MS: '20',
      },
      'accounting-faults',
    );
  });

  after(async () => {
    await app?.stop();
    await probe.close();
    await qbo?.stop();
    await devpos?.stop();
    await db?.drop();
  });

  it('a 429 storm from the realm (no Retry-After) is waited out: the run completes and creates every document once', async () => {
    const expected = expectedIn(STORM);
    // Three requests and one batch a second: a run that resolves a dozen new parties runs into the limits again and again.
    qbo.setLimits({ requestsPerMinute: 3, batchesPerMinute: 1, windowMs: 1000 });
    const end = await run('full', STORM);
    const limits = qbo.setLimits({ requestsPerMinute: 500, batchesPerMinute: 40, windowMs: 60000 });
    assert.equal(limits.requestsPerMinute, 500);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    const stats = end.json.payload.stats;
    assert.equal(stats.failed, 0);
    assert.equal(stats.created, expected.length);
    const counters = qbo.apiCounters();
    assert.ok(counters.throttled >= 3, `the simulator answered 429 ${counters.throttled} time(s)`);
    for (const d of expected) assert.equal(inQbo(d.eic).length, 1, `${d.documentNumber} (${d.eic}) once`);
    assert.equal(allInQbo(), expected.length, 'nothing else');
    const { Customer: customers = 0, Vendor: vendors = 0, Attachable: attachables = 0 } = counters.creates;
    assert.equal(
      total(counters.creates) - customers - vendors - attachables,
      expected.length,
      'one create per document',
    );
    assert.equal(attachables, expected.length, 'and one PDF attached to each');
  });

  it('one document changed in DevPos is one sparse update in QuickBooks, and nothing else is written', async () => {
    const first = await run('full', CHANGES);
    assert.equal(first.topic, Topic.RunCompleted, first.value);
    const expected = expectedIn(CHANGES);
    assert.equal(first.json.payload.stats.created, expected.length);
    const [target] = await syncedRows(CHANGES, 'Invoice');
    // Someone adds a memo in QuickBooks (the SyncToken stays): a sparse update leaves it, a full one would drop it.
    const stored = qbo.entity('Invoice', target.qbo_id!)!;
    qbo.putEntity('Invoice', { ...stored, CustomerMemo: { value: 'Added in QuickBooks' } });
    const amount = change(target.eic, 1000.5);
    const before = qbo.apiCounters();
    const posts = qbo.requestCount('POST /v3/company/:realmId/invoice');
    const batches = qbo.requestCount('POST /v3/company/:realmId/batch');

    const end = await run('full', CHANGES);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    const stats = end.json.payload.stats;
    assert.deepEqual([stats.updated, stats.created, stats.failed, stats.unchanged], [1, 0, 0, expected.length - 1]);
    const after = qbo.apiCounters();
    assert.deepEqual(after.updates, { ...before.updates, Invoice: (before.updates.Invoice ?? 0) + 1 }, 'one update');
    assert.deepEqual(after.creates, before.creates, 'no create');
    assert.deepEqual(after.deletes, before.deletes, 'no delete');
    assert.deepEqual([after.batches, after.uploads], [before.batches, before.uploads], 'no batch, no upload');
    assert.equal(qbo.requestCount('POST /v3/company/:realmId/invoice'), posts + 1, 'one request, not retried');
    assert.equal(qbo.requestCount('POST /v3/company/:realmId/batch'), batches);

    const updated = qbo.entity('Invoice', target.qbo_id!)!;
    assert.equal(updated.TotalAmt, amount);
    assert.equal(updated.SyncToken, '1');
    assert.deepEqual(updated.CustomerMemo, { value: 'Added in QuickBooks' }, 'sparse: what it did not send is kept');
    assert.deepEqual(
      inQbo(target.eic).map((e) => e.Id),
      [target.qbo_id],
    );
    const now = await row(target.eic);
    assert.deepEqual([now.status, now.qbo_id, now.sync_token], ['synced', target.qbo_id, '1']);
    assert.notEqual(now.content_hash, target.content_hash);
  });

  it('QuickBooks failing (5xx) on the update or on a read never recreates; only a definite 610 creates it again, once', async () => {
    const expected = expectedIn(CHANGES);
    const [bill] = await syncedRows(CHANGES, 'Bill');
    const amount = change(bill.eic, 321.25);
    const documents = allInQbo();
    const creates = total(qbo.apiCounters().creates);

    // QuickBooks answers 503 to everything: the update fails, the run fails retriably, the document stays as it was.
    qbo.setFaults({ errorRate: 1, target: 'api' });
    const outage = await run('full', CHANGES);
    qbo.clearFaults();
    assert.equal(outage.topic, Topic.RunFailed, outage.value);
    assert.equal(outage.json.payload.error.origin, 'source');
    assert.equal(allInQbo(), documents, 'no document created');
    assert.equal(total(qbo.apiCounters().creates), creates, 'no create of any kind');
    assert.equal(inQbo(bill.eic).length, 1);
    const kept = await row(bill.eic);
    assert.deepEqual(
      [kept.status, kept.qbo_id, kept.content_hash, kept.generation],
      ['synced', bill.qbo_id, bill.content_hash, 0],
      'neither forgotten nor marked for a create',
    );

    // Someone edited it in QuickBooks (5010 on the update), and the read of its SyncToken fails: still no create.
    qbo.bumpSyncToken('Bill', bill.qbo_id!);
    const reads = qbo.requestCount('GET /v3/company/:realmId/bill/:id');
    qbo.setFaults({ errorRate: 1, target: 'api', method: 'GET' });
    const failedRead = await run('full', CHANGES);
    qbo.clearFaults();
    assert.equal(failedRead.topic, Topic.RunFailed, failedRead.value);
    assert.ok(qbo.requestCount('GET /v3/company/:realmId/bill/:id') > reads, 'the stale update led to a read');
    assert.equal(allInQbo(), documents);
    assert.equal(total(qbo.apiCounters().creates), creates);
    assert.equal((await row(bill.eic)).qbo_id, bill.qbo_id);

    // QuickBooks is back: the next run updates the same bill.
    const recovered = await run('full', CHANGES);
    assert.equal(recovered.topic, Topic.RunCompleted, recovered.value);
    assert.deepEqual([recovered.json.payload.stats.updated, recovered.json.payload.stats.created], [1, 0]);
    assert.deepEqual(
      inQbo(bill.eic).map((e) => [e.Id, e.TotalAmt]),
      [[bill.qbo_id, amount]],
    );
    assert.equal(allInQbo(), documents);

    // Deleted in QuickBooks, then changed in DevPos: the update meets 610, and the document is created again, once.
    const [invoice] = (await syncedRows(CHANGES, 'Invoice')).filter((r) => r.sync_token === '0');
    assert.ok(invoice, 'an invoice not touched by the earlier test');
    assert.equal(qbo.deleteEntity('Invoice', invoice.qbo_id!), true);
    const recreatedAmount = change(invoice.eic, 50);
    const gone = await run('full', CHANGES);
    assert.equal(gone.topic, Topic.RunCompleted, gone.value);
    assert.deepEqual([gone.json.payload.stats.created, gone.json.payload.stats.updated], [1, 0]);
    assert.ok(
      gone.json.payload.warnings.some((w: string) => w.includes(`(${invoice.eic}) was deleted in QuickBooks (610)`)),
      JSON.stringify(gone.json.payload.warnings),
    );
    const again = inQbo(invoice.eic);
    assert.equal(again.length, 1);
    assert.notEqual(again[0].Id, invoice.qbo_id);
    assert.equal(again[0].TotalAmt, recreatedAmount);
    const recreated = await row(invoice.eic);
    assert.deepEqual([recreated.status, recreated.qbo_id, recreated.generation], ['synced', again[0].Id, 1]);
    assert.equal(allInQbo(), documents);

    const settled = await run('full', CHANGES);
    assert.equal(settled.topic, Topic.RunCompleted, settled.value);
    assert.deepEqual(
      [settled.json.payload.stats.created, settled.json.payload.stats.updated, settled.json.payload.stats.unchanged],
      [0, 0, expected.length],
    );
    assert.equal(inQbo(invoice.eic).length, 1, 'created once');
  });

  it('a document QuickBooks refuses is failed with its message and element; the run completes and the rest sync', async () => {
    const expected = expectedIn(REFUSED);
    const chosen = expected.find((d) => !d.selfIssuingType && d.amount > 0 && d.partyType === 'Shitje');
    assert.ok(chosen, 'a plain sale to refuse');
    qbo.refuseCreatesMatching(new RegExp(`^DevPos EIC ${chosen.eic}$`));
    const end = await run('full', REFUSED);
    qbo.refuseCreatesMatching(null);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    const stats = end.json.payload.stats;
    assert.deepEqual([stats.failed, stats.created], [1, expected.length - 1]);

    const refused = await row(chosen.eic);
    assert.equal(refused.status, 'failed');
    assert.equal(refused.qbo_id, null);
    assert.equal(refused.error_code, 'QBO_6000');
    assert.match(
      String(refused.error_message),
      /^A business validation error has occurred while processing your request: Business Validation Error: The Invoice was refused/,
    );
    assert.equal(refused.error_element, 'PrivateNote');
    assert.deepEqual(inQbo(chosen.eic), [], 'not in QuickBooks');
    for (const d of expected.filter((e) => e.eic !== chosen.eic)) {
      assert.equal(inQbo(d.eic).length, 1, `${d.documentNumber} synced`);
      assert.equal((await row(d.eic)).status, 'synced');
    }

    // QuickBooks takes it now: a retry of that one document creates it and touches nothing else.
    const before = allInQbo();
    const retry = await run('sales', { ...REFUSED, eics: [chosen.eic] });
    assert.equal(retry.topic, Topic.RunCompleted, retry.value);
    assert.deepEqual([retry.json.payload.stats.fetched, retry.json.payload.stats.created], [1, 1]);
    assert.equal(inQbo(chosen.eic).length, 1);
    assert.equal(allInQbo(), before + 1);
    const synced = await row(chosen.eic);
    assert.deepEqual([synced.status, synced.error_code, synced.error_element], ['synced', null, null]);
  });
  it('a refused document that was alone in its batch is created once QuickBooks takes it, not answered the refusal again', async () => {
    devpos.generate(tenant, { ...LONE, salesPerDay: 1, purchasesPerDay: 0 });
    const [lone] = devpos.documentsOf(tenant).filter((d) => d.invoiceCreatedDate.startsWith(LONE.from));
    // Not one DevPos itself marks refused, and a plain sale: the only document of the run, so a batch of one.
    devpos.setDocument(tenant, lone.eic, { invoiceStatus: 'Pranuar', selfIssuingType: null, customer: null });
    qbo.refuseCreatesMatching(new RegExp(`^DevPos EIC ${lone.eic}$`));
    const refused = await run('full', LONE);
    qbo.refuseCreatesMatching(null);
    assert.equal(refused.topic, Topic.RunCompleted, refused.value);
    assert.deepEqual([refused.json.payload.stats.failed, refused.json.payload.stats.created], [1, 0]);
    assert.equal((await row(lone.eic)).status, 'failed');

    const replayed = qbo.apiCounters().replayed;
    const next = await run('full', LONE);
    assert.equal(next.topic, Topic.RunCompleted, next.value);
    assert.deepEqual(
      [next.json.payload.stats.created, next.json.payload.stats.failed],
      [1, 0],
      `QuickBooks takes it now; the simulator replayed ${qbo.apiCounters().replayed - replayed} stored answer(s)`,
    );
    assert.equal(inQbo(lone.eic).length, 1);
    assert.equal((await row(lone.eic)).status, 'synced');
  });
});
