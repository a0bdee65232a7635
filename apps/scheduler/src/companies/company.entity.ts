import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A company (issue 9): the tenant every schedule, connection and synced row belongs to. Owned by the scheduler; other
 * apps keep projections from `scheduler.company.changed.v1`. Deactivated (`active = false`), never deleted.
 */
@Entity('companies')
export class Company {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  /** IANA zone; the company's local dates (accounting date ranges) are in it. */
  @Column({ type: 'varchar', length: 64, default: 'Europe/Tirane' })
  timezone: string;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
