import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * Issue 16: an outbox row may carry many messages of one topic (a sync page's change events, one line each), so that a
 * full sync of 100,000 customers writes a few hundred outbox rows, not 100,000. `message_count` is 1 for a row of one
 * message (every row before this migration).
 */
export class OutboxMessageCount1763700000031 implements MigrationInterface {
  name = 'OutboxMessageCount1763700000031';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('outbox_messages', new TableColumn({ name: 'message_count', type: 'int', default: 1 }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('outbox_messages', 'message_count');
  }
}
