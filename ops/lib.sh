# Shared helpers for the stack scripts (sourced, not run).
GEOREP_STATE=${GEOREP_STATE:-/var/lib/georep}
PG_PORT=${GEOREP_PG_PORT:-55432}
PG_DATA=$GEOREP_STATE/postgres
PG_SOCKETS=$GEOREP_STATE/pgsock
LAB_DIR=$GEOREP_STATE/lab

log() { printf '[stack] %s\n' "$*"; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

# Closes every descriptor above stderr that the caller leaked to us (a test's pipes and sockets),
# so that a server this script starts holds none of them: a restarted postmaster or RabbitMQ node
# that inherits a pipe keeps its reader waiting forever.
close_inherited_descriptors() {
    local fd n
    for fd in /proc/$$/fd/*; do
        n=${fd##*/}
        [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" 2>/dev/null
    done
    return 0
}

# authorize_lab_key FILE: the lab key (/root/.ssh/id_ed25519.pub) in the authorized_keys FILE,
# once; FILE made and kept mode 0600. Root here, root on each lab host and s1's geo-replication
# account log in with it.
authorize_lab_key() {
    local file=$1
    touch "$file"
    chmod 600 "$file"
    grep -qF "$(cut -d' ' -f2 /root/.ssh/id_ed25519.pub)" "$file" || cat /root/.ssh/id_ed25519.pub >>"$file"
}

# wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds, for SECONDS of wall time (a probe
# that itself takes seconds, such as rabbitmqctl, does not stretch the limit).
wait_for() {
    local seconds=$1 what=$2; shift 2
    local deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    die "$what did not come up within ${seconds}s"
}

pg_bin() {
    local v
    v=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
    [ -n "$v" ] && echo "/usr/lib/postgresql/$v/bin"
}

# The lab's host name: this machine's name when it resolves to a loopback address (as on the
# machine the recorded gluster output comes from), otherwise a name of our own in /etc/hosts.
# gluster refuses "localhost" and 127.0.0.1 as brick hosts, but accepts a name for them.
lab_host() {
    local h
    h=$(hostname)
    if getent ahostsv4 "$h" 2>/dev/null | awk '{print $1}' | grep -q '^127\.'; then
        echo "$h"
        return
    fi
    grep -qE '^127\.0\.0\.1[[:space:]].*\bgeorep-lab\b' /etc/hosts || echo "127.0.0.1 georep-lab" >>/etc/hosts
    echo georep-lab
}

# gsyncd keeps the secondary's auxiliary mount mounted (secondary-access-mount = true, the
# default for every session on this machine, in /etc/glusterfs/gsyncd.conf). Debian's rsync
# 3.5.0 (bookworm-security) resolves the target gsyncd gives it, /proc/PID/cwd, to its path
# text: "/" once the mount is lazily unmounted, as it is by default. The files' entries reach
# the secondary but rsync copies no data into them: empty files, rc 0, "not creating new
# directory .gfid" (and without --existing it would write into the secondary's own /.gfid).
gsyncd_keep_secondary_mount() {
    local conf=/etc/glusterfs/gsyncd.conf
    [ -f "$conf" ] || return 0
    awk '/^\[/ { section = $0 } section == "[secondary-access-mount]" && $0 == "value=false" { $0 = "value=true" } { print }' \
        "$conf" >"$conf.georep" && cat "$conf.georep" >"$conf" && rm -f "$conf.georep"
}

# netns_pids NETNS-FILE PGREP-ARGS...: what pgrep finds in the network namespace NETNS-FILE
# names (/proc/PID/ns/net, /run/netns/NAME). The lab hosts of ops/gluster-pools.sh share this
# machine's process table, so a bare pgrep finds every host's glusterd.
netns_pids() {
    local want p
    want=$(stat -L -c %i "$1")
    shift
    for p in $(pgrep "$@"); do
        [ "$(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null)" = "$want" ] && echo "$p"
    done
    return 0
}

# root_pids PGREP-ARGS...: what pgrep finds in this machine's own network namespace.
root_pids() { netns_pids /proc/$$/ns/net "$@"; }

# eventsapi ATTEMPTS COMMAND ARGS...: gluster-eventsapi COMMAND ARGS... until it succeeds, through
# the command in the EVENTSAPI array (default: gluster-eventsapi; a lab host's:
# EVENTSAPI=(on p1 gluster-eventsapi), set local by the caller); its output on failure.
# Why the retries: gluster-eventsapi writes the webhook file, then syncs it through glusterd
# (`gluster system:: execute`), which fails while another client holds glusterd's lock — a
# worker's status round, say. The file is written by then, so a retry of an add modifies; a
# removal of what is gone is done.
eventsapi() {
    local attempts=$1 out i; shift
    for ((i = 1; i <= attempts; i++)); do
        if out=$("${EVENTSAPI[@]:-gluster-eventsapi}" "$@" 2>&1); then return 0; fi
        log "gluster-eventsapi $1 failed (attempt $i of $attempts): $(printf '%s' "$out" | tr '\n' ' ')"
        case "$out" in
        *"already exists"*) [ "$1" = webhook-add ] && set -- webhook-mod "${@:2}" ;;
        *"does not exists"* | *"does not exist"*) [ "$1" = webhook-del ] && return 0 ;;
        esac
        sleep 2
    done
    return 1
}

# ensure_volume NAME ARGS...: gluster volume NAME created (ARGS: its layout and bricks) and
# started, each only if needed, through the command in the GLUSTER array (default: gluster; a
# lab host's: GLUSTER=(on p1 gluster), set local by the caller).
ensure_volume() {
    local name=$1; shift
    local cli=("${GLUSTER[@]:-gluster}" --mode=script)
    if ! "${cli[@]}" volume info "$name" >/dev/null 2>&1; then
        log "creating volume $name"
        "${cli[@]}" volume create "$name" "$@" force >/dev/null
    fi
    if ! says $'\nStatus: Started' "${cli[@]}" volume info "$name"; then
        log "starting volume $name"
        "${cli[@]}" volume start "$name" >/dev/null
    fi
}

# says TEXT COMMAND...: COMMAND succeeds and its output contains TEXT. Not `COMMAND | grep -q`:
# under pipefail, grep's early exit can fail the pipeline with SIGPIPE (an address was once
# added twice that way).
says() {
    local text=$1 out
    shift
    out=$("$@" 2>/dev/null) || return 1
    [[ $out == *"$text"* ]]
}
