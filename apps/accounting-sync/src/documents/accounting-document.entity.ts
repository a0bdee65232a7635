import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { DevposList, QboEntity } from './source-document';

export type DocumentStatus = 'pending' | 'synced' | 'failed' | 'skipped';
/** attached; failed (see attachment_warning); none: nothing to attach (no PDF, or the company attaches none). */
export type AttachmentStatus = 'attached' | 'failed' | 'none';

/** One DevPos document of a company and the QuickBooks entity it became: (company, source, EIC) is unique. */
@Entity('accounting_documents')
@Unique('uq_accounting_documents_eic', ['companyId', 'source', 'eic'])
@Index('idx_accounting_documents_status', ['companyId', 'status', 'txnDate'])
export class AccountingDocument {
  @PrimaryGeneratedColumn() id: number;
  @Column({ name: 'company_id', type: 'int' }) companyId: number;
  @Column({ type: 'varchar', length: 16 }) source: 'devpos';
  @Column({ type: 'varchar', length: 64 }) eic: string;
  @Column({ name: 'doc_type', type: 'varchar', length: 16 }) docType: DevposList;
  @Column({ name: 'qbo_entity', type: 'varchar', length: 16 }) qboEntity: QboEntity;
  @Column({ name: 'qbo_id', type: 'varchar', length: 32, nullable: true }) qboId: string | null;
  @Column({ name: 'sync_token', type: 'varchar', length: 16, nullable: true }) syncToken: string | null;
  @Column({ name: 'content_hash', type: 'varchar', length: 64 }) contentHash: string;
  @Column({ type: 'varchar', length: 16 }) status: DocumentStatus;
  @Column({ name: 'document_number', type: 'varchar', length: 64, nullable: true }) documentNumber: string | null;
  @Column({ name: 'txn_date', type: 'varchar', length: 10 }) txnDate: string;
  @Column({ type: 'varchar', length: 3 }) currency: string;
  /** Moves only when the QuickBooks entity was deleted there and must be created again (a new requestid). */
  @Column({ type: 'int', default: 0 }) generation: number;
  /**
   * Set before a create is sent: the requestid of the batch that carries it. A run that dies before storing the answer
   * leaves it, and the next run sends that batch again under the same requestid, so QuickBooks answers the original
   * instead of creating twice.
   */
  @Column({ name: 'pending_request', type: 'varchar', length: 50, nullable: true }) pendingRequest: string | null;
  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true }) errorCode: string | null;
  @Column({ name: 'error_message', type: 'varchar', length: 2000, nullable: true }) errorMessage: string | null;
  @Column({ name: 'error_element', type: 'varchar', length: 255, nullable: true }) errorElement: string | null;
  @Column({ name: 'intuit_tid', type: 'varchar', length: 64, nullable: true }) intuitTid: string | null;
  /** Null until the sync has tried to attach DevPos's PDF to the synced entity. */
  @Column({ name: 'attachment_status', type: 'varchar', length: 16, nullable: true })
  attachmentStatus: AttachmentStatus | null;
  /** The QuickBooks Attachable carrying DevPos's PDF, once attached. */
  @Column({ name: 'attachment_id', type: 'varchar', length: 32, nullable: true }) attachmentId: string | null;
  /** Why the PDF could not be attached (the document itself is synced); null when attached or there was none. */
  @Column({ name: 'attachment_warning', type: 'varchar', length: 500, nullable: true }) attachmentWarning:
    string | null;
  @Column({ name: 'synced_at', type: 'datetime', precision: 3, nullable: true }) syncedAt: Date | null;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt: Date;
}
