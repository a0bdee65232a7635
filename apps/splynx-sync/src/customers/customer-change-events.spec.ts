import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { SplynxCustomerChangedPayload, SplynxCustomerRecord, Topic } from '@sync-hub/contracts';
import { ReliablePublisher } from '@sync-hub/messaging';
import { OutboxMessage, SyncCursor } from '@sync-hub/persistence';
import { SplynxSimulator } from '@sync-hub/simulators';
import { DataSource } from 'typeorm';
import { RecordingBus } from '../../../../test/support/recording-bus';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { CustomerSyncService } from './customer-sync.service';
import { SplynxClient } from './splynx.client';
import { SplynxCustomer } from './splynx-customer.entity';

const RUN = '0d1c6a2e-5a7b-4c0e-9f3e-6b2d8c4a1f00';
const RUN2 = '0d1c6a2e-5a7b-4c0e-9f3e-6b2d8c4a1f01';

describe('Splynx customer change events (splynx.customer.changed.v1)', () => {
  let db: DataSource;
  let simulator: SplynxSimulator;
  let bus: RecordingBus<SplynxCustomerChangedPayload>;
  let outbox: ReliablePublisher;

  before(async () => {
    db = await inMemoryDatabase([SplynxCustomer, SyncCursor]);
  });
  after(async () => {
    await db.destroy();
  });
  afterEach(() => assert.deepEqual(bus.invalid, [], 'every event passes the contract'));
  beforeEach(async () => {
    await db.getRepository(SplynxCustomer).clear();
    await db.getRepository(SyncCursor).clear();
    await db.getRepository(OutboxMessage).clear();
    await simulator?.stop();
    simulator = new SplynxSimulator({ customers: 120, seed: 11 });
    bus = new RecordingBus(SplynxCustomerChangedPayload);
    outbox = new ReliablePublisher(bus, db.getRepository(OutboxMessage));
  });

  const serviceWith = async (env: Record<string, string> = {}) => {
    const config = loadConfig('splynx-sync', {
      SPLYNX_URL: await simulator.start(),
      SPLYNX_API_KEY: simulator.apiKey,
      SPLYNX_API_SECRET: simulator.apiSecret,
      SPLYNX_PAGE_SIZE: '50',
      HTTP_RETRIES: '1',
      HTTP_RETRY_BASE_DELAY_MS: '1',
      ...env,
    });
    return new CustomerSyncService(
      new SplynxClient(config.splynx, config.http),
      db.getRepository(SplynxCustomer),
      db,
      config,
      outbox,
    );
  };
  /** The stored rows, read through TypeORM's entities (not the sync's own reads), in the record's shape. */
  const storedRecords = async () =>
    new Map(
      (await db.getRepository(SplynxCustomer).find()).map((c) => [
        c.splynxId,
        {
          splynxId: c.splynxId,
          login: c.login,
          name: c.name,
          email: c.email,
          phone: c.phone,
          status: c.status,
          category: c.category,
          billingType: c.billingType,
          partnerId: c.partnerId,
          locationId: c.locationId,
          dateAdd: c.dateAdd,
          lastUpdate: c.lastUpdate?.toISOString() ?? null,
          active: c.active,
        } satisfies SplynxCustomerRecord,
      ]),
    );

  it('a first run sends one created event per customer, keyed by its id, carrying the stored record', async () => {
    const service = await serviceWith();
    const stats = await service.run({ runId: RUN });
    assert.equal(stats.created, 120);
    const stored = await storedRecords();
    assert.equal(bus.sent.length, 120);
    assert.ok(bus.sent.every((m) => m.topic === Topic.SplynxCustomerChanged));
    for (const { key, value } of bus.sent) {
      const change = value.payload;
      assert.equal(change.changeType, 'created');
      assert.equal(key, change.id);
      assert.equal(change.runId, RUN);
      assert.equal(value.runId, RUN);
      assert.equal(change.changedFields.length, 13, 'every field of a new record');
      assert.deepEqual({ ...change.record }, stored.get(Number(key)));
    }
    assert.equal(new Set(bus.sent.map((m) => m.key)).size, 120, 'one event per customer');
    assert.equal(await db.getRepository(OutboxMessage).count(), 0, 'the outbox is empty once they are sent');
    await simulator.stop();
  });

  it('a re-run with nothing changed sends nothing; changes send updated, created and deactivated with their fields', async () => {
    const service = await serviceWith();
    await service.run({ runId: RUN });
    bus.sent.length = 0;
    await service.run({ runId: RUN2 });
    assert.equal(bus.sent.length, 0, 'nothing changed, nothing sent');

    const before = await storedRecords();
    const { changed, removed, added } = simulator.mutate({ change: 3, remove: 2, add: 1 });
    const stats = await service.run({ runId: RUN2 });
    assert.deepEqual([stats.updated, stats.created, stats.deactivated], [3, 1, 2]);
    const after = await storedRecords();
    const byKey = new Map(bus.payloads().map((c) => [Number(c.id), c]));
    assert.equal(bus.sent.length, 6);
    for (const id of changed) {
      const c = byKey.get(id)!;
      assert.equal(c.changeType, 'updated');
      const differing = Object.keys(after.get(id)!).filter(
        (f) =>
          JSON.stringify(after.get(id)![f as keyof SplynxCustomerRecord]) !==
          JSON.stringify(before.get(id)![f as keyof SplynxCustomerRecord]),
      );
      assert.deepEqual(c.changedFields, differing, `customer ${id}`);
      assert.ok(c.changedFields.includes('lastUpdate'));
      assert.deepEqual({ ...c.record }, after.get(id));
    }
    assert.equal(byKey.get(added[0])!.changeType, 'created');
    for (const id of removed) {
      const c = byKey.get(id)!;
      assert.equal(c.changeType, 'deactivated');
      assert.deepEqual(c.changedFields, ['active']);
      assert.deepEqual({ ...c.record }, after.get(id));
      assert.equal(c.record.active, false);
    }
    assert.ok(bus.payloads().every((c) => c.runId === RUN2));
    await simulator.stop();
  });

  it('while the bus is down the events wait in the outbox, committed with their page, and go out after', async () => {
    const service = await serviceWith();
    bus.down = true;
    assert.equal((await service.run({ runId: RUN })).created, 120);
    assert.equal(bus.sent.length, 0);
    assert.equal((await outbox.depth()).pending, 120, 'every event kept');
    assert.ok((await db.getRepository(OutboxMessage).count()) <= 3, 'a row per page, not per event');
    bus.down = false;
    assert.equal(await outbox.flush(new Date(Date.now() + 3600_000)), 120);
    assert.equal(new Set(bus.sent.map((m) => m.key)).size, 120);
    await simulator.stop();
  });

  it('none with CHANGE_EVENTS without splynx, in a dry run, or without a run id', async () => {
    let service = await serviceWith({ CHANGE_EVENTS: 'crm,usage' });
    await service.run({ runId: RUN });
    await simulator.stop();
    await db.getRepository(SplynxCustomer).clear();
    service = await serviceWith({ CHANGE_EVENTS: 'none' });
    await service.run({ runId: RUN });
    await simulator.stop();
    await db.getRepository(SplynxCustomer).clear();
    service = await serviceWith();
    await service.run({ runId: RUN, dryRun: true });
    await service.run({});
    assert.equal(bus.sent.length, 0);
    assert.equal(await db.getRepository(OutboxMessage).count(), 0);
    assert.equal(await db.getRepository(SplynxCustomer).count(), 120, 'the run without a run id still synced');
    await simulator.stop();
  });
});
