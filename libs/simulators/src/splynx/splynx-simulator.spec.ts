import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SplynxSimulator } from './splynx-simulator';

describe('SplynxSimulator speaks Splynx API 2.0 over HTTP', () => {
  const sim = new SplynxSimulator({ customers: 25, seed: 9 });
  let url = '';
  const basic = `Basic ${Buffer.from(`${sim.apiKey}:${sim.apiSecret}`).toString('base64')}`;
  const get = (path: string, init: RequestInit = {}) =>
    fetch(`${url}/api/2.0/admin${path}`, { ...init, headers: { authorization: basic, ...(init.headers ?? {}) } });

  before(async () => {
    url = await sim.start();
  });
  after(() => sim.stop());

  it('lists customers as a bare array with string-typed numbers, and counts them with HEAD', async () => {
    const res = await get('/customers/customer?limit=10&offset=20');
    assert.equal(res.status, 200);
    const body = (await res.json()) as Array<Record<string, unknown>>;
    assert.ok(Array.isArray(body));
    assert.deepEqual(
      body.map((c) => c.id),
      ['21', '22', '23', '24', '25'],
    );
    assert.equal(typeof body[0].partner_id, 'string');
    const head = await get('/customers/customer', { method: 'HEAD' });
    assert.equal(head.status, 204);
    assert.equal(head.headers.get('x-total-count'), '25');
  });

  it('issues 30-minute access tokens for a valid API-key signature (201), and refuses a bad one', async () => {
    const nonce = 171234567801;
    const signature = createHmac('sha256', sim.apiSecret).update(`${nonce}${sim.apiKey}`).digest('hex').toUpperCase();
    const res = await fetch(`${url}/api/2.0/admin/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth_type: 'api_key', key: sim.apiKey, nonce, signature }),
    });
    assert.equal(res.status, 201);
    const token = (await res.json()) as {
      access_token: string;
      access_token_expiration: number;
      refresh_token: string;
    };
    assert.ok(Math.abs(token.access_token_expiration - (Math.floor(Date.now() / 1000) + 1800)) <= 2);
    const ok = await fetch(`${url}/api/2.0/admin/customers/customer/3`, {
      headers: { authorization: `Splynx-EA (access_token=${token.access_token})` },
    });
    assert.equal(((await ok.json()) as { id: string }).id, '3');
    const bad = await fetch(`${url}/api/2.0/admin/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth_type: 'api_key', key: sim.apiKey, nonce, signature: 'F00' }),
    });
    assert.equal(bad.status, 401);
    assert.deepEqual(await bad.json(), {
      error: { message: 'Invalid API key or signature', code: 401, internal_code: 'INVALID_USER' },
    });
  });

  it('answers 422 with field errors for invalid input, and the error envelope for unknown ids and missing auth', async () => {
    const invalid = await get('/customers/customer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'x' }),
    });
    assert.equal(invalid.status, 422);
    assert.deepEqual(
      ((await invalid.json()) as Array<{ field: string }>).map((e) => e.field),
      ['name', 'partner_id', 'location_id'],
    );
    const missing = await get('/customers/customer/9999');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { internal_code: string } }).error.internal_code, 'NOT_FOUND');
    const anonymous = await fetch(`${url}/api/2.0/admin/customers/customer`);
    assert.equal(
      ((await anonymous.json()) as { error: { internal_code: string } }).error.internal_code,
      'MISSED_AUTHORIZATION_HEADER',
    );
  });

  it('refuses a replayed signature nonce', async () => {
    const nonce = Math.floor(Date.now() / 10);
    const header = `Splynx-EA (key=${sim.apiKey}&nonce=${nonce}&signature=${createHmac('sha256', sim.apiSecret).update(`${nonce}${sim.apiKey}`).digest('hex').toUpperCase()})`;
    assert.equal((await fetch(`${url}/api/2.0/admin/api/check`, { headers: { authorization: header } })).status, 200);
    assert.equal((await fetch(`${url}/api/2.0/admin/api/check`, { headers: { authorization: header } })).status, 401);
  });

  it('injects faults on request: 429 with Retry-After, 5xx, latency, malformed records', async () => {
    sim.setFaults({ rateLimitRate: 1, retryAfterSeconds: 3 });
    const limited = await get('/customers/customer');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '3');
    sim.setFaults({ rateLimitRate: 0, errorRate: 1 });
    assert.equal((await get('/customers/customer')).status, 500);
    sim.setFaults({ errorRate: 0, latencyMs: 60, malformedIds: [2] });
    const started = Date.now();
    const page = (await (await get('/customers/customer?limit=3')).json()) as Array<Record<string, unknown>>;
    assert.ok(Date.now() - started >= 55, 'latency injected');
    assert.equal(page[1].name, null);
    sim.clearFaults();
    const control = await fetch(`${url}/__simulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 0.5 }),
    });
    assert.equal(((await control.json()) as { errorRate: number }).errorRate, 0.5, 'faults can be set over HTTP too');
    sim.clearFaults();
  });

  it('generates the same customers for the same seed', () => {
    assert.deepEqual(new SplynxSimulator({ seed: 9 }).customer(7), sim.customer(7));
    assert.notDeepEqual(new SplynxSimulator({ seed: 10 }).customer(7), sim.customer(7));
  });
});
