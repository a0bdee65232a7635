import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, Logger } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, Server } from '@nestjs/microservices';

export interface BusMessage {
  topic: string;
  key: string;
  /** Decoded JSON value (a string when the value is not JSON), as Nest's Kafka parser gives it; null: a tombstone. */
  value: unknown;
  headers: Record<string, string>;
}

type Subscriber = (message: BusMessage) => Promise<void>;

/**
 * The embedded mode's bus: topics in one process. Messages are copied through JSON like on Kafka, and each topic
 * delivers one message at a time in publish order, like a single partition.
 */
@Injectable()
export class InProcessBus {
  private readonly logger = new Logger(InProcessBus.name);
  private readonly subscribers = new Map<string, Subscriber[]>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly undelivered = new Map<string, BusMessage[]>();
  /**
   * Runs a handler in the bus's own async context, not the publisher's: as a Kafka consumer would, a handler starts
   * outside whatever the publisher was doing. A message published from inside a transaction (the outbox's flush) would
   * otherwise carry that transaction's async context into its handler, whose own transactions would then not wait
   * their turn on sql.js's one connection (serializeSqliteTransactions).
   */
  private readonly detached = AsyncLocalStorage.snapshot();

  subscribe(topic: string, subscriber: Subscriber): void {
    this.subscribers.set(topic, [...(this.subscribers.get(topic) ?? []), subscriber]);
  }

  clearSubscribers(): void {
    this.subscribers.clear();
  }

  /** Queues the message and returns once it is accepted, not once it is handled (as a Kafka produce does). */
  publish(topic: string, key: string, value: unknown, headers: Record<string, string> = {}): void {
    // A tombstone (null) stays null, as on Kafka; there is no compaction in one process, every message is delivered.
    const copy: unknown = value === null || value === undefined ? null : JSON.parse(JSON.stringify(value));
    const message: BusMessage = { topic, key, value: copy, headers: { ...headers } };
    const subscribers = this.subscribers.get(topic);
    if (!subscribers?.length) {
      // Nobody consumes this topic in this process (a dead-letter topic, say): keep the last few for inspection.
      const kept = this.undelivered.get(topic) ?? [];
      this.undelivered.set(topic, [...kept.slice(-99), message]);
      return;
    }
    const previous = this.queues.get(topic) ?? Promise.resolve();
    const next = previous.then(() =>
      this.detached(async () => {
        for (const subscriber of subscribers) {
          try {
            await subscriber(message);
          } catch (err) {
            this.logger.error(`in-process handler for ${topic} failed: ${(err as Error).message}`);
          }
        }
      }),
    );
    this.queues.set(topic, next);
  }

  /** Messages published to topics without a consumer in this process (e.g. dead letters). */
  unconsumed(topic: string): BusMessage[] {
    return [...(this.undelivered.get(topic) ?? [])];
  }

  /** Resolves when every queued message has been handled. */
  async drain(): Promise<void> {
    await Promise.all([...this.queues.values()]);
  }
}

/** What an in-process handler receives with @Ctx(), shaped like KafkaContext where handlers use it. */
export class InProcessContext extends BaseRpcContext<[BusMessage]> {
  getMessage(): BusMessage {
    return this.args[0];
  }
  getTopic(): string {
    return this.args[0].topic;
  }
  getHeartbeat(): () => Promise<void> {
    return async () => undefined;
  }
}

/** A Nest microservice transport over the InProcessBus: @EventPattern handlers work unchanged in the embedded mode. */
export class InProcessServer extends Server implements CustomTransportStrategy {
  constructor(private readonly bus: InProcessBus) {
    super();
  }

  listen(callback: () => void): void {
    for (const [pattern, handler] of this.messageHandlers) {
      if (!handler.isEventHandler) continue;
      this.bus.subscribe(pattern, async (message) => {
        await this.handleEvent(pattern, { pattern, data: message.value }, new InProcessContext([message]));
      });
    }
    this._status$.next('connected');
    callback();
  }

  close(): void {
    this.bus.clearSubscribers();
    this._status$.next('disconnected');
  }

  on(): never {
    throw new Error('InProcessServer has no events');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }
}
