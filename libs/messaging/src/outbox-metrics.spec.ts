import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MetricsService } from '@sync-hub/observability';
import { OutboxMessage } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../test/support/sqlite';
import { EventPublisher, OutgoingMessage } from './event-publisher';
import { ReliablePublisher } from './outbox';

/** A bus that is down: whatever is published stays in the outbox. */
class DownBus extends EventPublisher {
  async publish(_topic: string, _messages: OutgoingMessage[]): Promise<void> {
    throw new Error('not reached');
  }
  async publishMany(): Promise<void> {
    throw new Error('not reached');
  }
  isConnected(): boolean {
    return true;
  }
  override async unreachable(): Promise<string | null> {
    return 'bus producer cannot reach the broker (127.0.0.1:9)';
  }
}

describe('outbox_pending_messages and outbox_oldest_pending_age_seconds', () => {
  let ds: DataSource;

  before(async () => {
    ds = await inMemoryDatabase([]);
  });
  after(async () => {
    await ds?.destroy();
  });

  it('report the rows waiting and the age of the oldest, 0 and 0 once they are sent', async () => {
    const metrics = new MetricsService();
    const outbox = new ReliablePublisher(new DownBus(), ds.getRepository(OutboxMessage), metrics);
    assert.match(await metrics.scrape(), /^outbox_pending_messages 0$/m);
    assert.match(await metrics.scrape(Date.now() + 10_000), /^outbox_oldest_pending_age_seconds 0$/m);

    const written = new Date(Date.now() - 90_000);
    await ds.transaction((m) =>
      outbox.enqueue(
        m,
        [1, 2, 3].map((n) => ({ topic: 'sync.splynx.requested.v1', key: `k${n}`, value: { n } })),
        written,
      ),
    );
    await outbox.publish('sync.run.completed.v1', { key: 'r1', value: { n: 4 } });
    assert.deepEqual(await outbox.depth(new Date(written.getTime() + 90_000)), { pending: 4, oldestAgeSeconds: 90 });

    const text = await metrics.scrape(Date.now() + 20_000);
    assert.match(text, /^outbox_pending_messages 4$/m);
    const age = Number(/^outbox_oldest_pending_age_seconds (\S+)$/m.exec(text)?.[1]);
    assert.ok(age >= 90 && age < 100, `age ${age}`);

    await ds.getRepository(OutboxMessage).clear();
    assert.match(await metrics.scrape(Date.now() + 30_000), /^outbox_pending_messages 0$/m);
    outbox.onModuleDestroy();
    assert.doesNotMatch(await metrics.scrape(Date.now() + 40_000), /metrics_source_up\{source="outbox"\}/);
  });
});
