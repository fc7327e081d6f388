#!/usr/bin/env bash
# Runs every test: brings up RabbitMQ, PostgreSQL and the gluster lab (idempotently), builds,
# and runs the unit and integration tests against the real services.
set -euo pipefail
cd "$(dirname "$0")/.."

ops/stack-up.sh
set -a
# shellcheck disable=SC1091
. /var/lib/georep/stack.env
set +a

# Clients that are not ours, from PyPI, at the versions of ops/requirements.txt (stack-up
# installs them): the pika examples, the jsonschema validator, schemathesis (the API against its
# OpenAPI document), the OpenAPI and YAML validators for the ops artifacts.
python3 ops/check-requirements.py ops/requirements.txt || python3 -m pip install -q -r ops/requirements.txt

echo "[test] building"
swift build --build-tests
echo "[test] running the tests (unit + integration against the real stack)"
status=0
swift test --skip-build "$@" || status=$?
if [ "$status" -ne 0 ]; then
    # What a failed run needs explained and a CI log keeps only the end of: who holds the turns
    # on the gluster hosts (a turn kept too long fails every later call as host_busy), whether
    # the lab's glusterd answers, and how much room and load the machine had.
    echo "[test] failed (exit $status); the machine now:"
    echo "[test] turns held on gluster hosts (/run/lock/georep):"
    lslocks -o COMMAND,PID,MODE,PATH 2>/dev/null | awk 'NR == 1 || /\/run\/lock\/georep\//' | sed 's/^/[test]   /'
    # In its turn, as every process of ours asks glusterd (docs/reliability.md).
    turn=0
    timeout 40 .build/debug/georep turn --host "$GEOREP_LAB_HOST" --timeout 10 -- \
        timeout 25 gluster --mode=script volume info mvol >/dev/null 2>&1 || turn=$?
    case $turn in
    0) echo "[test] the lab's glusterd answers" ;;
    75) echo "[test] no turn on $GEOREP_LAB_HOST within 10 s: a process above keeps it" ;;
    *) echo "[test] the lab's glusterd did not answer (exit $turn)" ;;
    esac
    echo "[test] load: $(cut -d' ' -f1-3 /proc/loadavg); memory: $(free -m | awk '/^Mem:/ {print $7 " MiB available of " $2}')"
    echo "[test] disk: $(df -h --output=avail,size / | tail -1 | awk '{print $1 " free of " $2}')"
fi
exit "$status"
