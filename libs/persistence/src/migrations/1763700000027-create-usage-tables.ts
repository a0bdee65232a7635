import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/**
 * The reseller traffic usage sync (issue 13, seed 004): resellers, the VPN panels their configs live on (credentials
 * sealed with SECRETS_KEY, bound to the panel's id; per-panel concurrency and rate; the panel's health), and the
 * reseller configs with their usage, limit, last sync and last error, and the traffic-limit level last announced
 * (`limit_alert_percent`: 0, 80 or 100) so that a crossing is announced once.
 */
export class CreateUsageTables1763700000027 implements MigrationInterface {
  name = 'CreateUsageTables1763700000027';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    const id = {
      name: 'id',
      type: 'integer',
      isPrimary: true,
      isGenerated: true,
      generationStrategy: 'increment' as const,
    };
    await queryRunner.createTable(
      new Table({
        name: 'resellers',
        columns: [
          id,
          { name: 'name', type: 'varchar', length: '255' },
          c.datetime('created_at'),
          c.datetime('updated_at'),
        ],
        uniques: [{ name: 'uq_resellers_name', columnNames: ['name'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'panels',
        columns: [
          id,
          { name: 'name', type: 'varchar', length: '255' },
          { name: 'type', type: 'varchar', length: '16' },
          { name: 'url', type: 'varchar', length: '2048' },
          c.text('credentials_sealed'),
          c.text('settings'),
          { name: 'max_concurrency', type: 'int', default: 8 },
          { name: 'requests_per_second', type: 'int', isNullable: true },
          c.bool('active', true),
          c.datetime('last_success_at', true),
          c.text('last_error'),
          c.datetime('last_error_at', true),
          c.datetime('created_at'),
          c.datetime('updated_at'),
        ],
        uniques: [{ name: 'uq_panels_name', columnNames: ['name'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'reseller_configs',
        columns: [
          id,
          { name: 'reseller_id', type: 'int' },
          { name: 'panel_id', type: 'int' },
          { name: 'panel_user_id', type: 'varchar', length: '255', isNullable: true },
          { name: 'external_username', type: 'varchar', length: '255' },
          { name: 'status', type: 'varchar', length: '32', default: "'active'" },
          { name: 'usage_bytes', type: 'bigint', default: 0 },
          { name: 'traffic_limit_bytes', type: 'bigint', isNullable: true },
          c.datetime('usage_synced_at', true),
          c.text('last_usage_error'),
          c.datetime('last_usage_error_at', true),
          { name: 'limit_alert_percent', type: 'int', default: 0 },
          c.datetime('created_at'),
          c.datetime('updated_at'),
        ],
        indices: [
          { name: 'idx_reseller_configs_panel', columnNames: ['panel_id', 'status'] },
          { name: 'idx_reseller_configs_reseller', columnNames: ['reseller_id'] },
        ],
        foreignKeys: [
          { columnNames: ['reseller_id'], referencedTableName: 'resellers', referencedColumnNames: ['id'] },
          { columnNames: ['panel_id'], referencedTableName: 'panels', referencedColumnNames: ['id'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('reseller_configs');
    await queryRunner.dropTable('panels');
    await queryRunner.dropTable('resellers');
  }
}
