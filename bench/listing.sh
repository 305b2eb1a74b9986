#!/bin/sh
# The listing benchmark against a running keygate: a new team with 10,000 keys (seeded through
# the API), then wrk on page 1 and on page 100 of `GET /v1/api-keys?limit=100`: p50 of each and
# their ratio (issue 8's bar: within 20 %).
#   sh bench/listing.sh BASE_URL OPERATOR_TOKEN
set -eu
cd "$(dirname "$0")/.."
BASE="$1"; OPERATOR="$2"
SECONDS_EACH="${BENCH_SECONDS:-10}"
COUNT="${BENCH_LISTING_KEYS:-10000}"
BIG=1000000000
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
TEAM=$(curl -sf -X POST "$BASE/v1/teams" -H "Authorization: Bearer $OPERATOR" -H 'Content-Type: application/json' \
  -d "{\"name\":\"listing\",\"limits\":{\"max_keys\":$((COUNT + 10)),\"max_per_minute\":$BIG,\"max_per_hour\":$BIG}}")
ADMIN=$(printf '%s' "$TEAM" | sed 's/.*"key":"\([^"]*\)".*/\1/')
ADMIN_ID=$(printf '%s' "$TEAM" | sed 's/.*"api_key":{"id":"\([^"]*\)".*/\1/')
curl -sf -X PATCH "$BASE/v1/api-keys/$ADMIN_ID" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d "{\"rate_limit\":{\"plan\":\"enterprise\",\"per_minute\":$BIG,\"per_hour\":$BIG}}" > /dev/null
CURSOR=$(node_modules/.bin/node bench/seed.mjs --base "$BASE" --key "$ADMIN" --count "$COUNT" --page 100)
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$ADMIN" > "$work/auth.lua"
p50() { # $1: url
  wrk -t2 -c8 -d"${SECONDS_EACH}s" --latency -s "$work/auth.lua" "$1" \
    | awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
           /Requests\/sec/ { rps = $2 } /^ +50%/ { p50 = ms($2) } /Non-2xx/ { bad = $NF }
           END { printf "%.0f %.2f %d\n", rps, p50, bad }'
}
p50 "$BASE/v1/api-keys?limit=100&cursor=$CURSOR" > /dev/null # warm-up, not counted
set -- $(p50 "$BASE/v1/api-keys?limit=100")
first_rps=$1; first=$2; [ "$3" = 0 ] || echo "listing: $3 non-2xx on page 1" >&2
set -- $(p50 "$BASE/v1/api-keys?limit=100&cursor=$CURSOR")
deep_rps=$1; deep=$2; [ "$3" = 0 ] || echo "listing: $3 non-2xx on page 100" >&2
printf 'listing, %s keys, limit=100: page 1 p50 %s ms (%s req/s), page 100 p50 %s ms (%s req/s), page 100 / page 1 = %s\n' \
  "$COUNT" "$first" "$first_rps" "$deep" "$deep_rps" "$(awk -v a="$deep" -v b="$first" 'BEGIN{printf "%.2f", a/b}')"
