import { MigrationInterface, QueryRunner, TableColumn, TableColumnOptions } from 'typeorm';
import { columns } from './columns';

/**
 * Visible takeovers (issue 14): a run claim counts its attempts and remembers a handover at shutdown, so the takeover
 * can say why it happened; the gateway's run record shows the attempts, the last takeover's time and its reason.
 * Two tables in one migration: MySQL commits each ALTER at once, so every column is added only if it is missing, and
 * a migration stopped half-way completes when run again.
 */
export class AddTakeoversToRuns1763700000028 implements MigrationInterface {
  name = 'AddTakeoversToRuns1763700000028';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    const attempt = (name: string): TableColumnOptions => ({ name, type: 'int', default: 1 });
    const reason = (): TableColumnOptions => ({
      name: 'takeover_reason',
      type: 'varchar',
      length: '16',
      isNullable: true,
    });
    await addMissing(queryRunner, 'run_claims', [
      attempt('attempt'),
      c.datetime('handed_over_at', true),
      c.datetime('taken_over_at', true),
      reason(),
    ]);
    await addMissing(queryRunner, 'sync_runs', [attempt('attempts'), c.datetime('taken_over_at', true), reason()]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const name of ['takeover_reason', 'taken_over_at', 'attempts'])
      if (await queryRunner.hasColumn('sync_runs', name)) await queryRunner.dropColumn('sync_runs', name);
    for (const name of ['takeover_reason', 'taken_over_at', 'handed_over_at', 'attempt'])
      if (await queryRunner.hasColumn('run_claims', name)) await queryRunner.dropColumn('run_claims', name);
  }
}

async function addMissing(queryRunner: QueryRunner, table: string, options: TableColumnOptions[]): Promise<void> {
  for (const option of options)
    if (!(await queryRunner.hasColumn(table, option.name))) await queryRunner.addColumn(table, new TableColumn(option));
}
