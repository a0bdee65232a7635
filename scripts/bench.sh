#!/usr/bin/env bash
# `npm run bench [-- --quick]`: builds, starts a Kafka broker (KRaft, loopback) and uses the local MariaDB, runs every
# benchmark scenario with the apps as separate processes, prints one table, writes bench/results/, stops the broker.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
npm run -s build
export KAFKA_PORT="${KAFKA_PORT:-19092}"
bash scripts/kafka.sh start
trap 'bash scripts/kafka.sh stop' EXIT
export TEST_KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT}" TEST_MYSQL_URL="${TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
node dist/bench/run.js "$@"
