import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, it } from 'node:test';
import { InProcessBus } from './in-process-bus';

describe('the in-process bus', () => {
  it("runs a handler outside the publisher's async context, as a Kafka consumer would", async () => {
    const bus = new InProcessBus();
    // What the outbox's flush publishes from: a transaction's context (serializeSqliteTransactions keeps one).
    const transaction = new AsyncLocalStorage<string>();
    const seen: Array<string | undefined> = [];
    bus.subscribe('t.v1', async () => void seen.push(transaction.getStore()));
    transaction.run('inside a transaction', () => bus.publish('t.v1', 'k', { n: 1 }));
    await bus.drain();
    assert.deepEqual(seen, [undefined]);
  });

  it('delivers one message at a time per topic, in publish order, copied as JSON', async () => {
    const bus = new InProcessBus();
    const seen: unknown[] = [];
    bus.subscribe('t.v1', async (m) => {
      await new Promise((r) => setTimeout(r, 5 - seen.length));
      seen.push(m.value);
    });
    const value = { n: 1, at: new Date('2026-12-07T00:00:00Z') };
    bus.publish('t.v1', 'a', value);
    bus.publish('t.v1', 'b', { n: 2 });
    value.n = 99;
    await bus.drain();
    assert.deepEqual(seen, [{ n: 1, at: '2026-12-07T00:00:00.000Z' }, { n: 2 }]);
  });
});
