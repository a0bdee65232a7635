import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

/**
 * Issue 15: `idx_outbox_next_attempt` served no query (the flush reads the oldest rows by id and decides which are due
 * from the rows it read; the depth gauge counts by id), but every outbox row paid for it twice, written and deleted: a
 * scheduler step of 100,000 ticks writes and deletes 200,000 rows.
 */
export class DropOutboxNextAttemptIndex1763700000030 implements MigrationInterface {
  name = 'DropOutboxNextAttemptIndex1763700000030';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = await queryRunner.getTable('outbox_messages');
    if (table?.indices.some((i) => i.name === 'idx_outbox_next_attempt'))
      await queryRunner.dropIndex('outbox_messages', 'idx_outbox_next_attempt');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = await queryRunner.getTable('outbox_messages');
    if (!table?.indices.some((i) => i.name === 'idx_outbox_next_attempt'))
      await queryRunner.createIndex(
        'outbox_messages',
        new TableIndex({ name: 'idx_outbox_next_attempt', columnNames: ['next_attempt_at'] }),
      );
  }
}
