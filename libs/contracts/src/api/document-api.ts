import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** synced: in QuickBooks; failed: refused or not done (see last_error); skipped: rejected in DevPos; pending: sent, answer not stored yet. */
export const DOCUMENT_STATUSES = ['synced', 'failed', 'skipped', 'pending'] as const;
export type DocumentStatusName = (typeof DOCUMENT_STATUSES)[number];

/** sales: from DevPos's sales list (Invoice, CreditMemo); purchase: purchases and self-invoices (Bill, VendorCredit). */
export const DOCUMENT_TYPES = ['sales', 'purchase'] as const;
export type DocumentTypeName = (typeof DOCUMENT_TYPES)[number];

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** GET /api/companies/:id/documents: filters (all optional) and paging; newest transaction date first. */
export class ListDocumentsQuery {
  @ApiPropertyOptional({ enum: DOCUMENT_STATUSES })
  @IsOptional()
  @IsIn(DOCUMENT_STATUSES)
  status?: DocumentStatusName;

  @ApiPropertyOptional({ enum: DOCUMENT_TYPES })
  @IsOptional()
  @IsIn(DOCUMENT_TYPES)
  type?: DocumentTypeName;

  @ApiPropertyOptional({ description: 'documents dated (TxnDate, the company-local date) on or after, YYYY-MM-DD' })
  @IsOptional()
  @Matches(DATE, { message: 'from must be a date (YYYY-MM-DD)' })
  from?: string;

  @ApiPropertyOptional({ description: 'documents dated on or before, YYYY-MM-DD' })
  @IsOptional()
  @Matches(DATE, { message: 'to must be a date (YYYY-MM-DD)' })
  to?: string;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{4,200}$/, { message: 'cursor is not a cursor this API gave out' })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

/** The last error of a document: QuickBooks' code, message and element (and its intuit_tid), or DevPos's. */
export interface DocumentErrorView {
  code: string;
  message: string;
  element: string | null;
  intuit_tid: string | null;
}

/**
 * One DevPos document of a company and what it became in QuickBooks, as GET /api/companies/:id/documents(/:eic)
 * answers it. Times are ISO-8601 UTC; txn_date is the company-local date.
 */
export interface DocumentView {
  company_id: number;
  source: 'devpos';
  eic: string;
  document_number: string | null;
  type: DocumentTypeName;
  txn_date: string;
  currency: string;
  status: DocumentStatusName;
  qbo_entity: string;
  qbo_id: string | null;
  sync_token: string | null;
  /** Moves when the document must be created again under a new requestid (deleted in QuickBooks, or refused). */
  generation: number;
  last_error: DocumentErrorView | null;
  /** The QuickBooks Attachable carrying the PDF, and why attaching failed when it did. */
  /** attached, failed (see attachment_warning), none (no PDF, or the company attaches none); null: not tried yet. */
  attachment_status: 'attached' | 'failed' | 'none' | null;
  attachment_id: string | null;
  attachment_warning: string | null;
  synced_at: string | null;
  updated_at: string;
}

/** DocumentView in one line, for the OpenAPI descriptions of the routes that answer it (accounting-sync's and the gateway's). */
export const DOCUMENT_VIEW_DESCRIPTION =
  'DocumentView: { company_id, source, eic, document_number, type (sales | purchase), txn_date (company-local YYYY-MM-DD), currency, status (synced | failed | skipped | pending), qbo_entity, qbo_id, sync_token, generation, last_error: { code, message, element, intuit_tid } | null, attachment_status (attached | failed | none | null), attachment_id, attachment_warning, synced_at, updated_at }';

/** A page of documents: `next_cursor` null on the last page. */
export interface DocumentPage {
  data: DocumentView[];
  next_cursor: string | null;
}

/** POST /api/companies/:id/documents/:eic/retry: the run that retried it and the document as it is now. */
export interface DocumentRetryView {
  run_id: string;
  run_status: 'completed' | 'failed' | 'skipped';
  /**
   * The run's error (`origin/CODE: message`) or skip reason when it did not complete; when it completed without finding
   * the document in DevPos's list of its date (nothing was sent), that. Null otherwise.
   */
  reason: string | null;
  document: DocumentView;
}
