import type { Producer } from '@platformatic/kafka';
import { KafkaConfig as AppKafkaConfig } from '@sync-hub/config';

/** A message of a batched send: its value as `encode` gives it (`null`: a tombstone). */
export interface BatchMessage {
  topic: string;
  key: string;
  value: string | Buffer | null;
  headers?: Record<string, string>;
}

/** How long a produce request may wait for its answer before it is tried again (a hung broker). */
const REQUEST_TIMEOUT_MS = 5000;
/** Tries of a failed request after the first, and the wait between them: a send gives up after about 20 s. */
const RETRIES = 3;
const RETRY_DELAY_MS = 1000;

/**
 * The producer of the outbox's batched sends (change events, the scheduler's ticks and schedule events): thousands
 * of messages a second. kafkajs encodes each record into its own zero-filled buffer and copies every layer of a
 * request into a new one that doubles as it grows, about 11 KB of buffers for a 600-byte message; on the scheduler's
 * step of 100,000 due that was a third of its CPU (docs/benchmarks.md). `@platformatic/kafka` writes a request once,
 * for half kafkajs's CPU per message. Its settings are the kafkajs producer's: idempotent, acks from every in-sync
 * replica, and Java's murmur2 partitioner, so a key lands on the partition kafkajs (and Java clients) would choose and
 * its messages keep their order whichever producer sent them. Opened at the first send; `@platformatic/kafka` is an
 * ES module, loaded then.
 */
export class BatchProducer {
  private producer: Promise<Producer> | null = null;

  constructor(private readonly kafka: AppKafkaConfig) {}

  /** Resolves once every message is acknowledged by all in-sync replicas; throws when the bus refuses them. */
  async send(messages: BatchMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.open();
    await producer.send({
      messages: messages.map((m) => ({
        topic: m.topic,
        key: Buffer.from(m.key),
        // A tombstone is a record without a value: null (an absent value would fail the producer's check).
        value: (m.value === null ? null : typeof m.value === 'string' ? Buffer.from(m.value) : m.value) as Buffer,
        headers: m.headers && Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v)])),
      })),
    });
  }

  async close(): Promise<void> {
    const opening = this.producer;
    this.producer = null;
    if (!opening) return;
    const producer = await opening.catch(() => null);
    await producer?.close(true);
  }

  private open(): Promise<Producer> {
    this.producer ??= import('@platformatic/kafka').then(
      (pk) =>
        new pk.Producer({
          clientId: `${this.kafka.clientId}-batch`,
          bootstrapBrokers: this.kafka.brokers,
          idempotent: true,
          acks: pk.ProduceAcks.ALL,
          partitioner: pk.compatibilityPartitioner,
          autocreateTopics: false,
          connectTimeout: 5000,
          timeout: REQUEST_TIMEOUT_MS,
          retries: RETRIES,
          retryDelay: RETRY_DELAY_MS,
        }),
      (err: unknown) => {
        this.producer = null;
        throw err;
      },
    );
    return this.producer;
  }
}
