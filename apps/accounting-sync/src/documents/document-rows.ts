import {
  ACCOUNTING_DOCUMENT_RECORD_FIELDS,
  accountingDocumentKey,
  AccountingDocumentRecord,
  changedFields,
  changeEventMessage,
  Topic,
} from '@sync-hub/contracts';
import type { ChangeEventSender, ReliablePublisher } from '@sync-hub/messaging';
import { bulkUpsert, transactionRetryingDeadlocks } from '@sync-hub/persistence';
import type { Repository } from 'typeorm';
import { AccountingDocument } from './accounting-document.entity';
import { documentRecord } from './document-views';
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

/** Where a run's writes put their change events (`accounting.document.changed.v1`). */
export interface DocumentChangeEvents {
  outbox: ReliablePublisher;
  /** The run's: sends each committed write's events after its commit. */
  sender: ChangeEventSender;
  /** The run that writes, carried by its events; null for writes no run makes. */
  runId: string | null;
}

/**
 * One run's view of its company's accounting_documents rows: read once at the start, changed in memory, and written
 * in one multi-row upsert per step (a batch's `pending` rows before it is sent, its answers after), instead of a read
 * and a write per document. The run's lanes share it; each document belongs to one lane at a time.
 *
 * With change events, each step's upsert and the events of the documents whose record it changes commit in one
 * transaction (the transactional outbox): every committed step that changes a record publishes it, so the topic
 * holds what the table holds whichever step a crash stops after.
 */
export class DocumentRows {
  private readonly staged = new Set<string>();
  /** Each document's record as last committed (read at the start, then written): what its next event compares with. */
  private readonly committed = new Map<string, AccountingDocumentRecord>();

  constructor(
    private readonly repo: Repository<AccountingDocument>,
    private readonly companyId: number,
    private readonly rows: Map<string, AccountingDocument>,
    private readonly events: DocumentChangeEvents | null = null,
  ) {
    // Snapshots: the rows themselves are changed in place by `record` and `patch` before they are written.
    if (events) for (const [eic, row] of rows) this.committed.set(eic, documentRecord(row));
  }

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

  /**
   * Writes these documents' staged rows (all staged rows when none are named) in one statement; with change events,
   * in one transaction with an event for each document whose record it changes (created the first time it is stored).
   */
  async flush(eics?: string[]): Promise<void> {
    const names = eics ? eics.filter((e) => this.staged.has(e)) : [...this.staged];
    if (names.length === 0) return;
    for (const e of names) this.staged.delete(e);
    const values = names.map((e) => {
      const { id: _id, ...row } = this.rows.get(e)!;
      return row;
    });
    const events = this.events;
    if (!events) {
      await bulkUpsert(this.repo, values, UPDATED_COLUMNS, ['company_id', 'source', 'eic']);
      return;
    }
    const now = new Date();
    const records = names.map((e) => documentRecord(this.rows.get(e)!));
    const messages = names.flatMap((eic, i) => {
      const before = this.committed.get(eic);
      const fields = changedFields(ACCOUNTING_DOCUMENT_RECORD_FIELDS, records[i], before);
      // Rewritten as it was (only its hash or bookkeeping times moved): no change to its record.
      if (fields.length === 0) return [];
      const change = {
        changeType: before ? ('updated' as const) : ('created' as const),
        id: accountingDocumentKey(this.companyId, eic),
        runId: events.runId,
        occurredAt: now.toISOString(),
        changedFields: fields,
        record: records[i],
      };
      return [changeEventMessage(Topic.AccountingDocumentChanged, change)];
    });
    // The lanes write neighbouring keys at once: a deadlock rolls back both, and this step is written again.
    const batch = await transactionRetryingDeadlocks(this.repo.manager.connection, async (m) => {
      await bulkUpsert(m.getRepository(AccountingDocument), values, UPDATED_COLUMNS, ['company_id', 'source', 'eic']);
      return events.outbox.enqueueBatch(m, Topic.AccountingDocumentChanged, messages, now);
    });
    names.forEach((eic, i) => this.committed.set(eic, records[i]));
    events.sender.queue(batch);
    // A run of many documents holds no more than the sender's bound of unsent events.
    await events.sender.keepUp();
  }
}
