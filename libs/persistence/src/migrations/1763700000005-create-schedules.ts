import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/** Per-company schedules (DESIGN.md section 4), owned by the scheduler. */
export class CreateSchedules1763700000005 implements MigrationInterface {
  name = 'CreateSchedules1763700000005';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'schedules',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'company_id', type: 'int' },
          { name: 'domain', type: 'varchar', length: '32' },
          { name: 'job_type', type: 'varchar', length: '64' },
          { name: 'frequency', type: 'varchar', length: '16' },
          { name: 'interval_minutes', type: 'int', isNullable: true },
          { name: 'interval_setting', type: 'varchar', length: '128', isNullable: true },
          { name: 'minute', type: 'int', default: 0 },
          { name: 'hour_of_day', type: 'int', isNullable: true },
          { name: 'day_of_week', type: 'int', isNullable: true },
          { name: 'day_of_month', type: 'int', isNullable: true },
          { name: 'timezone', type: 'varchar', length: '64', default: "'UTC'" },
          { name: 'date_range_days', type: 'int', isNullable: true },
          c.bool('enabled', true),
          { name: 'paused_reason', type: 'varchar', length: '255', isNullable: true },
          { name: 'overlap_policy', type: 'varchar', length: '16', default: "'skip'" },
          { name: 'catchup_window_s', type: 'int', default: 3600 },
          c.datetime('last_run_at', true),
          c.datetime('next_run_at', true),
          c.datetime('created_at'),
          c.datetime('updated_at'),
        ],
        uniques: [{ name: 'uq_schedules_company_job', columnNames: ['company_id', 'domain', 'job_type'] }],
        indices: [{ name: 'idx_schedules_due', columnNames: ['enabled', 'next_run_at'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('schedules');
  }
}
