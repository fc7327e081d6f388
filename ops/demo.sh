#!/usr/bin/env bash
# The demo: brings the stack up, builds, migrates, runs a worker and a persister, and creates and
# starts a real geo-replication session on the lab through RabbitMQ, showing the events and the
# PostgreSQL rows until the session is ACTIVE.
set -euo pipefail
cd "$(dirname "$0")/.."

ops/stack-up.sh
set -a
# shellcheck disable=SC1091
. /var/lib/georep/stack.env
set +a

echo "[demo] building"
swift build
bin="$(swift build --show-bin-path)/georep"
logs=/var/lib/georep/logs
mkdir -p "$logs"

echo "[demo] applying migrations"
"$bin" migrate

echo "[demo] starting a worker and a persister (logs in $logs)"
GEOREP_MONITOR_INTERVAL=${GEOREP_MONITOR_INTERVAL:-3} "$bin" worker >"$logs/worker.log" 2>&1 &
worker=$!
"$bin" persister >"$logs/persister.log" 2>&1 &
persister=$!
stop_services() {
    kill -TERM "$worker" "$persister" 2>/dev/null || true
    wait "$worker" "$persister" 2>/dev/null || true
}
trap stop_services EXIT

"$bin" demo --secondary "$GEOREP_LAB_HOST::svol" "$@"

cat <<EOT

[demo] done. The session stays ACTIVE on the lab and in PostgreSQL. To look around:
  set -a; . /var/lib/georep/stack.env; set +a
  psql "\$GEOREP_PG_URL" -c 'SELECT session_id, status, slave_host_name, slave_volume_name FROM gluster_georep_session'
  $bin worker & $bin persister &      # run the services yourself
  $bin publish stop --secondary $GEOREP_LAB_HOST::svol
EOT
