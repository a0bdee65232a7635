import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { companyChangedMessage } from '@sync-hub/contracts';
import { DevposSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { KafkaProbe } from '../support/kafka';
import { ObservedQuickBooks } from '../support/quickbooks';
import { eventually, freePort } from '../support/wait';
import { cli } from '../support/cli';

const SECRETS_KEY = randomBytes(32).toString('base64');
const SEED_REALM = '9130350000000777';
/** The realm the simulated Intuit page hands out when a person connects (the simulator's default). */
const REALM = '9130350000000001';
// Company 1 is the one the environment seeds; the others are this suite's own on the shared company topic. Other
// suites' accounting ticks for company 1 may reach this suite's accounting-sync (its new consumer group reads the topic
// from the beginning), so the token assertions are about a company only this suite names.
const CONNECTING = 4401;
const UNCONNECTED = 4402;

/** Rows of `accounting:companies` for one company and provider, split on the table's two-space gutters. */
function row(table: string, company: number, provider: string): string[] {
  const line = table.split('\n').find((l) => new RegExp(`^${company}\\s.*\\s${provider}\\s`).test(`${l} `));
  assert.ok(line, `no ${provider} row for company ${company} in:\n${table}`);
  return line.split(/\s{2,}/);
}

/**
 * Long runs of token characters with a letter or digit in them (a JWT, a base64 or hex secret): ISO dates, realms and
 * words are far shorter, and a table's rule is only dashes.
 */
function tokenLike(text: string): string[] {
  return (text.match(/[A-Za-z0-9+/_=.-]{32,}/g) ?? []).filter((run) => /[A-Za-z0-9]/.test(run));
}

describe('accounting:companies, accounting:connect and accounting:token (MariaDB, Kafka, QuickBooks and DevPos simulators)', () => {
  let db: TestDatabase;
  let accounting: AppProcess;
  let env: Record<string, string>;
  let seedRefreshToken: string;
  let quickbooks: ObservedQuickBooks;
  const devpos = new DevposSimulator();
  const probe = new KafkaProbe();

  before(async () => {
    db = await createTestDatabase('cli_accounting');
    const port = await freePort(); // accounting-sync's: Intuit redirects there, so it is known before it starts
    quickbooks = new ObservedQuickBooks({ redirectUri: `http://127.0.0.1:${port}/oauth/quickbooks/callback` });
    await quickbooks.start();
    seedRefreshToken = quickbooks.connect(SEED_REALM).refreshToken;
    const devposUrl = await devpos.start();
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      SECRETS_KEY,
      HTTP_RETRIES: '0',
      QBO_CLIENT_ID: quickbooks.clientId,
      QBO_CLIENT_SECRET: quickbooks.clientSecret,
      QBO_REDIRECT_URI: quickbooks.redirectUri,
      QBO_AUTH_URL: quickbooks.urls.authorize,
      QBO_TOKEN_URL: quickbooks.urls.token,
      QBO_REVOKE_URL: quickbooks.urls.revoke,
      QBO_API_BASE: quickbooks.urls.api.replace(/\/v3\/company$/, ''),
      DEVPOS_URL: devposUrl,
      DEVPOS_AUTH_BASIC: Buffer.from(`${devpos.clientId}:`).toString('base64'),
    };
    const user = devpos.users[0];
    // The deployment's accounting-sync: it seeds company 1 from the environment and learns companies from Kafka.
    accounting = await startAppProcess(
      'accounting-sync',
      {
        ...env,
        PORT: String(port),
        GATEWAY_API_KEYS: 'e2e-cli-accounting-key-0123456789',
        KAFKA_GROUP_ID: `accounting-sync-cli-${randomUUID().slice(0, 8)}`,
        QBO_REALM_ID: SEED_REALM,
        QBO_REFRESH_TOKEN: seedRefreshToken,
        DEVPOS_TENANT: user.tenant,
        DEVPOS_USERNAME: user.username,
        DEVPOS_PASSWORD: user.password,
      },
      'cli-accounting-sync',
    );
    const now = new Date().toISOString();
    for (const [id, name] of [
      [1, 'Seeded Company'],
      [CONNECTING, 'CLI Connecting Sh.p.k.'],
      [UNCONNECTED, 'CLI Unconnected Sh.p.k.'],
    ] as const) {
      const m = companyChangedMessage({
        id,
        name,
        timezone: 'Europe/Tirane',
        active: true,
        createdAt: now,
        updatedAt: now,
      });
      await probe.produce(m.topic, m.key, m.value);
    }
    await eventually(
      async () => {
        const [{ n }] = await db.dataSource.query(
          'SELECT COUNT(*) AS n FROM accounting_company_projections WHERE id IN (1, ?, ?)',
          [CONNECTING, UNCONNECTED],
        );
        return Number(n) === 3 ? true : undefined;
      },
      'accounting-sync to learn the three companies',
      60000,
      300,
    );
  });

  after(async () => {
    await accounting?.stop();
    await probe.close();
    await quickbooks?.stop();
    await devpos.stop();
    await db?.drop();
  });

  it('accounting:companies lists each company with both connections: status and account', async () => {
    const { code, stdout, stderr } = await cli(['accounting:companies'], env);
    assert.equal(code, 0, stderr);
    const [header] = stdout.split('\n');
    assert.match(
      header,
      /^company\s+name\s+provider\s+status\s+account\s+access token expires\s+refresh token expires\s+reason$/,
    );
    // Company 1, seeded from the environment (its expiries depend on whether a check has used it yet).
    assert.deepEqual(row(stdout, 1, 'quickbooks').slice(2, 5), ['quickbooks', 'ok', `realm ${SEED_REALM} (sandbox)`]);
    assert.deepEqual(row(stdout, 1, 'devpos').slice(2, 5), [
      'devpos',
      'ok',
      `tenant ${devpos.users[0].tenant}, user ${devpos.users[0].username}`,
    ]);
    for (const provider of ['quickbooks', 'devpos'])
      assert.deepEqual(row(stdout, UNCONNECTED, provider).slice(1, 7), [
        'CLI Unconnected Sh.p.k.',
        provider,
        'not connected',
        '-',
        '-',
        '-',
      ]);
    assert.deepEqual(tokenLike(stdout), []);
  });

  it('accounting:connect prints an authorize URL that connects the company through the deployment', async () => {
    const { code, stdout, stderr } = await cli(['accounting:connect', `--company=${CONNECTING}`], env);
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n');
    assert.match(lines[0], new RegExp(`^Open this URL in a browser to connect QuickBooks for company ${CONNECTING}`));
    const url = new URL(lines[1]);
    assert.equal(`${url.origin}${url.pathname}`, quickbooks.urls.authorize);
    assert.equal(url.searchParams.get('client_id'), quickbooks.clientId);
    assert.equal(url.searchParams.get('redirect_uri'), quickbooks.redirectUri);
    assert.match(lines[2], /QBO_REDIRECT_URI: the gateway's \/oauth\/quickbooks\/callback/);

    // The person approves at Intuit; the callback reaches the running accounting-sync, which knows the CLI's state.
    const approved = await fetch(url, { redirect: 'manual' });
    assert.equal(approved.status, 302);
    const callback = await fetch(approved.headers.get('location')!, { redirect: 'manual' });
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.get('location'), `/?company=${CONNECTING}&quickbooks=connected`);
    const table = (await cli(['accounting:companies'], env)).stdout;
    const qbo = row(table, CONNECTING, 'quickbooks');
    assert.deepEqual(qbo.slice(2, 5), ['quickbooks', 'ok', `realm ${REALM} (sandbox)`]);
    assert.match(qbo[5], /^\d{4}-\d\d-\d\dT[\d:.]+Z$/, 'the access token expiry');
    assert.match(qbo[6], /^\d{4}-\d\d-\d\dT[\d:.]+Z \(100 days\)$/, 'the refresh token expiry and days left');
    assert.equal(quickbooks.tokenCalls(REALM), 1, 'one code exchange');
  });

  it('accounting:token shows realm and expiries, refreshes only when due or forced, and never prints the token', async () => {
    const fresh = await cli(['accounting:token', `--company=${CONNECTING}`], env);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stdout, new RegExp(`^QuickBooks token of company ${CONNECTING} \\(never printed\\)$`, 'm'));
    assert.match(fresh.stdout, new RegExp(`^ {2}realm\\s+${REALM}$`, 'm'));
    assert.match(fresh.stdout, /^ {2}refreshed\s+no \(still valid\)$/m, 'an hour left, more than the 10-minute margin');
    assert.match(fresh.stdout, /^ {2}access token expires\s+\d{4}-\d\d-\d\dT[\d:.]+Z \(in (59|60) min\)$/m);
    assert.match(fresh.stdout, /^ {2}refresh token expires\s+\d{4}-\d\d-\d\dT[\d:.]+Z \(in 100 days\)$/m);
    assert.match(fresh.stdout, /^ {2}last refreshed\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/m);
    assert.equal(quickbooks.tokenCalls(REALM), 1, 'no call to Intuit');

    // Nine minutes left, under the 10-minute margin: the token is due (as if 51 minutes had passed).
    await db.dataSource.query(
      "UPDATE connections SET access_token_expires_at = ? WHERE company_id = ? AND provider = 'quickbooks'",
      [new Date(Date.now() + 9 * 60_000), CONNECTING],
    );
    const due = await cli(['accounting:token', `--company=${CONNECTING}`], env);
    assert.equal(due.code, 0, due.stderr);
    assert.match(due.stdout, /^ {2}refreshed\s+yes \(it was due\)$/m);
    assert.equal(quickbooks.refreshCount(REALM), 1);

    const forced = await cli(['accounting:token', `--company=${CONNECTING}`, '--force-refresh'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^ {2}refreshed\s+yes \(--force-refresh\)$/m);
    assert.equal(quickbooks.refreshCount(REALM), 2);
    assert.equal(quickbooks.tokenCalls(REALM), 3);

    const printed = [fresh, due, forced].map((r) => r.stdout + r.stderr).join('\n');
    assert.ok(quickbooks.issued.length >= 6, 'the exchange and two refreshes, two tokens each');
    for (const token of [...quickbooks.issued, seedRefreshToken])
      assert.ok(!printed.includes(token), 'no token the simulator issued is printed');
    assert.deepEqual(tokenLike(printed), []);
  });

  it('an unknown company is a usage error (exit 2) naming the companies accounting-sync knows', async () => {
    for (const args of [
      ['accounting:connect', '--company=999999'],
      ['accounting:token', '--company=999999'],
    ]) {
      const { code, stdout, stderr } = await cli(args, env);
      assert.equal(code, 2, `${args[0]}: ${stderr}`);
      assert.equal(stdout, '');
      assert.match(stderr, /^error: company 999999 not found; accounting-sync knows companies (\d+, )*1, /m);
      assert.match(stderr, new RegExp(`\\b${CONNECTING}\\b`));
    }
    const missing = await cli(['accounting:token'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--company <id>'/);
    assert.equal((await cli(['accounting:connect', '--company=one'], env)).code, 2);
  });

  it('a company without QuickBooks: accounting:token exits 2 saying how to connect it', async () => {
    const { code, stderr } = await cli(['accounting:token', `--company=${UNCONNECTED}`], env);
    assert.equal(code, 2);
    assert.match(
      stderr,
      new RegExp(
        `QuickBooks is not connected for company ${UNCONNECTED}: .*accounting:connect --company=${UNCONNECTED}`,
      ),
    );
  });

  it('without the QuickBooks app credentials accounting:token exits 2 naming them, before touching the connection', async () => {
    const calls = quickbooks.tokenCalls(REALM);
    const without = Object.fromEntries(Object.entries(env).filter(([k]) => !/^QBO_CLIENT_(ID|SECRET)$/.test(k)));
    const { code, stderr } = await cli(['accounting:token', `--company=${CONNECTING}`, '--force-refresh'], without);
    assert.equal(code, 2);
    assert.match(stderr, /QBO_CLIENT_ID and QBO_CLIENT_SECRET are not set/);
    assert.equal(quickbooks.tokenCalls(REALM), calls);
    const [{ status }] = await db.dataSource.query(
      "SELECT status FROM connections WHERE company_id = ? AND provider = 'quickbooks'",
      [CONNECTING],
    );
    assert.equal(status, 'ok');
  });

  it('a grant Intuit refuses: exit 2 "Reconnect QuickBooks", reauth_required with the reason, no more calls to Intuit', async () => {
    quickbooks.revokeRealm(REALM);
    const refused = await cli(['accounting:token', `--company=${CONNECTING}`, '--force-refresh'], env);
    assert.equal(refused.code, 2, refused.stdout);
    assert.match(
      refused.stderr,
      new RegExp(
        `^error: Reconnect QuickBooks for company ${CONNECTING}: Intuit refused the refresh token \\(invalid_grant`,
        'm',
      ),
    );
    const reason = row((await cli(['accounting:companies'], env)).stdout, CONNECTING, 'quickbooks');
    assert.equal(reason[3], 'reauth_required');
    assert.match(reason[7], /Intuit refused the refresh token \(invalid_grant/);

    const calls = quickbooks.tokenCalls(REALM);
    const again = await cli(['accounting:token', `--company=${CONNECTING}`], env);
    assert.equal(again.code, 2);
    assert.match(again.stderr, new RegExp(`Reconnect QuickBooks for company ${CONNECTING}`));
    assert.equal(
      quickbooks.tokenCalls(REALM),
      calls,
      'a connection that needs reconnecting fails without calling Intuit',
    );
  });

  it('a wrong SECRETS_KEY is refused, naming it', async () => {
    const { code, stderr } = await cli(['accounting:companies'], {
      ...env,
      SECRETS_KEY: randomBytes(32).toString('base64'),
    });
    assert.equal(code, 2);
    assert.match(stderr, /SECRETS_KEY is not the key the secrets stored in this database were encrypted with/);
  });

  it('in the embedded mode, connect and token say why they cannot work here and what to do; companies still lists', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-hub-cli-accounting-'));
    try {
      const embedded = { DATA_DIR: dataDir };
      const token = await cli(['accounting:token', '--company=1'], embedded);
      assert.equal(token.code, 2);
      assert.match(token.stderr, /QuickBooks is simulated in the embedded mode \(QBO_CLIENT_ID is not set\)/);
      assert.match(token.stderr, /`npm start`.*starts empty each time/);
      assert.match(token.stderr, /accounting:companies` shows the stored expiries/);
      const connect = await cli(['accounting:connect', '--company=1'], embedded);
      assert.equal(connect.code, 2);
      assert.match(connect.stderr, /the link must come from the running hub.*dashboard \(Connections, Connect\)/);
      const withApp = await cli(['accounting:token', '--company=1'], {
        ...embedded,
        QBO_CLIENT_ID: 'a-real-app',
        QBO_CLIENT_SECRET: 'its-secret',
      });
      assert.equal(withApp.code, 2);
      assert.match(withApp.stderr, /SQLite database lives in the running hub's memory/);
      const companies = await cli(['accounting:companies'], embedded);
      assert.equal(companies.code, 0, companies.stderr);
      assert.match(companies.stdout, /^no companies yet/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
