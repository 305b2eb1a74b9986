#!/bin/sh
# Installs what building and testing keygate needs, and nothing that is already there:
# the pinned Rust toolchain with the wasm32 target (rust-toolchain.toml), worker-build and
# wasm-bindgen-cli at the versions Cargo.lock needs, Chromium for the browser tests, and the npm
# packages of package-lock.json.
# Safe to run again: each step is skipped when its tool is present at the right version.
set -eu
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.130

export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { echo "setup: cargo (rustup) is required: https://rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: npm (Node.js 18+) is required" >&2; exit 1; }

# rustup reads rust-toolchain.toml and installs the channel, target and components on first use.
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

has_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q "$2"; }

# worker-build and wasm-bindgen are built from crates.io (their own downloads of prebuilt
# binaries need GitHub, which some machines cannot reach). wasm-bindgen must match Cargo.lock.
# `--debug`: these are build tools, and unoptimised they compile in half the time (about 4.5
# instead of 9.5 minutes on 2 cores) while a build of keygate takes ~2 s longer with identical
# output.
if ! has_version wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  echo "setup: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes, once)"
  cargo install --debug wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! has_version worker-build "$WORKER_BUILD_VERSION"; then
  echo "setup: installing worker-build $WORKER_BUILD_VERSION (about 3 minutes, once)"
  cargo install --debug worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

# A browser for the dashboard's tests (tests/browser/): the system's Chromium, driven by the npm
# package playwright-core (`playwright install` downloads from a host many machines cannot reach).
# CHROMIUM_PATH names another binary; SETUP_BROWSER=0 skips this step (and the browser tests).
if [ "${SETUP_BROWSER:-1}" = 1 ] && [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (apt, about a minute, once)"
    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }
  else
    echo "setup: the browser tests need Chromium: install Debian's \`chromium\` package" >&2
    echo "       (sudo apt-get install chromium), or set CHROMIUM_PATH to a Chromium binary" >&2
    exit 1
  fi
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund
fi
