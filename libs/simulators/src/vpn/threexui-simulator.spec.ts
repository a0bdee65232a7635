import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ThreeXuiClientTraffic, ThreeXuiMsg, ThreeXuiSimulator, ThreeXuiSimulatorOptions } from './threexui-simulator';

/** A clock the test moves by hand, so cookie expiry needs no sleeping. */
function manualClock(start = Date.UTC(2026, 0, 15, 9, 0, 0)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const LEGACY = 'panel/api/inbounds/getClientTraffics/';
const V31 = 'panel/api/clients/traffic/';

function harness(options: ThreeXuiSimulatorOptions = {}) {
  const sim = new ThreeXuiSimulator(options);
  const login = (fields: Record<string, string>, json = false) =>
    fetch(`${sim.url}login`, {
      method: 'POST',
      headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
      body: json ? JSON.stringify(fields) : new URLSearchParams(fields).toString(),
    });
  /** Logs in and answers the `Cookie` header to send back. */
  const cookie = async (): Promise<string> => {
    const res = await login({ username: sim.adminUsername, password: sim.adminPassword });
    assert.equal(res.status, 200);
    const set = res.headers.get('set-cookie') ?? '';
    return set.split(';')[0];
  };
  const traffic = (route: string, email: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
    fetch(`${sim.url}${route}${encodeURIComponent(email)}`, { headers, ...init });
  const read = async (route: string, email: string, headers: Record<string, string>) => {
    const res = await traffic(route, email, headers);
    assert.equal(res.status, 200);
    const body = (await res.json()) as ThreeXuiMsg<ThreeXuiClientTraffic>;
    assert.equal(body.success, true, body.msg);
    return body.obj!;
  };
  const control = (route: string, body?: unknown, method = 'POST') =>
    fetch(`${new URL(sim.url).origin}/__simulator/${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return { sim, login, cookie, traffic, read, control };
}

describe('ThreeXuiSimulator (legacy): POST /login opens a session cookie that expires', () => {
  const clock = manualClock();
  const { sim, login, cookie, traffic } = harness({ users: 30, sessionTtlMs: 600_000, now: clock.now });
  before(() => sim.start());
  after(() => sim.stop());

  it('answers HTTP 200 {success: true, obj: null} and sets the 3x-ui cookie with its max age, for a form or JSON', async () => {
    const res = await login({ username: 'admin', password: sim.adminPassword });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { success: true, msg: 'Logged in successfully', obj: null });
    const set = res.headers.get('set-cookie') ?? '';
    assert.match(set, /^3x-ui=[\w-]{20,}; Path=\/; Expires=[^;]+ GMT; Max-Age=600; HttpOnly; SameSite=Lax$/);
    const json = await login({ username: 'admin', password: sim.adminPassword }, true);
    assert.equal(((await json.json()) as ThreeXuiMsg).success, true);
    assert.ok(json.headers.get('set-cookie')?.startsWith('3x-ui='));
    assert.equal(sim.counters.loginsIssued, 2);
  });

  it('refuses wrong or missing credentials with HTTP 200 and success:false, and sets no cookie', async () => {
    const wrong = await login({ username: 'admin', password: 'guess' });
    assert.equal(wrong.status, 200);
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.deepEqual(await wrong.json(), { success: false, msg: 'Wrong username or password', obj: null });
    const empty = (await (await login({ username: '', password: 'x' })).json()) as ThreeXuiMsg;
    assert.equal(empty.success, false);
    assert.equal(sim.counters.loginFailures, 2);
  });

  it('accepts the cookie until its max age has passed, then redirects to the login page (307)', async () => {
    const session = await cookie();
    clock.advance(599_999);
    assert.equal((await traffic(LEGACY, 'user1', { cookie: session })).status, 200);
    clock.advance(1);
    const expired = await traffic(LEGACY, 'user1', { cookie: session }, { redirect: 'manual' });
    assert.equal(expired.status, 307);
    assert.equal(expired.headers.get('location'), '/');
    const fresh = await cookie();
    assert.equal((await traffic(LEGACY, 'user1', { cookie: fresh })).status, 200, 'a new login works at once');
  });

  it('without a session: a followed redirect lands on the HTML login page with 200; an XHR gets 401 JSON', async () => {
    const followed = await traffic(LEGACY, 'user1');
    assert.equal(followed.status, 200, 'what a client that follows redirects sees: not JSON');
    assert.equal(followed.redirected, true);
    assert.match(followed.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await followed.text(), /<form id="login"/);
    const xhr = await traffic(LEGACY, 'user1', { 'x-requested-with': 'XMLHttpRequest' });
    assert.equal(xhr.status, 401);
    const body = (await xhr.json()) as ThreeXuiMsg;
    assert.equal(body.success, false);
    assert.match(body.msg, /log in again/);
    const other = await traffic(LEGACY, 'user1', { cookie: '3x-ui=forged-session-value' }, { redirect: 'manual' });
    assert.equal(other.status, 307);
    assert.equal(sim.counters.unauthorized, 4, 'the expired one, the redirect, the XHR and the forged one');
  });

  it('expireSessions() ends every session before its max age, as a panel restart does', async () => {
    const session = await cookie();
    sim.expireSessions();
    assert.equal((await traffic(LEGACY, 'user2', { cookie: session }, { redirect: 'manual' })).status, 307);
  });

  it("has no v3.1 route: /panel/api/clients/traffic is gin's plain 404, cookie or not", async () => {
    const res = await traffic(V31, 'user1', { cookie: await cookie() });
    assert.equal(res.status, 404);
    assert.equal(await res.text(), '404 page not found');
  });
});

describe('ThreeXuiSimulator (legacy): GET /panel/api/inbounds/getClientTraffics/{email}', () => {
  const { sim, cookie, traffic, read } = harness({ users: 200, seed: 21 });
  let session = '';
  before(async () => {
    await sim.start();
    session = await cookie();
  });
  after(() => sim.stop());

  it('answers {success: true, msg: "", obj: ClientTraffic} with up and down in bytes and expiryTime in ms', async () => {
    const res = await traffic(LEGACY, 'user12', { cookie: session });
    const body = (await res.json()) as ThreeXuiMsg<ThreeXuiClientTraffic>;
    assert.equal(body.success, true);
    assert.equal(body.msg, '');
    const obj = body.obj!;
    assert.deepEqual(Object.keys(obj).sort(), [
      'down',
      'email',
      'enable',
      'expiryTime',
      'id',
      'inboundId',
      'reset',
      'total',
      'up',
    ]);
    assert.equal(obj.email, 'user12');
    assert.equal(obj.id, 12);
    for (const key of ['up', 'down', 'total'] as const) assert.ok(Number.isSafeInteger(obj[key]) && obj[key] >= 0, key);
    assert.ok(obj.expiryTime === 0 || Math.abs(obj.expiryTime) > 86_400_000 - 1, 'ms, not seconds');
  });

  it('answers an unknown client with HTTP 200 and success:false — the envelope failure', async () => {
    for (const email of ['user201', 'nobody@example.com']) {
      const res = await traffic(LEGACY, email, { cookie: session });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        success: false,
        msg: 'Error getting traffics (record not found)',
        obj: null,
      });
    }
    assert.equal(sim.counters.unknownUsers, 2);
  });

  it('grows up and down between reads; each read answers what usage() said', async () => {
    const reads: ThreeXuiClientTraffic[] = [];
    for (let i = 0; i < 4; i++) {
      const next = sim.usage('user13');
      reads.push(await read(LEGACY, 'user13', { cookie: session }));
      assert.deepEqual({ up: reads[i].up, down: reads[i].down }, { up: next.up, down: next.down });
    }
    for (let i = 1; i < reads.length; i++) {
      assert.ok(reads[i].up >= reads[i - 1].up && reads[i].down > reads[i - 1].down);
      const grew = reads[i].up + reads[i].down - reads[i - 1].up - reads[i - 1].down;
      assert.ok(grew >= 0.25 * 1024 ** 2 && grew <= 32 * 1024 ** 2, `grew ${grew}`);
    }
  });

  it('setUsage, resetUsage, addUser and removeUser change what the panel answers', async () => {
    sim.setUsage('user14', { up: 1000, down: 9000 });
    const set = await read(LEGACY, 'user14', { cookie: session });
    assert.deepEqual([set.up, set.down], [1000, 9000]);
    sim.resetUsage('user14');
    const reset = await read(LEGACY, 'user14', { cookie: session });
    assert.equal(reset.up + reset.down, 0);
    const added = sim.addUser('reseller@shop', { total: 5000, inboundId: 7 });
    assert.equal(added.id, 201);
    const first = await read(LEGACY, 'reseller@shop', { cookie: session });
    assert.deepEqual([first.up, first.down, first.inboundId, first.enable], [0, 0, 7, true]);
    sim.setUsage('reseller@shop', 5000);
    assert.equal((await read(LEGACY, 'reseller@shop', { cookie: session })).enable, false, 'quota spent: disabled');
    assert.equal(sim.removeUser('reseller@shop'), true);
    const gone = (await (await traffic(LEGACY, 'reseller@shop', { cookie: session })).json()) as ThreeXuiMsg;
    assert.equal(gone.success, false);
    assert.throws(() => sim.addUser('has space'), /Not a 3x-ui client email/);
  });

  it('resetUsage() zeroes every client, those not yet read included', async () => {
    sim.resetUsage();
    for (const email of ['user13', 'user150']) {
      const obj = await read(LEGACY, email, { cookie: session });
      assert.equal(obj.up + obj.down, 0, email);
    }
  });

  it('counts requests per route, relative to the base path', () => {
    assert.equal(sim.requestCount('POST /login'), 1);
    assert.equal(sim.requestCount(`GET /${LEGACY}:email`), 14);
    assert.equal(sim.counters.usageReads, 11);
  });
});

describe('ThreeXuiSimulator (v3.1): /panel/api/clients/traffic/{email} with a bearer API token', () => {
  const token = 'sim-api-token-0123456789abcdef';
  const { sim, cookie, traffic, read } = harness({ users: 50, generation: 'v3.1', apiToken: token, seed: 5 });
  before(() => sim.start());
  after(() => sim.stop());

  it('answers the traffic with subId, uuid and lastOnline to the API token, counting it', async () => {
    const obj = await read(V31, 'user3', { authorization: `Bearer ${token}` });
    assert.equal(obj.email, 'user3');
    assert.match(obj.uuid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(obj.subId ?? '', /^[0-9a-f]{16}$/);
    assert.equal(typeof obj.lastOnline, 'number');
    assert.equal(sim.counters.apiTokenRequests, 1);
    assert.equal(sim.counters.loginsIssued, 0, 'no login needed');
  });

  it('keeps the inbounds route, and takes a cookie on either route', async () => {
    assert.equal((await read(LEGACY, 'user3', { authorization: `Bearer ${token}` })).email, 'user3');
    const session = await cookie();
    assert.equal((await read(V31, 'user4', { cookie: session })).email, 'user4');
  });

  it('hides the API without a valid token or session: an empty 404, or 401 to an XHR', async () => {
    const wrong = await traffic(V31, 'user3', { authorization: 'Bearer not-the-token' }, { redirect: 'manual' });
    assert.equal(wrong.status, 404);
    assert.equal(await wrong.text(), '');
    assert.equal((await traffic(V31, 'user3')).status, 404);
    assert.equal((await traffic(V31, 'user3', { 'x-requested-with': 'XMLHttpRequest' })).status, 401);
    assert.equal(sim.counters.unauthorized, 3);
  });

  it('answers an unknown client with HTTP 200 and success:false on the new route too', async () => {
    const res = await traffic(V31, 'user51', { authorization: `Bearer ${token}` });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as ThreeXuiMsg).success, false);
  });

  it('takes no bearer token at all when none is configured, and a legacy panel cannot have one', async () => {
    const bare = harness({ users: 5, generation: 'v3.1' });
    await bare.sim.start();
    try {
      assert.equal((await bare.traffic(V31, 'user1', { authorization: 'Bearer ' })).status, 404);
      assert.equal((await bare.read(V31, 'user1', { cookie: await bare.cookie() })).email, 'user1');
    } finally {
      await bare.sim.stop();
    }
    assert.throws(() => new ThreeXuiSimulator({ apiToken: 'x' }), /v3\.1/);
  });
});

describe('ThreeXuiSimulator: options that change the answers', () => {
  it('serves every route under basePath (webBasePath) and nothing outside it', async () => {
    const { sim, cookie, read } = harness({ users: 5, basePath: 'secret-path' });
    await sim.start();
    try {
      assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+\/secret-path\/$/);
      assert.equal((await read(LEGACY, 'user1', { cookie: await cookie() })).email, 'user1');
      const root = sim.url.replace('secret-path/', '');
      assert.equal((await fetch(`${root}login`, { method: 'POST' })).status, 404);
      const redirect = await fetch(`${sim.url}${LEGACY}user1`, { redirect: 'manual' });
      assert.equal(redirect.headers.get('location'), '/secret-path/');
      assert.equal((await fetch(sim.url.slice(0, -1))).status, 200, 'the base path without its slash: login page');
    } finally {
      await sim.stop();
    }
  });

  it("unknownClient: 'null-obj' answers success:true with obj null, as builds whose lookup finds nothing do", async () => {
    const { sim, cookie, traffic } = harness({ users: 5, unknownClient: 'null-obj' });
    await sim.start();
    try {
      const res = await traffic(LEGACY, 'user6', { cookie: await cookie() });
      assert.deepEqual(await res.json(), { success: true, msg: '', obj: null });
    } finally {
      await sim.stop();
    }
  });

  it("unauthenticated: 'not-found' gives legacy panels the late 2.x empty 404 instead of the redirect", async () => {
    const { sim, traffic } = harness({ users: 5, unauthenticated: 'not-found' });
    await sim.start();
    try {
      assert.equal((await traffic(LEGACY, 'user1', {}, { redirect: 'manual' })).status, 404);
    } finally {
      await sim.stop();
    }
  });

  it('grows by exactly growBytesPerRead when given; the same seed gives the same clients and the same growth', async () => {
    const clock = manualClock();
    const one = harness({ users: 10_000, seed: 9, growBytesPerRead: 4096, now: clock.now });
    const two = harness({ users: 10_000, seed: 9, growBytesPerRead: 4096, now: clock.now });
    await Promise.all([one.sim.start(), two.sim.start()]);
    try {
      const [c1, c2] = await Promise.all([one.cookie(), two.cookie()]);
      for (const email of ['user1', 'user4321', 'user10000']) {
        const a = await one.read(LEGACY, email, { cookie: c1 });
        const b = await one.read(LEGACY, email, { cookie: c1 });
        assert.equal(b.up + b.down - a.up - a.down, 4096);
        assert.deepEqual(await two.read(LEGACY, email, { cookie: c2 }), a);
        assert.deepEqual(await two.read(LEGACY, email, { cookie: c2 }), b);
      }
      assert.notDeepEqual(
        new ThreeXuiSimulator({ seed: 10, users: 10_000 }).user('user4321'),
        two.sim.user('user4321'),
      );
    } finally {
      await Promise.all([one.sim.stop(), two.sim.stop()]);
    }
  });

  it('generates a varied population: unlimited and capped quotas, fixed and first-use expiries, some disabled', () => {
    const sim = new ThreeXuiSimulator({ users: 300, seed: 4 });
    const all = Array.from({ length: 300 }, (_, i) => sim.user(sim.email(i + 1))!);
    assert.ok(all.some((c) => c.total === 0) && all.some((c) => c.total > 0));
    assert.ok(all.some((c) => c.expiryTime === 0) && all.some((c) => c.expiryTime > 0));
    assert.ok(
      all.some((c) => c.expiryTime < 0),
      'a duration that starts at first use',
    );
    assert.ok(all.some((c) => !c.enable) && all.filter((c) => c.enable).length > 150);
    assert.ok(all.some((c) => c.up + c.down === 0) && all.some((c) => c.up + c.down > 1024 ** 3));
  });
});

describe('ThreeXuiSimulator: faults, latency, the dead switch, control routes', () => {
  const { sim, cookie, traffic, read, control } = harness({ users: 100, latencyMs: 25 });
  let session = '';
  before(async () => {
    await sim.start();
    session = await cookie();
  });
  after(() => sim.stop());

  it('adds the panel latency to every request', async () => {
    const started = performance.now();
    await read(LEGACY, 'user1', { cookie: session });
    assert.ok(performance.now() - started >= 23);
    sim.setLatency(0);
  });

  it('answers 500 as gin does (empty body), 502 as the proxy does, 429 with Retry-After; the login fails too', async () => {
    sim.setFaults({ errorRate: 1 });
    const internal = await traffic(LEGACY, 'user1', { cookie: session });
    assert.equal(internal.status, 500);
    assert.equal(await internal.text(), '');
    sim.setFaults({ errorStatus: 502 });
    const gateway = await fetch(`${sim.url}login`, { method: 'POST' });
    assert.equal(gateway.status, 502);
    assert.match(await gateway.text(), /502 Bad Gateway/);
    sim.setFaults({ errorRate: 0, rateLimitRate: 1 });
    const throttled = await traffic(LEGACY, 'user1', { cookie: session });
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '1');
    await throttled.text();
    assert.equal(sim.counters.faulted, 3);
    sim.resetFaults();
  });

  it('holds requests with timeoutRate 1 until the client gives up; resetFaults lets the next ones through', async () => {
    sim.setFaults({ timeoutRate: 1 });
    await assert.rejects(
      fetch(`${sim.url}${LEGACY}user1`, { headers: { cookie: session }, signal: AbortSignal.timeout(100) }),
      (err: Error) => err.name === 'TimeoutError',
    );
    assert.equal(sim.counters.held, 1);
    sim.resetFaults();
    assert.equal((await traffic(LEGACY, 'user1', { cookie: session })).status, 200);
  });

  it('dead refuses connections until alive again on the same address, where the session still holds', async () => {
    await sim.setDead(true);
    await assert.rejects(traffic(LEGACY, 'user1', { cookie: session }), TypeError);
    await assert.rejects(
      traffic(LEGACY, 'user1', { cookie: session }),
      (err: Error & { cause?: { code?: string } }) => {
        assert.equal(err.cause?.code, 'ECONNREFUSED');
        return true;
      },
    );
    await sim.setDead(false);
    assert.equal((await read(LEGACY, 'user1', { cookie: session })).email, 'user1');
  });

  it('controls clients, usage, sessions, faults and counters over HTTP', async () => {
    assert.equal((await control('users', { email: 'ctl@x', total: 100 })).status, 200);
    assert.equal((await control('usage', { email: 'ctl@x', up: 10, down: 20 })).status, 200);
    const shown = (await (await control('users/ctl%40x', undefined, 'GET')).json()) as ThreeXuiClientTraffic;
    assert.deepEqual([shown.up, shown.down, shown.total], [10, 20, 100]);
    assert.equal((await control('usage', { email: 'ctl@x', bytes: 1000 })).status, 200);
    assert.equal(sim.usage('ctl@x').total, 1000);
    assert.equal((await control('usage/reset', {})).status, 200);
    assert.equal(sim.usage('ctl@x').total, 0);
    assert.equal((await control('users/ctl%40x', undefined, 'DELETE')).status, 200);
    assert.equal(sim.hasUser('ctl@x'), false);
    assert.equal((await control('latency', { ms: -1 })).status, 400);
    assert.equal((await control('faults', { errorStatus: 418 })).status, 400);
    assert.equal((await control('sessions/expire')).status, 200);
    assert.equal((await traffic(LEGACY, 'user1', { cookie: session }, { redirect: 'manual' })).status, 307);
    assert.equal((await control('counters/reset')).status, 200);
    assert.equal(sim.counters.requests, 0);
    const state = (await (await control('state', undefined, 'GET')).json()) as Record<string, unknown>;
    assert.equal(state.generation, 'legacy');
    assert.equal(state.liveSessions, 0);
    assert.deepEqual(state.requests, {});
  });
});
