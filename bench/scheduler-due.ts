import { JOBS_BY_DOMAIN, Topic } from '@sync-hub/contracts';
import { startAppProcess } from '../test/support/app-process';
import { createTestDatabase } from '../test/support/database';
import { TEST_KAFKA_BROKERS } from '../test/support/env';
import { KafkaProbe } from '../test/support/kafka';
import { eventually } from '../test/support/wait';

const COMBOS = Object.entries(JOBS_BY_DOMAIN).flatMap(([domain, jobs]) => jobs.map((job) => [domain, job] as const));
const FREQUENCIES = [
  { frequency: 'hourly', interval: null, hour: null },
  { frequency: 'daily', interval: null, hour: 9 },
  { frequency: 'every_minutes', interval: 5, hour: null },
];
const ZONES = ['UTC', 'Europe/Tirane', 'America/New_York', 'Asia/Tokyo'];

/**
 * N schedules of which D fall due in the same minute: the time for the leading scheduler to select and publish them
 * (clock move to the last tick on Kafka), and the query plan of the due selection.
 * Usage: node dist/bench/scheduler-due.js [schedules] [due]
 */
async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 100000);
  const dueCount = Number(process.argv[3] ?? 10000);
  const db = await createTestDatabase('bench_scheduler');
  const due = new Date('2020-03-02T10:00:00.000Z');
  const fmt = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
  const inserted = Date.now();
  for (let start = 0; start < total; start += 2000) {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (let i = start; i < Math.min(total, start + 2000); i++) {
      const [domain, job] = COMBOS[i % COMBOS.length];
      const company = 1000 + Math.floor(i / COMBOS.length);
      const f = FREQUENCIES[i % FREQUENCIES.length];
      // The first `dueCount` fall due at 10:00; the rest over the next 60 days.
      const next = i < dueCount ? due : new Date(due.getTime() + (1 + (i % 86400)) * 60000);
      rows.push("(?, ?, ?, ?, ?, 0, ?, ?, 1, 'skip', 3600, ?, ?, ?)");
      values.push(company, domain, job, f.frequency, f.interval, f.hour, ZONES[i % ZONES.length], fmt(next), fmt(due), fmt(due));
    }
    await db.dataSource.query(
      `INSERT INTO schedules (company_id, domain, job_type, frequency, interval_minutes, minute, hour_of_day, timezone, enabled, overlap_policy, catchup_window_s, next_run_at, created_at, updated_at) VALUES ${rows.join(', ')}`,
      values,
    );
  }
  await db.dataSource.query('ANALYZE TABLE schedules');
  console.log(`inserted ${total} schedules (${dueCount} due at ${due.toISOString()}) in ${((Date.now() - inserted) / 1000).toFixed(1)} s`);
  const plan = await db.dataSource.query('EXPLAIN SELECT * FROM schedules s WHERE s.enabled = 1 AND s.next_run_at <= ? ORDER BY s.next_run_at ASC LIMIT 1000', [fmt(new Date(due.getTime() + 30000))]);
  console.log('due-selection query plan (EXPLAIN):');
  console.table(plan);

  const probe = new KafkaProbe();
  await probe.watch([Topic.SplynxRequested, Topic.AccountingRequested, Topic.CrmRequested, Topic.UsageRequested]);
  const scheduler = await startAppProcess(
    'scheduler',
    {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url, GATEWAY_API_KEYS: 'bench-key-0123456789abcdef', SCHEDULER_CLOCK: 'manual',
      SCHEDULER_CLOCK_START: new Date(due.getTime() - 30000).toISOString(), SCHEDULER_RUN_ON_START: 'none', LOG_LEVEL: 'warn',
    },
    'bench-scheduler',
    // BENCH_PROFILE=<dir> writes a V8 CPU profile of the scheduler there
    process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
  );
  const move = async (to: Date) => {
    const res = await fetch(`${scheduler.url}/__clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: to.toISOString() }) });
    return (await res.json()) as { ticks: number; leader: boolean };
  };
  try {
    await move(new Date(due.getTime() - 30000)); // take leadership, fill the seeded rows' next runs
    const before = probe.seen.length;
    const started = process.hrtime.bigint();
    const step = await move(new Date(due.getTime() + 30000));
    const stepSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    await eventually(() => (probe.seen.length - before >= step.ticks ? true : undefined), 'every tick on Kafka', 300000, 20);
    const allSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`leader step: selected, advanced and published ${step.ticks} due schedules in ${stepSeconds.toFixed(2)} s (${Math.round(step.ticks / stepSeconds)} ticks/s)`);
    console.log(`last tick read back from Kafka after ${allSeconds.toFixed(2)} s`);
    const [{ left }] = await db.dataSource.query('SELECT COUNT(*) AS `left` FROM schedules WHERE enabled = 1 AND next_run_at <= ?', [fmt(new Date(due.getTime() + 30000))]);
    console.log(`schedules still due after the step: ${left}`);
  } finally {
    await scheduler.stop();
    await probe.close();
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
