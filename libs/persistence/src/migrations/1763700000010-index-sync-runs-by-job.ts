import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

/** Status groups run history per (company, domain, job); this index serves those groups and their latest rows. */
export class IndexSyncRunsByJob1763700000010 implements MigrationInterface {
  name = 'IndexSyncRunsByJob1763700000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(
      'sync_runs',
      new TableIndex({ name: 'idx_sync_runs_company_job', columnNames: ['company_id', 'domain', 'job', 'created_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('sync_runs', 'idx_sync_runs_company_job');
  }
}
