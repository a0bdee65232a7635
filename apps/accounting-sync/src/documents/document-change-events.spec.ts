import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AppConfig, loadConfig } from '@sync-hub/config';
import {
  ACCOUNTING_DOCUMENT_RECORD_FIELDS,
  AccountingDocumentChangedPayload,
  AccountingDocumentRecord,
  ChangeEventPayload,
  EventEnvelope,
  InvalidMessageError,
  parseEnvelope,
  Topic,
} from '@sync-hub/contracts';
import { ReliablePublisher } from '@sync-hub/messaging';
import { OutboxMessage, SecretKeyCheck } from '@sync-hub/persistence';
import { DevposSimulator, QuickBooksSimulator } from '@sync-hub/simulators';
import { DataSource } from 'typeorm';
import { RecordingBus } from '../../../../test/support/recording-bus';
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
import { documentView } from './document-views';
import { PartyResolver } from './party-resolver';

/** The simulator's seeded income item and expense account (libs/simulators/src/quickbooks/qbo-store.ts). */
const QBO_SEED = { salesItem: '1', expenseAccount: '3' };
const RUN = '7a0f3c2e-1b4d-4e6a-8c9b-2d5e7f1a3b01';
const RUN2 = '7a0f3c2e-1b4d-4e6a-8c9b-2d5e7f1a3b02';
type Change = ChangeEventPayload<AccountingDocumentRecord>;

/** A decoded record as JSON (the contract's classes hold its nested error). */
const plain = (record: AccountingDocumentRecord): AccountingDocumentRecord =>
  JSON.parse(JSON.stringify(record)) as AccountingDocumentRecord;

/** The stored row in the record's shape, as the documents API shows it (without its bookkeeping times). */
function expectedRecord(row: AccountingDocument): AccountingDocumentRecord {
  const { synced_at: _s, updated_at: _u, ...record } = documentView(row);
  return record;
}

/** One company's documents from the DevPos simulator into the QuickBooks simulator, on SQLite, over HTTP. */
describe('accounting document change events (accounting.document.changed.v1)', () => {
  let db: DataSource;
  let qbo: QuickBooksSimulator;
  let devpos: DevposSimulator;
  let env: Record<string, string>;
  let bus: RecordingBus<AccountingDocumentChangedPayload>;
  let outbox: ReliablePublisher;
  /** Builds a DocumentSyncService on the shared collaborators, with its own config (CHANGE_EVENTS). */
  let serviceWith: (vars?: Record<string, string>) => DocumentSyncService;
  let sync: DocumentSyncService;
  const ctx = { signal: new AbortController().signal, warn: () => undefined };
  const tenant = () => devpos.users[0].tenant;
  const rowsIn = async (range: { from: string; to: string }) =>
    (await db.getRepository(AccountingDocument).find({ order: { eic: 'ASC' } })).filter(
      (r) => r.txnDate >= range.from && r.txnDate <= range.to,
    );
  const outboxRows = () => db.getRepository(OutboxMessage).count();

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
    qbo = new QuickBooksSimulator({ seed: 7 });
    await qbo.start();
    devpos = new DevposSimulator({ seed: 7 });
    const devposUrl = await devpos.start();
    const user = devpos.users[0];
    const seed = qbo.connect();
    env = {
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
    };
    const config: AppConfig = loadConfig('accounting-sync', env);
    const secrets = new ConnectionSecrets(config, db);
    const oauth = new QuickBooksOAuthClient(config);
    const devposClient = new DevposClient(config);
    const companies = new CompanyProjectionService(db.getRepository(CompanyProjection));
    const connections = new ConnectionsService(config, db, secrets, companies, oauth, devposClient);
    await connections.onApplicationBootstrap();
    const api = new QuickBooksApiClient(config);
    const devposTokens = new DevposTokens(db, secrets, devposClient);
    const quickbooks = new QuickBooksTokens(config, db, secrets, oauth);
    const parties = new PartyResolver(db, api);
    bus = new RecordingBus(AccountingDocumentChangedPayload);
    outbox = new ReliablePublisher(bus, db.getRepository(OutboxMessage));
    serviceWith = (vars = {}) =>
      new DocumentSyncService(
        loadConfig('accounting-sync', { ...env, ...vars }),
        db,
        companies,
        connections,
        devposTokens,
        devposClient,
        quickbooks,
        api,
        parties,
        outbox,
      );
    sync = serviceWith();
  });

  after(async () => {
    await qbo.stop();
    await devpos.stop();
    await db.destroy();
  });

  afterEach(() => assert.deepEqual(bus.invalid, [], 'every event passes the contract'));
  beforeEach(() => {
    bus.sent.length = 0;
    bus.down = false;
  });

  it('a first run: created when stored (pending, or skipped), updated when synced, updated when its PDF is attached', async () => {
    const range = { from: '2026-04-06', to: '2026-04-07' };
    devpos.generate(tenant(), { ...range, salesPerDay: 3, purchasesPerDay: 2 });
    const [rejected] = devpos.documentsOf(tenant(), 'sales').filter((d) => d.invoiceCreatedDate.startsWith(range.from));
    devpos.setDocument(tenant(), rejected.eic, { invoiceStatus: 'Refuzuar' });
    const { stats } = await sync.sync(1, { job: 'full', range, runId: RUN }, ctx);
    const rows = await rowsIn(range);
    assert.equal(rows.length, stats.created + stats.skipped);
    assert.ok(stats.created > 0 && stats.skipped > 0 && stats.failed === 0);
    const byKey = bus.byKey();
    assert.deepEqual([...byKey.keys()].sort(), rows.map((r) => `1:${r.eic}`).sort(), 'every stored document, alone');
    const all = [...ACCOUNTING_DOCUMENT_RECORD_FIELDS];
    for (const row of rows) {
      const changes = byKey.get(`1:${row.eic}`)!;
      assert.deepEqual(
        plain(changes[changes.length - 1].record),
        expectedRecord(row),
        'the last carries the stored row',
      );
      if (row.status === 'skipped') {
        // A document DevPos rejected is stored once, skipped.
        assert.deepEqual(
          changes.map((c) => [c.changeType, c.record.status, c.changedFields]),
          [['created', 'skipped', all]],
        );
        continue;
      }
      assert.equal(row.status, 'synced');
      assert.deepEqual(
        changes.map((c) => [c.changeType, c.record.status, c.changedFields]),
        [
          ['created', 'pending', all],
          ['updated', 'synced', ['status', 'qbo_id', 'sync_token']],
          ['updated', 'synced', ['attachment_status', 'attachment_id']],
        ],
        row.eic,
      );
      assert.equal(changes[0].record.qbo_id, null, 'pending: not in QuickBooks yet');
      assert.equal(changes[1].record.qbo_id, row.qboId);
      assert.equal(changes[2].record.attachment_status, 'attached');
    }
    for (const m of bus.sent) {
      assert.equal(m.topic, Topic.AccountingDocumentChanged);
      assert.equal(m.key, m.value.payload.id);
      assert.match(m.key, /^[1-9][0-9]*:.+$/, "the key's pattern in the AsyncAPI contract");
      assert.deepEqual([m.value.payload.runId, m.value.runId], [RUN, RUN]);
      assert.equal(m.value.type, 'accounting.document.changed');
    }
    assert.equal(await outboxRows(), 0, 'the outbox is empty once they are sent');
  });

  it('a re-run with nothing changed sends nothing; a document updated in QuickBooks sends its new SyncToken', async () => {
    const range = { from: '2026-04-06', to: '2026-04-07' };
    await sync.sync(1, { job: 'full', range, runId: RUN2 }, ctx);
    assert.equal(bus.sent.length, 0, 'nothing changed, nothing sent');
    assert.equal(await outboxRows(), 0);

    const synced = (await rowsIn(range)).find((r) => r.status === 'synced' && r.qboEntity === 'Invoice')!;
    devpos.setDocument(tenant(), synced.eic, { amount: 2468 });
    const { stats } = await sync.sync(1, { job: 'sales', range, runId: RUN2 }, ctx);
    assert.equal(stats.updated, 1);
    const row = (await rowsIn(range)).find((r) => r.eic === synced.eic)!;
    assert.notEqual(row.syncToken, synced.syncToken);
    assert.deepEqual(
      bus.sent.map((m) => [m.key, m.value.payload.changeType, m.value.payload.changedFields]),
      [[`1:${synced.eic}`, 'updated', ['sync_token']]],
      'its amount is not in the record: the new SyncToken is what changed',
    );
    assert.deepEqual(plain(bus.sent[0].value.payload.record), expectedRecord(row));
  });

  it('a document QuickBooks refuses: failed with its last_error; fixed, the next run syncs it', async () => {
    const range = { from: '2026-04-13', to: '2026-04-14' };
    devpos.generate(tenant(), { ...range, salesPerDay: 0, purchasesPerDay: 2 });
    await db
      .getRepository(AccountingSettings)
      .save({ companyId: 1, incomeItemId: null, expenseAccountId: '999', taxCodes: null, updatedAt: new Date() });
    try {
      const { stats } = await sync.sync(1, { job: 'bills', range, runId: RUN }, ctx);
      assert.ok(stats.failed > 0);
    } finally {
      await db.getRepository(AccountingSettings).delete({ companyId: 1 });
    }
    const failed = (await rowsIn(range)).filter((r) => r.status === 'failed');
    assert.equal(failed.length, (await rowsIn(range)).filter((r) => r.status !== 'skipped').length);
    let byKey = bus.byKey();
    for (const row of failed) {
      const changes = byKey.get(`1:${row.eic}`)!;
      assert.deepEqual(
        changes.map((c) => [c.changeType, c.record.status, c.changedFields]),
        [
          ['created', 'pending', [...ACCOUNTING_DOCUMENT_RECORD_FIELDS]],
          // A refusal moves the generation too: the next try goes under a new requestid.
          ['updated', 'failed', ['status', 'generation', 'last_error']],
        ],
      );
      const { last_error } = changes[1].record;
      assert.equal(last_error?.code, 'QBO_2500');
      assert.ok(last_error?.message, 'with QuickBooks’ reason');
      assert.deepEqual(plain(changes[1].record), expectedRecord(row));
    }

    bus.sent.length = 0;
    await sync.sync(1, { job: 'bills', range, runId: RUN2 }, ctx);
    byKey = bus.byKey();
    for (const before of failed) {
      const row = (await rowsIn(range)).find((r) => r.eic === before.eic)!;
      assert.equal(row.status, 'synced');
      const changes = byKey.get(`1:${row.eic}`)!;
      assert.deepEqual(
        changes.map((c) => [c.changeType, c.record.status, c.changedFields]),
        [
          ['updated', 'pending', ['status', 'last_error']],
          ['updated', 'synced', ['status', 'qbo_id', 'sync_token']],
          ['updated', 'synced', ['attachment_status', 'attachment_id']],
        ],
      );
      assert.equal(changes[1].record.last_error, null);
      assert.ok(changes.every((c) => c.runId === RUN2));
    }
  });

  it('a document DevPos does not give in full is created failed, with its last_error, in one event', async () => {
    const range = { from: '2026-04-20', to: '2026-04-20' };
    devpos.generate(tenant(), { ...range, salesPerDay: 2, purchasesPerDay: 0 });
    devpos.setFaults({ einvoiceFailureRate: 1 });
    try {
      await sync.sync(1, { job: 'sales', range, runId: RUN }, ctx);
    } finally {
      devpos.clearFaults();
    }
    const failed = (await rowsIn(range)).filter((r) => r.status === 'failed');
    assert.ok(failed.length > 0);
    const byKey = bus.byKey();
    for (const row of failed) {
      const changes = byKey.get(`1:${row.eic}`)!;
      assert.equal(changes.length, 1);
      assert.equal(changes[0].changeType, 'created');
      assert.equal(changes[0].record.last_error?.code, 'DEVPOS_DOCUMENT_UNAVAILABLE');
      assert.deepEqual(plain(changes[0].record), expectedRecord(row));
    }
  });

  it('none with CHANGE_EVENTS without accounting, or in a dry run; the rows are written all the same', async () => {
    const range = { from: '2026-04-27', to: '2026-04-27' };
    devpos.generate(tenant(), { ...range, salesPerDay: 2, purchasesPerDay: 1 });
    await sync.sync(1, { job: 'full', range, runId: RUN, dryRun: true }, ctx);
    assert.equal((await rowsIn(range)).length, 0);
    const { stats } = await serviceWith({ CHANGE_EVENTS: 'splynx,crm,usage' }).sync(
      1,
      { job: 'full', range, runId: RUN },
      ctx,
    );
    assert.ok(stats.created > 0);
    assert.equal((await rowsIn(range)).length, stats.created + stats.skipped);
    const row = (await rowsIn(range)).find((r) => r.status === 'synced')!;
    devpos.setDocument(tenant(), row.eic, { amount: 1357 });
    assert.equal((await serviceWith({ CHANGE_EVENTS: 'none' }).sync(1, { job: 'full', range }, ctx)).stats.updated, 1);
    assert.equal(bus.sent.length, 0);
    assert.equal(await outboxRows(), 0);
    // Switched on again: what it wrote meanwhile is the baseline, not a backlog.
    await sync.sync(1, { job: 'full', range, runId: RUN2 }, ctx);
    assert.equal(bus.sent.length, 0);
  });

  it('the rows and their events commit together: a failed transaction leaves neither, and sends nothing', async () => {
    const range = { from: '2026-05-04', to: '2026-05-04' };
    devpos.generate(tenant(), { ...range, salesPerDay: 3, purchasesPerDay: 0 });
    const batches = qbo.apiCounters().batches;
    const real = outbox.enqueueBatch.bind(outbox);
    outbox.enqueueBatch = async (...args: Parameters<typeof real>) => {
      await real(...args); // written in the transaction…
      throw new Error('the database went away before the commit'); // …which then rolls back
    };
    try {
      await assert.rejects(sync.sync(1, { job: 'sales', range, runId: RUN }, ctx), /went away/);
    } finally {
      outbox.enqueueBatch = real;
    }
    assert.equal((await rowsIn(range)).length, 0, 'no row');
    assert.equal(await outboxRows(), 0, 'no event');
    assert.equal(bus.sent.length, 0);
    assert.equal(qbo.apiCounters().batches, batches, 'nothing was sent to QuickBooks before the pending rows were');

    const { stats } = await sync.sync(1, { job: 'sales', range, runId: RUN2 }, ctx);
    const created = [...bus.byKey().values()].filter((c) => c[0].changeType === 'created');
    assert.equal(created.length, stats.created + stats.skipped, 'the next run creates them, once');
  });

  it('while the bus is down the events wait in the outbox, a row per written step, and go out after in order', async () => {
    const range = { from: '2026-05-11', to: '2026-05-12' };
    devpos.generate(tenant(), { ...range, salesPerDay: 6, purchasesPerDay: 0 });
    bus.down = true;
    const { stats } = await sync.sync(1, { job: 'sales', range, runId: RUN }, ctx);
    assert.ok(stats.created > 1);
    const documents = stats.created + stats.skipped;
    const events = stats.created * 3 + stats.skipped;
    assert.equal((await outbox.depth()).pending, events, 'every event kept');
    const rows = await outboxRows();
    assert.ok(
      rows <= 4 && rows < documents,
      `${rows} outbox rows for ${documents} documents: one per step, not per event`,
    );
    bus.down = false;
    assert.equal(await outbox.flush(new Date(Date.now() + 3600_000)), events);
    for (const row of await rowsIn(range)) {
      const changes = bus.byKey().get(`1:${row.eic}`)!;
      assert.equal(changes[0].changeType, 'created');
      assert.deepEqual(plain(changes[changes.length - 1].record), expectedRecord(row), 'the last is the latest');
    }
  });

  it("every event passes the topic's contract; a record off the contract is refused", async () => {
    const range = { from: '2026-05-18', to: '2026-05-18' };
    devpos.generate(tenant(), { ...range, salesPerDay: 1, purchasesPerDay: 1 });
    await sync.sync(1, { job: 'full', range, runId: RUN }, ctx);
    assert.ok(bus.sent.length > 0);
    const wire = JSON.parse(bus.sent[bus.sent.length - 1].json) as EventEnvelope<Change>;
    assert.doesNotThrow(() => parseEnvelope(wire, AccountingDocumentChangedPayload));
    const broken = (change: (record: Record<string, unknown>) => void) => {
      const copy = JSON.parse(JSON.stringify(wire)) as { payload: { record: Record<string, unknown> } };
      change(copy.payload.record);
      return () => parseEnvelope(copy, AccountingDocumentChangedPayload);
    };
    assert.throws(
      broken((r) => (r.status = 'done')),
      InvalidMessageError,
    );
    assert.throws(
      broken((r) => (r.last_error = { message: 'no code' })),
      InvalidMessageError,
    );
    assert.throws(
      broken((r) => (r.synced_at = new Date().toISOString())),
      InvalidMessageError,
      'the bookkeeping times are not in the record',
    );
  });
});
