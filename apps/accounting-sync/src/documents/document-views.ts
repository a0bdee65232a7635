import { BadRequestException } from '@nestjs/common';
import type { AccountingDocumentRecord, DocumentView } from '@sync-hub/contracts';
import type { AccountingDocument } from './accounting-document.entity';

/** A document row as the API shows it: snake_case, ISO-8601 UTC times, the last error as one object or null. */
export function documentView(row: AccountingDocument): DocumentView {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    company_id: row.companyId,
    source: row.source,
    eic: row.eic,
    document_number: row.documentNumber,
    type: row.docType,
    txn_date: row.txnDate,
    currency: row.currency,
    status: row.status,
    qbo_entity: row.qboEntity,
    qbo_id: row.qboId,
    sync_token: row.syncToken,
    generation: row.generation,
    last_error:
      row.errorCode || row.errorMessage
        ? {
            code: row.errorCode ?? 'UNKNOWN',
            message: row.errorMessage ?? '',
            element: row.errorElement,
            intuit_tid: row.intuitTid,
          }
        : null,
    attachment_status: row.attachmentStatus,
    attachment_id: row.attachmentId,
    attachment_warning: row.attachmentWarning,
    synced_at: iso(row.syncedAt),
    updated_at: iso(row.updatedAt)!,
  };
}

/**
 * A document row as `accounting.document.changed.v1` carries it (and compares it): its DocumentView without the
 * bookkeeping times, which move on every write (the event's occurredAt says when).
 */
export function documentRecord(row: AccountingDocument): AccountingDocumentRecord {
  const { synced_at: _syncedAt, updated_at: _updatedAt, ...record } = documentView(row);
  return record;
}

/** Where a page ended: the last row's (txn_date, id), the list's order. */
export interface DocumentCursor {
  txnDate: string;
  id: number;
}

/** Opaque to callers: base64url of `txn_date|id`. */
export function encodeDocumentCursor(row: Pick<AccountingDocument, 'txnDate' | 'id'>): string {
  return Buffer.from(`${row.txnDate}|${row.id}`).toString('base64url');
}

/** The cursor's position, or null when it is not one this API gave out. */
export function decodeDocumentCursor(cursor: string): DocumentCursor | null {
  const match = /^(\d{4}-\d{2}-\d{2})\|([1-9]\d{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? { txnDate: match[1], id: Number(match[2]) } : null;
}

/** A 400 naming one query field, in the shape the validation pipe gives (`message` list and `fields`). */
export function badQueryField(field: string, reason: string): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: [`${field}: ${reason}`],
    fields: { [field]: [reason] },
  });
}
