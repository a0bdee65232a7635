import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { SettingProjection } from './setting-projection.entity';
import { SettingProjectionService } from './setting-projection.service';

const KEY = 'notifications.auto_pause_after';
const at = (second: number) => new Date(Date.UTC(2026, 10, 23, 9, 30, second));

describe('SettingProjectionService (SQLite)', () => {
  let db: DataSource;
  let projection: SettingProjectionService;
  before(async () => {
    db = await inMemoryDatabase([SettingProjection]);
    projection = new SettingProjectionService(db.getRepository(SettingProjection));
  });

  it('answers the default for a setting the scheduler has not published', async () => {
    assert.equal(await projection.effective(KEY, 10), 10);
  });

  it('keeps the latest state of each setting; applying the same event twice changes nothing', async () => {
    await projection.apply({ key: KEY, value: 3, effectiveValue: 3 }, at(1));
    await projection.apply({ key: KEY, value: '5000', effectiveValue: 1000 }, at(2));
    await projection.apply({ key: KEY, value: '5000', effectiveValue: 1000 }, at(2)); // a repeat is harmless
    assert.equal(await projection.effective(KEY, 10), 1000);
    const rows = await db.getRepository(SettingProjection).find();
    assert.equal(rows.length, 1);
    assert.deepEqual(
      [rows[0].key, JSON.parse(rows[0].value), rows[0].updatedAt.toISOString()],
      [KEY, '5000', at(2).toISOString()],
    );
    assert.equal(await projection.effective('reseller.usage_sync_interval_minutes', 5), 5, 'other keys untouched');
  });

  it('a tombstone removes the setting: its default again', async () => {
    await projection.remove(KEY);
    assert.equal(await projection.effective(KEY, 10), 10);
  });
});
