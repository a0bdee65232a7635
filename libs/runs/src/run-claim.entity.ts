import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { TakeoverReason } from '@sync-hub/contracts';

export type RunClaimStatus = 'waiting' | 'running' | 'completed' | 'failed' | 'skipped';

/**
 * One row per run a sync app has taken on, with the tick that asked for it. A tick delivered twice finds the row and is
 * not executed again; a row still `running` (or `waiting`, buffered behind a running run of its job) after its holder
 * stopped renewing it is taken over from the stored tick, so a crashed worker loses no run.
 */
@Entity('run_claims')
@Index('idx_run_claims_sweep', ['app', 'status', 'claimedUntil'])
export class RunClaim {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 36 })
  runId: string;

  @Column({ type: 'varchar', length: 64 })
  app: string;

  @Column({ type: 'varchar', length: 16 })
  status: RunClaimStatus;

  /** `job:<company>:<domain>:<job>`: the job lease this run needs. */
  @Column({ name: 'job_key', type: 'varchar', length: 191 })
  jobKey: string;

  /** The tick, as JSON, so another worker can run it. */
  @Column({ type: 'text' })
  tick: string;

  @Column({ name: 'claimed_until', type: 'datetime', precision: 3 })
  claimedUntil: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;

  /** 1 for the run's first worker; each takeover of the running run adds one. */
  @Column({ type: 'int', default: 1 })
  attempt: number;

  /** Set when a stopping worker handed the claim over (RunClaimsService.handOver); cleared by the takeover. */
  @Column({ name: 'handed_over_at', type: 'datetime', precision: 3, nullable: true })
  handedOverAt: Date | null;

  /** When the latest takeover happened, and why: the claim expired, or its worker handed it over at shutdown. */
  @Column({ name: 'taken_over_at', type: 'datetime', precision: 3, nullable: true })
  takenOverAt: Date | null;

  @Column({ name: 'takeover_reason', type: 'varchar', length: 16, nullable: true })
  takeoverReason: TakeoverReason | null;
}
