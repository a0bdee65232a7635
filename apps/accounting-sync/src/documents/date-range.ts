import { DateTime } from 'luxon';

/** An inclusive range of local dates, `YYYY-MM-DD`. */
export interface DateRange {
  from: string;
  to: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The company's local date of an instant (DevPos gives `invoiceCreatedDate` with a +01:00/+02:00 offset). */
export function localDate(instant: string | Date, timezone: string): string {
  const dt = typeof instant === 'string' ? DateTime.fromISO(instant, { setZone: true }) : DateTime.fromJSDate(instant);
  if (!dt.isValid) throw new Error(`not an ISO-8601 instant: ${String(instant)}`);
  return dt.setZone(timezone).toISODate()!;
}

/** Seed 001's range, in the company's zone: today − `days` … today. */
export function companyRange(timezone: string, days: number, now: Date = new Date()): DateRange {
  const today = DateTime.fromJSDate(now).setZone(timezone).startOf('day');
  return { from: today.minus({ days }).toISODate()!, to: today.toISODate()! };
}

/** A manual run's `from`/`to`, checked: real dates, from ≤ to. Throws a message naming the problem. */
export function explicitRange(from: string, to: string): DateRange {
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const)
    if (!DATE.test(value) || !DateTime.fromISO(value).isValid) throw new Error(`${name} must be a date (YYYY-MM-DD)`);
  if (from > to) throw new Error(`from (${from}) is after to (${to})`);
  return { from, to };
}

/**
 * Consecutive windows of at most `size` days covering the range, oldest first, so a slow DevPos answers each long
 * range in pieces (dates only: DevPos refuses timestamps).
 */
export function windows(range: DateRange, size = 7): DateRange[] {
  if (size < 1) throw new Error('a window is at least one day');
  const out: DateRange[] = [];
  let start = DateTime.fromISO(range.from, { zone: 'UTC' });
  const end = DateTime.fromISO(range.to, { zone: 'UTC' });
  while (start <= end) {
    const stop = DateTime.min(start.plus({ days: size - 1 }), end);
    out.push({ from: start.toISODate()!, to: stop.toISODate()! });
    start = stop.plus({ days: 1 });
  }
  return out;
}
