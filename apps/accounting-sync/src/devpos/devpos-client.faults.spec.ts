import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { ClassifiedError } from '@sync-hub/contracts';
import { DevposSimulator, ScriptedFault } from '@sync-hub/simulators';
import { DevposClient } from './devpos-client';

const SALES = 'GET /api/v3/EInvoice/GetSalesInvoice';
const PURCHASES = 'GET /api/v3/EInvoice/GetPurchaseInvoice';
const LOGIN = 'POST /connect/token';
const WEEK = { from: '2026-03-02', to: '2026-03-08' };

/**
 * Issue 14, scenario 6: the DevPos client against slow and failing upstreams (the simulator's counted faults, over
 * HTTP). Two retries: a failing request is tried three times; DEVPOS_TIMEOUT_MS (here 300 ms) bounds each.
 */
describe('DevposClient: slow and failing upstream (bounded attempts, classification)', () => {
  const sim = new DevposSimulator({ seed: 6 });
  const user = sim.users[0];
  let client: DevposClient;
  let token = '';

  before(async () => {
    const url = await sim.start();
    sim.generate(user.tenant, { from: '2026-03-01', to: '2026-03-31', salesPerDay: 2, purchasesPerDay: 1 });
    client = new DevposClient(
      loadConfig('accounting-sync', {
        DEVPOS_URL: url,
        DEVPOS_AUTH_BASIC: Buffer.from(`${sim.clientId}:`).toString('base64'),
        DEVPOS_TIMEOUT_MS: '300',
        HTTP_RETRIES: '2',
        HTTP_RETRY_BASE_DELAY_MS: '1',
      }),
    );
    token = (await client.login(1, user.tenant, user.username, user.password)).accessToken;
  });
  after(async () => {
    await client.onApplicationShutdown();
    await sim.stop();
  });

  const attempt = async (route: string, call: () => Promise<unknown>, ...script: ScriptedFault[]) => {
    sim.requests.clear();
    sim.setFaults({ script: script.map((f) => ({ path: `^${route}(\\?|$)`, ...f })) });
    const started = Date.now();
    try {
      const value = await call();
      return { error: null, value, requests: sim.requestCount(route), ms: Date.now() - started };
    } catch (err) {
      assert.ok(err instanceof ClassifiedError, `a classified error, not ${String(err)}`);
      const e = err.toRunError();
      return {
        error: [e.origin, e.code, e.retriable],
        value: null,
        requests: sim.requestCount(route),
        ms: Date.now() - started,
      };
    } finally {
      sim.clearFaults();
    }
  };
  const sales = () => client.list('sales', token, user.tenant, WEEK);
  const purchases = () => client.list('purchase', token, user.tenant, WEEK);
  const login = () => client.login(1, user.tenant, user.username, user.password);

  it('a list: 5xx, 429 with and without Retry-After, a hang and a cut-off answer, each at most three requests', async () => {
    const cases: Array<[ScriptedFault, unknown, number]> = [
      [{ kind: 'error', times: 2 }, null, 3],
      [{ kind: 'error', times: 50 }, ['source', 'UPSTREAM_UNAVAILABLE', true], 3],
      [{ kind: 'rate-limited', times: 1, retryAfterSeconds: 1 }, null, 2],
      [{ kind: 'rate-limited', times: 50, retryAfterSeconds: null }, ['source', 'UPSTREAM_RATE_LIMITED', true], 3],
      [{ kind: 'hang', times: 50, hangMs: 5000 }, ['source', 'UPSTREAM_TIMEOUT', true], 3],
      [{ kind: 'truncate', times: 1 }, null, 2],
      [{ kind: 'truncate', times: 50 }, ['source', 'UPSTREAM_BAD_RESPONSE', true], 3],
    ];
    for (const [fault, expected, requests] of cases) {
      const r = await attempt(SALES, sales, fault);
      console.log(`devpos sales list, ${JSON.stringify(fault)} → ${r.requests} requests, ${r.ms} ms`);
      assert.deepEqual([r.error, r.requests], [expected, requests], JSON.stringify(fault));
      if (!expected) assert.equal((r.value as unknown[]).length, 14, 'the whole week once it succeeds');
    }
  });

  it('a purchase list: its once-more call first, then the retrying one (1 + 3 requests at most)', async () => {
    const hung = await attempt(PURCHASES, purchases, { kind: 'hang', times: 50, hangMs: 5000 });
    assert.deepEqual([hung.error, hung.requests], [['source', 'UPSTREAM_TIMEOUT', true], 1 + 3]);
    const cut = await attempt(PURCHASES, purchases, { kind: 'truncate', times: 50 });
    assert.deepEqual([cut.error, cut.requests], [['source', 'UPSTREAM_BAD_RESPONSE', true], 1 + 3]);
  });

  it('the login: an outage stays an upstream error (not a refused login), bounded at three requests', async () => {
    const down = await attempt(LOGIN, login, { kind: 'error', times: 50 });
    assert.deepEqual([down.error, down.requests], [['source', 'UPSTREAM_UNAVAILABLE', true], 3]);
    const cut = await attempt(LOGIN, login, { kind: 'truncate', times: 50 });
    assert.deepEqual([cut.error, cut.requests], [['source', 'UPSTREAM_BAD_RESPONSE', true], 3]);
  });
});
