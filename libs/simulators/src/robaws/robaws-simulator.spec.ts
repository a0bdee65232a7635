import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RobawsSimulator } from './robaws-simulator';
import { RobawsClient } from './client-generator';

interface Page {
  items: RobawsClient[];
  page: number;
  size: number;
  totalItems: number;
  totalPages: number;
}

/** A webhook receiver answering the statuses given in turn (the last one repeats), keeping what it received. */
async function receiver(statuses: number[]) {
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(statuses[Math.min(received.length - 1, statuses.length - 1)]);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The receiver's side of the signature, written from the reference, not from the simulator's code. */
function verify(secret: string, header: string, rawBody: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const expected = createHmac('sha256', secret).update(`${parts.t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('RobawsSimulator speaks Robaws API v2 over HTTP', () => {
  const sim = new RobawsSimulator({
    clients: 250,
    seed: 5,
    rateLimit: { enabled: false },
    webhookRetryDelaysMs: [20, 20],
  });
  let url = '';
  const basic = `Basic ${Buffer.from(`${sim.apiKey}:${sim.apiSecret}`).toString('base64')}`;
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${url}/api/v2${path}`, { ...init, headers: { authorization: basic, ...(init.headers ?? {}) } });
  const patch = (id: number, body: unknown, contentType = 'application/merge-patch+json') =>
    call(`/clients/${id}`, { method: 'PATCH', headers: { 'content-type': contentType }, body: JSON.stringify(body) });

  before(async () => {
    url = await sim.start();
  });
  after(() => sim.stop());

  it('pages clients 0-based with {items, page, size, totalItems, totalPages}, size at most 100', async () => {
    const first = (await (await call('/clients?page=0&size=100')).json()) as Page;
    assert.equal(first.totalItems, 250);
    assert.equal(first.totalPages, 3);
    assert.equal(first.items.length, 100);
    const last = (await (await call('/clients?page=2&size=100')).json()) as Page;
    assert.equal(last.items.length, 50);
    const ids = [...first.items, ...last.items].map((c) => c.id);
    assert.equal(new Set(ids).size, 150);
    assert.deepEqual(
      ((await (await call('/clients')).json()) as Page).items.map((c) => c.id),
      first.items.slice(0, 10).map((c) => c.id),
      'default size 10, default order by id',
    );
    const tooBig = await call('/clients?size=101');
    assert.equal(tooBig.status, 400);
    const body = (await tooBig.json()) as Record<string, unknown>;
    assert.equal(body.status, 400);
    assert.equal(body.error, 'Bad Request');
    assert.equal(body.path, '/api/v2/clients');
  });

  it('sorts by sort=field:dir, and refuses an unknown sort property', async () => {
    const page = (await (await call('/clients?size=100&page=0&sort=updatedAt:desc')).json()) as Page;
    const newest = sim
      .clients()
      .map((c) => c.updatedAt)
      .sort()
      .reverse()
      .slice(0, 100);
    assert.deepEqual(
      page.items.map((c) => c.updatedAt),
      newest,
    );
    assert.equal((await call('/clients?sort=colour:asc')).status, 400);
  });

  it('generates messy but plausible clients: roles on most, phones and VAT numbers in several countries', () => {
    const all = sim.clients();
    const countries = new Set(all.map((c) => c.address.country));
    for (const country of ['BE', 'NL', 'FR', 'DE']) assert.ok(countries.has(country), country);
    const withoutRole = all.filter((c) => !c.extraFields.Role).length;
    assert.ok(withoutRole > 0 && withoutRole < all.length / 4, `${withoutRole} without a role`);
    assert.ok(
      all.some((c) => c.vatNumber && !/^[A-Z]{2}\d/.test(c.vatNumber)),
      'some VAT numbers are messy',
    );
    assert.ok(
      all.some((c) => c.tel?.startsWith('0')),
      'some phones are national',
    );
    assert.deepEqual(new RobawsSimulator({ clients: 3, seed: 5 }).client(1002), sim.client(1002));
    assert.notDeepEqual(new RobawsSimulator({ clients: 3, seed: 6 }).client(1002), sim.client(1002));
  });

  it('writes Belgian VAT numbers with right check digits (mod 97), a few with a typo, and phones a parser accepts', () => {
    const belgian = sim
      .clients()
      .filter((c) => c.address.country === 'BE' && c.vatNumber)
      .map((c) => c.vatNumber!.replace(/\D/g, ''));
    const valid = belgian.filter((n) => n.length === 10 && 97 - (Number(n.slice(0, 8)) % 97) === Number(n.slice(8)));
    assert.ok(valid.length >= belgian.length * 0.9, `${valid.length} of ${belgian.length} valid`);
    const unparseable = sim.clients().filter((c) => c.tel && !/\d/.test(c.tel));
    assert.ok(unparseable.length > 0, 'some phones are not numbers at all');
  });

  it('filters by updatedFrom (equal or later) and moves updatedAt when a client changes', async () => {
    const before = sim.client(1010)!;
    const from = new Date(Date.now() - 1000).toISOString();
    assert.equal(((await (await call(`/clients?updatedFrom=${from}`)).json()) as Page).totalItems, 0);
    const changed = sim.updateClient(1010, { email: 'new@one.example' });
    assert.ok(changed.updatedAt > before.updatedAt);
    const since = (await (await call(`/clients?updatedFrom=${encodeURIComponent(changed.updatedAt)}`)).json()) as Page;
    assert.deepEqual(
      since.items.map((c) => [c.id, c.email]),
      [[1010, 'new@one.example']],
    );
    assert.equal((await call('/clients?updatedFrom=yesterday')).status, 400);
  });

  it('applies a merge-patch: only the fields sent, null removes, extraFields merge; json too; 415 otherwise', async () => {
    const original = sim.client(1020)!;
    const res = await patch(1020, {
      tel: '+32 9 000 00 00',
      website: null,
      extraFields: { Role: { stringValue: 'FORWARDER' } },
    });
    assert.equal(res.status, 200);
    const patched = (await res.json()) as RobawsClient;
    assert.equal(patched.tel, '+32 9 000 00 00');
    assert.equal('website' in patched, false);
    assert.equal(patched.extraFields.Role.stringValue, 'FORWARDER');
    assert.equal(patched.extraFields.Role.type, original.extraFields.Role?.type ?? undefined);
    assert.equal(patched.name, original.name);
    assert.deepEqual(patched.address, original.address);
    assert.ok(patched.updatedAt > original.updatedAt);
    assert.deepEqual(sim.client(1020), patched);
    assert.equal((await patch(1020, { gsm: '0471 00 00 00' }, 'application/json')).status, 200);
    const wrong = await patch(1020, { gsm: 'x' }, 'text/plain');
    assert.equal(wrong.status, 415);
    assert.equal(((await wrong.json()) as { error: string }).error, 'Unsupported Media Type');
    assert.equal((await patch(1020, { name: null })).status, 400, 'a client keeps its name');
    assert.equal((await patch(99999, { name: 'x' })).status, 404);
    assert.deepEqual(
      sim.patches.filter((p) => p.clientId === 1020).map((p) => [p.contentType, p.status]),
      [
        ['application/merge-patch+json', 200],
        ['application/json', 200],
        ['text/plain', 415],
        ['application/merge-patch+json', 400],
      ],
    );
  });

  it('applies a JSON Patch (add, replace, remove) and refuses an unknown operation with 400', async () => {
    const res = await patch(
      1025,
      [
        { op: 'replace', path: '/email', value: 'ops@one.example' },
        { op: 'add', path: '/extraFields/Role', value: { type: 'SELECT', group: null, stringValue: 'SUPPLIER' } },
        { op: 'remove', path: '/gsm' },
      ],
      'application/json-patch+json',
    );
    assert.equal(res.status, 200);
    const patched = (await res.json()) as RobawsClient;
    assert.deepEqual(
      [patched.email, patched.extraFields.Role.stringValue, 'gsm' in patched],
      ['ops@one.example', 'SUPPLIER', false],
    );
    const bad = await patch(1025, [{ op: 'move', from: '/tel', path: '/gsm' }], 'application/json-patch+json');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /move/);
  });

  it('changes clients through the controls: one by id, or a number spread over the ids; unknown ids are 404', async () => {
    const one = await fetch(`${url}/__simulator/clients/1050`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extraFields: { Role: null } }),
    });
    assert.equal(one.status, 200);
    assert.equal('Role' in sim.client(1050)!.extraFields, false);
    const spread = await fetch(`${url}/__simulator/change`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 20 }),
    });
    const { changed } = (await spread.json()) as { changed: number[] };
    assert.equal(new Set(changed).size, 20);
    assert.ok(changed[19] - changed[0] > 150, 'spread over the ids, not the first page only');
    const latest = sim.client(changed[0])!.updatedAt;
    const page = (await (await call(`/clients?size=100&updatedFrom=${encodeURIComponent(latest)}`)).json()) as Page;
    assert.deepEqual(page.items.map((c) => c.id).sort(), [...changed].sort());
    assert.equal((await fetch(`${url}/__simulator/clients/1`, { method: 'POST' })).status, 404);
    const state = (await (await fetch(`${url}/__simulator/state`)).json()) as { clients: number };
    assert.equal(state.clients, 250);
    sim.removeClient(1050);
    assert.equal((await call('/clients/1050')).status, 404, 'a removed client is gone');
    assert.equal(sim.clientCount, 249);
    assert.throws(() => sim.removeClient(1050), /No Robaws client 1050/);
  });

  it('refuses a missing or wrong Basic credential with a Spring 401, and an unknown client with 404', async () => {
    const anonymous = await fetch(`${url}/api/v2/clients`);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: string }).error, 'Unauthorized');
    const wrong = await fetch(`${url}/api/v2/clients`, {
      headers: { authorization: `Basic ${Buffer.from(`${sim.apiKey}:nope`).toString('base64')}` },
    });
    assert.equal(wrong.status, 401);
    const missing = await call('/clients/4242424');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { path: string }).path, '/api/v2/clients/4242424');
  });

  it('registers, lists and deletes webhook endpoints; the secret is in the creation answer only', async () => {
    const created = await call('/webhook-endpoints', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', events: ['client.created', 'client.updated'] }),
    });
    assert.equal(created.status, 201);
    const endpoint = (await created.json()) as { id: string; secret: string };
    assert.ok(endpoint.secret.length >= 32);
    const listed = (await (await call('/webhook-endpoints')).json()) as { items: Array<Record<string, unknown>> };
    assert.deepEqual(
      listed.items.map((e) => [e.id, 'secret' in e]),
      [[endpoint.id, false]],
    );
    assert.equal((await call(`/webhook-endpoints/${endpoint.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await call(`/webhook-endpoints/${endpoint.id}`, { method: 'DELETE' })).status, 404);
    const invalid = await call('/webhook-endpoints', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'not a url', events: ['client.updated'] }),
    });
    assert.equal(invalid.status, 400);
  });

  it('delivers a change signed t=…,v1=hex(HMAC-SHA256(secret, t.body)) with the full client', async () => {
    const hook = await receiver([200]);
    const endpoint = sim.registerWebhook(hook.url, ['client.updated']);
    try {
      await patch(1030, { email: 'signed@one.example' });
      await sim.deliveriesSettled();
      assert.equal(hook.received.length, 1);
      const { headers, body } = hook.received[0];
      assert.equal(headers['content-type'], 'application/json');
      const signature = String(headers['robaws-signature']);
      assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
      assert.ok(verify(endpoint.secret, signature, body));
      assert.equal(verify('another secret', signature, body), false);
      const t = Number(/t=(\d+)/.exec(signature)![1]);
      assert.ok(Math.abs(t - Date.now() / 1000) < 5);
      const event = JSON.parse(body) as { id: string; event: string; data: RobawsClient };
      assert.equal(event.event, 'client.updated');
      assert.deepEqual(event.data, sim.client(1030));
      const delivery = sim.deliveries.find((d) => d.id === event.id)!;
      assert.equal(delivery.delivered, true);
      sim.createClient({ name: 'Not subscribed BV' });
      await sim.deliveriesSettled();
      assert.equal(hook.received.length, 1, 'client.created was not subscribed to');
    } finally {
      for (const e of sim.webhookEndpoints()) await call(`/webhook-endpoints/${e.id}`, { method: 'DELETE' });
      await hook.close();
    }
  });

  it('retries a delivery answered non-2xx, and gives up after the configured retries', async () => {
    const flaky = await receiver([500, 503, 200]);
    const down = await receiver([500]);
    const a = sim.registerWebhook(flaky.url);
    sim.registerWebhook(down.url);
    try {
      sim.updateClient(1040, { gsm: null });
      await sim.deliveriesSettled();
      assert.equal(flaky.received.length, 3);
      assert.equal(new Set(flaky.received.map((r) => JSON.parse(r.body).id)).size, 1, 'one delivery id throughout');
      assert.ok(flaky.received.every((r) => verify(a.secret, String(r.headers['robaws-signature']), r.body)));
      assert.equal(down.received.length, 3, 'one attempt and two retries');
      const log = sim.deliveries.filter((d) => d.clientId === 1040);
      assert.deepEqual(
        log.map((d) => [d.url, d.delivered, d.attempts.map((x) => x.status)]),
        [
          [flaky.url, true, [500, 503, 200]],
          [down.url, false, [500, 500, 500]],
        ],
      );
    } finally {
      for (const e of sim.webhookEndpoints()) await call(`/webhook-endpoints/${e.id}`, { method: 'DELETE' });
      await flaky.close();
      await down.close();
    }
  });

  it('injects transport faults: 429 with Retry-After, 5xx, latency; settable over HTTP', async () => {
    sim.setFaults({ rateLimitRate: 1, retryAfterSeconds: 2 });
    const limited = await call('/clients');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '2');
    sim.setFaults({ rateLimitRate: 0, errorRate: 1 });
    const failed = await call('/clients');
    assert.equal(failed.status, 500);
    assert.equal(((await failed.json()) as { error: string }).error, 'Internal Server Error');
    sim.setFaults({ errorRate: 0, latencyMs: 60 });
    const started = Date.now();
    assert.equal((await call('/clients')).status, 200);
    assert.ok(Date.now() - started >= 55, 'latency injected');
    const control = await fetch(`${url}/__simulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 0.5 }),
    });
    assert.equal(((await control.json()) as { errorRate: number }).errorRate, 0.5);
    sim.clearFaults();
    assert.ok(sim.counters.rateLimited >= 1);
    assert.ok(sim.counters.patches >= 4);
  });
});

describe('RobawsSimulator rate limit: a token bucket of 15/s with a burst of 20', () => {
  let clock = 1_700_000_000_000;
  const sim = new RobawsSimulator({ clients: 5, now: () => clock });
  let url = '';
  const basic = `Basic ${Buffer.from(`${sim.apiKey}:${sim.apiSecret}`).toString('base64')}`;
  const get = () => fetch(`${url}/api/v2/clients/1001`, { headers: { authorization: basic } });

  before(async () => {
    url = await sim.start();
  });
  after(() => sim.stop());

  it('serves a burst of 20 counting x-ratelimit-remaining down, then 429 until tokens refill at 15/s', async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await get();
      assert.equal(res.status, 200);
      remaining.push(res.headers.get('x-ratelimit-remaining')!);
    }
    assert.deepEqual(
      remaining,
      Array.from({ length: 20 }, (_, i) => String(19 - i)),
    );
    const refused = await get();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(((await refused.json()) as { error: string }).error, 'Too Many Requests');
    assert.equal(sim.counters.rateLimited, 1);
    clock += 200; // 3 tokens at 15/s
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get()).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });

  it('scales, and switches off', async () => {
    sim.setRateLimit({ scale: 2 });
    let served = 0;
    while ((await get()).status === 200) served++;
    assert.equal(served, 40);
    sim.setRateLimit({ enabled: false });
    const res = await get();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-ratelimit-remaining'), null);
  });
});

describe('RobawsSimulator stop', () => {
  it('ends the retries still waiting, so deliveriesSettled() resolves', async () => {
    const down = await receiver([500]);
    const sim = new RobawsSimulator({ clients: 3, webhookRetryDelaysMs: [60_000] });
    await sim.start();
    try {
      sim.registerWebhook(down.url);
      sim.updateClient(1001, { name: 'Renamed NV' });
      while (down.received.length === 0) await new Promise((r) => setTimeout(r, 10));
      await sim.stop();
      const started = Date.now();
      await sim.deliveriesSettled();
      assert.ok(Date.now() - started < 1000);
      assert.deepEqual(
        sim.deliveries.map((d) => [d.delivered, d.attempts.length]),
        [[false, 1]],
      );
    } finally {
      await sim.stop();
      await down.close();
    }
  });
});
