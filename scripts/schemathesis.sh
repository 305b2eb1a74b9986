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

. scripts/lib.sh
start_worker st-admin
new_team st-admin schemathesis '"max_keys":1000000,"max_projects":1000000,"max_roles":1000000,"max_service_accounts":1000000'
KEY="$TEAM_KEY"

# The credentials, by the OpenAPI document's security schemes (schemathesis.toml `[auth.openapi]`):
# the operator token, and the key. (With a plain `-H Authorization` schemathesis would also make
# up a session cookie for the operations that take either, and test little beyond the `400` for
# two credentials.)
export ST_OPERATOR=st-admin ST_KEY="$KEY"
run() {
  "$VENV/bin/schemathesis" run "$BASE/openapi.json" --url "$BASE" --checks all \
    --max-examples "${ST_MAX_EXAMPLES:-50}" --seed "${ST_SEED:-1}" --generation-deterministic \
    --no-color "$@"
}
status=0
echo "== schemathesis: operator endpoints"
run --include-path-regex '^/v1/teams' || status=1
# The operations that can end or cripple the key schemathesis runs with (its stateful phase finds
# the key's own id through GET /v1/api-keys/current) go last, in a pass of their own, so that
# every other operation is tested with a working key.
SELF_ENDING='^(POST /v1/api-keys/\{id\}/disable|POST /v1/api-keys/\{id\}/roll|DELETE /v1/api-keys/\{id\}|PATCH /v1/api-keys/\{id\})$'
echo "== schemathesis: every other endpoint"
# (One regex: schemathesis ANDs separate filters of one kind.) GitHub's secret scanning endpoint
# is left out: it answers only requests signed by GitHub's keys (anything else is 401 before the
# body is read), which schemathesis cannot make; tests/leaks.rs signs its requests with a key
# pair pinned in GITHUB_SCANNING_KEYS and holds its 200, 400, 401 and 413.
run --exclude-name-regex "^[A-Z]+ /v1/teams|^POST /v1/leaks/github$|$SELF_ENDING" || status=1
echo "== schemathesis: the operations that can end the key itself"
run --include-name-regex "$SELF_ENDING" || status=1
exit $status
