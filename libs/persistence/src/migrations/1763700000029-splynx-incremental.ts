import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

/**
 * Issue 15: Splynx customers read incrementally. `sync_generation` marks each row with the full run that last saw it,
 * so a complete full run deactivates in one statement what it did not see (no set of every id in memory); and company
 * 1's daily `customers.full` at 02:30 UTC, the only run that deactivates. The hourly `customers` schedule stays as it
 * is: its job now reads only what changed. Each step is skipped when done, since MySQL commits an ALTER at once.
 */
export class SplynxIncremental1763700000029 implements MigrationInterface {
  name = 'SplynxIncremental1763700000029';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (!(await queryRunner.hasColumn('splynx_customers', 'sync_generation')))
      await queryRunner.addColumn(
        'splynx_customers',
        new TableColumn({ name: 'sync_generation', type: 'bigint', default: 0 }),
      );
    const table = await queryRunner.getTable('splynx_customers');
    if (!table?.indices.some((i) => i.name === 'idx_splynx_customers_generation'))
      await queryRunner.createIndex(
        'splynx_customers',
        new TableIndex({ name: 'idx_splynx_customers_generation', columnNames: ['active', 'sync_generation'] }),
      );

    const existing = (await queryRunner.query(
      `SELECT id FROM schedules WHERE company_id = 1 AND domain = 'splynx' AND job_type = 'customers.full'`,
    )) as unknown[];
    if (existing.length > 0) return;
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    await queryRunner.query(
      `INSERT INTO schedules (company_id, domain, job_type, frequency, minute, hour_of_day, timezone, enabled,
         overlap_policy, catchup_window_s, created_at, updated_at)
       VALUES (1, 'splynx', 'customers.full', 'daily', 30, 2, 'UTC', 1, 'skip', 3600, ?, ?)`,
      [now, now],
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DELETE FROM schedules WHERE company_id = 1 AND domain = 'splynx' AND job_type = 'customers.full'`,
    );
    const table = await queryRunner.getTable('splynx_customers');
    if (table?.indices.some((i) => i.name === 'idx_splynx_customers_generation'))
      await queryRunner.dropIndex('splynx_customers', 'idx_splynx_customers_generation');
    if (await queryRunner.hasColumn('splynx_customers', 'sync_generation'))
      await queryRunner.dropColumn('splynx_customers', 'sync_generation');
  }
}
