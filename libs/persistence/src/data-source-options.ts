import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppConfig, DatabaseConfig } from '@sync-hub/config';
import { DataSource, DataSourceOptions } from 'typeorm';
import { serializeSqliteTransactions } from './sqlite-transactions';
import { MIGRATIONS } from './migrations';
import { JobLease } from './job-lease.entity';
import { OutboxMessage } from './outbox-message.entity';

/** Tables every app writes through the shared libs (the outbox, leases); run claims belong to libs/runs. */
export const PLATFORM_ENTITIES = [OutboxMessage, JobLease];

/**
 * TypeORM options for MySQL/MariaDB (mysql2) or SQLite (sql.js, no native build). Never `synchronize`: the schema
 * comes from the explicit migrations; they run by `npm run migrate`, or at start in the embedded mode.
 */
export function dataSourceOptions(database: DatabaseConfig, opts: { migrationsRun?: boolean } = {}): DataSourceOptions {
  const common = {
    synchronize: false,
    migrationsRun: opts.migrationsRun ?? false,
    migrations: MIGRATIONS,
    logging: false,
  } as const;
  if (database.kind === 'mysql') {
    return {
      ...common,
      type: 'mysql',
      url: database.url,
      timezone: 'Z',
      charset: 'utf8mb4_unicode_ci',
      extra: { connectionLimit: 10 },
      // No stack captured at every query's call (mysql2's default): 3 % of a sync app's busy CPU in the bus scenario's
      // profile. A failed query still carries its caller's stack, through TypeORM's QueryFailedError and Node's async
      // stack traces.
      trace: false,
    };
  }
  fs.mkdirSync(path.dirname(database.file), { recursive: true });
  return { ...common, type: 'sqljs', location: database.file, autoSave: true };
}

export function appDataSourceOptions(config: AppConfig): DataSourceOptions {
  return dataSourceOptions(config.database, { migrationsRun: config.mode === 'embedded' });
}

/** A DataSource for migrations and scripts (the CLI's `migrate`), outside Nest. */
export function createMigrationDataSource(database: DatabaseConfig): DataSource {
  return serializeSqliteTransactions(new DataSource(dataSourceOptions(database)));
}
