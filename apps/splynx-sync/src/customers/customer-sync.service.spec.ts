import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AppConfig, loadConfig } from '@sync-hub/config';
import { statsOf } from '@sync-hub/runs';
import { SplynxSimulator } from '@sync-hub/simulators';
import { SyncCursor } from '@sync-hub/persistence';
import { DateTime } from 'luxon';
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
    db = await inMemoryDatabase([SplynxCustomer, SyncCursor]);
  });
  beforeEach(async () => {
    await db.getRepository(SplynxCustomer).clear();
    await db.getRepository(SyncCursor).clear();
    simulator = new SplynxSimulator({ customers: 250, seed: 3 });
    const url = await simulator.start();
    service = serviceFor(url);
  });
  const serviceFor = (url: string, env: Record<string, string> = {}) => {
    config = loadConfig('splynx-sync', {
      SPLYNX_URL: url,
      SPLYNX_API_KEY: simulator.apiKey,
      SPLYNX_API_SECRET: simulator.apiSecret,
      SPLYNX_PAGE_SIZE: '100',
      HTTP_RETRIES: '1',
      HTTP_RETRY_BASE_DELAY_MS: '1',
      ...env,
    });
    return new CustomerSyncService(
      new SplynxClient(config.splynx, config.http),
      db.getRepository(SplynxCustomer),
      db,
      config,
    );
  };
  after(async () => {
    await simulator.stop();
    await db.destroy();
  });

  const watermark = async () =>
    (await db.getRepository(SyncCursor).findOneBy({ stream: 'splynx.customers' }))?.position;
  const listRequests = () => simulator.requestCount('GET /api/2.0/admin/customers/customer');

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
    const second = await rows();
    const withoutMark = (list: SplynxCustomer[]) => list.map(({ syncGeneration: _mark, ...rest }) => rest);
    assert.deepEqual(withoutMark(second), withoutMark(first), 'synced_at and every column untouched');
    assert.ok(
      second.every((r, i) => r.syncGeneration > first[i].syncGeneration),
      "each row carries the second run's mark (one UPDATE per page, for the deactivation)",
    );
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

  it('an incremental run reads only the customers changed since the watermark and deactivates nothing', async () => {
    await service.run({ mode: 'full' });
    const { changed, removed, added } = simulator.mutate({ change: 4, remove: 3, add: 2 });
    const requestsBefore = listRequests();
    const stats = await service.run({ mode: 'incremental' });
    assert.equal(stats.created, 2);
    assert.equal(stats.updated, 4);
    assert.equal(stats.deactivated, 0, 'only a full run sees who vanished');
    // Besides the 6 changes, the overlap re-reads the few customers last updated just before the watermark.
    assert.ok(stats.unchanged <= 3, `unchanged ${stats.unchanged}`);
    assert.equal(stats.fetched, stats.created + stats.updated + stats.unchanged);
    assert.equal(listRequests() - requestsBefore, 1, 'one page of 100 holds every change');
    const byId = new Map((await rows()).map((r) => [r.splynxId, r]));
    for (const id of changed) assert.deepEqual(byId.get(id)?.raw, simulator.customer(id));
    for (const id of added) assert.equal(byId.get(id)?.active, true);
    for (const id of removed) assert.equal(byId.get(id)?.active, true, 'still active until the full run');
    assert.equal((await service.run({ mode: 'full' })).deactivated, 3);
    await simulator.stop();
  });

  it('without a watermark an incremental run reads everything, and the watermark never passes the run start', async () => {
    const first = await service.run({ mode: 'incremental' });
    assert.equal(first.created, 250);
    const newest = Math.max(
      ...simulator.customerIds().map((id) => Date.parse(`${simulator.lastUpdateOf(id)!.replace(' ', 'T')}Z`)),
    );
    assert.equal(await watermark(), new Date(newest).toISOString(), 'the newest last_update read (all in the past)');

    // Splynx's clock an hour ahead of this host: the change's last_update is after the run start, so the watermark
    // stops at the start and the next run reads that change again rather than risk missing one made meanwhile.
    await simulator.stop();
    const ahead = new SplynxSimulator({ customers: 250, seed: 3, now: () => Date.now() + 3_600_000 });
    simulator = ahead;
    service = serviceFor(await ahead.start());
    ahead.mutate({ change: 2 });
    const before = Date.now();
    await service.run({ mode: 'incremental' });
    const after = Date.now();
    const mark = Date.parse((await watermark())!);
    assert.ok(mark >= before - 1 && mark <= after, `watermark ${new Date(mark).toISOString()} is the run's start`);
    assert.equal((await service.run({ mode: 'incremental' })).updated, 0, 'read again, unchanged');
    await simulator.stop();
  });

  it('a limited, a dry or a failed run leaves the watermark where it was', async () => {
    await service.run({ mode: 'full' });
    const mark = await watermark();
    simulator.mutate({ change: 5 });
    const limited = await service.run({ mode: 'incremental', limit: 2 });
    await service.run({ mode: 'incremental', dryRun: true });
    simulator.setFaults({ errorRate: 1 });
    await assert.rejects(service.run({ mode: 'incremental' }));
    simulator.clearFaults();
    assert.equal(await watermark(), mark);
    const rest = await service.run({ mode: 'incremental' });
    assert.equal(limited.updated + rest.updated, 5, 'the limited run wrote some of the 5, the next one the rest');
    assert.ok((await watermark())! > mark!);
    await simulator.stop();
  });

  it("reads Splynx times in the server's zone (SPLYNX_TIMEZONE) and asks for changes on its wall clock", async () => {
    await simulator.stop();
    simulator = new SplynxSimulator({ customers: 250, seed: 3, timeZone: 'Europe/Tirane' });
    service = serviceFor(await simulator.start(), { SPLYNX_TIMEZONE: 'Europe/Tirane' });
    await service.run({ mode: 'full' });
    const { changed } = simulator.mutate({ change: 3 });
    const stats = await service.run({ mode: 'incremental' });
    assert.equal(stats.updated, 3);
    const row = (await rows()).find((r) => r.splynxId === changed[0])!;
    const text = simulator.lastUpdateOf(changed[0])!;
    assert.equal(
      row.lastUpdate?.toISOString(),
      DateTime.fromFormat(text, 'yyyy-MM-dd HH:mm:ss', { zone: 'Europe/Tirane' }).toUTC().toISO(),
      `${text} in Tirane`,
    );
    await simulator.stop();
  });

  it('reads further back by the hour a zone repeated when it fell back since the watermark', () => {
    const tirane = serviceFor('http://splynx.invalid', { SPLYNX_TIMEZONE: 'Europe/Tirane' });
    // 02:50 CEST on 2026-10-25; at 03:00 CEST the clocks went back to 02:00 CET, and it is now 03:00 CET.
    const watermarkAt = Date.parse('2026-10-25T00:50:00Z');
    assert.equal(tirane.changedSince(watermarkAt, Date.parse('2026-10-25T02:00:00Z')), '2026-10-25 01:45:00');
    // No change of offset between them: the overlap alone.
    assert.equal(tirane.changedSince(watermarkAt, Date.parse('2026-10-25T00:55:00Z')), '2026-10-25 02:45:00');
  });
});
