#!/usr/bin/env bash
# Stops what stack-up.sh started. With --purge also removes the lab's volumes and all state, so
# the next stack-up starts from nothing. Safe to run when nothing is running or installed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
purge=0
[ "${1:-}" = "--purge" ] && purge=1

pkill -f 'georep (worker|persister)' 2>/dev/null && log "stopped georep processes"
# The tests' extra servers: the three-node RabbitMQ cluster and the PostgreSQL pair.
[ -d "$GEOREP_STATE/rabbit-cluster" ] && "$here/rabbit-cluster.sh" down
[ -d "$GEOREP_STATE/pg-pair" ] && "$here/pg-pair.sh" down
# The multi-node gluster lab first: its hosts' daemons share this process table.
{ [ -d "$GEOREP_STATE/pools" ] || ip link show georep-br0 >/dev/null 2>&1; } && "$here/gluster-pools.sh" down
if command -v gluster >/dev/null && pgrep -x glusterd >/dev/null; then
    if [ $purge = 1 ]; then
        # Columns: primary node, primary vol, primary brick, secondary user, secondary, ...
        for s in $(gluster --mode=script volume geo-replication status 2>/dev/null | awk '$5 ~ /::/ {print $2","$5}' | sort -u); do
            vol=${s%%,*}; sec=${s#*,}; sec=${sec#ssh://}
            gluster --mode=script volume geo-replication "$vol" "$sec" stop force >/dev/null 2>&1
            gluster --mode=script volume geo-replication "$vol" "$sec" delete >/dev/null 2>&1
        done
        for v in mvol svol svol2 svol3; do
            gluster --mode=script volume stop "$v" force >/dev/null 2>&1
            gluster --mode=script volume delete "$v" >/dev/null 2>&1
        done
    fi
fi
pkill -f gsyncd 2>/dev/null && log "stopped gsyncd"
pkill -f glustereventsd 2>/dev/null && log "stopped glustereventsd"
if pgrep -x glusterd >/dev/null || pgrep -x glusterfsd >/dev/null || pgrep -x glusterfs >/dev/null; then
    pkill -x glusterd; pkill -x glusterfsd; pkill -x glusterfs
    log "stopped glusterd and brick processes"
fi
pgbin=$(pg_bin)
if [ -n "$pgbin" ] && [ -f "$PG_DATA/PG_VERSION" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && log "stopped PostgreSQL"
fi
if command -v rabbitmqctl >/dev/null && rabbitmqctl -q status >/dev/null 2>&1; then
    rabbitmqctl -q shutdown >/dev/null 2>&1 && log "stopped RabbitMQ"
fi
pkill -x sshd 2>/dev/null && log "stopped sshd"
if [ $purge = 1 ]; then
    rm -rf "$GEOREP_STATE" /var/lib/glusterd/vols/{mvol,svol,svol2,svol3} /var/lib/glusterd/geo-replication/mvol_* 2>/dev/null
    log "purged $GEOREP_STATE and the lab's gluster state"
fi
log "down"
exit 0
