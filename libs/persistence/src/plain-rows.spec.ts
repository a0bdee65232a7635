import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { hydrate, selectList } from './plain-rows';

@Entity('plain_items')
class PlainItem {
  @PrimaryGeneratedColumn({ type: 'int' }) id: number;
  @Column({ name: 'company_id', type: 'int' }) companyId: number;
  @Column({ type: 'varchar', length: 50 }) minute: string;
  @Column({ type: 'boolean', default: true }) enabled: boolean;
  @Column({ name: 'next_run_at', type: 'datetime', precision: 3, nullable: true }) nextRunAt: Date | null;
  @Column({ name: 'interval_minutes', type: 'int', nullable: true }) intervalMinutes: number | null;
  @Column({ type: 'simple-json', nullable: true }) params: Record<string, unknown> | null;
}

describe('selectList and hydrate (plain SQL reads as entities; MariaDB in the scheduler e2e and benchmark)', () => {
  const ds = new DataSource({ type: 'sqljs', entities: [PlainItem], synchronize: true });
  before(() => ds.initialize());
  after(() => ds.destroy());

  it('read back what TypeORM reads: the same class, and dates, booleans, nulls and JSON converted alike', async () => {
    const repo = ds.getRepository(PlainItem);
    await repo.save([
      {
        companyId: 1,
        minute: 'a',
        enabled: true,
        nextRunAt: new Date('2026-12-07T05:00:00.123Z'),
        intervalMinutes: 5,
        params: { days: 3 },
      },
      { companyId: 2, minute: "o'clock", enabled: false, nextRunAt: null, intervalMinutes: null, params: null },
    ]);
    const rows: Array<Record<string, unknown>> = await ds.manager.query(
      `SELECT ${selectList(ds.manager, PlainItem)} FROM plain_items ORDER BY id`,
    );
    const plain = hydrate(ds.manager, PlainItem, rows);
    const typeorm = await repo.find({ order: { id: 'ASC' } });
    assert.deepEqual(plain, typeorm);
    assert.ok(plain[0] instanceof PlainItem);
    assert.equal(plain[0].nextRunAt?.toISOString(), '2026-12-07T05:00:00.123Z');
    assert.deepEqual([plain[1].enabled, plain[1].nextRunAt, plain[1].params], [false, null, null]);
  });

  it('quotes every column as the engine wants it (a column named like a keyword reads too)', () => {
    assert.equal(
      selectList(ds.manager, PlainItem),
      '"id", "company_id", "minute", "enabled", "next_run_at", "interval_minutes", "params"',
    );
  });
});
