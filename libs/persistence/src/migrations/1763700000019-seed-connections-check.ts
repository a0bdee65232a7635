import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Company 1's daily `accounting.connections.check` at 05:00 in its time zone (issue 9). New companies get theirs when
 * the scheduler creates them. next_run_at is left empty: the scheduler computes it when it first sees the row.
 */
export class SeedConnectionsCheck1763700000019 implements MigrationInterface {
  name = 'SeedConnectionsCheck1763700000019';

  async up(queryRunner: QueryRunner): Promise<void> {
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const existing = (await queryRunner.query(
      `SELECT id FROM schedules WHERE company_id = 1 AND domain = 'accounting' AND job_type = 'accounting.connections.check'`,
    )) as unknown[];
    if (existing.length > 0) return;
    await queryRunner.query(
      `INSERT INTO schedules (company_id, domain, job_type, frequency, minute, hour_of_day, timezone, enabled,
         overlap_policy, catchup_window_s, created_at, updated_at)
       VALUES (1, 'accounting', 'accounting.connections.check', 'daily', 0, 5, 'Europe/Tirane', 1, 'skip', 3600, ?, ?)`,
      [now, now],
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DELETE FROM schedules WHERE company_id = 1 AND domain = 'accounting' AND job_type = 'accounting.connections.check'`,
    );
  }
}
