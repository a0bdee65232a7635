import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MarzneshinSimulator, MarzneshinSimulatorOptions, MarzneshinUser } from './marzneshin-simulator';

/** A clock the test moves by hand, so token expiry needs no sleeping. */
function manualClock(start = Date.UTC(2026, 0, 15, 9, 0, 0)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function harness(options: MarzneshinSimulatorOptions = {}) {
  const sim = new MarzneshinSimulator(options);
  const form = (fields: Record<string, string>) =>
    fetch(`${sim.url}/api/admins/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  const token = async (): Promise<string> => {
    const res = await form({ username: sim.adminUsername, password: sim.adminPassword });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const getUser = (username: string, bearer: string | null) =>
    fetch(`${sim.url}/api/users/${encodeURIComponent(username)}`, {
      headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` },
    });
  const read = async (username: string, bearer: string): Promise<MarzneshinUser> => {
    const res = await getUser(username, bearer);
    assert.equal(res.status, 200, `GET /api/users/${username}`);
    return (await res.json()) as MarzneshinUser;
  };
  const control = (route: string, body?: unknown, method = 'POST') =>
    fetch(`${sim.url}/__simulator/${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return { sim, form, token, getUser, read, control };
}

describe('MarzneshinSimulator: POST /api/admins/token issues an expiring bearer JWT', () => {
  const clock = manualClock();
  const { sim, form, token, getUser } = harness({ users: 50, tokenTtlMs: 60_000, now: clock.now });
  before(() => sim.start());
  after(() => sim.stop());

  it('answers {access_token, is_sudo, token_type} to the right form, a JWT whose exp is the TTL away', async () => {
    const res = await form({ username: 'admin', password: sim.adminPassword, grant_type: 'password' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'is_sudo', 'token_type']);
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.is_sudo, true);
    const parts = String(body.access_token).split('.');
    assert.equal(parts.length, 3, 'header.payload.signature');
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.equal(claims.sub, 'admin');
    assert.equal(claims.access, 'sudo');
    assert.equal(claims.exp, Math.floor((clock.now() + 60_000) / 1000));
    assert.equal(sim.counters.tokensIssued, 1);
  });

  it('refuses wrong credentials with 401 and WWW-Authenticate, and a JSON body (not a form) with 422', async () => {
    const wrong = await form({ username: 'admin', password: 'guess' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await wrong.json(), { detail: 'Incorrect username or password' });
    assert.equal(sim.counters.loginFailures, 1);
    const json = await fetch(`${sim.url}/api/admins/token`, {
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
  });

  it('answers 401 "Not authenticated" without a bearer token and "Could not validate credentials" for a bad one', async () => {
    const before = sim.counters.unauthorized;
    const none = await getUser('user1', null);
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), { detail: 'Not authenticated' });
    const basic = await fetch(`${sim.url}/api/users/user1`, { headers: { authorization: 'Basic YWRtaW46eA==' } });
    assert.equal(basic.status, 401, 'another scheme is no bearer token');
    const forged = await getUser('user1', 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl');
    assert.equal(forged.status, 401);
    assert.deepEqual(await forged.json(), { detail: 'Could not validate credentials' });
    assert.equal(sim.counters.unauthorized, before + 3);
  });

  it('accepts a token until its TTL has passed, then 401 until a new token is fetched', async () => {
    const bearer = await token();
    clock.advance(59_999);
    assert.equal((await getUser('user2', bearer)).status, 200);
    clock.advance(1);
    const expired = await getUser('user2', bearer);
    assert.equal(expired.status, 401);
    assert.deepEqual(await expired.json(), { detail: 'Could not validate credentials' });
    assert.equal((await getUser('user2', await token())).status, 200, 'a fresh token works at once');
  });

  it('expireTokens() ends every live token before its TTL, as a restart with a new secret would', async () => {
    const bearer = await token();
    sim.expireTokens();
    assert.equal((await getUser('user3', bearer)).status, 401);
  });
});

describe('MarzneshinSimulator: GET /api/users/{username} answers the user with used_traffic', () => {
  const { sim, token, getUser, read } = harness({ users: 200, seed: 11 });
  let bearer = '';
  before(async () => {
    await sim.start();
    bearer = await token();
  });
  after(() => sim.stop());

  it('answers the UserResponse fields of the reference, typed as the panel types them', async () => {
    const user = await read('user7', bearer);
    assert.equal(user.username, 'user7');
    assert.equal(user.id, 7);
    for (const key of ['used_traffic', 'lifetime_used_traffic'] as const)
      assert.ok(Number.isSafeInteger(user[key]) && user[key] >= 0, key);
    assert.ok(user.lifetime_used_traffic >= user.used_traffic);
    assert.ok(user.data_limit === null || Number.isSafeInteger(user.data_limit));
    assert.ok(['never', 'fixed_date', 'start_on_first_use'].includes(user.expire_strategy));
    for (const key of ['enabled', 'activated', 'is_active', 'expired', 'data_limit_reached'] as const)
      assert.equal(typeof user[key], 'boolean', key);
    for (const key of [
      'expire_date',
      'usage_duration',
      'activation_deadline',
      'traffic_reset_at',
      'service_ids',
      'subscription_url',
      'owner_username',
      'created_at',
    ])
      assert.ok(key in user, key);
    assert.match(user.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, 'a naive datetime, as pydantic writes it');
    assert.equal(user.subscription_url, `/sub/user7/${user.key}`);
    assert.equal(user.owner_username, 'admin');
    assert.ok(Array.isArray(user.service_ids) && user.service_ids.length > 0);
  });

  it('generates a varied population: strategies, limits, disabled users, users that never connected', () => {
    const users = Array.from({ length: 200 }, (_, i) => sim.user(sim.username(i + 1))!);
    const strategies = new Set(users.map((u) => u.expire_strategy));
    assert.equal(strategies.size, 3);
    assert.ok(users.some((u) => u.data_limit === null) && users.some((u) => (u.data_limit ?? 0) > 0));
    assert.ok(users.some((u) => !u.enabled) && users.filter((u) => !u.enabled).length < 40);
    assert.ok(users.some((u) => u.used_traffic === 0) && users.some((u) => u.used_traffic > 1024 ** 3));
    const limited = users.filter((u) => u.data_limit && u.used_traffic >= u.data_limit);
    assert.ok(limited.every((u) => u.data_limit_reached && !u.is_active));
  });

  it('answers 404 {"detail":"User not found"} for a user the panel lacks, counting it', async () => {
    for (const name of ['user201', 'user0', 'nobody_here', 'USER1']) {
      const res = await getUser(name, bearer);
      assert.equal(res.status, 404, name);
      assert.deepEqual(await res.json(), { detail: 'User not found' });
    }
    assert.equal(sim.counters.unknownUsers, 4);
  });

  it('removeUser makes a user unknown, addUser brings in a new one with no traffic yet', async () => {
    assert.equal((await getUser('user9', bearer)).status, 200);
    assert.equal(sim.removeUser('user9'), true);
    assert.equal((await getUser('user9', bearer)).status, 404);
    assert.equal(sim.removeUser('user9'), false);
    const added = sim.addUser('reseller_42', { data_limit: 10 * 1024 ** 3, note: 'added by a test' });
    assert.equal(added.id, 201, 'ids continue after the generated users');
    const first = await read('reseller_42', bearer);
    assert.equal(first.used_traffic, 0);
    assert.equal(first.data_limit, 10 * 1024 ** 3);
    assert.equal(first.note, 'added by a test');
    assert.ok((await read('reseller_42', bearer)).used_traffic > 0, 'and its traffic grows from there');
    assert.throws(() => sim.addUser('No Spaces'), /Not a Marzneshin username/);
  });

  it('counts requests per route', () => {
    assert.equal(sim.requestCount('GET /api/users/:username'), 9);
    assert.equal(sim.requestCount('POST /api/admins/token'), 1);
    assert.equal(
      sim.counters.requests,
      [...sim.requests.values()].reduce((a, b) => a + b, 0),
    );
  });
});

describe('MarzneshinSimulator: usage grows between reads, and can be set and reset', () => {
  const { sim, token, read } = harness({ users: 100, seed: 3 });
  const fixed = harness({ users: 100, seed: 3, growBytesPerRead: 5_000_000 });
  let bearer = '';
  let fixedBearer = '';
  before(async () => {
    await Promise.all([sim.start(), fixed.sim.start()]);
    [bearer, fixedBearer] = await Promise.all([token(), fixed.token()]);
  });
  after(() => Promise.all([sim.stop(), fixed.sim.stop()]));

  it('answers more used_traffic (and lifetime) at every read; usage() tells the next answer', async () => {
    const name = 'user4';
    const reads: MarzneshinUser[] = [];
    for (let i = 0; i < 5; i++) {
      const next = sim.usage(name);
      reads.push(await read(name, bearer));
      assert.equal(reads[i].used_traffic, next);
    }
    for (let i = 1; i < reads.length; i++) {
      const grew = reads[i].used_traffic - reads[i - 1].used_traffic;
      assert.ok(grew >= 0.25 * 1024 ** 2 && grew <= 32 * 1024 ** 2, `grew ${grew} bytes`);
      assert.equal(reads[i].lifetime_used_traffic - reads[i - 1].lifetime_used_traffic, grew);
    }
    assert.equal(sim.counters.usageReads, 5);
  });

  it('grows by exactly growBytesPerRead when given, and the same seed starts from the same usage', async () => {
    const a = await fixed.read('user4', fixedBearer);
    const b = await fixed.read('user4', fixedBearer);
    assert.equal(b.used_traffic - a.used_traffic, 5_000_000);
    const fresh = new MarzneshinSimulator({ users: 100, seed: 3 });
    assert.equal(fresh.usage('user5'), sim.usage('user5'), 'nothing read yet: the generated starting point');
  });

  it('setUsage and resetUsage change what the next read answers; a reset keeps lifetime and stamps traffic_reset_at', async () => {
    sim.setUsage('user6', 123_456_789);
    assert.equal((await read('user6', bearer)).used_traffic, 123_456_789);
    const before = await read('user6', bearer);
    sim.resetUsage('user6');
    const after = await read('user6', bearer);
    assert.equal(after.used_traffic, 0);
    assert.ok(after.lifetime_used_traffic >= before.lifetime_used_traffic);
    assert.notEqual(after.traffic_reset_at, null);
    assert.throws(() => sim.setUsage('user6', -1), /non-negative/);
    assert.throws(() => sim.setUsage('ghost_user', 1), /No Marzneshin user/);
  });

  it('resetUsage() zeroes everyone, the users not yet seen included', async () => {
    assert.ok(sim.usage('user7') > 0 || sim.usage('user8') > 0);
    sim.resetUsage();
    for (const name of ['user4', 'user7', 'user8', 'user99']) assert.equal((await read(name, bearer)).used_traffic, 0);
  });
});

describe('MarzneshinSimulator: the same seed gives the same users and the same growth', () => {
  it('answers identical reads from two simulators of one seed, and other users for another seed', async () => {
    const clock = manualClock();
    const one = harness({ users: 10_000, seed: 77, now: clock.now });
    const two = harness({ users: 10_000, seed: 77, now: clock.now });
    const other = new MarzneshinSimulator({ users: 10_000, seed: 78, now: clock.now });
    await Promise.all([one.sim.start(), two.sim.start()]);
    try {
      const [t1, t2] = await Promise.all([one.token(), two.token()]);
      for (const name of ['user1', 'user5000', 'user10000'])
        for (let i = 0; i < 3; i++) assert.deepEqual(await one.read(name, t1), await two.read(name, t2));
      assert.notDeepEqual(other.user('user5000'), one.sim.user('user5000'));
    } finally {
      await Promise.all([one.sim.stop(), two.sim.stop()]);
    }
  });
});

describe('MarzneshinSimulator: faults, latency, the dead switch', () => {
  const { sim, token, getUser, control } = harness({ users: 100, latencyMs: 30 });
  let bearer = '';
  before(async () => {
    await sim.start();
    bearer = await token();
  });
  after(() => sim.stop());

  it('adds the panel latency to every request, and a latency fault on top', async () => {
    let started = performance.now();
    assert.equal((await getUser('user1', bearer)).status, 200);
    assert.ok(performance.now() - started >= 28, 'the panel latency');
    sim.setFaults({ latencyMs: 60 });
    started = performance.now();
    await getUser('user1', bearer);
    assert.ok(performance.now() - started >= 88, 'panel latency plus the fault');
    sim.resetFaults();
    assert.equal(sim.latencyMs, 30, 'resetting faults keeps the panel latency');
    sim.setLatency(0);
  });

  it('answers errorStatus: 500 as uvicorn does (plain text), 502/503 as the nginx in front does (HTML)', async () => {
    sim.setFaults({ errorRate: 1, errorStatus: 500 });
    const internal = await getUser('user1', bearer);
    assert.equal(internal.status, 500);
    assert.equal(await internal.text(), 'Internal Server Error');
    sim.setFaults({ errorStatus: 503 });
    const unavailable = await fetch(`${sim.url}/api/admins/token`, { method: 'POST' });
    assert.equal(unavailable.status, 503, 'the token route fails too');
    assert.match(unavailable.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await unavailable.text(), /503 Service Temporarily Unavailable.*nginx/s);
    sim.setFaults({ errorRate: 0, rateLimitRate: 1, retryAfterSeconds: 7 });
    const throttled = await getUser('user1', bearer);
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '7');
    await throttled.text();
    assert.equal(sim.counters.faulted, 3);
    sim.resetFaults();
  });

  it('errorRate draws from a seeded sequence: the same requests fail after every setFaults', async () => {
    const statuses = async () => {
      sim.setFaults({ errorRate: 0.5 });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await getUser('user2', bearer)).status);
      return out;
    };
    const first = await statuses();
    assert.ok(first.includes(500) && first.includes(200), first.join());
    assert.deepEqual(await statuses(), first);
    sim.resetFaults();
  });

  it('holds a request (hangNext) past the client timeout; resetFaults answers what is held', async () => {
    sim.setFaults({ hangNext: 1 });
    const held = fetch(`${sim.url}/api/users/user3`, {
      headers: { authorization: `Bearer ${bearer}` },
      signal: AbortSignal.timeout(150),
    });
    await assert.rejects(held, (err: Error) => err.name === 'TimeoutError');
    assert.equal(sim.counters.held, 1);
    sim.setFaults({ hangNext: 1, hangMs: 20 });
    assert.equal((await getUser('user3', bearer)).status, 200, 'held 20 ms, then answered');
    sim.resetFaults();
  });

  it('dead refuses connections; alive again on the same address, the same token still valid', async () => {
    const url = sim.url;
    await sim.setDead(true);
    assert.equal(sim.isDead, true);
    // A pooled keep-alive connection is cut (its request fails too); a new one is refused.
    await assert.rejects(getUser('user1', bearer), TypeError);
    await assert.rejects(getUser('user1', bearer), (err: Error & { cause?: { code?: string } }) => {
      assert.equal(err.cause?.code, 'ECONNREFUSED');
      return true;
    });
    await sim.setDead(false);
    assert.equal(sim.url, url);
    assert.equal((await getUser('user1', bearer)).status, 200);
  });

  it('goes dead for a while from POST /__simulator/dead and comes back by itself', async () => {
    const res = await control('dead', { forMs: 150 });
    assert.equal(res.status, 202);
    await new Promise((r) => setTimeout(r, 60));
    await assert.rejects(getUser('user1', bearer));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await getUser('user1', bearer)).status, 200);
  });

  it('records the most requests in flight at once: a client concurrency check', async () => {
    sim.resetCounters();
    sim.setLatency(40);
    await Promise.all(Array.from({ length: 6 }, () => getUser('user1', bearer).then((r) => r.text())));
    assert.equal(sim.counters.peakInFlight, 6);
    assert.equal(sim.counters.inFlight, 0);
    sim.setLatency(0);
  });
});

describe('MarzneshinSimulator: control routes over HTTP', () => {
  const { sim, token, read, control } = harness({ users: 20 });
  let bearer = '';
  before(async () => {
    await sim.start();
    bearer = await token();
  });
  after(() => sim.stop());

  it('adds, shows, sets usage of, resets and removes users; expires tokens; reports state', async () => {
    assert.equal((await control('users', { username: 'http_user', data_limit: 1000 })).status, 200);
    assert.equal((await control('usage', { username: 'http_user', bytes: 5000 })).status, 200);
    const shown = (await (await control('users/http_user', undefined, 'GET')).json()) as MarzneshinUser;
    assert.equal(shown.used_traffic, 5000);
    assert.equal(shown.data_limit_reached, true);
    assert.equal((await read('http_user', bearer)).used_traffic, 5000);
    assert.equal((await control('usage/reset', { username: 'http_user' })).status, 200);
    assert.equal(sim.usage('http_user'), 0);
    assert.equal((await control('users/http_user', undefined, 'DELETE')).status, 200);
    assert.equal((await control('users/http_user', undefined, 'GET')).status, 404);
    assert.equal((await control('usage', { username: 'http_user', bytes: 1 })).status, 400);
    assert.equal((await control('faults', { errorRate: 2 })).status, 400);
    assert.equal((await control('faults', { latencyMs: 5 })).status, 200);
    assert.equal(sim.faults.latencyMs, 5);
    assert.equal((await control('faults', undefined, 'DELETE')).status, 200);
    assert.equal((await control('tokens/expire')).status, 200);
    const state = (await (await control('state', undefined, 'GET')).json()) as Record<string, unknown>;
    assert.equal(state.liveTokens, 0);
    assert.equal(state.dead, false);
    assert.deepEqual(state.users, { generated: 20, added: 0, removed: 1, seen: 0 });
    assert.equal((state.counters as { requests: number }).requests, sim.counters.requests);
  });
});

describe('MarzneshinSimulator: a non-sudo admin', () => {
  it('gets 403 "You\'re not allowed" for a user the panel lacks, as the real dependency checks ownership first', async () => {
    const { sim, token, getUser } = harness({ users: 5, sudo: false });
    await sim.start();
    try {
      const bearer = await token();
      assert.equal((await getUser('user1', bearer)).status, 200);
      const missing = await getUser('user6', bearer);
      assert.equal(missing.status, 403);
      assert.deepEqual(await missing.json(), { detail: "You're not allowed" });
    } finally {
      await sim.stop();
    }
  });
});

describe('MarzneshinSimulator: 10,000 users at a few hundred requests a second', () => {
  it('serves reads spread over 10,000 users at concurrency 32, holding state only for the users seen', async () => {
    const { sim, token } = harness({ users: 10_000 });
    await sim.start();
    try {
      const bearer = await token();
      // Every 5th user, so the population is 10,000 but the test stays quick (the client, fetch, is the slow side).
      const names = Array.from({ length: 2000 }, (_, i) => sim.username(5 * i + 5));
      const started = performance.now();
      const worker = async () => {
        for (let name = names.pop(); name !== undefined; name = names.pop()) {
          const res = await fetch(`${sim.url}/api/users/${name}`, { headers: { authorization: `Bearer ${bearer}` } });
          assert.equal(res.status, 200);
          await res.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      const perSecond = 2000 / ((performance.now() - started) / 1000);
      assert.equal(sim.counters.usageReads, 2000);
      assert.ok(perSecond > 200, `${Math.round(perSecond)} requests/s`);
      const state = (await (await fetch(`${sim.url}/__simulator/state`)).json()) as { users: { seen: number } };
      assert.equal(state.users.seen, 2000, 'users never asked about cost nothing');
      assert.equal(sim.user('user10000')?.id, 10_000);
      assert.equal(sim.user('user10001'), null);
    } finally {
      await sim.stop();
    }
  });
});
