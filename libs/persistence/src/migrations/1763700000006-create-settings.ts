import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** Runtime settings (key, value), owned by the scheduler. */
export class CreateSettings1763700000006 implements MigrationInterface {
  name = 'CreateSettings1763700000006';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'settings',
        columns: [
          { name: 'key', type: 'varchar', length: '128', isPrimary: true },
          c.text('value', false),
          c.datetime('updated_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('settings');
  }
}
