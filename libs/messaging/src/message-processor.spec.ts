import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { envelope, SyncRequestedPayload } from '@sync-hub/contracts';
import { MetricsService } from '@sync-hub/observability';
import { InProcessEventPublisher } from './event-publisher';
import { BusMessage, InProcessBus, InProcessContext } from './in-process-bus';
import { MessageProcessor } from './message-processor';

const TOPIC = 'sync.splynx.requested.v1';
const validTick = () =>
  envelope('sync.splynx.requested', {
    runId: '0b6f8f8e-7c59-4a0e-9d0b-6d1f1c1f5e11',
    domain: 'splynx',
    job: 'customers',
    companyId: 1,
    trigger: 'manual',
    scheduledFor: '2026-11-21T10:00:00.000Z',
    deadline: '2026-11-21T11:00:00.000Z',
  });

function setup(maxAttempts = 3) {
  const bus = new InProcessBus();
  const metrics = new MetricsService();
  const processor = new MessageProcessor(
    new InProcessEventPublisher(bus),
    loadConfig('splynx-sync', { KAFKA_MAX_ATTEMPTS: String(maxAttempts) }),
    metrics,
  );
  const ctx = (value: unknown) =>
    new InProcessContext([{ topic: TOPIC, key: '1:splynx:customers', value, headers: { trace: 't-1' } }]);
  return { bus, metrics, processor, ctx, dead: () => bus.unconsumed(`${TOPIC}.dlq`) };
}

describe('MessageProcessor', () => {
  it('hands a valid message, validated and typed, to the handler once', async () => {
    const { processor, ctx, dead } = setup();
    const seen: SyncRequestedPayload[] = [];
    const value = validTick();
    await processor.process(value, ctx(value), SyncRequestedPayload, async (m) => void seen.push(m.payload));
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof SyncRequestedPayload);
    assert.equal(dead().length, 0);
  });

  it('dead-letters an invalid message at once, with the reason, the key and the original headers', async () => {
    const { processor, ctx, dead, metrics } = setup();
    const value = { ...validTick(), payload: { ...validTick().payload, companyId: 0, extra: true } };
    let called = false;
    await processor.process(value, ctx(value), SyncRequestedPayload, async () => void (called = true));
    assert.equal(called, false);
    const [letter] = dead();
    assert.deepEqual(letter.value, value);
    assert.equal(letter.key, '1:splynx:customers');
    assert.equal(letter.headers.attempts, '0');
    assert.equal(letter.headers.trace, 't-1');
    assert.match(letter.headers.error, /payload\.companyId: companyId must not be less than 1/);
    assert.match(letter.headers.error, /payload\.extra: property extra should not exist/);
    assert.match(
      await metrics.registry.metrics(),
      /bus_messages_dead_lettered_total\{topic="sync.splynx.requested.v1"\} 1/,
    );
  });

  it('dead-letters a value that is not an envelope at all', async () => {
    const { processor, ctx, dead } = setup();
    await processor.process('not json', ctx('not json'), SyncRequestedPayload, async () => undefined);
    assert.equal(dead()[0].value, 'not json');
    assert.match(dead()[0].headers.error, /must be a JSON object envelope/);
  });

  it('retries a failing handler, then dead-letters it after the bounded attempts', async () => {
    const { processor, ctx, dead } = setup(3);
    let calls = 0;
    const value = validTick();
    await processor.process(value, ctx(value), SyncRequestedPayload, async () => {
      calls++;
      throw new Error('database is down');
    });
    assert.equal(calls, 3);
    assert.equal(dead()[0].headers.attempts, '3');
    assert.match(dead()[0].headers.error, /database is down/);
  });

  it('a handler that recovers on a retry is not dead-lettered', async () => {
    const { processor, ctx, dead } = setup(3);
    let calls = 0;
    const value = validTick();
    await processor.process(value, ctx(value), SyncRequestedPayload, async () => {
      if (++calls === 1) throw new Error('transient');
    });
    assert.equal(calls, 2);
    assert.equal(dead().length, 0);
  });
});

describe('MessageProcessor pacemaker', () => {
  it('heartbeats while a long handler works, and stops when it ends', async () => {
    const { processor } = setup();
    processor.pacemakerIntervalMs = 10;
    let beats = 0;
    const value = validTick();
    const ctx = new (class extends InProcessContext {
      override getHeartbeat() {
        return async () => void beats++;
      }
    })([{ topic: TOPIC, key: 'k', value, headers: {} }]);
    await processor.process(value, ctx, SyncRequestedPayload, () => new Promise((r) => setTimeout(r, 120)));
    const atEnd = beats;
    assert.ok(atEnd >= 5, `heartbeats during the handler: ${atEnd}`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(beats, atEnd, 'no heartbeat after the handler returned');
  });
});

describe('InProcessBus', () => {
  it('delivers a topic in publish order, one at a time, as JSON copies', async () => {
    const bus = new InProcessBus();
    const order: number[] = [];
    let inFlight = 0;
    bus.subscribe('t', async (m) => {
      inFlight++;
      assert.equal(inFlight, 1);
      await new Promise((r) => setTimeout(r, 2));
      order.push((m.value as { n: number }).n);
      inFlight--;
    });
    const original = { n: 1, at: new Date(0) };
    bus.publish('t', 'k', original);
    bus.publish('t', 'k', { n: 2 });
    bus.publish('t', 'k', { n: 3 });
    original.n = 99;
    await bus.drain();
    assert.deepEqual(order, [1, 2, 3]);
  });
});

describe('tombstones on a compacted topic', () => {
  const SCHEDULES = 'scheduler.schedule.changed.v1';
  const kafkaLikeContext = (key: string | null) => {
    // What Nest's Kafka server hands a handler for a record without a value: the whole record as the "payload".
    const record = { key, value: null, headers: {}, offset: '7', timestamp: '0', topic: SCHEDULES, partition: 0 };
    return {
      payload: record,
      ctx: new (class extends InProcessContext {
        override getMessage() {
          return record as unknown as BusMessage;
        }
        override getTopic() {
          return SCHEDULES;
        }
      })([record as unknown as BusMessage]),
    };
  };

  it('hands a tombstone to the tombstone handler with its key, before any envelope validation', async () => {
    const { processor, bus } = setup();
    const { payload, ctx } = kafkaLikeContext('42');
    const deleted: string[] = [];
    let upserts = 0;
    await processor.processCompacted(
      payload,
      ctx,
      SyncRequestedPayload,
      async () => void upserts++,
      async (key) => void deleted.push(key),
    );
    assert.deepEqual(deleted, ['42']);
    assert.equal(upserts, 0);
    assert.equal(bus.unconsumed(`${SCHEDULES}.dlq`).length, 0, 'not dead-lettered');
  });

  it('processes a value as usual, and dead-letters a tombstone without a key', async () => {
    const { processor, bus } = setup();
    const value = validTick();
    const seen: string[] = [];
    await processor.processCompacted(
      value,
      new InProcessContext([{ topic: SCHEDULES, key: '1', value, headers: {} }]),
      SyncRequestedPayload,
      async (m) => void seen.push(m.payload.runId),
      async () => assert.fail('not a tombstone'),
    );
    assert.deepEqual(seen, [value.payload.runId]);
    const { payload, ctx } = kafkaLikeContext(null);
    await processor.processCompacted(
      payload,
      ctx,
      SyncRequestedPayload,
      async () => undefined,
      async () => undefined,
    );
    const [letter] = bus.unconsumed(`${SCHEDULES}.dlq`);
    assert.match(letter.headers.error, /tombstone needs a key/);
  });

  it('the publishers carry a null value as a real null (a tombstone), not as the text "null"', async () => {
    const bus = new InProcessBus();
    const received: BusMessage[] = [];
    bus.subscribe(SCHEDULES, async (m) => void received.push(m));
    await new InProcessEventPublisher(bus).publish(SCHEDULES, [{ key: '42', value: null }]);
    await bus.drain();
    assert.equal(received.length, 1);
    assert.equal(received[0].value, null);
    assert.equal(received[0].key, '42');
  });
});
