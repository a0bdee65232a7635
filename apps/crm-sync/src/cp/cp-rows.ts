import { CpColumnSpec, CpTableSpec } from './cp-tables';

/** A source row as the destination stores it: its key, the typed values by column, and the whole row as JSON. */
export interface CpStoredRow {
  id: number;
  values: Record<string, unknown>;
  /** The source row as JSON (`source_row`): compared with the stored one to tell an unchanged row. */
  json: string;
  source: Record<string, unknown>;
}

export type CpRowResult =
  | { ok: true; row: CpStoredRow }
  /** `id` when the row had a readable primary key (the cursor still moves past it). */
  | { ok: false; id: number | null; reason: string };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]00:?00)?$/;
const DECIMAL = /^-?\d{1,10}(\.\d{1,2})?$/;
const INTEGER = /^-?\d{1,15}$/;

/** A positive whole number (a JSON number or its decimal text), else null. */
export function primaryKeyOf(value: unknown): number | null {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function validDate(y: string, m: string, d: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
}

/** The stored value of one declared column, or an Error saying what is wrong with it. */
function convert(column: CpColumnSpec, value: unknown): unknown {
  if (value === undefined || value === null) {
    if (column.nullable) return null;
    return new Error(value === undefined ? 'missing' : 'null');
  }
  switch (column.type) {
    case 'int': {
      const n =
        typeof value === 'number' ? value : typeof value === 'string' && INTEGER.test(value) ? Number(value) : NaN;
      return Number.isSafeInteger(n) ? n : new Error(`not a whole number (${JSON.stringify(value)})`);
    }
    case 'string':
    case 'text': {
      const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
      if (text === null) return new Error(`not text (${JSON.stringify(value)})`);
      if (column.type === 'string' && [...text].length > (column.length ?? 255))
        return new Error(`longer than ${column.length ?? 255} characters`);
      return text;
    }
    case 'decimal': {
      const text = typeof value === 'number' ? String(value) : value;
      return typeof text === 'string' && DECIMAL.test(text)
        ? text
        : new Error(`not an amount (${JSON.stringify(value)})`);
    }
    case 'date': {
      const m = typeof value === 'string' ? DATE.exec(value) : null;
      return m && validDate(m[1], m[2], m[3]) ? value : new Error(`not a date YYYY-MM-DD (${JSON.stringify(value)})`);
    }
    case 'datetime': {
      const m = typeof value === 'string' ? DATETIME.exec(value) : null;
      if (!m || !validDate(m[1], m[2], m[3]) || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59)
        return new Error(`not a date-time YYYY-MM-DD HH:mm:ss (${JSON.stringify(value)})`);
      // The contract's date-times are UTC, written without a zone.
      const ms = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
      return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms));
    }
    case 'flag':
      if (value === 0 || value === 1 || value === '0' || value === '1') return Number(value) === 1;
      if (typeof value === 'boolean') return value;
      return new Error(`not 0 or 1 (${JSON.stringify(value)})`);
  }
}

/**
 * Checks one source row against its table's declared columns and converts it for the destination. A row without a
 * readable primary key, or with a declared column missing or of the wrong type, is refused with the reasons; undeclared
 * columns are kept, in the JSON copy only.
 */
export function toStoredRow(spec: CpTableSpec, row: unknown, syncedAt: Date): CpRowResult {
  if (row === null || typeof row !== 'object' || Array.isArray(row))
    return { ok: false, id: null, reason: 'not an object' };
  const source = row as Record<string, unknown>;
  const id = primaryKeyOf(source[spec.primaryKey]);
  if (id === null)
    return {
      ok: false,
      id: null,
      reason: `no readable primary key ${spec.primaryKey} (${JSON.stringify(source[spec.primaryKey] ?? null)})`,
    };
  const values: Record<string, unknown> = { [spec.primaryKey]: id };
  const problems: string[] = [];
  for (const column of spec.columns) {
    const value = convert(column, source[column.name]);
    if (value instanceof Error) problems.push(`${column.name}: ${value.message}`);
    else values[column.name] = value;
  }
  let updatedAt: Date | null = null;
  if (spec.hasUpdatedAt && source.updated_at !== undefined && source.updated_at !== null) {
    const value = convert({ name: 'updated_at', type: 'datetime' }, source.updated_at);
    if (value instanceof Error) problems.push(`updated_at: ${value.message}`);
    else updatedAt = value as Date;
  }
  if (problems.length > 0) return { ok: false, id, reason: problems.join('; ') };
  if (spec.hasUpdatedAt) values.source_updated_at = updatedAt;
  values.synced_at = syncedAt;
  return { ok: true, row: { id, values, json: JSON.stringify(source), source } };
}

/**
 * The source columns a change event names (`crm.loyalty.<table>.changed.v1`): the row's keys whose values differ from
 * the stored row's, compared as JSON values, in the row's order, then the keys the stored row had and this one has
 * not. A key that appeared or disappeared counts even when its value is null. Without a stored row, every key.
 */
export function changedSourceColumns(after: Record<string, unknown>, before?: Record<string, unknown>): string[] {
  if (!before) return Object.keys(after);
  const changed = Object.keys(after).filter(
    (key) => !Object.hasOwn(before, key) || JSON.stringify(after[key]) !== JSON.stringify(before[key]),
  );
  for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) changed.push(key);
  return changed;
}
