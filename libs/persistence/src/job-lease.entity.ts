import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A named lease (DESIGN.md section 4): scheduler leadership (`scheduler.leader`) and one running job per
 * `job:<company>:<domain>:<job>`. Renewed while its holder works, released only by its owner, taken over once expired.
 */
@Entity('job_leases')
export class JobLease {
  @PrimaryColumn({ type: 'varchar', length: 191 })
  name: string;

  @Column({ type: 'varchar', length: 64 })
  owner: string;

  @Column({ name: 'run_id', type: 'varchar', length: 36, nullable: true })
  runId: string | null;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt: Date;
}
