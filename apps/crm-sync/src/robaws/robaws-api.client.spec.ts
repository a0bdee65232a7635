import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AppConfig } from '@sync-hub/config';
import { classifyError } from '@sync-hub/runs';
import { RobawsSimulator } from '@sync-hub/simulators';
import { ROBAWS_THROTTLED_ROUNDS, RobawsApiClient, RobawsPage } from './robaws-api.client';

const CLIENTS = 45;
const PAGE = 15;
/** The client's floor of retries: 4 attempts of a request before a 5xx, a timeout or a 429 round gives up. */
const ATTEMPTS = 4;
const HTTP = { timeoutMs: 300, retries: 0, retryBaseDelayMs: 10, maxConcurrency: 2 };

/** Slow and failing Robaws (issue 14, scenario 6): the attempts a policy allows, counted at the simulator. */
describe('RobawsApiClient against a slow or failing Robaws (simulator over HTTP)', () => {
  const sim = new RobawsSimulator({ clients: CLIENTS, seed: 14 });
  let config: AppConfig['crm']['robaws'];
  const clients: RobawsApiClient[] = [];
  const client = (options: ConstructorParameters<typeof RobawsApiClient>[2] = {}, http = HTTP) => {
    const made = new RobawsApiClient(config, http, options);
    clients.push(made);
    return made;
  };
  const readAll = async (c: RobawsApiClient): Promise<RobawsPage[]> => {
    const pages: RobawsPage[] = [];
    for await (const page of c.clientPages({ pageSize: PAGE })) pages.push(page);
    return pages;
  };
  const failure = async (c: RobawsApiClient) => {
    const started = Date.now();
    const err = await readAll(c).then(
      () => assert.fail('the pull should fail'),
      (e: unknown) => e,
    );
    return { error: classifyError(err), ms: Date.now() - started };
  };

  before(async () => {
    const baseUrl = await sim.start();
    config = {
      baseUrl,
      apiKey: sim.apiKey,
      apiSecret: sim.apiSecret,
      webhookSecret: null,
      defaultCountry: 'BE',
      pageSize: PAGE,
      requestsPerSecond: 15,
    };
  });
  beforeEach(() => {
    sim.clearFaults();
    sim.counters.requests = 0;
    sim.counters.rateLimited = 0;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await sim.stop();
  });

  it('a burst of three 503s is retried and the pull completes: 3 + 3 requests', async () => {
    sim.setFaults({ script: [{ kind: 'error', times: 3, status: 503 }] });
    const pages = await readAll(client());
    assert.equal(pages.flatMap((p) => p.items).length, CLIENTS);
    assert.equal(sim.counters.requests, 3 + CLIENTS / PAGE);
  });

  it('a long 5xx burst gives up after 4 attempts of the page: source/UPSTREAM_UNAVAILABLE, retriable', async () => {
    sim.setFaults({ script: [{ kind: 'error', times: 100, after: 1, status: 503 }] });
    const { error } = await failure(client());
    assert.deepEqual([error.origin, error.code, error.retriable], ['source', 'UPSTREAM_UNAVAILABLE', true]);
    assert.equal(sim.counters.requests, 1 + ATTEMPTS, 'page 0, then page 1 four times');
    assert.doesNotMatch(error.message, new RegExp(sim.apiSecret));
  });

  it('a Robaws that hangs times out each attempt: 4 attempts, source/UPSTREAM_TIMEOUT, retriable', async () => {
    sim.setFaults({ latencyMs: 1500 });
    const { error, ms } = await failure(client());
    console.log(`Robaws hanging: 4 attempts of 300 ms timed out after ${ms} ms`);
    assert.deepEqual([error.origin, error.code, error.retriable], ['source', 'UPSTREAM_TIMEOUT', true]);
    assert.equal(sim.counters.requests, ATTEMPTS);
    assert.ok(ms >= ATTEMPTS * HTTP.timeoutMs, `${ms} ms`);
  });

  it('429s with Retry-After are waited out: two 429s of 1 s, then the pull completes', async () => {
    sim.setFaults({ script: [{ kind: 'rate-limited', times: 2, retryAfterSeconds: 1 }] });
    const started = Date.now();
    const pages = await readAll(client());
    const ms = Date.now() - started;
    console.log(`Robaws 429 ×2 with Retry-After: 1 → pull of ${CLIENTS} clients in ${ms} ms`);
    assert.equal(pages.flatMap((p) => p.items).length, CLIENTS);
    assert.equal(sim.counters.rateLimited, 2);
    assert.equal(sim.counters.requests, 2 + CLIENTS / PAGE);
    assert.ok(ms >= 2000, `the Retry-After was honoured (${ms} ms)`);
  });

  it(`a 429 that never ends: (4 attempts) × (1 + ${ROBAWS_THROTTLED_ROUNDS} rounds), then source/UPSTREAM_RATE_LIMITED, retriable`, async () => {
    for (const retryAfter of [0, null]) {
      sim.clearFaults();
      sim.counters.requests = 0;
      sim.setFaults({ script: [{ kind: 'rate-limited', times: 1000, retryAfterSeconds: retryAfter }] });
      const { error, ms } = await failure(client({ throttledWaitMs: 20 }));
      console.log(`Robaws 429 forever (Retry-After ${retryAfter ?? 'absent'}): gave up after ${ms} ms`);
      assert.deepEqual([error.origin, error.code, error.retriable], ['source', 'UPSTREAM_RATE_LIMITED', true]);
      assert.equal(sim.counters.requests, ATTEMPTS * (1 + ROBAWS_THROTTLED_ROUNDS), `Retry-After ${retryAfter}`);
    }
  });

  it('a 200 whose JSON is cut off is asked again like a 5xx; cut every time: 4 attempts, source/UPSTREAM_BAD_RESPONSE, retriable', async () => {
    sim.setFaults({ script: [{ kind: 'truncate', times: 1, after: 1 }] });
    const pages = await readAll(client());
    assert.equal(pages.flatMap((p) => p.items).length, CLIENTS);
    assert.equal(sim.counters.requests, 1 + CLIENTS / PAGE, 'page 1 once more');

    sim.counters.requests = 0;
    sim.setFaults({ script: [{ kind: 'truncate', times: 100, after: 1 }] });
    const { error } = await failure(client());
    assert.deepEqual([error.origin, error.code, error.retriable], ['source', 'UPSTREAM_BAD_RESPONSE', true]);
    assert.equal(sim.counters.requests, 1 + ATTEMPTS, 'page 0, then page 1 four times');
  });

  it("paced at Robaws's 15/s in bursts of 20, a pull meets no 429 from the real bucket", async () => {
    sim.setRateLimit({ enabled: true, ratePerSecond: 15, burst: 20, scale: 1 });
    const paced = client();
    const started = Date.now();
    let requests = 0;
    for (let i = 0; i < 3; i++) requests += (await readAll(paced)).length;
    for (let i = 0; i < 32; i++) {
      await paced.getClient(1001 + i);
      requests++;
    }
    const ms = Date.now() - started;
    console.log(`Robaws pacing: ${requests} requests in ${ms} ms, ${sim.counters.rateLimited} answered 429`);
    assert.equal(requests, 41);
    assert.equal(sim.counters.rateLimited, 0);
    assert.ok(ms >= ((requests - 20) / 15) * 1000 - 100, `no faster than the bucket (${ms} ms)`);
  });
});
