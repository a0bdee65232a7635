import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { EYLANDOO_FIELD_SHAPES, EylandooFieldShape, EylandooSimulator } from './eylandoo-simulator';
import { vpnUsername } from './vpn-users';

type Answer = Record<string, Record<string, unknown> | undefined> & { success?: boolean; message?: string };

/** Seed 004's fallback chain, written from its log lines (not from the simulator): the bytes and where they came from. */
function seedUsage(body: Answer): { bytes: number; source: string } {
  const info = body.userInfo ?? {};
  if (typeof info.total_traffic_bytes === 'number')
    return { bytes: info.total_traffic_bytes, source: 'userInfo.total_traffic_bytes' };
  if (typeof info.upload_bytes === 'number' && typeof info.download_bytes === 'number')
    return { bytes: info.upload_bytes + info.download_bytes, source: 'userInfo.upload_bytes + download_bytes' };
  const data = body.data ?? {};
  if (typeof data.data_used === 'number') return { bytes: data.data_used, source: 'data.data_used' };
  return { bytes: 0, source: 'no traffic data fields found' };
}

const SOURCES: Record<EylandooFieldShape, string> = {
  total_traffic_bytes: 'userInfo.total_traffic_bytes',
  upload_download: 'userInfo.upload_bytes + download_bytes',
  data_used: 'data.data_used',
  none: 'no traffic data fields found',
};

function client(sim: EylandooSimulator) {
  const get = (username: string, key: string | null = sim.apiKey, init: RequestInit = {}) =>
    fetch(sim.userUrl(username), { ...init, headers: key === null ? {} : { 'x-api-key': key } });
  const read = async (username: string): Promise<Answer> => {
    const res = await get(username);
    assert.equal(res.status, 200, `GET ${username}`);
    return (await res.json()) as Answer;
  };
  const control = (route: string, body?: unknown, method = 'POST') =>
    fetch(`${sim.url}/__simulator/${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return { get, read, control };
}

describe('EylandooSimulator: the inferred user lookup', () => {
  const sim = new EylandooSimulator({ seed: 11 });
  const { get, read } = client(sim);
  before(() => sim.start());
  after(() => sim.stop());

  it('wants the panel key in X-API-Key: none is 401, a wrong one 403, both {success:false}', async () => {
    const none = await get('alice', null);
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), { success: false, message: 'API key required' });
    const wrong = await get('alice', 'not-the-key');
    assert.equal(wrong.status, 403);
    assert.deepEqual(await wrong.json(), { success: false, message: 'Invalid API key' });
    assert.equal(sim.counters.unauthorized, 2);
    assert.equal(sim.counters.reads, 0, 'a refused request reads nobody');
    assert.equal((await get('alice')).status, 200);
    assert.equal(sim.counters.reads, 1);
  });

  it('answers each field shape so that the seed’s chain finds the usage where the shape puts it', async () => {
    for (const shape of EYLANDOO_FIELD_SHAPES) {
      const username = `shape-${shape}`;
      sim.setUserShape(username, shape);
      const before = sim.user(username)!.usedBytes;
      const body = await read(username);
      assert.equal(body.success, true);
      assert.equal(body.userInfo?.username, username);
      const found = seedUsage(body);
      assert.equal(found.source, SOURCES[shape], shape);
      assert.equal(found.bytes, shape === 'none' ? 0 : before, shape);
    }
  });

  it('keeps each shape to its own fields: no total beside upload/download, no traffic in userInfo for data_used', async () => {
    sim.setUserShape('split', 'upload_download');
    const split = (await read('split')).userInfo!;
    assert.equal(split.total_traffic_bytes, undefined);
    assert.ok(Number.isInteger(split.upload_bytes) && Number.isInteger(split.download_bytes));
    assert.ok((split.download_bytes as number) > (split.upload_bytes as number), 'downloads outweigh uploads');
    sim.setUserShape('legacy', 'data_used');
    const legacy = await read('legacy');
    for (const field of ['total_traffic_bytes', 'upload_bytes', 'download_bytes'])
      assert.equal(legacy.userInfo?.[field], undefined, field);
    assert.ok(legacy.userInfo, 'a userInfo without traffic: the chain must look for fields, not objects');
    sim.setUserShape('bare', 'none');
    const bare = await read('bare');
    assert.deepEqual(bare.data, { username: 'bare' });
  });

  it('answers 404 {success:false} for an unknown user, and a removed one stays unknown until added again', async () => {
    assert.equal((await get('bob')).status, 200);
    assert.equal(sim.removeUser('bob'), true);
    const gone = await get('bob');
    assert.equal(gone.status, 404);
    assert.deepEqual(await gone.json(), { success: false, message: 'User not found' });
    sim.addUser('bob', { usedBytes: 1234, shape: 'total_traffic_bytes' });
    assert.equal((await read('bob')).userInfo?.total_traffic_bytes, 1234);
  });

  it('answers a path it does not serve with Flask’s HTML 404, not the JSON of an unknown user', async () => {
    const res = await fetch(`${sim.url}/api/v2/users/alice`, { headers: { 'x-api-key': sim.apiKey } });
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /<title>404 Not Found<\/title>/);
    const post = await fetch(sim.userUrl('alice'), { method: 'POST', headers: { 'x-api-key': sim.apiKey } });
    assert.equal(post.status, 405);
  });

  it('decodes the username from the path (a URL-encoded one is the same user)', async () => {
    sim.addUser('m.rossi@shop', { usedBytes: 42, shape: 'total_traffic_bytes' });
    assert.equal((await read('m.rossi@shop')).userInfo?.total_traffic_bytes, 42);
    assert.equal(sim.routeCount('POST /api/v1/users/:username'), 1);
    assert.equal(sim.routeCount('GET (no route)'), 1);
    assert.equal(sim.routeCount('GET /api/v1/users/:username'), sim.counters.requests - 2);
  });
});

describe('EylandooSimulator: usage grows between reads; resets and overrides', () => {
  const sim = new EylandooSimulator({ seed: 3, shapeWeights: { total_traffic_bytes: 1 } });
  const { read, control } = client(sim);
  before(() => sim.start());
  after(() => sim.stop());
  const usage = async (username: string) => (await read(username)).userInfo!.total_traffic_bytes as number;

  it('adds the user’s own deterministic increment after every read', async () => {
    const step = sim.user('carol')!.growthPerRead;
    assert.ok(step > 0);
    const first = await usage('carol');
    assert.equal(await usage('carol'), first + step);
    assert.equal(await usage('carol'), first + 2 * step);
    assert.equal(new EylandooSimulator({ seed: 3 }).user('carol')!.growthPerRead, step, 'same seed, same step');
  });

  it('answers a setUsage() exactly once, then grows from it; a reset starts again from 0', async () => {
    sim.setGrowth(1000);
    sim.setUsage('dave', 5_000_000);
    assert.equal(await usage('dave'), 5_000_000);
    assert.equal(await usage('dave'), 5_001_000);
    const lifetime = sim.user('dave')!.lifetimeBytes;
    sim.resetUsage('dave');
    assert.equal(await usage('dave'), 0);
    assert.equal(await usage('dave'), 1000);
    assert.ok(sim.user('dave')!.lifetimeBytes >= lifetime + 1000, 'a reset keeps lifetime traffic');
    sim.setGrowth(0);
    assert.equal(await usage('dave'), await usage('dave'), 'growth 0 freezes usage');
    sim.setGrowth(null);
  });

  it('takes the same changes over the control routes', async () => {
    assert.equal((await control('growth', { bytesPerRead: 7 })).status, 200);
    assert.equal((await control('users/erin/usage', { bytes: 100 })).status, 200);
    assert.equal(await usage('erin'), 100);
    assert.equal(await usage('erin'), 107);
    assert.equal((await control('users/erin/reset')).status, 200);
    assert.equal(await usage('erin'), 0);
    assert.equal((await control('users/erin/shape', { shape: 'data_used' })).status, 200);
    assert.equal((await read('erin')).data?.data_used, 7);
    assert.equal((await control('users', { username: 'frank', usedBytes: 9, shape: 'upload_download' })).status, 201);
    assert.equal(seedUsage(await read('frank')).bytes, 9);
    assert.equal((await control('users/frank', undefined, 'DELETE')).status, 200);
    assert.equal((await client(sim).get('frank')).status, 404);
    assert.equal((await control('users/erin/usage', { bytes: -1 })).status, 400);
    const state = (await (await control('state', undefined, 'GET')).json()) as Record<string, unknown>;
    assert.equal(state.growBytesPerRead, 7);
    assert.deepEqual(state.paths, { user: '/api/v1/users/{username}' });
  });
});

describe('EylandooSimulator: users and shapes are deterministic from (seed, username)', () => {
  it('gives the same users the same usage and shape for a seed, and other ones for another seed', () => {
    const names = Array.from({ length: 200 }, (_, i) => vpnUsername(i + 1));
    const a = new EylandooSimulator({ seed: 21 });
    const b = new EylandooSimulator({ seed: 21 });
    const c = new EylandooSimulator({ seed: 22 });
    const view = (sim: EylandooSimulator) => names.map((n) => [sim.user(n)!.usedBytes, sim.userShape(n)]);
    assert.deepEqual(view(a), view(b));
    assert.notDeepEqual(view(a), view(c));
    const counts = new Map<string, number>();
    for (const n of names) counts.set(a.userShape(n)!, (counts.get(a.userShape(n)!) ?? 0) + 1);
    for (const shape of EYLANDOO_FIELD_SHAPES) assert.ok((counts.get(shape) ?? 0) > 0, `some users get ${shape}`);
    assert.ok(counts.get('total_traffic_bytes')! > counts.get('none')!, 'the first shape is the common one');
  });

  it('follows shapeWeights, and generates nobody when auto-creation is off', async () => {
    const legacy = new EylandooSimulator({ shapeWeights: { data_used: 1 } });
    assert.ok([1, 2, 3, 4, 5].every((i) => legacy.userShape(vpnUsername(i)) === 'data_used'));
    assert.throws(() => new EylandooSimulator({ shapeWeights: { none: 0 } }), /at least one of them positive/);
    const closed = new EylandooSimulator({ autoCreateUsers: false });
    await closed.start();
    try {
      const res = await fetch(closed.userUrl('alice'), { headers: { 'x-api-key': closed.apiKey } });
      assert.equal(res.status, 404);
      closed.addUser('alice');
      const again = await fetch(closed.userUrl('alice'), { headers: { 'x-api-key': closed.apiKey } });
      assert.equal(again.status, 200);
      assert.equal(closed.userCount, 1);
    } finally {
      await closed.stop();
    }
  });
});

describe('EylandooSimulator: configurable paths', () => {
  const sim = new EylandooSimulator({ paths: { user: '/panel/api/user/{username}/info' }, apiKey: 'k-1' });
  before(() => sim.start());
  after(() => sim.stop());

  it('serves the user at the configured path only', async () => {
    const res = await fetch(`${sim.url}/panel/api/user/alice/info`, { headers: { 'x-api-key': 'k-1' } });
    assert.equal(res.status, 200);
    assert.equal(sim.userUrl('a b'), `${sim.url}/panel/api/user/a%20b/info`);
    const old = await fetch(`${sim.url}/api/v1/users/alice`, { headers: { 'x-api-key': 'k-1' } });
    assert.equal(old.status, 404);
    assert.equal(sim.routeCount('GET /panel/api/user/:username/info'), 1);
    assert.throws(() => new EylandooSimulator({ paths: { user: '/api/users' } }), /\{username\} once/);
  });
});

describe('EylandooSimulator: latency, faults and the dead switch', () => {
  const sim = new EylandooSimulator({ seed: 5, latencyMs: 40 });
  const { get, control } = client(sim);
  before(() => sim.start());
  after(() => sim.stop());
  afterEach(async () => {
    sim.resetFaults();
    await sim.setDead(null);
  });

  it('waits the panel’s latency on every request, and serves many at once', async () => {
    const started = Date.now();
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => get(vpnUsername(i + 1))));
    const elapsed = Date.now() - started;
    assert.ok(
      all.every((r) => r.status === 200),
      'all served',
    );
    assert.ok(elapsed >= 40, `at least the latency (${elapsed} ms)`);
    assert.ok(elapsed < 20 * 40, `concurrently, not one after the other (${elapsed} ms)`);
    assert.equal(sim.counters.maxInFlight, 20);
    assert.equal(sim.counters.inFlight, 0);
  });

  it('answers an errorRate fault with the panel’s HTML 500 (longer than a 200-character preview) or the proxy’s page', async () => {
    sim.setFaults({ errorRate: 1 });
    const res = await get('alice');
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.ok(text.length > 200 && text.includes('Internal Server Error'));
    sim.setFaults({ errorStatus: 503 });
    const proxy = await get('alice');
    assert.equal(proxy.status, 503);
    assert.match(await proxy.text(), /<center>nginx<\/center>/);
    sim.setFaults({ errorRate: 0, rateLimitRate: 1, retryAfterSeconds: 3 });
    const throttled = await get('alice');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '3');
    assert.equal(sim.counters.faulted, 3);
    assert.throws(() => sim.setFaults({ errorRate: 2 }), /0\.\.1/);
  });

  it('draws a partial errorRate from the seed: the same requests fail every run', async () => {
    const run = async () => {
      sim.setFaults({ errorRate: 0.5 });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await get('alice')).status);
      return statuses;
    };
    const first = await run();
    assert.deepEqual(await run(), first);
    assert.ok(first.includes(500) && first.includes(200));
  });

  it('holds a request past the client’s timeout (hangNext), and resetFaults() lets held ones go', async () => {
    sim.setFaults({ hangNext: 1 });
    await assert.rejects(get('alice', sim.apiKey, { signal: AbortSignal.timeout(150) }), { name: 'TimeoutError' });
    assert.equal(sim.counters.held, 1);
    assert.equal((await get('alice')).status, 200, 'only the next one hangs');
    sim.setFaults({ timeoutRate: 1, hangMs: 0 });
    const held = get('alice');
    await new Promise((r) => setTimeout(r, 60));
    sim.resetFaults();
    assert.equal((await held).status, 200);
  });

  it('dies as a 502 for every request, or by refusing connections, and comes back on the same URL', async () => {
    assert.equal((await control('dead', { mode: 'error' })).status, 200);
    const dead = await get('alice');
    assert.equal(dead.status, 502);
    assert.match(await dead.text(), /502 Bad Gateway/);
    assert.equal(sim.counters.deadAnswers, 1);
    const url = sim.url;
    await sim.setDead('refuse');
    // A kept-alive connection may fail first as a closed socket; a fresh connection is refused.
    await assert.rejects(get('alice'), TypeError);
    await assert.rejects(get('alice'), (err: Error & { cause?: { code?: string } }) => {
      assert.equal(err.cause?.code, 'ECONNREFUSED');
      return true;
    });
    await sim.setDead(null);
    assert.equal(sim.url, url);
    assert.equal((await get('alice')).status, 200);
    assert.equal((await control('dead', { mode: 'refuse' })).status, 400, 'refuse cannot be undone over HTTP');
  });
});

describe('EylandooSimulator: cheap at bench scale', () => {
  const sim = new EylandooSimulator({ seed: 8, latencyMs: 50 });
  before(() => sim.start());
  after(() => sim.stop());

  it('serves 1,000 users with 50 ms latency 50 at a time in a fraction of the serial time, holding only those asked', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => vpnUsername(i + 1));
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < names.length) {
          const res = await fetch(sim.userUrl(names[next++]), { headers: { 'x-api-key': sim.apiKey } });
          assert.equal(res.status, 200);
          await res.arrayBuffer();
        }
      }),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5000, `1,000 × 50 ms served in ${elapsed} ms (serially: 50,000 ms)`);
    assert.equal(sim.counters.reads, 1000);
    assert.equal(sim.counters.maxInFlight, 50);
    assert.equal(sim.userCount, 1000, 'users exist only once asked for');
    const tenThousand = new EylandooSimulator({ seed: 8 });
    for (let i = 1; i <= 10_000; i++) tenThousand.user(vpnUsername(i));
    assert.equal(tenThousand.userCount, 10_000);
  });
});
