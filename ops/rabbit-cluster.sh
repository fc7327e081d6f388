#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, beside the stack's single node (which it leaves
# alone and which stays the demo's): the cluster tests' and chaos run's, and a way to try one by hand.
#
#   ops/rabbit-cluster.sh up              # georep1..3@localhost on 127.0.0.1:5681-5683 (amqps 5691-5693), clustered (idempotent)
#   ops/rabbit-cluster.sh urls            # the GEOREP_AMQP_URL list for the cluster
#   ops/rabbit-cluster.sh status          # which nodes run, and the cluster as node 1 sees it
#   ops/rabbit-cluster.sh kill N          # kill -9 of node N's Erlang VM (no goodbye to its peers)
#   ops/rabbit-cluster.sh start N         # node N started again (it rejoins by itself)
#   ops/rabbit-cluster.sh leader PATTERN  # the node leading most quorum queues whose name has PATTERN
#   ops/rabbit-cluster.sh replicas PATTERN  # NAME TYPE LEADER MEMBERS of the queues whose name has PATTERN
#   ops/rabbit-cluster.sh rebalance PATTERN # the leaders of those quorum queues spread over the nodes
#   ops/rabbit-cluster.sh rolling         # each node stopped and started in turn, never quorum-critical
#   ops/rabbit-cluster.sh down            # all stopped and their data removed
#
# Every node has its own node name, ports, data and log directories; they share this machine's
# Erlang cookie (/var/lib/rabbitmq/.erlang.cookie) and epmd. Queue leaders are spread over the
# nodes (queue_leader_locator = balanced); quorum queues and streams declared while all three
# run get a replica on each.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
close_inherited_descriptors
[ "$(id -u)" = 0 ] || die "run as root"
CLUSTER=$GEOREP_STATE/rabbit-cluster
PORT=${GEOREP_RABBIT_CLUSTER_PORT:-5681}
NODES=(1 2 3)
export ERL_EPMD_ADDRESS=127.0.0.1

node() { echo "georep$1@localhost"; }
dir() { echo "$CLUSTER/n$1"; }

# as_node N COMMAND [ARGS...]: runs a RabbitMQ program as the rabbitmq user with node N's environment.
as_node() {
    local n=$1 program=$2 d
    shift 2
    d=$(dir "$n")
    runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq ERL_EPMD_ADDRESS=127.0.0.1 \
        RABBITMQ_NODENAME="$(node "$n")" \
        RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
        RABBITMQ_CONF_ENV_FILE="$d/rabbitmq-env.conf" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config" \
        RABBITMQ_MNESIA_BASE="$d/mnesia" \
        RABBITMQ_LOG_BASE="$d/log" \
        RABBITMQ_PID_FILE="$d/pid" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
        RABBITMQ_DIST_PORT=$((PORT + 20000 + n - 1)) \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        "/usr/lib/rabbitmq/bin/$program" "$@" </dev/null
}
ctl() { local n=$1; shift; as_node "$n" rabbitmqctl -q -n "$(node "$n")" "$@"; }
running() { ctl "$1" status >/dev/null 2>&1; }

# vm_pid N: the pid of node N's Erlang VM, booted or still booting. Its pid file is not enough:
# a second launch while the first still boots fails and takes the file with it.
vm_pid() {
    local n=$1 pid p
    pid=$(cat "$(dir "$n")/pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; return 0; fi
    for p in $(pgrep -x beam.smp); do
        if [[ $'\n'$( { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null)$'\n' == *$'\n'"RABBITMQ_NODENAME=$(node "$n")"$'\n'* ]]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

configure() {
    local n=$1 d tls=$GEOREP_STATE/tls
    d=$(dir "$n")
    install -d -o rabbitmq -g rabbitmq "$CLUSTER" "$d" "$d/mnesia" "$d/log"
    cat >"$d/rabbitmq.conf" <<CONF
# georep rabbit-cluster: node $n
listeners.tcp.default = 127.0.0.1:$((PORT + n - 1))
listeners.ssl.default = 127.0.0.1:$((PORT + 10 + n - 1))
ssl_options.cacertfile = $tls/ca.pem
ssl_options.certfile = $tls/server.pem
ssl_options.keyfile = $tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
queue_leader_locator = balanced
CONF
    echo "# georep rabbit-cluster: everything comes from the environment" >"$d/rabbitmq-env.conf"
    echo "[rabbitmq_consistent_hash_exchange]." >"$d/enabled_plugins"
    chown rabbitmq:rabbitmq "$d"/rabbitmq.conf "$d"/rabbitmq-env.conf "$d"/enabled_plugins
}

vm_gone() { ! vm_pid "$1" >/dev/null; }

# launch N: node N's VM started in the background, unless it runs.
launch() {
    local n=$1
    [ -f "$(dir "$n")/rabbitmq.conf" ] || configure "$n"
    if ! vm_pid "$n" >/dev/null; then
        log "starting RabbitMQ node $(node "$n") on 127.0.0.1:$((PORT + n - 1))"
        as_node "$n" rabbitmq-server -detached >/dev/null 2>&1 || true
    fi
}

# await N: node N's broker running, or the end of its log and a failure.
await() {
    local n=$1 log
    log=$(dir "$n")/log/$(node "$n").log
    if ! (wait_for 180 "RabbitMQ node $(node "$n")" ctl "$n" await_startup --timeout 5); then
        [ -f "$log" ] && tail -n 15 "$log" | sed "s/^/[$(node "$n")] /" >&2
        die "RabbitMQ node $(node "$n") did not start; its log: $log"
    fi
}

# A node that was stopped while clustered waits for its peers' tables before it boots, so
# they are all launched before any is waited for: one at a time, node 1 waited 5 minutes for
# peers that were only started after it (the CI run of 2026-12-01 on data from an earlier run).
start() { launch "$1"; await "$1"; }

member() { says "\"$(node "$1")\"" ctl 1 cluster_status --formatter json; }

up() {
    for n in "${NODES[@]}"; do launch "$n"; done
    for n in "${NODES[@]}"; do await "$n"; done
    for n in 2 3; do
        if ! member "$n"; then
            log "joining $(node "$n") to $(node 1)"
            ctl "$n" stop_app
            ctl "$n" reset
            ctl "$n" join_cluster "$(node 1)"
            ctl "$n" start_app
        fi
    done
    ctl 1 list_vhosts | grep -qx georep || ctl 1 add_vhost georep
    ctl 1 list_users | awk '{print $1}' | grep -qx georep || ctl 1 add_user georep georep >/dev/null
    ctl 1 set_user_tags georep administrator
    ctl 1 set_permissions -p georep georep '.*' '.*' '.*'
    log "cluster up: $(urls)"
}

urls() {
    local n list=()
    for n in "${NODES[@]}"; do list+=("amqp://georep:georep@127.0.0.1:$((PORT + n - 1))/georep"); done
    (IFS=,; echo "${list[*]}")
}

kill_node() {
    local n=$1 pid
    pid=$(vm_pid "$n") || die "node $(node "$n") is not running"
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    log "killed $(node "$n") (pid $pid) with SIGKILL"
}

# The node leading most quorum queues whose name contains PATTERN, as its number.
leader() {
    local pattern=$1 n listed
    for n in "${NODES[@]}"; do
        running "$n" || continue
        # A node the CLI could not reach in time (a loaded machine): the next one is asked.
        listed=$(ctl "$n" list_queues -p georep name leader --no-table-headers) || continue
        awk -v p="$pattern" 'index($1, p) && $2 ~ /^georep[0-9]@/ { sub(/^georep/, "", $2); sub(/@.*/, "", $2); c[$2]++ }
            END { best = ""; for (k in c) if (best == "" || c[k] > c[best]) best = k; print best }' <<<"$listed"
        return
    done
    die "no node of the cluster answered list_queues"
}

# NAME TYPE LEADER MEMBERS (a count) of every queue whose name contains PATTERN, from a running node.
replicas() {
    local pattern=$1 n
    for n in "${NODES[@]}"; do
        running "$n" || continue
        ctl "$n" list_queues -p georep name type leader members --no-table-headers |
            awk -F'\t' -v p="$pattern" 'index($1, p) { m = $4; gsub(/[^,]/, "", m); print $1, $2, $3, ($4 ~ /@/ ? length(m) + 1 : 0) }'
        return
    done
    die "no node of the cluster runs"
}

# The leaders of the quorum queues whose name contains PATTERN spread over the nodes, as an
# operator does after a rolling restart left them on one node (queue_leader_locator = balanced
# places new queues by leader counts that lag behind such a restart).
rebalance() {
    local pattern=$1 n
    for n in "${NODES[@]}"; do
        running "$n" || continue
        as_node "$n" rabbitmq-queues -q -n "$(node "$n")" rebalance quorum --vhost-pattern georep \
            --queue-pattern ".*$(printf '%s' "$pattern" | sed 's/[.[\*^$()+?{|]/\\&/g').*" >/dev/null && return 0
    done
    die "no node of the cluster rebalanced the queues"
}

# Waits until stopping node N would leave every quorum queue with a majority.
await_not_critical() {
    local n=$1 deadline=$((SECONDS + 120))
    while ((SECONDS < deadline)); do
        as_node "$n" rabbitmq-queues -q -n "$(node "$n")" check_if_node_is_quorum_critical >/dev/null 2>&1 && return 0
        sleep 1
    done
    as_node "$n" rabbitmq-queues -q -n "$(node "$n")" check_if_node_is_quorum_critical >&2 || true
    die "$(node "$n") stayed quorum-critical for 120 s"
}

# stop_node N: rabbitmqctl stop, asked again while the node still answers: on a loaded machine
# the CLI once failed to reach a running node (exit 69), which ended a chaos run's rolling restart.
stop_node() {
    local n=$1 try
    for try in 1 2 3; do
        ctl "$n" stop && return 0
        running "$n" || return 0   # it is going down: the caller waits for its VM to go
        log "rabbitmqctl stop of $(node "$n") failed (try $try); again"
        sleep 2
    done
    die "$(node "$n") did not stop"
}

rolling() {
    for n in "${NODES[@]}"; do
        await_not_critical "$n"
        log "rolling restart: stopping $(node "$n")"
        stop_node "$n"
        # rabbitmqctl stop returns before the VM has gone; launched meanwhile, the node would
        # be taken for running and never started again.
        wait_for 60 "the end of $(node "$n")'s VM" vm_gone "$n"
        start "$n"
    done
    log "rolling restart done"
}

status() {
    for n in "${NODES[@]}"; do
        if running "$n"; then echo "$(node "$n") running on 127.0.0.1:$((PORT + n - 1))"; else echo "$(node "$n") stopped"; fi
    done
    for n in "${NODES[@]}"; do running "$n" && { ctl "$n" cluster_status; break; }; done
}

down() {
    for n in "${NODES[@]}"; do
        if running "$n"; then ctl "$n" stop >/dev/null 2>&1 || true; fi
        if pid=$(vm_pid "$n"); then kill -9 "$pid" 2>/dev/null || true; fi
    done
    rm -rf "$CLUSTER"
    log "rabbit-cluster removed"
}

case "${1:-}" in
up) up ;;
urls) urls ;;
status) status ;;
kill) kill_node "${2:?node number}" ;;
start) start "${2:?node number}" ;;
leader) leader "${2:?queue name pattern}" ;;
replicas) replicas "${2:?queue name pattern}" ;;
rebalance) rebalance "${2:?queue name pattern}" ;;
rolling) rolling ;;
down) down ;;
*) die "usage: $0 up|urls|status|kill N|start N|leader PATTERN|replicas PATTERN|rebalance PATTERN|rolling|down" ;;
esac
