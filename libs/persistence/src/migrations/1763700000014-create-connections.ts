import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/**
 * A company's connection to QuickBooks or DevPos (accounting-sync): non-secret settings as JSON, secrets sealed with
 * SECRETS_KEY, token expiries and status. One per (company, provider).
 */
export class CreateConnections1763700000014 implements MigrationInterface {
  name = 'CreateConnections1763700000014';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'connections',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'company_id', type: 'int' },
          { name: 'provider', type: 'varchar', length: '16' },
          c.text('settings', false),
          c.text('secrets', false),
          c.datetime('access_token_expires_at', true),
          c.datetime('refresh_token_expires_at', true),
          { name: 'status', type: 'varchar', length: '20', default: "'ok'" },
          { name: 'status_reason', type: 'varchar', length: '1000', isNullable: true },
          c.datetime('last_refreshed_at', true),
          c.datetime('created_at'),
          c.datetime('updated_at'),
        ],
        uniques: [{ name: 'uq_connections_company_provider', columnNames: ['company_id', 'provider'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('connections');
  }
}
