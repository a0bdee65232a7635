import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import { OutboxMessage } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../test/support/sqlite';
import { ChangeEventSender } from './change-event-sender';
import { EventPublisher, OutgoingMessage } from './event-publisher';
import { ReliablePublisher } from './outbox';

/** A bus that records each send (and can refuse them), slow enough that commits pile up behind a send. */
class SlowBus extends EventPublisher {
  readonly sends: Array<Array<{ topic: string; key: string }>> = [];
  down = false;
  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    await this.publishMany([{ topic, messages }]);
  }
  async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
    await new Promise((r) => setTimeout(r, 10));
    if (this.down) throw new Error('send failed: broker down');
    this.sends.push(batches.flatMap((b) => b.messages.map((m) => ({ topic: b.topic, key: m.key }))));
  }
  isConnected(): boolean {
    return true;
  }
}

/** The publisher logs a refused send itself; the sender's own warnings stay out of the test's output. */
class QuietLogger extends Logger {
  override warn(): void {}
}

const events = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ key: String(from + i + 1), value: {} }));

describe("ChangeEventSender: a run's change events sent after each commit, in commit order", () => {
  let ds: DataSource;
  const keys = (bus: SlowBus, topic: string) =>
    bus.sends
      .flat()
      .filter((m) => m.topic === topic)
      .map((m) => m.key);

  before(async () => {
    ds = await inMemoryDatabase([]);
  });
  beforeEach(() => ds.getRepository(OutboxMessage).clear());
  after(async () => {
    await ds?.destroy();
  });

  it('sends the batches of many commits in commit order, gathering those that waited (of any topic) into one request', async () => {
    const bus = new SlowBus();
    const outbox = new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
    const sender = new ChangeEventSender(outbox, new QuietLogger());
    // Seven commits, queued at once (as when they land while a send is out).
    const batches = [];
    for (let page = 0; page < 5; page++)
      batches.push(await ds.transaction((m) => outbox.enqueueBatch(m, 'a.v1', events(100, page * 100))));
    // A second topic in between: each topic keeps its own order.
    batches.push(await ds.transaction((m) => outbox.enqueueBatch(m, 'b.v1', events(3))));
    batches.push(await ds.transaction((m) => outbox.enqueueBatch(m, 'a.v1', events(50, 500))));
    for (const batch of batches) sender.queue(batch);
    await sender.finish();
    assert.deepEqual(
      keys(bus, 'a.v1'),
      events(550).map((e) => e.key),
    );
    assert.deepEqual(keys(bus, 'b.v1'), ['1', '2', '3']);
    assert.deepEqual(
      bus.sends.map((send) => send.length),
      [553],
      'the commits that waited went out together, both topics in one request',
    );
    assert.equal(sender.backlog, 0);
    assert.equal(await ds.getRepository(OutboxMessage).count(), 0, 'every row sent and deleted');
  });

  it('keepUp holds a writer while more than 2,000 events wait, and lets it go once they are sent', async () => {
    const bus = new SlowBus();
    const outbox = new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
    const sender = new ChangeEventSender(outbox, new QuietLogger());
    const batches = [];
    for (let page = 0; page < 6; page++)
      batches.push(await ds.transaction((m) => outbox.enqueueBatch(m, 'a.v1', events(500, page * 500))));
    for (const batch of batches) sender.queue(batch);
    assert.ok(sender.backlog > 2000, `${sender.backlog} waiting`);
    await sender.keepUp();
    assert.ok(sender.backlog <= 2000, `${sender.backlog} still waiting after keepUp`);
    await sender.finish();
    assert.equal(keys(bus, 'a.v1').length, 3000);
  });

  it('a refused send leaves the events in the outbox and the run goes on; a later flush sends them in order', async () => {
    const bus = new SlowBus();
    const outbox = new ReliablePublisher(bus, ds.getRepository(OutboxMessage));
    const sender = new ChangeEventSender(outbox, new QuietLogger(), 'test change events');
    bus.down = true;
    sender.queue(await ds.transaction((m) => outbox.enqueueBatch(m, 'a.v1', events(10))));
    sender.queue(await ds.transaction((m) => outbox.enqueueBatch(m, 'a.v1', events(10, 10))));
    await sender.finish();
    assert.equal(bus.sends.length, 0);
    assert.equal((await outbox.depth()).pending, 20, 'committed events are kept, none lost');
    bus.down = false;
    assert.equal(await outbox.flush(new Date(Date.now() + 3_600_000)), 20);
    assert.deepEqual(
      keys(bus, 'a.v1'),
      events(20).map((e) => e.key),
    );
  });
});
