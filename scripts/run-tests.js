// Runs the compiled tests with node's test runner: `unit` (*.spec.js beside the code), `e2e` (test/**/*.e2e-spec.js),
// `all` (both), or `faults` (test/**/*.faults-spec.js).
//   node scripts/run-tests.js <kind> [substring]
// One process per e2e or fault file; the unit files in a few groups, one process each (see UNIT_GROUPS). The files run
// in lanes, in parallel: each lane has a broker of its own (the e2e suites and the fault suite share topics, and an app
// one suite started would consume another's ticks) and runs one file at a time;
// every suite creates and drops a database of its own, so the lanes share the MariaDB server. The lanes' brokers come
// from TEST_KAFKA_BROKERS, one address per lane, comma-separated (scripts/test.sh and test-faults.sh start them);
// with one address, one lane. TEST_LANES=N gives N lanes without brokers (unit tests only). A lane takes the next file
// from one queue, the largest files first, so the lanes end together (a file marked to run alone goes first, alone).
// A file's output is printed whole when it ends, so lanes never interleave lines; the totals come last.
// TEST_FILE_TIMEOUT_S (default 600; the longest file takes about 3 minutes): a file still running then is killed with
// its process group (the apps it spawned) and counted as failed, so a hung suite fails the run instead of holding CI
// until its limit. Not `--test-force-exit`: on Node 24.21 it sometimes ended a file before its last suites ran, and
// reported what had run as a pass (19 of a file's 23 tests, in one run of six).
// They run on Node 24 (scripts/test-node.js) whichever Node runs this script; the e2e suites spawn the apps with
// their own `process.execPath`, so the apps run on it too.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { stripVTControlCharacters } = require('node:util');
const { testNode } = require('./test-node.js');

const dist = path.resolve(__dirname, '..', 'dist');
// V8's module compile cache (Node 22.1+), shared by every test file's process and by the processes the tests start
// (test/support/env.ts `childEnv` passes it on): without it, each of the suites' hundreds of process starts compiles
// the same modules again. Entries are checked against each module's source, so a rebuilt file is compiled afresh.
// Set NODE_DISABLE_COMPILE_CACHE=1 to run without it. An entry is keyed by its file's path and replaced when the file
// changes, so the directory does not grow with rebuilds, and the fault suite after npm test finds it filled.
process.env.NODE_COMPILE_CACHE ??= path.resolve(__dirname, '..', '.cache', 'node-compile-cache');
const kind = process.argv[2] ?? 'all';

function find(dir, suffix, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) find(full, suffix, out);
    else if (entry.name.endsWith(suffix)) out.push(full);
  }
  return out;
}

const unit = [...find(path.join(dist, 'apps'), '.spec.js'), ...find(path.join(dist, 'libs'), '.spec.js')].filter(
  (f) => !f.endsWith('.e2e-spec.js'),
);
const e2e = fs.existsSync(path.join(dist, 'test')) ? find(path.join(dist, 'test'), '.e2e-spec.js') : [];
// The test tooling's own specs (test/**/*.spec.ts, e.g. the k8s manifest checker) are unit tests too.
if (fs.existsSync(path.join(dist, 'test')))
  unit.push(...find(path.join(dist, 'test'), '.spec.js').filter((f) => !f.endsWith('.e2e-spec.js')));
// The fault-injection suite (`npm run test:faults`): it stops and restarts its lane's broker, so it never runs with `all`.
const faults = fs.existsSync(path.join(dist, 'test')) ? find(path.join(dist, 'test'), '.faults-spec.js') : [];
const files = kind === 'unit' ? unit : kind === 'e2e' ? e2e : kind === 'faults' ? faults : [...unit, ...e2e];
if (files.length === 0) {
  console.error(`no ${kind} test files under dist/ (did the build run?)`);
  process.exit(1);
}
const filter = process.argv[3];
const selected = filter ? files.filter((f) => f.includes(filter)) : files;
// With no file, `node --test` would run every test it finds: a mistyped filter must not start the whole suite.
if (selected.length === 0) {
  console.error(`run-tests: no ${kind} test file matches "${filter}"`);
  process.exit(1);
}
let node;
try {
  node = testNode();
} catch (error) {
  console.error(`run-tests: ${error.message}`);
  process.exit(1);
}

const brokers = (process.env.TEST_KAFKA_BROKERS ?? '')
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);
const needsBroker = kind !== 'unit';
const laneCount = needsBroker ? Math.max(1, brokers.length) : Math.max(1, Number(process.env.TEST_LANES ?? 1) || 1);
const timeoutMs = (Number(process.env.TEST_FILE_TIMEOUT_S ?? 600) || 600) * 1000;

/** The environment of one lane: its broker, and its KAFKA_PORT (the fault suite pauses and resumes that broker). */
function laneEnv(lane) {
  const env = { ...process.env };
  const broker = brokers[lane];
  if (broker) {
    env.TEST_KAFKA_BROKERS = broker;
    env.KAFKA_PORT = broker.split(':').pop();
  }
  return env;
}

// A file that holds the marker `run-tests: alone` (in a comment) runs before the lanes start, with nothing beside it:
// the embedded test runs `npm start`, whose build replaces dist/ under any file running then.
const ALONE = 'run-tests: alone';
const alone = selected.filter((f) => fs.readFileSync(f, 'utf8').includes(ALONE));
// The unit files run in a few groups, each group's files in one process (`--test-isolation=none`): they share one
// load of Nest, TypeORM and the rest, which in a process per file cost more CPU than their tests (157 s against 32 s
// for the 118 files here). They touch no process-wide state (no env, timers or globals changed), so sharing a process
// is safe; TEST_UNIT_ISOLATION=process runs each in its own as before. The e2e and fault files keep a process each.
const UNIT_GROUPS = 4;
const isUnit = (f) => !f.endsWith('.e2e-spec.js') && !f.endsWith('.faults-spec.js');
const sizeOf = (f) => fs.statSync(f).size;
const items = [];
const groupUnits = process.env.TEST_UNIT_ISOLATION !== 'process';
const units = selected.filter((f) => !alone.includes(f) && isUnit(f) && groupUnits);
if (units.length > 1) {
  // Largest first, each to the lightest group so far: groups of about equal size.
  const groups = Array.from({ length: Math.min(UNIT_GROUPS, units.length) }, () => ({ files: [], size: 0 }));
  for (const f of [...units].sort((a, b) => sizeOf(b) - sizeOf(a))) {
    const g = groups.reduce((min, x) => (x.size < min.size ? x : min));
    g.files.push(f);
    g.size += sizeOf(f);
  }
  groups.forEach((g, i) =>
    items.push({
      files: g.files,
      size: g.size,
      label: `unit group ${i + 1} of ${groups.length} (${g.files.length} files)`,
    }),
  );
} else units.forEach((f) => items.push({ files: [f], size: sizeOf(f) }));
for (const f of selected.filter((f) => !alone.includes(f) && !units.includes(f)))
  items.push({ files: [f], size: sizeOf(f) });
// The largest first: the long suites start early and the short ones fill the ends of the lanes.
const queue = items.sort((a, b) => b.size - a.size);
const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
const failedFiles = [];
/** Each failed file's failure report, printed again after the totals: CI keeps the end of the output. */
const failureReports = [];
const REPORT_CHARS = 6000;
const started = Date.now();
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** The files running now, each the leader of its process group. */
const running = new Set();
const killGroup = (child) => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* the group is gone */
  }
};

console.log(
  `run-tests: ${selected.length} ${kind} test file(s) on Node ${node.version} (${node.bin}), ${laneCount} lane(s)` +
    (needsBroker ? ` on ${brokers.join(', ') || 'no broker'}` : ''),
);

/**
 * What a failed file's output says of why: node's "failing tests" section without the tests merely cancelled by a
 * failed hook (the hook's own error stays), or the output's end when there is no such section (a killed file).
 */
function failureReport(output) {
  const plain = stripVTControlCharacters(output);
  const at = plain.lastIndexOf('✖ failing tests:');
  const report =
    at < 0
      ? plain.slice(-REPORT_CHARS)
      : plain
          .slice(at)
          .split(/\n\n(?=test at )/)
          .filter((block) => !block.includes('test did not finish before its parent and was cancelled'))
          .join('\n\n');
  return report.length > REPORT_CHARS ? `${report.slice(0, REPORT_CHARS)}\n[… cut]` : report;
}

function runFile(item, lane) {
  return new Promise((resolve) => {
    const rels = item.files.map((f) => path.relative(process.cwd(), f));
    const rel = item.label ?? rels[0];
    const isolation = item.label ? ['--test-isolation=none'] : [];
    const fileStart = Date.now();
    const child = spawn(node.bin, ['--test', ...isolation, '--test-concurrency=1', '--test-reporter=spec', ...rels], {
      env: laneEnv(lane),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      // What the file's tests spawned and left behind goes with it.
      killGroup(child);
      const output = Buffer.concat(chunks).toString('utf8');
      const counts = {};
      for (const key of Object.keys(totals)) {
        const m = output.match(new RegExp(`^ℹ ${key} (\\d+)$`, 'm'));
        counts[key] = m ? Number(m[1]) : 0;
        totals[key] += counts[key];
      }
      const ok = code === 0 && !timedOut;
      const why = timedOut
        ? `killed after ${seconds(timeoutMs)} (TEST_FILE_TIMEOUT_S)`
        : ok
          ? 'passed'
          : `FAILED (exit ${code ?? signal})`;
      if (!ok) {
        failedFiles.push(rel);
        failureReports.push(`── ${rel}: ${why}\n${failureReport(output)}`);
      }
      process.stdout.write(
        `\n── ${rel} · lane ${lane} · ${seconds(Date.now() - fileStart)} · ${why}\n${output}` +
          (timedOut ? `run-tests: ${rel} did not finish within ${seconds(timeoutMs)}; killed\n` : ''),
      );
      if (timedOut || (code !== 0 && counts.fail === 0)) totals.fail += 1;
      resolve();
    });
  });
}

async function lane(index) {
  for (let file = queue.shift(); file; file = queue.shift()) await runFile(file, index);
}

// Ctrl-C or CI's own stop: the lanes' process groups go too.
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    for (const child of running) killGroup(child);
    process.exit(130);
  });

(async () => {
  for (const file of alone) await runFile({ files: [file] }, 0);
  await Promise.all(Array.from({ length: laneCount }, (_, i) => lane(i)));
})().then(() => {
  console.log(
    `\nrun-tests: ${kind}: ${selected.length} file(s) in ${seconds(Date.now() - started)} on ${laneCount} lane(s): ` +
      `tests ${totals.tests}, pass ${totals.pass}, fail ${totals.fail}, cancelled ${totals.cancelled}, ` +
      `skipped ${totals.skipped}, todo ${totals.todo}`,
  );
  if (failureReports.length) console.log(`\nrun-tests: why they failed:\n${failureReports.join('\n')}`);
  if (failedFiles.length) console.log(`run-tests: failed: ${failedFiles.join(', ')}`);
  process.exit(failedFiles.length ? 1 : 0);
});
