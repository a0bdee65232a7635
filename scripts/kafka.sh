#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft) on loopback for development, tests and benchmarks.
#   scripts/kafka.sh fetch | start | stop | status | pause | resume (an outage that keeps the data, for fault tests)
# KAFKA_PORT (default 19092; the controller listens on KAFKA_PORT+1). KAFKA_VERSION (default: scripts/kafka/pom.xml's,
# Kafka 4.1) selects the broker; a 3.x version (KAFKA_VERSION=3.9.1) uses scripts/kafka/pom-3.x.xml, whose logging is
# reload4j where 4.x logs through log4j2. The jars come from Maven Central into .cache/kafka/<version>/libs
# (git-ignored), one directory per version, so switching versions needs no re-fetch.
# auto.create.topics.enable=false: every topic must be provisioned by the project itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
default_version=$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$root/scripts/kafka/pom.xml")
version="${KAFKA_VERSION:-$default_version}"
major="${version%%.*}"
pom="$root/scripts/kafka/pom.xml"
if ! [ "$major" -ge 4 ] 2>/dev/null; then pom="$root/scripts/kafka/pom-3.x.xml"; fi
cache="$root/.cache/kafka"
libs="$cache/$version/libs"
port="${KAFKA_PORT:-19092}"
controller_port=$((port + 1))
run="$cache/run-$port"
pidfile="$run/broker.pid"

fetch() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { echo "kafka.sh: mvn is required to fetch the broker" >&2; exit 1; }
  command -v java >/dev/null || { echo "kafka.sh: java is required to run the broker" >&2; exit 1; }
  echo "kafka.sh: fetching Apache Kafka $version from Maven Central" >&2
  rm -rf "$libs"
  mvn -q -B -f "$pom" dependency:copy-dependencies -Dkafka.version="$version" \
    -DoutputDirectory="$libs" -DincludeScope=runtime >&2
  touch "$libs/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

accepting() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# Kafka 4 logs through log4j2, Kafka 3 through log4j 1 (reload4j). Both: WARN, plus the broker's INFO line that says
# it started, so a start-up failure is in broker.log and a successful start is visible there too.
logging_options() {
  if [ "$major" -ge 4 ]; then
    cat > "$run/log4j2.properties" <<'PROPS'
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
PROPS
    echo "-Dlog4j2.configurationFile=$run/log4j2.properties"
  else
    cat > "$run/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
PROPS
    echo "-Dlog4j.configuration=file:$run/log4j.properties"
  fi
}

start() {
  fetch
  if running; then
    local current; current=$(cat "$run/version" 2>/dev/null || echo '?')
    if [ "$current" != "$version" ]; then
      echo "kafka.sh: Kafka $current already runs on 127.0.0.1:$port, not $version; stop it first" >&2; exit 1
    fi
    echo "kafka.sh: Kafka $version already running on 127.0.0.1:$port" >&2
    return 0
  fi
  rm -rf "$run"; mkdir -p "$run/data"
  echo "$version" > "$run/version"
  # Static quorum (controller.quorum.voters): the form both 3.9 and 4.x format and start without --standalone.
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
  local cp="$libs/*"
  local jvm=(-Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true "$(logging_options)")
  local cluster_id; cluster_id=$(java "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool random-uuid)
  java "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$run/server.properties" \
    >"$run/format.log" 2>&1 || { cat "$run/format.log" >&2; exit 1; }
  launch
}

# Runs the broker on the formatted data directory in $run and waits until it accepts connections.
launch() {
  local cp="$libs/*"
  local jvm=(-Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true "$(logging_options)")
  # A session of its own: a broker resumed by a fault test is not in that test's process group, which the test
  # runner kills when the file ends (scripts/run-tests.js).
  setsid nohup java "${jvm[@]}" -cp "$cp" kafka.Kafka "$run/server.properties" >>"$run/broker.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if accepting; then echo "kafka.sh: Kafka $version accepting on 127.0.0.1:$port" >&2; return 0; fi
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

# An outage for the fault tests: `pause` kills the broker and keeps its data; `resume` starts it again on that data
# (the topics, the offsets, what was written before the outage).
pause() {
  if running; then
    local pid; pid=$(cat "$pidfile")
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
}

resume() {
  if running; then return 0; fi
  [ -f "$run/server.properties" ] || { echo "kafka.sh: nothing to resume on 127.0.0.1:$port (start it first)" >&2; exit 1; }
  launch
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  pause) pause ;;
  resume) resume ;;
  status)
    if ! running || ! accepting; then echo "stopped"; exit 1; fi
    echo "running on 127.0.0.1:$port (Kafka $(cat "$run/version" 2>/dev/null || echo '?'))" ;;
  *)
    echo "usage: scripts/kafka.sh fetch|start|stop|pause|resume|status (KAFKA_PORT: 19092, KAFKA_VERSION: $default_version)" >&2
    exit 2 ;;
esac
