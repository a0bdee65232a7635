import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AppConfig, loadConfig } from '@sync-hub/config';
import { statsOf } from '@sync-hub/runs';
import { SplynxSimulator } from '@sync-hub/simulators';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { CustomerSyncService } from './customer-sync.service';
import { SplynxClient } from './splynx.client';
import { SplynxCustomer } from './splynx-customer.entity';

describe('CustomerSyncService on SQLite with the Splynx simulator', () => {
  let simulator: SplynxSimulator;
  let db: DataSource;
  let service: CustomerSyncService;
  let config: AppConfig;

  const rows = () => db.getRepository(SplynxCustomer).find({ order: { splynxId: 'ASC' } });

  before(async () => {
    db = await inMemoryDatabase([SplynxCustomer]);
  });
  beforeEach(async () => {
    await db.getRepository(SplynxCustomer).clear();
    simulator = new SplynxSimulator({ customers: 250, seed: 3 });
    const url = await simulator.start();
    config = loadConfig('splynx-sync', {
      SPLYNX_URL: url,
      SPLYNX_API_KEY: simulator.apiKey,
      SPLYNX_API_SECRET: simulator.apiSecret,
      SPLYNX_PAGE_SIZE: '100',
      HTTP_RETRIES: '1',
      HTTP_RETRY_BASE_DELAY_MS: '1',
    });
    service = new CustomerSyncService(
      new SplynxClient(config.splynx, config.http),
      db.getRepository(SplynxCustomer),
      config,
    );
  });
  after(async () => {
    await simulator.stop();
    await db.destroy();
  });

  it('creates every customer on the first run and counts the second as unchanged without rewriting', async () => {
    assert.deepEqual(await service.run(), {
      fetched: 250,
      created: 250,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
      deactivated: 0,
    });
    const first = await rows();
    assert.equal(first.length, 250);
    assert.deepEqual(await service.run(), {
      fetched: 250,
      created: 0,
      updated: 0,
      unchanged: 250,
      skipped: 0,
      failed: 0,
      deactivated: 0,
    });
    assert.deepEqual(await rows(), first, 'synced_at and every column untouched');
    await simulator.stop();
  });

  it('updates changed customers, adds new ones, deactivates vanished ones and reactivates returning ones', async () => {
    await service.run();
    const { changed, removed, added } = simulator.mutate({ change: 4, remove: 3, add: 2 });
    const stats = await service.run();
    assert.deepEqual(stats, {
      fetched: 249,
      created: 2,
      updated: 4,
      unchanged: 243,
      skipped: 0,
      failed: 0,
      deactivated: 3,
    });
    const byId = new Map((await rows()).map((r) => [r.splynxId, r]));
    for (const id of removed) assert.equal(byId.get(id)?.active, false, `${id} inactive, not deleted`);
    for (const id of added) assert.equal(byId.get(id)?.active, true);
    for (const id of changed) assert.deepEqual(byId.get(id)?.raw, simulator.customer(id));
    await simulator.stop();
  });

  it('--dry-run reports what would change and writes nothing', async () => {
    await service.run();
    const before = await rows();
    simulator.mutate({ change: 5, remove: 2, add: 1 });
    const stats = await service.run({ dryRun: true });
    assert.deepEqual(stats, {
      fetched: 249,
      created: 1,
      updated: 5,
      unchanged: 243,
      skipped: 0,
      failed: 0,
      deactivated: 2,
    });
    assert.deepEqual(await rows(), before);
    await simulator.stop();
  });

  it('a limited run never deactivates anything', async () => {
    await service.run();
    const stats = await service.run({ limit: 120 });
    assert.equal(stats.fetched, 120);
    assert.equal(stats.deactivated, 0);
    assert.equal((await rows()).filter((r) => r.active).length, 250);
    await simulator.stop();
  });

  it('counts malformed customers as failed, keeps the rest of the page, and does not deactivate them', async () => {
    await service.run();
    simulator.setFaults({ malformedIds: [5, 150] });
    const stats = await service.run();
    assert.equal(stats.failed, 2);
    assert.equal(stats.unchanged, 248);
    assert.equal(stats.deactivated, 0, 'an unreadable customer still exists upstream');
    const byId = new Map((await rows()).map((r) => [r.splynxId, r]));
    assert.equal(byId.get(5)?.active, true);
    await simulator.stop();
  });

  it('a run that fails half-way reports its partial stats, keeps the pages it wrote and deactivates nothing', async () => {
    await service.run();
    simulator.mutate({ remove: 10 });
    let served = 0;
    const original = simulator.handle.bind(simulator);
    simulator.handle = async (req) =>
      req.path.endsWith('/customers/customer') && ++served > 1
        ? { status: 500, body: { error: { message: 'down', code: 500, internal_code: 'SERVER_ERROR' } } }
        : original(req);
    await assert.rejects(service.run(), (err: unknown) => {
      const stats = statsOf(err);
      assert.equal(stats.fetched, 100, 'the first page was read');
      assert.equal(stats.deactivated ?? 0, 0);
      return true;
    });
    assert.equal((await rows()).filter((r) => r.active).length, 250, 'nothing deactivated by a failed run');
    await simulator.stop();
  });
});
