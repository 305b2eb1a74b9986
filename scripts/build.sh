#!/bin/sh
# Builds the release worker into build/ (index.js + index_bg.wasm) with worker-build, pointing it
# at the wasm-bindgen, wasm-opt and esbuild already installed so that it downloads nothing.
#
# worker-build keeps the wasm's function-name section (~175 KB raw, ~44 KB gzip: a sixth of the
# 300 KB gzip budget). The shipped module drops it; a copy with names stays in
# target/keygate.names.wasm. Stripping keeps every function's index, so a production stack
# trace's `wasm-function[N]` is function N of that copy (`twiggy` or `wasm-objdump -x` name it).
set -eu
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN
worker-build --release
mkdir -p target
cp build/index_bg.wasm target/keygate.names.wasm
"$WASM_OPT_BIN" --all-features --strip-debug target/keygate.names.wasm -o build/index_bg.wasm
# The module the runtime loads: the generated one, with the key object's class made RPC-capable.
cp src/entry.mjs build/entry.mjs
# The static assets (wrangler.toml `[assets]`): the dashboard as written (no build step: plain
# HTML, CSS and ES modules) and the OpenAPI document, minified. They cost the wasm nothing; the
# worker serves /openapi.json from here with the API's headers.
rm -rf build/public
mkdir -p build/public
cp -R dashboard/. build/public/
node_modules/.bin/node -e '
  const fs = require("fs");
  const doc = JSON.parse(fs.readFileSync("docs/openapi.json", "utf8"));
  fs.writeFileSync("build/public/openapi.json", JSON.stringify(doc));
'
