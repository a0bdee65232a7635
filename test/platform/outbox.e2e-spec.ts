import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventPublisher, OutgoingMessage, ReliablePublisher } from '@sync-hub/messaging';
import { dataSourceOptions, OutboxMessage } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { createTestDatabase, TestDatabase } from '../support/database';

/** Stands in for the bus only: what matters here is what the database lets two flushers take. */
class RecordingBus extends EventPublisher {
  constructor(
    private readonly name: string,
    private readonly sent: Array<{ by: string; n: number }>,
  ) {
    super();
  }
  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    await this.publishMany([{ topic, messages }]);
  }
  async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
    await new Promise((r) => setTimeout(r, 20)); // a send takes a while: the other flusher gets its chance meanwhile
    for (const b of batches)
      for (const m of b.messages) this.sent.push({ by: this.name, n: (m.value as { n: number }).n });
  }
  isConnected(): boolean {
    return true;
  }
}

describe('the outbox on MariaDB, flushed by two processes at once', () => {
  let db: TestDatabase;
  const sources: DataSource[] = [];

  before(async () => {
    db = await createTestDatabase('outbox');
  });
  after(async () => {
    await Promise.all(sources.map((s) => s.destroy()));
    await db?.drop();
  });

  async function process(
    name: string,
    sent: Array<{ by: string; n: number }>,
    bus: EventPublisher = new RecordingBus(name, sent),
  ): Promise<ReliablePublisher> {
    const ds = new DataSource({
      ...dataSourceOptions({ kind: 'mysql', url: db.url }),
      entities: [OutboxMessage],
    });
    await ds.initialize();
    sources.push(ds);
    return new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
  }

  it('sends each message once, in the order it was written, whichever process sends it', async () => {
    const sent: Array<{ by: string; n: number }> = [];
    const a = await process('a', sent);
    const b = await process('b', sent);
    const messages = Array.from({ length: 3500 }, (_, n) => ({
      topic: 'scheduler.schedule.changed.v1',
      key: '7',
      value: { n },
    }));
    await sources[0].transaction((m) => a.enqueue(m, messages));

    const [byA, byB] = await Promise.all([a.flush(), b.flush()]);
    assert.equal(byA + byB, 3500, 'every message sent, none twice');
    assert.deepEqual(
      sent.map((s) => s.n),
      messages.map((m) => m.value.n),
      'one key, one order: no batch overtook an older one',
    );
    assert.equal(await sources[0].getRepository(OutboxMessage).count(), 0);
  });

  it('a batch the bus refused holds back the rows behind it until it goes out', async () => {
    const sent: Array<{ by: string; n: number }> = [];
    let up = false;
    class FlakyBus extends RecordingBus {
      override async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
        if (!up) throw new Error('broker unreachable');
        await super.publishMany(batches);
      }
    }
    const publisher = await process('c', sent, new FlakyBus('c', sent));
    const ds = sources[sources.length - 1];
    await ds.transaction((m) => publisher.enqueue(m, [{ topic: 't', key: '7', value: { n: 1 } }]));
    assert.equal(await publisher.flush(), 0, 'refused: kept with backoff');
    await sources[sources.length - 1].transaction((m) =>
      publisher.enqueue(m, [{ topic: 't', key: '7', value: { n: 2 } }]),
    );
    up = true;
    assert.equal(await publisher.flush(), 0, 'the newer row waits behind the one backing off');
    assert.equal(await publisher.flush(new Date(Date.now() + 3600000)), 2);
    assert.deepEqual(
      sent.map((s) => s.n),
      [1, 2],
    );
  });
});
