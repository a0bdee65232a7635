import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

export class CreateOutboxMessages1763700000001 implements MigrationInterface {
  name = 'CreateOutboxMessages1763700000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'outbox_messages',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'topic', type: 'varchar', length: '255' },
          { name: 'message_key', type: 'varchar', length: '255' },
          { ...c.text('value', false) },
          { name: 'attempts', type: 'int', default: 0 },
          c.text('last_error'),
          c.datetime('created_at'),
          c.datetime('next_attempt_at'),
        ],
        indices: [{ name: 'idx_outbox_next_attempt', columnNames: ['next_attempt_at'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('outbox_messages');
  }
}
