#!/bin/sh
# Builds the release worker into build/ (index.js + index_bg.wasm) with worker-build, pointing it
# at the wasm-bindgen, wasm-opt and esbuild already installed so that it downloads nothing.
set -eu
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN
exec worker-build --release
