/**
 * Splynx dates are a server's wall-clock time with no zone: `YYYY-MM-DD HH:MM:SS` (`last_update`) and `YYYY-MM-DD`
 * (`date_add`). The simulator holds them as "wall seconds", the seconds from 1970-01-01 00:00:00 to that wall time
 * read as if it were UTC. Ordering wall seconds is ordering the fixed-format strings, as MySQL compares DATETIMEs.
 */

/** `YYYY-MM-DD HH:MM:SS` of wall seconds. */
export function splynxDateTime(wallSeconds: number): string {
  return new Date(wallSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** `YYYY-MM-DD` of wall seconds. */
export function splynxDate(wallSeconds: number): string {
  return splynxDateTime(wallSeconds).slice(0, 10);
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?$/;

/**
 * Wall seconds of `YYYY-MM-DD HH:MM:SS`, or of `YYYY-MM-DD` as its midnight (MySQL compares a date with a datetime
 * that way); null for anything else, a day that does not exist (2024-02-30) included.
 */
export function parseSplynxDateTime(text: string): number | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((part) => Number(part ?? 0));
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  const exact =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute &&
    back.getUTCSeconds() === second;
  return exact ? ms / 1000 : null;
}

/**
 * The wall clock of a Splynx server in `timeZone` (an IANA name): instant (epoch ms) to wall seconds. An unknown
 * zone throws a RangeError here, when the simulator is built, rather than on the first change.
 */
export function wallClockIn(timeZone: string): (epochMs: number) => number {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  return (epochMs) => {
    const part: Record<string, number> = {};
    for (const p of format.formatToParts(new Date(epochMs))) if (p.type !== 'literal') part[p.type] = Number(p.value);
    return Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second) / 1000;
  };
}
