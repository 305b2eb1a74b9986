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
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
. scripts/lib.sh
new_team "$OPERATOR" listing "\"max_keys\":$((COUNT + 10))"
ADMIN="$TEAM_KEY"
PAGE=$(( COUNT / 100 < 100 ? COUNT / 100 : 100 )) # page 100, or the last full page of a smaller run
CURSOR=$(node_modules/.bin/node bench/seed.mjs --base "$BASE" --key "$ADMIN" --count "$COUNT" --page "$PAGE")
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
deep_rps=$1; deep=$2; [ "$3" = 0 ] || echo "listing: $3 non-2xx on page $PAGE" >&2
printf 'listing, %s keys, limit=100: page 1 p50 %s ms (%s req/s), page %s p50 %s ms (%s req/s), page %s / page 1 = %s\n' \
  "$COUNT" "$first" "$first_rps" "$PAGE" "$deep" "$deep_rps" "$PAGE" "$(awk -v a="$deep" -v b="$first" 'BEGIN{printf "%.2f", a/b}')"
