import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { RobawsClientRecord } from './normalise';

/** The fields an operator may edit locally (PATCH /api/crm/customers/:id) and a push sends to Robaws. */
export const EDITABLE_FIELDS = [
  'name',
  'email',
  'tel',
  'gsm',
  'website',
  'addressLine1',
  'addressLine2',
  'postalCode',
  'city',
  'country',
  'vatNumber',
  'role',
] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];
export type EditableValues = Partial<Record<EditableField, string | null>>;

/**
 * A local edit not pushed yet: the edited fields' new values, their values in the upstream version the edit was based
 * on (so a push can tell whether Robaws changed one of them meanwhile), and that version's `updatedAt`.
 */
export interface LocalEdit {
  fields: EditableValues;
  base: EditableValues;
  baseUpdatedAt: string | null;
  editedAt: string;
}

/** Robaws changed an edited field before the push: both versions, until the operator keeps one. */
export interface CustomerConflict {
  local: EditableValues;
  remote: EditableValues;
  remoteUpdatedAt: string | null;
  detectedAt: string;
}

/** One Robaws client as the hub keeps it (seed 003). Never deleted: one gone from Robaws is `deleted_upstream`. */
@Entity('robaws_customers')
@Index('idx_robaws_customers_role', ['role'])
@Index('idx_robaws_customers_name', ['name'])
@Index('idx_robaws_customers_email', ['email'])
@Index('idx_robaws_customers_vat', ['vatNumber'])
export class RobawsCustomer {
  @PrimaryColumn({ name: 'robaws_id', type: 'int' }) robawsId: number;
  @Column({ type: 'varchar', length: 255, nullable: true }) name: string | null;
  @Column({ type: 'varchar', length: 100, nullable: true }) role: string | null;
  @Column({ type: 'varchar', length: 255, nullable: true }) email: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) tel: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) gsm: string | null;
  /** The first valid of tel and gsm, in E.164. */
  @Column({ type: 'varchar', length: 64, nullable: true }) phone: string | null;
  @Column({ type: 'varchar', length: 255, nullable: true }) website: string | null;
  @Column({ name: 'address_line1', type: 'varchar', length: 255, nullable: true }) addressLine1: string | null;
  @Column({ name: 'address_line2', type: 'varchar', length: 255, nullable: true }) addressLine2: string | null;
  @Column({ name: 'postal_code', type: 'varchar', length: 32, nullable: true }) postalCode: string | null;
  @Column({ type: 'varchar', length: 128, nullable: true }) city: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) country: string | null;
  @Column({ name: 'vat_number', type: 'varchar', length: 64, nullable: true }) vatNumber: string | null;
  @Column({ name: 'vat_valid', type: 'boolean', nullable: true }) vatValid: boolean | null;
  @Column({ type: 'varchar', length: 8, nullable: true }) currency: string | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) language: string | null;
  @Column({ name: 'is_active', type: 'boolean', default: true }) isActive: boolean;
  /** The whole upstream record of the newest version seen, as Robaws sent it. */
  @Column({ type: 'simple-json' }) metadata: RobawsClientRecord;
  /** sha256 of the normalised record: equal hashes mean an unchanged customer, counted and not rewritten. */
  @Column({ name: 'content_hash', type: 'varchar', length: 64 }) contentHash: string;
  /** Robaws's `updatedAt` of the newest version seen (metadata's). */
  @Column({ name: 'upstream_updated_at', type: 'datetime', precision: 3, nullable: true })
  upstreamUpdatedAt: Date | null;
  @Column({ name: 'synced_at', type: 'datetime', precision: 3 }) syncedAt: Date;
  /** The local edit not pushed yet; while set, a pull keeps the edited fields' local values. */
  @Column({ name: 'local_dirty', type: 'simple-json', nullable: true }) localDirty: LocalEdit | null;
  @Column({ type: 'simple-json', nullable: true }) conflict: CustomerConflict | null;
  @Column({ name: 'pushed_at', type: 'datetime', precision: 3, nullable: true }) pushedAt: Date | null;
  @Column({ name: 'deleted_upstream', type: 'boolean', default: false }) deletedUpstream: boolean;
}
