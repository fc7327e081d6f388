#!/usr/bin/env bash
# Creates (or updates) one RabbitMQ user per service with only the permissions it needs, on the
# topology named by PREFIX: `ops/rabbitmq/users.sh PREFIX PASSWORD-FILE [VHOST]`.
# PASSWORD-FILE gets (once) a random password per user, as NAME=password lines.
#
#   user                 configure           write                                   read
#   PREFIX-worker        its private queues  events, dlx, retry, workers, commands     shard queues, journal,
#                                            (monitor ticks, rerouted commands), shard  workers, private queues
#                                            queues and journal (markers), replies
#   PREFIX-persister     nothing             dlx (dead letters)                        its queue
#   PREFIX-api           nothing             commands, events (accepted)               nothing
#   PREFIX-publisher     its reply queue     commands                                  its reply queue
#
# The services run with GEOREP_DECLARE_TOPOLOGY=false: ops create the topology
# (rabbitmqctl import_definitions ops/rabbitmq/definitions.json).
#
# Commands carry the publishing user as user_id, which RabbitMQ checks (no user made here has the
# impersonator tag, which would let it claim any). The workers grant the options gsyncd runs as root
# (ssh-command, rsync-options, …) only to the users in their GEOREP_AMQP_ADMIN_USERS: list PREFIX-api
# there for the API's admin tokens, never PREFIX-worker or PREFIX-publisher.
set -euo pipefail
prefix=${1:?usage: $0 PREFIX PASSWORD-FILE [VHOST]}
passwords=${2:?usage: $0 PREFIX PASSWORD-FILE [VHOST]}
vhost=${3:-georep}
p=${prefix//./\\.}
private='amq\.gen-.*'
[ -f "$passwords" ] || { umask 077; : >"$passwords"; }
password() {
    local name=$1 value
    value=$(grep -E "^${name}=" "$passwords" | cut -d= -f2- || true)
    if [ -z "$value" ]; then
        value=$(openssl rand -hex 16)
        printf '%s=%s\n' "$name" "$value" >>"$passwords"
    fi
    printf '%s' "$value"
}
user() { # NAME CONFIGURE WRITE READ
    local name=$1 pw
    pw=$(password "$name")
    if rabbitmqctl -q list_users | awk '{print $1}' | grep -qx "$name"; then
        rabbitmqctl -q change_password "$name" "$pw" >/dev/null
    else
        rabbitmqctl -q add_user "$name" "$pw" >/dev/null
    fi
    rabbitmqctl -q set_user_tags "$name" >/dev/null
    rabbitmqctl -q set_permissions -p "$vhost" "$name" "$2" "$3" "$4" >/dev/null
}
# Publishing through the default exchange (markers into a queue, replies to reply_to) needs
# write on amq.default.
user "$prefix-worker" "^${private}\$" \
    "^(${p}\.(events|dlx|retry|workers|journal|commands)|${p}\.commands\.shard\..*|${private}|amq\.default)\$" \
    "^(${p}\.commands\.shard\..*|${p}\.journal|${p}\.workers|${private})\$"
user "$prefix-persister" '^$' "^${p}\.dlx\$" "^${p}\.persister\$"
user "$prefix-api" '^$' "^${p}\.(commands|events)\$" '^$'
user "$prefix-publisher" "^${private}\$" "^${p}\.commands\$" "^${private}\$"
