import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A QuickBooks customer or vendor of a company, keyed by NUIS (or `name:<name>`, flagged) and currency. */
@Entity('accounting_parties')
@Unique('uq_accounting_parties_key', ['companyId', 'kind', 'partyKey', 'currency'])
export class AccountingParty {
  @PrimaryGeneratedColumn() id: number;
  @Column({ name: 'company_id', type: 'int' }) companyId: number;
  @Column({ type: 'varchar', length: 16 }) kind: 'customer' | 'vendor';
  @Column({ name: 'party_key', type: 'varchar', length: 255 }) partyKey: string;
  @Column({ type: 'varchar', length: 3 }) currency: string;
  @Column({ name: 'qbo_id', type: 'varchar', length: 32 }) qboId: string;
  @Column({ name: 'display_name', type: 'varchar', length: 500 }) displayName: string;
  /** The document named no NUIS: the party is keyed by its name, for a person to check. */
  @Column({ type: 'boolean' }) flagged: boolean;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt: Date;
}

/** The key of a document's party: its NUIS, else its normalised name (then the party is flagged). */
export function partyKey(party: { nuis: string | null; name: string }): { key: string; flagged: boolean } {
  if (party.nuis) return { key: party.nuis.toUpperCase(), flagged: false };
  return { key: `name:${party.name.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase()}`, flagged: true };
}
