import { DateTime, IANAZone } from 'luxon';

const QUARTER_HOUR_MS = 15 * 60_000;
/** Cached offsets per zone and UTC quarter hour are dropped past this many (a full sync spans years of last_update). */
const MAX_CACHED_OFFSETS = 50_000;

/**
 * Splynx writes times as `YYYY-MM-DD HH:MM:SS` on its server's wall clock, without a zone (SPLYNX_TIMEZONE names it).
 * This converts them to instants and back. Zones change offsets on quarter hours of UTC, so an offset is looked up once
 * per zone and UTC quarter hour (Luxon's conversion per record would cost a full sync about a second per 100,000).
 */
export class SplynxClock {
  private readonly utc: boolean;
  private readonly zone: IANAZone;
  private readonly offsets = new Map<number, number>();

  constructor(readonly timeZone: string) {
    this.zone = IANAZone.create(timeZone);
    if (!this.zone.isValid) throw new Error(`not an IANA time zone: ${timeZone}`);
    this.utc = this.zone.offset(Date.UTC(2021, 0, 1)) === 0 && this.zone.offset(Date.UTC(2021, 6, 1)) === 0;
  }

  /**
   * The instant (ms) of a Splynx wall-clock time, `date` as YYYY-MM-DD and `time` as HH:MM:SS; NaN if it is not one.
   * A time the clock shows twice (the hour a zone falls back) is read as the earlier instant.
   */
  toInstant(date: string, time: string): number {
    const wall = Date.parse(`${date}T${time}Z`);
    if (this.utc || Number.isNaN(wall)) return wall;
    // The offsets half a day either side (zones never change twice in a day): each gives a candidate instant, valid
    // if the zone has that offset there. Both valid: the hour shown twice. Neither: the hour skipped (read as after it).
    const before = wall - this.offsetAt(wall - 12 * 3_600_000) * 60_000;
    const after = wall - this.offsetAt(wall + 12 * 3_600_000) * 60_000;
    const valid = (t: number) => this.offsetAt(t) * 60_000 === wall - t;
    if (valid(before) && valid(after)) return Math.min(before, after);
    return valid(after) ? after : before;
  }

  /** The instant as Splynx writes it: `YYYY-MM-DD HH:MM:SS` on the server's wall clock. */
  format(ms: number): string {
    return DateTime.fromMillis(ms, { zone: this.zone }).toFormat('yyyy-MM-dd HH:mm:ss');
  }

  /** The zone's UTC offset in minutes at an instant. */
  offsetAt(ms: number): number {
    if (this.utc) return 0;
    const key = Math.floor(ms / QUARTER_HOUR_MS);
    let offset = this.offsets.get(key);
    if (offset === undefined) {
      if (this.offsets.size >= MAX_CACHED_OFFSETS) this.offsets.clear();
      offset = this.zone.offset(key * QUARTER_HOUR_MS);
      this.offsets.set(key, offset);
    }
    return offset;
  }
}

export const UTC_CLOCK = new SplynxClock('UTC');
