import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import { EylandooSimulator, MarzbanSimulator } from '@sync-hub/simulators';
import { EylandooAdapter } from './eylandoo.adapter';
import { jwtExpiry, MarzbanAdapter } from './jwt-panel.adapter';
import { bodyPreview, PanelTarget, UsageTarget } from './panel-adapter';

const HTTP = { timeoutMs: 2000, maxConcurrency: 4 };
const target = (username: string, configId = 1): UsageTarget => ({
  configId,
  externalUsername: username,
  panelUserId: null,
});

/** Every log line the adapters write, as text, to check the seed's lines and that no secret is in them. */
function captureLogs(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const methods = ['log', 'warn', 'error'] as const;
  const proto = Logger.prototype as unknown as Record<string, (...args: unknown[]) => void>;
  const saved = methods.map((m) => proto[m]);
  for (const m of methods)
    proto[m] = (...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    };
  return { lines, restore: () => methods.forEach((m, i) => (proto[m] = saved[i])) };
}

describe('Eylandoo adapter (simulator over HTTP)', () => {
  const sim = new EylandooSimulator({ seed: 4, growBytesPerRead: 0 });
  let panel: PanelTarget;
  let adapter: EylandooAdapter;
  before(async () => {
    await sim.start();
    panel = { id: 1, name: 'eyl-1', type: 'eylandoo', url: sim.url, credentials: { apiKey: sim.apiKey }, settings: {} };
    adapter = new EylandooAdapter(panel, HTTP);
  });
  after(async () => {
    await adapter.close();
    await sim.stop();
  });

  it("takes the usage from the seed's fields in its order, logging which", async () => {
    const logs = captureLogs();
    try {
      sim.addUser('total', { shape: 'total_traffic_bytes' });
      sim.setUsage('total', 1_073_741_824);
      sim.addUser('updown', { shape: 'upload_download' });
      sim.setUsage('updown', 5000);
      sim.addUser('dataused', { shape: 'data_used' });
      sim.setUsage('dataused', 777);
      sim.addUser('nothing', { shape: 'none' });
      assert.deepEqual(await adapter.read(target('total', 123)), {
        status: 'ok',
        bytes: 1_073_741_824,
        sourceField: 'userInfo.total_traffic_bytes',
      });
      const updown = await adapter.read(target('updown'));
      assert.deepEqual(updown, { status: 'ok', bytes: 5000, sourceField: 'userInfo.upload_bytes + download_bytes' });
      assert.deepEqual(await adapter.read(target('dataused')), {
        status: 'ok',
        bytes: 777,
        sourceField: 'data.data_used',
      });
      assert.deepEqual(await adapter.read(target('nothing')), { status: 'ok', bytes: 0, sourceField: 'none' });
    } finally {
      logs.restore();
    }
    const text = logs.lines.join('\n');
    assert.match(
      text,
      /Eylandoo usage from userInfo\.total_traffic_bytes \(username: total, usage_bytes: 1073741824\)/,
    );
    assert.match(text, /Eylandoo usage for user total: 1073741824 bytes \(config_id: 123\)/);
    assert.match(
      text,
      /Eylandoo usage from userInfo\.upload_bytes \+ download_bytes \(username: updown, upload_bytes: \d+, download_bytes: \d+, total_usage_bytes: 5000\)/,
    );
    assert.match(text, /Eylandoo usage from data\.data_used \(username: dataused, usage_bytes: 777\)/);
    assert.match(text, /Eylandoo usage: no traffic data fields found, returning 0 \(username: nothing\)/);
  });

  it('an unknown user, a bad key, an HTTP error or a dead panel is a hard failure (null, never 0), logged without the key', async () => {
    const logs = captureLogs();
    try {
      sim.removeUser('ghost');
      const unknown = new EylandooSimulator({ seed: 4, autoCreateUsers: false });
      await unknown.start();
      const strict = new EylandooAdapter({ ...panel, url: unknown.url, credentials: { apiKey: unknown.apiKey } }, HTTP);
      try {
        assert.deepEqual(await strict.read(target('ghost', 9)), {
          status: 'hard_failure',
          error: 'eylandoo panel eyl-1: HTTP 404 {"success":false,"message":"User not found"}',
          scope: 'config',
        });
        assert.equal(await strict.usageBytes(target('ghost')), null);
      } finally {
        await strict.close();
        await unknown.stop();
      }
      const wrongKey = new EylandooAdapter({ ...panel, credentials: { apiKey: 'not-the-key-1234' } }, HTTP);
      try {
        const refused = await wrongKey.read(target('total'));
        assert.equal(refused.status, 'hard_failure');
        assert.equal(
          refused.status === 'hard_failure' && refused.scope,
          'panel',
          "refused credentials are the panel's",
        );
      } finally {
        await wrongKey.close();
      }
      sim.setFaults({ errorRate: 1, errorStatus: 500 });
      assert.equal((await adapter.read(target('total'))).status, 'hard_failure');
      sim.resetFaults();
      await sim.setDead('refuse');
      try {
        const dead = await adapter.read(target('total'));
        assert.equal(dead.status === 'hard_failure' && dead.scope, 'panel');
      } finally {
        await sim.setDead(null);
      }
    } finally {
      logs.restore();
    }
    const text = logs.lines.join('\n');
    assert.match(text, /Eylandoo Get User failed: \(status: 404, username: ghost, body_preview: .*User not found/);
    assert.match(text, /Eylandoo usage fetch failed for user ghost \(hard failure\) \(config_id: 9, panel_url: http/);
    assert.ok(!text.includes(sim.apiKey) && !text.includes('not-the-key-1234'), 'no key in any log line');
    for (const line of logs.lines.filter((l) => l.includes('body_preview: ')))
      assert.ok(line.split('body_preview: ')[1].length <= 201, 'a preview of at most 200 characters');
  });

  it('an empty username is skipped with its warning, no call made', async () => {
    const before = sim.counters.requests;
    const logs = captureLogs();
    try {
      assert.deepEqual(await adapter.read(target('  ', 44)), { status: 'skipped', reason: 'empty username' });
    } finally {
      logs.restore();
    }
    assert.equal(sim.counters.requests, before);
    assert.match(logs.lines.join('\n'), /Eylandoo usage fetch skipped: empty username \(config_id: 44\)/);
  });

  it("reads the user path a panel's settings give", async () => {
    const moved = new EylandooSimulator({ seed: 4, paths: { user: '/v2/accounts/{username}' } });
    await moved.start();
    const custom = new EylandooAdapter(
      {
        ...panel,
        url: moved.url,
        credentials: { apiKey: moved.apiKey },
        settings: { paths: { user: '/v2/accounts/{username}' } },
      },
      HTTP,
    );
    try {
      moved.addUser('u1', { shape: 'data_used' });
      moved.setUsage('u1', 42);
      assert.deepEqual(await custom.read(target('u1')), { status: 'ok', bytes: 42, sourceField: 'data.data_used' });
    } finally {
      await custom.close();
      await moved.stop();
    }
  });
});

describe('Marzban adapter (simulator over HTTP)', () => {
  const sim = new MarzbanSimulator({ seed: 5, growBytesPerRead: 0 });
  let adapter: MarzbanAdapter;
  let panel: PanelTarget;
  before(async () => {
    await sim.start();
    panel = {
      id: 2,
      name: 'mz-1',
      type: 'marzban',
      url: sim.url,
      credentials: { username: sim.adminUsername, password: sim.adminPassword },
      settings: {},
    };
    adapter = new MarzbanAdapter(panel, HTTP);
  });
  after(async () => {
    await adapter.close();
    await sim.stop();
  });

  it('logs in once, reuses the token, and reads used_traffic', async () => {
    sim.setUsage('alice', 123_456);
    sim.setUsage('bob', 654_321);
    const issued = sim.counters.tokensIssued;
    const [a, b] = await Promise.all([adapter.read(target('alice')), adapter.read(target('bob'))]);
    assert.deepEqual(a, { status: 'ok', bytes: 123_456, sourceField: 'used_traffic' });
    assert.deepEqual(b, { status: 'ok', bytes: 654_321, sourceField: 'used_traffic' });
    assert.equal(await adapter.usageBytes(target('alice')), 123_456);
    assert.equal(sim.counters.tokensIssued - issued, 1, 'one login for concurrent reads and the next');
  });

  it('a token the panel stops taking mid-run is renewed once, and the read goes on', async () => {
    const issued = sim.counters.tokensIssued;
    sim.invalidateTokens();
    assert.equal((await adapter.read(target('alice'))).status, 'ok');
    assert.equal(sim.counters.tokensIssued - issued, 1);
  });

  it('an unknown user or a wrong password is a hard failure, never 0, and the password is in no log line', async () => {
    const logs = captureLogs();
    const strict = new MarzbanSimulator({ seed: 5, autoCreateUsers: false });
    await strict.start();
    const onStrict = new MarzbanAdapter(
      { ...panel, url: strict.url, credentials: { username: strict.adminUsername, password: strict.adminPassword } },
      HTTP,
    );
    const wrong = new MarzbanAdapter(
      { ...panel, credentials: { username: sim.adminUsername, password: 'wrong-password-99' } },
      HTTP,
    );
    try {
      const missing = await onStrict.read(target('nobody'));
      assert.equal(missing.status, 'hard_failure');
      assert.match((missing as { error: string }).error, /HTTP 404/);
      const before = sim.counters.requests;
      const refused = await wrong.read(target('alice'));
      assert.equal(refused.status, 'hard_failure');
      assert.match((refused as { error: string }).error, /HTTP 401/);
      assert.equal((refused as { scope: string }).scope, 'panel');
      assert.equal(sim.counters.requests - before, 1, 'one refused login, not tried again for the same read');
    } finally {
      logs.restore();
      await onStrict.close();
      await wrong.close();
      await strict.stop();
    }
    const text = logs.lines.join('\n');
    assert.match(text, /Marzban Get User failed: \(status: 404, username: nobody/);
    assert.match(text, /Marzban Login failed: \(status: 401, username: alice/);
    assert.ok(!text.includes('wrong-password-99') && !text.includes(sim.adminPassword));
  });
});

describe('adapter helpers', () => {
  it("reads a JWT's exp; a token without one has none", () => {
    const token = `x.${Buffer.from(JSON.stringify({ exp: 1_900_000_000 })).toString('base64url')}.y`;
    assert.equal(jwtExpiry(token), 1_900_000_000_000);
    assert.equal(jwtExpiry('opaque-token'), null);
    assert.equal(jwtExpiry('a.not-json.c'), null);
  });

  it('a body preview is at most 200 characters, on one line, without the secrets', () => {
    const preview = bodyPreview(`<html>\n${'x'.repeat(500)} key=secret-value-1</html>`, ['secret-value-1']);
    assert.equal(preview.length, 200);
    assert.ok(!preview.includes('\n'));
    assert.equal(
      bodyPreview({ msg: 'token secret-value-1 refused' }, ['secret-value-1']),
      '{"msg":"token [redacted] refused"}',
    );
  });
});
