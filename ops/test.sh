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

# Clients that are not ours: the pika example and the jsonschema validator (both from PyPI).
python3 -c 'import pika, jsonschema' 2>/dev/null || python3 -m pip install -q pika jsonschema

echo "[test] building"
swift build --build-tests
echo "[test] running the tests (unit + integration against the real stack)"
swift test "$@"
