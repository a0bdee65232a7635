import { DateTime } from 'luxon';

/** An inclusive range of local dates, `YYYY-MM-DD`. */
export interface DateRange {
  from: string;
  to: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Zones change offsets at instants on a quarter hour of UTC (Tirane: 01:00 UTC; Lord Howe: 15:30 UTC). */
const SLOT_MS = 900_000;
/** The zone's UTC offset (minutes) per zone and UTC quarter hour. */
const offsets = new Map<string, number>();
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The company's local date of an instant (DevPos gives `invoiceCreatedDate` with a +01:00/+02:00 offset). The zone's
 * offset is looked up once per UTC quarter hour (Luxon's zone conversion per row was most of an unchanged re-run's time).
 */
export function localDate(instant: string | Date, timezone: string): string {
  let ms: number;
  if (typeof instant === 'string') {
    ms = ISO_INSTANT.test(instant) ? Date.parse(instant) : NaN;
    if (Number.isNaN(ms)) {
      // Other ISO-8601 shapes (no offset: the zone's own wall time; week dates, …): Luxon, row by row.
      const dt = DateTime.fromISO(instant, { zone: timezone });
      if (!dt.isValid) throw new Error(`not an ISO-8601 instant: ${instant}`);
      return dt.toISODate();
    }
  } else ms = instant.getTime();
  const slot = Math.floor(ms / SLOT_MS);
  const key = `${timezone}|${slot}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const zone = DateTime.fromMillis(slot * SLOT_MS, { zone: timezone });
    if (!zone.isValid) throw new Error(`not a time zone: ${timezone}`);
    offset = zone.offset;
    if (offsets.size > 100_000) offsets.clear();
    offsets.set(key, offset);
  }
  return new Date(ms + offset * 60_000).toISOString().slice(0, 10);
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
