import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/**
 * Per-company QuickBooks mapping (accounting-sync): the income item of sales lines, the expense account of bill lines,
 * and VAT rate → tax code for companies that track VAT. Unset fields fall back to the configured defaults.
 */
export class CreateAccountingSettings1763700000022 implements MigrationInterface {
  name = 'CreateAccountingSettings1763700000022';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'accounting_settings',
        columns: [
          { name: 'company_id', type: 'int', isPrimary: true },
          { name: 'income_item_id', type: 'varchar', length: '32', isNullable: true },
          { name: 'expense_account_id', type: 'varchar', length: '32', isNullable: true },
          c.text('tax_codes'),
          c.datetime('updated_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('accounting_settings');
  }
}
