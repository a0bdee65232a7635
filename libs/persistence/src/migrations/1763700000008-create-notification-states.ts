import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** Per job: consecutive failures and whether a failure was announced, so notifications fire on changes only (gateway). */
export class CreateNotificationStates1763700000008 implements MigrationInterface {
  name = 'CreateNotificationStates1763700000008';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'notification_states',
        columns: [
          { name: 'job_key', type: 'varchar', length: '191', isPrimary: true },
          { name: 'consecutive_failures', type: 'int', default: 0 },
          c.bool('failure_announced', false),
          c.bool('paused', false),
          c.datetime('last_success_at', true),
          { name: 'last_run_id', type: 'varchar', length: '36', isNullable: true },
          c.datetime('updated_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('notification_states');
  }
}
