#!/bin/sh
# Builds the three release Workers from this crate with worker-build, pointing it at the
# wasm-bindgen, wasm-opt and esbuild already installed so that it downloads nothing:
#   build/edge    the public Worker (`--features edge`): verification, the key objects, assets
#   build/admin   the management Worker (`--features admin`): the API, the team objects
#   build/events  the events Worker (`--features events`): webhooks, the events objects
# `sh scripts/build.sh edge`, `admin` or `events` builds one (each wrangler config its own).
#
# worker-build keeps the wasm's function-name section (~175 KB raw, ~44 KB gzip). The shipped
# module drops it; a copy with names stays in target/keygate-<worker>.names.wasm. Stripping keeps
# every function's index, so a production stack trace's `wasm-function[N]` is function N of that
# copy (`twiggy` or `wasm-objdump -x` name it).
set -eu
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN

build_worker() {
  worker="$1"
  out="build/$worker"
  worker-build --release --out-dir "$out" --no-default-features --features "$worker"
  mkdir -p target
  cp "$out/index_bg.wasm" "target/keygate-$worker.names.wasm"
  "$WASM_OPT_BIN" --all-features --strip-debug "target/keygate-$worker.names.wasm" -o "$out/index_bg.wasm"
  # The module the runtime loads: the generated one, with the object's class made RPC-capable.
  cp "src/entry/$worker.mjs" "$out/entry.mjs"
  cp src/entry/rpc.mjs "$out/rpc.mjs"
}

# The static assets (wrangler.toml `[assets]`, served by the edge Worker): the dashboard as
# written (no build step: plain HTML, CSS and ES modules) and the OpenAPI document, minified.
# They cost the wasm nothing; the worker serves /openapi.json from here with the API's headers.
build_assets() {
  rm -rf build/public
  mkdir -p build/public
  cp -R dashboard/. build/public/
  node_modules/.bin/node -e '
    const fs = require("fs");
    const doc = JSON.parse(fs.readFileSync("docs/openapi.json", "utf8"));
    fs.writeFileSync("build/public/openapi.json", JSON.stringify(doc));
  '
}

case "${1:-all}" in
  edge) build_worker edge; build_assets ;;
  admin | events) build_worker "$1" ;;
  all) build_worker edge; build_worker admin; build_worker events; build_assets ;;
  *) echo "usage: sh scripts/build.sh [edge|admin|events|all]" >&2; exit 2 ;;
esac
