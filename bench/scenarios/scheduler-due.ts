import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JOB_REGISTRY, Topic } from '@sync-hub/contracts';
import { dueIdsSql } from '../../apps/scheduler/src';
import { startAppProcess } from '../../test/support/app-process';
import { createTestDatabase } from '../../test/support/database';
import { TEST_KAFKA_BROKERS } from '../../test/support/env';
import { KafkaProbe } from '../../test/support/kafka';
import { eventually } from '../../test/support/wait';
import type { DataSource } from 'typeorm';
import { figure, Figure, rssOf, seconds } from '../stats';

export interface SchedulerResult {
  schedules: number;
  due: number;
  stepSeconds: Figure;
  /** CPU the scheduler process spent in each step (user + system): what the step costs on a machine shared with others. */
  stepCpuSeconds: Figure;
  /**
   * CPU MariaDB's server and the Kafka broker spent in each step (null when their process is not found): with the
   * scheduler's, what the step costs the machine, and why its wall time on two cores exceeds the scheduler's CPU.
   */
  stepDbCpuSeconds: Figure | null;
  stepBrokerCpuSeconds: Figure | null;
  ticksPerSec: Figure;
  /** EXPLAIN of the step's due query on the seeded table (it must stay a range scan of idx_schedules_due). */
  queryPlan: Array<Record<string, unknown>>;
  /** The due query reads a range of idx_schedules_due (EXPLAIN's type `range`, that key). */
  dueQueryRangeScan: boolean;
  /** Seconds to seed the table, and for the first (leading) step: the new leader republishes every schedule. */
  seedSeconds: number;
  leadSeconds: number;
  /** The scheduler process's peak resident memory over its whole life (VmHWM), and at rest after it first led. */
  peakRssMb: number;
  restRssMb: number;
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
  /** Node flags after the Deployment's (to compare heap settings). */
  nodeArgs?: string[];
}): Promise<SchedulerResult> {
  const db = await createTestDatabase('bench_scheduler');
  const first = new Date('2020-03-02T10:00:00.000Z');
  const seeding = process.hrtime.bigint();
  await seed(db.dataSource, opts.schedules, opts.due, first);
  const seedSeconds = seconds(seeding);
  await db.dataSource.query('ANALYZE TABLE schedules');
  // The statement the step runs for each batch of due schedules, explained on the seeded table.
  const queryPlan: Record<string, unknown>[] = await db.dataSource.query(`EXPLAIN ${dueIdsSql(true, 1000)}`, [
    1,
    fmt(new Date(first.getTime() + 30000)),
  ]);
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
    [...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : []), ...(opts.nodeArgs ?? [])],
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
  const cpu: number[] = [];
  const others = { db: mariadbPid(), broker: brokerPid() };
  const dbCpu: number[] = [];
  const brokerCpu: number[] = [];
  const cpuOf = (pid: number | null) => (pid === null ? 0 : cpuSecondsOf(pid));
  const measured = { leadSeconds: 0, restRssMb: 0, peakRssMb: 0 };
  try {
    const leading = process.hrtime.bigint();
    await move(new Date(first.getTime() - 30000)); // lead, and fill the seeded rows' next runs
    measured.leadSeconds = seconds(leading);
    measured.restRssMb = rssOf(scheduler.child.pid!).now;
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
      const cpuBefore = cpuSecondsOf(scheduler.child.pid!);
      const [dbBefore, brokerBefore] = [cpuOf(others.db), cpuOf(others.broker)];
      const step = await move(new Date(due.getTime() + 30000));
      await eventually(
        () => (probe.seen.length - before >= step.ticks ? true : undefined),
        'every tick on Kafka',
        300000,
        5,
      );
      steps.push(seconds(start));
      cpu.push(cpuSecondsOf(scheduler.child.pid!) - cpuBefore);
      dbCpu.push(cpuOf(others.db) - dbBefore);
      brokerCpu.push(cpuOf(others.broker) - brokerBefore);
      if (step.ticks < opts.due)
        throw new Error(`expected at least ${opts.due} due schedules, the step published ${step.ticks}`);
    }
    measured.peakRssMb = rssOf(scheduler.child.pid!).peak;
  } finally {
    await scheduler.stop();
    await probe.close();
    await db.drop();
  }
  return {
    schedules: opts.schedules,
    due: opts.due,
    stepSeconds: figure(steps, 's'),
    stepCpuSeconds: figure(cpu, 's'),
    stepDbCpuSeconds: others.db === null ? null : figure(dbCpu, 's'),
    stepBrokerCpuSeconds: others.broker === null ? null : figure(brokerCpu, 's'),
    ticksPerSec: figure(
      steps.map((s) => opts.due / s),
      'ticks/s',
    ),
    queryPlan,
    dueQueryRangeScan:
      queryPlan.length === 1 && queryPlan[0].type === 'range' && queryPlan[0].key === 'idx_schedules_due',
    seedSeconds,
    ...measured,
  };
}

/** CPU time of a process so far (user + system, /proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The local MariaDB server's process (the bench's database is on this machine), or null. */
function mariadbPid(): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const name = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (name === 'mariadbd' || name === 'mysqld') return Number(entry);
    } catch {
      /* gone meanwhile */
    }
  }
  return null;
}

/** The bench's broker (scripts/kafka.sh writes its pid beside its data), or null. */
function brokerPid(): number | null {
  const port = process.env.KAFKA_PORT ?? TEST_KAFKA_BROKERS.split(',')[0].split(':').pop();
  try {
    const pid = Number(
      readFileSync(join(__dirname, '..', '..', '..', '.cache', 'kafka', `run-${port}`, 'broker.pid'), 'utf8'),
    );
    return Number.isInteger(pid) && existsSync(`/proc/${pid}`) ? pid : null;
  } catch {
    return null;
  }
}

/** One CASE-free pick from a list by `seq`: `ELT(1 + seq % n, ?, …)` with the list as parameters. */
const pick = (values: readonly unknown[], params: unknown[]) => {
  params.push(...values);
  return `ELT(1 + seq % ${values.length}, ${values.map(() => '?').join(', ')})`;
};

/**
 * N schedules, the first D due at `first`, the rest spread over a later day: `INSERT … SELECT` from MariaDB's SEQUENCE
 * engine (`seq_A_to_B`) in statements of 100,000 rows, so a million rows are written by the server without a million
 * parameters crossing the wire. Registered (domain, job) pairs only, one of each per company.
 */
async function seed(ds: DataSource, schedules: number, due: number, first: Date): Promise<void> {
  const STATEMENT = 100000;
  for (let start = 0; start < schedules; start += STATEMENT) {
    const end = Math.min(schedules, start + STATEMENT) - 1;
    const params: unknown[] = [];
    const company = `1000 + FLOOR(seq / ${COMBOS.length})`;
    const domain = pick(
      COMBOS.map(([d]) => d),
      params,
    );
    const job = pick(
      COMBOS.map(([, j]) => j),
      params,
    );
    const frequency = pick(
      FREQUENCIES.map((f) => f.frequency),
      params,
    );
    const interval = pick(
      FREQUENCIES.map((f) => f.interval),
      params,
    );
    const hour = pick(
      FREQUENCIES.map((f) => f.hour),
      params,
    );
    const zone = pick(ZONES, params);
    params.push(due, fmt(first), fmt(new Date(first.getTime() + 10 * 86400000)), fmt(first), fmt(first));
    await ds.query(
      `INSERT INTO schedules (company_id, domain, job_type, frequency, interval_minutes, minute, hour_of_day, timezone, enabled, overlap_policy, catchup_window_s, next_run_at, created_at, updated_at)
       SELECT ${company}, ${domain}, ${job}, ${frequency}, ${interval}, 0, ${hour}, ${zone}, 1, 'skip', 3600,
              IF(seq < ?, ?, TIMESTAMPADD(MINUTE, seq % 86400, ?)), ?, ?
       FROM seq_${start}_to_${end}`,
      params,
    );
  }
}
