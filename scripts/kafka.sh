#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft) on loopback for development, tests and benchmarks.
#   scripts/kafka.sh fetch | start | stop | status
# The broker's jars come from Maven Central (scripts/kafka/pom.xml) into .cache/kafka/libs (git-ignored).
# auto.create.topics.enable=false: every topic must be provisioned by the project itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache/kafka"
port="${KAFKA_PORT:-19092}"
controller_port=$((port + 1))
run="$cache/run-$port"
pidfile="$run/broker.pid"

fetch() {
  if [ -f "$cache/libs/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { echo "kafka.sh: mvn is required to fetch the broker" >&2; exit 1; }
  command -v java >/dev/null || { echo "kafka.sh: java is required to run the broker" >&2; exit 1; }
  echo "kafka.sh: fetching the Kafka broker from Maven Central" >&2
  rm -rf "$cache/libs"
  mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$cache/libs" -DincludeScope=runtime >&2
  touch "$cache/libs/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

accepting() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
  fetch
  if running; then echo "kafka.sh: broker already running on 127.0.0.1:$port" >&2; return 0; fi
  rm -rf "$run"; mkdir -p "$run/data"
  cat > "$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$run/data
auto.create.topics.enable=false
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=100000
PROPS
  cat > "$run/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
PROPS
  local cp="$cache/libs/*"
  local jvm=(-Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true "-Dlog4j.configuration=file:$run/log4j.properties")
  java "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid)" \
    -c "$run/server.properties" >"$run/format.log" 2>&1 || { cat "$run/format.log" >&2; exit 1; }
  nohup java "${jvm[@]}" -cp "$cp" kafka.Kafka "$run/server.properties" >"$run/broker.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if accepting; then echo "kafka.sh: broker accepting on 127.0.0.1:$port" >&2; return 0; fi
    if ! running; then echo "kafka.sh: broker exited during start-up:" >&2; tail -40 "$run/broker.log" >&2; exit 1; fi
    sleep 0.5
  done
  echo "kafka.sh: broker did not accept connections within 60 s" >&2; tail -40 "$run/broker.log" >&2; exit 1
}

stop() {
  if running; then
    local pid; pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$run"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) if running && accepting; then echo "running on 127.0.0.1:$port"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: scripts/kafka.sh fetch|start|stop|status (KAFKA_PORT, default 19092)" >&2; exit 2 ;;
esac
