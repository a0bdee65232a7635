import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Company 1's weekly `cp.reconcile` (issue 12), Sunday 05:00 UTC: the loyalty-club tables re-read from id 0, since an
 * id cursor never sees an update to an old row. next_run_at is left empty: the scheduler computes it.
 */
export class SeedCpReconcile1763700000026 implements MigrationInterface {
  name = 'SeedCpReconcile1763700000026';

  async up(queryRunner: QueryRunner): Promise<void> {
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const existing = (await queryRunner.query(
      `SELECT id FROM schedules WHERE company_id = 1 AND domain = 'crm' AND job_type = 'cp.reconcile'`,
    )) as unknown[];
    if (existing.length > 0) return;
    await queryRunner.query(
      `INSERT INTO schedules (company_id, domain, job_type, frequency, minute, hour_of_day, day_of_week, timezone, enabled,
         overlap_policy, catchup_window_s, created_at, updated_at)
       VALUES (1, 'crm', 'cp.reconcile', 'weekly', 0, 5, 0, 'UTC', 1, 'skip', 3600, ?, ?)`,
      [now, now],
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DELETE FROM schedules WHERE company_id = 1 AND domain = 'crm' AND job_type = 'cp.reconcile'`,
    );
  }
}
