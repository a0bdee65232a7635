import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cadence, humanNextRun, isValidTimezone, latestRunAtOrBefore, nextRunAfter } from './next-run';

const next = (c: Partial<Cadence> & Pick<Cadence, 'frequency'>, after: string) =>
  nextRunAfter({ timezone: 'UTC', ...c }, new Date(after)).toISOString();

/** Every run from `from` for `count` runs. */
function runs(c: Cadence, from: string, count: number): string[] {
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < count; i++) {
    t = nextRunAfter(c, t);
    out.push(t.toISOString());
  }
  return out;
}

describe('nextRunAfter', () => {
  it('hourly runs at its minute of every hour, strictly after the given instant', () => {
    assert.equal(next({ frequency: 'hourly', minute: 15 }, '2026-11-21T10:14:59Z'), '2026-11-21T10:15:00.000Z');
    assert.equal(next({ frequency: 'hourly', minute: 15 }, '2026-11-21T10:15:00Z'), '2026-11-21T11:15:00.000Z');
    assert.equal(next({ frequency: 'hourly' }, '2026-11-21T23:30:00Z'), '2026-11-22T00:00:00.000Z');
  });

  it('daily runs at its wall time in the schedule timezone', () => {
    assert.equal(
      next({ frequency: 'daily', hourOfDay: 9, timezone: 'Europe/Tirane' }, '2026-11-21T07:00:00Z'),
      '2026-11-21T08:00:00.000Z',
    );
    assert.equal(
      next({ frequency: 'daily', hourOfDay: 9, timezone: 'Europe/Tirane' }, '2026-11-21T08:00:00Z'),
      '2026-11-22T08:00:00.000Z',
    );
    assert.equal(
      next({ frequency: 'daily', hourOfDay: 9, timezone: 'America/New_York' }, '2026-07-01T00:00:00Z'),
      '2026-07-01T13:00:00.000Z',
    );
  });

  it('weekly: day_of_week 0 is Sunday', () => {
    // 2026-11-21 is a Saturday.
    assert.equal(
      next({ frequency: 'weekly', dayOfWeek: 0, hourOfDay: 4 }, '2026-11-21T12:00:00Z'),
      '2026-11-22T04:00:00.000Z',
    );
    assert.equal(
      next({ frequency: 'weekly', dayOfWeek: 1, hourOfDay: 8 }, '2026-11-21T12:00:00Z'),
      '2026-11-23T08:00:00.000Z',
    );
    assert.equal(
      next({ frequency: 'weekly', dayOfWeek: 6, hourOfDay: 8 }, '2026-11-21T12:00:00Z'),
      '2026-11-28T08:00:00.000Z',
    );
  });

  it('monthly on day 31 runs on the last day of February and April', () => {
    const c: Cadence = { frequency: 'monthly', dayOfMonth: 31, hourOfDay: 6, timezone: 'UTC' };
    assert.deepEqual(runs(c, '2027-01-31T07:00:00Z', 4), [
      '2027-02-28T06:00:00.000Z',
      '2027-03-31T06:00:00.000Z',
      '2027-04-30T06:00:00.000Z',
      '2027-05-31T06:00:00.000Z',
    ]);
  });

  it('monthly on day 29: 29 February in a leap year, 28 February in a common year', () => {
    const c: Cadence = { frequency: 'monthly', dayOfMonth: 29, hourOfDay: 0, timezone: 'UTC' };
    assert.equal(nextRunAfter(c, new Date('2028-02-01T00:00:00Z')).toISOString(), '2028-02-29T00:00:00.000Z');
    assert.equal(nextRunAfter(c, new Date('2027-02-01T00:00:00Z')).toISOString(), '2027-02-28T00:00:00.000Z');
    assert.equal(nextRunAfter(c, new Date('2027-02-28T00:00:00Z')).toISOString(), '2027-03-29T00:00:00.000Z');
  });

  it('every_minutes runs when the minute of the hour is divisible by the interval', () => {
    const c: Cadence = { frequency: 'every_minutes', intervalMinutes: 5, timezone: 'UTC' };
    assert.deepEqual(runs(c, '2026-11-21T10:52:30Z', 3), [
      '2026-11-21T10:55:00.000Z',
      '2026-11-21T11:00:00.000Z',
      '2026-11-21T11:05:00.000Z',
    ]);
    const seven: Cadence = { frequency: 'every_minutes', intervalMinutes: 7, timezone: 'UTC' };
    assert.deepEqual(runs(seven, '2026-11-21T10:50:00Z', 3), [
      '2026-11-21T10:56:00.000Z',
      '2026-11-21T11:00:00.000Z',
      '2026-11-21T11:07:00.000Z',
    ]);
  });

  describe('DST in Europe/Tirane (spring forward 29 March 2026 02:00→03:00, fall back 25 October 2026 03:00→02:00)', () => {
    it('a daily 02:30 that does not exist runs at the first valid instant after it, 03:00 local', () => {
      const c: Cadence = { frequency: 'daily', hourOfDay: 2, minute: 30, timezone: 'Europe/Tirane' };
      assert.deepEqual(runs(c, '2026-03-28T00:00:00Z', 3), [
        '2026-03-28T01:30:00.000Z', // 02:30 CET
        '2026-03-29T01:00:00.000Z', // no 02:30: 03:00 CEST, the jump
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
      ]);
    });

    it('a daily 02:30 that happens twice runs once, at its first occurrence', () => {
      const c: Cadence = { frequency: 'daily', hourOfDay: 2, minute: 30, timezone: 'Europe/Tirane' };
      assert.deepEqual(runs(c, '2026-10-24T12:00:00Z', 2), ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    });

    it('hourly across the fall-back runs each local time once', () => {
      const c: Cadence = { frequency: 'hourly', minute: 30, timezone: 'Europe/Tirane' };
      const out = runs(c, '2026-10-24T23:00:00Z', 4);
      assert.deepEqual(out, [
        '2026-10-24T23:30:00.000Z',
        '2026-10-25T00:30:00.000Z',
        '2026-10-25T02:30:00.000Z',
        '2026-10-25T03:30:00.000Z',
      ]);
    });
  });

  describe('DST in America/New_York (spring forward 8 March 2026, fall back 1 November 2026)', () => {
    it('a weekly Sunday 02:15 that does not exist runs at 03:00 EDT', () => {
      const c: Cadence = { frequency: 'weekly', dayOfWeek: 0, hourOfDay: 2, minute: 15, timezone: 'America/New_York' };
      assert.equal(nextRunAfter(c, new Date('2026-03-07T00:00:00Z')).toISOString(), '2026-03-08T07:00:00.000Z');
      assert.equal(nextRunAfter(c, new Date('2026-03-08T07:00:00Z')).toISOString(), '2026-03-15T06:15:00.000Z');
    });

    it('a Sunday 01:30 that happens twice runs once, in EDT', () => {
      const c: Cadence = { frequency: 'weekly', dayOfWeek: 0, hourOfDay: 1, minute: 30, timezone: 'America/New_York' };
      assert.deepEqual(runs(c, '2026-10-31T00:00:00Z', 2), ['2026-11-01T05:30:00.000Z', '2026-11-08T06:30:00.000Z']);
    });

    it('monthly keeps its wall time across the change of offset', () => {
      const c: Cadence = { frequency: 'monthly', dayOfMonth: 1, hourOfDay: 6, timezone: 'America/New_York' };
      assert.deepEqual(runs(c, '2026-10-15T00:00:00Z', 2), ['2026-11-01T11:00:00.000Z', '2026-12-01T11:00:00.000Z']);
    });
  });

  it('finds the latest run in a window (catch-up), or none', () => {
    const c: Cadence = { frequency: 'every_minutes', intervalMinutes: 5, timezone: 'UTC' };
    assert.equal(
      latestRunAtOrBefore(c, new Date('2026-11-21T10:12:00Z'), new Date('2026-11-21T10:00:00Z'))?.toISOString(),
      '2026-11-21T10:10:00.000Z',
    );
    assert.equal(latestRunAtOrBefore(c, new Date('2026-11-21T10:04:00Z'), new Date('2026-11-21T10:01:00Z')), null);
  });
});

describe('humanNextRun and timezones', () => {
  const now = new Date('2026-11-21T10:00:00Z'); // Saturday
  it('speaks like the dashboard: today, tomorrow, weekday, date', () => {
    assert.equal(humanNextRun(new Date('2026-11-21T15:30:00Z'), 'UTC', now), 'Today at 3:30 PM');
    assert.equal(humanNextRun(new Date('2026-11-22T09:00:00Z'), 'UTC', now), 'Tomorrow at 9:00 AM');
    assert.equal(humanNextRun(new Date('2026-11-23T08:00:00Z'), 'UTC', now), 'Monday at 8:00 AM');
    assert.equal(humanNextRun(new Date('2026-12-01T06:00:00Z'), 'UTC', now), 'December 1 at 6:00 AM');
    assert.equal(humanNextRun(new Date('2026-11-22T08:00:00Z'), 'Europe/Tirane', now), 'Tomorrow at 9:00 AM');
    assert.equal(humanNextRun(null, 'UTC', now), null);
  });
  it('knows IANA zones', () => {
    assert.equal(isValidTimezone('Europe/Tirane'), true);
    assert.equal(isValidTimezone('Mars/Olympus'), false);
  });
});
