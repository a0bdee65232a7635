import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { columns } from './columns';

/** The warnings a completed run carried (a JSON array of strings; null when it had none), kept by the gateway. */
export class AddWarningsToSyncRuns1763700000015 implements MigrationInterface {
  name = 'AddWarningsToSyncRuns1763700000015';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('sync_runs', new TableColumn(columns(queryRunner).text('warnings')));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('sync_runs', 'warnings');
  }
}
