import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Schedule } from './schedule.entity';
import { tickDeadline, tickOf } from './tick';

const RUN_ID = '0b6f8f8e-7c59-4a0e-9d0b-6d1f1c1f5e11';

describe('tickDeadline', () => {
  const every5 = { frequency: 'every_minutes' as const, intervalMinutes: 5, timezone: 'UTC' };

  it("is a second before the schedule's next slot", () => {
    const slot = new Date('2026-11-21T10:00:00Z');
    assert.equal(tickDeadline(every5, slot, slot).toISOString(), '2026-11-21T10:04:59.000Z');
  });

  it('is never sooner than a minute after publishing (a catch-up tick published late still gets a minute)', () => {
    const slot = new Date('2026-11-21T10:00:00Z');
    const late = new Date('2026-11-21T10:04:30Z');
    assert.equal(tickDeadline(every5, slot, late).toISOString(), '2026-11-21T10:05:30.000Z');
  });
});

describe('tickOf', () => {
  const s = Object.assign(new Schedule(), {
    id: 12,
    companyId: 4,
    domain: 'accounting',
    jobType: 'sales',
    dateRangeDays: null,
    overlapPolicy: 'buffer_one',
  });

  it('carries the schedule, its slot and deadline, and its overlap policy', () => {
    const slot = new Date('2026-11-21T10:00:00Z');
    assert.deepEqual(tickOf(s, RUN_ID, slot, new Date('2026-11-21T11:00:00Z'), 'schedule'), {
      runId: RUN_ID,
      domain: 'accounting',
      job: 'sales',
      companyId: 4,
      scheduleId: '12',
      trigger: 'schedule',
      scheduledFor: '2026-11-21T10:00:00.000Z',
      deadline: '2026-11-21T11:00:00.000Z',
      overlapPolicy: 'buffer_one',
    });
  });

  it('passes date_range_days only to a job whose registered params take it (the accounting document jobs)', () => {
    const tick = tickOf({ ...s, dateRangeDays: 30 }, RUN_ID, new Date(), new Date(), 'manual');
    assert.deepEqual(tick.params, { dateRangeDays: 30 }, 'accounting/sales takes it (seed 001)');
    assert.equal(tick.trigger, 'manual');
    const splynx = tickOf(
      { ...s, domain: 'splynx', jobType: 'customers', dateRangeDays: 7 },
      RUN_ID,
      new Date(),
      new Date(),
      'schedule',
    );
    assert.equal(splynx.params, undefined, 'splynx/customers would refuse dateRangeDays as an unknown param');
  });
});
