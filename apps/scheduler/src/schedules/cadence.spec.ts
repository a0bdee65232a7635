import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cadenceOf } from './cadence';
import { Schedule } from './schedule.entity';

const schedule = (fields: Partial<Schedule>): Schedule =>
  Object.assign(new Schedule(), {
    frequency: 'every_minutes',
    intervalMinutes: 5,
    intervalSetting: null,
    minute: 0,
    hourOfDay: null,
    dayOfWeek: null,
    dayOfMonth: null,
    timezone: 'UTC',
    ...fields,
  });

describe('cadenceOf', () => {
  it("copies a schedule's timing fields", () => {
    assert.deepEqual(
      cadenceOf(schedule({ frequency: 'weekly', minute: 30, hourOfDay: 8, dayOfWeek: 1, timezone: 'Europe/Tirane' })),
      {
        frequency: 'weekly',
        intervalMinutes: 5,
        minute: 30,
        hourOfDay: 8,
        dayOfWeek: 1,
        dayOfMonth: null,
        timezone: 'Europe/Tirane',
      },
    );
  });

  it('takes the interval from the setting only for a schedule driven by one', () => {
    const usage = schedule({ intervalSetting: 'reseller.usage_sync_interval_minutes' });
    assert.equal(cadenceOf(usage, 2).intervalMinutes, 2);
    assert.equal(cadenceOf(usage).intervalMinutes, 5, 'no setting value: its own interval');
    assert.equal(cadenceOf(schedule({}), 2).intervalMinutes, 5, 'not driven by the setting: the value is ignored');
  });
});
