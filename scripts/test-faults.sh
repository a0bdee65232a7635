#!/usr/bin/env bash
# `npm run test:faults`: the fault-injection suite (issue 14), in the distributed mode on a real broker and MariaDB.
# It runs after `npm test` (in .ci/run) on brokers of its own (one per lane, from KAFKA_PORT, default 19094), because its
# tests take their lane's broker down and bring it back (`scripts/kafka.sh pause|resume`, see test/support/broker.ts); MariaDB is the
# shared one, reached through a TCP proxy a test controls where it cuts the database.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

TEST_NODE=$(node scripts/test-node.js)
export TEST_NODE
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
export TEST_MYSQL_URL="${TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
npm run -s build

# One broker per lane, as in scripts/test.sh: KAFKA_PORT (19094), KAFKA_PORT+10, … (TEST_LANES, 2).
source scripts/lanes.sh
start_lane_brokers "${TEST_LANES:-2}" "${KAFKA_PORT:-19094}"

# Its own artifacts directory, emptied first: scenario 7 greps every log this run wrote (the apps' and the test runner's)
# for every secret its tests configured, and fails on any hit.
export TEST_ARTIFACTS=test-artifacts/faults
rm -rf "$TEST_ARTIFACTS" && mkdir -p "$TEST_ARTIFACTS"
"$TEST_NODE" scripts/run-tests.js faults "${1:-}" 2>&1 | tee "$TEST_ARTIFACTS/test-runner.log"
node scripts/grep-secrets.js "$TEST_ARTIFACTS"
