import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A company's QuickBooks mapping; unset fields fall back to the configured defaults. */
@Entity('accounting_settings')
export class AccountingSettings {
  @PrimaryColumn({ name: 'company_id', type: 'int' }) companyId: number;
  @Column({ name: 'income_item_id', type: 'varchar', length: 32, nullable: true }) incomeItemId: string | null;
  @Column({ name: 'expense_account_id', type: 'varchar', length: 32, nullable: true }) expenseAccountId: string | null;
  /** JSON: VAT rate → tax code id. */
  @Column({ name: 'tax_codes', type: 'text', nullable: true }) taxCodes: string | null;
  /** Whether DevPos's PDF is attached to each QuickBooks document (one more API call per document; default true). */
  @Column({ name: 'attach_pdf', type: 'boolean', default: true }) attachPdf: boolean;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt: Date;
}
