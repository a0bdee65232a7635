import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { SplynxClock } from './splynx-clock';

describe('SplynxClock', () => {
  it('reads UTC wall times as they are, and formats them back', () => {
    const clock = new SplynxClock('UTC');
    const ms = clock.toInstant('2026-03-29', '02:30:00');
    assert.equal(new Date(ms).toISOString(), '2026-03-29T02:30:00.000Z');
    assert.equal(clock.format(ms), '2026-03-29 02:30:00');
  });

  it('agrees with Luxon on every quarter hour of a year in zones with and without DST', () => {
    for (const zone of ['Europe/Tirane', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu']) {
      const clock = new SplynxClock(zone);
      for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 15 * 60_000) {
        const text = clock.format(ms);
        assert.equal(text, DateTime.fromMillis(ms, { zone }).toFormat('yyyy-MM-dd HH:mm:ss'), `${zone} ${ms}`);
        const back = clock.toInstant(text.slice(0, 10), text.slice(11));
        // A wall time the clock shows twice reads as the earlier instant; every other one round-trips.
        const shownTwice = clock.offsetAt(ms - 3_600_000) !== clock.offsetAt(ms) || back !== ms;
        if (!shownTwice) assert.equal(back, ms, `${zone} ${text}`);
        else assert.ok(back <= ms && clock.format(back) === text, `${zone} ${text}: ${back} vs ${ms}`);
      }
    }
  });

  it('reads the hour shown twice as its earlier instant, and the skipped hour as after the change', () => {
    const tirane = new SplynxClock('Europe/Tirane');
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 happens at 00:30Z and again at 01:30Z.
    assert.equal(new Date(tirane.toInstant('2026-10-25', '02:30:00')).toISOString(), '2026-10-25T00:30:00.000Z');
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist and reads as 03:30 CEST.
    assert.equal(new Date(tirane.toInstant('2026-03-29', '02:30:00')).toISOString(), '2026-03-29T01:30:00.000Z');
  });

  it('refuses a name that is not a time zone, and answers NaN for a time that is not one', () => {
    assert.throws(() => new SplynxClock('Mars/Olympus'), /not an IANA time zone/);
    assert.ok(Number.isNaN(new SplynxClock('Europe/Tirane').toInstant('2026-13-40', '99:00:00')));
  });
});
