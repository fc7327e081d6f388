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

# Clients that are not ours, from PyPI: the pika example, the jsonschema validator, schemathesis
# (the API against its OpenAPI document), the OpenAPI and YAML validators for the ops artifacts.
python3 -c 'import pika, jsonschema, schemathesis, openapi_spec_validator, yaml' 2>/dev/null \
    || python3 -m pip install -q pika jsonschema schemathesis openapi-spec-validator pyyaml

echo "[test] building"
swift build --build-tests
echo "[test] running the tests (unit + integration against the real stack)"
swift test "$@"
