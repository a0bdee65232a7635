import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * accounting-sync's copy of one company, kept from `scheduler.company.changed.v1` (the scheduler owns `companies`;
 * this app never reads it): which companies exist, their time zone (accounting dates are the company's local dates)
 * and whether they are active.
 */
@Entity('accounting_company_projections')
export class CompanyProjection {
  @PrimaryColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ type: 'varchar', length: 64 })
  timezone: string;

  @Column({ type: 'boolean' })
  active: boolean;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
