import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AppConfig, loadConfig } from '@sync-hub/config';
import { ConfigurationError } from '@sync-hub/contracts';
import { SecretKeyCheck } from '@sync-hub/persistence';
import { DevposSimulator, QuickBooksSimulator } from '@sync-hub/simulators';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { CompanyProjection } from '../companies/company-projection.entity';
import { CompanyProjectionService } from '../companies/company-projection.service';
import { DevposClient } from '../devpos/devpos-client';
import { DevposTokens } from '../devpos/devpos-tokens.service';
import { QuickBooksOAuthClient } from '../quickbooks/quickbooks-oauth.client';
import { QuickBooksTokens, ReauthRequiredError } from '../quickbooks/quickbooks-tokens.service';
import { Connection } from './connection.entity';
import { ConnectionSecrets } from './connection-secrets';
import { ConnectionsService } from './connections.service';
import { OAuthState } from './oauth-state.entity';

/** accounting-sync's connection services on SQLite (the embedded mode's engine) against the simulators over HTTP. */
describe('connections: the authorize state, seeding, DevPos logins and views (SQLite, simulators over HTTP)', () => {
  let db: DataSource;
  let qbo: QuickBooksSimulator;
  let devpos: DevposSimulator;
  let env: Record<string, string>;
  const key = randomBytes(32).toString('base64');

  const services = (extra: Record<string, string | undefined> = {}) => {
    const config: AppConfig = loadConfig('accounting-sync', { ...env, ...extra });
    const secrets = new ConnectionSecrets(config, db);
    const oauth = new QuickBooksOAuthClient(config);
    const devposClient = new DevposClient(config);
    const companies = new CompanyProjectionService(db.getRepository(CompanyProjection));
    return {
      secrets,
      oauth,
      connections: new ConnectionsService(config, db, secrets, companies, oauth, devposClient),
      tokens: new QuickBooksTokens(config, db, secrets, oauth),
      devposTokens: new DevposTokens(db, secrets, devposClient),
    };
  };
  const row = (provider = 'quickbooks') =>
    db.getRepository(Connection).findOneByOrFail({ companyId: 1, provider: provider as 'quickbooks' });

  before(async () => {
    db = await inMemoryDatabase([CompanyProjection, Connection, OAuthState, SecretKeyCheck]);
    await db
      .getRepository(CompanyProjection)
      .save({ id: 1, name: 'One', timezone: 'Europe/Tirane', active: true, updatedAt: new Date() });
    qbo = new QuickBooksSimulator({ seed: 3, redirectUri: 'http://localhost:3000/oauth/quickbooks/callback' });
    await qbo.start();
    devpos = new DevposSimulator({ seed: 3 });
    const devposUrl = await devpos.start();
    env = {
      SECRETS_KEY: key,
      QBO_CLIENT_ID: qbo.clientId,
      QBO_CLIENT_SECRET: qbo.clientSecret,
      QBO_REDIRECT_URI: qbo.redirectUri,
      QBO_AUTH_URL: qbo.urls.authorize,
      QBO_TOKEN_URL: qbo.urls.token,
      QBO_REVOKE_URL: qbo.urls.revoke,
      QBO_API_BASE: qbo.urls.api.replace(/\/v3\/company$/, ''),
      DEVPOS_URL: devposUrl,
      DEVPOS_AUTH_BASIC: Buffer.from(`${devpos.clientId}:`).toString('base64'),
      HTTP_RETRIES: '0',
    };
  });

  after(async () => {
    await qbo.stop();
    await devpos.stop();
    await db.destroy();
  });

  beforeEach(async () => {
    await db.getRepository(Connection).clear();
  });

  /** Follows the authorize URL at the simulator, as a browser would: its 302 carries code, realmId and state. */
  async function approve(url: string): Promise<URLSearchParams> {
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 302);
    return new URL(res.headers.get('location')!).searchParams;
  }

  it('connects through authorize → callback: tokens sealed, the state works once, a forged or expired one is refused', async () => {
    const { connections, secrets } = services();
    const auth = await connections.authorize(1);
    const url = new URL(auth.url);
    assert.equal(url.searchParams.get('scope'), 'com.intuit.quickbooks.accounting');
    assert.equal(url.searchParams.get('redirect_uri'), qbo.redirectUri);
    const back = await approve(auth.url);
    const state = back.get('state')!;

    const forged = state.replace(/\.1\./, '.2.');
    await assert.rejects(
      connections.callback({ code: back.get('code')!, realmId: back.get('realmId')!, state: forged }),
      { status: 400 },
    );
    assert.equal(await db.getRepository(Connection).count(), 0, 'a forged state stores nothing');

    const location = await connections.callback({ code: back.get('code')!, realmId: back.get('realmId')!, state });
    assert.equal(location, '/?company=1&quickbooks=connected');
    const stored = await row();
    assert.equal(stored.status, 'ok');
    assert.equal(JSON.parse(stored.settings).realmId, qbo.realmId);
    const tokens = secrets.open<{ accessToken: string; refreshToken: string }>(stored);
    assert.ok(!stored.secrets.includes(tokens.refreshToken));
    assert.ok(stored.refreshTokenExpiresAt && stored.accessTokenExpiresAt);

    await assert.rejects(connections.callback({ code: back.get('code')!, realmId: back.get('realmId')!, state }), {
      status: 400,
      message: /unknown, expired or already used/,
    });
    await db
      .getRepository(OAuthState)
      .update({ companyId: 1 }, { expiresAt: new Date(Date.now() - 1000), consumedAt: null });
    await assert.rejects(connections.callback({ code: 'x', realmId: '1', state }), { status: 400 }, 'expired');
    await assert.rejects(connections.callback({ code: 'x', realmId: '1', state: undefined }), { status: 400 });
  });

  it('a declined consent or a refused code still uses up the state and reports the reason to the dashboard', async () => {
    const { connections } = services();
    const back = await approve((await connections.authorize(1)).url);
    const location = await connections.callback({
      code: 'AB-not-a-code',
      realmId: back.get('realmId')!,
      state: back.get('state')!,
    });
    assert.match(location, /^\/\?company=1&quickbooks=error&reason=.*invalid_grant/);
    assert.equal(await db.getRepository(Connection).count(), 0);
    const declined = await approve((await connections.authorize(1)).url);
    assert.match(
      await connections.callback({ error: 'access_denied', state: declined.get('state')! }),
      /quickbooks=error&reason=Intuit\+answered\+access_denied/,
    );
  });

  it('authorize without the app credentials is a configuration error naming them; unknown companies are 404', async () => {
    await assert.rejects(
      services({ QBO_CLIENT_ID: undefined }).connections.authorize(1),
      (err: Error) => err instanceof ConfigurationError && /QBO_CLIENT_ID/.test(err.message),
    );
    await assert.rejects(services().connections.authorize(99), { status: 404 });
    await assert.rejects(services().connections.list(99), { status: 404 });
  });

  it('seeds company 1 from the environment once; new values replace a seeded connection, never one made through the API', async () => {
    const first = qbo.connect();
    const seeded = services({ QBO_REALM_ID: first.realmId, QBO_REFRESH_TOKEN: first.refreshToken });
    await seeded.connections.onApplicationBootstrap();
    assert.equal(seeded.secrets.open<{ refreshToken: string }>(await row()).refreshToken, first.refreshToken);

    await seeded.tokens.freshQuickBooksToken(1); // the refresh token rotates in the database
    const rotated = seeded.secrets.open<{ refreshToken: string }>(await row()).refreshToken;
    await seeded.connections.onApplicationBootstrap(); // a restart with the same environment
    assert.equal(seeded.secrets.open<{ refreshToken: string }>(await row()).refreshToken, rotated, 'not overwritten');

    const second = qbo.connect();
    const replaced = services({ QBO_REALM_ID: second.realmId, QBO_REFRESH_TOKEN: second.refreshToken });
    await replaced.connections.onApplicationBootstrap();
    assert.equal(
      replaced.secrets.open<{ refreshToken: string }>(await row()).refreshToken,
      second.refreshToken,
      'an operator put in a new token',
    );

    // Connected through the dashboard: the environment never replaces it.
    const back = await approve((await replaced.connections.authorize(1)).url);
    await replaced.connections.callback({
      code: back.get('code')!,
      realmId: back.get('realmId')!,
      state: back.get('state')!,
    });
    const viaApi = replaced.secrets.open<{ refreshToken: string }>(await row()).refreshToken;
    const third = qbo.connect();
    await services({
      QBO_REALM_ID: third.realmId,
      QBO_REFRESH_TOKEN: third.refreshToken,
    }).connections.onApplicationBootstrap();
    assert.equal(replaced.secrets.open<{ refreshToken: string }>(await row()).refreshToken, viaApi);
  });

  it('keeps the stored refresh token when a refresh answer carries none, and records refresh failures on the row', async () => {
    let answer: object = { token_type: 'bearer', access_token: 'eyJ-new-access', expires_in: 3600 };
    let status = 200;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    try {
      const s = services({
        QBO_TOKEN_URL: tokenUrl,
        QBO_REALM_ID: '123',
        QBO_REFRESH_TOKEN: 'AB11-kept-refresh-token',
      });
      await s.connections.onApplicationBootstrap();
      assert.equal(await s.tokens.freshQuickBooksToken(1), 'eyJ-new-access');
      let stored = await row();
      assert.equal(s.secrets.open<{ refreshToken: string }>(stored).refreshToken, 'AB11-kept-refresh-token');
      assert.equal(stored.refreshTokenExpiresAt, null, 'its unknown expiry is not invented');

      status = 503;
      answer = { error: 'temporarily_unavailable' };
      await assert.rejects(
        s.tokens.freshQuickBooksToken(1, { force: true }),
        (err: Error & { retriable?: boolean }) => err.retriable === true,
      );
      stored = await row();
      assert.equal(stored.status, 'failing');
      assert.match(stored.statusReason!, /token refresh failed/);

      status = 400;
      answer = { error: 'invalid_grant' };
      await assert.rejects(s.tokens.freshQuickBooksToken(1, { force: true }), ReauthRequiredError);
      assert.equal((await row()).status, 'reauth_required');
      const before = qbo.requestCount('POST /oauth2/v1/tokens/bearer');
      await assert.rejects(s.tokens.freshQuickBooksToken(1), /^ConfigurationError|Reconnect QuickBooks for company 1/);
      assert.equal(qbo.requestCount('POST /oauth2/v1/tokens/bearer'), before);
    } finally {
      server.close();
    }
  });

  it('DevPos: a good login is tried at once and cached; a wrong password is reauth_required; the answer never holds the password', async () => {
    const { connections, devposTokens } = services();
    const user = devpos.users[0];
    const ok = await connections.putDevpos(1, {
      username: user.username,
      password: user.password,
      tenant: user.tenant,
    });
    assert.equal(ok.status, 'ok');
    assert.deepEqual(ok.settings, { username: user.username, tenant: user.tenant, tracks_vat: false });
    assert.ok(!JSON.stringify(ok).includes(user.password));
    const logins = devpos.loginCount(user.tenant);
    await devposTokens.devposToken(1);
    assert.equal(devpos.loginCount(user.tenant), logins, 'the token from the PUT is cached');

    const bad = await connections.putDevpos(1, {
      username: user.username,
      password: 'wrong-password-1',
      tenant: user.tenant,
    });
    assert.equal(bad.status, 'reauth_required');
    assert.match(bad.status_reason!, /DevPos refused the login of company 1/);
    await assert.rejects(devposTokens.devposToken(1), /DevPos refused the login/);
    assert.equal(devpos.loginCount(user.tenant), logins, 'no further login with a refused password');
  });

  it('DevPos answering its HTML login page is a configuration error that says so', async () => {
    // A DEVPOS_URL that reaches the web front instead of the API answers the login form, with a 200.
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><form>Hyr</form>'),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const user = devpos.users[0];
      const html = services({ DEVPOS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      const view = await html.connections.putDevpos(1, {
        username: user.username,
        password: user.password,
        tenant: user.tenant,
      });
      assert.equal(view.status, 'failing');
      assert.match(view.status_reason!, /DevPos answered its HTML login page instead of JSON/);
    } finally {
      server.close();
    }
  });

  it('lists both providers for a company, never a secret', async () => {
    const { connections } = services();
    const user = devpos.users[0];
    await connections.putDevpos(1, {
      username: user.username,
      password: user.password,
      tenant: user.tenant,
      tracks_vat: true,
    });
    const views = await connections.list(1);
    assert.deepEqual(
      views.map((v) => [v.provider, v.connected]),
      [
        ['quickbooks', false],
        ['devpos', true],
      ],
    );
    assert.ok(!JSON.stringify(views).includes(user.password));
    assert.ok(!JSON.stringify(views).includes('v1.'), 'no sealed value either');
  });

  it('disconnect revokes the QuickBooks grant at Intuit, then forgets it; unknown providers are 404', async () => {
    const { connections, tokens } = services();
    const back = await approve((await connections.authorize(1)).url);
    await connections.callback({ code: back.get('code')!, realmId: back.get('realmId')!, state: back.get('state')! });
    await tokens.freshQuickBooksToken(1);
    await connections.disconnect(1, 'quickbooks');
    assert.equal(await db.getRepository(Connection).countBy({ companyId: 1, provider: 'quickbooks' }), 0);
    assert.ok(qbo.refreshCounts().some((c) => c.revoked));
    await assert.rejects(connections.disconnect(1, 'quickbooks'), { status: 404 });
    await assert.rejects(connections.disconnect(1, 'xero'), { status: 404 });
  });
});
