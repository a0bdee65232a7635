import { randomBytes } from 'node:crypto';
import { createMigrationDataSource } from '@sync-hub/persistence';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { TEST_MYSQL_URL } from './env';

export interface TestDatabase {
  url: string;
  name: string;
  /** Migrated DataSource for assertions. */
  dataSource: DataSource;
  drop(): Promise<void>;
}

/** A fresh database on the local MariaDB, migrated with the project's migrations; dropped afterwards. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `synchub_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  const admin = await createConnection(TEST_MYSQL_URL);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = `${TEST_MYSQL_URL}/${name}`;
  const dataSource = createMigrationDataSource({ kind: 'mysql', url });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return {
    url,
    name,
    dataSource,
    async drop() {
      await dataSource.destroy();
      const conn = await createConnection(TEST_MYSQL_URL);
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

/**
 * Companies with fixed ids, written as an existing install has them: a suite's schedules need their company, and the
 * topics on the shared broker hold every suite's runs, so a suite's companies have ids no other suite uses.
 */
export async function insertCompanies(db: TestDatabase, ids: number[]): Promise<void> {
  for (const id of ids)
    await db.dataSource.query(
      `INSERT INTO companies (id, name, timezone, active, created_at, updated_at) VALUES (?, ?, 'Europe/Tirane', 1, NOW(3), NOW(3))`,
      [id, `Company ${id}`],
    );
}
