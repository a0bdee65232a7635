import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceUnavailableException } from '@nestjs/common';
import { Topic } from '@sync-hub/contracts';
import { EventPublisher, OutgoingMessage } from '@sync-hub/messaging';
import { ManualRunController } from './manual-run.controller';

class Bus extends EventPublisher {
  down: string | null = null;
  refuse: string | null = null;
  readonly sent: Array<{ topic: string } & OutgoingMessage> = [];
  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.refuse) throw new Error(this.refuse);
    this.sent.push(...messages.map((m) => ({ topic, ...m })));
  }
  async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
    for (const b of batches) await this.publish(b.topic, b.messages);
  }
  isConnected(): boolean {
    return true;
  }
  override async unreachable(): Promise<string | null> {
    return this.down;
  }
}

describe('a manual run while the bus is down', () => {
  it('is refused at once with 503 naming the bus, and nothing is sent', async () => {
    const bus = new Bus();
    bus.down = 'bus producer cannot reach the broker (127.0.0.1:9): connect ECONNREFUSED';
    const controller = new ManualRunController(bus);
    const refused = await controller.run('splynx', 'customers', {}).then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(refused instanceof ServiceUnavailableException);
    assert.match(
      (refused.getResponse() as { message: string }).message,
      /^the bus is down, so no run was requested \(bus producer cannot reach the broker .*\); try again once \/health\/ready answers 200$/,
    );
    assert.deepEqual(bus.sent, []);
  });

  it('a send the bus refuses after a good probe is a 503 too, not a 500', async () => {
    const bus = new Bus();
    bus.refuse = 'KafkaJSNumberOfRetriesExceeded: connect ECONNREFUSED';
    const refused = await new ManualRunController(bus).run('splynx', 'customers', {}).catch((err: unknown) => err);
    assert.ok(refused instanceof ServiceUnavailableException);
    assert.match((refused.getResponse() as { message: string }).message, /KafkaJSNumberOfRetriesExceeded/);
  });

  it('with the bus up, the tick goes out and its run id comes back', async () => {
    const bus = new Bus();
    const { run_id } = await new ManualRunController(bus).run('splynx', 'customers', {});
    assert.equal(bus.sent.length, 1);
    assert.equal(bus.sent[0].topic, Topic.SplynxRequested);
    assert.equal((bus.sent[0].value as { payload: { runId: string } }).payload.runId, run_id);
  });
});
