#!/bin/sh
# The benchmark: builds the release worker, serves it in workerd (Miniflare, in-memory KV and
# Durable Objects), drives it with wrk for a fixed time per scenario, and prints requests/s and
# p50/p99 latency for each, their ratio to /healthz (the runtime's floor on this machine), and the
# release wasm size. Not part of `npm test`: timings belong here, not in tests.
#
#   npm run bench                      # 10 s per scenario, 2 threads, 32 connections
#   BENCH_SECONDS=30 BENCH_CONNECTIONS=64 npm run bench
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH="${BENCH_SECONDS:-10}"
CONNS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"

sh scripts/setup.sh
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
  else
    echo "bench: needs wrk (apt-get install wrk, brew install wrk)" >&2
    exit 1
  fi
fi
sh scripts/build.sh >/dev/null 2>&1

work="$(mktemp -d)"
. scripts/lib.sh
start_worker bench-admin
trap 'kill $_holder $_server 2>/dev/null; rm -rf "$_work" "$work"' EXIT INT TERM

# A team and a key whose limits do not get in the way of the measurement.
new_team bench-admin bench
KEY=$(curl -sf -X POST "$BASE/v1/api-keys" -H "Authorization: Bearer $TEAM_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"bench","permissions":["tasks:read"],"rate_limit":{"plan":"enterprise","per_minute":1000000000,"per_hour":1000000000}}' \
  | sed 's/.*"key":"\([^"]*\)".*/\1/')

post_script() { # $1: JSON body
  printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' "$1" > "$work/post.lua"
}

# Prints "rps p50_ms p99_ms non2xx" for one wrk run.
run() { # $1: url, $2: optional lua script
  if [ -n "${2:-}" ]; then s="-s $2"; else s=""; fi
  # shellcheck disable=SC2086
  wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_EACH}s" --latency $s "$1" > "$work/out" 2>&1
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }' "$work/out"
}

# Sanity: each scenario answers what it should before it is measured.
check() { # $1: body, $2: expected code
  got=$(curl -s -X POST "$BASE/v1/verify" -H 'Content-Type: application/json' -d "$1" | sed 's/.*"code":"\([a-z_]*\)".*/\1/')
  [ "$got" = "$2" ] || { echo "bench: expected $2, got $got" >&2; exit 1; }
}
VALID="{\"key\":\"$KEY\",\"permissions\":[\"tasks:read\"]}"
MALFORMED='{"key":"sk_live_this-is-not-a-key"}'
UNKNOWN='{"key":"sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUV28hqg7"}'
check "$VALID" valid
check "$MALFORMED" malformed_key
check "$UNKNOWN" invalid_key

echo "keygate benchmark: wrk -t$THREADS -c$CONNS -d${SECONDS_EACH}s per scenario, Miniflare/workerd, $(nproc) cores"
printf '%-34s %10s %9s %9s %8s\n' scenario "req/s" "p50 ms" "p99 ms" "x floor"
floor=""
for scenario in healthz valid malformed unknown; do
  case $scenario in
    healthz)   name="GET /healthz (runtime floor)";      r=$(run "$BASE/healthz") ;;
    valid)     name="POST /v1/verify, valid key";        post_script "$VALID";     r=$(run "$BASE/v1/verify" "$work/post.lua") ;;
    malformed) name="POST /v1/verify, malformed key";    post_script "$MALFORMED"; r=$(run "$BASE/v1/verify" "$work/post.lua") ;;
    unknown)   name="POST /v1/verify, unknown key";      post_script "$UNKNOWN";   r=$(run "$BASE/v1/verify" "$work/post.lua") ;;
  esac
  set -- $r
  [ -z "$floor" ] && floor=$1
  [ "$4" = 0 ] || echo "bench: $4 non-2xx answers in $scenario" >&2
  printf '%-34s %10s %9s %9s %8s\n' "$name" "$1" "$2" "$3" "$(awk -v a="$1" -v b="$floor" 'BEGIN{printf "%.2f", a/b}')"
done

# The listing: page 1 and page 100 of GET /v1/api-keys?limit=100 in a team of 10,000 keys
# (issue 8: a deep page must cost what the first does). BENCH_LISTING=0 skips it.
if [ "${BENCH_LISTING:-1}" = 1 ]; then
  sh bench/listing.sh "$BASE" bench-admin
fi

raw=$(wc -c < build/index_bg.wasm)
gz=$(gzip -9 -c build/index_bg.wasm | wc -c)
printf 'release wasm: %s bytes raw, %s bytes gzip (build/index_bg.wasm)\n' "$raw" "$gz"
