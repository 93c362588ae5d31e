#!/usr/bin/env bash
# Issue 6: a property-based fuzz run of the whole OpenAPI with Schemathesis and all its checks,
# each operation with a key of a role that may call it, against a real service on SQLite.
# Usage: scripts/fuzz.sh [examples per operation, default 100]
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-100}
port=${MAL_FUZZ_PORT:-8799}
work=$(mktemp -d)
export MAL_DATA_DIR="$work" MAL_RATE_LIMIT_PER_MINUTE=1000000 MAL_AUTH_LOCKOUT=false
export "$(.venv/bin/mutual-aid keygen | head -1)"  # MAL_SIGNING_KEY, for checkpoints
.venv/bin/mutual-aid migrate  # a new store, for the keys made before the server starts
key() { .venv/bin/mutual-aid create-key --agency "$1" --role "$2" --label fuzz; }
cad=$(key KPD cad)
auditor=$(key KPD auditor)
state=$(key WI-DOJ state-auditor)
admin=$(key KPD admin)
.venv/bin/mutual-aid serve --port "$port" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT

# The live stream never ends by design; tests/integration/test_event_stream.py covers it.
audit='^/v1/(incidents/[^/]+/(history|history\.html|as-of|verify)|access-log)$'
run() {
  .venv/bin/st run "http://127.0.0.1:$port/openapi.json" --wait-for-schema 30 \
    --checks all --max-examples "$examples" --seed 1 --generation-deterministic \
    --exclude-path /v1/stream -H "Authorization: Bearer $1" "${@:2}"
}
# Every role's run goes ahead; the script fails at the end if any run found a failure.
failed=0
run "$cad" --exclude-path-regex "$audit|^/v1/(audit|admin)/" || failed=1
run "$auditor" --include-path-regex "$audit" || failed=1
run "$state" --include-path-regex '^/v1/audit/' || failed=1
run "$admin" --include-path-regex '^/v1/admin/' || failed=1
exit $failed
