import { randomBytes } from 'node:crypto';
import { Topic } from '@sync-hub/contracts';
import { CP_TABLES, CpExportSimulator, CpTable } from '@sync-hub/simulators';
import { createConnection } from 'mysql2/promise';
import { CP_TABLE_SPECS, CpTableSpec, writtenColumns } from '../../apps/crm-sync/src';
import { AppProcess, startAppProcess } from '../../test/support/app-process';
import { createTestDatabase, TestDatabase } from '../../test/support/database';
import { TEST_KAFKA_BROKERS } from '../../test/support/env';
import { groupStartingNow, KafkaProbe } from '../../test/support/kafka';
import { tick } from '../../test/support/ticks';
import { figure, Figure, outboxMessages, rssOf, seconds } from '../stats';

export interface CpExportResult {
  /** Rows per table at full size; `tables` × `rowsPerTable` rows in all. */
  rowsPerTable: number;
  tables: number;
  /** CP_EXPORT_BATCH_LIMIT: the request's `limit`, rows per table per round. */
  batchLimit: number;
  /**
   * Scenario 10: the initial load of every table, tick to completed; all rows / seconds. With the change events off
   * (CHANGE_EVENTS=none): the load issue 12 defined, judged against 1b as scenario 1 judges its sync.
   */
  loadRowsPerSec: Figure;
  loadSeconds: Figure;
  /** The same load with its change events on (the default): one `crm.loyalty.<table>.changed.v1` event a row. */
  loadEventsOnRowsPerSec: Figure;
  /** Change events still in the outbox when an events-on load reported (its end waits for them up to a bound). */
  loadOutboxAtEnd: number;
  loadStats: Record<string, number>;
  /**
   * Beside 1b: the same rows, converted beforehand, written by raw mysql2 multi-row upserts of `batchLimit` into the
   * seven destinations: the database's own limit for these tables.
   */
  tableCeilingRowsPerSec: Figure;
  /**
   * crm-sync's peak resident memory (VmHWM), one fresh process per load with the change events on (the default): at
   * full size and at a tenth of it.
   */
  peakRssMb: Figure;
  tenthPeakRssMb: Figure;
  /** crm-sync's resident memory once ready, before its first load. */
  restRssMb: Figure;
}

/**
 * Scenario 10: the loyalty-club export's initial load (issue 12). The simulator (over HTTP, no faults) holds
 * `rowsPerTable` rows in each of its seven tables; crm-sync, its own process on Kafka and MariaDB, runs crm/cp.export
 * with enough loops to drain them, tick to completed, as rows per second against scenario 1b's raw mysql2 ceiling and
 * the seven destinations' own, once with the change events off (the load judged) and once on (the default, beside it,
 * and the one whose memory is read). Each repetition starts a fresh crm-sync on emptied tables and reads its peak RSS; a
 * load of a tenth of the rows, in a fresh process too, shows whether that peak depends on the size (it should not: a
 * round holds `batchLimit` rows per table whatever the total).
 */
export async function cpExportThroughput(opts: {
  rowsPerTable: number;
  reps: number;
  /** CP_EXPORT_BATCH_LIMIT; the default, 1000, unless given. */
  batchLimit?: number;
  /** BENCH_PROFILE: the first full-size load's crm-sync writes a CPU profile there. */
  profileDir?: string;
  /**
   * Node flags for every crm-sync, after its Deployment's (k8s/base/apps.yaml, which every crm-sync gets), to diagnose
   * (e.g. --trace-gc) or to try other heap caps; none in `npm run bench`.
   */
  nodeArgs?: string[];
}): Promise<CpExportResult> {
  const batchLimit = opts.batchLimit ?? 1000;
  const tenth = Math.max(1, Math.round(opts.rowsPerTable / 10));
  const full = new CpExportSimulator({ seed: 10, rows: opts.rowsPerTable });
  const small = new CpExportSimulator({ seed: 10, rows: tenth });
  await full.start();
  await small.start();
  const probe = new KafkaProbe();
  await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
  const db = await createTestDatabase('bench_cp_export');

  const start = async (
    sim: CpExportSimulator,
    label: string,
    nodeArgs: string[] = [],
    changeEvents = true,
  ): Promise<AppProcess> =>
    startAppProcess(
      'crm-sync',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        // Every topic crm-sync consumes starts at its end: ticks and webhook deliveries an earlier suite left on the
        // broker would otherwise run during the load.
        KAFKA_GROUP_ID: await groupStartingNow(`bench-cp-${randomBytes(4).toString('hex')}`, [
          Topic.CrmRequested,
          Topic.RobawsWebhookReceived,
        ]),
        DATABASE_URL: db.url,
        CP_EXPORT_URL: sim.exportUrl,
        CP_VISIT_URL: sim.visitUrl,
        CP_EXPORT_TOKEN: sim.token,
        CP_EXPORT_BATCH_LIMIT: String(batchLimit),
        CHANGE_EVENTS: changeEvents ? 'all' : 'none',
        LOG_LEVEL: 'warn',
      },
      label,
      [...(opts.nodeArgs ?? []), ...nodeArgs],
    );
  /** One initial load into emptied tables, in a fresh process: its time, its run's stats and the process's peak RSS. */
  const load = async (
    sim: CpExportSimulator,
    rowsPerTable: number,
    label: string,
    nodeArgs: string[] = [],
    changeEvents = true,
  ) => {
    await empty(db);
    const app = await start(sim, label, nodeArgs, changeEvents);
    try {
      const rest = rssOf(app.child.pid!).now;
      // One round more than the rows need: the last round of a table answers has_more false.
      const t = tick('crm', 'cp.export', { params: { loops: Math.ceil(rowsPerTable / batchLimit) + 1 } });
      const begun = process.hrtime.bigint();
      await probe.produce(Topic.CrmRequested, t.key, t.value);
      const end = await probe.waitForRunEnd(t.value.runId!, 30 * 60000);
      const took = seconds(begun);
      if (end.topic !== Topic.RunCompleted) throw new Error(`benchmark run ended ${end.topic}: ${end.value}`);
      const stats = (end.json as { payload?: { stats?: Record<string, number> } } | null)?.payload?.stats ?? {};
      const rows = CP_TABLES.length * rowsPerTable;
      if (stats.created !== rows || stats.failed !== 0 || stats.tablesWithMore !== 0)
        throw new Error(`the load stored ${stats.created} of ${rows} rows: ${JSON.stringify(stats)}`);
      const outboxAtEnd = await outboxMessages(db.dataSource);
      return { seconds: took, stats, rest, peak: rssOf(app.child.pid!).peak, outboxAtEnd };
    } finally {
      await app.stop();
    }
  };

  const loads: Array<Awaited<ReturnType<typeof load>>> = [];
  const loadsEventsOff: number[] = [];
  const tenthPeaks: number[] = [];
  let tableCeiling: number[];
  try {
    for (let rep = 0; rep < opts.reps; rep++) {
      // The change events' cost: the same load with them off, first in every other repetition (as scenario 1 does).
      const off = async () =>
        loadsEventsOff.push((await load(full, opts.rowsPerTable, 'bench-cp-export-events-off', [], false)).seconds);
      if (rep % 2 === 1) await off();
      loads.push(
        await load(
          full,
          opts.rowsPerTable,
          'bench-cp-export',
          opts.profileDir && rep === 0 ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [],
        ),
      );
      if (rep % 2 === 0) await off();
      tenthPeaks.push((await load(small, tenth, 'bench-cp-export-tenth')).peak);
    }
    tableCeiling = await rawUpserts(db, full, batchLimit, opts.reps);
  } finally {
    await probe.close();
    await full.stop();
    await small.stop();
    await db.drop();
  }
  const total = CP_TABLES.length * opts.rowsPerTable;
  return {
    rowsPerTable: opts.rowsPerTable,
    tables: CP_TABLES.length,
    batchLimit,
    loadRowsPerSec: figure(
      loadsEventsOff.map((s) => total / s),
      'rows/s',
    ),
    loadSeconds: figure(loadsEventsOff, 's'),
    loadEventsOnRowsPerSec: figure(
      loads.map((l) => total / l.seconds),
      'rows/s',
    ),
    loadOutboxAtEnd: Math.max(...loads.map((l) => l.outboxAtEnd)),
    loadStats: loads[loads.length - 1].stats,
    tableCeilingRowsPerSec: figure(tableCeiling, 'rows/s'),
    peakRssMb: figure(
      loads.map((l) => l.peak),
      'MB',
    ),
    tenthPeakRssMb: figure(tenthPeaks, 'MB'),
    restRssMb: figure(
      loads.map((l) => l.rest),
      'MB',
    ),
  };
}

/**
 * A source row as its destination's columns: the declared ones as served (MariaDB reads the contract's dates, amounts
 * and 0/1 flags as they are), the whole row as JSON, `updated_at` and the time of the sync.
 */
function destinationRow(spec: CpTableSpec, row: Record<string, unknown>, syncedAt: Date): unknown[] {
  return [
    row[spec.primaryKey],
    ...spec.columns.map((c) => row[c.name] ?? null),
    JSON.stringify(row),
    ...(spec.hasUpdatedAt ? [row.updated_at ?? null] : []),
    syncedAt,
  ];
}

/**
 * The seven destinations' ceiling: the simulator's rows, converted beforehand, by raw mysql2 upserts of `batch` rows
 * (one statement a table and round, autocommitted) into emptied tables. No HTTP, no bus, no unchanged-row check.
 */
async function rawUpserts(db: TestDatabase, sim: CpExportSimulator, batch: number, reps: number): Promise<number[]> {
  const syncedAt = new Date();
  const tables = CP_TABLE_SPECS.map((spec) => {
    const columns = [spec.primaryKey, ...writtenColumns(spec)];
    return {
      spec,
      sql: `INSERT INTO ${spec.destination} (${columns.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ${columns
        .slice(1)
        .map((c) => `${c} = VALUES(${c})`)
        .join(', ')}`,
      rows: sim.rows(spec.source as CpTable).map((row) => destinationRow(spec, row, syncedAt)),
    };
  });
  const total = tables.reduce((n, t) => n + t.rows.length, 0);
  const conn = await createConnection({ uri: db.url, timezone: 'Z' });
  const out: number[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      await empty(db);
      const start = process.hrtime.bigint();
      // Round by round, table by table, as the export writes them.
      const rounds = Math.max(...tables.map((t) => Math.ceil(t.rows.length / batch)));
      for (let round = 0; round < rounds; round++)
        for (const t of tables) {
          const rows = t.rows.slice(round * batch, (round + 1) * batch);
          if (rows.length > 0) await conn.query(t.sql, [rows]);
        }
      out.push(total / seconds(start));
    }
  } finally {
    await conn.end();
  }
  return out;
}

async function empty(db: TestDatabase): Promise<void> {
  // TRUNCATE rather than DELETE: no purge of 210,000 deleted rows running in the background of the next measure.
  for (const spec of CP_TABLE_SPECS) await db.dataSource.query(`TRUNCATE TABLE ${spec.destination}`);
  await db.dataSource.query('DELETE FROM sync_cursors');
}
