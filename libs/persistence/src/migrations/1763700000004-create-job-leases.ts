import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

export class CreateJobLeases1763700000004 implements MigrationInterface {
  name = 'CreateJobLeases1763700000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'job_leases',
        columns: [
          { name: 'name', type: 'varchar', length: '191', isPrimary: true },
          { name: 'owner', type: 'varchar', length: '64' },
          { name: 'run_id', type: 'varchar', length: '36', isNullable: true },
          c.datetime('expires_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('job_leases');
  }
}
