import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AppConfig, loadConfig } from '@sync-hub/config';
import { SecretKeyCheck } from '@sync-hub/persistence';
import { DevposSimulator, QuickBooksSimulator } from '@sync-hub/simulators';

/** The simulator's seeded income item and expense account (libs/simulators/src/quickbooks/qbo-store.ts). */
const QBO_SEED = { salesItem: '1', expenseAccount: '3' };
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { CompanyProjection } from '../companies/company-projection.entity';
import { CompanyProjectionService } from '../companies/company-projection.service';
import { Connection } from '../connections/connection.entity';
import { ConnectionSecrets } from '../connections/connection-secrets';
import { ConnectionsService } from '../connections/connections.service';
import { OAuthState } from '../connections/oauth-state.entity';
import { DevposClient } from '../devpos/devpos-client';
import { DevposTokens } from '../devpos/devpos-tokens.service';
import { QuickBooksApiClient } from '../quickbooks/quickbooks-api.client';
import { QuickBooksOAuthClient } from '../quickbooks/quickbooks-oauth.client';
import { QuickBooksTokens } from '../quickbooks/quickbooks-tokens.service';
import { AccountingDocument } from './accounting-document.entity';
import { AccountingParty } from './accounting-party.entity';
import { AccountingSettings } from './accounting-settings.entity';
import { DocumentSyncService } from './document-sync.service';
import { PartyResolver } from './party-resolver';

const RANGE = { from: '2026-03-01', to: '2026-03-14' };

/** One company's documents from the DevPos simulator into the QuickBooks simulator, on SQLite, over HTTP. */
describe('DocumentSyncService (SQLite, the DevPos and QuickBooks simulators over HTTP)', () => {
  let db: DataSource;
  let qbo: QuickBooksSimulator;
  let devpos: DevposSimulator;
  let sync: DocumentSyncService;
  let api: QuickBooksApiClient;
  const warnings: string[] = [];
  const ctx = { signal: new AbortController().signal, warn: (m: string) => void warnings.push(m) };
  const docs = () => db.getRepository(AccountingDocument).find({ order: { eic: 'ASC' } });

  before(async () => {
    db = await inMemoryDatabase([
      CompanyProjection,
      Connection,
      OAuthState,
      SecretKeyCheck,
      AccountingDocument,
      AccountingParty,
      AccountingSettings,
    ]);
    await db
      .getRepository(CompanyProjection)
      .save({ id: 1, name: 'One', timezone: 'Europe/Tirane', active: true, updatedAt: new Date() });
    qbo = new QuickBooksSimulator({ seed: 5 });
    await qbo.start();
    devpos = new DevposSimulator({ seed: 5 });
    const devposUrl = await devpos.start();
    const user = devpos.users[0];
    devpos.generate(user.tenant, { ...RANGE, salesPerDay: 3, purchasesPerDay: 2 });
    const seed = qbo.connect();
    const config: AppConfig = loadConfig('accounting-sync', {
      SECRETS_KEY: randomBytes(32).toString('base64'),
      QBO_CLIENT_ID: qbo.clientId,
      QBO_CLIENT_SECRET: qbo.clientSecret,
      QBO_TOKEN_URL: qbo.urls.token,
      QBO_API_BASE: qbo.urls.api.replace(/\/v3\/company$/, ''),
      QBO_REALM_ID: seed.realmId,
      QBO_REFRESH_TOKEN: seed.refreshToken,
      QBO_DEFAULT_INCOME_ITEM_ID: QBO_SEED.salesItem,
      QBO_DEFAULT_EXPENSE_ACCOUNT_ID: QBO_SEED.expenseAccount,
      DEVPOS_URL: devposUrl,
      DEVPOS_AUTH_BASIC: Buffer.from(`${devpos.clientId}:`).toString('base64'),
      DEVPOS_TENANT: user.tenant,
      DEVPOS_USERNAME: user.username,
      DEVPOS_PASSWORD: user.password,
      HTTP_RETRIES: '1',
      HTTP_RETRY_BASE_DELAY_MS: '5',
    });
    const secrets = new ConnectionSecrets(config, db);
    const oauth = new QuickBooksOAuthClient(config);
    const devposClient = new DevposClient(config);
    const companies = new CompanyProjectionService(db.getRepository(CompanyProjection));
    const connections = new ConnectionsService(config, db, secrets, companies, oauth, devposClient);
    await connections.onApplicationBootstrap();
    api = new QuickBooksApiClient(config);
    sync = new DocumentSyncService(
      config,
      db,
      companies,
      connections,
      new DevposTokens(db, secrets, devposClient),
      devposClient,
      new QuickBooksTokens(config, db, secrets, oauth),
      api,
      new PartyResolver(db, api),
    );
  });

  after(async () => {
    await qbo.stop();
    await devpos.stop();
    await db.destroy();
  });

  it('a dry run says what it would do and writes nothing anywhere', async () => {
    const { stats, plan } = await sync.sync(1, { job: 'full', range: RANGE, dryRun: true }, ctx);
    assert.ok(stats.fetched > 0);
    assert.equal(stats.created, plan.filter((p) => p.action === 'create').length);
    assert.equal((await docs()).length, 0);
    assert.equal(qbo.apiCounters().batches, 0);
  });

  it('a full run creates every document once, on the right parties, dates, totals and currency', async () => {
    const { stats } = await sync.sync(1, { job: 'full', range: RANGE }, ctx);
    const rows = await docs();
    const source = [...devpos.documentsOf(devpos.users[0].tenant)];
    const rejected = source.filter((d) => d.invoiceStatus === 'Refuzuar').length;
    assert.equal(stats.fetched, source.length);
    assert.equal(stats.skipped, rejected);
    assert.equal(stats.failed, 0, JSON.stringify(rows.filter((r) => r.status === 'failed').map((r) => r.errorMessage)));
    assert.equal(stats.created, source.length - rejected);
    const inQbo = qbo.documents();
    const created = ['Invoice', 'CreditMemo', 'Bill', 'VendorCredit'].reduce(
      (n, t) => n + (inQbo[t as keyof typeof inQbo]?.length ?? 0),
      0,
    );
    assert.equal(created, stats.created, 'one QuickBooks document per DevPos document');
    for (const row of rows.filter((r) => r.status === 'synced')) {
      const doc = source.find((d) => d.eic === row.eic)!;
      const entity = qbo.entity(row.qboEntity, row.qboId!) as Record<string, any>;
      assert.equal(entity.DocNumber, doc.documentNumber);
      assert.equal(entity.TxnDate, doc.invoiceCreatedDate.slice(0, 10));
      assert.equal(entity.Line[0].Amount, Math.round(Math.abs(doc.amount) * 100) / 100);
      assert.match(entity.PrivateNote, new RegExp(doc.eic));
      assert.equal(entity.CurrencyRef.value, (devpos.document(devpos.users[0].tenant, doc.eic) as any).currencyCode);
    }
  });

  it('a second run makes no QuickBooks write; one changed document is one sparse update', async () => {
    const before = qbo.apiCounters();
    const again = await sync.sync(1, { job: 'full', range: RANGE }, ctx);
    assert.equal(again.stats.created + again.stats.updated, 0);
    const after = qbo.apiCounters();
    assert.equal(after.batches, before.batches);
    assert.deepEqual(after.updates, before.updates);

    const synced = (await docs()).find((r) => r.status === 'synced' && r.qboEntity === 'Invoice')!;
    devpos.setDocument(devpos.users[0].tenant, synced.eic, { amount: 4321 });
    const changed = await sync.sync(1, { job: 'sales', range: RANGE }, ctx);
    assert.equal(changed.stats.updated, 1);
    assert.equal((qbo.entity('Invoice', synced.qboId!) as any).Line[0].Amount, 4321);
  });

  it('a run that dies after QuickBooks took a batch, run again, replays that batch: no duplicate', async () => {
    const later = { from: '2026-03-15', to: '2026-03-16' };
    devpos.generate(devpos.users[0].tenant, { ...later, salesPerDay: 3, purchasesPerDay: 0 });
    const real = api.batchCreate.bind(api);
    api.batchCreate = async (...args: Parameters<typeof real>) => {
      await real(...args); // QuickBooks created the documents…
      throw new Error('accounting-sync was killed before it stored the answer'); // …and the answer was lost
    };
    try {
      await assert.rejects(sync.sync(1, { job: 'sales', range: later }, ctx), /killed/);
    } finally {
      api.batchCreate = real;
    }
    const pending = (await docs()).filter((r) => r.status === 'pending');
    assert.ok(
      pending.length > 0 && pending.every((r) => r.pendingRequest),
      'the batch is recorded pending, with its requestid',
    );
    const invoicesBefore = qbo.entities('Invoice').length + qbo.entities('CreditMemo').length;
    const replayedBefore = qbo.apiCounters().replayed;
    const { stats } = await sync.sync(1, { job: 'sales', range: later }, ctx);
    assert.equal(stats.created, pending.length);
    assert.equal(
      qbo.entities('Invoice').length + qbo.entities('CreditMemo').length,
      invoicesBefore,
      'nothing created twice',
    );
    assert.equal(qbo.apiCounters().replayed, replayedBefore + 1, "QuickBooks answered the batch's first answer");
    assert.ok((await docs()).every((r) => r.status !== 'pending'));
  });

  it('a document QuickBooks refuses is failed with its reason and element; the rest are synced', async () => {
    const later = { from: '2026-03-20', to: '2026-03-21' };
    devpos.generate(devpos.users[0].tenant, { ...later, salesPerDay: 2, purchasesPerDay: 2 });
    await db
      .getRepository(AccountingSettings)
      .save({ companyId: 1, incomeItemId: null, expenseAccountId: '999', taxCodes: null, updatedAt: new Date() });
    try {
      const { stats } = await sync.sync(1, { job: 'full', range: later }, ctx);
      const rows = (await docs()).filter((r) => r.txnDate >= later.from && r.txnDate <= later.to);
      const failed = rows.filter((r) => r.status === 'failed');
      assert.ok(failed.length > 0 && failed.every((r) => r.docType === 'purchase'), 'the bills on the unknown account');
      assert.equal(stats.failed, failed.length);
      assert.ok(failed.every((r) => r.errorCode === 'QBO_2500' && r.errorMessage && r.qboId === null));
      assert.ok(
        rows.some((r) => r.docType === 'sales' && r.status === 'synced'),
        'the sales went through',
      );
      assert.ok(
        failed.every((r) => r.generation === 1),
        'a refusal moves the generation: the next try is a new requestid',
      );
      await db.getRepository(AccountingSettings).delete({ companyId: 1 });
      const bills = qbo.entities('Bill').length + qbo.entities('VendorCredit').length;
      const fixed = await sync.sync(1, { job: 'bills', range: later }, ctx);
      assert.equal(fixed.stats.created, failed.length, 'once the mapping is fixed they are created, not refused again');
      assert.equal(qbo.entities('Bill').length + qbo.entities('VendorCredit').length, bills + failed.length);
    } finally {
      await db.getRepository(AccountingSettings).delete({ companyId: 1 });
    }
  });

  it("attaches each document's PDF to its QuickBooks entity, a batch's PDFs in one upload", async () => {
    const rows = (await docs()).filter((r) => r.status === 'synced');
    assert.ok(rows.length > 0);
    const counters = qbo.apiCounters();
    assert.ok(
      counters.uploadRequests <= counters.batches,
      `${counters.uploadRequests} upload requests for ${counters.batches} batches`,
    );
    assert.equal(counters.creates.Attachable, rows.length);
    for (const row of rows) {
      assert.equal(row.attachmentStatus, 'attached', row.eic);
      const attachable = qbo.entity('Attachable', row.attachmentId!) as Record<string, any>;
      assert.deepEqual(attachable.AttachableRef[0].EntityRef, { type: row.qboEntity, value: row.qboId });
      assert.doesNotMatch(attachable.FileName, /\//);
      const content = qbo.attachmentContent(row.attachmentId!)!;
      assert.match(content, /^%PDF-1\.4\n/);
      assert.ok(content.includes(row.eic), "DevPos's PDF of this document");
    }
  });

  it('a PDF QuickBooks does not take is a warning on the document; a retry of that document attaches it', async () => {
    const later = { from: '2026-03-24', to: '2026-03-24' };
    devpos.generate(devpos.users[0].tenant, { ...later, salesPerDay: 2, purchasesPerDay: 0 });
    const real = api.uploadMany.bind(api);
    api.uploadMany = async () => {
      throw new Error('QuickBooks answered 500 to the upload');
    };
    warnings.length = 0;
    try {
      const { stats } = await sync.sync(1, { job: 'sales', range: later }, ctx);
      assert.ok(stats.created > 0 && stats.failed === 0, 'the documents are synced');
    } finally {
      api.uploadMany = real;
    }
    const rows = (await docs()).filter((r) => r.txnDate === later.from && r.status === 'synced');
    assert.ok(rows.every((r) => r.attachmentStatus === 'failed' && /was not attached.*500/.test(r.attachmentWarning!)));
    assert.equal(warnings.filter((w) => /PDF of document/.test(w)).length, rows.length, 'never silent');

    const uploads = qbo.apiCounters().uploads;
    await sync.sync(1, { job: 'sales', range: later }, ctx);
    assert.equal(qbo.apiCounters().uploads, uploads, 'an unchanged run does not try again by itself');
    const one = rows[0];
    const retried = await sync.sync(1, { job: 'sales', range: later, eics: [one.eic] }, ctx);
    assert.deepEqual([retried.stats.fetched, retried.stats.created, retried.stats.updated], [1, 0, 0]);
    const after = (await docs()).find((r) => r.eic === one.eic)!;
    assert.deepEqual([after.attachmentStatus, after.attachmentWarning], ['attached', null]);
    assert.equal(qbo.apiCounters().uploads, uploads + 1, 'only that document');
  });

  it('a PDF a crashed run did not attach is attached by the next run, once; a company may attach none', async () => {
    const row = (await docs()).find(
      (r) => r.status === 'synced' && r.attachmentStatus === 'attached' && r.txnDate <= RANGE.to,
    )!;
    // As if the run had died after storing the created document and before its upload.
    assert.ok(qbo.deleteEntity('Attachable', row.attachmentId!));
    await db.getRepository(AccountingDocument).update(row.id, { attachmentStatus: null, attachmentId: null });
    const before = qbo.apiCounters();
    await sync.sync(1, { job: 'full', range: RANGE }, ctx);
    const after = qbo.apiCounters();
    assert.equal(after.uploads, before.uploads + 1);
    assert.equal(after.batches, before.batches, 'the document itself is not sent again');
    const again = (await docs()).find((r) => r.eic === row.eic)!;
    assert.equal(again.attachmentStatus, 'attached');
    const attachables = qbo
      .entities('Attachable')
      .filter(
        (a) =>
          (a as any).AttachableRef[0].EntityRef.value === row.qboId &&
          (a as any).AttachableRef[0].EntityRef.type === row.qboEntity,
      );
    assert.deepEqual(
      attachables.map((a) => a.Id),
      [again.attachmentId],
      'one PDF on the document',
    );
    await sync.sync(1, { job: 'full', range: RANGE }, ctx);
    assert.equal(qbo.apiCounters().uploads, after.uploads, 'and no more');

    const later = { from: '2026-03-26', to: '2026-03-26' };
    devpos.generate(devpos.users[0].tenant, { ...later, salesPerDay: 2, purchasesPerDay: 0 });
    await db.getRepository(AccountingSettings).save({
      companyId: 1,
      incomeItemId: null,
      expenseAccountId: null,
      taxCodes: null,
      attachPdf: false,
      updatedAt: new Date(),
    });
    try {
      const { stats } = await sync.sync(1, { job: 'sales', range: later }, ctx);
      assert.ok(stats.created > 0);
      assert.equal(qbo.apiCounters().uploads, after.uploads, 'no upload');
      const rows = (await docs()).filter((r) => r.txnDate === later.from && r.status === 'synced');
      assert.ok(rows.every((r) => r.attachmentStatus === 'none'));
    } finally {
      await db.getRepository(AccountingSettings).delete({ companyId: 1 });
    }
  });

  it('a QuickBooks outage during an update fails the run (retriable) and never recreates or forgets a document', async () => {
    const synced = (await docs()).find((r) => r.status === 'synced' && r.qboEntity === 'Invoice')!;
    devpos.setDocument(devpos.users[0].tenant, synced.eic, { amount: 777 });
    const count = qbo.entities('Invoice').length;
    qbo.setFaults({ errorRate: 1, target: 'api' });
    try {
      await assert.rejects(
        sync.sync(1, { job: 'sales', range: RANGE }, ctx),
        (err: Error & { retriable?: boolean }) => err.retriable === true,
      );
    } finally {
      qbo.clearFaults();
    }
    assert.equal(qbo.entities('Invoice').length, count, 'nothing created');
    const row = (await docs()).find((r) => r.eic === synced.eic)!;
    assert.deepEqual([row.qboId, row.status], [synced.qboId, 'synced'], 'the mapping is kept');
    const { stats } = await sync.sync(1, { job: 'sales', range: RANGE }, ctx);
    assert.equal(stats.updated, 1, 'the next run makes the update');
    assert.equal(qbo.entities('Invoice').length, count);
  });
});
