import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** The gateway's projection of settings, kept from scheduler.setting.changed.v1 (gateway). */
export class CreateSettingProjections1763700000012 implements MigrationInterface {
  name = 'CreateSettingProjections1763700000012';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'setting_projections',
        columns: [
          { name: 'key', type: 'varchar', length: '128', isPrimary: true },
          { name: 'value', type: 'text' },
          { name: 'effective_value', type: 'int' },
          c.datetime('updated_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('setting_projections');
  }
}
