#!/bin/sh
# Rehearses the deploy offline: `wrangler deploy --dry-run` runs wrangler.toml's build (the
# release wasm and the assets, scripts/build.sh), checks the config and bundles the Worker into
# DIR, as `npm run deploy` would upload it, without an account. `npm test` runs it and
# tests/deploy.rs holds the bundle to what the end-to-end tests load.
#   sh scripts/dry-run.sh DIR
set -eu
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: sh scripts/dry-run.sh DIR" >&2; exit 2; }
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
mkdir -p "$1"
npx wrangler deploy --dry-run --outdir "$1"
