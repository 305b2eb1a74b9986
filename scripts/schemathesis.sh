#!/bin/sh
# Holds the API to its OpenAPI document: schemathesis (pinned, installed into .venv-schemathesis
# on first use) generates valid and invalid requests for every operation of docs/openapi.json,
# as served at /openapi.json by the built worker in workerd, and runs every check
# (`--checks all`: no 5xx, statuses, headers and bodies as documented, schema-invalid input
# refused, schema-valid input accepted, 405 for undocumented methods). Any finding fails it.
#
# Two runs: the team endpoints with the operator token, everything else with an `admin:*` key
# of a team whose limits are raised so that 429s and limit_reached do not hide the API.
#   sh scripts/schemathesis.sh            (expects build/ from scripts/build.sh)
#   ST_MAX_EXAMPLES=200 sh scripts/schemathesis.sh
set -eu
cd "$(dirname "$0")/.."
VERSION=4.32.5
VENV=.venv-schemathesis
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "schemathesis: installing $VERSION into $VENV (once)"
  command -v python3 >/dev/null || { echo "schemathesis: needs Python 3 (apt-get install python3-venv)" >&2; exit 1; }
  python3 -m venv "$VENV" || { echo "schemathesis: python3 cannot make a venv (apt-get install python3-venv)" >&2; exit 1; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

work="$(mktemp -d)"
fifo="$work/stdin"
mkfifo "$fifo"
sleep 100000 > "$fifo" &
holder=$!
node_modules/.bin/node tests/support/server.mjs --admin-token st-admin < "$fifo" > "$work/url" &
server=$!
trap 'kill $holder $server 2>/dev/null; rm -rf "$work"' EXIT INT TERM
for _ in $(seq 1 150); do [ -s "$work/url" ] && break; sleep 0.2; done
BASE="$(head -1 "$work/url")"
[ -n "$BASE" ] || { echo "schemathesis: the worker did not start" >&2; exit 1; }

BIG=1000000000
TEAM=$(curl -sf -X POST "$BASE/v1/teams" -H 'Authorization: Bearer st-admin' -H 'Content-Type: application/json' \
  -d "{\"name\":\"schemathesis\",\"limits\":{\"max_keys\":1000000,\"max_projects\":1000000,\"max_roles\":1000000,\"max_service_accounts\":1000000,\"max_per_minute\":$BIG,\"max_per_hour\":$BIG}}")
KEY=$(printf '%s' "$TEAM" | sed 's/.*"key":"\([^"]*\)".*/\1/')
KEY_ID=$(printf '%s' "$TEAM" | sed 's/.*"api_key":{"id":"\([^"]*\)".*/\1/')
curl -sf -X PATCH "$BASE/v1/api-keys/$KEY_ID" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d "{\"rate_limit\":{\"plan\":\"enterprise\",\"per_minute\":$BIG,\"per_hour\":$BIG}}" > /dev/null

run() { # $1: token, then extra arguments
  token="$1"; shift
  "$VENV/bin/schemathesis" run "$BASE/openapi.json" --url "$BASE" \
    -H "Authorization: Bearer $token" --checks all \
    --max-examples "${ST_MAX_EXAMPLES:-50}" --seed "${ST_SEED:-1}" --generation-deterministic \
    --no-color "$@"
}
status=0
echo "== schemathesis: operator endpoints"
run st-admin --include-path-regex '^/v1/teams' || status=1
echo "== schemathesis: every other endpoint"
run "$KEY" --exclude-path-regex '^/v1/teams' || status=1
exit $status
