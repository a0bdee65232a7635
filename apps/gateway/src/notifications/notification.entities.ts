import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, Unique } from 'typeorm';

@Entity('notification_states')
export class NotificationState {
  /** `<company>:<domain>:<job>` */
  @PrimaryColumn({ name: 'job_key', type: 'varchar', length: 191 })
  jobKey: string;

  @Column({ name: 'consecutive_failures', type: 'int', default: 0 })
  consecutiveFailures: number;

  @Column({ name: 'failure_announced', type: 'boolean', default: false })
  failureAnnounced: boolean;

  @Column({ type: 'boolean', default: false })
  paused: boolean;

  @Column({ name: 'last_success_at', type: 'datetime', precision: 3, nullable: true })
  lastSuccessAt: Date | null;

  @Column({ name: 'last_run_id', type: 'varchar', length: 36, nullable: true })
  lastRunId: string | null;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}

/** `warning`: a run completed with warnings (kept in a varchar(16) column, so a new kind needs no migration). */
export type NotificationKind = 'failure' | 'recovery' | 'paused' | 'warning';
export type NotificationChannel = 'email' | 'webhook';

@Entity('notifications')
@Unique('uq_notifications_once', ['runId', 'kind', 'channel'])
@Index('idx_notifications_pending', ['sentAt', 'nextAttemptAt'])
export class Notification {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 16 })
  kind: NotificationKind;

  @Column({ type: 'varchar', length: 16 })
  channel: NotificationChannel;

  @Column({ name: 'job_key', type: 'varchar', length: 191 })
  jobKey: string;

  @Column({ name: 'run_id', type: 'varchar', length: 36 })
  runId: string;

  /** JSON of NotificationMessage. */
  @Column({ type: 'text' })
  message: string;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'next_attempt_at', type: 'datetime', precision: 3 })
  nextAttemptAt: Date;

  @Column({ name: 'sent_at', type: 'datetime', precision: 3, nullable: true })
  sentAt: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;
}
