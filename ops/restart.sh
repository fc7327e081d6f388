#!/usr/bin/env bash
# Restarts one service of the local stack in place: `ops/restart.sh postgres|rabbitmq`.
# The tests and the chaos run use it; the server's output goes to its log, never to the
# caller's pipes (a restarted postmaster that inherits a pipe keeps its reader waiting forever).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
close_inherited_descriptors
case "${1:-}" in
postgres)
    pgbin=$(pg_bin) || die "PostgreSQL binaries not found"
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -m fast -w -t 60 restart </dev/null >/dev/null 2>&1
    ;;
rabbitmq)
    export ERL_EPMD_ADDRESS=127.0.0.1
    rabbitmqctl -q stop_app </dev/null >/dev/null 2>&1
    rabbitmqctl -q start_app </dev/null >/dev/null 2>&1
    wait_for 60 "RabbitMQ" rabbitmqctl -q await_startup --timeout 5
    ;;
*) die "usage: $0 postgres|rabbitmq" ;;
esac
