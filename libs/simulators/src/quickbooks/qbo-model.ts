/** The entities the simulated QuickBooks company keeps, by the capitalised name Intuit uses in bodies and queries. */
export const QBO_ENTITIES = [
  'Customer',
  'Vendor',
  'Employee',
  'Item',
  'Account',
  'TaxCode',
  'Invoice',
  'Bill',
  'CreditMemo',
  'VendorCredit',
  'Attachable',
] as const;
export type QboEntityName = (typeof QBO_ENTITIES)[number];

/** Names whose DisplayName must be unique across all three (Intuit 6240). */
export const QBO_NAMED: readonly QboEntityName[] = ['Customer', 'Vendor', 'Employee'];
/** Name lists: never deleted, only made inactive; a query leaves inactive ones out unless it asks for `Active`. */
export const QBO_NAME_LISTS: readonly QboEntityName[] = ['Customer', 'Vendor', 'Employee', 'Item', 'Account'];
export const QBO_SALES: readonly QboEntityName[] = ['Invoice', 'CreditMemo'];
export const QBO_PURCHASES: readonly QboEntityName[] = ['Bill', 'VendorCredit'];

export type QboEntity = Record<string, unknown> & { Id: string; SyncToken: string };

/** Entity name from a URL segment or a query's FROM, case-insensitively (`vendorcredit` → `VendorCredit`). */
export function entityName(raw: string): QboEntityName | undefined {
  const lower = raw.toLowerCase();
  return QBO_ENTITIES.find((e) => e.toLowerCase() === lower);
}

/** One `Fault.Error[]` entry: `code` is a string, `element` a field name or "". */
export interface QboErrorDetail {
  Message: string;
  Detail: string;
  code: string;
  element: string;
}

/**
 * A fault the business layer answers with (ValidationFault 400 unless said otherwise); thrown where the fact is known
 * and turned into Intuit's `{"Fault":{…},"time":…}` body (or a batch item's `Fault`) at the edge.
 */
export class QboFault extends Error {
  constructor(
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly element = '',
    readonly type = 'ValidationFault',
    readonly status = 400,
  ) {
    super(`${code} ${title}: ${detail}`);
  }

  get body(): { Error: QboErrorDetail[]; type: string } {
    return {
      Error: [{ Message: this.title, Detail: this.detail, code: this.code, element: this.element }],
      type: this.type,
    };
  }

  static notFound(entity: string, id: string): QboFault {
    return new QboFault(
      '610',
      'Object Not Found',
      `Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. (${entity} Id=${id})`,
    );
  }

  static required(element: string, what = element): QboFault {
    return new QboFault(
      '2020',
      'Required param missing, need to supply the required value for the API',
      `Required parameter ${what} is missing in the request`,
      element,
    );
  }

  static invalidRef(element: string, entity: string, id: string): QboFault {
    return new QboFault(
      '2500',
      'Invalid Reference Id',
      `Invalid Reference Id : ${entity} assigned to this transaction has been deleted or does not exist (Id=${id})`,
      element,
    );
  }

  static stale(entity: string): QboFault {
    return new QboFault(
      '5010',
      'Stale Object Error',
      `Stale Object Error : You and root were working on this at the same time. root finished before you did, so your work was not saved. (${entity})`,
    );
  }

  static duplicateName(name: string): QboFault {
    return new QboFault(
      '6240',
      'Duplicate Name Exists Error',
      `The name supplied already exists. : Another customer, vendor or employee is already using this name ("${name}"). Please use a different name.`,
      'DisplayName',
    );
  }

  static business(detail: string, element = ''): QboFault {
    return new QboFault(
      '6000',
      'A business validation error has occurred while processing your request',
      `Business Validation Error: ${detail}`,
      element,
    );
  }

  static unsupported(detail: string): QboFault {
    return new QboFault('500', 'Unsupported Operation', detail);
  }

  static badRequest(detail: string): QboFault {
    return new QboFault('2010', 'Request has invalid or unsupported property', detail);
  }

  static queryParser(detail: string): QboFault {
    return new QboFault('4000', 'Error parsing query', `QueryParserError: ${detail}`);
  }
}

/** Intuit's answer time and MetaData times: company-local (Pacific, as the sandbox shows) with an explicit offset. */
export function qboTime(ms: number): string {
  const local = new Date(ms - 8 * 3600 * 1000).toISOString().slice(0, 19);
  return `${local}-08:00`;
}

export function qboDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A JSON value as text: "" for null/undefined, primitives as themselves, objects as JSON (never "[object Object]"). */
export function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}
