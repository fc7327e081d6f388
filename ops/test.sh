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
swift test --skip-build "$@"
