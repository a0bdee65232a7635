import { Topic } from '@sync-hub/contracts';
import { SplynxSimulator, generateCustomer } from '@sync-hub/simulators';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { mapSplynxCustomer, SPLYNX_CUSTOMER_COLUMNS, SplynxCustomer } from '../../apps/splynx-sync/src';
import { startAppProcess } from '../../test/support/app-process';
import { createTestDatabase } from '../../test/support/database';
import { TEST_KAFKA_BROKERS } from '../../test/support/env';
import { KafkaProbe } from '../../test/support/kafka';
import { tick } from '../../test/support/ticks';
import { figure, Figure, repeat, rssOf, seconds } from '../stats';

export interface ThroughputResult {
  customers: number;
  pageSize: number;
  pipelineRowsPerSec: Figure;
  pipelineSeconds: Figure;
  incrementalSeconds: Figure;
  ceilingRowsPerSec: Figure;
  naiveRows: number;
  naiveMsPerRow: Figure;
  naiveRowsPerSec: Figure;
  peakRssMb: number;
  restRssMb: number;
}

/** The rows the pipeline writes, mapped the same way, for the ceiling and the naive baseline. */
function mappedRows(count: number, seed: number, offset = 0) {
  const syncedAt = new Date();
  return Array.from({ length: count }, (_, i) => ({
    ...mapSplynxCustomer(generateCustomer(seed, offset + i + 1)),
    syncedAt,
    active: true,
  }));
}

/**
 * Scenarios 1, 2 and 5: the full Splynx sync through the pipeline (tick to completed, splynx-sync as its own process
 * on Kafka and MariaDB, the simulator over HTTP), a 1% incremental re-sync, the ceiling (the same rows by raw mysql2
 * multi-row INSERT … ON DUPLICATE KEY UPDATE in the same batch size) and the naive baseline of the seeds (TypeORM
 * save() one row at a time), and splynx-sync's peak resident memory.
 */
export async function splynxThroughput(opts: {
  customers: number;
  naiveRows: number;
  pageSize: number;
  reps: number;
  profileDir?: string;
}): Promise<ThroughputResult> {
  const seed = 5;
  const pipeline: number[] = [];
  const incremental: number[] = [];
  let peakRssMb = 0;
  let restRssMb = 0;
  for (let rep = 0; rep < opts.reps; rep++) {
    const db = await createTestDatabase('bench_pipeline');
    const simulator = new SplynxSimulator({ customers: opts.customers, seed });
    const url = await simulator.start();
    const app = await startAppProcess(
      'splynx-sync',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        DATABASE_URL: db.url,
        SPLYNX_URL: url,
        SPLYNX_API_KEY: simulator.apiKey,
        SPLYNX_API_SECRET: simulator.apiSecret,
        SPLYNX_PAGE_SIZE: String(opts.pageSize),
        LOG_LEVEL: 'warn',
      },
      'bench-splynx-sync',
      opts.profileDir && rep === 0 ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [],
    );
    const probe = new KafkaProbe();
    await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
    restRssMb = rssOf(app.child.pid!).now;
    const run = async () => {
      const t = tick('splynx', 'customers');
      const start = process.hrtime.bigint();
      await probe.produce(Topic.SplynxRequested, t.key, t.value);
      const end = await probe.waitForRunEnd(t.value.runId!, 30 * 60000);
      if (end.topic !== Topic.RunCompleted) throw new Error(`benchmark run ended ${end.topic}: ${end.value}`);
      return seconds(start);
    };
    try {
      pipeline.push(await run());
      peakRssMb = Math.max(peakRssMb, rssOf(app.child.pid!).peak);
      simulator.mutate({ change: Math.round(opts.customers / 100) });
      incremental.push(await run());
    } finally {
      await app.stop();
      await probe.close();
      await simulator.stop();
      await db.drop();
    }
  }

  const ceiling = await repeat(opts.reps, async () => {
    const db = await createTestDatabase('bench_ceiling');
    const conn = await createConnection(db.url);
    try {
      const rows = mappedRows(opts.customers, seed);
      const cols = ['splynx_id', ...SPLYNX_CUSTOMER_COLUMNS];
      const update = cols
        .slice(1)
        .map((c) => `${c} = VALUES(${c})`)
        .join(', ');
      const start = process.hrtime.bigint();
      for (let i = 0; i < rows.length; i += opts.pageSize) {
        const batch = rows.slice(i, i + opts.pageSize);
        const values = batch.map((r) => [
          r.splynxId,
          r.login,
          r.name,
          r.email,
          r.phone,
          r.status,
          r.category,
          r.billingType,
          r.partnerId,
          r.locationId,
          r.dateAdd,
          r.lastUpdate,
          JSON.stringify(r.raw),
          r.contentHash,
          r.syncedAt,
          1,
        ]);
        await conn.query(
          `INSERT INTO splynx_customers (${cols.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ${update}`,
          [values],
        );
      }
      return rows.length / seconds(start);
    } finally {
      await conn.end();
      await db.drop();
    }
  });

  const naive = await repeat(opts.reps, async () => {
    const db = await createTestDatabase('bench_naive');
    const ds = new DataSource({
      type: 'mysql',
      url: db.url,
      timezone: 'Z',
      entities: [SplynxCustomer],
      synchronize: false,
    });
    await ds.initialize();
    try {
      const repo = ds.getRepository(SplynxCustomer);
      const rows = mappedRows(opts.naiveRows, seed);
      const start = process.hrtime.bigint();
      for (const row of rows) await repo.save(repo.create(row)); // the seeds' loop: one record at a time
      const s = seconds(start);
      return { msPerRow: (s * 1000) / rows.length, rowsPerSec: rows.length / s };
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });

  return {
    customers: opts.customers,
    pageSize: opts.pageSize,
    pipelineSeconds: figure(pipeline, 's'),
    pipelineRowsPerSec: figure(
      pipeline.map((s) => opts.customers / s),
      'rows/s',
    ),
    incrementalSeconds: figure(incremental, 's'),
    ceilingRowsPerSec: figure(ceiling, 'rows/s'),
    naiveRows: opts.naiveRows,
    naiveMsPerRow: figure(
      naive.map((n) => n.msPerRow),
      'ms/row',
    ),
    naiveRowsPerSec: figure(
      naive.map((n) => n.rowsPerSec),
      'rows/s',
    ),
    peakRssMb,
    restRssMb,
  };
}
