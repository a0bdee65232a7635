import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ScheduleChangedPayload } from '@sync-hub/contracts';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { ScheduleProjection } from './schedule-projection.entity';
import { ScheduleProjectionService } from './schedule-projection.service';

const schedule = (id: number, fields: Partial<ScheduleChangedPayload> = {}): ScheduleChangedPayload => ({
  id,
  companyId: 7,
  domain: 'splynx',
  jobType: 'customers',
  frequency: 'hourly',
  intervalMinutes: null,
  intervalSetting: null,
  minute: 15,
  hourOfDay: null,
  dayOfWeek: null,
  dayOfMonth: null,
  timezone: 'Europe/Tirane',
  dateRangeDays: null,
  enabled: true,
  pausedReason: null,
  overlapPolicy: 'skip',
  catchupWindowS: 3600,
  lastRunAt: null,
  nextRunAt: '2026-11-21T10:15:00.000Z',
  createdAt: '2026-11-21T09:00:00.000Z',
  updatedAt: '2026-11-21T09:00:00.000Z',
  ...fields,
});
const at = (second: number) => new Date(Date.UTC(2026, 10, 21, 9, 30, second));

describe('ScheduleProjectionService (SQLite)', () => {
  let db: DataSource;
  let projection: ScheduleProjectionService;
  before(async () => {
    db = await inMemoryDatabase([ScheduleProjection]);
    projection = new ScheduleProjectionService(db.getRepository(ScheduleProjection));
  });

  it('keeps the latest state of each schedule; applying the same event twice changes nothing', async () => {
    await projection.apply(schedule(1), at(1));
    const paused = schedule(1, {
      enabled: false,
      pausedReason: 'paused after 10 consecutive failures',
      nextRunAt: null,
    });
    await projection.apply(paused, at(2));
    await projection.apply(paused, at(2)); // a repeat is harmless
    const row = (await projection.get(1))!;
    assert.deepEqual(
      [row.companyId, row.domain, row.jobType, row.enabled, row.pausedReason, row.nextRunAt, row.timezone],
      [7, 'splynx', 'customers', false, 'paused after 10 consecutive failures', null, 'Europe/Tirane'],
    );
    assert.equal(row.scheduleCreatedAt.toISOString(), '2026-11-21T09:00:00.000Z');
    assert.equal((await projection.all()).length, 1);
  });

  it('applies changes in the order they arrive: a re-sent prefix is overwritten by the messages after it', async () => {
    await projection.apply(schedule(1), at(1)); // the outbox re-sends an older copy…
    assert.equal((await projection.get(1))!.enabled, true);
    await projection.apply(
      schedule(1, { enabled: false, pausedReason: 'paused after 10 consecutive failures' }),
      at(2),
    );
    assert.equal(
      (await projection.get(1))!.enabled,
      false,
      '…and then the newer state again, as the scheduler wrote it',
    );
  });

  it('a tombstone deletes the schedule; forJob finds the latest schedule of a job', async () => {
    await projection.apply(schedule(2, { companyId: 8 }), at(3));
    assert.equal((await projection.forJob(8, 'splynx', 'customers'))?.scheduleId, 2);
    await projection.apply(schedule(3, { companyId: 8 }), at(4)); // re-created before the delete of 2 arrived
    assert.equal((await projection.forJob(8, 'splynx', 'customers'))?.scheduleId, 3);
    await projection.remove(2);
    await projection.remove(3);
    assert.equal(await projection.forJob(8, 'splynx', 'customers'), null);
    assert.equal(await projection.get(2), null);
    assert.deepEqual(
      (await projection.all()).map((p) => p.scheduleId),
      [1],
    );
  });
});
