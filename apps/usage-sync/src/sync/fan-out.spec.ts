import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { bulkhead, BrokenCircuitError } from 'cockatiel';
import { fanOut, FanOutLane } from './fan-out';
import { CIRCUIT_FAILURES, PanelCircuits } from './panel-circuits';

const items = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Counts calls in flight per lane and in all. */
function gauge(lanes: number) {
  const now = Array<number>(lanes).fill(0);
  const max = Array<number>(lanes).fill(0);
  let total = 0;
  let maxTotal = 0;
  return {
    max,
    get maxTotal() {
      return maxTotal;
    },
    async during<T>(lane: number, fn: () => Promise<T>): Promise<T> {
      now[lane]++;
      total++;
      max[lane] = Math.max(max[lane], now[lane]);
      maxTotal = Math.max(maxTotal, total);
      try {
        return await fn();
      } finally {
        now[lane]--;
        total--;
      }
    },
  };
}

describe('fanOut: lanes with their own concurrency and pace under one shared cap', () => {
  it('slow start: a lane reads one item at a time until its upstream answers, so a dead one holds one shared slot', async () => {
    const g = gauge(2);
    // Lane 0 is dead (every read fails slowly); lane 1 answers after its first two reads failed.
    const lanes: Array<FanOutLane<number>> = [
      { items: items(6), concurrency: 8, requestsPerSecond: null },
      { items: items(20), concurrency: 4, requestsPerSecond: null },
    ];
    const inFlightAtOk: number[] = [];
    await fanOut(lanes, {
      shared: bulkhead(8, Infinity),
      signal: new AbortController().signal,
      read: (item, call, lane) =>
        call(() =>
          g.during(lane, () => sleep(lane === 0 ? 15 : 5).then(() => (lane === 1 && item >= 2 ? 'ok' : 'down'))),
        ),
      onResult: (item, result, lane) => lane === 1 && result === 'ok' && inFlightAtOk.push(item),
      answered: (result) => result === 'ok',
    });
    assert.equal(g.max[0], 1, 'the dead lane never had more than one read in flight');
    assert.equal(g.max[1], 4, 'the answering lane opened to its concurrency');
    assert.equal(inFlightAtOk.length, 18);
  });

  it('keeps each lane within its concurrency and every call within the shared cap, and reads every item', async () => {
    const g = gauge(3);
    const lanes: Array<FanOutLane<number>> = [
      { items: items(30), concurrency: 3, requestsPerSecond: null },
      { items: items(30), concurrency: 8, requestsPerSecond: null },
      { items: items(30), concurrency: 8, requestsPerSecond: null },
    ];
    const taken: string[] = [];
    const outcomes = await fanOut(lanes, {
      shared: bulkhead(10, Infinity),
      signal: new AbortController().signal,
      read: (item, call, lane) => call(() => g.during(lane, () => sleep(5).then(() => item))),
      onResult: (item, result, lane) => taken.push(`${lane}:${result}`),
    });
    assert.deepEqual(outcomes, [
      { reached: 30, notReached: 0 },
      { reached: 30, notReached: 0 },
      { reached: 30, notReached: 0 },
    ]);
    assert.equal(new Set(taken).size, 90, 'every item once');
    assert.ok(g.max[0] <= 3 && g.max[0] >= 2, `lane 0 at most 3 at once (saw ${g.max[0]})`);
    assert.ok(g.max[1] <= 8, `lane 1 at most 8 (saw ${g.max[1]})`);
    assert.equal(g.maxTotal, 10, 'the shared cap is used and never passed');
  });

  it('a lane whose upstream hangs holds only its own workers: the others finish at their pace', async () => {
    const g = gauge(2);
    let fastDoneAt = 0;
    const start = Date.now();
    let fastLeft = 40;
    await fanOut(
      [
        { items: items(4), concurrency: 2, requestsPerSecond: null },
        { items: items(40), concurrency: 4, requestsPerSecond: null },
      ],
      {
        shared: bulkhead(6, Infinity),
        signal: new AbortController().signal,
        read: (item, call, lane) => call(() => g.during(lane, () => sleep(lane === 0 ? 400 : 5))),
        onResult: (item, result, lane) => {
          if (lane === 1 && --fastLeft === 0) fastDoneAt = Date.now() - start;
        },
      },
    );
    assert.ok(fastDoneAt > 0 && fastDoneAt < 300, `the fast lane finished in ${fastDoneAt} ms, before one slow call`);
  });

  it("paces a lane's calls to its requests per second; a read that makes no call takes no token", async () => {
    const starts: number[] = [];
    const start = Date.now();
    await fanOut([{ items: items(16), concurrency: 16, requestsPerSecond: 20 }], {
      shared: bulkhead(32, Infinity),
      signal: new AbortController().signal,
      // Odd items are skips: no call.
      read: async (item, call) => (item % 2 ? 'skipped' : call(async () => void starts.push(Date.now() - start))),
      onResult: () => undefined,
    });
    assert.equal(starts.length, 8);
    // 20 a second from an empty bucket: the 8th call cannot start before ~400 ms.
    assert.ok(starts[7] >= 350, `8 calls at 20/s took ${starts[7]} ms`);
  });

  it('at the stop: no item is started, reads in flight are not waited for, and queued calls are never made', async () => {
    const stop = new AbortController();
    let made = 0;
    const taken: number[] = [];
    setTimeout(() => stop.abort(), 120);
    const start = Date.now();
    const outcomes = await fanOut(
      [
        { items: items(10), concurrency: 1, requestsPerSecond: null },
        { items: items(10), concurrency: 4, requestsPerSecond: null },
      ],
      {
        // One slot: lane 1's calls queue behind lane 0's.
        shared: bulkhead(1, Infinity),
        signal: stop.signal,
        read: (item, call) => call(async () => (made++, await sleep(50), item)),
        onResult: (item) => taken.push(item),
      },
    );
    const took = Date.now() - start;
    assert.ok(took < 170, `returned at the stop (${took} ms), not after the reads in flight`);
    const reached = outcomes[0].reached + outcomes[1].reached;
    assert.equal(taken.length, reached);
    assert.equal(outcomes[0].notReached + outcomes[1].notReached, 20 - reached, 'the rest is not reached');
    assert.ok(reached >= 1 && reached <= 3, `about 120 / 50 reads finished (${reached})`);
    await sleep(120);
    assert.ok(made <= reached + 1, `no queued call was made after the stop (${made} made)`);
    assert.equal(taken.length, reached, 'a read that ends after the stop is dropped');
  });
});

describe('PanelCircuits: a circuit per panel', () => {
  const panel = { id: 7, name: 'p', updatedAt: new Date('2026-01-01T00:00:00Z') };
  const fault = { status: 'hard_failure', error: 'HTTP 502', scope: 'panel' } as const;
  const unknownUser = { status: 'hard_failure', error: 'HTTP 404', scope: 'config' } as const;

  it(`opens after ${CIRCUIT_FAILURES} panel failures in a row; then fails at once, without a call`, async () => {
    const circuits = new PanelCircuits();
    const circuit = circuits.for(panel);
    for (let i = 0; i < CIRCUIT_FAILURES - 1; i++) assert.deepEqual(await circuit.execute(async () => fault), fault);
    assert.equal(circuits.state(7), 'closed');
    await circuit.execute(async () => fault);
    assert.equal(circuits.state(7), 'open');
    let called = false;
    await assert.rejects(
      circuit.execute(async () => ((called = true), fault)),
      BrokenCircuitError,
    );
    assert.equal(called, false);
    assert.equal(circuits.for(panel), circuit, 'the same circuit across runs');
    const edited = circuits.for({ ...panel, updatedAt: new Date('2026-01-02T00:00:00Z') });
    assert.notEqual(edited, circuit, 'an edited panel (a new URL, new credentials) is tried again at once');
    assert.equal(circuits.state(7), 'closed');
  });

  it("an unknown user is the config's failure: the panel answered, its circuit stays closed", async () => {
    const circuits = new PanelCircuits();
    const circuit = circuits.for({ ...panel, id: 8 });
    for (let i = 0; i < CIRCUIT_FAILURES * 2; i++) await circuit.execute(async () => unknownUser);
    assert.equal(circuits.state(8), 'closed');
    for (let i = 0; i < CIRCUIT_FAILURES - 1; i++) await circuit.execute(async () => fault);
    await circuit.execute(async () => ({ status: 'ok', bytes: 1, sourceField: 'used_traffic' }));
    await circuit.execute(async () => fault);
    assert.equal(circuits.state(8), 'closed', 'failures must be in a row');
  });

  it('after the half-open delay one read tries the panel; the reads behind it wait for its answer', async () => {
    const circuits = new PanelCircuits();
    circuits.halfOpenAfterMs = 50;
    const circuit = circuits.for({ ...panel, id: 9 });
    for (let i = 0; i < CIRCUIT_FAILURES; i++) await circuit.execute(async () => fault);
    await sleep(60);
    let calls = 0;
    const ok = { status: 'ok', bytes: 5, sourceField: 'used_traffic' } as const;
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => circuit.execute(async () => (calls++, await sleep(20), ok))),
    );
    assert.deepEqual(answers, [ok, ok, ok, ok]);
    assert.equal(circuits.state(9), 'closed');
    assert.equal(calls, 4, 'the probe first, then the others once it answered');
  });
});
