import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpAdapterHost } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { loadConfig } from '@sync-hub/config';
import { Topic } from '@sync-hub/contracts';
import { BusMessage, InProcessBus, InProcessEventPublisher, ReliablePublisher } from '@sync-hub/messaging';
import { dataSourceOptions, JobLease, JobLeasesService, OutboxMessage } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import {
  CompaniesService,
  Company,
  Schedule,
  SchedulerLoop,
  SchedulesService,
  Setting,
  SettingsService,
  SchedulerClock,
} from '../../apps/scheduler/src';
import { createTestDatabase, TestDatabase } from '../support/database';

/** The scheduler's due step on MariaDB (the bus is in-process: what matters is what the database serializes). */
describe('the due step locks the schedules it decides (MariaDB)', () => {
  let db: TestDatabase;
  let ds: DataSource;

  before(async () => {
    db = await createTestDatabase('due_step');
    ds = new DataSource({
      ...dataSourceOptions({ kind: 'mysql', url: db.url }),
      entities: [Schedule, Setting, Company, JobLease, OutboxMessage],
    });
    await ds.initialize();
  });
  after(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('a due schedule is locked while the step decides it, so an API change waits instead of being ticked over', async () => {
    const config = loadConfig('scheduler', {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: '127.0.0.1:9',
      SCHEDULER_CLOCK: 'manual',
      SCHEDULER_CLOCK_START: '2026-11-23T10:00:30.000Z',
      SCHEDULER_RUN_ON_START: 'none',
    });
    const clock = new SchedulerClock(config);
    const bus = new InProcessBus();
    const ticks: BusMessage[] = [];
    bus.subscribe(Topic.SplynxRequested, async (m) => void ticks.push(m));
    const publisher = new InProcessEventPublisher(bus);
    const outbox = new ReliablePublisher(publisher, ds.getRepository(OutboxMessage));
    const schedules = ds.getRepository(Schedule);
    const due = new Date('2026-11-23T10:00:00.000Z');
    const splynx = await schedules.findOneByOrFail({ domain: 'splynx', jobType: 'customers' });
    await schedules.update({ id: splynx.id }, { nextRunAt: due });
    // usage/reseller.usage (made a ping) reads its interval setting while the step decides (the loop's SettingsService;
    // the schedules service has its own): that is when another connection tries to change splynx/customers.
    const usage = await schedules.findOneByOrFail({ domain: 'usage', jobType: 'reseller.usage' });
    await schedules.update({ id: usage.id }, { jobType: 'ping', enabled: true, pausedReason: null, nextRunAt: due });
    const settings = new SettingsService(ds.getRepository(Setting), ds, outbox);
    const effective = settings.effective.bind(settings);
    let heldByTheStep: boolean | null = null;
    settings.effective = async (key: string) => {
      // Another connection (an API call) tries to take the splynx row now, without waiting.
      heldByTheStep = await ds.query('SELECT id FROM schedules WHERE id = ? FOR UPDATE NOWAIT', [splynx.id]).then(
        () => false,
        (err: Error) => /lock/i.test(err.message),
      );
      return effective(key);
    };
    const companies = new CompaniesService(ds.getRepository(Company), ds, outbox, clock);
    const loop = new SchedulerLoop(
      config,
      schedules,
      ds,
      new JobLeasesService(ds.getRepository(JobLease)),
      outbox,
      settings,
      new SchedulesService(
        schedules,
        ds,
        new SettingsService(ds.getRepository(Setting), ds, outbox),
        publisher,
        outbox,
        clock,
        companies,
      ),
      clock,
      new SchedulerRegistry(),
      new HttpAdapterHost(),
      companies,
    );

    const result = await loop.step(true);
    await bus.drain();
    assert.equal(result.leader, true);
    assert.equal(heldByTheStep, true, 'while the step decides, the due rows are locked: a change waits for it');
    assert.deepEqual(
      ticks.map((t) => t.key),
      ['1:splynx:customers'],
    );
    assert.ok(new Date((await schedules.findOneByOrFail({ id: splynx.id })).nextRunAt!) > due, 'advanced by the step');
  });
});
