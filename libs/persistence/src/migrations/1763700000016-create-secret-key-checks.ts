import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** One sealed known value per app that stores secrets, to refuse a wrong SECRETS_KEY at start. */
export class CreateSecretKeyChecks1763700000016 implements MigrationInterface {
  name = 'CreateSecretKeyChecks1763700000016';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'secret_key_checks',
        columns: [
          { name: 'owner', type: 'varchar', length: '64', isPrimary: true },
          c.text('sealed', false),
          c.datetime('created_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('secret_key_checks');
  }
}
