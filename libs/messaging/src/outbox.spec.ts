import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OutboxMessage } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../test/support/sqlite';
import { EventPublisher, OutgoingMessage } from './event-publisher';
import { ReliablePublisher } from './outbox';

/** A bus that can be down (its probe says so), and whose sends take a moment: what the outbox must not race on. */
class FlakyBus extends EventPublisher {
  down: string | null = null;
  readonly sent: Array<{ topic: string; value: unknown }> = [];
  sends = 0;

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    await this.publishMany([{ topic, messages }]);
  }
  async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
    this.sends++;
    await new Promise((r) => setTimeout(r, 20));
    if (this.down) throw new Error(`send failed: ${this.down}`);
    for (const b of batches) for (const m of b.messages) this.sent.push({ topic: b.topic, value: m.value });
  }
  isConnected(): boolean {
    return true;
  }
  override async unreachable(): Promise<string | null> {
    return this.down;
  }
}

describe('ReliablePublisher while the bus is down, and after', () => {
  let ds: DataSource;
  const rows = () => ds.getRepository(OutboxMessage).find({ order: { id: 'ASC' } });

  before(async () => {
    ds = await inMemoryDatabase([]);
  });
  after(async () => {
    await ds?.destroy();
  });

  it('does not try to send while the bus is unreachable: ticks wait in the outbox untouched, and the flush answers at once', async () => {
    const bus = new FlakyBus();
    const outbox = new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
    bus.down = 'bus producer cannot reach the broker (127.0.0.1:9): connect ECONNREFUSED';
    await ds.transaction((m) =>
      outbox.enqueue(
        m,
        [1, 2, 3].map((n) => ({ topic: 'sync.splynx.requested.v1', key: `k${n}`, value: { n } })),
      ),
    );
    assert.equal(await outbox.flush(), 0);
    assert.equal(bus.sends, 0, 'no send attempted');
    assert.deepEqual(
      (await rows()).map((r) => [r.attempts, r.lastError]),
      [
        [0, null],
        [0, null],
        [0, null],
      ],
      'the rows wait as they were written: the outage is not their failure',
    );

    // A run event published meanwhile goes straight to the outbox too, with the reason.
    await outbox.publish('sync.run.completed.v1', { key: 'r1', value: { n: 4 } });
    assert.equal(bus.sends, 0);
    const kept = (await rows()).at(-1)!;
    assert.equal(kept.topic, 'sync.run.completed.v1');
    assert.match(kept.lastError ?? '', /cannot reach the broker/);
  });

  it('once the bus is back, flushes started together (the step, the interval, another caller) send each message once', async () => {
    const bus = new FlakyBus();
    const outbox = new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
    // The run event kept above waits for its backoff; the flushes run when it is due.
    const later = new Date(Date.now() + 60_000);
    const counts = await Promise.all([outbox.flush(later), outbox.flush(later), outbox.flushDueMessages()]);
    assert.equal(counts[0], 4);
    assert.equal(counts[1], 4, 'the second caller shares the flush in flight');
    assert.equal(bus.sends, 1, 'one send for the batch');
    assert.deepEqual(
      bus.sent.map((s) => (s.value as { n: number }).n),
      [1, 2, 3, 4],
    );
    assert.deepEqual(await rows(), []);
    assert.equal(await outbox.flush(later), 0, 'nothing left to send twice');
    assert.equal(bus.sends, 1);
  });

  it('a send the bus refuses keeps the batch with a backoff, sent once when due', async () => {
    const bus = new FlakyBus();
    const outbox = new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
    await ds.transaction((m) => outbox.enqueue(m, [{ topic: 'sync.splynx.requested.v1', key: 'k', value: { n: 5 } }]));
    // Reachable a moment ago, gone during the send.
    const unreachable = bus.unreachable.bind(bus);
    bus.unreachable = async () => {
      const answer = await unreachable();
      bus.down = 'connect ECONNREFUSED';
      return answer;
    };
    assert.equal(await outbox.flush(), 0);
    const [kept] = await rows();
    assert.equal(kept.attempts, 1);
    assert.ok(kept.nextAttemptAt.getTime() > Date.now(), 'waits for its backoff');
    bus.unreachable = unreachable;
    bus.down = null;
    assert.equal(await outbox.flush(), 0, 'not yet due');
    assert.equal(await outbox.flush(new Date(kept.nextAttemptAt.getTime() + 1)), 1);
    assert.deepEqual(
      bus.sent.map((s) => (s.value as { n: number }).n),
      [5],
    );
  });
});
