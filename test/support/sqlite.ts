import { dataSourceOptions, PLATFORM_ENTITIES, serializeSqliteTransactions } from '@sync-hub/persistence';
import { DataSource, EntitySchema, ObjectType } from 'typeorm';

/**
 * An in-memory SQLite (sql.js) database with the project's migrations applied: the embedded mode's real database
 * engine, cheap enough for unit tests of services that write through TypeORM.
 */
export async function inMemoryDatabase(entities: Array<ObjectType<unknown> | EntitySchema>): Promise<DataSource> {
  const options = dataSourceOptions({ kind: 'sqlite', file: ':memory:' });
  const ds = new DataSource({
    ...options,
    location: undefined,
    autoSave: false,
    entities: [...PLATFORM_ENTITIES, ...entities],
  } as never);
  await ds.initialize();
  await ds.runMigrations();
  return serializeSqliteTransactions(ds);
}
