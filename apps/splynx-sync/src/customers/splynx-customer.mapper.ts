import { createHash } from 'node:crypto';
import { SplynxClock, UTC_CLOCK } from './splynx-clock';
import { SplynxCustomer } from './splynx-customer.entity';

/** A record Splynx sent that cannot be mirrored; it is counted as failed and logged with its id. */
export class MalformedCustomerError extends Error {
  constructor(
    readonly customerId: number | null,
    readonly problems: string[],
  ) {
    super(`customer ${customerId ?? '(no id)'} is malformed: ${problems.join('; ')}`);
    this.name = 'MalformedCustomerError';
  }
}

export type SplynxCustomerRow = Omit<SplynxCustomer, 'syncedAt' | 'active' | 'syncGeneration'> & {
  /** `raw` as JSON text, serialised once: the content hash is of it, and the upsert stores it as it is. */
  rawText: string;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/;

/** Splynx sends numbers as strings as often as not; both are accepted. */
function toInt(value: unknown): number | null | undefined {
  if (value === null || value === undefined || value === '') return null;
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

function toText(value: unknown, max: number, field: string, problems: string[]): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string' && typeof value !== 'number') {
    problems.push(`${field} is not text`);
    return null;
  }
  const text = String(value);
  if (text.length > max) problems.push(`${field} is longer than ${max} characters`);
  return text;
}

/**
 * Maps one raw Splynx customer to its row, or throws MalformedCustomerError naming every problem. `clock` reads
 * `last_update` in the Splynx server's time zone (SPLYNX_TIMEZONE).
 */
export function mapSplynxCustomer(raw: unknown, clock: SplynxClock = UTC_CLOCK): SplynxCustomerRow {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new MalformedCustomerError(null, ['record is not an object']);
  const r = raw as Record<string, unknown>;
  const problems: string[] = [];
  const id = toInt(r.id);
  if (id == null || id <= 0)
    throw new MalformedCustomerError(null, [`id ${JSON.stringify(r.id)} is not a positive integer`]);

  const name = toText(r.name, 255, 'name', problems);
  if (!name) problems.push('name is missing');
  const status = toText(r.status, 32, 'status', problems);
  if (!status) problems.push('status is missing');
  const partnerId = toInt(r.partner_id);
  if (partnerId === undefined) problems.push(`partner_id ${JSON.stringify(r.partner_id)} is not an integer`);
  const locationId = toInt(r.location_id);
  if (locationId === undefined) problems.push(`location_id ${JSON.stringify(r.location_id)} is not an integer`);

  const dateAddText = toText(r.date_add, 10, 'date_add', problems);
  if (dateAddText && !DATE.test(dateAddText)) problems.push(`date_add ${dateAddText} is not YYYY-MM-DD`);
  const lastUpdateText = toText(r.last_update, 19, 'last_update', problems);
  const lastUpdateMatch = lastUpdateText ? DATETIME.exec(lastUpdateText) : null;
  if (lastUpdateText && !lastUpdateMatch) problems.push(`last_update ${lastUpdateText} is not YYYY-MM-DD HH:MM:SS`);
  if (problems.length > 0) throw new MalformedCustomerError(id, problems);

  const row: Omit<SplynxCustomerRow, 'contentHash' | 'rawText'> = {
    splynxId: id,
    login: toText(r.login, 128, 'login', problems),
    name: name!,
    email: toText(r.email, 255, 'email', problems),
    phone: toText(r.phone, 64, 'phone', problems),
    status: status!,
    category: toText(r.category, 32, 'category', problems),
    billingType: toText(r.billing_type, 32, 'billing_type', problems),
    partnerId: partnerId ?? null,
    locationId: locationId ?? null,
    // Splynx writes "no date" as 0000-00-00.
    dateAdd: dateAddText && dateAddText !== '0000-00-00' ? dateAddText : null,
    lastUpdate:
      lastUpdateMatch && !lastUpdateMatch[1].startsWith('0000')
        ? new Date(clock.toInstant(lastUpdateMatch[1], lastUpdateMatch[2]))
        : null,
    raw: r,
  };
  if (problems.length > 0) throw new MalformedCustomerError(id, problems);
  // The record as Splynx sent it: if a Splynx upgrade reorders its fields, every customer counts as updated once.
  const rawText = JSON.stringify(r);
  return { ...row, rawText, contentHash: createHash('sha1').update(rawText).digest('hex') };
}
