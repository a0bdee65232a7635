import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpAdapterHost } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { loadConfig } from '@sync-hub/config';
import { Topic } from '@sync-hub/contracts';
import { BusMessage, InProcessBus, InProcessEventPublisher, ReliablePublisher } from '@sync-hub/messaging';
import { JobLease, JobLeasesService, OutboxMessage } from '@sync-hub/persistence';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { SchedulerClock } from '../clock/clock';
import { Schedule } from '../schedules/schedule.entity';
import { SchedulesService } from '../schedules/schedules.service';
import { Setting } from '../settings/setting.entity';
import { SettingsService } from '../settings/settings.service';
import { SchedulerLoop } from './scheduler-loop.service';

describe('SchedulerLoop due step (SQLite, in-process bus)', () => {
  it('leaves alone a schedule paused between the due query and the step commit: no tick, no advance', async () => {
    const db = await inMemoryDatabase([Schedule, Setting, JobLease]);
    const config = loadConfig('scheduler', {
      SCHEDULER_CLOCK: 'manual',
      SCHEDULER_CLOCK_START: '2026-11-23T10:00:30.000Z',
      SCHEDULER_RUN_ON_START: 'none',
    });
    const clock = new SchedulerClock(config);
    const bus = new InProcessBus();
    const ticks: BusMessage[] = [];
    bus.subscribe(Topic.SplynxRequested, async (m) => void ticks.push(m));
    bus.subscribe(Topic.UsageRequested, async (m) => void ticks.push(m));
    const publisher = new InProcessEventPublisher(bus);
    const outbox = new ReliablePublisher(publisher, db.getRepository(OutboxMessage));
    const schedulesRepo = db.getRepository(Schedule);
    const due = new Date('2026-11-23T10:00:00.000Z');
    // Two due schedules: splynx/customers hourly, and usage/ping every 5 minutes driven by a setting.
    const splynx = await schedulesRepo.findOneByOrFail({ domain: 'splynx', jobType: 'customers' });
    await schedulesRepo.update({ id: splynx.id }, { nextRunAt: due });
    const usage = await schedulesRepo.findOneByOrFail({ domain: 'usage', jobType: 'reseller.usage' });
    await schedulesRepo.update(
      { id: usage.id },
      { jobType: 'ping', enabled: true, pausedReason: null, nextRunAt: due },
    );

    // The usage schedule's interval is read while the step decides: that is when an operator pauses splynx/customers.
    const settings = new SettingsService(db.getRepository(Setting));
    const effective = settings.effective.bind(settings);
    settings.effective = async (key: string) => {
      await schedulesRepo.update({ id: splynx.id }, { enabled: false, pausedReason: 'paused by an operator' });
      return effective(key);
    };
    const schedules = new SchedulesService(schedulesRepo, db, settings, publisher, outbox, clock);
    const loop = new SchedulerLoop(
      config,
      schedulesRepo,
      db,
      new JobLeasesService(db.getRepository(JobLease)),
      outbox,
      settings,
      schedules,
      clock,
      new SchedulerRegistry(),
      new HttpAdapterHost(),
    );

    const result = await loop.step(true);
    await bus.drain();
    assert.equal(result.leader, true);
    assert.deepEqual(
      ticks.map((t) => t.key),
      [`1:usage:ping`],
      'only the schedule still enabled is ticked',
    );
    const paused = await schedulesRepo.findOneByOrFail({ id: splynx.id });
    assert.equal(paused.enabled, false);
    assert.equal(new Date(paused.nextRunAt!).getTime(), due.getTime(), 'the paused schedule was not advanced');
    assert.ok(new Date((await schedulesRepo.findOneByOrFail({ id: usage.id })).nextRunAt!) > due, 'the other was');
    await db.destroy();
  });
});
