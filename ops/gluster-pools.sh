#!/usr/bin/env bash
# A multi-node GlusterFS lab on this one machine (issue 17): two trusted pools on three hosts,
# each host a network namespace with its own mount and UTS namespaces, so that its glusterd,
# sshd and glustereventsd, /var/lib/glusterd, /var/lib/misc/gluster (gsyncd's working files:
# two bricks of one replica set have the same path), /run, /tmp, /var/log/glusterfs, ssh host
# keys and /root/.ssh are its own. They share this machine's process table.
#
#   primary pool:   p1 (198.18.0.11), p2 (198.18.0.12)
#                   rvol  replica 2 (p1:/bricks/rvol, p2:/bricks/rvol)
#                   dvol  distribute (p1:/bricks/dvol, p2:/bricks/dvol)
#   secondary pool: s1 (198.18.0.21): srvol, sdvol
#   non-root (mountbroker): uvol on p1+p2 (distribute) -> geoaccount@s1::suvol; s1's glusterd
#                   lets the unprivileged geoaccount (group geogroup) mount suvol for gsyncd
#
#   ops/gluster-pools.sh up               # made and started (idempotent)
#   ops/gluster-pools.sh exec HOST CMD... # CMD inside HOST (its namespaces), e.g. exec p1 gluster pool list
#   ops/gluster-pools.sh kill HOST WHAT   # kill -9 of HOST's glusterd or sshd
#   ops/gluster-pools.sh start HOST       # HOST's daemons started again (those not running)
#   ops/gluster-pools.sh unplug HOST      # HOST off the network (its link down); plug HOST: back
#   ops/gluster-pools.sh webhook add URL TOKEN # glustereventsd of p1 and p2 post events to URL; webhook del URL
#   ops/gluster-pools.sh status           # each host's daemons and its pool as it sees it
#   ops/gluster-pools.sh down             # all stopped and removed, the routes and names too
#
# Network safety: addresses exist only on the bridge georep-br0 (198.18.0.1/24) and the veths
# made here; the namespaces have no default route; the root namespace has a blackhole route for
# 198.18.0.0/15 (the range RFC 2544 reserves for benchmarking), so that without the bridge not
# one packet for the lab leaves this machine. Names p1, p2, s1 resolve through /etc/hosts lines
# marked "georep-pools", in the root namespace and inside every host.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
close_inherited_descriptors
[ "$(id -u)" = 0 ] || die "run as root"

POOLS=$GEOREP_STATE/pools
NSDIR=/run/georep-pools
BRIDGE=georep-br0
RANGE=198.18.0.0/15
HOSTS=(p1 p2 s1)
declare -A ADDRESS=([p1]=198.18.0.11 [p2]=198.18.0.12 [s1]=198.18.0.21)
MARK="# georep-pools"
# The secondary pool's unprivileged account for non-root sessions (gluster-mountbroker).
MB_USER=geoaccount
MB_GROUP=geogroup
MB_ROOT=/var/mountbroker-root

netns() { echo "georep-$1"; }
veth() { echo "gr-$1"; }

# on HOST CMD...: CMD in HOST's network, mount and UTS namespaces.
on() {
    local h=$1; shift
    nsenter --net="/run/netns/$(netns "$h")" --mount="$NSDIR/$h.mnt" --uts="$NSDIR/$h.uts" -- "$@"
}

hosts_lines() {
    local h
    for h in "${HOSTS[@]}"; do echo "${ADDRESS[$h]} $h $MARK"; done
}

network() {
    ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
    says "198.18.0.1/24" ip addr show dev "$BRIDGE" || ip addr add 198.18.0.1/24 dev "$BRIDGE"
    ip link set "$BRIDGE" up
    says "blackhole $RANGE" ip route show type blackhole || ip route add blackhole "$RANGE"
    local h
    for h in "${HOSTS[@]}"; do
        [ -e "/run/netns/$(netns "$h")" ] || ip netns add "$(netns "$h")"
        if ! ip link show "$(veth "$h")" >/dev/null 2>&1; then
            ip link add "$(veth "$h")" type veth peer name eth0 netns "$(netns "$h")"
            ip link set "$(veth "$h")" master "$BRIDGE" up
        fi
        ip -n "$(netns "$h")" link set lo up
        says "${ADDRESS[$h]}/24" ip -n "$(netns "$h")" addr show dev eth0 || ip -n "$(netns "$h")" addr add "${ADDRESS[$h]}/24" dev eth0
        ip -n "$(netns "$h")" link set eth0 up
        # A peer unplugged while glusterd has a request in flight to it: keep-alives never start
        # on a connection with unacked data, so glusterd (ping-timeout 0) waited out the kernel's
        # 15 retransmissions (~15 min), holding the volume's lock ("Another transaction is in
        # progress" on p2 for as long). Five bound it to ~15 s, as an operator would set it
        # (or transport.tcp-user-timeout in glusterd.vol) on a real pool: docs/lab.md, "Quirks".
        ip netns exec "$(netns "$h")" sysctl -qw net.ipv4.tcp_retries2=5
    done
    # The names for the worker (root namespace).
    sed -i "/$MARK\$/d" /etc/hosts
    hosts_lines >>/etc/hosts
}

# namespaces HOST: HOST's own mount and UTS namespaces, kept by bind mounts under $NSDIR, with
# its own directories mounted over the system's.
namespaces() {
    local h=$1 d=$POOLS/$1
    if [ -f "$NSDIR/$h.mnt" ] && nsenter --mount="$NSDIR/$h.mnt" true 2>/dev/null; then return 0; fi
    install -d -m 0700 "$d/root-ssh"
    install -d "$d/glusterd" "$d/log" "$d/misc" "$d/bricks" "$d/etc-ssh"
    if [ ! -f "$d/glusterd/.seeded" ]; then
        # The package's own contents of /var/lib/glusterd (hooks, groups), not the root lab's state.
        cp -a /var/lib/glusterd/hooks /var/lib/glusterd/groups "$d/glusterd/"
        touch "$d/glusterd/.seeded"
    fi
    # The package makes it; without it glusterd cannot take a synced webhook list ("Unable to
    # open /var/lib/glusterd//events/webhooks.json" on p2).
    install -d "$d/glusterd/events"
    if [ ! -f "$d/etc-ssh/ssh_host_ed25519_key" ]; then
        cp -a /etc/ssh/. "$d/etc-ssh/"
        rm -f "$d"/etc-ssh/ssh_host_*
        ssh-keygen -q -t ed25519 -N '' -f "$d/etc-ssh/ssh_host_ed25519_key"
        printf 'ListenAddress %s\nHostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n' \
            "${ADDRESS[$h]}" >"$d/etc-ssh/sshd_config.d/georep.conf"
    fi
    { echo "127.0.0.1 localhost"; echo "${ADDRESS[$h]} $h"; hosts_lines | grep -v " $h " ; } >"$d/hosts"
    # One lab key for root on every host and in the root namespace: the worker, push-pem (p1 to
    # s1) and the hosts reach each other with it; gluster's own keys are added by push-pem.
    install -m 0600 /root/.ssh/id_ed25519 "$d/root-ssh/id_ed25519"
    install -m 0644 /root/.ssh/id_ed25519.pub "$d/root-ssh/id_ed25519.pub"
    authorize_lab_key "$d/root-ssh/authorized_keys"
    printf 'Host *\n    StrictHostKeyChecking accept-new\n' >"$d/root-ssh/config"

    mkdir -p "$NSDIR"
    if ! mountpoint -q "$NSDIR"; then mount --bind "$NSDIR" "$NSDIR"; fi
    mount --make-private "$NSDIR"
    touch "$NSDIR/$h.mnt" "$NSDIR/$h.uts"
    # Kept by bind mounts made in the root namespace (under ip netns exec they would be made in
    # its throwaway mount namespace and vanish with it).
    unshare --mount="$NSDIR/$h.mnt" --uts="$NSDIR/$h.uts" --propagation private true
    on "$h" bash -ec "
        hostname $h
        umount -l /sys && mount -t sysfs georep-$h-sys /sys
        mount -t tmpfs -o mode=0755 georep-$h-run /run
        mkdir -p /run/sshd /run/gluster /run/lock
        mount -t tmpfs -o mode=1777 georep-$h-tmp /tmp
        mount --bind '$d/glusterd' /var/lib/glusterd
        mount --bind '$d/log' /var/log/glusterfs
        mkdir -p /var/lib/misc/gluster && mount --bind '$d/misc' /var/lib/misc/gluster
        mount --bind '$d/etc-ssh' /etc/ssh
        mount --bind '$d/root-ssh' /root/.ssh
        mount --bind '$d/hosts' /etc/hosts
        mkdir -p /bricks && mount --bind '$d/bricks' /bricks
    "
}

# pids_in HOST PGREP-ARGS...: what pgrep finds in HOST's network namespace.
pids_in() { local h=$1; shift; netns_pids "/run/netns/$(netns "$h")" "$@"; }

daemons() {
    local h=$1
    if [ -z "$(pids_in "$h" -x glusterd)" ]; then log "starting glusterd on $h"; on "$h" glusterd; fi
    if [ -z "$(pids_in "$h" -x sshd)" ]; then log "starting sshd on $h"; on "$h" /usr/sbin/sshd; fi
    # Each host's own glustereventsd (UDP 24009 in its namespace) posts its GEOREP_* events to
    # the webhooks of /var/lib/glusterd/events/webhooks.json, which glusterd syncs over the pool.
    if [ -z "$(pids_in "$h" -f /usr/sbin/glustereventsd)" ]; then
        log "starting glustereventsd on $h"
        on "$h" setsid /usr/sbin/glustereventsd </dev/null >/dev/null 2>&1 &
    fi
    wait_for 60 "glusterd on $h" on "$h" gluster --mode=script pool list
}

up() {
    gsyncd_keep_secondary_mount
    network
    local h
    for h in "${HOSTS[@]}"; do namespaces "$h"; daemons "$h"; done
    # The primary pool: p1 probes p2.
    if ! says $'\tp2' on p1 gluster --mode=script pool list; then
        log "probing p2 from p1"
        on p1 gluster --mode=script peer probe p2 >/dev/null
    fi
    wait_for 60 "p2 in p1's pool" peer_connected p1 p2
    volume p1 rvol replica 2 p1:/bricks/rvol p2:/bricks/rvol
    volume p1 dvol p1:/bricks/dvol p2:/bricks/dvol
    volume s1 srvol s1:/bricks/srvol
    volume s1 sdvol s1:/bricks/sdvol
    volume p1 uvol p1:/bricks/uvol p2:/bricks/uvol
    volume s1 suvol s1:/bricks/suvol
    mountbroker
    # The geo-replication keys of the primary pool (an operator's first step; create push-pem
    # then carries them to s1 over ssh from p1).
    on p1 test -s /var/lib/glusterd/geo-replication/common_secret.pem.pub \
        || on p1 gluster --mode=script system:: execute gsec_create >/dev/null
    # The worker reaches the primary pool over ssh, p1 first, p2 when p1 does not answer.
    mkdir -p "$GEOREP_STATE/ssh"
    touch "$GEOREP_STATE/ssh/known_hosts"
    for h in p1 p2 s1; do
        sed -i "/^$h /d" "$GEOREP_STATE/ssh/known_hosts"
        wait_for 20 "sshd on $h" bash -c "ssh-keyscan -T 2 -t ed25519 $h 2>/dev/null | grep -q ssh-ed25519"
        ssh-keyscan -T 5 -t ed25519 "$h" 2>/dev/null >>"$GEOREP_STATE/ssh/known_hosts"
    done
    cat >"$POOLS/inventory.json" <<JSON
{"clusters":[{"id":"pool","hosts":[{"name":"p1","transport":"ssh"},{"name":"p2","transport":"ssh"}]}],"ssh":{"user":"root","identity_file":"/root/.ssh/id_ed25519","known_hosts_file":"$GEOREP_STATE/ssh/known_hosts","port":22}}
JSON
    ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$GEOREP_STATE/ssh/known_hosts" root@p2 true \
        || die "ssh root@p2 does not work with the lab key"
    log "gluster pools up: p1+p2 (rvol replica 2, dvol and uvol distribute), s1 (srvol, sdvol, suvol for $MB_USER); inventory $POOLS/inventory.json"
}

# mountbroker: s1 lets $MB_USER mount suvol for gsyncd, as an operator sets up a secondary for
# non-root sessions (gluster-mountbroker setup + add, glusterd restarted), and root of p1 may ssh
# to $MB_USER@s1 with the lab key (create push-pem needs it; set_geo_rep_pem_keys.sh on s1 then
# adds the pool's keys, after the session is created).
mountbroker() {
    local d=$POOLS/s1 home=/home/$MB_USER
    getent group "$MB_GROUP" >/dev/null || groupadd "$MB_GROUP"
    id -u "$MB_USER" >/dev/null 2>&1 || useradd -m -g "$MB_GROUP" -s /bin/bash "$MB_USER"
    # s1's own /etc/glusterfs (gluster-mountbroker rewrites glusterd.vol, which p1, p2 and the
    # single-node lab read too) and its own home for the account (its authorized_keys are s1's).
    install -d "$d/etc-glusterfs"
    install -d -o "$MB_USER" -g "$MB_GROUP" -m 0700 "$d/home"
    if ! on s1 mountpoint -q /etc/glusterfs; then
        [ -f "$d/etc-glusterfs/glusterd.vol" ] || cp -a /etc/glusterfs/. "$d/etc-glusterfs/"
        on s1 mount --bind "$d/etc-glusterfs" /etc/glusterfs
    fi
    on s1 mountpoint -q "$home" || on s1 mount --bind "$d/home" "$home"
    # Debian keeps gluster in /usr/sbin, outside an account's PATH; create push-pem checks the
    # account's `gluster --version` after sourcing /etc/profile, so s1's profile.d adds it.
    if ! on s1 mountpoint -q /etc/profile.d; then
        install -d "$d/profile.d"
        cp -a /etc/profile.d/. "$d/profile.d/"
        on s1 mount --bind "$d/profile.d" /etc/profile.d
    fi
    printf '# georep lab: gluster for non-root geo-replication accounts\ncase ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin ;; esac\n' \
        >"$d/profile.d/gluster-sbin.sh"
    install -d -o "$MB_USER" -g "$MB_GROUP" -m 0700 "$d/home/.ssh"
    authorize_lab_key "$d/home/.ssh/authorized_keys"
    chown "$MB_USER:$MB_GROUP" "$d/home/.ssh/authorized_keys"
    local vol=$d/etc-glusterfs/glusterd.vol
    if grep -q "mountbroker-geo-replication.$MB_USER .*suvol" "$vol" && grep -q "rpc-auth-allow-insecure on" "$vol" \
        && [ -n "$(pids_in s1 -x glusterd)" ] && [ "$(stat -c %Y "$vol")" -le "$(stat -c %Y "$d/glusterd-started" 2>/dev/null || echo 0)" ]; then
        return 0
    fi
    log "setting up mountbroker on s1 ($MB_USER may mount suvol)"
    on s1 gluster-mountbroker setup "$MB_ROOT" "$MB_GROUP" >/dev/null
    on s1 gluster-mountbroker add suvol "$MB_USER" >/dev/null
    # gsyncd of the account asks glusterd for the mount from an unprivileged port.
    grep -q "rpc-auth-allow-insecure on" "$vol" || sed -i 's/^end-volume/    option rpc-auth-allow-insecure on\nend-volume/' "$vol"
    local pid
    pid=$(pids_in s1 -x glusterd)
    if [ -n "$pid" ]; then
        kill $pid
        wait_for 30 "glusterd on s1 to stop" bash -c "! kill -0 $pid 2>/dev/null"
    fi
    daemons s1
    touch "$d/glusterd-started"
}

peer_connected() { local out; out=$(on "$1" gluster --mode=script pool list) && [[ $(grep -w "$2" <<<"$out") == *Connected* ]]; }

# volume HOST NAME ARGS...: volume NAME made (bricks' directories too) and started, from HOST.
volume() {
    local h=$1 b
    shift
    for b in "${@:2}"; do
        case $b in *:/bricks/*) on "${b%%:*}" mkdir -p "${b#*:}" ;; esac
    done
    local GLUSTER=(on "$h" gluster)
    ensure_volume "$@"
}

down() {
    local h p
    for h in "${HOSTS[@]}"; do
        if [ -e "/run/netns/$(netns "$h")" ]; then
            for p in $(ip netns pids "$(netns "$h")" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        fi
    done
    sleep 1
    for h in "${HOSTS[@]}"; do
        [ -e "$NSDIR/$h.mnt" ] && { umount "$NSDIR/$h.mnt" 2>/dev/null || true; }
        [ -e "$NSDIR/$h.uts" ] && { umount "$NSDIR/$h.uts" 2>/dev/null || true; }
        ip link del "$(veth "$h")" 2>/dev/null || true
        ip netns del "$(netns "$h")" 2>/dev/null || true
    done
    ip link del "$BRIDGE" 2>/dev/null || true
    ip route del blackhole "$RANGE" 2>/dev/null || true
    sed -i "/$MARK\$/d" /etc/hosts
    rm -rf "$POOLS" "$NSDIR"/*.mnt "$NSDIR"/*.uts
    rmdir /bricks 2>/dev/null || true   # the hosts' mount point
    log "gluster pools removed"
}

status() {
    local h
    for h in "${HOSTS[@]}"; do
        if [ ! -e "/run/netns/$(netns "$h")" ]; then echo "$h: absent"; continue; fi
        echo "$h: glusterd $(pids_in "$h" -x glusterd | head -1), sshd $(pids_in "$h" -x sshd | head -1), glustereventsd $(pids_in "$h" -f /usr/sbin/glustereventsd | head -1), link $(cat "/sys/class/net/$(veth "$h")/operstate" 2>/dev/null)"
    done
    on p1 gluster --mode=script pool list 2>&1 || true
}

# kill HOST glusterd|sshd|glustereventsd: its process killed with -9 (the bricks and gsyncd
# workers of HOST go on without their glusterd, as on a real node).
kill_daemon() {
    local h=$1 what=$2 pids
    case $what in
    glusterd | sshd) pids=$(pids_in "$h" -x "$what") ;;
    glustereventsd) pids=$(pids_in "$h" -f /usr/sbin/glustereventsd) ;;
    *) die "kill what: glusterd, sshd or glustereventsd" ;;
    esac
    [ -n "$pids" ] || die "$what is not running on $h"
    kill -9 $pids
    log "killed $what on $h ($(echo $pids))"
}

# webhook add URL TOKEN | del URL: registered on the primary pool (gluster-eventsapi on p1 syncs
# the list to p2 through glusterd), then every host's glustereventsd told to read it again:
# started in its namespace, it does not reload on its own (SIGUSR2 is what the reload sends).
webhook() {
    local verb=${1:?add|del} url=${2:?url} token=${3:-} h pid
    case $verb in
    add) [ -n "$token" ] || die "usage: $0 webhook add URL TOKEN"; set -- webhook-add "$url" -t "$token" ;;
    del) set -- webhook-del "$url" ;;
    *) die "usage: $0 webhook add URL TOKEN | del URL" ;;
    esac
    local EVENTSAPI=(on p1 gluster-eventsapi)
    eventsapi 10 "$@" || die "gluster-eventsapi $1 $url failed"
    for h in p1 p2; do
        pid=$(pids_in "$h" -f /usr/sbin/glustereventsd)
        if [ -n "$pid" ]; then kill -USR2 $pid; else log "glustereventsd is not running on $h (it reads the list as it starts)"; fi
    done
    log "webhook $verb $url on p1 and p2"
}

# unplug HOST: its link down (packets to and from it are dropped, its processes run on); plug
# HOST: up again.
link() { ip link set "$(veth "$1")" "$2"; log "$1's link $2"; }

case ${1:-} in
up) up ;;
kill) kill_daemon "${2:?host}" "${3:?glusterd|sshd|glustereventsd}" ;;
start) network; namespaces "${2:?host}"; daemons "$2" ;;
webhook) shift; webhook "$@" ;;
unplug) link "${2:?host}" down ;;
plug) link "${2:?host}" up ;;
down) down ;;
status) status ;;
exec) shift; h=${1:?host}; shift; on "$h" "$@" ;;
*) die "usage: $0 up|down|status|exec HOST CMD...|kill HOST WHAT|start HOST|unplug HOST|plug HOST|webhook add URL TOKEN|webhook del URL" ;;
esac
