#!/usr/bin/env bash
# Registers or removes a glustereventsd webhook on the lab and makes the running daemon read
# its webhook list again: `ops/lab-webhook.sh add URL TOKEN`, `ops/lab-webhook.sh del URL`.
#
# Why the extra step: glustereventsd 10.3 started by hand removes its pid file once its server
# threads run, so `gluster-eventsapi webhook-add` finds no daemon to reload and the new webhook
# would only be used after a restart. SIGUSR2 is what that reload sends.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
case "${1:-}" in
add) [ $# -eq 3 ] || die "usage: $0 add URL TOKEN"; gluster-eventsapi webhook-add "$2" -t "$3" >/dev/null ;;
del) [ $# -eq 2 ] || die "usage: $0 del URL"; gluster-eventsapi webhook-del "$2" >/dev/null ;;
*) die "usage: $0 add URL TOKEN | del URL" ;;
esac
pkill -USR2 -o -f /usr/sbin/glustereventsd || die "glustereventsd is not running (ops/stack-up.sh starts it)"
