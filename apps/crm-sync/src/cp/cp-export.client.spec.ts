import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AppConfig } from '@sync-hub/config';
import { classifyError } from '@sync-hub/runs';
import { CP_TABLES, CpExportSimulator } from '@sync-hub/simulators';
import { CpExportClient, exportRequest } from './cp-export.client';

const ATTEMPTS = 3;
const TABLES = CP_TABLES.map((t) => t.name);

/** Slow and failing loyalty-club export (issue 14, scenario 6): CP_EXPORT_RETRY_ATTEMPTS, counted at the simulator. */
describe('CpExportClient against a slow or failing export (simulator over HTTP)', () => {
  const sim = new CpExportSimulator({ rows: 30, seed: 14 });
  let config: AppConfig['crm']['cp'];
  let client: CpExportClient;
  const round = (by = client) => by.export(exportRequest(TABLES, new Map(), 10));
  const failure = async (by = client) => {
    const started = Date.now();
    const err = await round(by).then(
      () => assert.fail('the round should fail'),
      (e: unknown) => e,
    );
    return { error: classifyError(err), ms: Date.now() - started };
  };

  before(async () => {
    await sim.start();
    config = {
      exportUrl: sim.exportUrl,
      visitUrl: sim.visitUrl,
      token: sim.token,
      // Ample for an answer on a loaded CI machine (a first request of 300 ms once timed out there); the test of a
      // hanging export uses a client of its own with a short timeout.
      timeoutMs: 5000,
      attempts: ATTEMPTS,
      retryDelayMs: 20,
      batchLimit: 10,
      maxLoops: 5,
    };
    client = new CpExportClient(config);
  });
  beforeEach(() => {
    sim.resetFaults();
    sim.counters.requests = 0;
  });
  after(async () => {
    await client.close();
    await sim.stop();
  });

  it('two 502s, then the answer: 3 requests, the rows read', async () => {
    sim.setFaults({ errorStatus: 502 });
    sim.setFaults({ script: [{ kind: 'error', times: 2 }] });
    const answer = await round();
    assert.equal(answer.data.client.length, 10);
    assert.equal(sim.counters.requests, 3);
  });

  it('a long 5xx burst: CP_EXPORT_RETRY_ATTEMPTS requests, then source/UPSTREAM_UNAVAILABLE, retriable', async () => {
    sim.setFaults({ script: [{ kind: 'error', times: 100 }] });
    const { error } = await failure();
    assert.deepEqual([error.origin, error.code, error.retriable], ['source', 'UPSTREAM_UNAVAILABLE', true]);
    assert.equal(sim.counters.requests, ATTEMPTS);
    assert.doesNotMatch(error.message, new RegExp(sim.token));
  });

  it('an export that hangs: each attempt times out after CP_EXPORT_TIMEOUT; source/UPSTREAM_TIMEOUT, retriable', async () => {
    sim.setFaults({ hangNext: 100, hangMs: 2000 });
    const impatient = new CpExportClient({ ...config, timeoutMs: 300 });
    try {
      const { error, ms } = await failure(impatient);
      console.log(`export hanging: ${ATTEMPTS} attempts of 300 ms gave up after ${ms} ms`);
      assert.deepEqual([error.origin, error.code, error.retriable], ['source', 'UPSTREAM_TIMEOUT', true]);
      assert.equal(sim.counters.requests, ATTEMPTS);
      assert.equal(sim.counters.held, ATTEMPTS);
    } finally {
      await impatient.close();
    }
  });

  it('a 429 with Retry-After is waited out, one without backs off like a 5xx; both then answer', async () => {
    sim.setFaults({ script: [{ kind: 'rate-limited', times: 1, retryAfterSeconds: 1 }] });
    const started = Date.now();
    await round();
    const waited = Date.now() - started;
    assert.equal(sim.counters.requests, 2);
    assert.ok(waited >= 1000, `Retry-After: 1 honoured (${waited} ms)`);
    sim.counters.requests = 0;
    sim.setFaults({ script: [{ kind: 'rate-limited', times: 2, retryAfterSeconds: null }] });
    await round();
    assert.equal(sim.counters.requests, 3);
    console.log(`export 429 with Retry-After 1 s: answered after ${waited} ms`);
  });

  it('429s that never end: CP_EXPORT_RETRY_ATTEMPTS requests, then source/UPSTREAM_RATE_LIMITED, retriable', async () => {
    sim.setFaults({ script: [{ kind: 'rate-limited', times: 100, retryAfterSeconds: null }] });
    const { error } = await failure();
    assert.deepEqual([error.origin, error.code, error.retriable], ['source', 'UPSTREAM_RATE_LIMITED', true]);
    assert.equal(sim.counters.requests, ATTEMPTS);
  });

  it('a 200 whose JSON is cut off is asked again like a 5xx; cut every time: CP_EXPORT_RETRY_ATTEMPTS requests, then source/UPSTREAM_BAD_RESPONSE, retriable', async () => {
    sim.setFaults({ script: [{ kind: 'truncate', times: 1 }] });
    const answer = await round();
    assert.equal(answer.data.client.length, 10);
    assert.equal(sim.counters.requests, 2);

    sim.counters.requests = 0;
    sim.setFaults({ script: [{ kind: 'truncate', times: 100 }] });
    const { error } = await failure();
    assert.deepEqual([error.origin, error.code, error.retriable], ['source', 'UPSTREAM_BAD_RESPONSE', true]);
    assert.match(error.message, /malformed or truncated JSON/);
    assert.equal(sim.counters.requests, ATTEMPTS);
  });
});
