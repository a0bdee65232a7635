import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { OutboxMessage } from '@sync-hub/persistence';
import { LessThanOrEqual, Repository } from 'typeorm';
import { EventPublisher, OutgoingMessage } from './event-publisher';

const FLUSH_INTERVAL_MS = 5000;
const FLUSH_BATCH = 100;

/**
 * Publishes events that must not be lost (run events): when the bus refuses a message after the producer's own
 * retries, it is written to `outbox_messages` and flushed later, in order of creation.
 */
@Injectable()
export class ReliablePublisher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ReliablePublisher.name);
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<number> | null = null;

  constructor(
    private readonly publisher: EventPublisher,
    @InjectRepository(OutboxMessage) private readonly outbox: Repository<OutboxMessage>,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush().catch((err) => this.logger.warn(`outbox flush failed: ${err.message}`)), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    try {
      await this.publisher.publish(topic, [message]);
    } catch (err) {
      const reason = (err as Error).message;
      this.logger.warn(`bus refused a message for ${topic}, keeping it in the outbox: ${reason}`);
      const now = new Date();
      await this.outbox.insert({
        topic,
        messageKey: message.key,
        value: JSON.stringify(message.value),
        attempts: 1,
        lastError: reason.slice(0, 2000),
        createdAt: now,
        nextAttemptAt: new Date(now.getTime() + FLUSH_INTERVAL_MS),
      });
    }
  }

  /** Sends what the outbox holds; returns how many messages went out. */
  flush(now = new Date()): Promise<number> {
    this.flushing ??= this.flushDue(now).finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async flushDue(now: Date): Promise<number> {
    const due = await this.outbox.find({ where: { nextAttemptAt: LessThanOrEqual(now) }, order: { id: 'ASC' }, take: FLUSH_BATCH });
    let sent = 0;
    for (const row of due) {
      try {
        await this.publisher.publish(row.topic, [{ key: row.messageKey, value: JSON.parse(row.value) }]);
        await this.outbox.delete({ id: row.id });
        sent++;
      } catch (err) {
        const attempts = row.attempts + 1;
        const backoff = Math.min(FLUSH_INTERVAL_MS * 2 ** Math.min(attempts, 6), 300000);
        await this.outbox.update({ id: row.id }, { attempts, lastError: (err as Error).message.slice(0, 2000), nextAttemptAt: new Date(now.getTime() + backoff) });
        break; // keep the order: later messages wait for this one
      }
    }
    return sent;
  }
}
