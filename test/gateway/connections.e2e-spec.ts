import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { companyChangedMessage } from '@sync-hub/contracts';
import { DevposSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { CONSUMED_TOPICS, KafkaProbe, freshGroup } from '../support/kafka';
import { ObservedQuickBooks } from '../support/quickbooks';
import { eventually, freePort } from '../support/wait';

const API_KEY = 'e2e-connections-key-0123456789';
// The company topic is compacted and shared by every suite on the broker: this suite's company is its own.
const COMPANY = 4343;
const SECRETS_KEY = randomBytes(32).toString('base64');

describe('the gateway forwards the connection routes and the QuickBooks callback to accounting-sync (Kafka, MariaDB, simulators)', () => {
  let db: TestDatabase;
  let gateway: AppProcess;
  let accounting: AppProcess;
  let gatewayPort: number;
  let quickbooks: ObservedQuickBooks;
  const devpos = new DevposSimulator();
  const probe = new KafkaProbe();

  const call = async (method: string, path: string, body?: unknown, key: string | null = API_KEY) => {
    const res = await fetch(`${gateway.url}${path}`, {
      method,
      redirect: 'manual',
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
      /* not JSON */
    }
    return { status: res.status, body: parsed, text, location: res.headers.get('location') };
  };
  const connections = async () => {
    const res = await call('GET', `/api/companies/${COMPANY}/connections`);
    assert.equal(res.status, 200, res.text);
    return res.body as any[];
  };
  /** Intuit's authorize page, as a browser meets it: it approves at once and redirects to the registered URI. */
  const approveAtIntuit = async (url: string) => {
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 302, await res.text());
    return new URL(res.headers.get('location')!);
  };

  before(async () => {
    db = await createTestDatabase('connections');
    gatewayPort = await freePort();
    quickbooks = new ObservedQuickBooks({ redirectUri: `http://127.0.0.1:${gatewayPort}/oauth/quickbooks/callback` });
    await quickbooks.start();
    const devposUrl = await devpos.start();
    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: API_KEY,
      HTTP_RETRIES: '0',
    };
    accounting = await startAppProcess(
      'accounting-sync',
      {
        ...common,
        KAFKA_GROUP_ID: `accounting-sync-connections-${randomUUID().slice(0, 8)}`,
        SECRETS_KEY,
        QBO_CLIENT_ID: quickbooks.clientId,
        QBO_CLIENT_SECRET: quickbooks.clientSecret,
        QBO_REDIRECT_URI: quickbooks.redirectUri,
        QBO_AUTH_URL: quickbooks.urls.authorize,
        QBO_TOKEN_URL: quickbooks.urls.token,
        QBO_REVOKE_URL: quickbooks.urls.revoke,
        QBO_API_BASE: quickbooks.urls.api.replace(/\/v3\/company$/, ''),
        DEVPOS_URL: devposUrl,
        DEVPOS_AUTH_BASIC: Buffer.from(`${devpos.clientId}:`).toString('base64'),
      },
      'connections-e2e-accounting-sync',
    );
    gateway = await startAppProcess(
      'gateway',
      {
        ...common,
        PORT: String(gatewayPort),
        KAFKA_GROUP_ID: await freshGroup('gateway-connections', CONSUMED_TOPICS.gateway),
        ACCOUNTING_SYNC_URL: accounting.url,
      },
      'connections-e2e-gateway',
    );
    // The scheduler announces companies on the compacted topic; here the suite announces its own, as the scheduler would.
    const now = new Date().toISOString();
    const company = companyChangedMessage({
      id: COMPANY,
      name: 'Connections E2E Sh.p.k.',
      timezone: 'Europe/Tirane',
      active: true,
      createdAt: now,
      updatedAt: now,
    });
    await probe.produce(company.topic, company.key, company.value);
    await eventually(
      async () => ((await call('GET', `/api/companies/${COMPANY}/connections`)).status === 200 ? true : undefined),
      `accounting-sync to learn company ${COMPANY}`,
      60000,
      300,
    );
  });

  after(async () => {
    await Promise.all([gateway?.stop(), accounting?.stop()]);
    await probe.close();
    await quickbooks?.stop();
    await devpos.stop();
    await db?.drop();
  });

  it('the /api connection routes need a key at the gateway; the callback is public', async () => {
    const routes: Array<[string, string]> = [
      ['GET', `/api/companies/${COMPANY}/connections`],
      ['GET', `/api/companies/${COMPANY}/connections/quickbooks/authorize`],
      ['PUT', `/api/companies/${COMPANY}/connections/devpos`],
      ['DELETE', `/api/companies/${COMPANY}/connections/devpos`],
    ];
    for (const [method, path] of routes) {
      const body = method === 'PUT' ? {} : undefined;
      assert.equal((await call(method, path, body, null)).status, 401, `${method} ${path}`);
      assert.equal(
        (await call(method, path, body, 'a-wrong-key-0123456789')).status,
        401,
        `${method} ${path}, wrong key`,
      );
    }
    const callback = await call('GET', '/oauth/quickbooks/callback?code=x&realmId=1&state=nope', undefined, null);
    assert.equal(callback.status, 400, 'no key needed: the state is checked, and this one is bad');
  });

  it('OpenAPI at the gateway documents the connection routes, the callback and the DevPos body', async () => {
    const doc = (await call('GET', '/docs-json', undefined, null)).body;
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/companies/{companyId}/connections',
      '/api/companies/{companyId}/connections/quickbooks/authorize',
      '/api/companies/{companyId}/connections/devpos',
      '/api/companies/{companyId}/connections/{provider}',
      '/oauth/quickbooks/callback',
    ])
      assert.ok(paths.includes(p), p);
    assert.ok(doc.components.schemas.PutDevposConnectionDto.properties.tenant);
    assert.equal(doc.paths['/oauth/quickbooks/callback'].get.security, undefined, 'the callback takes no key');
  });

  it('GET connections answers both providers, not connected; an unknown company is 404 as accounting-sync says', async () => {
    const list = await connections();
    assert.deepEqual(
      list.map((c) => [c.company_id, c.provider, c.connected, c.status]),
      [
        [COMPANY, 'quickbooks', false, null],
        [COMPANY, 'devpos', false, null],
      ],
    );
    const unknown = await call('GET', '/api/companies/987654/connections');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.message, /company 987654 not found/);
  });

  it('connects QuickBooks end to end: authorize URL → Intuit → callback → 302 connected; expiries shown, no secret anywhere', async () => {
    const authorize = await call('GET', `/api/companies/${COMPANY}/connections/quickbooks/authorize`);
    assert.equal(authorize.status, 200, authorize.text);
    const url = new URL(authorize.body.url);
    assert.equal(`${url.origin}${url.pathname}`, quickbooks.urls.authorize);
    assert.equal(url.searchParams.get('redirect_uri'), `http://127.0.0.1:${gatewayPort}/oauth/quickbooks/callback`);
    assert.equal(url.searchParams.get('scope'), 'com.intuit.quickbooks.accounting');
    assert.ok(Date.parse(authorize.body.expires_at) > Date.now());

    const back = await approveAtIntuit(authorize.body.url);
    assert.equal(back.origin, gateway.url, 'Intuit sends the browser to the gateway');
    assert.equal(back.searchParams.get('realmId'), quickbooks.realmId);
    const before = Date.now();
    const callback = await fetch(back, { redirect: 'manual' });
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.get('location'), `/?company=${COMPANY}&quickbooks=connected`);

    const qbo = (await connections()).find((c) => c.provider === 'quickbooks');
    assert.equal(qbo.connected, true);
    assert.equal(qbo.status, 'ok');
    assert.equal(qbo.status_reason, null);
    assert.deepEqual(qbo.settings, { realm_id: quickbooks.realmId, environment: 'sandbox' });
    const accessExpires = Date.parse(qbo.access_token_expires_at);
    assert.ok(
      accessExpires >= before + 3590_000 && accessExpires <= Date.now() + 3600_000,
      qbo.access_token_expires_at,
    );
    assert.ok(Date.parse(qbo.refresh_token_expires_at) > Date.now() + 100 * 86_400_000);
    assert.equal(qbo.refresh_token_days_left, 100);
    assert.ok(qbo.last_refreshed_at);

    assert.equal(quickbooks.issued.length, 2, 'one code exchange: an access and a refresh token');
    const answered = JSON.stringify(await connections());
    for (const token of quickbooks.issued) assert.ok(!answered.includes(token), 'no token in the API answer');
    assert.doesNotMatch(answered, /secret|access_token"|refresh_token"|password/i);
    const [row] = await db.dataSource.query(
      "SELECT secrets, settings FROM connections WHERE company_id = ? AND provider = 'quickbooks'",
      [COMPANY],
    );
    for (const token of quickbooks.issued) {
      assert.ok(!String(row.secrets).includes(token), 'the stored secrets are sealed, not plaintext');
      assert.ok(!String(row.secrets).includes(Buffer.from(token).toString('base64')), 'nor merely encoded');
      assert.ok(!String(row.settings).includes(token));
    }
    assert.doesNotMatch(String(row.secrets), /accessToken|refreshToken/);
  });

  it('a replayed callback and a forged state are 400 through the gateway, and store nothing', async () => {
    const authorize = await call('GET', `/api/companies/${COMPANY}/connections/quickbooks/authorize`);
    const back = await approveAtIntuit(authorize.body.url);
    const first = await fetch(back, { redirect: 'manual' });
    assert.equal(first.status, 302);
    const stored = await db.dataSource.query('SELECT secrets, updated_at FROM connections WHERE company_id = ?', [
      COMPANY,
    ]);
    const replay = await fetch(back, { redirect: 'manual' });
    assert.equal(replay.status, 400);
    assert.match((await replay.json()).message, /invalid state/);
    const state = back.searchParams.get('state')!;
    const forged = await call(
      'GET',
      `/oauth/quickbooks/callback?code=AB123&realmId=${quickbooks.realmId}&state=${encodeURIComponent(`${state.slice(0, -2)}xx`)}`,
      undefined,
      null,
    );
    assert.equal(forged.status, 400);
    assert.match(forged.body.message, /invalid state/);
    assert.equal(forged.location, null);
    assert.deepEqual(
      await db.dataSource.query('SELECT secrets, updated_at FROM connections WHERE company_id = ?', [COMPANY]),
      stored,
      'nothing was stored',
    );
  });

  it('a declined authorization comes back as a 302 with the reason', async () => {
    const authorize = await call('GET', `/api/companies/${COMPANY}/connections/quickbooks/authorize`);
    const state = new URL(authorize.body.url).searchParams.get('state')!;
    const declined = await call(
      'GET',
      `/oauth/quickbooks/callback?error=access_denied&state=${encodeURIComponent(state)}`,
      undefined,
      null,
    );
    assert.equal(declined.status, 302);
    const location = new URL(declined.location!, gateway.url);
    assert.equal(location.pathname, '/');
    assert.deepEqual(Object.fromEntries(location.searchParams), {
      company: String(COMPANY),
      quickbooks: 'error',
      reason: 'Intuit answered access_denied',
    });
  });

  it('PUT devpos stores the login (a bad body is 400 naming fields; a refused login is reauth_required with the reason)', async () => {
    const user = devpos.users[0];
    const path = `/api/companies/${COMPANY}/connections/devpos`;
    const bad = await call('PUT', path, { username: '', tenant: 'nope', colour: 'red' });
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.body.fields).sort(), ['colour', 'password', 'tenant', 'username']);

    const refused = await call('PUT', path, {
      username: user.username,
      password: 'not-the-password',
      tenant: user.tenant,
    });
    assert.equal(refused.status, 200, refused.text);
    assert.equal(refused.body.status, 'reauth_required');
    assert.match(refused.body.status_reason, /DevPos refused the login/);

    const ok = await call('PUT', path, {
      username: user.username,
      password: user.password,
      tenant: user.tenant,
      tracks_vat: true,
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(
      [ok.body.provider, ok.body.connected, ok.body.status, ok.body.settings],
      ['devpos', true, 'ok', { username: user.username, tenant: user.tenant, tracks_vat: true }],
    );
    assert.ok(Date.parse(ok.body.access_token_expires_at) > Date.now() + 7 * 3600_000, 'an 8-hour DevPos token');
    assert.ok(!ok.text.includes(user.password), 'the password is never answered');
  });

  it('DELETE disconnects: QuickBooks revoked at Intuit, then forgotten (204); an unknown provider is 404', async () => {
    const unknown = await call('DELETE', `/api/companies/${COMPANY}/connections/xero`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.message, /unknown provider xero/);

    const qbo = await call('DELETE', `/api/companies/${COMPANY}/connections/quickbooks`);
    assert.equal(qbo.status, 204, qbo.text);
    assert.equal(qbo.text, '');
    // Two code exchanges happened above: the stored grant is the second, and it is the one revoked.
    assert.deepEqual(
      quickbooks.refreshCounts().map((c) => [c.connection, c.revoked]),
      [
        [1, false],
        [2, true],
      ],
    );
    assert.equal((await call('DELETE', `/api/companies/${COMPANY}/connections/devpos`)).status, 204);
    assert.deepEqual(
      (await connections()).map((c) => [c.provider, c.connected]),
      [
        ['quickbooks', false],
        ['devpos', false],
      ],
    );
    assert.equal((await call('DELETE', `/api/companies/${COMPANY}/connections/devpos`)).status, 404, 'already gone');
  });

  it('no token, password or key the suite used is in either process log', () => {
    const logs = [gateway.logFile, accounting.logFile].map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    assert.ok(logs.length > 0);
    const secrets = [
      ...quickbooks.issued,
      quickbooks.clientSecret,
      devpos.users[0].password,
      'not-the-password',
      SECRETS_KEY,
    ];
    for (const secret of secrets) assert.ok(!logs.includes(secret), `a secret (${secret.slice(0, 4)}…) is in a log`);
  });

  it('a stopped accounting-sync is a 502 from the gateway that names it, for the API and the callback', async () => {
    await accounting.stop();
    const list = await call('GET', `/api/companies/${COMPANY}/connections`);
    assert.equal(list.status, 502);
    assert.match(list.body.message, /^accounting-sync is unreachable/);
    const callback = await call('GET', '/oauth/quickbooks/callback?code=x&realmId=1&state=y', undefined, null);
    assert.equal(callback.status, 502);
    assert.match(callback.body.message, /accounting-sync/);
  });
});
