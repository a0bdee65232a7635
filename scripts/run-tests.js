// Runs the compiled tests with node's test runner: `unit` (*.spec.js beside the code), `e2e` (test/**/*.e2e-spec.js),
// `all` (both), or `faults` (test/**/*.faults-spec.js). One process per file, one file at a time: the e2e suites
// share one broker and one MariaDB server.
// They run on Node 24 (scripts/test-node.js) whichever Node runs this script; the e2e suites spawn the apps with
// their own `process.execPath`, so the apps run on it too.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { testNode } = require('./test-node.js');

const dist = path.resolve(__dirname, '..', 'dist');
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
// The fault-injection suite (`npm run test:faults`): it stops and restarts its own broker, so it never runs with `all`.
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
console.log(`run-tests: ${selected.length} ${kind} test file(s) on Node ${node.version} (${node.bin})`);
const result = spawnSync(
  node.bin,
  ['--test', '--test-concurrency=1', '--test-reporter=spec', ...selected.map((f) => path.relative(process.cwd(), f))],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
