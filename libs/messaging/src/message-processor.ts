import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { deadLetterTopic, EventEnvelope, InvalidMessageError, parseEnvelope } from '@sync-hub/contracts';
import { ClassConstructor } from 'class-transformer';
import { MetricsService } from '@sync-hub/observability';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import { EventPublisher, RawRecord } from './event-publisher';

/** The part of a transport context (KafkaContext or InProcessContext) the processor needs. */
export interface BusContext {
  /**
   * The record as the transport decoded it (`value` is null for a tombstone); on Kafka also where it was read and its
   * own bytes (`raw`, see HubKafkaServer), which a dead letter carries unchanged.
   */
  getMessage(): {
    key?: string | Buffer | null;
    value?: unknown;
    headers?: Record<string, unknown>;
    partition?: number;
    offset?: string;
    raw?: RawRecord;
  };
  getTopic(): string;
  getHeartbeat(): () => Promise<void>;
}

export type Heartbeat = () => Promise<void>;
export type MessageHandler<T> = (message: EventEnvelope<T>, heartbeat: Heartbeat) => Promise<void>;
export type TombstoneHandler = (key: string) => Promise<void>;

const PACEMAKER_INTERVAL_MS = 3000;

/**
 * Runs every consumed message through the same rules (DESIGN.md section 7): an invalid message goes to
 * `<topic>.dlq` at once; a handler that keeps failing is tried a bounded number of times and then dead-lettered;
 * the partition keeps flowing. While a handler works, a pacemaker heartbeats so the consumer keeps its membership.
 */
@Injectable()
export class MessageProcessor {
  private readonly logger = new Logger(MessageProcessor.name);
  /** How often the pacemaker heartbeats while a handler runs (below kafkajs's heartbeat interval of 3 s). */
  pacemakerIntervalMs = PACEMAKER_INTERVAL_MS;
  /** First backoff step between tries of a failing handler (cockatiel's exponential backoff, jittered, at most 5 s). */
  retryBaseDelayMs = 400;

  constructor(
    private readonly publisher: EventPublisher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async process<T extends object>(
    value: unknown,
    ctx: BusContext,
    payloadClass: ClassConstructor<T>,
    handler: MessageHandler<T>,
  ): Promise<void> {
    const topic = ctx.getTopic();
    let message: EventEnvelope<T>;
    try {
      message = parseEnvelope(value, payloadClass);
    } catch (err) {
      if (!(err instanceof InvalidMessageError)) throw err;
      this.logger.warn(`dead-lettering an invalid message from ${topic}: ${err.message}`);
      await this.deadLetter(topic, value, ctx, err.message, 0);
      return;
    }
    await this.withRetries(topic, `message ${message.id}`, value, ctx, (heartbeat) => handler(message, heartbeat));
  }

  /**
   * A message of a compacted topic: a tombstone (a null value; Nest's Kafka server then hands the handler the whole
   * record, so the context says what it is) is its key's deletion and is handled before any envelope validation;
   * any other value is processed like every message.
   */
  async processCompacted<T extends object>(
    value: unknown,
    ctx: BusContext,
    payloadClass: ClassConstructor<T>,
    handler: MessageHandler<T>,
    onTombstone: TombstoneHandler,
  ): Promise<void> {
    const record = ctx.getMessage();
    if (record.value !== null && value !== null) return this.process(value, ctx, payloadClass, handler);
    const topic = ctx.getTopic();
    const key = record.key == null ? '' : record.key.toString();
    if (!key) {
      this.logger.warn(`dead-lettering a tombstone without a key from ${topic}`);
      await this.deadLetter(topic, null, ctx, 'invalid message: a tombstone needs a key', 0);
      return;
    }
    await this.withRetries(topic, `tombstone ${key}`, null, ctx, () => onTombstone(key));
  }

  /** Runs a handler with a pacemaker, `KAFKA_MAX_ATTEMPTS` times at most, then dead-letters the message. */
  private async withRetries(
    topic: string,
    what: string,
    value: unknown,
    ctx: BusContext,
    run: (heartbeat: Heartbeat) => Promise<void>,
  ): Promise<void> {
    const heartbeat = this.safeHeartbeat(ctx);
    const pacemaker = setInterval(() => void heartbeat(), this.pacemakerIntervalMs);
    try {
      const maxAttempts = this.config.maxDeliveryAttempts;
      const policy = retry(handleAll, {
        maxAttempts: maxAttempts - 1,
        backoff: new ExponentialBackoff({ initialDelay: this.retryBaseDelayMs, maxDelay: 5000 }),
      });
      policy.onRetry((r) => {
        const reason = 'error' in r ? (r.error?.message ?? String(r.error)) : 'unexpected result';
        this.logger.warn(`${what} on ${topic} failed (attempt ${r.attempt}/${maxAttempts}): ${reason}`);
      });
      try {
        await policy.execute(() => run(heartbeat));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.logger.error(`${what} on ${topic} failed ${maxAttempts} times, dead-lettering: ${reason}`);
        await this.deadLetter(topic, value, ctx, reason, maxAttempts);
      }
    } finally {
      clearInterval(pacemaker);
    }
  }

  private safeHeartbeat(ctx: BusContext): Heartbeat {
    const beat = ctx.getHeartbeat();
    // A heartbeat during a rebalance rejects; the next one, or the end of the handler, settles membership.
    return async () => {
      try {
        await beat();
      } catch (err) {
        this.logger.debug(`heartbeat failed: ${(err as Error).message}`);
      }
    };
  }

  /**
   * Publishes the original record, its key, value and headers byte for byte where the transport kept the bytes, with the
   * reason in headers (DEAD_LETTER_HEADERS, which replace an original header of the same name). If even that fails,
   * the error reaches the transport, which redelivers: a message is never dropped.
   */
  private async deadLetter(
    topic: string,
    value: unknown,
    ctx: BusContext,
    error: string,
    attempts: number,
  ): Promise<void> {
    this.metrics.deadLettered.inc({ topic });
    const record = ctx.getMessage();
    const original = record.raw ?? decodedRecord(record, value);
    const reason: Record<string, string> = {
      error: error.slice(0, 1000),
      attempts: String(attempts),
      failedAt: new Date().toISOString(),
      originalTopic: topic,
    };
    if (record.partition != null) reason.originalPartition = String(record.partition);
    if (record.offset != null) reason.originalOffset = String(record.offset);
    await this.publisher.publishRaw(deadLetterTopic(topic), [
      { key: original.key, value: original.value, headers: { ...original.headers, ...reason } },
    ]);
  }
}

/** The headers dead-lettering adds; a replay takes them off again. */
export const DEAD_LETTER_HEADERS = [
  'error',
  'attempts',
  'failedAt',
  'originalTopic',
  'originalPartition',
  'originalOffset',
] as const;

/** A transport without bytes (the in-process bus): the record as it was decoded. */
function decodedRecord(record: ReturnType<BusContext['getMessage']>, value: unknown): RawRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(record.headers ?? {}))
    if (v != null) headers[k] = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString() : JSON.stringify(v);
  return { key: record.key == null ? '' : record.key.toString(), value: value ?? '', headers };
}
