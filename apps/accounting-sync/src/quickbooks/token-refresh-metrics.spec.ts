import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { MetricsService } from '@sync-hub/observability';
import { SecretKeyCheck } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { CompanyProjection } from '../companies/company-projection.entity';
import { CompanyProjectionService } from '../companies/company-projection.service';
import { Connection } from '../connections/connection.entity';
import { ConnectionSecrets } from '../connections/connection-secrets';
import { ConnectionsService } from '../connections/connections.service';
import { OAuthState } from '../connections/oauth-state.entity';
import { DevposClient } from '../devpos/devpos-client';
import { QuickBooksOAuthClient } from './quickbooks-oauth.client';
import { QuickBooksTokens, ReauthRequiredError } from './quickbooks-tokens.service';

/** upstream_token_refresh_failures_total{upstream="quickbooks"}: one per refresh Intuit refused or did not answer. */
describe('QuickBooks token refresh failures are counted', () => {
  let db: DataSource;
  let server: http.Server;
  let status = 200;
  let answer: object = {};

  before(async () => {
    db = await inMemoryDatabase([CompanyProjection, Connection, OAuthState, SecretKeyCheck]);
    await db
      .getRepository(CompanyProjection)
      .save({ id: 1, name: 'One', timezone: 'Europe/Tirane', active: true, updatedAt: new Date() });
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    server.close();
    await db.destroy();
  });

  it('counts a 503 and an invalid_grant, not a success, and not a call refused before any refresh', async () => {
    const config = loadConfig('accounting-sync', {
      SECRETS_KEY: randomBytes(32).toString('base64'),
      QBO_CLIENT_ID: 'client-id',
      QBO_CLIENT_SECRET: 'client-secret-0123',
      QBO_TOKEN_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
      QBO_REALM_ID: '123',
      QBO_REFRESH_TOKEN: 'AB11-refresh-token',
      HTTP_RETRIES: '0',
    });
    const metrics = new MetricsService();
    metrics.onModuleInit();
    const secrets = new ConnectionSecrets(config, db);
    const oauth = new QuickBooksOAuthClient(config);
    const companies = new CompanyProjectionService(db.getRepository(CompanyProjection));
    await new ConnectionsService(
      config,
      db,
      secrets,
      companies,
      oauth,
      new DevposClient(config),
    ).onApplicationBootstrap();
    const tokens = new QuickBooksTokens(config, db, secrets, oauth, metrics);
    const failures = async () =>
      (await metrics.tokenRefreshFailures.get()).values.find((v) => v.labels.upstream === 'quickbooks')?.value ?? 0;
    const upstreamErrors = async (errorClass: string) =>
      (await metrics.upstreamErrors.get()).values.find(
        (v) => v.labels.upstream === 'quickbooks-oauth' && v.labels.class === errorClass,
      )?.value ?? 0;
    try {
      answer = { token_type: 'bearer', access_token: 'eyJ-new-access', expires_in: 3600 };
      assert.equal(await tokens.freshQuickBooksToken(1), 'eyJ-new-access');
      assert.equal(await failures(), 0);

      status = 503;
      answer = { error: 'temporarily_unavailable' };
      await assert.rejects(tokens.freshQuickBooksToken(1, { force: true }));
      assert.equal(await failures(), 1);
      assert.equal(await upstreamErrors('server_error'), 1);

      status = 400;
      answer = { error: 'invalid_grant' };
      await assert.rejects(tokens.freshQuickBooksToken(1, { force: true }), ReauthRequiredError);
      assert.equal(await failures(), 2);
      assert.equal(await upstreamErrors('client_error'), 1);

      // reauth_required: refused at once, no refresh tried, nothing more counted.
      await assert.rejects(tokens.freshQuickBooksToken(1), ReauthRequiredError);
      assert.equal(await failures(), 2);
    } finally {
      metrics.onModuleDestroy();
      await oauth.onApplicationShutdown();
    }
  });
});
