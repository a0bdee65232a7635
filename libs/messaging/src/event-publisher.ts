import { Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { KafkaConfig as AppKafkaConfig } from '@sync-hub/config';
import { Admin, CompressionTypes, IHeaders, Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { BatchProducer } from './batch-producer';
import { InProcessBus } from './in-process-bus';
import { kafkaClientConfig } from './kafka-options';

export interface OutgoingMessage {
  key: string;
  /** JSON-encoded unless a string or Buffer; `null` is a tombstone (a Kafka record without a value). */
  value: unknown;
  headers?: Record<string, string>;
}

/**
 * A record as Kafka holds it: the key and headers as bytes (kafkajs's shapes), the value as `OutgoingMessage`'s. What a
 * dead letter and its replay carry, so that neither re-encodes a byte of the original.
 */
export interface RawRecord {
  key: Buffer | string | null;
  value: unknown;
  headers: IHeaders;
}

/** The one way apps publish. `publish` resolves only once the bus has accepted the messages, so errors surface. */
export abstract class EventPublisher {
  abstract publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  /** Several topics at once: on Kafka one request; order is kept within each topic. */
  abstract publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void>;
  abstract isConnected(): boolean;
  /**
   * Why the bus cannot take a message now, or null when it can: for readiness, and for callers that would rather say
   * "the bus is down" at once than wait out the producer's retries.
   */
  async unreachable(): Promise<string | null> {
    return this.isConnected() ? null : 'bus producer is not connected';
  }

  /**
   * A message value from its JSON text, as the outbox stores it. By default the parsed value; the Kafka publisher keeps
   * the text (`StoredJson`) and sends it as it is, so a flush neither parses nor re-encodes what it read.
   */
  storedValue(json: string): unknown {
    return JSON.parse(json) as unknown;
  }

  /** Records whose key and headers may be bytes. A bus without bytes (in-process) gets them as text. */
  publishRaw(topic: string, records: RawRecord[]): Promise<void> {
    return this.publish(topic, records.map(asText));
  }
}

function asText(record: RawRecord): OutgoingMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(record.headers))
    if (v != null) headers[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
  return { key: record.key == null ? '' : record.key.toString(), value: record.value, headers };
}

/** A broker probe's answer is reused this long: readiness probes and callers share one metadata request. */
export const BROKER_PROBE_CACHE_MS = 2000;
/** A probe that gets no answer in this long counts as unreachable (a hung broker, a dropped network). */
export const BROKER_PROBE_TIMEOUT_MS = 2500;

/**
 * A value's JSON text, held as read from the outbox: `encode` sends it as the value it encodes would be sent (a JSON
 * string as its text, `null` as a tombstone, anything else as the JSON itself).
 */
export class StoredJson {
  constructor(readonly json: string) {}
}

/** A null value stays null: on a compacted topic that is a tombstone, which JSON's "null" would not be. */
export function encode(value: unknown): string | Buffer | null {
  if (value instanceof StoredJson)
    return value.json === 'null' || value.json.startsWith('"') ? encode(JSON.parse(value.json)) : value.json;
  if (value === null) return null;
  return typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value);
}

export class KafkaEventPublisher extends EventPublisher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KafkaEventPublisher.name);
  private readonly producer: Producer;
  /** The outbox's batched sends (`publishMany`): thousands of messages a second, written without kafkajs's copies. */
  private readonly batches: BatchProducer;
  /** Asks the cluster for its metadata: the probe behind `unreachable()`. */
  private readonly admin: Admin;
  private connecting: Promise<void> | null = null;
  private connected = false;
  private probed: { at: number; problem: string | null } | null = null;
  private probing: Promise<string | null> | null = null;

  constructor(private readonly kafka: AppKafkaConfig) {
    super();
    const client = new Kafka(kafkaClientConfig(kafka, '-producer'));
    // No retries and a short connection timeout: the probe answers now, and the next one asks again. Its failures are
    // logged once per change of state (below), not on every probe.
    this.admin = new Kafka({
      ...kafkaClientConfig(kafka, '-probe'),
      connectionTimeout: 1000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    }).admin();
    // Idempotent producer: a retried send is written once; acks from all in-sync replicas.
    this.producer = client.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      // Java-compatible murmur2, the kafkajs 2 default, named so the same key lands on the same partition whoever produces.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.producer.on(this.producer.events.DISCONNECT, () => (this.connected = false));
    this.batches = new BatchProducer(kafka);
  }

  private async ensureConnected(): Promise<void> {
    if (this.connected) return;
    this.connecting ??= this.producer.connect().then(
      () => {
        this.connected = true;
        this.connecting = null;
      },
      (err: unknown) => {
        this.connecting = null;
        throw err;
      },
    );
    await this.connecting;
  }

  /** Connect at start: a process that cannot reach Kafka fails its start-up rather than its first tick. */
  async onModuleInit(): Promise<void> {
    await this.ensureConnected();
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.ensureConnected();
    await this.producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.None,
      messages: messages.map((m) => ({ key: m.key, value: encode(m.value), headers: m.headers })),
    });
  }

  /**
   * Through the batch producer (`BatchProducer`): the same guarantees as `publish` (idempotent, acks from all in-sync
   * replicas, a key on the partition kafkajs would choose), for a fraction of kafkajs's CPU and memory per message.
   */
  async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
    const messages = batches.flatMap((b) =>
      b.messages.map((m) => ({ topic: b.topic, key: m.key, value: encode(m.value), headers: m.headers })),
    );
    if (messages.length === 0) return;
    await this.ensureConnected();
    await this.batches.send(messages);
  }

  isConnected(): boolean {
    return this.connected;
  }

  override storedValue(json: string): unknown {
    return new StoredJson(json);
  }

  override async publishRaw(topic: string, records: RawRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensureConnected();
    await this.producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.None,
      messages: records.map((r) => ({ key: r.key, value: encode(r.value), headers: r.headers })),
    });
  }

  /**
   * kafkajs's producer reports nothing when its broker goes away: it reconnects per request, retrying each send for
   * about a minute, so "connected" stays true through an outage. The bus counts as reachable when a metadata request
   * (what any send starts with) is answered within BROKER_PROBE_TIMEOUT_MS; the answer is kept BROKER_PROBE_CACHE_MS,
   * and concurrent callers share one request.
   */
  override async unreachable(): Promise<string | null> {
    if (!this.connected) return 'bus producer is not connected';
    if (this.probed && Date.now() - this.probed.at < BROKER_PROBE_CACHE_MS) return this.probed.problem;
    this.probing ??= this.probe().finally(() => (this.probing = null));
    return this.probing;
  }

  private async probe(): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    let problem: string | null = null;
    try {
      await Promise.race([
        this.admin.connect().then(() => this.admin.describeCluster()),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer in ${BROKER_PROBE_TIMEOUT_MS} ms`)),
            BROKER_PROBE_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (err) {
      problem = `bus producer cannot reach the broker (${this.kafka.brokers.join(', ')}): ${(err as Error).message}`;
      // A fresh connection for the next probe: kafkajs may keep a dead one.
      await this.admin.disconnect().catch(() => undefined);
    } finally {
      clearTimeout(timer);
    }
    if ((this.probed?.problem ?? null) !== problem) {
      if (problem) this.logger.warn(problem);
      else if (this.probed) this.logger.log('bus producer reaches the broker again');
    }
    this.probed = { at: Date.now(), problem };
    return problem;
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.producer.disconnect();
    } catch (err) {
      this.logger.warn(`producer disconnect failed: ${(err as Error).message}`);
    }
    await this.batches.close().catch((err: Error) => this.logger.warn(`batch producer close failed: ${err.message}`));
    await this.admin.disconnect().catch(() => undefined);
  }
}

export class InProcessEventPublisher extends EventPublisher {
  constructor(private readonly bus: InProcessBus) {
    super();
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    for (const m of messages) this.bus.publish(topic, m.key, m.value, m.headers);
  }

  async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
    for (const b of batches) await this.publish(b.topic, b.messages);
  }

  isConnected(): boolean {
    return true;
  }
}
