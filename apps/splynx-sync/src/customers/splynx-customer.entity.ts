import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The local mirror of one Splynx customer (seed 000's `users`). Never deleted: a vanished customer is inactive. */
@Entity('splynx_customers')
@Index('idx_splynx_customers_active', ['active', 'splynxId'])
@Index('idx_splynx_customers_generation', ['active', 'syncGeneration'])
export class SplynxCustomer {
  @PrimaryColumn({ name: 'splynx_id', type: 'int' })
  splynxId: number;

  @Column({ type: 'varchar', length: 128, nullable: true })
  login: string | null;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  phone: string | null;

  @Column({ type: 'varchar', length: 32 })
  status: string;

  @Column({ type: 'varchar', length: 32, nullable: true })
  category: string | null;

  @Column({ name: 'billing_type', type: 'varchar', length: 32, nullable: true })
  billingType: string | null;

  @Column({ name: 'partner_id', type: 'int', nullable: true })
  partnerId: number | null;

  @Column({ name: 'location_id', type: 'int', nullable: true })
  locationId: number | null;

  @Column({ name: 'date_add', type: 'date', nullable: true })
  dateAdd: string | null;

  @Column({ name: 'last_update', type: 'datetime', precision: 3, nullable: true })
  lastUpdate: Date | null;

  /** The record exactly as Splynx sent it. */
  @Column({ type: 'simple-json' })
  raw: Record<string, unknown>;

  /** SHA-1 of the mapped record: equal hashes mean an unchanged customer, which is counted, not rewritten. */
  @Column({ name: 'content_hash', type: 'varchar', length: 40 })
  contentHash: string;

  @Column({ name: 'synced_at', type: 'datetime', precision: 3 })
  syncedAt: Date;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  /**
   * The run that last wrote or saw this customer (its start in ms): a complete full run deactivates, in one statement,
   * the active customers not marked with its own generation.
   */
  @Column({
    name: 'sync_generation',
    type: 'bigint',
    default: 0,
    transformer: { to: (v: number | undefined) => v, from: (v: string | number | null) => Number(v ?? 0) },
  })
  syncGeneration: number;
}
