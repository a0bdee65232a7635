import { DateTime } from 'luxon';

import type { Frequency } from '@sync-hub/contracts';
export { FREQUENCIES, isValidTimezone } from '@sync-hub/contracts';
export type { Frequency } from '@sync-hub/contracts';

/** The timing fields of a schedule (DESIGN.md section 4). */
export interface Cadence {
  frequency: Frequency;
  intervalMinutes?: number | null;
  minute?: number | null;
  hourOfDay?: number | null;
  /** 0 = Sunday … 6 = Saturday. */
  dayOfWeek?: number | null;
  /** 1..31; beyond the month's length means its last day. */
  dayOfMonth?: number | null;
  timezone: string;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const wallMinutes = (d: DateTime) => d.hour * 60 + d.minute;

/**
 * The instant a wall-clock time happens in a zone. A time that does not exist (spring forward) happens at the first
 * valid instant after it, the moment the clocks jump; a time that exists twice (fall back) happens at its first
 * occurrence.
 */
export function resolveWallTime(wall: Wall, zone: string): DateTime {
  let dt = DateTime.fromObject(wall, { zone });
  if (dt.day !== wall.day || dt.hour !== wall.hour || dt.minute !== wall.minute) {
    // In a gap luxon moves forward by the gap's length; step back to the first minute after the jump.
    const target = wall.hour * 60 + wall.minute;
    for (let i = 0; i < 240; i++) {
      const earlier = dt.minus({ minutes: 1 });
      if (earlier.day !== wall.day || wallMinutes(earlier) < target) break;
      dt = earlier;
    }
    return dt.startOf('minute');
  }
  // Ambiguous: luxon picks the later offset; prefer an earlier instant with the same wall time.
  for (const minutes of [60, 30]) {
    const earlier = dt.minus({ minutes });
    if (earlier.day === dt.day && earlier.hour === dt.hour && earlier.minute === dt.minute) return earlier;
  }
  return dt;
}

/** Candidate wall times in increasing order, from the local day of `from` on. */
function* wallCandidates(c: Cadence, from: DateTime): Generator<Wall> {
  const minute = c.minute ?? 0;
  const hour = c.hourOfDay ?? 0;
  let day = from.startOf('day');
  for (let i = 0; i < 800; i++, day = day.plus({ days: 1 })) {
    const base = { year: day.year, month: day.month, day: day.day };
    switch (c.frequency) {
      case 'hourly':
        for (let h = i === 0 ? from.hour : 0; h < 24; h++) yield { ...base, hour: h, minute };
        break;
      case 'daily':
        yield { ...base, hour, minute };
        break;
      case 'weekly':
        if (day.weekday % 7 === (c.dayOfWeek ?? 0)) yield { ...base, hour, minute };
        break;
      case 'monthly':
        if (day.day === Math.min(c.dayOfMonth ?? 1, day.daysInMonth!)) yield { ...base, hour, minute };
        break;
      default:
        return;
    }
  }
}

/**
 * The first run strictly after `after` (DESIGN.md section 5), as a UTC instant. `every_minutes` runs at every
 * minute whose minute-of-hour is divisible by the interval (seed 004); the others at wall-clock times in the
 * schedule's timezone.
 */
export function nextRunAfter(c: Cadence, after: Date): Date {
  const zone = c.timezone || 'UTC';
  if (c.frequency === 'every_minutes') {
    const interval = Math.max(1, c.intervalMinutes ?? 1);
    let t = DateTime.fromJSDate(after, { zone }).startOf('minute').plus({ minutes: 1 });
    // Straight to the next minute divisible by the interval, or the next hour's minute 0.
    const m = t.minute;
    const step = m % interval === 0 ? 0 : Math.min(interval - (m % interval), 60 - m);
    t = t.plus({ minutes: step });
    for (let i = 0; i < 120 && t.minute % interval !== 0; i++) t = t.plus({ minutes: 1 });
    return t.toJSDate();
  }
  const local = DateTime.fromJSDate(after, { zone });
  for (const wall of wallCandidates(
    c,
    c.frequency === 'hourly' ? local.minus({ hours: 2 }) : local.minus({ days: 1 }),
  )) {
    const at = resolveWallTime(wall, zone);
    if (at.toMillis() > after.getTime()) return at.toJSDate();
  }
  throw new Error(`no next run within 800 days for ${JSON.stringify(c)}`);
}

/** The latest run at or before `at`, or null if the schedule has none in the last 800 days. */
export function latestRunAtOrBefore(c: Cadence, at: Date, notBefore: Date): Date | null {
  let latest: Date | null = null;
  let t = nextRunAfter(c, new Date(notBefore.getTime() - 1));
  while (t.getTime() <= at.getTime()) {
    latest = t;
    t = nextRunAfter(c, t);
  }
  return latest;
}

/** "Today at 9:00 AM", "Tomorrow at 9:00 AM", "Monday at 8:00 AM", "March 1 at 6:00 AM", in the schedule's zone. */
export function humanNextRun(next: Date | null, zone: string, now: Date): string | null {
  if (!next) return null;
  const at = DateTime.fromJSDate(next, { zone });
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  const days = Math.round(at.startOf('day').diff(today, 'days').days);
  const time = at.toFormat('h:mm a');
  if (days === 0) return `Today at ${time}`;
  if (days === 1) return `Tomorrow at ${time}`;
  if (days > 1 && days < 7) return `${at.toFormat('cccc')} at ${time}`;
  return `${at.toFormat(at.year === today.year ? 'LLLL d' : 'LLLL d, yyyy')} at ${time}`;
}
