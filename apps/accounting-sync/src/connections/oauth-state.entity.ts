import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A QuickBooks authorize state handed out: valid until `expiresAt`, consumed by its one callback. */
@Entity('qbo_oauth_states')
export class OAuthState {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ name: 'company_id', type: 'int' })
  companyId: number;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt: Date;

  @Column({ name: 'consumed_at', type: 'datetime', precision: 3, nullable: true })
  consumedAt: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;
}
