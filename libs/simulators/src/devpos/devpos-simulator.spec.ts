import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DevposSimulator } from './devpos-simulator';

describe('DevposSimulator speaks the DevPos login and API over HTTP', () => {
  const sim = new DevposSimulator({ seed: 5 });
  const user = sim.users[0];
  let url = '';
  const publicClient = `Basic ${Buffer.from(`${sim.clientId}:`).toString('base64')}`;
  const login = (
    form: Record<string, string> = { grant_type: 'password', username: user.username, password: user.password },
    headers: Record<string, string> = { authorization: publicClient, tenant: user.tenant },
  ) =>
    fetch(`${url}/connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  const sales = (token: string | null, tenant = user.tenant, query = 'fromDate=2026-01-01&toDate=2026-01-31') =>
    fetch(`${url}/api/v3/EInvoice/GetSalesInvoice?${query}`, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), tenant, accept: 'application/json' },
    });

  before(async () => {
    url = await sim.start();
  });
  after(() => sim.stop());

  it('logs in with the password grant and gives an 8-hour token that the API accepts', async () => {
    const before = sim.loginCount(user.tenant);
    const res = await login();
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    assert.equal(body.expires_in, 28800);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(sim.loginCount(user.tenant), before + 1);
    sim.salesInvoices.set(user.tenant, [
      { eic: 'a', invoiceCreatedDate: '2026-01-10T09:00:00' },
      { eic: 'b', invoiceCreatedDate: '2026-02-10T09:00:00' },
    ]);
    const list = await sales(body.access_token);
    assert.equal(list.status, 200);
    assert.deepEqual(
      ((await list.json()) as Array<{ eic: string }>).map((r) => r.eic),
      ['a'],
    );
    const timestamp = await sales(body.access_token, user.tenant, 'fromDate=2026-01-01T00:00:00&toDate=2026-01-31');
    assert.equal(timestamp.status, 400);

    sim.advance(8 * 3600 - 60);
    assert.equal((await sales(body.access_token)).headers.get('content-type')?.includes('json'), true);
    sim.advance(120);
    const expired = await sales(body.access_token);
    assert.match(expired.headers.get('content-type') ?? '', /text\/html/);
  });

  it('answers the HTML login page (through a redirect) to API calls without a valid token', async () => {
    const anonymous = await sales(null);
    assert.equal(anonymous.status, 200);
    assert.match(anonymous.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await anonymous.text(), /<form/);
    const raw = await fetch(`${url}/api/v3/EInvoice/GetSalesInvoice?fromDate=2026-01-01&toDate=2026-01-02`, {
      redirect: 'manual',
    });
    assert.equal(raw.status, 302);
    assert.match(raw.headers.get('location') ?? '', /^\/Account\/Login\?ReturnUrl=/);
    const token = ((await (await login()).json()) as { access_token: string }).access_token;
    const otherTenant = await sales(token, 'K00000000X');
    assert.match(otherTenant.headers.get('content-type') ?? '', /text\/html/);
  });

  it('refuses a wrong password with 400 invalid_grant and a wrong client with invalid_client, counting no login', async () => {
    const before = sim.loginCount();
    const wrong = await login({ grant_type: 'password', username: user.username, password: 'nope' });
    assert.equal(wrong.status, 400);
    assert.deepEqual(await wrong.json(), { error: 'invalid_grant', error_description: 'invalid_username_or_password' });
    const wrongTenant = await login(undefined, { authorization: publicClient, tenant: 'K00000000X' });
    assert.equal(((await wrongTenant.json()) as { error: string }).error, 'invalid_grant');
    const badClient = await login(undefined, {
      authorization: `Basic ${Buffer.from('other-client:').toString('base64')}`,
      tenant: user.tenant,
    });
    assert.equal(badClient.status, 400);
    assert.deepEqual(await badClient.json(), { error: 'invalid_client' });
    const noTenant = await login(undefined, { authorization: publicClient });
    assert.equal(((await noTenant.json()) as { error: string }).error, 'invalid_request');
    assert.equal(sim.loginCount(), before);
  });

  it('injects faults on request: 429 with Retry-After, 500, latency', async () => {
    sim.setFaults({ rateLimitRate: 1, retryAfterSeconds: 4 });
    const limited = await login();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '4');
    sim.setFaults({ rateLimitRate: 0, errorRate: 1 });
    assert.equal((await login()).status, 500);
    sim.setFaults({ errorRate: 0, latencyMs: 60 });
    const started = Date.now();
    assert.equal((await login()).status, 200);
    assert.ok(Date.now() - started >= 55);
    sim.clearFaults();
  });
});
