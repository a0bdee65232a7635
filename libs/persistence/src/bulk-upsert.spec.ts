import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Column, DataSource, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { bulkInsert, bulkUpsert, insertReturningId, StoredForm } from './bulk-upsert';

@Entity('bulk_items')
class BulkItem {
  @PrimaryColumn({ type: 'int' }) id: number;
  @Column({ type: 'varchar', length: 50 }) name: string;
  @Column({ name: 'seen_at', type: 'datetime', nullable: true }) seenAt: Date | null;
  @Column({ type: 'simple-json' }) raw: Record<string, unknown>;
  @Column({ type: 'boolean', default: true }) active: boolean;
}

@Entity('bulk_events')
class BulkEvent {
  @PrimaryGeneratedColumn({ type: 'int' }) id: number;
  @Column({ type: 'varchar', length: 50 }) topic: string;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  @Column({ name: 'created_at', type: 'datetime' }) createdAt: Date;
}

describe('bulkUpsert (SQLite via sql.js; MariaDB in the Splynx e2e and benchmarks)', () => {
  const ds = new DataSource({ type: 'sqljs', entities: [BulkItem, BulkEvent], synchronize: true });
  before(() => ds.initialize());
  after(() => ds.destroy());

  it('inserts many rows in one statement, converting values as TypeORM does, and updates on conflict', async () => {
    const repo = ds.getRepository(BulkItem);
    const at = new Date('2026-11-21T10:00:00.123Z');
    await bulkUpsert(
      repo,
      Array.from({ length: 300 }, (_, i) => ({
        id: i + 1,
        name: `n${i}`,
        seenAt: i % 2 ? at : null,
        raw: { i, tags: ['a'] },
        active: i % 3 !== 0,
      })),
      ['name', 'seen_at', 'raw', 'active'],
      ['id'],
    );
    assert.equal(await repo.count(), 300);
    const row = await repo.findOneByOrFail({ id: 2 });
    assert.deepEqual(
      [row.name, row.seenAt?.toISOString(), row.raw, row.active],
      ['n1', at.toISOString(), { i: 1, tags: ['a'] }, true],
    );
    assert.equal((await repo.findOneByOrFail({ id: 1 })).active, false);
    await bulkUpsert(
      repo,
      [
        { id: 2, name: 'changed', seenAt: null, raw: {}, active: false },
        { id: 301, name: 'new', seenAt: null, raw: {}, active: true },
      ],
      ['name', 'seen_at', 'raw', 'active'],
      ['id'],
    );
    assert.equal(await repo.count(), 301);
    assert.deepEqual(
      { ...(await repo.findOneByOrFail({ id: 2 })) },
      { id: 2, name: 'changed', seenAt: null, raw: {}, active: false },
    );
  });

  it('writes a value given in its stored form as is (a simple-json column serialised once by the caller)', async () => {
    const repo = ds.getRepository(BulkItem);
    const raw = { b: 1, a: [2] };
    await bulkUpsert(
      repo,
      [{ id: 500, name: 'stored', seenAt: null, raw: new StoredForm(raw, '{"b":1,"a":[2]}') as never, active: true }],
      ['name', 'seen_at', 'raw', 'active'],
      ['id'],
    );
    const [row] = await ds.query<Array<{ raw: string }>>('SELECT raw FROM bulk_items WHERE id = 500');
    assert.equal(row.raw, '{"b":1,"a":[2]}');
    assert.deepEqual((await repo.findOneByOrFail({ id: 500 })).raw, raw);
  });

  it("bulkInsert: many rows in one statement inside the caller's transaction, ids generated in order", async () => {
    const at = new Date('2026-12-06T10:00:00.456Z');
    await ds.transaction(async (m) => {
      await bulkInsert(
        m.getRepository(BulkEvent),
        Array.from({ length: 250 }, (_, i) => ({ topic: `t${i}`, lastError: i % 2 ? 'x' : null, createdAt: at })),
      );
      assert.equal(await m.getRepository(BulkEvent).count(), 250, 'visible inside the transaction');
    });
    const rows = await ds.getRepository(BulkEvent).find({ order: { id: 'ASC' } });
    assert.deepEqual(
      rows.slice(0, 3).map((r) => [r.id, r.topic, r.lastError, r.createdAt.toISOString()]),
      [
        [1, 't0', null, at.toISOString()],
        [2, 't1', 'x', at.toISOString()],
        [3, 't2', null, at.toISOString()],
      ],
    );
    assert.equal(rows[249].topic, 't249');
    await assert.rejects(
      ds.transaction(async (m) => {
        await bulkInsert(m.getRepository(BulkEvent), [{ topic: 'rolled back', lastError: null, createdAt: at }]);
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal(await ds.getRepository(BulkEvent).countBy({ topic: 'rolled back' }), 0, 'gone with its transaction');
  });

  it("insertReturningId: one row, its generated id, inside the caller's transaction (MariaDB: the e2e suites)", async () => {
    const at = new Date('2026-12-07T10:00:00.000Z');
    const ids = await ds.transaction(async (m) => [
      await insertReturningId(m.getRepository(BulkEvent), {
        topic: 'first',
        lastError: 'x'.repeat(20000),
        createdAt: at,
      }),
      await insertReturningId(m.getRepository(BulkEvent), { topic: 'second', lastError: null, createdAt: at }),
    ]);
    const rows = await ds.getRepository(BulkEvent).findBy([{ id: ids[0] }, { id: ids[1] }]);
    assert.deepEqual(
      rows.map((r) => [r.id, r.topic, r.lastError?.length ?? null]).sort((a, b) => Number(a[0]) - Number(b[0])),
      [
        [ids[0], 'first', 20000],
        [ids[1], 'second', null],
      ],
    );
    assert.equal(ids[1], ids[0] + 1);
  });
});
