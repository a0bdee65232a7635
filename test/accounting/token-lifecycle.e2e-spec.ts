import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { companyChangedMessage, Topic } from '@sync-hub/contracts';
import { SecretBox } from '@sync-hub/persistence';
import { DevposSimulator, QBO_PATHS, QuickBooksSimulator } from '@sync-hub/simulators';
import { AppProcess, ARTIFACTS, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { childEnv, TEST_KAFKA_BROKERS } from '../support/env';
import { groupStartingNow, KafkaProbe, SeenMessage } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

const API_KEY = 'token-lifecycle-e2e-key-0001';
const SECRETS_KEY = randomBytes(32).toString('base64');
const LOG_PREFIX = 'accounting-tokens';
const CHECK = 'accounting.connections.check';
const MINUTE = 60_000;
const DAY = 86_400_000;
const TOKEN_ROUTE = `POST ${QBO_PATHS.token}`;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface QboSecrets {
  accessToken: string | null;
  refreshToken: string;
}

/** A webhook receiver for the gateway's notifications of this suite. */
async function webhookSink(): Promise<{ url: string; received: any[]; close: () => Promise<void> }> {
  const received: any[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(JSON.parse(body));
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

describe('accounting-sync: QuickBooks tokens that never race, DevPos logins, sealed secrets (Kafka, MariaDB, simulators over HTTP)', () => {
  let db: TestDatabase;
  let qbo: QuickBooksSimulator;
  let devpos: DevposSimulator;
  let app: AppProcess;
  let gateway: AppProcess;
  let webhook: Awaited<ReturnType<typeof webhookSink>>;
  let seed: { realmId: string; refreshToken: string };
  let env: Record<string, string>;
  let accountingGroup = '';
  const probe = new KafkaProbe();
  const box = new SecretBox(Buffer.from(SECRETS_KEY, 'base64'));
  /** Every token and secret this suite saw, to grep the logs for at the end. */
  const secretsSeen = new Set<string>();

  const stored = async (provider = 'quickbooks') => {
    const [row] = await db.dataSource.query('SELECT * FROM connections WHERE company_id = 1 AND provider = ?', [
      provider,
    ]);
    const secrets = box.openJson<QboSecrets & { password?: string }>(row.secrets, `connections:1:${provider}`);
    for (const v of Object.values(secrets)) if (typeof v === 'string') secretsSeen.add(v);
    return { row, secrets };
  };
  const setExpiry = (column: string, at: Date, provider = 'quickbooks') =>
    db.dataSource.query(`UPDATE connections SET ${column} = ? WHERE company_id = 1 AND provider = ?`, [at, provider]);

  /** `processes` accounting-sync processes, each calling freshQuickBooksToken `perProcess` times at once. */
  async function callers(processes: number, perProcess: number, label: string, force = false) {
    const dir = fs.mkdtempSync(path.join(ARTIFACTS, 'token-callers-'));
    const go = path.join(dir, 'go');
    const runs = Array.from({ length: processes }, (_, i) => {
      const files = { ready: path.join(dir, `ready-${i}`), result: path.join(dir, `result-${i}.json`) };
      const log = fs.openSync(path.join(ARTIFACTS, `${LOG_PREFIX}-${label}-${i}.log`), 'w');
      const child = spawn(process.execPath, [path.join(__dirname, 'token-callers.js')], {
        env: {
          ...childEnv(),
          ...env,
          KAFKA_GROUP_ID: `token-callers-${label}-${i}`,
          COMPANY_ID: '1',
          CALLERS: String(perProcess),
          FORCE: String(force),
          READY_FILE: files.ready,
          GO_FILE: go,
          RESULT_FILE: files.result,
        },
        stdio: ['ignore', log, log],
      });
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      return { files, exited };
    });
    await eventually(
      () => (runs.every((r) => fs.existsSync(r.files.ready)) ? true : undefined),
      'the caller processes to be ready',
      60000,
    );
    fs.writeFileSync(go, 'go');
    const codes = await Promise.all(runs.map((r) => r.exited));
    assert.deepEqual(
      codes,
      runs.map(() => 0),
      'every caller process exits 0',
    );
    const results = runs.flatMap(
      (r) =>
        JSON.parse(fs.readFileSync(r.files.result, 'utf8')) as Array<{ token?: string; error?: string; code?: string }>,
    );
    fs.rmSync(dir, { recursive: true, force: true });
    return results;
  }

  const runCheck = async (): Promise<SeenMessage> => {
    const t = tick('accounting', CHECK);
    await probe.produce(Topic.AccountingRequested, t.key, t.value);
    return probe.waitForRunEnd(t.value.runId!);
  };

  before(async () => {
    db = await createTestDatabase('accounting_tokens');
    qbo = new QuickBooksSimulator({ seed: 9, redirectUri: 'http://127.0.0.1:1/oauth/quickbooks/callback' });
    await qbo.start();
    devpos = new DevposSimulator({ seed: 9 });
    const devposUrl = await devpos.start();
    seed = qbo.connect();
    secretsSeen.add(seed.refreshToken).add(qbo.clientSecret).add(SECRETS_KEY).add(devpos.users[0].password);
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: API_KEY,
      SECRETS_KEY,
      QBO_CLIENT_ID: qbo.clientId,
      QBO_CLIENT_SECRET: qbo.clientSecret,
      QBO_REDIRECT_URI: qbo.redirectUri,
      QBO_AUTH_URL: qbo.urls.authorize,
      QBO_TOKEN_URL: qbo.urls.token,
      QBO_REVOKE_URL: qbo.urls.revoke,
      QBO_API_BASE: qbo.urls.api.replace(/\/v3\/company$/, ''),
      QBO_REALM_ID: seed.realmId,
      QBO_REFRESH_TOKEN: seed.refreshToken,
      DEVPOS_URL: devposUrl,
      DEVPOS_AUTH_BASIC: Buffer.from(`${devpos.clientId}:`).toString('base64'),
      DEVPOS_TENANT: devpos.users[0].tenant,
      DEVPOS_USERNAME: devpos.users[0].username,
      DEVPOS_PASSWORD: devpos.users[0].password,
      HTTP_RETRIES: '1',
      HTTP_RETRY_BASE_DELAY_MS: '20',
      LOG_LEVEL: 'debug',
    };
    webhook = await webhookSink();
    await probe.watch([Topic.RunStarted, Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
    // The scheduler is not part of this suite: company 1 arrives as the scheduler would announce it.
    const company = companyChangedMessage({
      id: 1,
      name: 'Company 1',
      timezone: 'Europe/Tirane',
      active: true,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    await probe.produce(company.topic, company.key, company.value);
    // Groups of this suite only, starting at the end of what they consume: other suites' ticks and run events for
    // company 1 on a shared broker must not run or notify here.
    const suffix = randomBytes(4).toString('hex');
    accountingGroup = await groupStartingNow(`accounting-tokens-${suffix}`, [Topic.AccountingRequested]);
    const gatewayGroup = await groupStartingNow(`gateway-tokens-${suffix}`, [
      Topic.RunStarted,
      Topic.RunCompleted,
      Topic.RunFailed,
      Topic.RunSkipped,
    ]);
    [app, gateway] = await Promise.all([
      startAppProcess('accounting-sync', { ...env, KAFKA_GROUP_ID: accountingGroup }, `${LOG_PREFIX}-app`),
      startAppProcess(
        'gateway',
        {
          KAFKA_BROKERS: TEST_KAFKA_BROKERS,
          DATABASE_URL: db.url,
          GATEWAY_API_KEYS: API_KEY,
          SCHEDULER_URL: 'http://127.0.0.1:9',
          NOTIFY_WEBHOOK_URL: webhook.url,
          KAFKA_GROUP_ID: gatewayGroup,
        },
        `${LOG_PREFIX}-gateway`,
      ),
    ]);
  });

  after(async () => {
    await Promise.all([app?.stop(), gateway?.stop()]);
    await probe.close();
    await qbo?.stop();
    await devpos?.stop();
    await webhook?.close();
    await db?.drop();
  });

  it('seeds company 1 from QBO_* and DEVPOS_*, with every secret sealed (no plaintext in the table)', async () => {
    const { row, secrets } = await stored();
    assert.equal(secrets.refreshToken, seed.refreshToken);
    assert.equal(secrets.accessToken, null, 'no access token yet: the first use refreshes');
    assert.equal(row.status, 'ok');
    assert.deepEqual(JSON.parse(row.settings).realmId, seed.realmId);
    const raw = JSON.stringify(await db.dataSource.query('SELECT * FROM connections'));
    assert.ok(!raw.includes(seed.refreshToken), 'the refresh token is not stored in plaintext');
    assert.ok(!raw.includes(devpos.users[0].password), 'the DevPos password is not stored in plaintext');
    assert.match(row.secrets, /^v1\./);
  });

  it('100 concurrent callers across two accounting-sync processes get one refresh, and all use the new token', async () => {
    const before = qbo.refreshCount(seed.realmId);
    const results = await callers(2, 50, 'concurrent');
    assert.equal(results.length, 100);
    assert.deepEqual(
      results.filter((r) => r.error),
      [],
      'no caller failed',
    );
    assert.equal(qbo.refreshCount(seed.realmId) - before, 1, 'Intuit saw exactly one refresh');
    const { row, secrets } = await stored();
    assert.notEqual(secrets.refreshToken, seed.refreshToken, 'the rotated refresh token is stored');
    assert.deepEqual(new Set(results.map((r) => r.token)), new Set([sha(secrets.accessToken!)]));
    assert.ok(new Date(row.access_token_expires_at).getTime() > Date.now() + 50 * MINUTE);
    assert.ok(new Date(row.refresh_token_expires_at).getTime() > Date.now() + 90 * DAY, 'its expiry is stored too');
  });

  it('a token expiring in 9 minutes is refreshed once before use; one expiring in 11 minutes is not', async () => {
    await setExpiry('access_token_expires_at', new Date(Date.now() + 11 * MINUTE));
    const before = qbo.refreshCount(seed.realmId);
    const kept = (await stored()).secrets.accessToken!;
    const [eleven] = await callers(1, 1, 'eleven-minutes');
    assert.equal(eleven.token, sha(kept));
    assert.equal(qbo.refreshCount(seed.realmId), before, '11 minutes left: no refresh');

    await setExpiry('access_token_expires_at', new Date(Date.now() + 9 * MINUTE));
    const nine = await callers(1, 3, 'nine-minutes');
    assert.equal(qbo.refreshCount(seed.realmId), before + 1, '9 minutes left: one refresh for three callers');
    const fresh = (await stored()).secrets.accessToken!;
    assert.notEqual(fresh, kept);
    assert.deepEqual(new Set(nine.map((r) => r.token)), new Set([sha(fresh)]));
  });

  it('a rotated refresh token survives a restart (and the environment never overwrites it)', async () => {
    const rotated = (await stored()).secrets.refreshToken;
    await app.stop();
    app = await startAppProcess('accounting-sync', { ...env, KAFKA_GROUP_ID: accountingGroup }, `${LOG_PREFIX}-app-2`);
    assert.equal((await stored()).secrets.refreshToken, rotated, 'QBO_REFRESH_TOKEN did not replace the newer token');
    // Past the 24-hour grace every superseded refresh token is dead; only the stored, newest one works.
    qbo.advance(25 * 3600);
    await setExpiry('access_token_expires_at', new Date(Date.now() - MINUTE));
    const before = qbo.refreshCount(seed.realmId);
    const [r] = await callers(1, 1, 'after-restart');
    assert.equal(r.error, undefined, `refreshed after the restart: ${r.error}`);
    assert.equal(qbo.refreshCount(seed.realmId), before + 1);
    assert.equal((await stored()).row.status, 'ok');
  });

  it('a 401 from the API mid-run forces one refresh and the call is retried; the run completes', async () => {
    const event = await runCheck(); // a first check: logs DevPos in, proves QuickBooks
    assert.equal(event.topic, Topic.RunCompleted, event.value);
    const before = qbo.refreshCount(seed.realmId);
    const calls = qbo.requestCount('GET /v3/company/:realmId/companyinfo/:realmId');
    qbo.expireAccessTokens(seed.realmId); // Intuit drops the token although our expiry says it has an hour
    const again = await runCheck();
    assert.equal(again.topic, Topic.RunCompleted, again.value);
    assert.equal(qbo.refreshCount(seed.realmId), before + 1, 'one refresh');
    assert.equal(
      qbo.requestCount('GET /v3/company/:realmId/companyinfo/:realmId'),
      calls + 2,
      'the 401, then the retry',
    );
    assert.equal(again.json.payload.stats.updated, 1, 'the QuickBooks connection was refreshed');
  });

  it('DevPos logins are cached until 5 minutes before they expire, then made again', async () => {
    const logins = devpos.loginCount();
    assert.ok(logins >= 1, 'the first check logged in');
    assert.equal((await runCheck()).topic, Topic.RunCompleted);
    assert.equal(devpos.loginCount(), logins, 'the cached token was used');
    await setExpiry('access_token_expires_at', new Date(Date.now() + 4 * MINUTE), 'devpos');
    assert.equal((await runCheck()).topic, Topic.RunCompleted);
    assert.equal(devpos.loginCount(), logins + 1, 'a token with 4 minutes left is replaced');
  });

  it('warns, in a completed run, when the refresh token expires within 14 days', async () => {
    await setExpiry('refresh_token_expires_at', new Date(Date.now() + 10.5 * DAY));
    const event = await runCheck();
    assert.equal(event.topic, Topic.RunCompleted, event.value);
    const warnings: string[] = event.json.payload.warnings ?? [];
    assert.ok(
      warnings.some((w) => /company 1: the QuickBooks refresh token expires in 10 day\(s\)/.test(w)),
      JSON.stringify(warnings),
    );
    await eventually(
      () =>
        webhook.received.some((h) => h.kind === 'warning' && h.run_id === event.json.payload.runId) ? true : undefined,
      'the warning notification',
    );
  });

  it('invalid_grant → reauth_required, one config failure notified once, and no more token calls until reconnect', async () => {
    qbo.revokeRealm(seed.realmId); // the user disconnected the app at Intuit: every token of the grant is dead
    await setExpiry('access_token_expires_at', new Date(Date.now() - MINUTE));
    const tokenCalls = qbo.requestCount(TOKEN_ROUTE);
    const first = await runCheck();
    assert.equal(first.topic, Topic.RunFailed, first.value);
    const error = first.json.payload.error;
    assert.equal(error.origin, 'config');
    assert.equal(error.code, 'REAUTH_REQUIRED');
    assert.match(error.message, /^Reconnect QuickBooks for company 1/);
    assert.equal(qbo.requestCount(TOKEN_ROUTE), tokenCalls + 1, 'one refresh attempt, not retried');
    const { row } = await stored();
    assert.equal(row.status, 'reauth_required');
    assert.match(row.status_reason, /invalid_grant/);

    const second = await runCheck();
    assert.equal(second.topic, Topic.RunFailed);
    assert.equal(second.json.payload.error.code, 'REAUTH_REQUIRED');
    assert.equal(qbo.requestCount(TOKEN_ROUTE), tokenCalls + 1, 'the second run failed without calling Intuit');

    await eventually(
      () => (webhook.received.some((h) => h.kind === 'failure' && h.job === CHECK) ? true : undefined),
      'the failure notification',
    );
    await new Promise((r) => setTimeout(r, 3000)); // the send loop runs every 2 s: a second one would be here by now
    const failures = webhook.received.filter((h) => h.kind === 'failure' && h.job === CHECK);
    assert.equal(failures.length, 1, 'one notification for two failed runs');
    assert.match(failures[0].action, /Re-authorise the QuickBooks connection/);
  });

  it('a wrong SECRETS_KEY stops the process at start, naming the variable and not its value', async () => {
    const wrong = randomBytes(32).toString('base64');
    await assert.rejects(
      startAppProcess(
        'accounting-sync',
        { ...env, SECRETS_KEY: wrong, KAFKA_GROUP_ID: 'wrong-key' },
        `${LOG_PREFIX}-wrong-key`,
      ),
      /exited with/,
    );
    const log = fs.readFileSync(path.join(ARTIFACTS, `${LOG_PREFIX}-wrong-key.log`), 'utf8');
    assert.match(log, /SECRETS_KEY is not the key the secrets stored in this database were encrypted with/);
    assert.ok(!log.includes(wrong), 'the key is not in the log');
    const { SECRETS_KEY: _unset, ...withoutKey } = env;
    await assert.rejects(
      startAppProcess('accounting-sync', { ...withoutKey, KAFKA_GROUP_ID: 'no-key' }, `${LOG_PREFIX}-no-key`),
      /exited with/,
    );
    assert.match(
      fs.readFileSync(path.join(ARTIFACTS, `${LOG_PREFIX}-no-key.log`), 'utf8'),
      /SECRETS_KEY is required in the distributed mode/,
    );
  });

  it('no secret this suite used appears in any log it wrote', async () => {
    await stored();
    const logs = fs.readdirSync(ARTIFACTS).filter((f) => f.startsWith(LOG_PREFIX) && f.endsWith('.log'));
    assert.ok(logs.length >= 6, `the suite's logs: ${logs.join(', ')}`);
    const leaks: string[] = [];
    for (const file of logs) {
      const text = fs.readFileSync(path.join(ARTIFACTS, file), 'utf8');
      for (const secret of secretsSeen)
        if (secret.length >= 8 && text.includes(secret)) leaks.push(`${file}: ${secret.slice(0, 6)}…`);
    }
    assert.deepEqual(leaks, []);
    assert.ok(secretsSeen.size >= 6, 'the access and refresh tokens, the client secret, the key and the password');
  });
});
