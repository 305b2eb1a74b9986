#!/bin/sh
# The benchmark: builds the release worker and serves it in workerd (Miniflare, in-memory KV and
# Durable Objects) beside the JavaScript reference worker (bench/reference/worker.js, the same
# verification job written by hand), in the same process. wrk drives each scenario for a fixed
# time; rounds are interleaved (every scenario once per round, in turn) and the table reports the
# median of the rounds, with the ratios the hot-path issue sets targets for. Then the listing
# (bench/listing.sh) and the wasm size. Not part of `npm test`: timings belong here, not in tests.
#
#   npm run bench                      # 3 rounds, 10 s per scenario, 2 threads, 32 connections
#   BENCH_ROUNDS=5 BENCH_SECONDS=20 BENCH_CONNECTIONS=64 npm run bench
#   BENCH_LISTING=0 npm run bench      # without the listing (it seeds 10,000 keys, ~80 s)
#   BENCH_SCENARIOS="valid js_valid" BENCH_LISTING=0 npm run bench   # a subset, while iterating
#   BENCH_SCALE=1 npm run bench        # also verification with 100 vs 100,000 keys (~10 min)
#   npm run bench:startup              # only the startup measurement (bench/startup.mjs)
#   npm run bench:micro                # only the in-isolate microbenchmark (bench/micro.mjs)
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH="${BENCH_SECONDS:-10}"
CONNS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
ROUNDS="${BENCH_ROUNDS:-3}"

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
start_worker bench-admin --reference --no-assets
trap 'kill $_holder $_server 2>/dev/null; rm -rf "$_work" "$work"' EXIT INT TERM
REF_HOST=reference.bench

# A key for keygate and the same kind of key for the reference, neither limited in practice.
new_team bench-admin bench
KEY=$(curl -sf -X POST "$BASE/v1/api-keys" -H "Authorization: Bearer $TEAM_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"bench","permissions":["tasks:read"],"rate_limit":{"plan":"enterprise","per_minute":1000000000,"per_hour":1000000000}}' \
  | sed 's/.*"key":"\([^"]*\)".*/\1/')
REF_KEY=$(curl -sf -X POST "$BASE/v1/api-keys" -H "Authorization: Bearer $TEAM_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"for the reference"}' | sed 's/.*"key":"\([^"]*\)".*/\1/')
curl -sf -X POST "$BASE/seed" -H "Host: $REF_HOST" \
  -d "{\"key\":\"$REF_KEY\",\"permissions\":[\"tasks:read\"],\"per_minute\":1000000000,\"per_hour\":1000000000}" > /dev/null

script() { # $1: name, $2: host or "", $3: JSON body or "" (GET)
  {
    [ -n "$2" ] && printf 'wrk.headers["Host"] = "%s"\n' "$2"
    if [ -n "$3" ]; then
      printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' "$3"
    fi
  } > "$work/$1.lua"
}

# Prints "rps p50_ms p99_ms non2xx" for one wrk run.
run() { # $1: url, $2: lua script
  wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_EACH}s" --latency -s "$2" "$1" > "$work/out" 2>&1
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }' "$work/out"
}

# Sanity: each scenario answers what it should before it is measured.
check() { # $1: host or "", $2: body, $3: expected code
  got=$(curl -s -X POST "$BASE/v1/verify" ${1:+-H "Host: $1"} -H 'Content-Type: application/json' -d "$2" \
    | sed 's/.*"code":"\([a-z_]*\)".*/\1/')
  [ "$got" = "$3" ] || { echo "bench: expected $3, got $got" >&2; exit 1; }
}
VALID="{\"key\":\"$KEY\",\"permissions\":[\"tasks:read\"]}"
REF_VALID="{\"key\":\"$REF_KEY\",\"permissions\":[\"tasks:read\"]}"
MALFORMED='{"key":"sk_live_this-is-not-a-key"}'
UNKNOWN='{"key":"sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUV28hqg7"}'
check "" "$VALID" valid
check "$REF_HOST" "$REF_VALID" valid
check "" "$MALFORMED" malformed_key
check "$REF_HOST" "$MALFORMED" malformed_key
check "" "$UNKNOWN" invalid_key
check "$REF_HOST" "$UNKNOWN" invalid_key

ALL_SCENARIOS="healthz js_healthz valid js_valid malformed js_malformed unknown js_unknown"
SCENARIOS="${BENCH_SCENARIOS:-$ALL_SCENARIOS}"
script healthz "" ""
script js_healthz "$REF_HOST" ""
script valid "" "$VALID"
script js_valid "$REF_HOST" "$REF_VALID"
script malformed "" "$MALFORMED"
script js_malformed "$REF_HOST" "$MALFORMED"
script unknown "" "$UNKNOWN"
script js_unknown "$REF_HOST" "$UNKNOWN"

echo "keygate benchmark: wrk -t$THREADS -c$CONNS -d${SECONDS_EACH}s per scenario, $ROUNDS interleaved rounds (medians), Miniflare/workerd, $(nproc) cores"
for round in $(seq 1 "$ROUNDS"); do
  for s in $SCENARIOS; do
    case $s in
      *healthz) url="$BASE/healthz" ;;
      *) url="$BASE/v1/verify" ;;
    esac
    set -- $(run "$url" "$work/$s.lua")
    [ "$4" = 0 ] || echo "bench: $4 non-2xx answers in $s (round $round)" >&2
    echo "$s $1 $2 $3" >> "$work/results"
  done
done

# The median of a scenario's rounds: "rps p50 p99" (each column's own median).
median() { # $1: scenario
  for col in 2 3 4; do
    awk -v s="$1" -v c="$col" '$1 == s { print $c }' "$work/results" | sort -n \
      | awk '{ v[NR] = $1 } END { printf "%s ", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
  done
}
for s in $ALL_SCENARIOS; do eval "M_$s=\"$(median "$s")\""; done
rps() { eval "set -- \$M_$1"; echo "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "-" }'; }

printf '%-44s %8s %8s %8s  %s\n' scenario "req/s" "p50 ms" "p99 ms" "ratios"
row() { # $1: scenario, $2: label, $3: ratios text
  eval "set -- \$M_$1 \"\$2\" \"\$3\""
  printf '%-44s %8s %8s %8s  %s\n' "$4" "$1" "$2" "$3" "$5"
}
floor=$(rps healthz)
row healthz "keygate GET /healthz (the runtime's floor)" "1.00 x floor"
row js_healthz "JS reference GET /healthz" "keygate floor / JS = $(ratio "$floor" "$(rps js_healthz)") (target >= 0.95)"
row valid "keygate verify, valid key" "$(ratio "$(rps valid)" "$floor") x floor, $(ratio "$(rps valid)" "$(rps js_valid)") x JS (target >= 1.2)"
row js_valid "JS reference verify, valid key" "$(ratio "$(rps js_valid)" "$(rps js_healthz)") x JS floor"
row malformed "keygate verify, malformed key" "$(ratio "$(rps malformed)" "$floor") x floor (target >= 0.95)"
row js_malformed "JS reference verify, malformed key" "$(ratio "$(rps js_malformed)" "$(rps js_healthz)") x JS floor"
row unknown "keygate verify, unknown key" "$(ratio "$(rps unknown)" "$floor") x floor (target >= 0.6)"
row js_unknown "JS reference verify, unknown key" "$(ratio "$(rps js_unknown)" "$(rps js_healthz)") x JS floor"

# The listing: page 1 and page 100 of GET /v1/api-keys?limit=100 in a team of 10,000 keys
# (a deep page must cost what the first does). BENCH_LISTING=0 skips it.
if [ "${BENCH_LISTING:-1}" = 1 ]; then
  sh bench/listing.sh "$BASE" bench-admin
fi

# Verification at scale (bench/scale.mjs): 100 keys, then 100,000, a random sample of 100 verified
# in each. ~10 minutes and a few GB of memory for 100,000 objects, so only when asked:
# BENCH_SCALE=1 (BENCH_SCALE_KEYS sets the population).
if [ "${BENCH_SCALE:-0}" = 1 ]; then
  node_modules/.bin/node bench/scale.mjs --keys "${BENCH_SCALE_KEYS:-100000}" --seconds "$SECONDS_EACH" --rounds "$ROUNDS"
fi

# The in-isolate microbenchmark (bench/micro.mjs): µs per request through keygate's entry and the
# reference's in one isolate, with the ratio (far steadier than wrk here). BENCH_MICRO=0 skips it.
if [ "${BENCH_MICRO:-1}" = 1 ]; then
  node_modules/.bin/node bench/micro.mjs
fi

# Startup (bench/startup.mjs): a fresh isolate to its first /healthz and first verification.
# BENCH_STARTUP=0 skips it.
if [ "${BENCH_STARTUP:-1}" = 1 ]; then
  node_modules/.bin/node bench/startup.mjs
fi

raw=$(wc -c < build/worker/index_bg.wasm)
gz=$(gzip -9 -c build/worker/index_bg.wasm | wc -c)
printf 'release wasm: %s bytes raw, %s bytes gzip (build/worker/index_bg.wasm)\n' "$raw" "$gz"
