import { ObjectLiteral, Repository } from 'typeorm';
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
  if (rows.length === 0) return;
  const builder = (values: Array<QueryDeepPartialEntity<T>>) =>
    repo
      .createQueryBuilder()
      .insert()
      .into(repo.metadata.target)
      .values(values)
      .orUpdate(updateColumns, conflictColumns)
      .updateEntity(false);
  const [sql] = builder([rows[0]]).getQueryAndParameters();
  const shape = statementShape(sql);
  const columns = shape?.columns.map((name) => repo.metadata.findColumnWithDatabaseName(name));
  if (!shape || !columns || columns.some((c) => !c)) {
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
  await repo.manager.query(
    `${sql.slice(0, shape.tupleStart)}${Array(rows.length).fill(tuple).join(', ')}${sql.slice(shape.tupleEnd)}`,
    params,
  );
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
