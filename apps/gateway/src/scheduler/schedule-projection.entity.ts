import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The gateway's copy of one schedule, kept from `scheduler.schedule.changed.v1` (the scheduler owns `schedules`; the
 * gateway never reads it). Only what the gateway uses: status and finding a job's schedule to pause.
 */
@Entity('schedule_projections')
@Index('idx_schedule_projections_job', ['companyId', 'domain', 'jobType'])
export class ScheduleProjection {
  @PrimaryColumn({ name: 'schedule_id', type: 'int' })
  scheduleId: number;

  @Column({ name: 'company_id', type: 'int' })
  companyId: number;

  @Column({ type: 'varchar', length: 32 })
  domain: string;

  @Column({ name: 'job_type', type: 'varchar', length: 64 })
  jobType: string;

  @Column({ type: 'varchar', length: 16 })
  frequency: string;

  @Column({ name: 'interval_minutes', type: 'int', nullable: true })
  intervalMinutes: number | null;

  @Column({ type: 'varchar', length: 64 })
  timezone: string;

  @Column({ type: 'boolean' })
  enabled: boolean;

  @Column({ name: 'paused_reason', type: 'varchar', length: 255, nullable: true })
  pausedReason: string | null;

  @Column({ name: 'last_run_at', type: 'datetime', precision: 3, nullable: true })
  lastRunAt: Date | null;

  @Column({ name: 'next_run_at', type: 'datetime', precision: 3, nullable: true })
  nextRunAt: Date | null;

  /** The schedule's own created_at (status measures "overdue" from it until a first success). */
  @Column({ name: 'schedule_created_at', type: 'datetime', precision: 3 })
  scheduleCreatedAt: Date;

  @Column({ name: 'schedule_updated_at', type: 'datetime', precision: 3 })
  scheduleUpdatedAt: Date;

  /** `occurredAt` of the event applied last (which of a deleted and a re-created schedule of one job is newer). */
  @Column({ name: 'event_at', type: 'datetime', precision: 3 })
  eventAt: Date;
}
