#!/usr/bin/env bash
# The demo: brings the stack up, builds, starts two workers, a persister and the HTTP API
# (ops/services.sh), then creates and starts a real geo-replication session on the lab through
# RabbitMQ, showing the events and the PostgreSQL rows until the session is ACTIVE. The services
# stay up afterwards so that you can use the API (ops/services.sh stop stops them).
set -euo pipefail
cd "$(dirname "$0")/.."

ops/stack-up.sh
set -a
# shellcheck disable=SC1091
. /var/lib/georep/stack.env
set +a

# GEOREP_BUILD=debug: the debug build, which ops/test.sh builds anyway (CI saves a release build).
export GEOREP_BUILD=${GEOREP_BUILD:-release}
echo "[demo] building ($GEOREP_BUILD)"
swift build -c "$GEOREP_BUILD" 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | tail -3
bin=.build/$GEOREP_BUILD/georep

echo "[demo] starting two workers, a persister and the API"
# A short monitor interval, so that the demo shows the bricks' Initializing too.
export GEOREP_MONITOR_INTERVAL=${GEOREP_MONITOR_INTERVAL:-3}
ops/services.sh start 2
for port in 9811 9812 9820 8080; do
    for _ in $(seq 1 30); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 1; done
done

"$bin" demo --secondary "$GEOREP_LAB_HOST::svol" "$@"

volume=mvol
cat <<EOT

[demo] done: the session is ACTIVE on the lab and in PostgreSQL, and the services are running
(ops/services.sh status; ops/services.sh stop). Try the API (tokens in /var/lib/georep/stack.env):

  set -a; . /var/lib/georep/stack.env; set +a
  curl -s -H "Authorization: Bearer \$GEOREP_API_READ_TOKEN" \\
       http://127.0.0.1:8080/api/clusters/lab/glustervolumes/$volume/georeplication-sessions
  curl -s -H "Authorization: Bearer \$GEOREP_API_READ_TOKEN" -H "Accept: application/json" \\
       http://127.0.0.1:8080/api/clusters/lab/glustervolumes/$volume/georeplication-sessions

  psql "\$GEOREP_PG_URL" -c 'SELECT session_id, status, slave_host_name, slave_volume_name FROM gluster_georep_session'
  $bin publish stop --secondary $GEOREP_LAB_HOST::svol
EOT
