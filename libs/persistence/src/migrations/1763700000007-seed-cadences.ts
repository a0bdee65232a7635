import { MigrationInterface, QueryRunner } from 'typeorm';

const USAGE_INTERVAL = 'reseller.usage_sync_interval_minutes';

/**
 * The seeds' fixed cadences as rows for company 1, editable at run time like any schedule. next_run_at is left empty:
 * the scheduler computes it with the schedule's timezone when it first sees the row.
 */
const SEEDED = [
  // seed 000: Splynx customers hourly
  {
    domain: 'splynx',
    job: 'customers',
    frequency: 'hourly',
    minute: 0,
    hour: null,
    dow: null,
    interval: null,
    setting: null,
  },
  // seed 003: Robaws incremental daily 03:00, full Sunday 04:00, push daily 22:00
  {
    domain: 'crm',
    job: 'robaws.customers.incremental',
    frequency: 'daily',
    minute: 0,
    hour: 3,
    dow: null,
    interval: null,
    setting: null,
  },
  {
    domain: 'crm',
    job: 'robaws.customers.full',
    frequency: 'weekly',
    minute: 0,
    hour: 4,
    dow: 0,
    interval: null,
    setting: null,
  },
  {
    domain: 'crm',
    job: 'robaws.customers.push',
    frequency: 'daily',
    minute: 0,
    hour: 22,
    dow: null,
    interval: null,
    setting: null,
  },
  // seed 002: loyalty-club export every 5 minutes, sync-visit hourly
  {
    domain: 'crm',
    job: 'cp.export',
    frequency: 'every_minutes',
    minute: 0,
    hour: null,
    dow: null,
    interval: 5,
    setting: null,
  },
  {
    domain: 'crm',
    job: 'cp.visit',
    frequency: 'hourly',
    minute: 0,
    hour: null,
    dow: null,
    interval: null,
    setting: null,
  },
  // seed 004: reseller usage every N minutes, N from the setting (clamped 1..5)
  {
    domain: 'usage',
    job: 'reseller.usage',
    frequency: 'every_minutes',
    minute: 0,
    hour: null,
    dow: null,
    interval: 5,
    setting: USAGE_INTERVAL,
  },
];

export class SeedCadences1763700000007 implements MigrationInterface {
  name = 'SeedCadences1763700000007';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Plain SQL: a migration must not depend on today's entity classes. Times as UTC text, which both engines read.
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    for (const s of SEEDED) {
      await queryRunner.query(
        `INSERT INTO schedules (company_id, domain, job_type, frequency, interval_minutes, interval_setting, minute, hour_of_day, day_of_week,
           timezone, enabled, overlap_policy, catchup_window_s, created_at, updated_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, 'UTC', 1, 'skip', 3600, ?, ?)`,
        [s.domain, s.job, s.frequency, s.interval, s.setting, s.minute, s.hour, s.dow, now, now],
      );
    }
    const key = queryRunner.connection.driver.escape('key');
    await queryRunner.query(`INSERT INTO settings (${key}, value, updated_at) VALUES (?, ?, ?)`, [
      USAGE_INTERVAL,
      '5',
      now,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM settings WHERE ${queryRunner.connection.driver.escape('key')} = ?`, [
      USAGE_INTERVAL,
    ]);
    for (const s of SEEDED) {
      await queryRunner.query('DELETE FROM schedules WHERE company_id = 1 AND domain = ? AND job_type = ?', [
        s.domain,
        s.job,
      ]);
    }
  }
}
