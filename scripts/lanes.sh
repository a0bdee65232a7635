# Sourced by scripts/test.sh and scripts/test-faults.sh: one Kafka broker per test lane (scripts/run-tests.js runs one
# file per lane at a time, and a lane never shares its broker).
#   start_lane_brokers <lanes> <base port>   starts brokers on base, base+10, … (in parallel, after one fetch), stops
#                                            them when the shell exits, and exports TEST_KAFKA_BROKERS, one per lane
start_lane_brokers() {
  local lanes=$1 base=$2 i p pid pids=()
  lane_ports=()
  for i in $(seq 0 $((lanes - 1))); do lane_ports+=($((base + 10 * i))); done
  bash scripts/kafka.sh fetch
  trap 'for p in "${lane_ports[@]}"; do KAFKA_PORT=$p bash scripts/kafka.sh stop; done' EXIT
  for p in "${lane_ports[@]}"; do KAFKA_PORT=$p bash scripts/kafka.sh start & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid"; done
  TEST_KAFKA_BROKERS=$(printf '127.0.0.1:%s,' "${lane_ports[@]}")
  export TEST_KAFKA_BROKERS="${TEST_KAFKA_BROKERS%,}"
}
