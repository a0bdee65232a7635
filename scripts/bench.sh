#!/usr/bin/env bash
# `npm run bench [-- --quick | --smoke]`: builds, starts a Kafka broker (KRaft, loopback) and uses the local MariaDB, runs every
# benchmark scenario with the apps as separate processes, prints one table, writes bench/results/, stops the broker.
# It runs on the Node the tests run on (Node 24, scripts/test-node.js) and on the broker KAFKA_VERSION selects.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bench_node=$(node scripts/test-node.js)
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
npm run -s build
export KAFKA_PORT="${KAFKA_PORT:-19092}"
bash scripts/kafka.sh start
trap 'bash scripts/kafka.sh stop' EXIT
# The apps' module compile cache, shared with the tests' (scripts/run-tests.js): their starts are not what is measured.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$root/.cache/node-compile-cache}"
export TEST_KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT}" TEST_MYSQL_URL="${TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
"$bench_node" dist/bench/run.js "$@"
