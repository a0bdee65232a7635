import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { CreateCompanies1763700000013 } from './1763700000013-create-companies';

/** The migration on SQLite: as on a fresh install, and as on an install whose schedules already name companies. */
describe('migration 1763700000013 create-companies', () => {
  let db: DataSource;
  const companies = () =>
    db.query<Array<{ id: number; name: string; timezone: string; active: number }>>(
      'SELECT id, name, timezone, active FROM companies ORDER BY id',
    );

  before(async () => {
    db = await inMemoryDatabase([]);
  });
  after(() => db?.destroy());

  it('seeds company 1: "Company 1", Europe/Tirane, active', async () => {
    assert.deepEqual(await companies(), [{ id: 1, name: 'Company 1', timezone: 'Europe/Tirane', active: 1 }]);
  });

  it('on an existing install, every company the schedules name gets a row, once; ids below 1 are not companies', async () => {
    const migration = new CreateCompanies1763700000013();
    const runner = db.createQueryRunner();
    try {
      await migration.down(runner);
      for (const company of [7, 7, 3, 1, 0])
        await runner.query(
          `INSERT INTO schedules (company_id, domain, job_type, frequency, minute, timezone, enabled, overlap_policy, catchup_window_s, created_at, updated_at)
           VALUES (?, 'splynx', ?, 'hourly', 0, 'UTC', 1, 'skip', 3600, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`,
          [company, `ping-${Math.random()}`],
        );
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    assert.deepEqual(await companies(), [
      { id: 1, name: 'Company 1', timezone: 'Europe/Tirane', active: 1 },
      { id: 3, name: 'Company 3', timezone: 'Europe/Tirane', active: 1 },
      { id: 7, name: 'Company 7', timezone: 'Europe/Tirane', active: 1 },
    ]);
    await db.query("INSERT INTO companies (name, created_at, updated_at) VALUES ('Next', '2026-01-01', '2026-01-01')");
    assert.equal((await companies()).at(-1)!.id, 8, 'new companies are numbered after the highest one');
  });
});
