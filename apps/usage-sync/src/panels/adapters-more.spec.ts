import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MarzneshinSimulator, ThreeXuiSimulator } from '@sync-hub/simulators';
import { MarzneshinAdapter } from './jwt-panel.adapter';
import { PanelTarget, UsageTarget } from './panel-adapter';
import { ThreeXuiAdapter } from './threexui.adapter';

const HTTP = { timeoutMs: 2000, maxConcurrency: 4 };
const target = (username: string, configId = 1): UsageTarget => ({
  configId,
  externalUsername: username,
  panelUserId: null,
});

describe('Marzneshin adapter (simulator over HTTP)', () => {
  const sim = new MarzneshinSimulator({ seed: 6, growBytesPerRead: 0 });
  let adapter: MarzneshinAdapter;
  before(async () => {
    await sim.start();
    adapter = new MarzneshinAdapter(
      {
        id: 3,
        name: 'mn-1',
        type: 'marzneshin',
        url: sim.url,
        credentials: { username: sim.adminUsername, password: sim.adminPassword },
        settings: {},
      },
      HTTP,
    );
  });
  after(async () => {
    await adapter.close();
    await sim.stop();
  });

  it('reads used_traffic with one login; an expired token is renewed once; an unknown user is a hard failure', async () => {
    sim.setUsage('user1', 4242);
    assert.deepEqual(await adapter.read(target('user1')), { status: 'ok', bytes: 4242, sourceField: 'used_traffic' });
    const logins = sim.counters.tokensIssued;
    sim.expireTokens();
    assert.equal((await adapter.read(target('user1'))).status, 'ok');
    assert.equal(sim.counters.tokensIssued - logins, 1);
    sim.removeUser('user2');
    const missing = await adapter.read(target('user2'));
    assert.equal(missing.status, 'hard_failure');
    assert.match((missing as { error: string }).error, /HTTP 404/);
  });
});

describe('3x-ui adapter (simulator over HTTP)', () => {
  const legacy = new ThreeXuiSimulator({ seed: 7, growBytesPerRead: 0, basePath: '/xyz123/' });
  const v31 = new ThreeXuiSimulator({
    seed: 7,
    growBytesPerRead: 0,
    generation: 'v3.1',
    apiToken: 'api-token-0123456789',
  });
  const panel = (sim: ThreeXuiSimulator, settings: Record<string, unknown> = {}, apiToken?: string): PanelTarget => ({
    id: 4,
    name: 'x-1',
    type: '3x-ui',
    url: sim.url,
    credentials: { username: sim.adminUsername, password: sim.adminPassword, ...(apiToken ? { apiToken } : {}) },
    settings,
  });
  before(async () => {
    await legacy.start();
    await v31.start();
  });
  after(async () => {
    await legacy.stop();
    await v31.stop();
  });

  it('logs in for a cookie and reads up + down; a session that ended is renewed once', async () => {
    const adapter = new ThreeXuiAdapter(panel(legacy), HTTP);
    try {
      legacy.setUsage('user1', 9000);
      const reading = await adapter.read(target('user1'));
      assert.deepEqual(reading, { status: 'ok', bytes: 9000, sourceField: 'up + down' });
      const logins = legacy.counters.loginsIssued;
      legacy.expireSessions();
      assert.equal((await adapter.read(target('user1'))).status, 'ok');
      assert.equal(legacy.counters.loginsIssued - logins, 1);
    } finally {
      await adapter.close();
    }
  });

  it('success:false for an unknown client (HTTP 200) and a refused login are hard failures, never 0', async () => {
    const adapter = new ThreeXuiAdapter(panel(legacy), HTTP);
    const wrong = new ThreeXuiAdapter(
      { ...panel(legacy), credentials: { username: 'admin', password: 'wrong-pass-1' } },
      HTTP,
    );
    try {
      legacy.removeUser('user3');
      const unknown = await adapter.read(target('user3'));
      assert.equal(unknown.status, 'hard_failure');
      assert.match((unknown as { error: string }).error, /success: false \(Error getting traffics/);
      assert.equal(unknown.status === 'hard_failure' && unknown.scope, 'config', 'the panel answered');
      const refused = await wrong.read(target('user1'));
      assert.equal(refused.status, 'hard_failure');
      assert.match((refused as { error: string }).error, /login refused/);
      assert.equal(refused.status === 'hard_failure' && refused.scope, 'panel');
      assert.ok(!(refused as { error: string }).error.includes('wrong-pass-1'));
    } finally {
      await adapter.close();
      await wrong.close();
    }
  });

  it('a v3.1 panel with an API token is read on its own route with the token, and never logged in to', async () => {
    const adapter = new ThreeXuiAdapter(panel(v31, { generation: 'v3.1' }, v31.apiToken!), HTTP);
    try {
      v31.setUsage('user1', 123);
      const logins = v31.counters.loginsIssued;
      assert.deepEqual(await adapter.read(target('user1')), { status: 'ok', bytes: 123, sourceField: 'up + down' });
      assert.equal(v31.counters.loginsIssued, logins);
      assert.equal(v31.counters.apiTokenRequests >= 1, true);
    } finally {
      await adapter.close();
    }
  });
});
