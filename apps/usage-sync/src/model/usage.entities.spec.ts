import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { Panel, Reseller, ResellerConfig, USAGE_ENTITIES } from './usage.entities';

describe('the usage tables (migration 27) and their entities', () => {
  let ds: DataSource;
  before(async () => {
    ds = await inMemoryDatabase(USAGE_ENTITIES);
  });
  after(() => ds.destroy());

  it('match column for column', async () => {
    const runner = ds.createQueryRunner();
    try {
      for (const entity of USAGE_ENTITIES) {
        const meta = ds.getMetadata(entity);
        const table = await runner.getTable(meta.tableName);
        assert.ok(table, meta.tableName);
        assert.deepEqual(
          table.columns.map((c) => c.name).sort(),
          meta.columns.map((c) => c.databaseName).sort(),
          meta.tableName,
        );
      }
    } finally {
      await runner.release();
    }
  });

  it('store a reseller, a panel and a config; byte counts beyond 2^32 come back as numbers', async () => {
    const now = new Date();
    const reseller = await ds.getRepository(Reseller).save({ name: 'Reseller A', createdAt: now, updatedAt: now });
    const panel = await ds.getRepository(Panel).save({
      name: 'eu-1',
      type: 'marzban',
      url: 'https://panel.example',
      credentialsSealed: null,
      settings: null,
      createdAt: now,
      updatedAt: now,
    });
    const saved = await ds.getRepository(ResellerConfig).save({
      resellerId: reseller.id,
      panelId: panel.id,
      externalUsername: 'user-1',
      usageBytes: 5_000_000_000,
      trafficLimitBytes: 10_000_000_000,
      createdAt: now,
      updatedAt: now,
    });
    const config = await ds.getRepository(ResellerConfig).findOneByOrFail({ id: saved.id });
    assert.deepEqual(
      [config.usageBytes, config.trafficLimitBytes, config.status, config.limitAlertPercent],
      [5_000_000_000, 10_000_000_000, 'active', 0],
    );
    assert.equal((await ds.getRepository(Panel).findOneByOrFail({ id: panel.id })).maxConcurrency, 8);
  });
});
