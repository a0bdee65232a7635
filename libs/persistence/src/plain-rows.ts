import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * An entity's columns for a plain SELECT (`SELECT ${selectList(m, E)} FROM …`), each quoted as the engine wants it, so
 * that `hydrate` reads the rows back. For hot reads where the query builder's cost per statement matters: a scheduler
 * step's 1,000-id read spent more CPU building its IN list of named parameters than MariaDB took to answer it.
 */
export function selectList<E extends ObjectLiteral>(
  m: EntityManager,
  entity: EntityTarget<E>,
  /** Only these columns (database names), e.g. to leave a large JSON column out. */
  only?: readonly string[],
): string {
  const { driver } = m.connection;
  const columns = m.connection.getMetadata(entity).columns.filter((c) => !only || only.includes(c.databaseName));
  if (only && columns.length !== only.length) throw new Error(`selectList: not all of ${only.join(', ')} are columns`);
  return columns.map((c) => driver.escape(c.databaseName)).join(', ');
}

/**
 * Rows of a plain SELECT of `selectList`'s columns as entities, every value converted as TypeORM's own reads convert
 * it (`prepareHydratedValue`: dates, booleans, JSON columns, per engine). A column the rows do not hold (left out of
 * the select) is left unset.
 */
export function hydrate<E extends ObjectLiteral>(
  m: EntityManager,
  entity: EntityTarget<E>,
  rows: ReadonlyArray<Record<string, unknown>>,
): E[] {
  const metadata = m.connection.getMetadata(entity);
  const { driver } = m.connection;
  const columns = metadata.columns;
  return rows.map((row) => {
    const e = metadata.create() as E;
    for (const c of columns) {
      if (c.databaseName in row) c.setEntityValue(e, driver.prepareHydratedValue(row[c.databaseName], c));
    }
    return e;
  });
}
