import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { UpstreamAuthError } from '@sync-hub/http';
import { SplynxSimulator } from '@sync-hub/simulators';
import { SplynxClient, SplynxCredentials, splynxSignature } from './splynx.client';

const HTTP = { timeoutMs: 5000, retries: 1, retryBaseDelayMs: 1, maxConcurrency: 2 };

async function collect(pages: AsyncGenerator<unknown[]>): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('SplynxClient against the Splynx simulator over HTTP', () => {
  let clock = Date.parse('2026-11-21T10:00:00Z');
  const simulator = new SplynxSimulator({ customers: 1234, now: () => clock });
  let url = '';
  const credentials = (over: Partial<SplynxCredentials> = {}): SplynxCredentials => ({
    baseUrl: url,
    authMode: 'api_key',
    apiKey: simulator.apiKey,
    apiSecret: simulator.apiSecret,
    ...over,
  });

  before(async () => {
    url = await simulator.start();
  });
  after(() => simulator.stop());

  it('signs as UPPER(hex(HMAC-SHA256(secret, nonce + key)))', () => {
    const expected = createHmac('sha256', 'the-secret').update('171234567801the-key').digest('hex').toUpperCase();
    assert.equal(splynxSignature('the-key', 'the-secret', 171234567801), expected);
    assert.match(expected, /^[0-9A-F]{64}$/);
  });

  it('pages through every customer in id order, page size respected', async () => {
    const client = new SplynxClient(credentials(), HTTP, () => clock);
    const pages = await collect(client.customerPages(500));
    assert.deepEqual(
      pages.map((p) => p.length),
      [500, 500, 234],
    );
    const ids = pages.flat().map((r) => Number((r as { id: string }).id));
    assert.deepEqual(ids, simulator.customerIds());
    assert.equal(await client.countCustomers(), 1234);
  });

  it('stops after --limit customers', async () => {
    const client = new SplynxClient(credentials(), HTTP, () => clock);
    const pages = await collect(client.customerPages(500, 700));
    assert.deepEqual(
      pages.map((p) => p.length),
      [500, 200],
    );
  });

  it('does not skip customers when some are removed between pages (keyset paging)', async () => {
    const sim = new SplynxSimulator({ customers: 30 });
    const simUrl = await sim.start();
    try {
      const client = new SplynxClient(
        { baseUrl: simUrl, authMode: 'basic', apiKey: sim.apiKey, apiSecret: sim.apiSecret },
        HTTP,
      );
      const seen: number[] = [];
      for await (const page of client.customerPages(10)) {
        seen.push(...page.map((r) => Number((r as { id: string }).id)));
        if (seen.length === 10) sim.mutate({ remove: 3 }); // ids already read shift offsets, not keys
      }
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => a - b),
      );
      const remaining = sim.customerIds().filter((id) => id > 10);
      for (const id of remaining) assert.ok(seen.includes(id), `customer ${id} was read`);
    } finally {
      await sim.stop();
    }
  });

  it('renews the access token with the refresh token before it expires', async () => {
    const client = new SplynxClient(credentials(), HTTP, () => clock);
    await client.countCustomers();
    const issued = simulator.requestCount('POST /api/2.0/admin/auth/tokens');
    const renewed = simulator.requestCount('GET /api/2.0/admin/auth/tokens/:refresh');
    clock += 29.5 * 60000; // 30 s before the 30-minute expiry
    await client.countCustomers();
    assert.equal(simulator.requestCount('GET /api/2.0/admin/auth/tokens/:refresh'), renewed + 1, 'renewed once');
    assert.equal(simulator.requestCount('POST /api/2.0/admin/auth/tokens'), issued, 'no new sign-in');
  });

  it('signs in again when the server says the token expired mid-run', async () => {
    const client = new SplynxClient(credentials(), HTTP, () => clock);
    await client.countCustomers();
    const issued = simulator.requestCount('POST /api/2.0/admin/auth/tokens');
    simulator.expireAccessTokens();
    assert.equal(await client.countCustomers(), 1234);
    assert.equal(simulator.requestCount('POST /api/2.0/admin/auth/tokens'), issued + 1);
  });

  it('works with the per-request signature and with Basic auth', async () => {
    for (const authMode of ['signature', 'basic'] as const) {
      const client = new SplynxClient(credentials({ authMode }), HTTP);
      const pages = await collect(client.customerPages(1000, 1100));
      assert.deepEqual(
        pages.map((p) => p.length),
        [1000, 100],
        authMode,
      );
    }
  });

  it('reports refused credentials as an auth error that names what to check, without the secret', async () => {
    for (const authMode of ['api_key', 'signature', 'basic'] as const) {
      const client = new SplynxClient(credentials({ authMode, apiSecret: 'wrong-secret-value' }), HTTP);
      await assert.rejects(client.countCustomers(), (err: unknown) => {
        assert.ok(err instanceof UpstreamAuthError, `${authMode}: ${String(err)}`);
        assert.equal(err.toRunError().origin, 'config');
        assert.equal(err.retriable, false);
        assert.match(err.message, /SPLYNX_API_KEY/);
        assert.doesNotMatch(err.message, /wrong-secret-value/);
        return true;
      });
    }
  });

  it('fails as a configuration error when no Splynx URL is configured', async () => {
    const client = new SplynxClient(credentials({ baseUrl: null }), HTTP);
    await assert.rejects(client.countCustomers(), /SPLYNX_URL is not set/);
  });
});
