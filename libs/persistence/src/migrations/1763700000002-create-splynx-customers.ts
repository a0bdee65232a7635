import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** The local mirror of Splynx customers (seed 000's `users`), written only by splynx-sync. */
export class CreateSplynxCustomers1763700000002 implements MigrationInterface {
  name = 'CreateSplynxCustomers1763700000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'splynx_customers',
        columns: [
          { name: 'splynx_id', type: 'int', isPrimary: true },
          { name: 'login', type: 'varchar', length: '128', isNullable: true },
          { name: 'name', type: 'varchar', length: '255' },
          { name: 'email', type: 'varchar', length: '255', isNullable: true },
          { name: 'phone', type: 'varchar', length: '64', isNullable: true },
          { name: 'status', type: 'varchar', length: '32' },
          { name: 'category', type: 'varchar', length: '32', isNullable: true },
          { name: 'billing_type', type: 'varchar', length: '32', isNullable: true },
          { name: 'partner_id', type: 'int', isNullable: true },
          { name: 'location_id', type: 'int', isNullable: true },
          { name: 'date_add', type: 'date', isNullable: true },
          c.datetime('last_update', true),
          c.text('raw', false),
          { name: 'content_hash', type: 'varchar', length: '40' },
          c.datetime('synced_at'),
          c.bool('active', true),
        ],
        indices: [{ name: 'idx_splynx_customers_active', columnNames: ['active', 'splynx_id'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('splynx_customers');
  }
}
