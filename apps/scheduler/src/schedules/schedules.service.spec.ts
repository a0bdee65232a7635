import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ConflictException, NotFoundException } from '@nestjs/common';
import { loadConfig } from '@sync-hub/config';
import { notRegisteredReason, Topic } from '@sync-hub/contracts';
import { BusMessage, InProcessBus, InProcessEventPublisher, ReliablePublisher } from '@sync-hub/messaging';
import { OutboxMessage } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { SchedulerClock } from '../clock/clock';
import { CompaniesService } from '../companies/companies.service';
import { Company } from '../companies/company.entity';
import { Setting } from '../settings/setting.entity';
import { SettingsService } from '../settings/settings.service';
import { Schedule } from './schedule.entity';
import { SchedulesService } from './schedules.service';

/**
 * The service on SQLite (with the seeded rows of migrations 007 and 013: company 1 and its schedules) and the
 * in-process bus, as in the embedded mode.
 */
describe('SchedulesService: the job registry and scheduler.schedule.changed.v1', () => {
  let db: DataSource;
  let service: SchedulesService;
  let bus: InProcessBus;
  const events: BusMessage[] = [];
  const eventsSince = async (n: number) => (await bus.drain(), events.slice(n));
  const row = (domain: string, jobType: string) => db.getRepository(Schedule).findOneByOrFail({ domain, jobType });

  let companies: CompaniesService;

  before(async () => {
    db = await inMemoryDatabase([Schedule, Setting, Company]);
    // The companies this suite's schedules belong to (company 1 is seeded).
    const at = new Date('2026-11-23T09:00:00.000Z');
    await db
      .getRepository(Company)
      .insert([3, 4, 5].map((id) => ({ id, name: `Company ${id}`, createdAt: at, updatedAt: at })));
    bus = new InProcessBus();
    bus.subscribe(Topic.ScheduleChanged, async (m) => void events.push(m));
    const publisher = new InProcessEventPublisher(bus);
    const clock = new SchedulerClock(
      loadConfig('scheduler', { SCHEDULER_CLOCK: 'manual', SCHEDULER_CLOCK_START: '2026-11-23T09:59:30.000Z' }),
    );
    const outbox = new ReliablePublisher(publisher, db.getRepository(OutboxMessage));
    service = new SchedulesService(
      db.getRepository(Schedule),
      db,
      new SettingsService(db.getRepository(Setting), db, outbox),
      publisher,
      outbox,
      clock,
      (companies = new CompaniesService(db.getRepository(Company), db, outbox, clock)),
    );
    service.onModuleInit();
  });

  it('disables the schedules of jobs without a handler, with the reason, and publishes each change', async () => {
    // Every seeded job has a handler now; a job an older version ran and this one dropped has none.
    const retired = await db.getRepository(Schedule).save(
      db.getRepository(Schedule).create({
        companyId: 1,
        domain: 'usage',
        jobType: 'reseller.retired',
        frequency: 'hourly',
        minute: 0,
        timezone: 'UTC',
        overlapPolicy: 'skip',
        catchupWindowS: 3600,
        enabled: true,
        createdAt: new Date(),
        updatedAt: new Date(),
      }),
    );
    const result = await service.reconcileRegistry();
    assert.deepEqual(result, { disabled: 1, enabled: 0 });
    const s = await row('usage', 'reseller.retired');
    assert.deepEqual(
      [s.enabled, s.pausedReason, s.nextRunAt],
      [false, notRegisteredReason('usage', 'reseller.retired'), null],
    );
    assert.equal((await row('splynx', 'customers')).enabled, true, 'a registered job keeps running');
    assert.equal((await row('crm', 'robaws.customers.incremental')).enabled, true, 'so do the Robaws jobs');
    assert.equal((await row('crm', 'cp.export')).enabled, true, 'and the loyalty-club export');
    assert.equal((await row('usage', 'reseller.usage')).enabled, true, 'and the reseller usage sync');
    const published = await eventsSince(0);
    assert.equal(published.length, 1);
    const [event] = published;
    assert.equal(event.key, String(retired.id));
    assert.equal((event.value as any).payload.enabled, false);
    assert.equal((event.value as any).payload.pausedReason, notRegisteredReason('usage', 'reseller.retired'));
    assert.equal(await db.getRepository(OutboxMessage).count(), 0, 'the outbox was flushed');
    assert.deepEqual(await service.reconcileRegistry(), { disabled: 0, enabled: 0 }, 'nothing left to change');
    assert.equal((await eventsSince(1)).length, 0);
  });

  it('enables again a schedule disabled for exactly that reason once its job has a handler; other pauses stay', async () => {
    // As if an older version had disabled crm/ping, which this version runs.
    const ping = await db.getRepository(Schedule).save(
      db.getRepository(Schedule).create({
        companyId: 3,
        domain: 'crm',
        jobType: 'ping',
        frequency: 'hourly',
        minute: 0,
        timezone: 'UTC',
        overlapPolicy: 'skip',
        catchupWindowS: 3600,
        enabled: false,
        pausedReason: notRegisteredReason('crm', 'ping'),
        createdAt: new Date(),
        updatedAt: new Date(),
      }),
    );
    const paused = await service.upsert(3, { domain: 'splynx', job_type: 'customers', frequency: 'hourly' });
    await service.toggle(paused.schedule.id, false, 'paused after 10 consecutive failures');
    const before = events.length;
    assert.deepEqual(await service.reconcileRegistry(), { disabled: 0, enabled: 1 });
    const enabled = await db.getRepository(Schedule).findOneByOrFail({ id: ping.id });
    assert.deepEqual([enabled.enabled, enabled.pausedReason], [true, null]);
    assert.equal(new Date(enabled.nextRunAt!).toISOString(), '2026-11-23T10:00:00.000Z');
    const stillPaused = await db.getRepository(Schedule).findOneByOrFail({ id: paused.schedule.id });
    assert.deepEqual([stillPaused.enabled, stillPaused.pausedReason], [false, 'paused after 10 consecutive failures']);
    assert.deepEqual(
      (await eventsSince(before)).map((m) => m.key),
      [String(ping.id)],
    );
  });

  it('stores a new schedule of an unregistered job disabled with the reason; enabling or running it is a 409', async () => {
    const before = events.length;
    const { schedule, created } = await service.upsert(4, {
      domain: 'usage',
      job_type: 'reseller.retired',
      frequency: 'weekly',
      hour_of_day: 8,
      day_of_week: 1,
      enabled: true,
    });
    assert.equal(created, true);
    assert.deepEqual(
      [schedule.domain, schedule.enabled, schedule.pausedReason, schedule.nextRunAt],
      ['usage', false, notRegisteredReason('usage', 'reseller.retired'), null],
    );
    const [event] = await eventsSince(before);
    assert.equal((event.value as any).payload.id, schedule.id);
    await assert.rejects(service.toggle(schedule.id, true), (err: unknown) => {
      assert.ok(err instanceof ConflictException);
      assert.match((err as Error).message, /usage\/reseller\.retired is not available in this version yet/);
      assert.match((err as Error).message, /splynx\/customers/);
      return true;
    });
    await assert.rejects(service.runNow(schedule.id), ConflictException);
    assert.equal((await service.toggle(schedule.id, false, 'not now')).pausedReason, 'not now', 'disabling is fine');
  });

  it('a schedule of a company that does not exist is 404, and nothing is written or published', async () => {
    const before = events.length;
    const rows = await db.getRepository(Schedule).count();
    await assert.rejects(
      service.upsert(77, { domain: 'splynx', job_type: 'customers', frequency: 'hourly' }),
      (err: unknown) => err instanceof NotFoundException && /^company 77 not found$/.test((err as Error).message),
    );
    assert.equal(await db.getRepository(Schedule).count(), rows);
    assert.equal((await eventsSince(before)).length, 0);
    assert.equal(await db.getRepository(OutboxMessage).count(), 0);
    await assert.rejects(service.list(77), /company 77 not found/);
    assert.deepEqual(await service.list(5), [], 'a company without schedules lists none');
  });

  it("a new company gets its daily accounting.connections.check at 05:00 in the company's zone", async () => {
    const company = await companies.create({ name: 'New Co', timezone: 'Europe/Rome' });
    const [check] = await service.list(company.id);
    assert.equal(check.jobType, 'accounting.connections.check');
    assert.equal(check.domain, 'accounting');
    assert.equal(check.frequency, 'daily');
    assert.equal(check.hourOfDay, 5);
    assert.equal(check.timezone, 'Europe/Rome');
    assert.equal(!!check.enabled, true, 'its job has a handler: enabled');
    assert.ok(check.nextRunAt);
  });

  it('a delete publishes a tombstone (a null value) under the schedule id', async () => {
    const { schedule } = await service.upsert(5, {
      domain: 'splynx',
      job_type: 'customers',
      frequency: 'daily',
      hour_of_day: 6,
    });
    const before = events.length;
    await service.remove(schedule.id);
    const published = await eventsSince(before);
    assert.deepEqual(
      published.map((m) => [m.key, m.value]),
      [[String(schedule.id), null]],
    );
  });

  it('republishes every schedule, whole, for projections that start late', async () => {
    await service.listAll(); // fills the seeded rows' next runs (and publishes those changes)
    const before = (await eventsSince(0)).length;
    const total = await db.getRepository(Schedule).count();
    assert.equal(await service.republishAll(), total);
    const published = await eventsSince(before);
    assert.equal(published.length, total);
    assert.equal(new Set(published.map((m) => m.key)).size, total);
    const splynx = published.find(
      (m) => (m.value as any).payload.jobType === 'customers' && (m.value as any).payload.companyId === 1,
    )!;
    assert.equal((splynx.value as any).type, 'scheduler.schedule.changed');
    assert.equal((splynx.value as any).payload.frequency, 'hourly');
    assert.equal((splynx.value as any).payload.nextRunAt, '2026-11-23T10:00:00.000Z');
    assert.equal((splynx.value as any).payload.enabled, true);
  });
});
