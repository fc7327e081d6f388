#!/usr/bin/env bash
# Brings up everything the service needs on this Debian machine, idempotently:
# RabbitMQ (127.0.0.1:5672), PostgreSQL (own data directory, 127.0.0.1:55432), sshd, and a
# single-node GlusterFS geo-replication lab (primary mvol with two bricks, secondaries svol
# (the demo's), svol2 (the end-to-end test's) and svol3 (the gluster executor tests'); and
# cvol -> csvol, one brick each, for the checkpoint test).
# Writes the settings to /var/lib/georep/stack.env and the inventory beside it.
# Run as root. Safe to run again: what is already up is left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root"
export DEBIAN_FRONTEND=noninteractive

# --- packages -------------------------------------------------------------------------------
packages=(rabbitmq-server postgresql glusterfs-server openssh-server openssh-client rsync iproute2 librabbitmq-dev libpq-dev pkg-config openssl)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    # No services are started by the packages here (no systemd); this script starts them.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p "$GEOREP_STATE"

# --- Python tools (ops/requirements.txt, exact versions) -------------------------------------
# The README's examples (pika) run right after the demo, and the tests use the same versions.
if ! python3 "$here/check-requirements.py" "$here/requirements.txt" 2>/dev/null; then
    log "installing the Python tools of ops/requirements.txt"
    python3 -m pip install -q -r "$here/requirements.txt"
fi

# --- TLS material for amqps (a CA of the stack's own; the tests verify against it) -------------
tls=$GEOREP_STATE/tls
if [ ! -s "$tls/client.pem" ]; then
    log "making a CA and certificates in $tls"
    mkdir -p "$tls"
    (
        cd "$tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=georep stack CA" -keyout ca.key -out ca.pem 2>/dev/null
        for who in server client; do
            openssl req -newkey rsa:2048 -nodes -subj "/CN=$( [ $who = server ] && echo localhost || echo georep-client)" \
                -keyout $who.key -out $who.csr 2>/dev/null
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >$who.ext
            openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile $who.ext -out $who.pem 2>/dev/null
        done
        rm -f ./*.csr ./*.ext
    )
    chmod 644 "$tls"/*.pem
    chmod 640 "$tls"/*.key
    chgrp rabbitmq "$tls/server.key" 2>/dev/null || chmod 644 "$tls/server.key"
fi

# --- RabbitMQ -------------------------------------------------------------------------------
mkdir -p /etc/rabbitmq
rabbit_restart=0
# write_if_changed FILE: stdin becomes FILE's content; a change means RabbitMQ must restart.
write_if_changed() {
    local tmp
    tmp=$(mktemp)
    cat >"$tmp"
    if ! cmp -s "$tmp" "$1"; then
        mv "$tmp" "$1"
        chmod 644 "$1"
        rabbit_restart=1
    else
        rm -f "$tmp"
    fi
}
write_if_changed /etc/rabbitmq/rabbitmq.conf <<CONF
# georep local stack: loopback only; amqps with the stack's CA on 5671.
listeners.tcp.default = 127.0.0.1:5672
listeners.ssl.default = 127.0.0.1:5671
ssl_options.cacertfile = $tls/ca.pem
ssl_options.certfile = $tls/server.pem
ssl_options.keyfile = $tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
management.tcp.ip = 127.0.0.1
CONF
write_if_changed /etc/rabbitmq/rabbitmq-env.conf <<'CONF'
# georep local stack: node name and Erlang distribution on loopback.
NODENAME=rabbit@localhost
ERL_EPMD_ADDRESS=127.0.0.1
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
CONF
export ERL_EPMD_ADDRESS=127.0.0.1
rabbitmq-plugins enable --offline rabbitmq_consistent_hash_exchange >/dev/null
if [ $rabbit_restart = 1 ] && rabbitmqctl -q status >/dev/null 2>&1; then
    log "RabbitMQ's configuration changed: restarting it"
    rabbitmqctl -q shutdown >/dev/null 2>&1 || true
fi
if ! rabbitmqctl -q status >/dev/null 2>&1; then
    log "starting RabbitMQ"
    rabbitmq-server -detached >/dev/null 2>&1 || true
    wait_for 120 "RabbitMQ" rabbitmqctl -q await_startup --timeout 5
else
    log "RabbitMQ is running"
fi
rabbitmqctl -q list_vhosts | grep -qx georep || rabbitmqctl -q add_vhost georep
rabbitmqctl -q list_users | awk '{print $1}' | grep -qx georep || rabbitmqctl -q add_user georep georep
rabbitmqctl -q set_user_tags georep administrator
rabbitmqctl -q set_permissions -p georep georep '.*' '.*' '.*'

# One user per service with least privilege on the georep topology (ops/rabbitmq/users.sh).
"$here/rabbitmq/users.sh" georep "$GEOREP_STATE/rabbitmq-passwords" georep

# --- PostgreSQL -----------------------------------------------------------------------------
pgbin=$(pg_bin) || die "PostgreSQL binaries not found under /usr/lib/postgresql"
mkdir -p "$PG_SOCKETS"
chown postgres:postgres "$PG_SOCKETS"
if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "initialising PostgreSQL in $PG_DATA"
    mkdir -p "$PG_DATA"
    chown postgres:postgres "$PG_DATA"
    runuser -u postgres -- "$pgbin/initdb" -D "$PG_DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    cat >>"$PG_DATA/postgresql.conf" <<CONF
# georep local stack
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKETS'
CONF
fi
if ! runuser -u postgres -- "$pgbin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 start >/dev/null
else
    log "PostgreSQL is running"
fi
psql_admin() { runuser -u postgres -- psql -h "$PG_SOCKETS" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_admin -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'georep') THEN CREATE ROLE georep LOGIN PASSWORD 'georep'; END IF; END \$\$;"
# CREATEDB: the tests prove concurrent migrations on a scratch database of their own.
psql_admin -c "ALTER ROLE georep CREATEDB"
[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'georep'")" = 1 ] || psql_admin -c "CREATE DATABASE georep OWNER georep"
# Least privilege: the persister's role writes, the API's reads (grants: Schemas/sql/0005).
pg_passwords=$GEOREP_STATE/pg-passwords
[ -s "$pg_passwords" ] || (umask 077; printf 'PERSISTER=%s\nAPI=%s\n' "$(openssl rand -hex 16)" "$(openssl rand -hex 16)" >"$pg_passwords")
# shellcheck disable=SC1090
. "$pg_passwords"
for role in persister api; do
    pw=$PERSISTER; [ $role = api ] && pw=$API
    psql_admin -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'georep_$role') THEN CREATE ROLE georep_$role LOGIN PASSWORD '$pw'; END IF; END \$\$;"
done
# TLS with the stack's CA, so that clients can use sslmode=verify-full.
if ! grep -q '^ssl = on' "$PG_DATA/postgresql.conf"; then
    install -o postgres -g postgres -m 0600 "$tls/server.key" "$PG_DATA/server.key"
    install -o postgres -g postgres -m 0644 "$tls/server.pem" "$PG_DATA/server.crt"
    printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" >>"$PG_DATA/postgresql.conf"
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$PG_DATA" reload >/dev/null
fi

# --- sshd and keys --------------------------------------------------------------------------
host=$(lab_host)
mkdir -p /run/sshd /root/.ssh "$GEOREP_STATE/ssh"
chmod 700 /root/.ssh
ssh-keygen -A >/dev/null
if [ ! -f /etc/ssh/sshd_config.d/georep.conf ]; then
    cat >/etc/ssh/sshd_config.d/georep.conf <<'CONF'
# georep lab: root logs in with keys only (gluster geo-replication runs as root here).
PermitRootLogin prohibit-password
PasswordAuthentication no
CONF
fi
[ -f /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519
authorize_lab_key /root/.ssh/authorized_keys
if [ -z "$(root_pids -x sshd)" ]; then
    log "starting sshd"
    /usr/sbin/sshd
fi
wait_for 20 "sshd" bash -c "ssh-keyscan -T 2 -t ed25519 $host 2>/dev/null | grep -q ssh-ed25519"
ssh-keyscan -T 5 "$host" 2>/dev/null | sort >"$GEOREP_STATE/ssh/known_hosts"
# gluster's create push-pem verifies the secondary with root's own key and no host-key prompt.
ssh-keyscan -T 5 "$host" 2>/dev/null >>/root/.ssh/known_hosts
sort -u -o /root/.ssh/known_hosts /root/.ssh/known_hosts
ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$GEOREP_STATE/ssh/known_hosts" "root@$host" true \
    || die "ssh root@$host does not work with the lab key"

# --- GlusterFS lab --------------------------------------------------------------------------
# A test that wedges glusterd on purpose (SIGSTOP) and died before resuming it must not leave the
# lab frozen for the next run.
for pid in $(root_pids -x glusterd) $(root_pids -f gverify.sh); do kill -CONT "$pid" 2>/dev/null || true; done
if [ -z "$(root_pids -x glusterd)" ]; then
    log "starting glusterd"
    glusterd
fi
wait_for 60 "glusterd" gluster --mode=script pool list
bricks=$LAB_DIR/bricks
mkdir -p "$bricks"/{b1,b2,s1,s2,s3,c1,cs1}
ensure_volume mvol "$host:$bricks/b1" "$host:$bricks/b2"
ensure_volume svol "$host:$bricks/s1"
ensure_volume svol2 "$host:$bricks/s2"
ensure_volume svol3 "$host:$bricks/s3"
# The checkpoint test's own pair, one brick each, whose bricks the test restarts: on mvol, used
# by every lab test, a new session's worker at times never left its first changelog crawl
# (docs/lab.md, "Quirks").
ensure_volume cvol "$host:$bricks/c1"
ensure_volume csvol "$host:$bricks/cs1"
gsyncd_keep_secondary_mount
secret=/var/lib/glusterd/geo-replication/common_secret.pem.pub
if [ ! -s "$secret" ]; then
    log "generating the geo-replication keys (gsec_create)"
    gluster --mode=script system:: execute gsec_create >/dev/null
fi
# create push-pem puts these forced-command lines into authorized_keys; have them there from the
# start. Never the bare secret.pem.pub / tar_ssh.pem.pub keys: sshd takes the first matching line,
# and a bare one sends gsyncd to /nonexistent/gsyncd (the session goes Faulty).
while IFS= read -r line; do
    [ -n "$line" ] || continue
    grep -qxF "$line" /root/.ssh/authorized_keys || printf '%s\n' "$line" >>/root/.ssh/authorized_keys
done <"$secret"
# A bare key line left by an interrupted Faulty test (LabSessionTests puts one first) goes.
for bare in /var/lib/glusterd/geo-replication/secret.pem.pub /var/lib/glusterd/geo-replication/tar_ssh.pem.pub; do
    if [ -s "$bare" ] && grep -qxF "$(cat "$bare")" /root/.ssh/authorized_keys; then
        log "removing a bare geo-replication key line from authorized_keys"
        grep -vxF "$(cat "$bare")" /root/.ssh/authorized_keys >/root/.ssh/authorized_keys.new || true
        cat /root/.ssh/authorized_keys.new >/root/.ssh/authorized_keys
        rm -f /root/.ssh/authorized_keys.new
    fi
done

# glustereventsd (webhooks of GEOREP_* events); optional for the skeleton.
if command -v glustereventsd >/dev/null && [ -z "$(root_pids -f glustereventsd)" ]; then
    (setsid glustereventsd >/dev/null 2>&1 &) || log "warning: glustereventsd did not start"
fi

# The multi-node lab (two pools on three hosts in network namespaces; docs/lab.md).
"$here/gluster-pools.sh" up

# --- settings for the service and its tests -------------------------------------------------
# Tokens of the local API and webhook receiver, made once (random, kept in the state directory).
tokens=$GEOREP_STATE/tokens
if [ ! -s "$tokens" ]; then
    umask 077
    printf 'WRITE=%s\nREAD=%s\nWEBHOOK=%s\n' "$(openssl rand -hex 16)" "$(openssl rand -hex 16)" "$(openssl rand -hex 16)" >"$tokens"
    umask 022
fi
# shellcheck disable=SC1090
. "$tokens"
cat >"$GEOREP_STATE/inventory.json" <<JSON
{"clusters":[{"id":"lab","hosts":[{"name":"$host","transport":"local"},{"name":"$host","transport":"ssh"}]}],"ssh":{"user":"root","identity_file":"/root/.ssh/id_ed25519","known_hosts_file":"$GEOREP_STATE/ssh/known_hosts","port":22}}
JSON
# Values are quoted: the file is sourced by shells (URLs hold '&') and read by systemd.
cat >"$GEOREP_STATE/stack.env" <<ENV
GEOREP_AMQP_URL='amqp://georep:georep@127.0.0.1:5672/georep'
GEOREP_AMQPS_URL='amqps://georep:georep@localhost:5671/georep?cacertfile=$tls/ca.pem'
GEOREP_TLS_DIR='$tls'
GEOREP_PG_URL='postgresql://georep:georep@127.0.0.1:$PG_PORT/georep'
GEOREP_LAB_HOST='$host'
GEOREP_INVENTORY='$GEOREP_STATE/inventory.json'
GEOREP_POOLS_INVENTORY='$GEOREP_STATE/pools/inventory.json'
GEOREP_SSH_KNOWN_HOSTS='$GEOREP_STATE/ssh/known_hosts'
GEOREP_SSH_IDENTITY='/root/.ssh/id_ed25519'
GEOREP_API_TOKENS='$WRITE:write,$READ:read'
GEOREP_API_WRITE_TOKEN='$WRITE'
GEOREP_API_READ_TOKEN='$READ'
GEOREP_WEBHOOK_TOKENS='$WEBHOOK'
GEOREP_PG_TLS_URL='postgresql://georep:georep@localhost:$PG_PORT/georep?sslmode=verify-full&sslrootcert=$tls/ca.pem'
GEOREP_PG_PERSISTER_URL='postgresql://georep_persister:$PERSISTER@localhost:$PG_PORT/georep?sslmode=verify-full&sslrootcert=$tls/ca.pem'
GEOREP_PG_API_URL='postgresql://georep_api:$API@localhost:$PG_PORT/georep?sslmode=verify-full&sslrootcert=$tls/ca.pem'
GEOREP_RABBITMQ_PASSWORDS='$GEOREP_STATE/rabbitmq-passwords'
ENV
chmod 600 "$GEOREP_STATE/stack.env"
log "up: RabbitMQ 127.0.0.1:5672 (vhost georep), PostgreSQL 127.0.0.1:$PG_PORT (db georep), lab host $host (mvol -> svol, svol2, svol3; cvol -> csvol)"
log "settings: $GEOREP_STATE/stack.env"
