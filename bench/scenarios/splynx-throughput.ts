import { Topic } from '@sync-hub/contracts';
import { SplynxSimulator, generateCustomer } from '@sync-hub/simulators';
import { Kafka, logLevel } from 'kafkajs';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { mapSplynxCustomer, SPLYNX_CUSTOMER_COLUMNS, SplynxCustomer } from '../../apps/splynx-sync/src';
import { startAppProcess } from '../../test/support/app-process';
import { createTestDatabase } from '../../test/support/database';
import { TEST_KAFKA_BROKERS } from '../../test/support/env';
import { freshGroup, KafkaProbe } from '../../test/support/kafka';
import { tick } from '../../test/support/ticks';
import { eventually } from '../../test/support/wait';
import { figure, Figure, outboxMessages, repeat, rssOf, seconds } from '../stats';

export interface ThroughputResult {
  customers: number;
  pageSize: number;
  pipelineRowsPerSec: Figure;
  pipelineSeconds: Figure;
  /**
   * The same full sync with the record-level change events off (CHANGE_EVENTS=none), the other half of each
   * repetition (which goes first alternates): the events' cost is the product default's rows/s against this.
   */
  eventsOffRowsPerSec: Figure;
  /** The change events the events-on full syncs published (one per customer: all are created). */
  changeEvents: number;
  /** The events-on full sync to its last change event read back: its throughput with the events delivered. */
  eventsDeliveredRowsPerSec: Figure;
  /** Change events still in the outbox when the events-on runs reported (medians). */
  outboxAtEnd: number;
  incrementalSeconds: Figure;
  ceilingRowsPerSec: Figure;
  /** The same upserts over two connections at once, each taking the next batch (MariaDB takes concurrent batches). */
  ceiling2RowsPerSec: Figure;
  /**
   * The same upserts as prepared statements (MySQL's binary protocol; each prepared, executed and closed, as
   * `bulkUpsert` writes them), over one connection and over two at once.
   */
  ceilingPreparedRowsPerSec: Figure;
  ceilingPrepared2RowsPerSec: Figure;
  naiveRows: number;
  naiveMsPerRow: Figure;
  naiveRowsPerSec: Figure;
  peakRssMb: Figure;
  restRssMb: number;
  /** The full sync ten times larger (full mode only): its time and splynx-sync's peak resident memory. */
  large: { customers: number; seconds: number; rowsPerSec: number; peakRssMb: number } | null;
}

/** The rows the pipeline writes, mapped the same way, for the ceiling and the naive baseline. */
function mappedRows(count: number, seed: number, offset = 0) {
  const syncedAt = new Date();
  const syncGeneration = syncedAt.getTime();
  return Array.from({ length: count }, (_, i) => ({
    ...mapSplynxCustomer(generateCustomer(seed, offset + i + 1)),
    syncedAt,
    active: true,
    syncGeneration,
  }));
}

/**
 * The ceiling: the rows by raw mysql2 multi-row INSERT … ON DUPLICATE KEY UPDATE in batches of the page size, over
 * `writers` connections at once (each takes the next batch); rows per second. As text (`query`, mysql2 escaping the
 * values into the statement), or `prepared` (`execute`: the values as typed binary fields, the statement closed after
 * each batch).
 */
async function rawUpserts(
  customers: number,
  seed: number,
  pageSize: number,
  writers: number,
  prepared = false,
): Promise<number> {
  const db = await createTestDatabase('bench_ceiling');
  const conns = await Promise.all(Array.from({ length: writers }, () => createConnection(db.url)));
  try {
    const rows = mappedRows(customers, seed);
    const cols = ['splynx_id', ...SPLYNX_CUSTOMER_COLUMNS];
    const update = cols
      .slice(1)
      .map((c) => `${c} = VALUES(${c})`)
      .join(', ');
    const sql = `INSERT INTO splynx_customers (${cols.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ${update}`;
    const tuple = `(${cols.map(() => '?').join(', ')})`;
    const preparedSql = (n: number) =>
      `INSERT INTO splynx_customers (${cols.join(', ')}) VALUES ${Array(n).fill(tuple).join(', ')} ON DUPLICATE KEY UPDATE ${update}`;
    let next = 0;
    const writer = async (conn: (typeof conns)[number]) => {
      for (let i = next; i < rows.length; i = next) {
        next += pageSize;
        const values = rows
          .slice(i, i + pageSize)
          .map((r) => [
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
            r.rawText,
            r.contentHash,
            r.syncedAt,
            1,
            r.syncGeneration,
          ]);
        if (prepared) {
          const statement = preparedSql(values.length);
          await conn.execute(statement, values.flat());
          conn.unprepare(statement);
        } else await conn.query(sql, [values]);
      }
    };
    const start = process.hrtime.bigint();
    await Promise.all(conns.map(writer));
    return rows.length / seconds(start);
  } finally {
    await Promise.all(conns.map((c) => c.end()));
    await db.drop();
  }
}

/**
 * One splynx-sync process on a fresh database and simulator: a full sync (`customers.full`, tick to completed), then
 * with `incremental` 1% of the customers changed upstream and the hourly `customers` run; splynx-sync's peak RSS
 * (VmHWM) after the full sync.
 */
async function pipelineRun(
  customers: number,
  pageSize: number,
  seed: number,
  opts: { incremental: boolean; profileDir?: string; changeEvents?: boolean },
): Promise<{
  fullSeconds: number;
  incrementalSeconds?: number;
  peakRssMb: number;
  restRssMb: number;
  changeEvents: number;
  /** From the tick to the last change event read back (the full sync's time when they are off). */
  eventsSeconds: number;
  /** Change events still in the outbox when the run reported (it waits for them up to a bound). */
  outboxAtEnd: number;
}> {
  const db = await createTestDatabase('bench_pipeline');
  const simulator = new SplynxSimulator({ customers, seed });
  const url = await simulator.start();
  const app = await startAppProcess(
    'splynx-sync',
    {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      // A group from the end of the topic: on the default group a new splynx-sync would first run every tick left on
      // the broker (the scheduler scenario leaves tens of thousands), and one left running holds the job's lease.
      KAFKA_GROUP_ID: await freshGroup('bench-splynx-sync', [Topic.SplynxRequested]),
      DATABASE_URL: db.url,
      SPLYNX_URL: url,
      SPLYNX_API_KEY: simulator.apiKey,
      SPLYNX_API_SECRET: simulator.apiSecret,
      SPLYNX_PAGE_SIZE: String(pageSize),
      CHANGE_EVENTS: opts.changeEvents === false ? 'none' : 'all',
      LOG_LEVEL: 'warn',
    },
    'bench-splynx-sync',
    opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [],
  );
  const probe = new KafkaProbe();
  await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
  // The run's change events, counted from its end on (they are sent before the run reports).
  const events = { count: 0 };
  const changes = await countChangeEvents(events);
  const restRssMb = rssOf(app.child.pid!).now;
  let start = process.hrtime.bigint();
  const run = async (job: 'customers' | 'customers.full') => {
    const t = tick('splynx', job);
    start = process.hrtime.bigint();
    await probe.produce(Topic.SplynxRequested, t.key, t.value);
    const end = await probe.waitForRunEnd(t.value.runId!, 30 * 60000);
    if (end.topic !== Topic.RunCompleted) throw new Error(`benchmark run ended ${end.topic}: ${end.value}`);
    return seconds(start);
  };
  try {
    const fullSeconds = await run('customers.full');
    const peakRssMb = rssOf(app.child.pid!).peak;
    // The run waits for its events up to a bound, then reports; those still in the outbox go out after. The sync's
    // throughput with its events is to the last event read back.
    const outboxAtEnd = await outboxMessages(db.dataSource);
    let eventsSeconds = fullSeconds;
    if (opts.changeEvents !== false) {
      await eventually(() => (events.count >= customers ? true : undefined), 'the change events', 300000, 50);
      eventsSeconds = seconds(start);
    }
    const changeEvents = events.count;
    const common = { fullSeconds, peakRssMb, restRssMb, changeEvents, eventsSeconds, outboxAtEnd };
    if (!opts.incremental) return common;
    simulator.mutate({ change: Math.round(customers / 100) });
    return { ...common, incrementalSeconds: await run('customers') };
  } finally {
    await app.stop();
    await changes.disconnect();
    await probe.close();
    await simulator.stop();
    await db.drop();
  }
}

/**
 * A consumer of `splynx.customer.changed.v1` from its end, counting what arrives (not keeping it: a full run at
 * 1,000,000 customers publishes as many).
 */
async function countChangeEvents(into: { count: number }): Promise<{ disconnect(): Promise<void> }> {
  const kafka = new Kafka({
    clientId: 'bench-change-events',
    brokers: TEST_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: await freshGroup('bench-change-events', [Topic.SplynxCustomerChanged]) });
  await consumer.connect();
  await consumer.subscribe({ topic: Topic.SplynxCustomerChanged, fromBeginning: false });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      into.count += batch.messages.length;
    },
  });
  return consumer;
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
  /** Full mode: one more full sync of this many customers, for splynx-sync's peak memory against the size's. */
  largeCustomers?: number;
}): Promise<ThroughputResult> {
  const seed = 5;
  const pipeline: number[] = [];
  const eventsOff: number[] = [];
  const delivered: number[] = [];
  const outboxAtEnd: number[] = [];
  let changeEvents = 0;
  const incremental: number[] = [];
  const peaks: number[] = [];
  let restRssMb = 0;
  for (let rep = 0; rep < opts.reps; rep++) {
    // The change events' cost (issue 16): the same full sync with them off, first in every other repetition.
    const off = () => pipelineRun(opts.customers, opts.pageSize, seed, { incremental: false, changeEvents: false });
    if (rep % 2 === 1) eventsOff.push((await off()).fullSeconds);
    const one = await pipelineRun(opts.customers, opts.pageSize, seed, {
      incremental: true,
      profileDir: rep === 0 ? opts.profileDir : undefined,
    });
    if (rep % 2 === 0) eventsOff.push((await off()).fullSeconds);
    changeEvents = one.changeEvents;
    delivered.push(one.eventsSeconds);
    outboxAtEnd.push(one.outboxAtEnd);
    pipeline.push(one.fullSeconds);
    incremental.push(one.incrementalSeconds!);
    peaks.push(one.peakRssMb);
    restRssMb = one.restRssMb;
  }
  // Memory flat in the number of records: one full sync ten times larger (full mode only), its peak beside the above.
  const large = opts.largeCustomers
    ? await pipelineRun(opts.largeCustomers, opts.pageSize, seed, { incremental: false })
    : null;

  const ceiling = await repeat(opts.reps, () => rawUpserts(opts.customers, seed, opts.pageSize, 1));
  const ceiling2 = await repeat(opts.reps, () => rawUpserts(opts.customers, seed, opts.pageSize, 2));
  const ceilingPrepared = await repeat(opts.reps, () => rawUpserts(opts.customers, seed, opts.pageSize, 1, true));
  const ceilingPrepared2 = await repeat(opts.reps, () => rawUpserts(opts.customers, seed, opts.pageSize, 2, true));

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
    eventsOffRowsPerSec: figure(
      eventsOff.map((s) => opts.customers / s),
      'rows/s',
    ),
    changeEvents,
    eventsDeliveredRowsPerSec: figure(
      delivered.map((s) => opts.customers / s),
      'rows/s',
    ),
    outboxAtEnd: figure(outboxAtEnd, 'messages').median,
    incrementalSeconds: figure(incremental, 's'),
    ceilingRowsPerSec: figure(ceiling, 'rows/s'),
    ceiling2RowsPerSec: figure(ceiling2, 'rows/s'),
    ceilingPreparedRowsPerSec: figure(ceilingPrepared, 'rows/s'),
    ceilingPrepared2RowsPerSec: figure(ceilingPrepared2, 'rows/s'),
    naiveRows: opts.naiveRows,
    naiveMsPerRow: figure(
      naive.map((n) => n.msPerRow),
      'ms/row',
    ),
    naiveRowsPerSec: figure(
      naive.map((n) => n.rowsPerSec),
      'rows/s',
    ),
    peakRssMb: figure(peaks, 'MB'),
    restRssMb,
    large: large && {
      customers: opts.largeCustomers!,
      seconds: large.fullSeconds,
      rowsPerSec: opts.largeCustomers! / large.fullSeconds,
      peakRssMb: large.peakRssMb,
    },
  };
}
