import { EntityManager, ObjectLiteral, QueryFailedError, Repository } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

/**
 * A value its caller already holds in the column's stored form (a `simple-json` column's text, serialised once for a
 * content hash and reused here): the upsert writes `stored` as is instead of preparing `value` again.
 */
export class StoredForm<V = unknown> {
  constructor(
    readonly value: V,
    readonly stored: string,
  ) {}
}

/**
 * A multi-row upsert (INSERT … ON DUPLICATE KEY UPDATE / ON CONFLICT DO UPDATE): the query builder writes the statement
 * for one row (table, columns, conflict clause, for the engine at hand), and its VALUES tuple is repeated for every row
 * with each value prepared by the driver as TypeORM prepares it. TypeORM's own multi-row build spends ~40 µs a row on
 * parameter bookkeeping, as long as MariaDB takes to run the statement. A statement of another shape falls back to
 * the plain query builder.
 */
export async function bulkUpsert<T extends ObjectLiteral>(
  repo: Repository<T>,
  rows: Array<QueryDeepPartialEntity<T>>,
  updateColumns: string[],
  conflictColumns: string[],
): Promise<void> {
  await bulkWrite(repo, rows, { updateColumns, conflictColumns });
}

/**
 * A multi-row INSERT built as `bulkUpsert` builds its statement (one tuple written by the query builder, repeated).
 * Through a repository of a transaction's manager (`m.getRepository(X)`), it runs in that transaction.
 */
export async function bulkInsert<T extends ObjectLiteral>(
  repo: Repository<T>,
  rows: Array<QueryDeepPartialEntity<T>>,
): Promise<void> {
  await bulkWrite(repo, rows, null);
}

/**
 * One row inserted as `bulkInsert` writes it, and its generated id: from the prepared statement's result on
 * MySQL/MariaDB, `last_insert_rowid()` on SQLite (in the same transaction, on its one connection).
 */
export async function insertReturningId<T extends ObjectLiteral>(
  repo: Repository<T>,
  row: QueryDeepPartialEntity<T>,
): Promise<number> {
  const result = await bulkWrite(repo, [row], null, true);
  if (result?.insertId) return Number(result.insertId);
  const [{ id }] = await repo.manager.query<Array<{ id: number | string }>>('SELECT last_insert_rowid() AS id');
  return Number(id);
}

async function bulkWrite<T extends ObjectLiteral>(
  repo: Repository<T>,
  rows: Array<QueryDeepPartialEntity<T>>,
  upsert: { updateColumns: string[]; conflictColumns: string[] } | null,
  /** For `insertReturningId`: the one-row shape or an error, and on MySQL/MariaDB the prepared path (its insertId). */
  forceShape = false,
): Promise<{ insertId?: number } | void> {
  if (rows.length === 0) return;
  const builder = (values: Array<QueryDeepPartialEntity<T>>) => {
    const insert = repo.createQueryBuilder().insert().into(repo.metadata.target).values(values);
    return (upsert ? insert.orUpdate(upsert.updateColumns, upsert.conflictColumns) : insert).updateEntity(false);
  };
  const [sql] = builder([rows[0]]).getQueryAndParameters();
  const shape = statementShape(sql);
  const columns = shape?.columns.map((name) => repo.metadata.findColumnWithDatabaseName(name));
  if (!shape || !columns || columns.some((c) => !c)) {
    if (forceShape) throw new Error(`bulk write: cannot build a one-row INSERT for ${repo.metadata.tableName}`);
    await builder(rows.map(unwrapStoredForms)).execute();
    return;
  }
  const driver = repo.manager.connection.driver;
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const params: unknown[] = [];
  for (const row of rows)
    for (const c of columns) {
      const value = (row as Record<string, unknown>)[c!.propertyName];
      params.push(value instanceof StoredForm ? value.stored : driver.preparePersistentValue(value, c!));
    }
  const statement = `${sql.slice(0, shape.tupleStart)}${Array(rows.length).fill(tuple).join(', ')}${sql.slice(shape.tupleEnd)}`;
  const type = repo.manager.connection.options.type;
  if (
    (type === 'mysql' || type === 'mariadb') &&
    (forceShape || params.length >= PREPARED_MIN_VALUES || params.some(isLongText)) &&
    params.length <= MAX_PLACEHOLDERS
  )
    return executePrepared(repo.manager, statement, params);
  await repo.manager.query(statement, params);
}

/**
 * A value that goes better as a binary field than escaped into SQL text: escaping scans and copies it, and the server
 * parses it back (an outbox row of a page's change events is a few hundred KB).
 */
const LONG_TEXT = 16 * 1024;
const isLongText = (v: unknown) => typeof v === 'string' && v.length >= LONG_TEXT;

/** The most placeholders one prepared statement may hold (the protocol counts them in two bytes). */
const MAX_PLACEHOLDERS = 65535;
/**
 * Below this many values a statement goes as text: preparing costs a round trip and the parsing of one definition per
 * placeholder, about 80 µs and 40–60 µs of CPU more than text for a one- or two-row insert (a run's events), and the
 * two paths cost the same at about 800 values (docs/benchmarks.md).
 */
const PREPARED_MIN_VALUES = 1000;

/** The callback API of the mysql2 connection TypeORM's query runner holds. */
interface Mysql2Connection {
  execute(sql: string, values: unknown[], cb: (err: Error | null, result?: { insertId?: number }) => void): void;
  unprepare(sql: string): unknown;
}

/**
 * Runs `sql` as a prepared statement (MySQL's binary protocol) on the manager's connection (its transaction's, when it
 * has one), then closes the statement. The values travel as typed binary fields, so nothing is escaped into SQL text and
 * the server parses a statement of placeholders: for a 500-row upsert this is about 1.7× the rows per second of the same
 * statement sent as text, with less CPU on both sides (docs/benchmarks.md). The statement is not kept: a prepared
 * 500-row upsert holds about 4 MB of the server's memory, and the statement shapes vary with the batch size. Errors
 * arrive as TypeORM's QueryFailedError, as from `query`.
 */
async function executePrepared(manager: EntityManager, sql: string, params: unknown[]): Promise<{ insertId?: number }> {
  const given = manager.queryRunner;
  const own = !given || given.isReleased;
  const runner = given && !given.isReleased ? given : manager.connection.createQueryRunner();
  try {
    const conn = (await runner.connect()) as Mysql2Connection;
    const values = params.map((v) => (v === undefined ? null : v));
    return await new Promise<{ insertId?: number }>((resolve, reject) => {
      try {
        conn.execute(sql, values, (err, result) => {
          closeStatement(conn, sql);
          if (err) reject(err);
          else resolve({ insertId: result?.insertId });
        });
      } catch (err) {
        closeStatement(conn, sql);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  } catch (err) {
    throw err instanceof QueryFailedError ? err : new QueryFailedError(sql, params, err as Error);
  } finally {
    if (own) await runner.release();
  }
}

function closeStatement(conn: Mysql2Connection, sql: string): void {
  try {
    conn.unprepare(sql);
  } catch {
    // The connection is gone, and the statement with it.
  }
}

/** The column list and where the single VALUES tuple of a one-row INSERT stands, or null for another shape. */
function statementShape(sql: string): { columns: string[]; tupleStart: number; tupleEnd: number } | null {
  const head = /^INSERT INTO [`"][^`"]+[`"]\s*\(([^)]*)\)\s*VALUES\s*/.exec(sql);
  if (!head) return null;
  const columns = head[1].split(',').map((c) => c.trim().replace(/^[`"]|[`"]$/g, ''));
  const tupleStart = head[0].length;
  const tupleEnd = sql.indexOf(')', tupleStart) + 1;
  // The tuple holds placeholders and inlined numbers or booleans only (strings are always parameters): no parentheses.
  const tuple = sql.slice(tupleStart, tupleEnd);
  return tuple.startsWith('(') && tuple.split(',').length === columns.length ? { columns, tupleStart, tupleEnd } : null;
}

function unwrapStoredForms<R>(row: R): R {
  const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
  for (const [key, value] of Object.entries(out)) if (value instanceof StoredForm) out[key] = value.value;
  return out as R;
}
