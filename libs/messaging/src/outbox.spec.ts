import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
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

describe('ReliablePublisher: rows of many messages (a page of change events)', () => {
  let ds: DataSource;
  class ListBus extends EventPublisher {
    readonly sends: Array<Array<{ topic: string; key: string; value: unknown }>> = [];
    down = false;
    async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
      await this.publishMany([{ topic, messages }]);
    }
    async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
      if (this.down) throw new Error('send failed: broker down');
      this.sends.push(batches.flatMap((b) => b.messages.map((m) => ({ topic: b.topic, key: m.key, value: m.value }))));
    }
    isConnected(): boolean {
      return true;
    }
  }
  const events = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => ({ key: String(from + i + 1), value: { n: from + i + 1, text: 'tab\there' } }));

  before(async () => {
    ds = await inMemoryDatabase([]);
  });
  beforeEach(() => ds.getRepository(OutboxMessage).clear());
  after(async () => {
    await ds?.destroy();
  });

  it('keeps thousands of messages in a few rows, counts them as messages, and sends them in order, at most 5,000 a send', async () => {
    const bus = new ListBus();
    const outbox = new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
    await ds.transaction(async (m) => {
      await outbox.enqueue(m, [{ topic: 'other.v1', key: 'first', value: { single: true } }]);
      await outbox.enqueueBatch(m, 'splynx.customer.changed.v1', events(4500));
      await outbox.enqueueBatch(m, 'splynx.customer.changed.v1', events(1, 4500));
      await outbox.enqueueBatch(m, 'splynx.customer.changed.v1', events(1500, 4501));
    });
    const rows = await ds.getRepository(OutboxMessage).find({ order: { id: 'ASC' } });
    assert.deepEqual(
      rows.map((r) => r.messageCount),
      [1, 2000, 2000, 500, 1, 1500],
    );
    assert.equal((await outbox.depth()).pending, 6002);

    assert.equal(await outbox.flush(), 6002);
    assert.deepEqual(
      bus.sends.map((s) => s.length),
      [4502, 1500],
      'a send stops before passing 5,000 messages',
    );
    const sent = bus.sends.flat();
    assert.deepEqual(sent[0], { topic: 'other.v1', key: 'first', value: { single: true } });
    const changes = sent.slice(1);
    assert.deepEqual(
      changes.map((c) => c.key),
      events(6001).map((e) => e.key),
      'in order, none lost, none twice',
    );
    assert.deepEqual(changes[4499].value, { n: 4500, text: 'tab\there' });
    assert.equal(await ds.getRepository(OutboxMessage).count(), 0);
  });

  it('a refused send keeps the rows, messages and all, for the next flush', async () => {
    const bus = new ListBus();
    const outbox = new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
    await ds.transaction((m) => outbox.enqueueBatch(m, 't.v1', events(30)));
    bus.down = true;
    assert.equal(await outbox.flush(), 0);
    const [row] = await ds.getRepository(OutboxMessage).find();
    assert.equal(row.attempts, 1);
    assert.match(row.lastError!, /broker down/);
    bus.down = false;
    assert.equal(await outbox.flush(new Date(Date.now() + 3_600_000)), 30);
    assert.equal(bus.sends.flat().length, 30);
  });

  it('sendEnqueued sends a committed batch from memory and deletes its rows; a flush then finds nothing', async () => {
    const bus = new ListBus();
    const outbox = new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
    const batch = await ds.transaction((m) => outbox.enqueueBatch(m, 't.v1', events(2500)));
    assert.deepEqual(
      batch.rows.map((r) => r.messages.length),
      [2000, 500],
    );
    assert.equal(await outbox.sendEnqueued(batch), 2500);
    assert.deepEqual(
      bus.sends.flat().map((m) => m.key),
      events(2500).map((e) => e.key),
    );
    assert.deepEqual(bus.sends.flat()[7].value, { n: 8, text: 'tab\there' });
    assert.equal(await ds.getRepository(OutboxMessage).count(), 0);
    assert.equal(await outbox.flush(), 0);
    assert.equal(await outbox.sendEnqueued(batch), 0, 'rows already gone: nothing sent twice');
    assert.equal(bus.sends.flat().length, 2500);
  });

  it('sendEnqueued flushes instead while older messages of its topic wait, and leaves a refused batch to the flush', async () => {
    const bus = new ListBus();
    const outbox = new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
    const older = await ds.transaction((m) => outbox.enqueueBatch(m, 't.v1', events(3)));
    const newer = await ds.transaction((m) => outbox.enqueueBatch(m, 't.v1', events(3, 3)));
    await ds.transaction((m) => outbox.enqueueBatch(m, 'other.v1', events(2, 100)));
    bus.down = true;
    assert.equal(await outbox.sendEnqueued(older), 0);
    assert.equal((await outbox.depth()).pending, 8, 'everything still in the outbox');
    bus.down = false;
    // The newer batch would overtake the older one: the flush sends everything waiting, oldest first.
    assert.equal(await outbox.sendEnqueued(newer), 8);
    assert.deepEqual(
      bus.sends
        .flat()
        .filter((m) => m.topic === 't.v1')
        .map((m) => m.key),
      ['1', '2', '3', '4', '5', '6'],
      'in order',
    );
    assert.equal((await outbox.depth()).pending, 0);
  });

  it('refuses a key with a tab or a line break, and headers, before writing anything', async () => {
    const outbox = new ReliablePublisher(new ListBus(), ds.getRepository(OutboxMessage));
    await assert.rejects(
      ds.transaction((m) => outbox.enqueueBatch(m, 't.v1', [...events(2), { key: 'a\tb', value: {} }])),
      /tab or a line break/,
    );
    await assert.rejects(
      ds.transaction((m) =>
        outbox.enqueueBatch(m, 't.v1', [{ key: '1', value: {}, headers: { h: 'x' } }, ...events(1)]),
      ),
      /no headers/,
    );
    assert.equal(await ds.getRepository(OutboxMessage).count(), 0);
  });
});
