#!/usr/bin/env bash
# Runs the service on the local stack: `ops/services.sh start [WORKERS]` starts WORKERS workers
# (default 2), a persister and the API; `stop` stops them; `status` shows them and their health.
#
# Under systemd it installs and starts the units of ops/systemd (georep-worker@N, persister,
# api); elsewhere (containers, CI) it runs the same processes in the background with the same
# settings, logs in /var/lib/georep/logs. Settings: /var/lib/georep/stack.env (ops/stack-up.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
env_file=$GEOREP_STATE/stack.env
run_dir=$GEOREP_STATE/run
logs=$GEOREP_STATE/logs
[ -f "$env_file" ] || die "no $env_file: run ops/stack-up.sh first"
mkdir -p "$run_dir" "$logs"

# GEOREP_BUILD=debug runs the debug build (CI, which builds it for the tests anyway).
build=${GEOREP_BUILD:-release}
bin="$root/.build/$build/georep"
use_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

start_one() { # NAME HTTP ARGS...
    local name=$1 http=$2; shift 2
    local pidfile=$run_dir/$name.pid
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        log "$name is running (pid $(cat "$pidfile"))"
        return
    fi
    (
        set -a; . "$env_file"; set +a
        export GEOREP_HTTP=$http GEOREP_SCHEMAS=$root/Schemas/sql
        cd "$root"
        setsid "$bin" "$@" </dev/null >>"$logs/$name.log" 2>&1 &
        echo $! >"$pidfile"
    )
    log "started $name (pid $(cat "$pidfile"), http $http, log $logs/$name.log)"
}

# lab_webhooks add|del WORKERS: the lab's glustereventsd posts its GEOREP_* events to every
# worker (each turns them into one refresh; copies of one event are one command), so that a
# change made outside the service shows within seconds, not at the next monitor round.
lab_webhooks() {
    local verb=$1 workers=$2 i token
    token=$(set -a; . "$env_file"; printf '%s' "${GEOREP_WEBHOOK_TOKENS%%,*}")
    [ -n "$token" ] || { log "no GEOREP_WEBHOOK_TOKENS in $env_file: no webhooks registered"; return 0; }
    for i in $(seq 1 "$workers"); do
        local url="http://127.0.0.1:981$i/webhooks/glusterfs/lab"
        if [ "$verb" = add ]; then "$here/lab-webhook.sh" add "$url" "$token" >/dev/null; else "$here/lab-webhook.sh" del "$url" >/dev/null; fi
    done
    log "lab webhooks: $verb for $workers worker(s) (http://127.0.0.1:981N/webhooks/glusterfs/lab)"
}

case "${1:-}" in
start)
    workers=${2:-2}
    [ -x "$bin" ] || { log "building ($build)"; (cd "$root" && swift build -c "$build" >/dev/null); }
    ( set -a; . "$env_file"; set +a; cd "$root"; "$bin" migrate --schemas "$root/Schemas/sql" )
    if use_systemd; then
        install -m 0755 "$bin" /usr/local/bin/georep
        mkdir -p /etc/georep /usr/local/share/georep
        cp -r "$root/Schemas/sql" /usr/local/share/georep/
        cp "$env_file" /etc/georep/georep.env
        cp "$root"/ops/systemd/*.service /etc/systemd/system/
        systemctl daemon-reload
        systemctl start georep-persister georep-api $(for i in $(seq 1 "$workers"); do echo "georep-worker@$i"; done)
        log "started through systemd: georep-worker@{1..$workers}, georep-persister, georep-api"
    else
        for i in $(seq 1 "$workers"); do start_one "worker$i" "127.0.0.1:981$i" worker; done
        start_one persister 127.0.0.1:9820 persister
        start_one api 127.0.0.1:8080 api
    fi
    lab_webhooks add "$workers"
    echo "$workers" >"$run_dir/workers"
    ;;
stop)
    [ -f "$run_dir/workers" ] && { lab_webhooks del "$(cat "$run_dir/workers")" || true; rm -f "$run_dir/workers"; }
    if use_systemd && systemctl list-units 'georep-*' --no-legend 2>/dev/null | grep -q georep; then
        systemctl stop 'georep-worker@*' georep-persister georep-api 2>/dev/null || true
    fi
    for pidfile in "$run_dir"/*.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
            kill -KILL "$pid" 2>/dev/null || true
            log "stopped $(basename "$pidfile" .pid)"
        fi
        rm -f "$pidfile"
    done
    ;;
status)
    for pidfile in "$run_dir"/*.pid; do
        [ -f "$pidfile" ] || continue
        name=$(basename "$pidfile" .pid)
        state=stopped
        kill -0 "$(cat "$pidfile")" 2>/dev/null && state="running (pid $(cat "$pidfile"))"
        echo "$name: $state"
    done
    for port in 9811 9812 9813 9814 9820 8080; do
        out=$(curl -s --max-time 2 "http://127.0.0.1:$port/health/ready" 2>/dev/null) && echo "127.0.0.1:$port ready: $out"
    done
    ;;
*) die "usage: $0 start [WORKERS] | stop | status" ;;
esac
