# Shared by the scripts that drive a running keygate (scripts/schemathesis.sh, bench/*.sh).
# Source it from the repository root: `. scripts/lib.sh`.

# start_worker OPERATOR_TOKEN [SERVER_FLAG…]: serves build/ in workerd (Miniflare, in-memory
# state) on a free loopback port in the background, sets BASE to its URL, and stops it when the
# script exits. Flags go to tests/support/server.mjs (`--reference` adds bench/reference/).
start_worker() {
  _token="$1"; shift
  _work="$(mktemp -d)"
  mkfifo "$_work/stdin"
  sleep 100000 > "$_work/stdin" &
  _holder=$!
  node_modules/.bin/node tests/support/server.mjs --admin-token "$_token" "$@" < "$_work/stdin" > "$_work/url" &
  _server=$!
  trap 'kill $_holder $_server 2>/dev/null; rm -rf "$_work"' EXIT INT TERM
  for _ in $(seq 1 150); do [ -s "$_work/url" ] && break; sleep 0.2; done
  BASE="$(head -1 "$_work/url")"
  [ -n "$BASE" ] || { echo "the worker did not start" >&2; exit 1; }
}

# new_team OPERATOR_TOKEN NAME [LIMITS_JSON]: creates a team (with these limits, and rate
# ceilings of 10^9), raises its admin key to 10^9 requests a minute and an hour, and sets
# TEAM_KEY and TEAM_KEY_ID. Measurements and contract tests must not be about 429s.
new_team() {
  _big=1000000000
  _limits="{\"max_per_minute\":$_big,\"max_per_hour\":$_big${3:+,$3}}"
  _team=$(curl -sf -X POST "$BASE/v1/teams" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$2\",\"limits\":$_limits}")
  TEAM_KEY=$(printf '%s' "$_team" | sed 's/.*"key":"\([^"]*\)".*/\1/')
  TEAM_KEY_ID=$(printf '%s' "$_team" | sed 's/.*"api_key":{"id":"\([^"]*\)".*/\1/')
  curl -sf -X PATCH "$BASE/v1/api-keys/$TEAM_KEY_ID" -H "Authorization: Bearer $TEAM_KEY" \
    -H 'Content-Type: application/json' \
    -d "{\"rate_limit\":{\"plan\":\"enterprise\",\"per_minute\":$_big,\"per_hour\":$_big}}" > /dev/null
}
