import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

export class CreateRunClaims1763700000000 implements MigrationInterface {
  name = 'CreateRunClaims1763700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'run_claims',
        columns: [
          { name: 'run_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'app', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'job_key', type: 'varchar', length: '191' },
          c.text('tick', false),
          c.datetime('claimed_until'),
          c.datetime('updated_at'),
        ],
        indices: [{ name: 'idx_run_claims_sweep', columnNames: ['app', 'status', 'claimed_until'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('run_claims');
  }
}
