import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { envelope, SyncRequestedPayload } from '@sync-hub/contracts';
import { MetricsService } from '@sync-hub/observability';
import { KafkaParser } from '@nestjs/microservices';
import { KafkaMessage } from 'kafkajs';
import { InProcessEventPublisher, RawRecord } from './event-publisher';
import { BusMessage, InProcessBus, InProcessContext } from './in-process-bus';
import { QueryFailedError } from 'typeorm';
import { BusContext, ConsumerStoppingError, DEAD_LETTER_HEADERS, MessageProcessor } from './message-processor';
import { HubKafkaServer } from './transport';

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

/** What mysql2 throws for a database that refuses connections, wrapped as TypeORM hands it to a handler. */
const databaseDown = () =>
  new QueryFailedError(
    'SELECT 1',
    [],
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      fatal: true,
    }),
  );

/** The processor's log lines, by level. */
function recordLogs(processor: MessageProcessor): Record<'log' | 'warn' | 'error' | 'debug', string[]> {
  const lines = { log: [] as string[], warn: [] as string[], error: [] as string[], debug: [] as string[] };
  (processor as unknown as { logger: unknown }).logger = {
    log: (m: string) => lines.log.push(m),
    warn: (m: string) => lines.warn.push(m),
    error: (m: string) => lines.error.push(m),
    debug: (m: string) => lines.debug.push(m),
  };
  return lines;
}

describe('MessageProcessor through a database or bus outage', () => {
  /** Fast retries: what matters here is what is counted, not how long it waits. */
  function outageSetup(maxAttempts = 3) {
    const s = setup(maxAttempts);
    s.processor.infraRetryBaseDelayMs = 1;
    s.processor.infraRetryMaxDelayMs = 4;
    s.processor.retryBaseDelayMs = 1;
    return { ...s, logs: recordLogs(s.processor) };
  }

  it('retries a handler the database fails far past the attempt budget, then handles it: no dead letter, two log lines', async () => {
    const { processor, ctx, dead, logs } = outageSetup(3);
    let calls = 0;
    const value = validTick();
    await processor.process(value, ctx(value), SyncRequestedPayload, async () => {
      if (++calls <= 12) throw databaseDown();
    });
    assert.equal(calls, 13, 'twelve failures (four times the budget of 3), then the try that worked');
    assert.equal(dead().length, 0);
    assert.equal(logs.error.length, 0);
    assert.equal(logs.warn.length, 1, logs.warn.join('\n'));
    assert.match(logs.warn[0], /cannot be handled now: a connection failed \(connect ECONNREFUSED 127\.0\.0\.1:3306\)/);
    assert.match(logs.warn[0], /not counted as an attempt, not dead-lettered/);
    assert.equal(logs.log.length, 1, logs.log.join('\n'));
    assert.match(logs.log[0], /handled after waiting \d+\.\d s \(13 tries\) for the infrastructure/);
  });

  it('keeps heartbeating while it waits out an outage, so the consumer keeps its membership', async () => {
    const { processor } = outageSetup();
    processor.pacemakerIntervalMs = 5;
    processor.infraRetryBaseDelayMs = 20;
    processor.infraRetryMaxDelayMs = 20;
    let beats = 0;
    const value = validTick();
    const ctx = new (class extends InProcessContext {
      override getHeartbeat() {
        return async () => void beats++;
      }
    })([{ topic: TOPIC, key: 'k', value, headers: {} }]);
    let calls = 0;
    await processor.process(value, ctx, SyncRequestedPayload, async () => {
      if (++calls <= 5) throw databaseDown();
    });
    assert.equal(calls, 6);
    // At least one in each of the five waits (16–24 ms each, the pacemaker every 5 ms: its timer comes due first
    // however late timers fire); not a count per stretch of wall time, which a loaded CI runner cannot promise.
    assert.ok(beats >= 5, `heartbeats during the five waits of the outage: ${beats}`);
  });

  it('counts only the failures that are not the infrastructure: dead-lettered after the budget of those', async () => {
    const { processor, ctx, dead, logs } = outageSetup(3);
    const script = ['db', 'bad', 'db', 'db', 'bad', 'db', 'bad', 'never reached'];
    let calls = 0;
    const value = validTick();
    await processor.process(value, ctx(value), SyncRequestedPayload, async () => {
      const step = script[calls++];
      throw step === 'db' ? databaseDown() : new Error(`no such company (${step})`);
    });
    assert.equal(calls, 7, 'four database failures did not count; the third deterministic one was the last try');
    assert.equal(dead().length, 1);
    assert.equal(dead()[0].headers.attempts, '3');
    assert.match(dead()[0].headers.error, /no such company/);
    assert.equal(logs.error.length, 1);
    assert.match(logs.error[0], /failed 3 times, dead-lettering: no such company/);
  });

  it('a handler that fails the same way every time is still dead-lettered after KAFKA_MAX_ATTEMPTS tries', async () => {
    const { processor, ctx, dead } = outageSetup(4);
    let calls = 0;
    const value = validTick();
    await processor.process(value, ctx(value), SyncRequestedPayload, async () => {
      calls++;
      throw new QueryFailedError(
        'INSERT',
        [],
        Object.assign(new Error("Duplicate entry '1' for key 'PRIMARY'"), { code: 'ER_DUP_ENTRY', errno: 1062 }),
      );
    });
    assert.equal(calls, 4);
    assert.equal(dead().length, 1);
    assert.equal(dead()[0].headers.attempts, '4');
  });

  it('stops waiting at once when the process stops: not dead-lettered, the message is left for redelivery', async () => {
    const { processor, ctx, dead, logs } = outageSetup(3);
    // A long wait between tries, which the stop cuts short.
    processor.infraRetryBaseDelayMs = 60_000;
    processor.infraRetryMaxDelayMs = 60_000;
    let calls = 0;
    const value = validTick();
    const handling = processor.process(value, ctx(value), SyncRequestedPayload, async () => {
      calls++;
      throw databaseDown();
    });
    await new Promise((r) => setTimeout(r, 50));
    const stoppedAt = Date.now();
    processor.stop();
    await assert.rejects(handling, (err: Error) => {
      assert.ok(err instanceof ConsumerStoppingError, String(err));
      return true;
    });
    const tookMs = Date.now() - stoppedAt;
    assert.ok(tookMs < 500, `gave up in ${tookMs} ms`);
    assert.equal(calls, 1);
    assert.equal(dead().length, 0);
    assert.match(logs.warn.at(-1) ?? '', /left for redelivery: the process is stopping/);
    // A stopped processor still hands a message its first try (embedded mode: the run events of runs finishing at
    // shutdown), but gives up at once on an outage rather than waiting.
    let later = 0;
    await processor.process(value, ctx(value), SyncRequestedPayload, async () => void later++);
    assert.equal(later, 1);
    await assert.rejects(
      processor.process(value, ctx(value), SyncRequestedPayload, async () => {
        throw databaseDown();
      }),
      ConsumerStoppingError,
    );
    assert.equal(dead().length, 0);
  });

  it("gives up waiting when the group rebalances (kafkajs's heartbeat answer), so the rebalance is not held up", async () => {
    const { processor, dead } = outageSetup(3);
    processor.infraRetryBaseDelayMs = 60_000;
    processor.infraRetryMaxDelayMs = 60_000;
    const rebalancing = Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), {
      name: 'KafkaJSProtocolError',
      type: 'REBALANCE_IN_PROGRESS',
      retriable: false,
    });
    const value = validTick();
    const ctx = new (class extends InProcessContext {
      override getHeartbeat() {
        return async () => {
          throw rebalancing;
        };
      }
    })([{ topic: TOPIC, key: 'k', value, headers: {} }]);
    let calls = 0;
    await assert.rejects(
      processor.process(value, ctx, SyncRequestedPayload, async (_m, heartbeat) => {
        calls++;
        await heartbeat();
        throw databaseDown();
      }),
      (err) => err === rebalancing,
    );
    assert.equal(calls, 1);
    assert.equal(dead().length, 0);
  });
});

describe('dead letters on Kafka keep the record byte for byte', () => {
  /** A record as kafkajs delivers it, parsed by the hub's Kafka server as a handler's context would carry it. */
  function kafkaRecord(record: KafkaMessage): { value: unknown; ctx: BusContext } {
    const server = new HubKafkaServer({ client: { brokers: ['127.0.0.1:9'] } });
    const parser = (server as unknown as { parser: KafkaParser }).parser;
    const message = parser.parse<ReturnType<BusContext['getMessage']>>(
      Object.assign(record, { topic: TOPIC, partition: 2 }),
    );
    const ctx: BusContext = { getMessage: () => message, getTopic: () => TOPIC, getHeartbeat: () => async () => {} };
    return { value: message.value, ctx };
  }

  function recording() {
    const sent: Array<{ topic: string; record: RawRecord }> = [];
    const publisher = new (class extends InProcessEventPublisher {
      override async publishRaw(topic: string, records: RawRecord[]) {
        for (const record of records) sent.push({ topic, record });
      }
    })(new InProcessBus());
    const processor = new MessageProcessor(publisher, loadConfig('splynx-sync', {}), new MetricsService());
    return { processor, sent };
  }

  it('a value that is not UTF-8 (fffe0001) is dead-lettered as those four bytes, with its key and headers as bytes', async () => {
    const { processor, sent } = recording();
    const bytes = Buffer.from('fffe0001', 'hex');
    const { value, ctx } = kafkaRecord({
      key: Buffer.from('c3', 'hex'),
      value: bytes,
      headers: { trace: Buffer.from('ff00', 'hex') },
      timestamp: '0',
      attributes: 0,
      offset: '41',
    });
    assert.notDeepEqual(
      Buffer.from(String(value)),
      bytes,
      "Nest's decoded copy is lossy: the bytes must come from raw",
    );
    await processor.process(value, ctx, SyncRequestedPayload, async () => assert.fail('not valid'));
    assert.equal(sent.length, 1);
    const [{ topic, record }] = sent;
    assert.equal(topic, `${TOPIC}.dlq`);
    assert.ok(Buffer.isBuffer(record.value));
    assert.equal(record.value.toString('hex'), 'fffe0001');
    assert.equal((record.key as Buffer).toString('hex'), 'c3');
    assert.equal((record.headers.trace as Buffer).toString('hex'), 'ff00');
    assert.match(String(record.headers.error), /must be a JSON object envelope/);
    assert.equal(record.headers.attempts, '0');
    assert.equal(record.headers.originalTopic, TOPIC);
    assert.equal(record.headers.originalPartition, '2');
    assert.equal(record.headers.originalOffset, '41');
    assert.ok(!Number.isNaN(Date.parse(String(record.headers.failedAt))));
    assert.deepEqual(
      Object.keys(record.headers).sort(),
      ['trace', ...DEAD_LETTER_HEADERS].sort(),
      'the original headers and the reason, nothing else',
    );
  });

  it("a handler's failure dead-letters the exact JSON bytes it was given, and a reason header replaces a stale one", async () => {
    const { processor, sent } = recording();
    // Spacing and key order a re-encoding would change.
    const text = JSON.stringify(validTick(), null, 1);
    const { value, ctx } = kafkaRecord({
      key: Buffer.from('1:splynx:customers'),
      value: Buffer.from(text),
      headers: { attempts: Buffer.from('9'), error: Buffer.from('an earlier failure') },
      timestamp: '0',
      attributes: 0,
      offset: '7',
    });
    processor.retryBaseDelayMs = 1;
    await processor.process(value, ctx, SyncRequestedPayload, async () => {
      throw new Error('no such company');
    });
    const [{ record }] = sent;
    assert.equal((record.value as Buffer).toString(), text);
    assert.equal(record.headers.attempts, '3');
    assert.equal(record.headers.error, 'no such company');
  });

  it('a tombstone without a key is dead-lettered as a tombstone (a null value), not as an empty text', async () => {
    const { processor, sent } = recording();
    const { value, ctx } = kafkaRecord({
      key: null,
      value: null,
      headers: {},
      timestamp: '0',
      attributes: 0,
      offset: '3',
    });
    await processor.processCompacted(
      value,
      ctx,
      SyncRequestedPayload,
      async () => undefined,
      async () => undefined,
    );
    assert.equal(sent.length, 1);
    assert.equal(sent[0].record.value, null);
    assert.equal(sent[0].record.key, null);
    assert.match(String(sent[0].record.headers.error), /tombstone needs a key/);
  });
});

describe('MessageProcessor pacemaker', () => {
  // The handler ends once it has been heartbeaten three times, however slowly its timers fire: the test asserts that
  // heartbeats come while it works (it hangs to its timeout otherwise), not how many fit in a stretch of wall time, which
  // a loaded CI runner cannot promise (5 in 120 ms failed there with 1).
  it('heartbeats while a long handler works, and stops when it ends', { timeout: 20000 }, async () => {
    const { processor } = setup();
    processor.pacemakerIntervalMs = 10;
    let beats = 0;
    let threeBeats: () => void = () => undefined;
    const beatenThrice = new Promise<void>((resolve) => (threeBeats = resolve));
    const value = validTick();
    const ctx = new (class extends InProcessContext {
      override getHeartbeat() {
        return async () => {
          if (++beats === 3) threeBeats();
        };
      }
    })([{ topic: TOPIC, key: 'k', value, headers: {} }]);
    await processor.process(value, ctx, SyncRequestedPayload, () => beatenThrice);
    const atEnd = beats;
    assert.ok(atEnd >= 3, `heartbeats during the handler: ${atEnd}`);
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
