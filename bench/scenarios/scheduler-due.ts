import { JOB_REGISTRY, Topic } from '@sync-hub/contracts';
import { startAppProcess } from '../../test/support/app-process';
import { createTestDatabase } from '../../test/support/database';
import { TEST_KAFKA_BROKERS } from '../../test/support/env';
import { KafkaProbe } from '../../test/support/kafka';
import { eventually } from '../../test/support/wait';
import { figure, Figure, seconds } from '../stats';

export interface SchedulerResult {
  schedules: number;
  due: number;
  stepSeconds: Figure;
  ticksPerSec: Figure;
  queryPlan: Array<Record<string, unknown>>;
}

// Registered jobs only: the scheduler disables schedules of jobs without a handler before they are due.
const COMBOS = JOB_REGISTRY.map((j) => [j.domain, j.job] as const);
const FREQUENCIES = [
  { frequency: 'hourly', interval: null, hour: null },
  { frequency: 'daily', interval: null, hour: 9 },
  { frequency: 'every_minutes', interval: 5, hour: null },
];
const ZONES = ['UTC', 'Europe/Tirane', 'America/New_York', 'Asia/Tokyo'];
const fmt = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/**
 * Scenario 4: N schedules of which D fall due in the same minute; the leading scheduler (its own process, manual
 * clock) selects, advances and publishes them; timed from the clock move to the last tick read back from Kafka.
 * Each repetition makes the same D schedules due again a day later.
 */
export async function schedulerDue(opts: {
  schedules: number;
  due: number;
  reps: number;
  profileDir?: string;
}): Promise<SchedulerResult> {
  const db = await createTestDatabase('bench_scheduler');
  const first = new Date('2020-03-02T10:00:00.000Z');
  for (let start = 0; start < opts.schedules; start += 2000) {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (let i = start; i < Math.min(opts.schedules, start + 2000); i++) {
      const [domain, job] = COMBOS[i % COMBOS.length];
      const f = FREQUENCIES[i % FREQUENCIES.length];
      const next = i < opts.due ? first : new Date(first.getTime() + 10 * 86400000 + (i % 86400) * 60000);
      rows.push("(?, ?, ?, ?, ?, 0, ?, ?, 1, 'skip', 3600, ?, ?, ?)");
      values.push(
        1000 + Math.floor(i / COMBOS.length),
        domain,
        job,
        f.frequency,
        f.interval,
        f.hour,
        ZONES[i % ZONES.length],
        fmt(next),
        fmt(first),
        fmt(first),
      );
    }
    await db.dataSource.query(
      `INSERT INTO schedules (company_id, domain, job_type, frequency, interval_minutes, minute, hour_of_day, timezone, enabled, overlap_policy, catchup_window_s, next_run_at, created_at, updated_at) VALUES ${rows.join(', ')}`,
      values,
    );
  }
  await db.dataSource.query('ANALYZE TABLE schedules');
  const queryPlan: Record<string, unknown>[] = await db.dataSource.query(
    'EXPLAIN SELECT * FROM schedules s WHERE s.enabled = 1 AND s.next_run_at <= ? ORDER BY s.next_run_at ASC LIMIT 1000',
    [fmt(new Date(first.getTime() + 30000))],
  );

  const probe = new KafkaProbe();
  await probe.watch([Topic.SplynxRequested, Topic.AccountingRequested, Topic.CrmRequested, Topic.UsageRequested]);
  const scheduler = await startAppProcess(
    'scheduler',
    {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: 'bench-key-0123456789abcdef',
      SCHEDULER_CLOCK: 'manual',
      SCHEDULER_CLOCK_START: new Date(first.getTime() - 30000).toISOString(),
      SCHEDULER_RUN_ON_START: 'none',
      LOG_LEVEL: 'warn',
    },
    'bench-scheduler',
    opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [],
  );
  const move = async (to: Date) => {
    const res = await fetch(`${scheduler.url}/__clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: to.toISOString() }),
    });
    return (await res.json()) as { ticks: number; leader: boolean };
  };
  const steps: number[] = [];
  try {
    await move(new Date(first.getTime() - 30000)); // lead, and fill the seeded rows' next runs
    for (let rep = 0; rep < opts.reps; rep++) {
      const due = new Date(first.getTime() + rep * 86400000);
      if (rep > 0) {
        await db.dataSource.query(
          'UPDATE schedules SET next_run_at = ? WHERE id IN (SELECT id FROM (SELECT id FROM schedules WHERE company_id >= 1000 ORDER BY id LIMIT ?) t)',
          [fmt(due), opts.due],
        );
        await move(new Date(due.getTime() - 30000));
      }
      const before = probe.seen.length;
      const start = process.hrtime.bigint();
      const step = await move(new Date(due.getTime() + 30000));
      await eventually(
        () => (probe.seen.length - before >= step.ticks ? true : undefined),
        'every tick on Kafka',
        300000,
        5,
      );
      steps.push(seconds(start));
      if (step.ticks < opts.due)
        throw new Error(`expected at least ${opts.due} due schedules, the step published ${step.ticks}`);
    }
  } finally {
    await scheduler.stop();
    await probe.close();
    await db.drop();
  }
  return {
    schedules: opts.schedules,
    due: opts.due,
    stepSeconds: figure(steps, 's'),
    ticksPerSec: figure(
      steps.map((s) => opts.due / s),
      'ticks/s',
    ),
    queryPlan,
  };
}
