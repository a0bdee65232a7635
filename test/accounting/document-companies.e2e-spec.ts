import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { companyChangedMessage, Topic } from '@sync-hub/contracts';
import { DevposSimulator, DevposUser } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { groupStartingNow, KafkaProbe, SeenMessage } from '../support/kafka';
import { ObservedQuickBooks } from '../support/quickbooks';
import { tick } from '../support/ticks';
import { eventually, freePort } from '../support/wait';

const API_KEY = 'accounting-companies-e2e-key';
const RANGE = { from: '2026-03-09', to: '2026-03-12' };
const DOCUMENT_TYPES = ['Invoice', 'CreditMemo', 'Bill', 'VendorCredit'] as const;
/** Company 1's QuickBooks company, seeded from QBO_REALM_ID; company 2 approves the simulator's own realm. */
const REALM_ONE = '9130350000000555';
const USERS: DevposUser[] = [
  { tenant: 'L91234567A', username: 'company-one', password: 'devpos-password-one' },
  { tenant: 'K87654321B', username: 'company-two', password: 'devpos-password-two' },
];

/**
 * Two companies' document runs at once in one accounting-sync process (Kafka, MariaDB, simulators over HTTP): each has
 * its own QuickBooks realm (company 1 seeded from the environment, company 2 connected through Intuit's authorize
 * flow) and its own DevPos tenant (company 2's login stored through the API). Tokens and documents never cross.
 */
describe('accounting-sync: two companies synced at once, each into its own QuickBooks realm', () => {
  let db: TestDatabase;
  let qbo: ObservedQuickBooks;
  let devpos: DevposSimulator;
  let app: AppProcess;
  const probe = new KafkaProbe();

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : null, location: res.headers.get('location') };
  };
  const connections = async (company: number): Promise<any[]> => {
    const res = await call('GET', `/api/companies/${company}/connections`);
    assert.equal(res.status, 200, res.text);
    return res.body;
  };
  /** The EICs of every QuickBooks document of a realm (from the private note the sync writes). */
  const eicsIn = (realm: string): string[] =>
    DOCUMENT_TYPES.flatMap((t) => qbo.entities(t, realm)).map((e) => String(e.PrivateNote).replace(/^DevPos EIC /, ''));
  const tenantDocuments = (tenant: string) =>
    devpos
      .documentsOf(tenant)
      .filter((d) => d.invoiceCreatedDate.slice(0, 10) >= RANGE.from && d.invoiceCreatedDate.slice(0, 10) <= RANGE.to);

  before(async () => {
    db = await createTestDatabase('accounting_companies');
    const port = await freePort();
    qbo = new ObservedQuickBooks({ seed: 51, redirectUri: `http://127.0.0.1:${port}/oauth/quickbooks/callback` });
    await qbo.start();
    devpos = new DevposSimulator({ seed: 51, users: USERS });
    const devposUrl = await devpos.start();
    for (const user of USERS) devpos.generate(user.tenant, { ...RANGE, salesPerDay: 4, purchasesPerDay: 2 });
    const seed = qbo.connect(REALM_ONE);
    await probe.watch([Topic.RunStarted, Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
    const now = new Date().toISOString();
    for (const id of [1, 2]) {
      const company = companyChangedMessage({
        id,
        name: `Company ${id}`,
        timezone: 'Europe/Tirane',
        active: true,
        createdAt: now,
        updatedAt: now,
      });
      await probe.produce(company.topic, company.key, company.value);
    }
    const group = await groupStartingNow(`accounting-companies-${randomBytes(4).toString('hex')}`, [
      Topic.AccountingRequested,
    ]);
    app = await startAppProcess(
      'accounting-sync',
      {
        PORT: String(port),
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        KAFKA_GROUP_ID: group,
        DATABASE_URL: db.url,
        GATEWAY_API_KEYS: API_KEY,
        SECRETS_KEY: randomBytes(32).toString('base64'),
        QBO_CLIENT_ID: qbo.clientId,
        QBO_CLIENT_SECRET: qbo.clientSecret,
        QBO_REDIRECT_URI: qbo.redirectUri,
        QBO_AUTH_URL: qbo.urls.authorize,
        QBO_TOKEN_URL: qbo.urls.token,
        QBO_REVOKE_URL: qbo.urls.revoke,
        QBO_API_BASE: qbo.urls.api.replace(/\/v3\/company$/, ''),
        QBO_REALM_ID: seed.realmId,
        QBO_REFRESH_TOKEN: seed.refreshToken,
        QBO_DEFAULT_INCOME_ITEM_ID: '1',
        QBO_DEFAULT_EXPENSE_ACCOUNT_ID: '3',
        DEVPOS_URL: devposUrl,
        DEVPOS_AUTH_BASIC: Buffer.from(`${devpos.clientId}:`).toString('base64'),
        DEVPOS_TENANT: USERS[0].tenant,
        DEVPOS_USERNAME: USERS[0].username,
        DEVPOS_PASSWORD: USERS[0].password,
        HTTP_RETRIES: '1',
        HTTP_RETRY_BASE_DELAY_MS: '20',
      },
      'accounting-companies',
    );
    await eventually(
      async () => ((await call('GET', '/api/companies/2/connections')).status === 200 ? true : undefined),
      'accounting-sync to learn company 2',
      60000,
      300,
    );
  });

  after(async () => {
    await app?.stop();
    await probe.close();
    await qbo?.stop();
    await devpos?.stop();
    await db?.drop();
  });

  it("company 2 connects its own DevPos login through the API and its own QuickBooks through Intuit's authorize flow", async () => {
    const put = await call('PUT', '/api/companies/2/connections/devpos', {
      username: USERS[1].username,
      password: USERS[1].password,
      tenant: USERS[1].tenant,
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.status, 'ok', 'DevPos took the login');

    const authorize = await call('GET', '/api/companies/2/connections/quickbooks/authorize');
    assert.equal(authorize.status, 200, authorize.text);
    const approved = await fetch(authorize.body.url, { redirect: 'manual' });
    assert.equal(approved.status, 302, await approved.text());
    const callback = await fetch(approved.headers.get('location')!, { redirect: 'manual' });
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.get('location'), '/?company=2&quickbooks=connected');

    const one = await connections(1);
    const two = await connections(2);
    const of = (list: any[], provider: string) => list.find((c) => c.provider === provider);
    assert.deepEqual(
      [of(one, 'quickbooks').settings.realm_id, of(two, 'quickbooks').settings.realm_id],
      [REALM_ONE, qbo.realmId],
    );
    assert.notEqual(REALM_ONE, qbo.realmId);
    assert.deepEqual(
      [of(one, 'devpos').settings.tenant, of(two, 'devpos').settings.tenant],
      [USERS[0].tenant, USERS[1].tenant],
    );
    for (const c of [...one, ...two]) assert.deepEqual([c.connected, c.status], [true, 'ok'], c.provider);
  });

  it("both runs at once: each realm holds exactly its own company's documents, each row the right company", async () => {
    // A little latency on every API call: the two runs are in QuickBooks at the same time, not one after the other.
    qbo.setFaults({ latencyMs: 25, target: 'api' });
    const ticks = [1, 2].map((companyId) => tick('accounting', 'full', { companyId, params: RANGE }));
    await Promise.all(ticks.map((t) => probe.produce(Topic.AccountingRequested, t.key, t.value)));
    const ends: SeenMessage[] = await Promise.all(ticks.map((t) => probe.waitForRunEnd(t.value.runId!, 120000)));
    qbo.clearFaults();
    for (const end of ends) assert.equal(end.topic, Topic.RunCompleted, end.value);
    const started = ticks.map((t) => probe.forRun(Topic.RunStarted, t.value.runId!)[0]);
    const [startOne, startTwo] = started.map((s) => Date.parse(s.json.occurredAt));
    const [endOne, endTwo] = ends.map((e) => Date.parse(e.json.occurredAt));
    assert.ok(startOne < endTwo && startTwo < endOne, 'the two runs overlapped');

    const realms = [REALM_ONE, qbo.realmId];
    for (const [i, user] of USERS.entries()) {
      const documents = tenantDocuments(user.tenant);
      const synced = documents.filter((d) => d.invoiceStatus !== 'Refuzuar').map((d) => d.eic);
      assert.ok(synced.length > 10);
      const stats = ends[i].json.payload.stats;
      assert.deepEqual(
        [stats.fetched, stats.created, stats.failed],
        [documents.length, synced.length, 0],
        `company ${i + 1}`,
      );
      assert.deepEqual(
        eicsIn(realms[i]).sort(),
        [...synced].sort(),
        `realm ${realms[i]} holds company ${i + 1}'s only`,
      );
      const rows: Array<{ eic: string; company_id: number }> = await db.dataSource.query(
        'SELECT eic, company_id FROM accounting_documents WHERE company_id = ?',
        [i + 1],
      );
      assert.deepEqual(
        rows.map((r) => r.eic).sort(),
        documents.map((d) => d.eic).sort(),
        `company ${i + 1}'s rows are its tenant's documents`,
      );
      // Every party a company's documents point at is in that company's realm, with the company's counterparts.
      const parties: Array<{ kind: string; qbo_id: string; display_name: string }> = await db.dataSource.query(
        'SELECT kind, qbo_id, display_name FROM accounting_parties WHERE company_id = ?',
        [i + 1],
      );
      assert.ok(parties.length > 0);
      for (const p of parties) {
        const entity = qbo.entity(p.kind === 'customer' ? 'Customer' : 'Vendor', p.qbo_id, realms[i]);
        assert.equal(entity?.DisplayName, p.display_name, `party ${p.qbo_id} of company ${i + 1} in its realm`);
      }
      assert.ok(qbo.tokenCalls(realms[i]) >= 1, `realm ${realms[i]} was called with its own tokens`);
      assert.ok(devpos.listCallCount({ tenant: user.tenant }) > 0);
      assert.ok(devpos.loginCount(user.tenant) >= 1);
    }
    const total = await db.dataSource.query('SELECT COUNT(*) AS n FROM accounting_documents');
    assert.equal(
      Number(total[0].n),
      USERS.reduce((n, u) => n + tenantDocuments(u.tenant).length, 0),
      'no row of either company under the other',
    );
  });
});
