import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** accounting-sync's projection of companies, kept from scheduler.company.changed.v1 (accounting-sync). */
export class CreateAccountingCompanyProjections1763700000017 implements MigrationInterface {
  name = 'CreateAccountingCompanyProjections1763700000017';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'accounting_company_projections',
        columns: [
          { name: 'id', type: 'int', isPrimary: true },
          { name: 'name', type: 'varchar', length: '255' },
          { name: 'timezone', type: 'varchar', length: '64' },
          c.bool('active', true),
          c.datetime('updated_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('accounting_company_projections');
  }
}
