import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BadRequestException } from '@nestjs/common';
import { loadConfig } from '@sync-hub/config';
import { CreateCompanyDto, Topic, UpdateCompanyDto } from '@sync-hub/contracts';
import { BusMessage, InProcessBus, InProcessEventPublisher, ReliablePublisher } from '@sync-hub/messaging';
import { OutboxMessage } from '@sync-hub/persistence';
import { apiValidationPipe } from '@sync-hub/platform';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { SchedulerClock } from '../clock/clock';
import { CompaniesService, CompanyNotFoundError } from './companies.service';
import { Company } from './company.entity';

const START = '2026-11-23T09:59:30.000Z';

/** A body as the API validates it: the 400's `fields`, or null when it passes. */
async function badFields(metatype: typeof CreateCompanyDto | typeof UpdateCompanyDto, body: object) {
  try {
    await apiValidationPipe.transform(body, { type: 'body', metatype });
    return null;
  } catch (err) {
    assert.ok(err instanceof BadRequestException);
    return Object.keys((err.getResponse() as { fields: object }).fields).sort();
  }
}

/** The service on SQLite (with migration 013's company 1) and the in-process bus, as in the embedded mode. */
describe('CompaniesService: companies and scheduler.company.changed.v1 through the outbox', () => {
  let db: DataSource;
  let clock: SchedulerClock;
  let companies: CompaniesService;
  let bus: InProcessBus;
  const events: BusMessage[] = [];
  const eventsSince = async (n: number) => (await bus.drain(), events.slice(n));
  const payload = (m: BusMessage) => (m.value as { type: string; payload: Record<string, unknown> }).payload;

  before(async () => {
    db = await inMemoryDatabase([Company]);
    bus = new InProcessBus();
    bus.subscribe(Topic.CompanyChanged, async (m) => void events.push(m));
    const publisher = new InProcessEventPublisher(bus);
    clock = new SchedulerClock(loadConfig('scheduler', { SCHEDULER_CLOCK: 'manual', SCHEDULER_CLOCK_START: START }));
    companies = new CompaniesService(
      db.getRepository(Company),
      db,
      new ReliablePublisher(publisher, db.getRepository(OutboxMessage)),
      clock,
    );
  });

  it('company 1 is seeded: "Company 1", Europe/Tirane, active', async () => {
    const [first] = await companies.list();
    assert.deepEqual([first.id, first.name, first.timezone, first.active], [1, 'Company 1', 'Europe/Tirane', true]);
  });

  let created: Company;
  it('create defaults the timezone to Europe/Tirane and active to true, and publishes the whole row keyed by its id', async () => {
    const before = events.length;
    created = await companies.create({ name: 'Shpresa Sh.p.k.' });
    assert.deepEqual(companies.view(created), {
      id: 2,
      name: 'Shpresa Sh.p.k.',
      timezone: 'Europe/Tirane',
      active: true,
      created_at: START,
      updated_at: START,
    });
    const published = await eventsSince(before);
    assert.equal(published.length, 1, 'exactly one event');
    assert.equal(published[0].key, '2');
    assert.equal((published[0].value as { type: string }).type, 'scheduler.company.changed');
    assert.deepEqual(payload(published[0]), {
      id: 2,
      name: 'Shpresa Sh.p.k.',
      timezone: 'Europe/Tirane',
      active: true,
      createdAt: START,
      updatedAt: START,
    });
    assert.equal(
      await db.getRepository(OutboxMessage).count(),
      0,
      'sent (and removed from the outbox) after the commit',
    );
    const stored = await companies.get(2);
    assert.deepEqual([stored.name, stored.timezone, stored.active], ['Shpresa Sh.p.k.', 'Europe/Tirane', true]);
  });

  it('create keeps a given timezone and active flag', async () => {
    const before = events.length;
    const c = await companies.create({ name: 'Nova LLC', timezone: 'America/New_York', active: false });
    assert.deepEqual([c.timezone, c.active], ['America/New_York', false]);
    const [event] = await eventsSince(before);
    assert.deepEqual([payload(event).timezone, payload(event).active], ['America/New_York', false]);
  });

  it('the API rejects a timezone that is not an IANA zone, an empty or missing name and unknown fields, naming each', async () => {
    assert.deepEqual(await badFields(CreateCompanyDto, { name: 'X', timezone: 'Mars/Olympus' }), ['timezone']);
    assert.deepEqual(await badFields(CreateCompanyDto, {}), ['name']);
    assert.deepEqual(await badFields(CreateCompanyDto, { name: '', active: 'yes', colour: 'red' }), [
      'active',
      'colour',
      'name',
    ]);
    assert.deepEqual(await badFields(CreateCompanyDto, { name: 'x'.repeat(256) }), ['name']);
    assert.deepEqual(await badFields(UpdateCompanyDto, { timezone: 'Europe/Atlantis', name: 7 }), ['name', 'timezone']);
    assert.equal(await badFields(CreateCompanyDto, { name: 'Y', timezone: 'Asia/Tokyo', active: true }), null);
    assert.equal(await badFields(UpdateCompanyDto, {}), null, 'a PATCH may change any of the fields, or none');
  });

  it('update changes only the fields given, stamps updated_at and publishes the whole row once', async () => {
    clock.set(new Date('2026-11-23T10:05:00.000Z'));
    const before = events.length;
    const renamed = await companies.update(created.id, { name: 'Shpresa 2' });
    assert.deepEqual(
      [renamed.name, renamed.timezone, renamed.active],
      ['Shpresa 2', 'Europe/Tirane', true],
      'fields not sent are kept',
    );
    const deactivated = await companies.update(created.id, { active: false, timezone: 'Europe/Rome' });
    assert.deepEqual(companies.view(deactivated), {
      id: created.id,
      name: 'Shpresa 2',
      timezone: 'Europe/Rome',
      active: false,
      created_at: START,
      updated_at: '2026-11-23T10:05:00.000Z',
    });
    const published = await eventsSince(before);
    assert.deepEqual(
      published.map((m) => m.key),
      [String(created.id), String(created.id)],
      'one event per write',
    );
    assert.deepEqual(payload(published[1]), {
      id: created.id,
      name: 'Shpresa 2',
      timezone: 'Europe/Rome',
      active: false,
      createdAt: START,
      updatedAt: '2026-11-23T10:05:00.000Z',
    });
    const stored = await companies.get(created.id);
    assert.deepEqual([stored.name, stored.timezone, stored.active], ['Shpresa 2', 'Europe/Rome', false]);
  });

  it('an update that changes nothing writes nothing and publishes nothing', async () => {
    clock.set(new Date('2026-11-23T10:06:00.000Z'));
    const before = events.length;
    const same = await companies.update(created.id, { name: 'Shpresa 2', active: false });
    assert.equal(new Date(same.updatedAt).toISOString(), '2026-11-23T10:05:00.000Z');
    assert.equal((await companies.update(created.id, {})).name, 'Shpresa 2');
    assert.equal((await eventsSince(before)).length, 0);
  });

  it('an unknown company is 404 ("company N not found") for get and update; nothing is written or published', async () => {
    const before = events.length;
    const count = await db.getRepository(Company).count();
    await assert.rejects(companies.get(999), (err: unknown) => {
      assert.ok(err instanceof CompanyNotFoundError);
      assert.equal(err.getStatus(), 404);
      assert.equal((err as Error).message, 'company 999 not found');
      return true;
    });
    await assert.rejects(companies.update(999, { name: 'Ghost' }), CompanyNotFoundError);
    await assert.rejects(
      db.transaction((m) => companies.assertExists(m, 999)),
      CompanyNotFoundError,
    );
    await db.transaction((m) => companies.assertExists(m, 1));
    assert.equal(await db.getRepository(Company).count(), count);
    assert.equal((await eventsSince(before)).length, 0);
  });

  it('list is ordered by id', async () => {
    assert.deepEqual(
      (await companies.list()).map((c) => c.id),
      [1, 2, 3],
    );
  });

  it('republishAll publishes every company, whole, for projections that start late', async () => {
    const before = events.length;
    assert.equal(await companies.republishAll(), 3);
    const published = await eventsSince(before);
    assert.deepEqual(
      published.map((m) => m.key),
      ['1', '2', '3'],
    );
    assert.deepEqual(payload(published[0]), {
      id: 1,
      name: 'Company 1',
      timezone: 'Europe/Tirane',
      active: true,
      createdAt: payload(published[0]).createdAt,
      updatedAt: payload(published[0]).updatedAt,
    });
    assert.match(String(payload(published[0]).createdAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      [payload(published[1]).name, payload(published[1]).active, payload(published[1]).timezone],
      ['Shpresa 2', false, 'Europe/Rome'],
    );
  });
});
