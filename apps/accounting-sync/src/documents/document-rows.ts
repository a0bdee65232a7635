import { bulkUpsert } from '@sync-hub/persistence';
import type { Repository } from 'typeorm';
import { AccountingDocument } from './accounting-document.entity';
import { HOME_CURRENCY } from './qbo-payload';
import { qboEntityOf, SourceDocument } from './source-document';

/** Every column a run may change: all but the key (company, source, EIC), the id and created_at. */
const UPDATED_COLUMNS = [
  'doc_type',
  'qbo_entity',
  'qbo_id',
  'sync_token',
  'content_hash',
  'status',
  'document_number',
  'txn_date',
  'currency',
  'generation',
  'pending_request',
  'error_code',
  'error_message',
  'error_element',
  'intuit_tid',
  'attachment_status',
  'attachment_id',
  'attachment_warning',
  'synced_at',
  'updated_at',
];

/**
 * One run's view of its company's accounting_documents rows: read once at the start, changed in memory, and written
 * in one multi-row upsert per step (a batch's `pending` rows before it is sent, its answers after), instead of a read
 * and a write per document. The run's lanes share it; each document belongs to one lane at a time.
 */
export class DocumentRows {
  private readonly staged = new Set<string>();

  constructor(
    private readonly repo: Repository<AccountingDocument>,
    private readonly companyId: number,
    private readonly rows: Map<string, AccountingDocument>,
  ) {}

  get(eic: string): AccountingDocument | undefined {
    return this.rows.get(eic);
  }

  /**
   * The document's state after a step: its listed fields, cleared errors, then `change`. `synced_at` moves when it is
   * synced. Written at the next flush.
   */
  record(doc: SourceDocument, hash: string, change: Partial<AccountingDocument>): AccountingDocument {
    const now = new Date();
    const row =
      this.rows.get(doc.eic) ??
      this.repo.create({
        companyId: this.companyId,
        source: 'devpos',
        eic: doc.eic,
        generation: 0,
        createdAt: now,
        qboId: null,
        syncToken: null,
        pendingRequest: null,
        attachmentStatus: null,
        attachmentId: null,
        attachmentWarning: null,
        syncedAt: null,
      });
    Object.assign(row, {
      docType: doc.kind,
      qboEntity: qboEntityOf(doc),
      contentHash: hash,
      documentNumber: doc.number,
      txnDate: doc.txnDate,
      currency: doc.currency ?? HOME_CURRENCY,
      errorCode: null,
      errorMessage: null,
      errorElement: null,
      intuitTid: null,
      ...change,
      updatedAt: now,
    });
    if (change.status === 'synced') row.syncedAt = now;
    this.rows.set(doc.eic, row);
    this.staged.add(doc.eic);
    return row;
  }

  /** Changes only the given fields of a known row (an attachment's outcome). */
  patch(eic: string, change: Partial<AccountingDocument>): void {
    const row = this.rows.get(eic);
    if (!row) throw new Error(`no accounting_documents row for ${eic} in this run`);
    Object.assign(row, change, { updatedAt: new Date() });
    this.staged.add(eic);
  }

  /** Writes these documents' staged rows (all staged rows when none are named) in one statement. */
  async flush(eics?: string[]): Promise<void> {
    const names = eics ? eics.filter((e) => this.staged.has(e)) : [...this.staged];
    if (names.length === 0) return;
    for (const e of names) this.staged.delete(e);
    const values = names.map((e) => {
      const { id: _id, ...row } = this.rows.get(e)!;
      return row;
    });
    await bulkUpsert(this.repo, values, UPDATED_COLUMNS, ['company_id', 'source', 'eic']);
  }
}
