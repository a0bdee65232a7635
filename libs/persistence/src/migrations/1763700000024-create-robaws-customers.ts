import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/**
 * The Robaws customer cache (issue 11, seed 003) and the stream cursors every cursor-based sync keeps
 * (`sync_cursors`: the Robaws incremental pull's `robaws.clients`, the loyalty-club export's `cp.<table>`).
 *
 * robaws_customers holds the normalised fields, the whole upstream record (`metadata`), and the local-edit state:
 * `local_dirty` (the edited fields, their base values and the upstream version the edit was based on), `conflict`
 * (both versions, when Robaws changed an edited field before the push), `pushed_at` and `deleted_upstream`.
 * The webhook tables: the endpoints `robaws:webhooks:register` created (their signing secret sealed with
 * SECRETS_KEY) and the delivery ids seen (a replayed delivery does nothing).
 */
export class CreateRobawsCustomers1763700000024 implements MigrationInterface {
  name = 'CreateRobawsCustomers1763700000024';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'robaws_customers',
        columns: [
          { name: 'robaws_id', type: 'int', isPrimary: true },
          { name: 'name', type: 'varchar', length: '255', isNullable: true },
          { name: 'role', type: 'varchar', length: '100', isNullable: true },
          { name: 'email', type: 'varchar', length: '255', isNullable: true },
          { name: 'tel', type: 'varchar', length: '64', isNullable: true },
          { name: 'gsm', type: 'varchar', length: '64', isNullable: true },
          { name: 'phone', type: 'varchar', length: '64', isNullable: true },
          { name: 'website', type: 'varchar', length: '255', isNullable: true },
          { name: 'address_line1', type: 'varchar', length: '255', isNullable: true },
          { name: 'address_line2', type: 'varchar', length: '255', isNullable: true },
          { name: 'postal_code', type: 'varchar', length: '32', isNullable: true },
          { name: 'city', type: 'varchar', length: '128', isNullable: true },
          { name: 'country', type: 'varchar', length: '64', isNullable: true },
          { name: 'vat_number', type: 'varchar', length: '64', isNullable: true },
          { name: 'vat_valid', type: 'boolean', isNullable: true },
          { name: 'currency', type: 'varchar', length: '8', isNullable: true },
          { name: 'language', type: 'varchar', length: '16', isNullable: true },
          c.bool('is_active', true),
          c.text('metadata', false),
          { name: 'content_hash', type: 'varchar', length: '64' },
          c.datetime('upstream_updated_at', true),
          c.datetime('synced_at'),
          c.text('local_dirty'),
          c.text('conflict'),
          c.datetime('pushed_at', true),
          c.bool('deleted_upstream', false),
        ],
        indices: [
          { name: 'idx_robaws_customers_role', columnNames: ['role'] },
          { name: 'idx_robaws_customers_name', columnNames: ['name'] },
          { name: 'idx_robaws_customers_email', columnNames: ['email'] },
          { name: 'idx_robaws_customers_vat', columnNames: ['vat_number'] },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'sync_cursors',
        columns: [
          { name: 'stream', type: 'varchar', length: '100', isPrimary: true },
          { name: 'position', type: 'varchar', length: '64' },
          c.datetime('synced_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'robaws_webhook_endpoints',
        columns: [
          { name: 'endpoint_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'url', type: 'varchar', length: '2048' },
          { name: 'events', type: 'varchar', length: '255' },
          c.text('secret_sealed', false),
          c.datetime('created_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'robaws_webhook_deliveries',
        columns: [
          { name: 'delivery_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'client_id', type: 'int', isNullable: true },
          c.datetime('received_at'),
        ],
        indices: [{ name: 'idx_robaws_webhook_deliveries_received', columnNames: ['received_at'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('robaws_webhook_deliveries');
    await queryRunner.dropTable('robaws_webhook_endpoints');
    await queryRunner.dropTable('sync_cursors');
    await queryRunner.dropTable('robaws_customers');
  }
}
