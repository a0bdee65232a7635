import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { RunEventPayload, ScheduleChangedPayload } from '@sync-hub/contracts';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { RunHistoryService } from '../runs/run-history.service';
import { SyncRun } from '../runs/sync-run.entity';
import { ScheduleProjection } from '../scheduler/schedule-projection.entity';
import { ScheduleProjectionService } from '../scheduler/schedule-projection.service';
import { StatusService } from './status.service';

let n = 0;
const event = (companyId: number, job: string, finishedAt: string): RunEventPayload => ({
  runId: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  domain: 'splynx',
  job,
  companyId,
  trigger: 'schedule',
  startedAt: finishedAt,
  finishedAt,
  stats: { fetched: 0, created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 },
});

const schedule = (id: number, fields: Partial<ScheduleChangedPayload>): ScheduleChangedPayload => ({
  id,
  companyId: 1,
  domain: 'splynx',
  jobType: 'customers',
  frequency: 'hourly',
  intervalMinutes: null,
  intervalSetting: null,
  minute: 0,
  hourOfDay: null,
  dayOfWeek: null,
  dayOfMonth: null,
  timezone: 'UTC',
  dateRangeDays: null,
  enabled: true,
  pausedReason: null,
  overlapPolicy: 'skip',
  catchupWindowS: 3600,
  lastRunAt: null,
  nextRunAt: '2026-11-21T11:00:00.000Z',
  createdAt: '2026-11-21T09:00:00.000Z',
  updatedAt: '2026-11-21T09:00:00.000Z',
  ...fields,
});

describe('StatusService over run history (SQLite, grouped reads)', () => {
  let db: DataSource;
  let status: StatusService;
  let projection: ScheduleProjectionService;
  before(async () => {
    db = await inMemoryDatabase([SyncRun, ScheduleProjection]);
    const history = new RunHistoryService(db.getRepository(SyncRun));
    projection = new ScheduleProjectionService(db.getRepository(ScheduleProjection));
    status = new StatusService(db, projection);
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 21, 10, minute)).toISOString();
    // company 2: success, then two failures; company 3: only a failure; company 4: a failure, then recovered with a
    // warning.
    await history.record('completed', event(2, 'customers', at(0)), new Date(at(0)));
    await history.record('failed', event(2, 'customers', at(1)), new Date(at(1)));
    await history.record('failed', event(2, 'customers', at(2)), new Date(at(2)));
    await history.record('failed', event(3, 'customers', at(3)), new Date(at(3)));
    await history.record('failed', event(4, 'customers', at(4)), new Date(at(4)));
    const warned = { ...event(4, 'customers', at(5)), warnings: ['the refresh token expires in 9 days'] };
    await history.record('completed', warned, new Date(at(5)));
    await history.record('running', event(5, 'customers', at(6)), new Date(at(6)));
  });

  it('gives each job its last run, last success and failures since it', async () => {
    const byCompany = new Map(
      (await status.status(new Date('2026-11-21T10:30:00Z')))
        .filter((s) => s.company_id > 1)
        .map((s) => [s.company_id, s]),
    );
    const two = byCompany.get(2)!;
    assert.deepEqual(
      [two.state, two.consecutive_failures, two.last_success_at, two.last_run?.status, two.last_run?.finished_at],
      ['failing', 2, '2026-11-21T10:00:00.000Z', 'failed', '2026-11-21T10:02:00.000Z'],
    );
    assert.deepEqual(
      [byCompany.get(3)!.state, byCompany.get(3)!.consecutive_failures, byCompany.get(3)!.last_success_at],
      ['failing', 1, null],
    );
    assert.deepEqual(
      [byCompany.get(4)!.state, byCompany.get(4)!.consecutive_failures, byCompany.get(4)!.last_success_at],
      ['healthy', 0, '2026-11-21T10:05:00.000Z'],
      'a run with warnings is a success',
    );
    assert.deepEqual(byCompany.get(4)!.last_run?.warnings, ['the refresh token expires in 9 days']);
    assert.deepEqual(two.last_run?.warnings, [], 'none: an empty list');
    assert.equal(byCompany.get(5)!.state, 'running');
  });

  it('lists the projected schedules with their ids, state and next run, even without runs; a deleted one goes', async () => {
    const at = new Date('2026-11-21T09:00:01Z');
    await projection.apply(schedule(1, {}), at);
    const reason = 'crm/cp.export is not available in this version yet';
    await projection.apply(
      schedule(5, {
        domain: 'crm',
        jobType: 'cp.export',
        frequency: 'every_minutes',
        intervalMinutes: 5,
        enabled: false,
        pausedReason: reason,
        nextRunAt: null,
      }),
      at,
    );
    const now = new Date('2026-11-21T10:30:00Z');
    const seeded = new Map(
      (await status.status(now)).filter((s) => s.company_id === 1).map((s) => [`${s.domain}/${s.job}`, s]),
    );
    assert.deepEqual([...seeded.keys()].sort(), ['crm/cp.export', 'splynx/customers']);
    const splynx = seeded.get('splynx/customers')!;
    assert.deepEqual(
      // never run: pending until its first run (or overdue)
      [splynx.schedule_id, splynx.state, splynx.next_run_at, splynx.expected_interval_minutes, splynx.last_run],
      [1, 'pending', '2026-11-21T11:00:00.000Z', 60, null],
    );
    const cp = seeded.get('crm/cp.export')!;
    assert.deepEqual([cp.schedule_id, cp.state, cp.next_run_at], [5, 'paused', null]);

    await projection.remove(5);
    assert.deepEqual(
      (await status.status(now)).filter((s) => s.company_id === 1).map((s) => s.job),
      ['customers'],
    );
  });
});
