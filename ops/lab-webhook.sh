#!/usr/bin/env bash
# Registers or removes a glustereventsd webhook on the lab and makes the running daemon read
# its webhook list again: `ops/lab-webhook.sh add URL TOKEN`, `ops/lab-webhook.sh del URL`.
#
# Why the extra step: glustereventsd 10.3 started by hand removes its pid file once its server
# threads run, so `gluster-eventsapi webhook-add` finds no daemon to reload and the new webhook
# would only be used after a restart. SIGUSR2 is what that reload sends.
#
# The retries (`eventsapi` in lib.sh): the sync through glusterd fails while its lock is held.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

case "${1:-}" in
add) [ $# -eq 3 ] || die "usage: $0 add URL TOKEN"; eventsapi 10 webhook-add "$2" -t "$3" || die "could not add webhook $2" ;;
del) [ $# -eq 2 ] || die "usage: $0 del URL"; eventsapi 10 webhook-del "$2" || die "could not remove webhook $2" ;;
*) die "usage: $0 add URL TOKEN | del URL" ;;
esac
if [ -z "$(root_pids -f /usr/sbin/glustereventsd)" ]; then
    log "glustereventsd is not running; starting it (it reads the webhook list as it starts)"
    (setsid glustereventsd >/dev/null 2>&1 &)
    wait_for 10 glustereventsd test -n "$(root_pids -f /usr/sbin/glustereventsd)"
    exit 0
fi
pid=$(root_pids -o -f /usr/sbin/glustereventsd)
[ -n "$pid" ] && kill -USR2 "$pid" || die "glustereventsd stopped while being reloaded"
