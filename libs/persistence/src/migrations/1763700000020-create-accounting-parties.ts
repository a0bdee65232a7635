import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/**
 * QuickBooks customers and vendors by (company, kind, party key, currency) (accounting-sync): the party key is the
 * NUIS, or `name:<name>` for a document without one (flagged).
 */
export class CreateAccountingParties1763700000020 implements MigrationInterface {
  name = 'CreateAccountingParties1763700000020';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'accounting_parties',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'company_id', type: 'int' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'party_key', type: 'varchar', length: '255' },
          { name: 'currency', type: 'varchar', length: '3' },
          { name: 'qbo_id', type: 'varchar', length: '32' },
          { name: 'display_name', type: 'varchar', length: '500' },
          c.bool('flagged', false),
          c.datetime('created_at'),
          c.datetime('updated_at'),
        ],
        uniques: [{ name: 'uq_accounting_parties_key', columnNames: ['company_id', 'kind', 'party_key', 'currency'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('accounting_parties');
  }
}
