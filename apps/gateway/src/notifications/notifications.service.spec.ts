import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, getRepositoryToken } from '@nestjs/typeorm';
import { RunEventPayload } from '@sync-hub/contracts';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { ScheduleProjection } from '../scheduler/schedule-projection.entity';
import { ScheduleProjectionService } from '../scheduler/schedule-projection.service';
import { SchedulerClient } from '../scheduler/scheduler.client';
import { SettingProjection } from '../scheduler/setting-projection.entity';
import { SettingProjectionService } from '../scheduler/setting-projection.service';
import { NotificationChannels } from './channels';
import { Notification, NotificationChannel, NotificationState } from './notification.entities';
import { NotificationMessage, notificationMessage } from './notification-message';
import { NotificationsService, retryDelayMs, SEND_JOB } from './notifications.service';

describe('notification retries', () => {
  it('wait 10 s after the first failure, doubling, at most 10 minutes (cockatiel exponential backoff)', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 20].map(retryDelayMs),
      [10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000],
    );
  });

  it('the send loop is the named job notifications.send in the SchedulerRegistry, stopped on shutdown', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot()],
      providers: [
        NotificationsService,
        { provide: getDataSourceToken(), useValue: {} },
        { provide: getRepositoryToken(Notification), useValue: { find: async () => [] } },
        { provide: NotificationChannels, useValue: {} },
        { provide: SchedulerClient, useValue: {} },
        { provide: ScheduleProjectionService, useValue: {} },
        { provide: SettingProjectionService, useValue: {} },
      ],
    }).compile();
    await moduleRef.init();
    const registry = moduleRef.get(SchedulerRegistry);
    assert.deepEqual(registry.getIntervals(), [SEND_JOB]);
    await moduleRef.close();
    assert.deepEqual(registry.getIntervals(), []);
  });
});

describe('warning notifications (SQLite, both channels)', () => {
  let db: DataSource;
  let notifications: NotificationsService;
  const sent: Array<{ channel: NotificationChannel; message: NotificationMessage }> = [];
  /** The process edge: email and webhook, both configured, keeping what they are given. */
  const channels = {
    enabled: (): NotificationChannel[] => ['email', 'webhook'],
    send: async (channel: NotificationChannel, message: NotificationMessage) => void sent.push({ channel, message }),
  };
  let n = 0;
  const run = (companyId: number, over: Partial<RunEventPayload> = {}): RunEventPayload => ({
    runId: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    domain: 'accounting',
    job: 'connections.check',
    companyId,
    trigger: 'schedule',
    startedAt: '2026-11-21T06:00:00.000Z',
    finishedAt: '2026-11-21T06:00:02.000Z',
    stats: { fetched: 0, created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 },
    ...over,
  });
  const queued = async (runId: string) =>
    (await db.getRepository(Notification).find({ where: { runId }, order: { id: 'ASC' } })).map((q) => ({
      kind: q.kind,
      channel: q.channel,
      message: JSON.parse(q.message) as NotificationMessage,
    }));
  const state = (companyId: number) =>
    db.getRepository(NotificationState).findOneByOrFail({ jobKey: `${companyId}:accounting:connections.check` });
  const warnings = ['QuickBooks refresh token of company 1 expires in 9 days: reconnect QuickBooks'];

  before(async () => {
    db = await inMemoryDatabase([Notification, NotificationState, ScheduleProjection, SettingProjection]);
    notifications = new NotificationsService(
      db,
      db.getRepository(Notification),
      channels as unknown as NotificationChannels,
      {} as SchedulerClient, // no run here fails ten times: nothing is paused
      new ScheduleProjectionService(db.getRepository(ScheduleProjection)),
      new SettingProjectionService(db.getRepository(SettingProjection)),
      new SchedulerRegistry(),
    );
  });
  after(async () => {
    await notifications.sendPending().catch(() => undefined);
    await db.destroy();
  });

  it('a completed run with warnings queues one warning per channel: how many, which, and what to do', async () => {
    const event = run(11, { warnings });
    await notifications.onRunFinished('completed', event);
    const rows = await queued(event.runId);
    assert.deepEqual(
      rows.map((r) => [r.kind, r.channel]),
      [
        ['warning', 'email'],
        ['warning', 'webhook'],
      ],
    );
    const message = rows[0].message;
    assert.equal(message.subject, '[sync hub] accounting/connections.check (company 11) completed with 1 warning');
    assert.deepEqual(message.warnings, warnings);
    assert.equal(message.action, 'Act on each warning before it becomes a failure.');
    assert.equal(
      message.text.split('\n').slice(0, 2).join('\n'),
      `The accounting/connections.check (company 11) sync completed with 1 warning:\n- ${warnings[0]}`,
    );
    assert.match(message.text, /What to do: Act on each warning before it becomes a failure\.$/);
    assert.equal(message.error, null);
    const s = await state(11);
    assert.deepEqual(
      [s.consecutiveFailures, s.failureAnnounced, s.lastSuccessAt?.toISOString()],
      [0, false, '2026-11-21T06:00:02.000Z'],
      'otherwise a success',
    );
  });

  it('each run with warnings is notified (the warnings are still there); a redelivered one queues nothing more', async () => {
    const first = run(12, { warnings });
    const second = run(12, { warnings });
    await notifications.onRunFinished('completed', first);
    await notifications.onRunFinished('completed', first);
    await notifications.onRunFinished('completed', second);
    assert.equal((await queued(first.runId)).length, 2, 'one per channel, not one per delivery');
    assert.equal((await queued(second.runId)).length, 2);
  });

  it('a completed run without warnings queues nothing', async () => {
    const quiet = run(13);
    await notifications.onRunFinished('completed', quiet);
    assert.deepEqual(await queued(quiet.runId), []);
  });

  it('a run with warnings after an announced failure queues the recovery and the warning', async () => {
    const failed = run(14, {
      error: { code: 'UPSTREAM_UNAVAILABLE', message: 'down', retriable: true, origin: 'source' },
    });
    await notifications.onRunFinished('failed', failed);
    assert.deepEqual(
      (await queued(failed.runId)).map((r) => r.kind),
      ['failure', 'failure'],
    );
    const warned = run(14, { warnings });
    await notifications.onRunFinished('completed', warned);
    const rows = await queued(warned.runId);
    assert.deepEqual(
      rows.map((r) => [r.kind, r.channel]),
      [
        ['recovery', 'email'],
        ['recovery', 'webhook'],
        ['warning', 'email'],
        ['warning', 'webhook'],
      ],
    );
    assert.deepEqual(rows[0].message.warnings, [], 'the recovery is only the recovery');
    assert.equal((await state(14)).failureAnnounced, false);
  });

  it('counts the warnings the run library folded into "… and N more"', () => {
    const many = [...Array.from({ length: 49 }, (_, i) => `warning ${i + 1}`), '… and 12 more'];
    const message = notificationMessage('warning', run(15, { warnings: many }), {
      lastSuccessAt: null,
      consecutiveFailures: 0,
    });
    assert.equal(message.subject, '[sync hub] accounting/connections.check (company 15) completed with 61 warnings');
    assert.match(message.text, /\n- warning 49\n- … and 12 more\n/);
  });
});
