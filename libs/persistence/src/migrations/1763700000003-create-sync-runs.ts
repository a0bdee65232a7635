import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** Run history, written only by the gateway from the run events. */
export class CreateSyncRuns1763700000003 implements MigrationInterface {
  name = 'CreateSyncRuns1763700000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'sync_runs',
        columns: [
          { name: 'run_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'domain', type: 'varchar', length: '32' },
          { name: 'job', type: 'varchar', length: '64' },
          { name: 'company_id', type: 'int' },
          { name: 'schedule_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'trigger', type: 'varchar', length: '16' },
          { name: 'status', type: 'varchar', length: '16' },
          c.datetime('scheduled_for', true),
          c.datetime('started_at', true),
          c.datetime('finished_at', true),
          { name: 'duration_ms', type: 'int', isNullable: true },
          c.text('stats'),
          c.text('error'),
          { name: 'skip_reason', type: 'varchar', length: '16', isNullable: true },
          c.datetime('created_at'),
          c.datetime('updated_at'),
        ],
        indices: [
          { name: 'idx_sync_runs_created', columnNames: ['created_at', 'run_id'] },
          { name: 'idx_sync_runs_domain_job', columnNames: ['domain', 'job', 'created_at'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('sync_runs');
  }
}
