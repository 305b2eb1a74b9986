#!/bin/sh
# The examples against the built worker (build/worker: run scripts/build.sh first, as
# scripts/test.sh does): the gateway (examples/gateway/) in one Miniflare with keygate, bound to its
# `Verifier` entrypoint, in front of a local origin the test starts. Needs Node 22 (Miniflare 5):
# node_modules/.bin/node, from the `node@22` package. GATEWAY_BENCH_OUT=FILE keeps the latency line.
set -eu
cd "$(dirname "$0")/.."
[ -f build/worker/index_bg.wasm ] || { echo "build/worker is missing: run sh scripts/build.sh" >&2; exit 1; }
node_modules/.bin/node --test --test-reporter=spec examples/gateway/test/gateway.test.mjs
