import { setTimeout as sleep } from 'node:timers/promises';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { deadLetterTopic, EventEnvelope, InvalidMessageError, parseEnvelope } from '@sync-hub/contracts';
import { ClassConstructor } from 'class-transformer';
import { MetricsService } from '@sync-hub/observability';
import { EventPublisher, RawRecord } from './event-publisher';
import { infrastructureProblem } from './infrastructure-errors';

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
/** While an outage lasts, a line says so this often (besides the first and the last). */
const OUTAGE_REMINDER_MS = 60_000;
const MAX_ATTEMPT_DELAY_MS = 5000;

/** A message waiting out an outage since `since`, tried `tries` times after its first failure. */
interface Outage {
  since: number;
  tries: number;
  reportedAt: number;
}

/**
 * A handler waiting out an outage gave up because the process is stopping: not the message's fault, so not
 * dead-lettered. It reaches the transport as a failure (Nest and kafkajs log it once), so the offset stays uncommitted
 * and the partition's next owner gets the message again.
 */
export class ConsumerStoppingError extends Error {
  override readonly name = 'ConsumerStoppingError';
}

/**
 * Runs every consumed message through the same rules (DESIGN.md section 7): an invalid message goes to
 * `<topic>.dlq` at once; a handler that keeps failing is tried a bounded number of times and then dead-lettered;
 * the partition keeps flowing. A handler that fails because the database or the bus is unreachable is no reason to
 * dead-letter: it is retried until the outage ends, and the partition waits. While a handler works, a pacemaker
 * heartbeats so the consumer keeps its membership.
 */
@Injectable()
export class MessageProcessor implements BeforeApplicationShutdown {
  private readonly logger = new Logger(MessageProcessor.name);
  private readonly stopping = new AbortController();
  /** How often the pacemaker heartbeats while a handler runs (below kafkajs's heartbeat interval of 3 s). */
  pacemakerIntervalMs = PACEMAKER_INTERVAL_MS;
  /** First backoff step between tries of a failing handler (doubling, jittered, at most 5 s). */
  retryBaseDelayMs = 400;
  /**
   * First and longest wait between tries through an outage (doubling, jittered): a tick waits at most this long after
   * the database is back.
   */
  infraRetryBaseDelayMs = 500;
  infraRetryMaxDelayMs = 5000;

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

  /**
   * Runs a handler with a pacemaker until it succeeds. A failure of the infrastructure (the database or the bus cannot
   * be reached: `isInfrastructureError`) is retried with capped backoff for as long as it lasts, without counting as an
   * attempt: the partition waits, and the consumer keeps its membership. Any other failure counts, and after
   * `KAFKA_MAX_ATTEMPTS` of them the message is dead-lettered. Waiting out an outage ends without dead-lettering at
   * shutdown (`stop`) or at a rebalance: the message's offset is not committed, so it is delivered again.
   */
  private async withRetries(
    topic: string,
    what: string,
    value: unknown,
    ctx: BusContext,
    run: (heartbeat: Heartbeat) => Promise<void>,
  ): Promise<void> {
    const beats = this.watchedHeartbeat(ctx);
    const pacemaker = setInterval(() => void beats.heartbeat(), this.pacemakerIntervalMs);
    const maxAttempts = this.config.maxDeliveryAttempts;
    let failures = 0;
    let outage: Outage | null = null;
    try {
      for (;;) {
        try {
          await run(beats.heartbeat);
          if (outage) this.logRecovery(what, topic, outage);
          return;
        } catch (err) {
          const problem = infrastructureProblem(err);
          if (problem) {
            outage ??= this.logOutageStart(what, topic, problem);
            this.logOutageGoingOn(what, topic, outage, problem);
            this.giveUpIfStopping(what, topic);
            // A rebalance waits for this handler: let it happen; the partition's next owner gets the message again.
            if (beats.rebalancing) {
              this.logger.warn(`${what} on ${topic} is left for redelivery: the consumer group is rebalancing`);
              throw beats.rebalancing;
            }
            await this.pause(
              infrastructureDelay(outage.tries++, this.infraRetryBaseDelayMs, this.infraRetryMaxDelayMs),
            );
            this.giveUpIfStopping(what, topic);
            continue;
          }
          const reason = err instanceof Error ? err.message : String(err);
          if (++failures >= maxAttempts) {
            this.logger.error(`${what} on ${topic} failed ${maxAttempts} times, dead-lettering: ${reason}`);
            await this.deadLetter(topic, value, ctx, reason, maxAttempts);
            return;
          }
          this.logger.warn(`${what} on ${topic} failed (attempt ${failures}/${maxAttempts}): ${reason}`);
          await this.pause(attemptDelay(failures, this.retryBaseDelayMs));
        }
      }
    } finally {
      clearInterval(pacemaker);
    }
  }

  /**
   * Stops the retries in progress and any later one: a handler waiting out an outage gives up (its message is not
   * dead-lettered, and its offset not committed, so the partition's next owner gets it again). Called at SIGTERM
   * before the consumer stops (startApp), which waits for the handler in progress.
   */
  stop(): void {
    this.stopping.abort();
  }

  /** The in-process bus (embedded mode) is stopped by Nest's shutdown, not before it as Kafka's consumer is. */
  beforeApplicationShutdown(): void {
    this.stop();
  }

  /**
   * Throws ConsumerStoppingError once the process is stopping: for a handler that must not begin new work then (a tick
   * reaching the consumer between SIGTERM and its stop). Called before `process`, so the message is neither retried nor
   * dead-lettered: its offset stays uncommitted and the partition's next owner gets it.
   */
  giveUpIfStopping(what: string, topic: string): void {
    if (!this.stopping.signal.aborted) return;
    this.logger.warn(`${what} on ${topic} is left for redelivery: the process is stopping`);
    throw new ConsumerStoppingError(`${what} on ${topic} was not handled: the process is stopping`);
  }

  /** Waits between tries; the process stopping ends the wait at once. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  private logOutageStart(what: string, topic: string, problem: string): Outage {
    this.logger.warn(
      `${what} on ${topic} cannot be handled now: ${problem}; retrying until it can (not counted as an attempt, not dead-lettered)`,
    );
    return { since: Date.now(), tries: 0, reportedAt: Date.now() };
  }

  /** One line a minute while an outage lasts, so a long one is seen in the logs without a line per try. */
  private logOutageGoingOn(what: string, topic: string, outage: Outage, problem: string): void {
    if (Date.now() - outage.reportedAt < OUTAGE_REMINDER_MS) return;
    outage.reportedAt = Date.now();
    this.logger.warn(
      `${what} on ${topic} still waiting after ${Math.round((Date.now() - outage.since) / 1000)} s (${outage.tries} tries): ${problem}`,
    );
  }

  private logRecovery(what: string, topic: string, outage: Outage): void {
    this.logger.log(
      `${what} on ${topic} handled after waiting ${((Date.now() - outage.since) / 1000).toFixed(1)} s (${outage.tries + 1} tries) for the infrastructure`,
    );
  }

  /**
   * A heartbeat for the handler and the pacemaker. A heartbeat during a rebalance rejects; the next one, or the end of
   * the handler, settles membership. The rebalance is remembered, so a handler waiting out an outage can let it happen.
   */
  private watchedHeartbeat(ctx: BusContext): { heartbeat: Heartbeat; rebalancing: Error | null } {
    const beat = ctx.getHeartbeat();
    const watched = {
      rebalancing: null as Error | null,
      heartbeat: async () => {
        try {
          await beat();
        } catch (err) {
          if (isRebalance(err)) watched.rebalancing = err as Error;
          this.logger.debug(`heartbeat failed: ${(err as Error).message}`);
        }
      },
    };
    return watched;
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

/** The wait after the `failures`-th failure of a handler: `base`, doubling, jittered (±20 %), at most 5 s. */
function attemptDelay(failures: number, base: number): number {
  return jittered(Math.min(base * 2 ** (failures - 1), MAX_ATTEMPT_DELAY_MS));
}

/** The wait after the `tries`-th try (from 0) through an outage: `base`, doubling, jittered (±20 %), at most `max`. */
function infrastructureDelay(tries: number, base: number, max: number): number {
  return jittered(Math.min(base * 2 ** Math.min(tries, 30), max));
}

function jittered(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

/** kafkajs's answer to a heartbeat of a member whose group is rebalancing (its own `isRebalancing`). */
function isRebalance(err: unknown): boolean {
  const type = (err as { type?: unknown })?.type;
  return type === 'REBALANCE_IN_PROGRESS' || type === 'NOT_COORDINATOR_FOR_GROUP' || type === 'ILLEGAL_GENERATION';
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
