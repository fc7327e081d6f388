#!/usr/bin/env bash
# What a three-node RabbitMQ cluster costs beside the single node, in one run: persister
# throughput (georep-bench persister) and command throughput with three workers (georep-bench
# scale), each measured on the stack's single node and then on ops/rabbit-cluster.sh's cluster,
# where quorum queues and the journal stream have three replicas.
#
#   set -a; . /var/lib/georep/stack.env; set +a; swift build -c release
#   ops/bench/cluster.sh [EVENTS] [SESSIONS]     # defaults 20000 events, 32 sessions
set -euo pipefail
cd "$(dirname "$0")/../.."
events=${1:-20000}
sessions=${2:-32}
bench=${GEOREP_BENCH:-.build/release/georep-bench}
[ -x "$bench" ] || { echo "no $bench: swift build -c release first" >&2; exit 1; }
: "${GEOREP_AMQP_URL:?source /var/lib/georep/stack.env}"
single=$GEOREP_AMQP_URL
ops/rabbit-cluster.sh up >/dev/null
cluster=$(ops/rabbit-cluster.sh urls)

persister() {
    "$bench" persister --amqp-url "$1" --events "$events" --baseline-events 200 --light-events 200 |
        awk '/persister \(batched/ { print $5 }'
}
commands() {
    "$bench" scale --amqp-url "$1" --workers 3 --sessions "$sessions" | awk '/ workers? / && /commands\/s/ { print $5 }'
}

echo "cluster benchmark: $events events, $sessions sessions, load $(cut -d' ' -f1-3 /proc/loadavg)"
p1=$(persister "$single"); c1=$(commands "$single")
p3=$(persister "$cluster"); c3=$(commands "$cluster")
awk -v p1="$p1" -v p3="$p3" -v c1="$c1" -v c3="$c3" 'BEGIN {
    printf "  persister, single node          %9.0f events/s\n", p1
    printf "  persister, 3-node cluster       %9.0f events/s   (%.2fx the single node)\n", p3, p3 / p1
    printf "  3 workers, single node          %9.1f commands/s\n", c1
    printf "  3 workers, 3-node cluster       %9.1f commands/s   (%.2fx the single node)\n", c3, c3 / c1
}'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
