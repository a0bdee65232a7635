import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { ClassifiedError } from '@sync-hub/contracts';
import { QuickBooksSimulator, ScriptedFault } from '@sync-hub/simulators';
import { QuickBooksApiClient } from './quickbooks-api.client';
import { QuickBooksOAuthClient } from './quickbooks-oauth.client';

const COMPANY_INFO = 'GET /v3/company/[^/]+/companyinfo/';
const TOKEN = 'POST /oauth2/v1/tokens/bearer';

/**
 * Issue 14, scenario 6: the QuickBooks API and OAuth clients against slow and failing upstreams (the simulator's
 * counted faults, over HTTP). Two retries: a failing request is tried three times, and the API client waits out a
 * throttle storm for ten more rounds (QuickBooks sends no Retry-After; QBO_RATE_LIMIT_WAIT_SECONDS, here 1 s).
 */
describe('QuickBooks clients: slow and failing upstream (bounded attempts, classification)', () => {
  const sim = new QuickBooksSimulator({ seed: 6 });
  let api: QuickBooksApiClient;
  let oauth: QuickBooksOAuthClient;
  let realmId = '';
  let accessToken = '';

  before(async () => {
    await sim.start();
    const config = loadConfig('accounting-sync', {
      QBO_CLIENT_ID: sim.clientId,
      QBO_CLIENT_SECRET: sim.clientSecret,
      QBO_TOKEN_URL: sim.urls.token,
      QBO_REVOKE_URL: sim.urls.revoke,
      QBO_API_BASE: sim.urls.api.replace(/\/v3\/company$/, ''),
      QBO_RATE_LIMIT_WAIT_SECONDS: '1',
      HTTP_TIMEOUT_MS: '300',
      HTTP_RETRIES: '2',
      HTTP_RETRY_BASE_DELAY_MS: '1',
    });
    api = new QuickBooksApiClient(config);
    oauth = new QuickBooksOAuthClient(config);
    const grant = sim.connect();
    realmId = grant.realmId;
    accessToken = (await oauth.refresh(grant.refreshToken)).accessToken;
  });
  after(async () => {
    await Promise.all([api.onApplicationShutdown(), oauth.onApplicationShutdown()]);
    await sim.stop();
  });

  /** One call under counted faults on `route`: what it ended with, how many requests of `route` were sent, how long. */
  const attempt = async (route: string, call: () => Promise<unknown>, ...script: ScriptedFault[]) => {
    sim.requests.clear();
    sim.setFaults({ script: script.map((f) => ({ path: `^${route}`, ...f })) });
    const started = Date.now();
    const requests = () =>
      [...sim.requests].filter(([k]) => new RegExp(`^${route}`).test(k)).reduce((n, [, v]) => n + v, 0);
    try {
      await call();
      return { error: null, requests: requests(), ms: Date.now() - started };
    } catch (err) {
      assert.ok(err instanceof ClassifiedError, `a classified error, not ${String(err)}`);
      const e = err.toRunError();
      return { error: [e.origin, e.code, e.retriable], requests: requests(), ms: Date.now() - started };
    } finally {
      sim.clearFaults();
    }
  };
  const companyName = () => api.companyName(realmId, accessToken);
  const refresh = () => oauth.refresh(sim.connect().refreshToken);

  it('API: a 5xx burst is retried; a long one fails after three attempts as UPSTREAM_UNAVAILABLE', async () => {
    assert.deepEqual(
      await attempt(COMPANY_INFO, companyName, { kind: 'error', times: 2 }).then((r) => [r.error, r.requests]),
      [null, 3],
    );
    const long = await attempt(COMPANY_INFO, companyName, { kind: 'error', times: 50 });
    assert.deepEqual([long.error, long.requests], [['source', 'UPSTREAM_UNAVAILABLE', true], 3]);
  });

  it('API: a 429 without Retry-After waits QBO_RATE_LIMIT_WAIT_SECONDS; a storm is bounded at 3 × 11 attempts', async () => {
    const bare = await attempt(COMPANY_INFO, companyName, { kind: 'rate-limited', times: 1, retryAfterSeconds: null });
    assert.deepEqual([bare.error, bare.requests], [null, 2]);
    assert.ok(bare.ms >= 950, `waited the configured second (${bare.ms} ms)`);
    // Retry-After: 0 keeps the storm quick; the rounds are what bound it.
    const storm = await attempt(COMPANY_INFO, companyName, { kind: 'rate-limited', times: 500, retryAfterSeconds: 0 });
    console.log(`quickbooks: 429 without Retry-After → ${bare.ms} ms; endless 429 → ${storm.requests} requests`);
    assert.deepEqual([storm.error, storm.requests], [['source', 'UPSTREAM_RATE_LIMITED', true], 3 * 11]);
  });

  it('API: a hang times out three times (UPSTREAM_TIMEOUT); a cut-off 200 fails as UPSTREAM_BAD_RESPONSE after three', async () => {
    const hung = await attempt(COMPANY_INFO, companyName, { kind: 'hang', times: 50, hangMs: 5000 });
    console.log(`quickbooks: hanging API → ${hung.requests} requests, ${hung.ms} ms (timeout 300 ms)`);
    assert.deepEqual([hung.error, hung.requests], [['source', 'UPSTREAM_TIMEOUT', true], 3]);
    const cutOnce = await attempt(COMPANY_INFO, companyName, { kind: 'truncate', times: 1 });
    assert.deepEqual([cutOnce.error, cutOnce.requests], [null, 2]);
    const cut = await attempt(COMPANY_INFO, companyName, { kind: 'truncate', times: 50 });
    assert.deepEqual([cut.error, cut.requests], [['source', 'UPSTREAM_BAD_RESPONSE', true], 3]);
  });

  it('OAuth: 5xx, 429 with and without Retry-After, a hang and a cut-off answer: at most three token requests each', async () => {
    const cases: Array<[ScriptedFault, unknown]> = [
      [{ kind: 'error', times: 2 }, null],
      [{ kind: 'error', times: 50 }, ['source', 'UPSTREAM_UNAVAILABLE', true]],
      [{ kind: 'rate-limited', times: 50, retryAfterSeconds: 0 }, ['source', 'UPSTREAM_RATE_LIMITED', true]],
      [{ kind: 'rate-limited', times: 50, retryAfterSeconds: null }, ['source', 'UPSTREAM_RATE_LIMITED', true]],
      [{ kind: 'hang', times: 50, hangMs: 5000 }, ['source', 'UPSTREAM_TIMEOUT', true]],
      [{ kind: 'truncate', times: 50 }, ['source', 'UPSTREAM_BAD_RESPONSE', true]],
    ];
    for (const [fault, expected] of cases) {
      const r = await attempt(TOKEN, refresh, fault);
      assert.deepEqual([r.error, r.requests], [expected, 3], JSON.stringify(fault));
    }
  });
});
