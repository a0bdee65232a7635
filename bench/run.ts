import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { TEST_MYSQL_URL } from '../test/support/env';
import { accountingThroughput, DEVPOS_LIST_MS_PER_DAY } from './scenarios/accounting-throughput';
import { busOverhead } from './scenarios/bus-overhead';
import { cpExportThroughput } from './scenarios/cp-export-throughput';
import { robawsThroughput } from './scenarios/robaws-throughput';
import { schedulerDue } from './scenarios/scheduler-due';
import { splynxThroughput } from './scenarios/splynx-throughput';
import { usageFanout } from './scenarios/usage-fanout';
import { Figure } from './stats';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * `npm run bench [-- --quick]`: every scenario on the real components, each figure the median of 3 repetitions (1 with
 * --quick) with min and max, every comparison a ratio of figures measured in this run. Prints one table and writes
 * bench/results/latest.json (latest-quick.json with --quick, a tenth of the size).
 */
async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  // --quick is CI's smoke check of the harness (its figures are not judged): one repetition is enough for that.
  const reps = quick ? 1 : 3;
  const size = quick
    ? {
        customers: 10000,
        naiveRows: 1000,
        ticks: 100,
        schedules: 10000,
        due: 1000,
        documents: 500,
        robawsClients: 2000,
        robawsEdits: 100,
        cpRowsPerTable: 3000,
        usageConfigs: 1000,
      }
    : {
        customers: 100000,
        naiveRows: 10000,
        ticks: 1000,
        schedules: 100000,
        due: 10000,
        documents: 5000,
        robawsClients: 20000,
        robawsEdits: 1000,
        cpRowsPerTable: 30000,
        usageConfigs: 10000,
      };
  const started = Date.now();
  const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

  log(`scenarios 1, 2, 5: Splynx sync of ${size.customers} customers (pipeline, ceiling, naive ${size.naiveRows})`);
  const throughput = await splynxThroughput({
    customers: size.customers,
    naiveRows: size.naiveRows,
    pageSize: 500,
    reps,
    profileDir: process.env.BENCH_PROFILE,
  });
  log(`scenario 3: ${size.ticks} ping ticks through Kafka`);
  const bus = await busOverhead({ ticks: size.ticks, reps });
  log(`scenario 4: ${size.schedules} schedules, ${size.due} due`);
  const scheduler = await schedulerDue({
    schedules: size.schedules,
    due: size.due,
    reps,
    profileDir: process.env.BENCH_PROFILE,
  });
  log(`scenarios 6, 7: ${size.documents} DevPos documents into QuickBooks (limits ×10), then the unchanged re-run`);
  const accounting = await accountingThroughput({
    documents: size.documents,
    reps,
    profileDir: process.env.BENCH_PROFILE,
  });
  log(
    `scenarios 8, 9: Robaws full pull of ${size.robawsClients} clients (unpaced), push of ${size.robawsEdits} edits at 15/s`,
  );
  const robaws = await robawsThroughput({
    clients: size.robawsClients,
    edits: size.robawsEdits,
    reps,
    profileDir: process.env.BENCH_PROFILE,
  });
  log(`scenario 10: loyalty-club export, initial load of 7 × ${size.cpRowsPerTable} rows (and of a tenth, for memory)`);
  const cp = await cpExportThroughput({
    rowsPerTable: size.cpRowsPerTable,
    reps,
    profileDir: process.env.BENCH_PROFILE,
  });
  log(`scenario 11: reseller usage of ${size.usageConfigs} configs over 8 panels at 50 ms a call (and a tenth)`);
  const usage = await usageFanout({ configs: size.usageConfigs, reps });

  const ratios = {
    pipelineToCeiling: throughput.pipelineRowsPerSec.median / throughput.ceilingRowsPerSec.median,
    pipelineToNaive: throughput.pipelineRowsPerSec.median / throughput.naiveRowsPerSec.median,
    incrementalToFull: throughput.incrementalSeconds.median / throughput.pipelineSeconds.median,
    pingP50ToRawP50: bus.pingP50Ms.median / bus.rawP50Ms.median,
    accountingCreateToCeiling: accounting.createDocsPerSec.median / accounting.ceilingDocsPerSec,
    accountingRerunToDevposRead: accounting.rerunMs.median / accounting.devposReadMs.median,
    robawsPullToCeiling: robaws.pullRowsPerSec.median / throughput.ceilingRowsPerSec.median,
    robawsPullToTableCeiling: robaws.pullRowsPerSec.median / robaws.tableCeilingRowsPerSec.median,
    robawsPushToFloor: robaws.pushSeconds.median / robaws.pushFloorSeconds,
    cpLoadToCeiling: cp.loadRowsPerSec.median / throughput.ceilingRowsPerSec.median,
    cpLoadToTableCeiling: cp.loadRowsPerSec.median / cp.tableCeilingRowsPerSec.median,
    cpPeakRssToTenth: cp.peakRssMb.median / cp.tenthPeakRssMb.median,
    usageSpeedup: usage.speedup.median,
    usagePeakRssToTenth: usage.peakRssMb.median / usage.tenthPeakRssMb.median,
  };

  const conn = await createConnection(TEST_MYSQL_URL);
  const [[{ version }]] = (await conn.query('SELECT VERSION() AS version')) as unknown as [[{ version: string }]];
  await conn.end();
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const kafkaVersion =
    process.env.KAFKA_VERSION ??
    /<kafka.version>([^<]+)</.exec(fs.readFileSync(path.join(ROOT, 'scripts', 'kafka', 'pom.xml'), 'utf8'))?.[1];
  const result = {
    mode: quick ? 'quick' : 'full',
    measuredAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: {
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
    },
    versions: {
      kafka: kafkaVersion,
      mariadb: version,
      kafkajs: pkg.dependencies.kafkajs,
      typeorm: pkg.dependencies.typeorm,
      mysql2: pkg.dependencies.mysql2,
      nestjs: pkg.dependencies['@nestjs/core'],
      typescript: pkg.devDependencies.typescript,
    },
    sizes: size,
    repetitions: reps,
    scenarios: { throughput, bus, scheduler, accounting, robaws, cp, usage },
    ratios,
  };
  const out = path.join(ROOT, 'bench', 'results', quick ? 'latest-quick.json' : 'latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(
    table(result, throughput, bus, scheduler, accounting, robaws, cp, usage, ratios) +
      `\nwritten to ${path.relative(ROOT, out)}\n`,
  );
}

function table(
  r: { machine: Record<string, unknown>; mode: string; repetitions: number },
  t: Awaited<ReturnType<typeof splynxThroughput>>,
  b: Awaited<ReturnType<typeof busOverhead>>,
  s: Awaited<ReturnType<typeof schedulerDue>>,
  a: Awaited<ReturnType<typeof accountingThroughput>>,
  rb: Awaited<ReturnType<typeof robawsThroughput>>,
  cp: Awaited<ReturnType<typeof cpExportThroughput>>,
  u: Awaited<ReturnType<typeof usageFanout>>,
  ratios: Record<string, number>,
): string {
  const n = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const row = (name: string, f: Figure) => [name, n(f.median), n(f.min), n(f.max), f.unit];
  const rows: string[][] = [
    row(
      `1a pipeline: full sync of ${t.customers.toLocaleString('en-US')} customers, tick to completed`,
      t.pipelineRowsPerSec,
    ),
    row('1a pipeline: the same, time', t.pipelineSeconds),
    row(`1b ceiling: raw mysql2 multi-row upsert, batches of ${t.pageSize}`, t.ceilingRowsPerSec),
    row(`1c naive: TypeORM save() one row at a time (${t.naiveRows.toLocaleString('en-US')} rows)`, t.naiveMsPerRow),
    row('1c naive: the same, throughput', t.naiveRowsPerSec),
    ['   a/b (pipeline / ceiling)', n(ratios.pipelineToCeiling), '', '', 'ratio'],
    ['   a/c (pipeline / naive)', n(ratios.pipelineToNaive), '', '', 'ratio'],
    row('2  incremental re-sync, 1% changed', t.incrementalSeconds),
    ['   incremental / full', n(ratios.incrementalToFull), '', '', 'ratio'],
    row(`3  ping tick to completed over Kafka, p50 (${b.ticks} ticks)`, b.pingP50Ms),
    row('3  ping p95', b.pingP95Ms),
    row('3  ping p99', b.pingP99Ms),
    row('3  raw kafkajs produce-to-consume, p50', b.rawP50Ms),
    row('3  raw p95', b.rawP95Ms),
    row('3  raw p99', b.rawP99Ms),
    ['   ping p50 / raw p50', n(ratios.pingP50ToRawP50), '', '', 'ratio'],
    row(
      `4  scheduler: select and publish ${s.due.toLocaleString('en-US')} due of ${s.schedules.toLocaleString('en-US')}`,
      s.stepSeconds,
    ),
    row('4  the same, throughput', s.ticksPerSec),
    ['5  splynx-sync peak RSS during scenario 1', n(t.peakRssMb), '', '', `MB (at rest ${n(t.restRssMb)})`],
    row(
      `6  accounting: full run of ${a.documents.toLocaleString('en-US')} DevPos documents into QuickBooks (limits ×${a.limitsScale}), created`,
      a.createDocsPerSec,
    ),
    row(
      `6  the same, time (${a.stats.created.toLocaleString('en-US')} created, ${a.stats.skipped} skipped; ${a.createCalls.quickbooks.throttled} 429s)`,
      a.createSeconds,
    ),
    [
      `6  ceiling: ${a.limits.batchesPerMinute} batch requests/min × 30 documents`,
      n(a.ceilingDocsPerSec),
      '',
      '',
      'documents/s',
    ],
    ['   created / ceiling (goal ≥ 0.9)', n(ratios.accountingCreateToCeiling), '', '', 'ratio'],
    [
      `6  beside it: ${a.limits.requestsPerMinute.toLocaleString('en-US')} requests/min at ${a.requestsPerDocument.toFixed(2)} requests per document`,
      n(a.requestCeilingDocsPerSec),
      '',
      '',
      'documents/s',
    ],
    row(`7  re-run of the same range, all unchanged (DevPos ${DEVPOS_LIST_MS_PER_DAY} ms/day of a list)`, a.rerunMs),
    row(`7  DevPos alone: the re-run's ${a.rerunCalls.devposListCalls} list calls, DevposClient`, a.devposReadMs),
    ['   re-run / DevPos alone (goal ≤ 1.2)', n(ratios.accountingRerunToDevposRead), '', '', 'ratio'],
    row(
      `8  Robaws: full pull of ${rb.clients.toLocaleString('en-US')} clients, rate limit off, pages of 100`,
      rb.pullRowsPerSec,
    ),
    row('8  the same, time', rb.pullSeconds),
    ['   pull / 1b ceiling (goal ≥ 0.8)', n(ratios.robawsPullToCeiling), '', '', 'ratio'],
    row("8  beside it: robaws_customers' own ceiling, raw mysql2 upserts of 500", rb.tableCeilingRowsPerSec),
    ['   pull / its table ceiling', n(ratios.robawsPullToTableCeiling), '', '', 'ratio'],
    row(
      `9  Robaws: push of ${rb.edits.toLocaleString('en-US')} edits at 15/s (${rb.pushRequestsPerEdit.toFixed(3)} requests/edit, ${rb.pushRateLimited} 429s)`,
      rb.pushSeconds,
    ),
    [`9  floor: ${rb.edits.toLocaleString('en-US')} / 15 per second`, n(rb.pushFloorSeconds), '', '', 's'],
    ['   push / floor', n(ratios.robawsPushToFloor), '', '', 'ratio'],
    row(
      `10 loyalty-club export: initial load of ${cp.tables} × ${cp.rowsPerTable.toLocaleString('en-US')} rows, limit ${cp.batchLimit.toLocaleString('en-US')}`,
      cp.loadRowsPerSec,
    ),
    row(`10 the same, time (${cp.loadStats.rounds} rounds)`, cp.loadSeconds),
    ['   load / 1b ceiling (goal ≥ 0.8)', n(ratios.cpLoadToCeiling), '', '', 'ratio'],
    row(
      `10 beside it: the seven tables' own ceiling, raw mysql2 upserts of ${cp.batchLimit.toLocaleString('en-US')}`,
      cp.tableCeilingRowsPerSec,
    ),
    ["   load / its tables' ceiling", n(ratios.cpLoadToTableCeiling), '', '', 'ratio'],
    row(
      `10 crm-sync peak RSS, ${cp.tables} × ${cp.rowsPerTable.toLocaleString('en-US')} rows (at rest ${n(cp.restRssMb.median)})`,
      cp.peakRssMb,
    ),
    row(
      `10 crm-sync peak RSS, a tenth (${cp.tables} × ${Math.round(cp.rowsPerTable / 10).toLocaleString('en-US')} rows)`,
      cp.tenthPeakRssMb,
    ),
    ['   peak / peak at a tenth (goal ≈ 1, under 250 MB)', n(ratios.cpPeakRssToTenth), '', '', 'ratio'],
    row(
      `11 reseller usage: ${u.configs.toLocaleString('en-US')} configs over ${u.panels} panels, ${u.latencyMs} ms a call, tick to completed`,
      u.runSeconds,
    ),
    [`11 serial: ${u.configs.toLocaleString('en-US')} × ${u.latencyMs} ms`, n(u.serialSeconds), '', '', 's'],
    row('   serial / run (goal ≥ 20)', u.speedup),
    [
      `11 most requests in flight at one panel (its concurrency: ${u.panelConcurrency})`,
      String(u.maxPanelInFlight),
      '',
      '',
      'requests',
    ],
    row(
      `11 usage-sync peak RSS, ${u.configs.toLocaleString('en-US')} configs (at rest ${n(u.restRssMb.median)})`,
      u.peakRssMb,
    ),
    row(
      `11 usage-sync peak RSS, a tenth (${Math.round(u.configs / 10).toLocaleString('en-US')} configs)`,
      u.tenthPeakRssMb,
    ),
    ['   peak / peak at a tenth (goal ≈ 1, under 250 MB)', n(ratios.usagePeakRssToTenth), '', '', 'ratio'],
  ];
  const header = ['scenario', 'median', 'min', 'max', 'unit'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `Sync hub benchmark (${r.mode}; ${String(r.machine.cores)} cores, ${String(r.machine.cpu)}, node ${String(r.machine.node)}); medians of ${r.repetitions}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
