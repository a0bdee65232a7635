import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { OverlapPolicy } from '@sync-hub/contracts';
import type { Frequency } from './next-run';

/** A per-company schedule (DESIGN.md section 4). One per (company, domain, job type). */
@Entity('schedules')
@Unique('uq_schedules_company_job', ['companyId', 'domain', 'jobType'])
@Index('idx_schedules_due', ['enabled', 'nextRunAt'])
export class Schedule {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ name: 'company_id', type: 'int' })
  companyId: number;

  @Column({ type: 'varchar', length: 32 })
  domain: string;

  @Column({ name: 'job_type', type: 'varchar', length: 64 })
  jobType: string;

  @Column({ type: 'varchar', length: 16 })
  frequency: Frequency;

  @Column({ name: 'interval_minutes', type: 'int', nullable: true })
  intervalMinutes: number | null;

  /** When set, `every_minutes` takes its interval from this setting (the usage schedule, seed 004). */
  @Column({ name: 'interval_setting', type: 'varchar', length: 128, nullable: true })
  intervalSetting: string | null;

  @Column({ type: 'int', default: 0 })
  minute: number;

  @Column({ name: 'hour_of_day', type: 'int', nullable: true })
  hourOfDay: number | null;

  @Column({ name: 'day_of_week', type: 'int', nullable: true })
  dayOfWeek: number | null;

  @Column({ name: 'day_of_month', type: 'int', nullable: true })
  dayOfMonth: number | null;

  @Column({ type: 'varchar', length: 64, default: 'UTC' })
  timezone: string;

  @Column({ name: 'date_range_days', type: 'int', nullable: true })
  dateRangeDays: number | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'paused_reason', type: 'varchar', length: 255, nullable: true })
  pausedReason: string | null;

  @Column({ name: 'overlap_policy', type: 'varchar', length: 16, default: 'skip' })
  overlapPolicy: OverlapPolicy;

  @Column({ name: 'catchup_window_s', type: 'int', default: 3600 })
  catchupWindowS: number;

  @Column({ name: 'last_run_at', type: 'datetime', precision: 3, nullable: true })
  lastRunAt: Date | null;

  @Column({ name: 'next_run_at', type: 'datetime', precision: 3, nullable: true })
  nextRunAt: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
