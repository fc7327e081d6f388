#!/usr/bin/env bash
# A PostgreSQL primary with a synchronous streaming standby on this machine, beside the stack's
# own PostgreSQL (which it leaves alone): the failover test's, and a way to try one by hand.
#
#   ops/pg-pair.sh up        # primary 127.0.0.1:55442, standby 127.0.0.1:55443 (idempotent)
#   ops/pg-pair.sh failover  # kill -9 of the primary's postmaster, then the standby promoted
#   ops/pg-pair.sh status    # which is which
#   ops/pg-pair.sh down      # both stopped and removed
#
# Clients use libpq's host list, which finds the writable one on every (re)connect:
#   postgresql://georep:georep@127.0.0.1:55442,127.0.0.1:55443/georep?target_session_attrs=read-write
# Synchronous (synchronous_standby_names, synchronous_commit=on): a commit returns only once the
# standby has the WAL, so what a persister committed and then acked survives the primary's loss.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root"
pgbin=$(pg_bin) || die "PostgreSQL binaries not found under /usr/lib/postgresql"
PAIR=$GEOREP_STATE/pg-pair
PRIMARY_PORT=${GEOREP_PG_PAIR_PORT:-55442}
STANDBY_PORT=$((PRIMARY_PORT + 1))
SOCKETS=$PAIR/sockets

as_pg() { runuser -u postgres -- "$@" </dev/null; }
running() { as_pg "$pgbin/pg_ctl" -D "$1" status >/dev/null 2>&1; }
start() { running "$1" || as_pg "$pgbin/pg_ctl" -D "$1" -l "$1/server.log" -w -t 60 start >/dev/null 2>&1; }
psql_at() { as_pg psql -h "$SOCKETS" -p "$1" -U postgres -v ON_ERROR_STOP=1 -qAt "${@:2}"; }

up() {
    mkdir -p "$SOCKETS"
    chown postgres:postgres "$PAIR" "$SOCKETS"
    if [ ! -f "$PAIR/primary/PG_VERSION" ]; then
        log "initialising the pair's primary on 127.0.0.1:$PRIMARY_PORT"
        install -d -o postgres -g postgres "$PAIR/primary"
        as_pg "$pgbin/initdb" --no-sync -D "$PAIR/primary" -U postgres --auth-local=peer --auth-host=scram-sha-256 >/dev/null
        cat >>"$PAIR/primary/postgresql.conf" <<CONF
# georep pg-pair: primary
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
unix_socket_directories = '$SOCKETS'
wal_level = replica
max_wal_senders = 4
synchronous_commit = on
CONF
        echo "host replication replicator 127.0.0.1/32 scram-sha-256" >>"$PAIR/primary/pg_hba.conf"
    fi
    start "$PAIR/primary"
    psql_at "$PRIMARY_PORT" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'georep') THEN CREATE ROLE georep LOGIN PASSWORD 'georep'; END IF; END \$\$;"
    psql_at "$PRIMARY_PORT" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator') THEN CREATE ROLE replicator REPLICATION LOGIN PASSWORD 'replicator'; END IF; END \$\$;"
    [ "$(psql_at "$PRIMARY_PORT" -c "SELECT 1 FROM pg_database WHERE datname = 'georep'")" = 1 ] ||
        psql_at "$PRIMARY_PORT" -c "CREATE DATABASE georep OWNER georep"
    if [ ! -f "$PAIR/standby/PG_VERSION" ]; then
        log "copying the primary to the standby on 127.0.0.1:$STANDBY_PORT (pg_basebackup)"
        install -d -o postgres -g postgres -m 0700 "$PAIR/standby"
        # -R: standby.signal and primary_conninfo; application_name names it for synchronous_standby_names.
        as_pg env PGPASSWORD=replicator "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U replicator -D "$PAIR/standby" -R -X stream --no-sync \
            -d "application_name=georep_standby"
        cat >>"$PAIR/standby/postgresql.conf" <<CONF
# georep pg-pair: standby
port = $STANDBY_PORT
hot_standby = on
CONF
    fi
    start "$PAIR/standby"
    # Synchronous only once the standby streams: before, every commit would wait for it.
    if [ "$(psql_at "$PRIMARY_PORT" -c "SHOW synchronous_standby_names")" != georep_standby ]; then
        psql_at "$PRIMARY_PORT" -c "ALTER SYSTEM SET synchronous_standby_names = 'georep_standby'"
        psql_at "$PRIMARY_PORT" -c "SELECT pg_reload_conf()" >/dev/null
    fi
    wait_for 30 "the standby's synchronous replication" \
        bash -c "[ \"\$(runuser -u postgres -- psql -h '$SOCKETS' -p '$PRIMARY_PORT' -U postgres -qAt -c \"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'georep_standby'\")\" = sync ]"
    log "pg-pair up: primary 127.0.0.1:$PRIMARY_PORT, synchronous standby 127.0.0.1:$STANDBY_PORT"
}

failover() {
    local pid
    pid=$(head -1 "$PAIR/primary/postmaster.pid" 2>/dev/null) || die "the pair's primary is not running"
    kill -9 "$pid"
    log "killed the primary's postmaster (pid $pid, kill -9)"
    as_pg "$pgbin/pg_ctl" -D "$PAIR/standby" -w -t 60 promote >/dev/null
    log "promoted the standby on 127.0.0.1:$STANDBY_PORT"
}

status() {
    local dir port
    for dir in primary standby; do
        port=$([ $dir = primary ] && echo "$PRIMARY_PORT" || echo "$STANDBY_PORT")
        if running "$PAIR/$dir"; then
            echo "$dir 127.0.0.1:$port in_recovery=$(psql_at "$port" -c 'SELECT pg_is_in_recovery()' 2>/dev/null || echo "? (not answering)")"
        else
            echo "$dir 127.0.0.1:$port stopped"
        fi
    done
}

down() {
    local dir pid
    for dir in standby primary; do
        if running "$PAIR/$dir"; then as_pg "$pgbin/pg_ctl" -D "$PAIR/$dir" -m immediate -w stop >/dev/null 2>&1 || true; fi
        # A postmaster killed with -9 leaves children behind for a moment.
        pid=$(head -1 "$PAIR/$dir/postmaster.pid" 2>/dev/null || true)
        [ -n "$pid" ] && pkill -9 -P "$pid" 2>/dev/null || true
    done
    rm -rf "$PAIR"
    log "pg-pair removed"
}

case "${1:-}" in
up) up ;;
failover) failover ;;
status) status ;;
down) down ;;
*) die "usage: $0 up|failover|status|down" ;;
esac
