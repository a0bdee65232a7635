import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RunClaimStatus = 'running' | 'completed' | 'failed' | 'skipped';

/**
 * One row per run a sync app has taken on. A tick delivered twice finds the row and is not executed again; a row
 * still `running` after its holder stopped renewing it can be taken over, so a crashed worker loses no run.
 */
@Entity('run_claims')
export class RunClaim {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 36 })
  runId: string;

  @Column({ type: 'varchar', length: 64 })
  app: string;

  @Column({ type: 'varchar', length: 16 })
  status: RunClaimStatus;

  @Column({ name: 'claimed_until', type: 'datetime', precision: 3 })
  claimedUntil: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
