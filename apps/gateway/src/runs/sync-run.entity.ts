import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { RunError, RunStats, RunStatus, TakeoverReason } from '@sync-hub/contracts';

/** One run as the gateway knows it from the run events; keyed by run id, so redelivered events change nothing. */
@Entity('sync_runs')
@Index('idx_sync_runs_created', ['createdAt', 'runId'])
@Index('idx_sync_runs_domain_job', ['domain', 'job', 'createdAt'])
@Index('idx_sync_runs_company_job', ['companyId', 'domain', 'job', 'createdAt'])
export class SyncRun {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 36 })
  runId: string;

  @Column({ type: 'varchar', length: 32 })
  domain: string;

  @Column({ type: 'varchar', length: 64 })
  job: string;

  @Column({ name: 'company_id', type: 'int' })
  companyId: number;

  @Column({ name: 'schedule_id', type: 'varchar', length: 64, nullable: true })
  scheduleId: string | null;

  @Column({ type: 'varchar', length: 16 })
  trigger: string;

  @Column({ type: 'varchar', length: 16 })
  status: RunStatus;

  @Column({ name: 'scheduled_for', type: 'datetime', precision: 3, nullable: true })
  scheduledFor: Date | null;

  @Column({ name: 'started_at', type: 'datetime', precision: 3, nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'datetime', precision: 3, nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'duration_ms', type: 'int', nullable: true })
  durationMs: number | null;

  @Column({ type: 'simple-json', nullable: true })
  stats: RunStats | null;

  @Column({ type: 'simple-json', nullable: true })
  error: RunError | null;

  /** The warnings of a completed run; null when it had none (the API answers an empty list). */
  @Column({ type: 'simple-json', nullable: true })
  warnings: string[] | null;

  @Column({ name: 'skip_reason', type: 'varchar', length: 16, nullable: true })
  skipReason: string | null;

  /** How many workers the run had: 1, plus one per takeover. The latest attempt's events make the record. */
  @Column({ type: 'int', default: 1 })
  attempts: number;

  /** When the run was last taken over, and why (null: never taken over). */
  @Column({ name: 'taken_over_at', type: 'datetime', precision: 3, nullable: true })
  takenOverAt: Date | null;

  @Column({ name: 'takeover_reason', type: 'varchar', length: 16, nullable: true })
  takeoverReason: TakeoverReason | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
