import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bulkInsert, bulkUpsert, dataSourceOptions, isDuplicateKeyError, StoredForm } from '@sync-hub/persistence';
import { Column, DataSource, Entity, PrimaryColumn, QueryFailedError, Repository } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { createTestDatabase, TestDatabase } from '../support/database';

/** Every column type the syncs write, nullable where a sync writes null. */
function columns() {
  class Row {
    @PrimaryColumn({ type: 'int' }) id: number;
    @Column({ name: 'big_number', type: 'bigint', nullable: true }) bigNumber: string | number | null;
    @Column({ type: 'decimal', precision: 12, scale: 2, nullable: true }) amount: string | number | null;
    @Column({ type: 'varchar', length: 100, nullable: true }) name: string | null;
    @Column({ type: 'text', nullable: true }) note: string | null;
    @Column({ name: 'seen_at', type: 'datetime', nullable: true }) seenAt: Date | null;
    @Column({ name: 'seen_at_ms', type: 'datetime', precision: 3, nullable: true }) seenAtMs: Date | null;
    @Column({ type: 'date', nullable: true }) day: string | null;
    @Column({ type: 'boolean', default: true }) active: boolean;
    @Column({ type: 'simple-json', nullable: true }) raw: Record<string, unknown> | null;
    @Column({ type: 'json', nullable: true }) doc: Record<string, unknown> | null;
    @Column({ type: 'double', nullable: true }) ratio: number | null;
  }
  return Row;
}
@Entity('bulk_prepared')
class Prepared extends columns() {}
@Entity('bulk_text')
class Text extends columns() {}

const UPDATE = [
  'big_number',
  'amount',
  'name',
  'note',
  'seen_at',
  'seen_at_ms',
  'day',
  'active',
  'raw',
  'doc',
  'ratio',
];

/** Rows with the values that differ between a text statement and typed binary fields, if anything does. */
function rows(count: number, salt = ''): Array<QueryDeepPartialEntity<Prepared>> {
  const at = new Date('2026-12-07T10:11:12.345Z');
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    bigNumber: i % 3 === 0 ? '9007199254740993' : i % 3 === 1 ? 1733566272345 + i : null,
    amount: i % 4 === 0 ? 0.1 + 0.2 : i % 4 === 1 ? '1234567890.99' : i % 4 === 2 ? -5 : null,
    name: i % 5 === 0 ? null : `name ${i}${salt} 'quoted' "double" \\ back ünï 💡`,
    note: i % 7 === 0 ? undefined : `line\nbreak\ttab\0nul ${i}${salt}`,
    seenAt: i % 2 ? new Date(at.getTime() + i * 1000) : null,
    seenAtMs: new Date(at.getTime() + i),
    day: i % 2 ? '2026-02-28' : null,
    active: i % 3 !== 0,
    raw:
      i % 6 === 0
        ? new StoredForm({ i }, `{"i":${i},"stored":true}`)
        : { i, tags: ['a', `b${salt}`], nested: { x: null } },
    doc: i % 5 === 1 ? null : { i, s: `é${salt}`, list: [1, 2.5, true] },
    ratio: i % 2 ? i / 7 : 1e-9,
  })) as unknown as Array<QueryDeepPartialEntity<Prepared>>;
}

describe('bulkUpsert and bulkInsert on MariaDB: prepared statements, stored as the text statement stores them', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let prepared: Repository<Prepared>;
  let text: Repository<Text>;

  before(async () => {
    db = await createTestDatabase('bulk_prepared');
    ds = new DataSource({
      ...dataSourceOptions({ kind: 'mysql', url: db.url }),
      migrations: [],
      entities: [Prepared, Text],
      synchronize: true,
    });
    await ds.initialize();
    prepared = ds.getRepository(Prepared);
    text = ds.getRepository(Text);
  });

  after(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  /** The text path: TypeORM's own multi-row INSERT … ON DUPLICATE KEY UPDATE, sent as SQL text. */
  async function textUpsert(values: ReturnType<typeof rows>) {
    const plain = values.map((r) => {
      const raw: unknown = r.raw;
      return { ...r, raw: raw instanceof StoredForm ? (JSON.parse(raw.stored) as Record<string, unknown>) : r.raw };
    });
    await text
      .createQueryBuilder()
      .insert()
      .into(Text)
      .values(plain as Array<QueryDeepPartialEntity<Text>>)
      .orUpdate(UPDATE, ['id'])
      .updateEntity(false)
      .execute();
  }

  async function both(table: string): Promise<unknown[]> {
    return ds.query(`SELECT * FROM ${table} ORDER BY id`);
  }

  async function statementCounts(manager = ds.manager): Promise<{ prepare: number; close: number }> {
    const status = await manager.query<Array<{ Variable_name: string; Value: string }>>(
      `SHOW SESSION STATUS WHERE Variable_name IN ('Com_stmt_prepare', 'Com_stmt_close')`,
    );
    const of = (name: string) => Number(status.find((s) => s.Variable_name === name)?.Value);
    return { prepare: of('Com_stmt_prepare'), close: of('Com_stmt_close') };
  }

  it('writes every column type exactly as the text statement does, then updates on conflict the same way', async () => {
    await ds.transaction(async (m) => {
      const before = await statementCounts(m);
      await bulkUpsert(m.getRepository(Prepared), rows(120), UPDATE, ['id']);
      assert.equal((await statementCounts(m)).prepare - before.prepare, 1, '1,440 values: a prepared statement');
    });
    await textUpsert(rows(120));
    const stored = await both('bulk_prepared');
    assert.equal(stored.length, 120);
    assert.deepEqual(stored, await both('bulk_text'));
    // A stored form is written as its stored text, not as its value serialised again.
    assert.deepEqual((await prepared.findOneByOrFail({ id: 1 })).raw, { i: 0, stored: true });

    await bulkUpsert(prepared, rows(150, ' again'), UPDATE, ['id']);
    await textUpsert(rows(150, ' again'));
    const updated = await both('bulk_prepared');
    assert.equal(updated.length, 150);
    assert.deepEqual(updated, await both('bulk_text'));
    assert.match(String((await prepared.findOneByOrFail({ id: 2 })).name), / again /);
  });

  it('runs in the transaction of the manager it is given, and leaves no statement prepared on the connection', async () => {
    await prepared.clear();
    await assert.rejects(
      ds.transaction(async (m) => {
        const before = await statementCounts(m);
        await bulkUpsert(m.getRepository(Prepared), rows(100), UPDATE, ['id']);
        await bulkInsert(m.getRepository(Prepared), rows(200).slice(100));
        assert.equal(await m.getRepository(Prepared).count(), 200, 'seen inside the transaction');
        const after = await statementCounts(m);
        assert.equal(after.prepare - before.prepare, 2, 'one statement prepared per write');
        assert.equal(after.close - before.close, 2, 'and closed after it');
        // A few rows (under 1,000 values) go as text: preparing would cost more than it saves.
        await bulkInsert(m.getRepository(Prepared), rows(210).slice(200));
        assert.equal(await m.getRepository(Prepared).count(), 210);
        assert.equal((await statementCounts(m)).prepare, after.prepare, 'nothing prepared for ten rows');
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await prepared.count(), 0, 'rolled back with the transaction');
  });

  it('fails with the QueryFailedError a text statement gives (a duplicate key is still one), and closes the statement', async () => {
    await prepared.clear();
    await bulkInsert(prepared, rows(5));
    await ds.transaction(async (m) => {
      const before = await statementCounts(m);
      const err = await bulkInsert(m.getRepository(Prepared), rows(100)).then(
        () => assert.fail('a duplicate id must be refused'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof QueryFailedError, String(err));
      assert.ok(isDuplicateKeyError(err));
      const after = await statementCounts(m);
      assert.equal(after.prepare - before.prepare, 1, 'the 100 rows were prepared');
      assert.equal(after.close - before.close, 1, 'and the statement closed');
    });
    assert.equal(await prepared.count(), 5, 'nothing of the refused statement was written');
  });

  it('sends a statement of more than 65,535 values as text, which has no such limit', async () => {
    await prepared.clear();
    const many = rows(6000); // 6,000 rows × 12 columns = 72,000 values
    await bulkUpsert(prepared, many, UPDATE, ['id']);
    await text.clear();
    await textUpsert(many);
    assert.equal(await prepared.count(), 6000);
    assert.deepEqual(await both('bulk_prepared'), await both('bulk_text'));
  });
});
