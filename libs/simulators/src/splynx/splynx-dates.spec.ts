import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSplynxDateTime, splynxDate, splynxDateTime, wallClockIn } from './splynx-dates';

describe('Splynx wall-clock dates', () => {
  it('reads YYYY-MM-DD HH:MM:SS and YYYY-MM-DD (as midnight) and writes them back', () => {
    const seconds = parseSplynxDateTime('2024-02-29 23:59:58');
    assert.equal(seconds, Date.UTC(2024, 1, 29, 23, 59, 58) / 1000);
    assert.equal(splynxDateTime(seconds), '2024-02-29 23:59:58');
    assert.equal(parseSplynxDateTime('2024-03-01'), Date.UTC(2024, 2, 1) / 1000);
    assert.equal(splynxDate(parseSplynxDateTime('2024-03-01 13:00:00')!), '2024-03-01');
  });

  it('refuses what is not one of those formats or not a real date and time', () => {
    for (const text of [
      '2024-02-30 00:00:00',
      '2023-02-29',
      '2024-13-01 00:00:00',
      '2024-01-01 24:00:00',
      '2024-01-01T10:00:00',
      '2024-01-01 10:00',
      '2024-1-1',
      '0000-00-00',
      'yesterday',
      '',
    ])
      assert.equal(parseSplynxDateTime(text), null, text);
  });

  it('orders wall seconds as the fixed-format strings order', () => {
    const texts = ['2019-01-01 00:00:00', '2019-01-01 00:00:01', '2019-12-31 23:59:59', '2025-07-15 12:00:00'];
    const seconds = texts.map((t) => parseSplynxDateTime(t)!);
    assert.deepEqual([...seconds].sort((a, b) => a - b).map(splynxDateTime), [...texts].sort());
  });

  it("gives a zone's local wall time, summer and winter, and refuses an unknown zone", () => {
    const tirane = wallClockIn('Europe/Tirane');
    assert.equal(splynxDateTime(tirane(Date.UTC(2025, 6, 15, 10, 0, 0))), '2025-07-15 12:00:00');
    assert.equal(splynxDateTime(tirane(Date.UTC(2025, 0, 15, 23, 30, 5))), '2025-01-16 00:30:05');
    assert.equal(splynxDateTime(wallClockIn('UTC')(Date.UTC(2025, 0, 15, 0, 0, 0))), '2025-01-15 00:00:00');
    assert.equal(
      splynxDateTime(wallClockIn('America/New_York')(Date.UTC(2025, 0, 15, 3, 0, 0))),
      '2025-01-14 22:00:00',
    );
    assert.throws(() => wallClockIn('Mars/Olympus_Mons'), RangeError);
  });
});
