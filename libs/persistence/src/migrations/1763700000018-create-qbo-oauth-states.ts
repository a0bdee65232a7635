import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** The QuickBooks authorize states handed out (accounting-sync): each expires, and is consumed by its one callback. */
export class CreateQboOauthStates1763700000018 implements MigrationInterface {
  name = 'CreateQboOauthStates1763700000018';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'qbo_oauth_states',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'company_id', type: 'int' },
          c.datetime('expires_at'),
          c.datetime('consumed_at', true),
          c.datetime('created_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('qbo_oauth_states');
  }
}
