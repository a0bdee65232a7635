import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A message the bus did not accept, or one written in a transaction (the transactional outbox); flushed to its topic
 * later, oldest first by id, so no event is lost. No index but the key: the flush reads by id (migration 030).
 */
@Entity('outbox_messages')
export class OutboxMessage {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 255 })
  topic: string;

  @Column({ name: 'message_key', type: 'varchar', length: 255 })
  messageKey: string;

  @Column({ type: 'text' })
  value: string;

  /**
   * 1: `value` is one message's JSON. More: `value` holds that many messages of the topic, one per line, each its key,
   * a tab and its JSON (a page's change events); `message_key` is the first message's key.
   */
  @Column({ name: 'message_count', type: 'int', default: 1 })
  messageCount: number;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'next_attempt_at', type: 'datetime', precision: 3 })
  nextAttemptAt: Date;
}
