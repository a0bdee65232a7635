import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { MarzbanSimulator, MarzbanUserResponse } from './marzban-simulator';
import { vpnUsername } from './vpn-users';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
/** The members of Marzban's UserResponse (upstream-apis.md section 4b), written from the reference. */
const USER_RESPONSE_KEYS = [
  'username',
  'status',
  'used_traffic',
  'lifetime_used_traffic',
  'data_limit',
  'data_limit_reset_strategy',
  'expire',
  'created_at',
  'online_at',
  'sub_updated_at',
  'proxies',
  'inbounds',
  'links',
  'subscription_url',
  'note',
  'on_hold_expire_duration',
  'on_hold_timeout',
  'next_plan',
  'admin',
];

function client(sim: MarzbanSimulator) {
  const login = (form: Record<string, string>, headers: Record<string, string> = FORM) =>
    fetch(`${sim.url}/api/admin/token`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  const token = async (): Promise<string> => {
    const res = await login({ username: sim.adminUsername, password: sim.adminPassword });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const get = (username: string, authorization?: string, init: RequestInit = {}) =>
    fetch(`${sim.url}/api/user/${encodeURIComponent(username)}`, {
      ...init,
      headers: authorization === undefined ? {} : { authorization },
    });
  const read = async (username: string, jwt: string): Promise<MarzbanUserResponse> => {
    const res = await get(username, `Bearer ${jwt}`);
    assert.equal(res.status, 200, `GET ${username}`);
    return (await res.json()) as MarzbanUserResponse;
  };
  return { login, token, get, read };
}

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('MarzbanSimulator: POST /api/admin/token', () => {
  const sim = new MarzbanSimulator({ seed: 4 });
  const { login, token } = client(sim);
  before(() => sim.start());
  after(() => sim.stop());

  it('issues a bearer JWT for the admin’s form login, with sub, access, iat and an exp 1440 minutes on', async () => {
    const res = await login({ username: 'admin', password: sim.adminPassword, grant_type: 'password' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body.token_type, 'bearer');
    const [head, payload, signature] = body.access_token.split('.');
    assert.ok(head && payload && signature, 'three JWT parts');
    assert.deepEqual(JSON.parse(Buffer.from(head, 'base64url').toString('utf8')), { alg: 'HS256', typ: 'JWT' });
    const c = claims(body.access_token);
    assert.equal(c.sub, 'admin');
    assert.equal(c.access, 'sudo');
    assert.ok(Number.isInteger(c.iat) && Number.isInteger(c.exp));
    assert.equal((c.exp as number) - (c.iat as number), 1440 * 60);
    assert.ok(Math.abs((c.iat as number) - Date.now() / 1000) < 5);
    assert.equal(sim.counters.tokensIssued, 1);
  });

  it('refuses a wrong password with 401 {"detail":"Incorrect username or password"} and WWW-Authenticate', async () => {
    const res = await login({ username: 'admin', password: 'guess' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await res.json(), { detail: 'Incorrect username or password' });
    assert.equal((await login({ username: 'root', password: sim.adminPassword })).status, 401);
    assert.equal(sim.counters.unauthorized, 2);
  });

  it('wants a form: JSON or missing fields are FastAPI’s 422, as is a grant_type other than password', async () => {
    const json = await fetch(`${sim.url}/api/admin/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: sim.adminPassword }),
    });
    assert.equal(json.status, 422);
    const detail = ((await json.json()) as { detail: Array<{ loc: string[]; type: string }> }).detail;
    assert.deepEqual(
      detail.map((d) => [d.type, d.loc.join('.')]),
      [
        ['missing', 'body.username'],
        ['missing', 'body.password'],
      ],
    );
    assert.equal((await login({ username: 'admin' })).status, 422);
    const grant = await login({ username: 'admin', password: sim.adminPassword, grant_type: 'client_credentials' });
    assert.equal(grant.status, 422);
    assert.equal((await fetch(`${sim.url}/api/admin/token`)).status, 405);
    await token();
  });
});

describe('MarzbanSimulator: GET /api/user/{username}', () => {
  const sim = new MarzbanSimulator({ seed: 4 });
  const { token, get, read } = client(sim);
  let jwt = '';
  before(async () => {
    await sim.start();
    jwt = await token();
  });
  after(() => sim.stop());

  it('answers the UserResponse: used_traffic and data_limit in bytes, a known status', async () => {
    const user = await read('alice', jwt);
    for (const key of USER_RESPONSE_KEYS) assert.ok(key in user, `has ${key}`);
    assert.equal(user.username, 'alice');
    assert.ok(Number.isSafeInteger(user.used_traffic) && user.used_traffic >= 0);
    assert.ok(user.lifetime_used_traffic >= user.used_traffic);
    assert.ok(user.data_limit === null || Number.isSafeInteger(user.data_limit));
    assert.ok(['active', 'disabled', 'limited', 'expired', 'on_hold'].includes(user.status));
    assert.match(user.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    assert.equal(sim.counters.reads, 1);
    assert.equal(sim.routeCount('GET /api/user/:username'), 1);
  });

  it('answers 401 "Not authenticated" without a bearer, "Could not validate credentials" for a bad token', async () => {
    for (const authorization of [undefined, `Basic ${Buffer.from('admin:x').toString('base64')}`, jwt]) {
      const res = await get('alice', authorization);
      assert.equal(res.status, 401, String(authorization));
      assert.deepEqual(await res.json(), { detail: 'Not authenticated' });
    }
    const [head, payload] = jwt.split('.');
    const forged = `${head}.${payload}.${createHmac('sha256', 'guessed-secret').update(`${head}.${payload}`).digest('base64url')}`;
    for (const bad of [
      'not-a-jwt',
      forged,
      `${head}.${Buffer.from('{"sub":"admin","exp":9e9}').toString('base64url')}.x`,
    ]) {
      const res = await get('alice', `Bearer ${bad}`);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.deepEqual(await res.json(), { detail: 'Could not validate credentials' });
    }
    assert.equal((await get('alice', `bearer ${jwt}`)).status, 200, 'the scheme is case-insensitive');
  });

  it('answers 404 {"detail":"User not found"} for an unknown user; FastAPI’s 404 for an unknown route', async () => {
    sim.removeUser('ghost');
    const res = await get('ghost', `Bearer ${jwt}`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { detail: 'User not found' });
    const route = await fetch(`${sim.url}/api/users/alice`, { headers: { authorization: `Bearer ${jwt}` } });
    assert.equal(route.status, 404);
    assert.deepEqual(await route.json(), { detail: 'Not Found' });
    assert.equal(sim.counters.notFound, 2);
  });

  it('marks an active user past its data limit as limited', async () => {
    sim.addUser('heavy', { status: 'active', dataLimitBytes: 1000, usedBytes: 999, growthPerRead: 1 });
    assert.equal((await read('heavy', jwt)).status, 'active');
    const limited = await read('heavy', jwt);
    assert.equal(limited.used_traffic, 1000);
    assert.equal(limited.status, 'limited');
  });
});

describe('MarzbanSimulator: tokens expire', () => {
  let now = Date.UTC(2025, 5, 1, 12, 0, 0);
  const sim = new MarzbanSimulator({ tokenTtlMs: 60_000, now: () => now });
  const { token, get } = client(sim);
  before(() => sim.start());
  after(() => sim.stop());

  it('accepts a token until its exp, then answers 401 until a new one is issued', async () => {
    const jwt = await token();
    assert.equal(claims(jwt).exp, now / 1000 + 60);
    now += 59_999;
    assert.equal((await get('alice', `Bearer ${jwt}`)).status, 200);
    now += 1;
    const expired = await get('alice', `Bearer ${jwt}`);
    assert.equal(expired.status, 401);
    assert.deepEqual(await expired.json(), { detail: 'Could not validate credentials' });
    assert.equal(sim.counters.tokensExpired, 1);
    assert.equal((await get('alice', `Bearer ${await token()}`)).status, 200);
  });

  it('refuses every earlier token after invalidateTokens() (a changed secret), and honours a sub-second TTL', async () => {
    const jwt = await token();
    sim.invalidateTokens();
    assert.equal((await get('alice', `Bearer ${jwt}`)).status, 401);
    assert.equal(sim.counters.tokensExpired, 1, 'invalid, not expired');
    sim.setTokenTtl(250);
    const short = await token();
    assert.equal(claims(short).exp, (now + 250) / 1000);
    now += 249;
    assert.equal((await get('alice', `Bearer ${short}`)).status, 200);
    now += 1;
    assert.equal((await get('alice', `Bearer ${short}`)).status, 401);
  });
});

describe('MarzbanSimulator: a short TTL on the real clock', () => {
  const sim = new MarzbanSimulator({ tokenTtlMs: 100 });
  const { token, get } = client(sim);
  before(() => sim.start());
  after(() => sim.stop());

  it('expires the token after the TTL', async () => {
    const jwt = await token();
    assert.equal((await get('alice', `Bearer ${jwt}`)).status, 200);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await get('alice', `Bearer ${jwt}`)).status, 401);
  });
});

describe('MarzbanSimulator: usage grows; resets; determinism', () => {
  const sim = new MarzbanSimulator({ seed: 9, growBytesPerRead: 2048 });
  const { token, read } = client(sim);
  let jwt = '';
  before(async () => {
    await sim.start();
    jwt = await token();
  });
  after(() => sim.stop());

  it('grows used_traffic by growBytesPerRead after every read', async () => {
    const first = (await read('alice', jwt)).used_traffic;
    assert.equal((await read('alice', jwt)).used_traffic, first + 2048);
    assert.equal((await read('alice', jwt)).used_traffic, first + 4096);
  });

  it('resets like the panel (POST /api/user/{username}/reset and resetUsage): used to 0, lifetime kept', async () => {
    const before = await read('bob', jwt);
    const res = await fetch(`${sim.url}/api/user/bob/reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
    });
    assert.equal(res.status, 200);
    const reset = (await res.json()) as MarzbanUserResponse;
    assert.equal(reset.used_traffic, 0);
    assert.ok(reset.lifetime_used_traffic >= before.used_traffic + 2048);
    assert.equal((await read('bob', jwt)).used_traffic, 0);
    assert.equal((await read('bob', jwt)).used_traffic, 2048);
    sim.setUsage('bob', 7_000_000_000);
    assert.equal((await read('bob', jwt)).used_traffic, 7_000_000_000);
    sim.resetUsage('bob');
    assert.equal((await read('bob', jwt)).used_traffic, 0);
    const unauthenticated = await fetch(`${sim.url}/api/user/bob/reset`, { method: 'POST' });
    assert.equal(unauthenticated.status, 401);
  });

  it('generates the same users from the same seed and other ones from another', () => {
    const names = Array.from({ length: 50 }, (_, i) => vpnUsername(i + 1));
    const view = (s: MarzbanSimulator) => names.map((n) => s.answerFor(s.user(n)!));
    assert.deepEqual(view(new MarzbanSimulator({ seed: 9 })), view(new MarzbanSimulator({ seed: 9 })));
    assert.notDeepEqual(view(new MarzbanSimulator({ seed: 9 })), view(new MarzbanSimulator({ seed: 10 })));
  });

  it('answers only added users when auto-creation is off', async () => {
    const closed = new MarzbanSimulator({ autoCreateUsers: false });
    await closed.start();
    try {
      const c = client(closed);
      const jwt2 = await c.token();
      assert.equal((await c.get('alice', `Bearer ${jwt2}`)).status, 404);
      closed.addUser('alice', { usedBytes: 5 });
      assert.equal((await c.read('alice', jwt2)).used_traffic, 5);
    } finally {
      await closed.stop();
    }
  });
});

describe('MarzbanSimulator: faults and the dead switch', () => {
  const sim = new MarzbanSimulator({ seed: 2 });
  const { token, get } = client(sim);
  let jwt = '';
  before(async () => {
    await sim.start();
    jwt = await token();
  });
  after(() => sim.stop());
  afterEach(async () => {
    sim.resetFaults();
    sim.setLatency(0);
    await sim.setDead(null);
  });

  it('answers an error fault with uvicorn’s plain-text 500, or the proxy’s HTML for 502', async () => {
    sim.setFaults({ errorRate: 1 });
    const res = await get('alice', `Bearer ${jwt}`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'Internal Server Error');
    sim.setFaults({ errorStatus: 502 });
    const proxy = await get('alice', `Bearer ${jwt}`);
    assert.equal(proxy.status, 502);
    assert.match(await proxy.text(), /nginx/);
    assert.equal(sim.counters.faulted, 2);
  });

  it('waits its latency (setLatency, and fault latency on top)', async () => {
    sim.setLatency(30);
    sim.setFaults({ latencyMs: 30 });
    const started = Date.now();
    assert.equal((await get('alice', `Bearer ${jwt}`)).status, 200);
    assert.ok(Date.now() - started >= 60, 'both latencies');
  });

  it('holds requests by timeoutRate with hangMs, then answers them', async () => {
    sim.setFaults({ timeoutRate: 1, hangMs: 100 });
    await assert.rejects(get('alice', `Bearer ${jwt}`, { signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' });
    const started = Date.now();
    assert.equal((await get('alice', `Bearer ${jwt}`)).status, 200);
    assert.ok(Date.now() - started >= 100);
  });

  it('dies and comes back: 502 to everything (token included), then refused connections', async () => {
    await sim.setDead('error');
    assert.equal((await get('alice', `Bearer ${jwt}`)).status, 502);
    assert.equal((await client(sim).login({ username: 'admin', password: sim.adminPassword })).status, 502);
    await sim.setDead('refuse');
    await assert.rejects(get('alice', `Bearer ${jwt}`), TypeError);
    await assert.rejects(get('alice', `Bearer ${jwt}`), (err: Error & { cause?: { code?: string } }) => {
      assert.equal(err.cause?.code, 'ECONNREFUSED');
      return true;
    });
    await sim.setDead(null);
    assert.equal((await get('alice', `Bearer ${jwt}`)).status, 200, 'the token survives the outage');
  });

  it('takes controls over HTTP: token TTL, invalidation, faults, state', async () => {
    const control = (route: string, body?: unknown, method = 'POST') =>
      fetch(`${sim.url}/__simulator/${route}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    assert.equal((await control('token-ttl', { ms: 5000 })).status, 200);
    assert.equal(sim.tokenTtlMs, 5000);
    assert.equal((await control('tokens/invalidate')).status, 200);
    assert.equal((await get('alice', `Bearer ${jwt}`)).status, 401);
    jwt = await token();
    assert.equal((await control('faults', { errorRate: 1, errorStatus: 504 })).status, 200);
    assert.equal((await get('alice', `Bearer ${jwt}`)).status, 504);
    assert.equal((await control('faults', undefined, 'DELETE')).status, 200);
    assert.equal((await control('faults', { errorStatus: 418 })).status, 400);
    const state = (await (await control('state', undefined, 'GET')).json()) as {
      counters: Record<string, number>;
      routes: Record<string, number>;
      tokenTtlMs: number;
    };
    assert.equal(state.tokenTtlMs, 5000);
    assert.equal(state.counters.tokensIssued, sim.counters.tokensIssued);
    assert.equal(state.routes['POST /api/admin/token'], sim.counters.tokensIssued + 1, 'one more: the dead login');
    assert.equal((await control('counters', undefined, 'DELETE')).status, 200);
    assert.equal(sim.counters.requests, 0);
    assert.equal(sim.routes.size, 0);
  });
});
