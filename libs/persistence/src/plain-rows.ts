import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * An entity's columns for a plain SELECT (`SELECT ${selectList(m, E)} FROM …`), each quoted as the engine wants it, so
 * that `hydrate` reads the rows back. For hot reads where the query builder's cost per statement matters: a scheduler
 * step's 1,000-id read spent more CPU building its IN list of named parameters than MariaDB took to answer it.
 */
export function selectList<E extends ObjectLiteral>(m: EntityManager, entity: EntityTarget<E>): string {
  const { driver } = m.connection;
  return m.connection
    .getMetadata(entity)
    .columns.map((c) => driver.escape(c.databaseName))
    .join(', ');
}

/**
 * Rows of a plain SELECT of `selectList`'s columns as entities, every value converted as TypeORM's own reads convert
 * it (`prepareHydratedValue`: dates, booleans, JSON columns, per engine).
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
    for (const c of columns) c.setEntityValue(e, driver.prepareHydratedValue(row[c.databaseName], c));
    return e;
  });
}
