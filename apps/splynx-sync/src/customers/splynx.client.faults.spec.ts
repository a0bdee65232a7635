import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClassifiedError } from '@sync-hub/contracts';
import { ScriptedFault, SplynxSimulator } from '@sync-hub/simulators';
import { SplynxClient } from './splynx.client';

/** Two retries: every failing request is tried exactly three times. */
const HTTP = { timeoutMs: 300, retries: 2, retryBaseDelayMs: 1, maxConcurrency: 2 };
const LIST = 'GET /api/2.0/admin/customers/customer';
const PAGE = 100;
const CUSTOMERS = 250; // pages of 100, 100 and 50

/**
 * Issue 14, scenario 6: the Splynx client against slow and failing upstreams (the simulator's counted faults, over
 * HTTP). Each case asserts the exact number of list requests the simulator received and the run error it ends in.
 */
describe('SplynxClient: slow and failing upstream (bounded attempts, classification)', () => {
  const simulator = new SplynxSimulator({ customers: CUSTOMERS, seed: 6 });
  let client: SplynxClient;

  before(async () => {
    const url = await simulator.start();
    client = new SplynxClient(
      { baseUrl: url, authMode: 'api_key', apiKey: simulator.apiKey, apiSecret: simulator.apiSecret },
      HTTP,
    );
  });
  after(async () => {
    await client.close();
    await simulator.stop();
  });

  /** Faults on the customer list only (the token request passes), then every page read; what it ended with. */
  const readAll = async (...script: ScriptedFault[]) => {
    simulator.requests.clear();
    simulator.setFaults({ script: script.map((f) => ({ path: `^${LIST}(\\?|$)`, ...f })) });
    const records: unknown[] = [];
    const started = Date.now();
    try {
      for await (const page of client.customerPages(PAGE)) records.push(...page);
      return { records: records.length, error: null, ms: Date.now() - started, requests: simulator.requestCount(LIST) };
    } catch (err) {
      assert.ok(err instanceof ClassifiedError, `a classified error, not ${String(err)}`);
      return {
        records: records.length,
        error: err.toRunError(),
        ms: Date.now() - started,
        requests: simulator.requestCount(LIST),
      };
    } finally {
      simulator.clearFaults();
    }
  };
  const classOf = (e: { origin: string; code: string; retriable: boolean } | null) =>
    e && [e.origin, e.code, e.retriable];

  it('a short 5xx burst is retried and the read completes; a long one fails after three attempts as UPSTREAM_UNAVAILABLE', async () => {
    const short = await readAll({ kind: 'error', times: 2 });
    assert.deepEqual([short.records, short.error, short.requests], [CUSTOMERS, null, 3 + 2]);
    const long = await readAll({ kind: 'error', times: 50, after: 1 });
    console.log(
      `splynx: 5xx burst of 2 → ${short.requests} requests; endless 5xx after page 1 → ${long.requests} requests, ${long.ms} ms`,
    );
    assert.equal(long.records, PAGE, 'the first page was read before the burst');
    assert.deepEqual(classOf(long.error), ['source', 'UPSTREAM_UNAVAILABLE', true]);
    assert.equal(long.requests, 1 + 3);
  });

  it('a 429 with Retry-After waits what it asks; without one it backs off; endless 429s fail as UPSTREAM_RATE_LIMITED', async () => {
    const asked = await readAll({ kind: 'rate-limited', times: 1, retryAfterSeconds: 1 });
    assert.deepEqual([asked.records, asked.error, asked.requests], [CUSTOMERS, null, 3 + 1]);
    assert.ok(asked.ms >= 950, `waited the Retry-After second (${asked.ms} ms)`);
    const bare = await readAll({ kind: 'rate-limited', times: 1, retryAfterSeconds: null });
    assert.deepEqual([bare.records, bare.error, bare.requests], [CUSTOMERS, null, 3 + 1]);
    assert.ok(bare.ms < 900, `without Retry-After the backoff is the client's own (${bare.ms} ms)`);
    const endless = await readAll({ kind: 'rate-limited', times: 50, retryAfterSeconds: null });
    console.log(
      `splynx: 429 Retry-After 1 → ${asked.ms} ms; 429 without → ${bare.ms} ms; endless → ${endless.requests} requests`,
    );
    assert.deepEqual(classOf(endless.error), ['source', 'UPSTREAM_RATE_LIMITED', true]);
    assert.equal(endless.requests, 3);
  });

  it('an upstream that hangs times out on each of three attempts: UPSTREAM_TIMEOUT, retriable', async () => {
    const hung = await readAll({ kind: 'hang', times: 50, hangMs: 5000 });
    console.log(`splynx: hanging upstream → ${hung.requests} requests, failed after ${hung.ms} ms (timeout 300 ms)`);
    assert.deepEqual(classOf(hung.error), ['source', 'UPSTREAM_TIMEOUT', true]);
    assert.equal(hung.requests, 3);
    assert.ok(hung.ms >= 3 * 300 && hung.ms < 5000, `three timeouts, not the hang (${hung.ms} ms)`);
    const once = await readAll({ kind: 'hang', times: 1, hangMs: 5000 });
    assert.deepEqual([once.records, once.error, once.requests], [CUSTOMERS, null, 3 + 1]);
  });

  it('a 200 whose JSON is cut off is retried; always cut off, it fails as a retriable UPSTREAM_BAD_RESPONSE', async () => {
    const once = await readAll({ kind: 'truncate', times: 1, after: 1 });
    assert.deepEqual([once.records, once.error, once.requests], [CUSTOMERS, null, 3 + 1]);
    const always = await readAll({ kind: 'truncate', times: 50 });
    assert.deepEqual(classOf(always.error), ['source', 'UPSTREAM_BAD_RESPONSE', true]);
    assert.match(always.error!.message, /answered malformed or truncated JSON/);
    assert.equal(always.requests, 3);
  });
});
