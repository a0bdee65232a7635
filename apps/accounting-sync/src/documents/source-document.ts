import { createHash } from 'node:crypto';
import { localDate } from './date-range';

/** A row of GetSalesInvoice / GetPurchaseInvoice as DevPos answers it (../shared/reference/upstream-apis.md §7). */
export interface DevposListRow {
  eic?: unknown;
  documentNumber?: unknown;
  invoiceCreatedDate?: unknown;
  dueDate?: unknown;
  invoiceStatus?: unknown;
  amount?: unknown;
  buyerNuis?: unknown;
  buyerName?: unknown;
  sellerNuis?: unknown;
  sellerName?: unknown;
  partyType?: unknown;
  selfIssuingType?: unknown;
  customer?: { name?: unknown; idNumber?: unknown } | null;
  [field: string]: unknown;
}

export type DevposList = 'sales' | 'purchase';
export type QboEntity = 'Invoice' | 'CreditMemo' | 'Bill' | 'VendorCredit';

/** What the sync knows of one DevPos document, in the company's terms. */
export interface SourceDocument {
  eic: string;
  number: string;
  /** The list it came from, and what it is in substance (a self-invoice in the sales list is a purchase). */
  list: DevposList;
  kind: DevposList;
  selfInvoice: boolean;
  status: string;
  rejected: boolean;
  /** VAT included, as DevPos gives it; ≤ 0 is a credit note. */
  amount: number;
  /** The company's local dates. */
  txnDate: string;
  dueDate: string | null;
  party: { nuis: string | null; name: string };
  /** From the full document when DevPos gave it; null when unknown (then the company's home currency). */
  currency: string | null;
  exchangeRate: number | null;
}

export const REJECTED = 'Refuzuar';

export class MalformedDocumentError extends Error {
  constructor(
    readonly eic: string | null,
    problems: string[],
  ) {
    super(`DevPos document ${eic ?? '(no EIC)'} is malformed: ${problems.join('; ')}`);
    this.name = 'MalformedDocumentError';
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');

/** Reads a list row into a SourceDocument, naming every problem of a malformed one. */
export function readDevposRow(row: DevposListRow, list: DevposList, timezone: string): SourceDocument {
  const problems: string[] = [];
  const eic = text(row.eic);
  if (!/^[0-9a-fA-F-]{32,64}$/.test(eic)) problems.push('eic is missing or not a UUID');
  const number = text(row.documentNumber);
  if (!number) problems.push('documentNumber is missing');
  const amount = typeof row.amount === 'number' ? row.amount : Number(text(row.amount));
  if (!Number.isFinite(amount) || text(row.amount) === '') problems.push('amount is not a number');
  let txnDate = '';
  try {
    txnDate = localDate(text(row.invoiceCreatedDate), timezone);
  } catch {
    problems.push('invoiceCreatedDate is not an ISO-8601 instant');
  }
  let dueDate: string | null = null;
  if (text(row.dueDate)) {
    try {
      dueDate = localDate(text(row.dueDate), timezone);
    } catch {
      problems.push('dueDate is not an ISO-8601 instant');
    }
  }
  const selfInvoice = list === 'sales' && !!text(row.selfIssuingType);
  const kind: DevposList = selfInvoice ? 'purchase' : list;
  // The other party: the buyer of a sale; the seller of a purchase; the supplier named in a self-invoice.
  const party =
    selfInvoice && row.customer
      ? { nuis: text(row.customer.idNumber), name: text(row.customer.name) }
      : list === 'sales'
        ? { nuis: text(row.buyerNuis), name: text(row.buyerName) }
        : { nuis: text(row.sellerNuis), name: text(row.sellerName) };
  if (!party.name && !party.nuis)
    problems.push(`the ${kind === 'sales' ? 'buyer' : 'seller'} has neither NUIS nor name`);
  if (problems.length) throw new MalformedDocumentError(eic || null, problems);
  const status = text(row.invoiceStatus);
  return {
    eic: eic.toLowerCase(),
    number,
    list,
    kind,
    selfInvoice,
    status,
    rejected: status === REJECTED,
    amount,
    txnDate,
    dueDate,
    party: { nuis: party.nuis || null, name: party.name || party.nuis },
    currency: null,
    exchangeRate: null,
  };
}

/** The QuickBooks entity a document becomes: credit notes (amount ≤ 0) become credits instead of being dropped. */
export function qboEntityOf(doc: Pick<SourceDocument, 'kind' | 'amount'>): QboEntity {
  if (doc.kind === 'sales') return doc.amount > 0 ? 'Invoice' : 'CreditMemo';
  return doc.amount > 0 ? 'Bill' : 'VendorCredit';
}

/** A hash of everything that shapes the QuickBooks document: the same hash means no QuickBooks call at all. */
export function contentHash(doc: SourceDocument): string {
  const shaped = [
    doc.eic,
    doc.number,
    doc.kind,
    doc.amount,
    doc.txnDate,
    doc.dueDate,
    doc.party.nuis,
    doc.party.name,
    doc.currency,
    doc.exchangeRate,
    doc.status,
  ];
  return createHash('sha256').update(JSON.stringify(shaped)).digest('hex');
}

/**
 * QuickBooks' `requestid` for a document's create: derived from (company, EIC, generation), at most 36 characters (QuickBooks' limit for a batch; 50 otherwise), so
 * a create retried after a timeout or a crash gets QuickBooks' original answer instead of a second document. The
 * generation moves only when a mapped document was deleted in QuickBooks and must be created again.
 */
export function createRequestId(companyId: number, eic: string, generation: number): string {
  return createHash('sha256').update(`devpos:${companyId}:${eic}:${generation}`).digest('base64url').slice(0, 36);
}

/** A string literal of QuickBooks' query language: single quotes, with `\` and `'` escaped. */
export function qboString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
