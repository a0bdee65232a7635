import { readFileSync } from 'node:fs';
import { Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { startAppProcess } from '../test/support/app-process';
import { createTestDatabase } from '../test/support/database';
import { TEST_KAFKA_BROKERS } from '../test/support/env';
import { KafkaProbe } from '../test/support/kafka';
import { tick } from '../test/support/ticks';

/** Peak and current resident memory of a process, from /proc (Linux). */
function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/**
 * A full Splynx sync of N simulator customers in the distributed mode: splynx-sync as its own process on Kafka and
 * MariaDB, the simulator over HTTP. Prints tick-to-completed time, rows per second and the sync process's peak RSS,
 * then a 1% incremental re-sync. Usage: node dist/bench/splynx-full-sync.js [customers] [pageSize]
 */
async function main(): Promise<void> {
  const customers = Number(process.argv[2] ?? 100000);
  const pageSize = Number(process.argv[3] ?? 500);
  const db = await createTestDatabase('bench_splynx');
  const simulator = new SplynxSimulator({ customers, seed: 5 });
  const url = await simulator.start();
  const app = await startAppProcess(
    'splynx-sync',
    { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url, SPLYNX_URL: url, SPLYNX_API_KEY: simulator.apiKey, SPLYNX_API_SECRET: simulator.apiSecret, SPLYNX_PAGE_SIZE: String(pageSize), LOG_LEVEL: 'warn' },
    'bench-splynx-sync',
  );
  const probe = new KafkaProbe();
  await probe.watch([Topic.RunCompleted, Topic.RunFailed]);
  const baseline = memoryOf(app.child.pid!);
  let peakRss = baseline.rssMb;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, memoryOf(app.child.pid!).rssMb)), 100);

  const run = async (label: string) => {
    const t = tick('splynx', 'customers');
    const started = process.hrtime.bigint();
    await probe.produce(Topic.SplynxRequested, t.key, t.value);
    const end = await probe.waitForRunEnd(t.value.runId!, 30 * 60000);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (end.topic !== Topic.RunCompleted) throw new Error(`${label} failed: ${end.value}`);
    const stats = end.json.payload.stats;
    console.log(
      `${label}: ${seconds.toFixed(2)} s tick-to-completed (${(end.json.payload.durationMs / 1000).toFixed(2)} s in the run), ` +
        `${Math.round(stats.fetched / seconds)} rows/s, stats ${JSON.stringify(stats)}`,
    );
    return seconds;
  };

  try {
    console.log(`splynx-sync: ${customers} customers, page size ${pageSize}; RSS at rest ${baseline.rssMb.toFixed(0)} MB`);
    const full = await run('full sync');
    const mem = memoryOf(app.child.pid!);
    console.log(`splynx-sync memory: peak RSS ${Math.max(mem.peakMb, peakRss).toFixed(0)} MB (VmHWM ${mem.peakMb.toFixed(0)} MB), after run ${mem.rssMb.toFixed(0)} MB`);
    simulator.mutate({ change: Math.round(customers / 100) });
    const incremental = await run('1% changed re-sync');
    console.log(`incremental / full time: ${(incremental / full).toFixed(2)}`);
  } finally {
    clearInterval(sampler);
    await app.stop();
    await probe.close();
    await simulator.stop();
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
