import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** The gateway's projection of schedules, kept from scheduler.schedule.changed.v1 (gateway). */
export class CreateScheduleProjections1763700000011 implements MigrationInterface {
  name = 'CreateScheduleProjections1763700000011';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'schedule_projections',
        columns: [
          { name: 'schedule_id', type: 'int', isPrimary: true },
          { name: 'company_id', type: 'int' },
          { name: 'domain', type: 'varchar', length: '32' },
          { name: 'job_type', type: 'varchar', length: '64' },
          { name: 'frequency', type: 'varchar', length: '16' },
          { name: 'interval_minutes', type: 'int', isNullable: true },
          { name: 'timezone', type: 'varchar', length: '64' },
          c.bool('enabled', true),
          { name: 'paused_reason', type: 'varchar', length: '255', isNullable: true },
          c.datetime('last_run_at', true),
          c.datetime('next_run_at', true),
          c.datetime('schedule_created_at'),
          c.datetime('schedule_updated_at'),
          c.datetime('event_at'),
        ],
        indices: [{ name: 'idx_schedule_projections_job', columnNames: ['company_id', 'domain', 'job_type'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('schedule_projections');
  }
}
