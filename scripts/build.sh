#!/bin/sh
# Builds the release Worker with worker-build (one wasm: every route and every Durable Object
# class), pointing it at the wasm-bindgen, wasm-opt and esbuild already installed so that it
# downloads nothing, and the static assets:
#   build/worker   the Worker: index.js, index_bg.wasm, entry.mjs (wrangler.toml `main`) and
#                  every other module of src/entry
#   build/public   the dashboard and the OpenAPI document (wrangler.toml `[assets]`)
#
# worker-build keeps the wasm's function-name section. The shipped module drops it; a copy with
# names stays in target/keygate.names.wasm. Stripping keeps every function's index, so a
# production stack trace's `wasm-function[N]` is function N of that copy (`twiggy` or
# `wasm-objdump -x` name it).
set -eu
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN

build_worker() {
  out=build/worker
  worker-build --release --out-dir "$out"
  mkdir -p target
  cp "$out/index_bg.wasm" target/keygate.names.wasm
  "$WASM_OPT_BIN" --all-features --strip-debug target/keygate.names.wasm -o "$out/index_bg.wasm"
  # The module the runtime loads (src/entry/worker.mjs: the fetch handler over the wasm's exports,
  # and the objects' classes made RPC-capable) beside the generated index.js.
  # Every module of src/entry: worker.mjs is the entry (entry.mjs), the others keep their names.
  for m in src/entry/*.mjs; do
    case "$m" in
      */worker.mjs) cp "$m" "$out/entry.mjs" ;;
      *) cp "$m" "$out/" ;;
    esac
  done
}

# The static assets (wrangler.toml `[assets]`, served beside the Worker): the dashboard as
# written (no build step: plain HTML, CSS and ES modules, one vendored module) and the OpenAPI
# document, minified.
# They cost the wasm nothing; the worker serves /openapi.json from here with the API's headers.
build_assets() {
  rm -rf build/public
  mkdir -p build/public
  cp -R dashboard/. build/public/
  # Vendored, not fetched from a CDN: the QR code generator of the Security page (npm
  # qrcode-generator, MIT, its licence in the file's header), served as /vendor/qrcode.mjs.
  mkdir -p build/public/vendor
  cp node_modules/qrcode-generator/dist/qrcode.mjs build/public/vendor/qrcode.mjs
  node_modules/.bin/node -e '
    const fs = require("fs");
    const doc = JSON.parse(fs.readFileSync("docs/openapi.json", "utf8"));
    fs.writeFileSync("build/public/openapi.json", JSON.stringify(doc));
  '
}

case "${1:-all}" in
  worker) build_worker ;;
  assets) build_assets ;;
  all) build_worker; build_assets ;;
  *) echo "usage: sh scripts/build.sh [all|worker|assets]" >&2; exit 2 ;;
esac
