import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** Notifications to send, one row per channel, kept until sent: a channel that is down loses nothing (gateway). */
export class CreateNotifications1763700000009 implements MigrationInterface {
  name = 'CreateNotifications1763700000009';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'notifications',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'channel', type: 'varchar', length: '16' },
          { name: 'job_key', type: 'varchar', length: '191' },
          { name: 'run_id', type: 'varchar', length: '36' },
          c.text('message', false),
          { name: 'attempts', type: 'int', default: 0 },
          c.text('last_error'),
          c.datetime('next_attempt_at'),
          c.datetime('sent_at', true),
          c.datetime('created_at'),
        ],
        uniques: [{ name: 'uq_notifications_once', columnNames: ['run_id', 'kind', 'channel'] }],
        indices: [{ name: 'idx_notifications_pending', columnNames: ['sent_at', 'next_attempt_at'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('notifications');
  }
}
