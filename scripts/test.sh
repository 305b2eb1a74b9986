#!/bin/sh
# The whole test suite, from a fresh clone: installs what is missing, checks formatting and lints
# (host and wasm32), builds the release worker, rehearses the deploy (wrangler deploy --dry-run,
# which tests/deploy.rs holds to what the other tests load), then runs the native unit tests and the
# end-to-end tests against the built worker in workerd (Miniflare, real KV and Durable Objects),
# then the dashboard in headless Chromium (tests/browser/), then holds the API to its OpenAPI
# document with schemathesis (scripts/schemathesis.sh), then runs the client libraries' tests
# against it (scripts/clients.sh), and the gateway example (scripts/examples.sh).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== clippy (host)"
cargo clippy --all-targets --locked -- -D warnings
echo "== clippy (wasm32)"
cargo clippy --lib --target wasm32-unknown-unknown --locked -- -D warnings
echo "== build the release worker, rehearsing the deploy (wrangler deploy --dry-run runs the build)"
KEYGATE_DRY_RUN="$(mktemp -d)"
export KEYGATE_DRY_RUN
trap 'rm -rf "$KEYGATE_DRY_RUN"' EXIT
sh scripts/dry-run.sh "$KEYGATE_DRY_RUN"
echo "== tests (unit, then end to end in workerd)"
cargo test --locked
echo "== the dashboard in a real browser (headless Chromium, playwright-core)"
if [ "${SETUP_BROWSER:-1}" = 1 ]; then
  node_modules/.bin/node --test --test-reporter=spec tests/browser/dashboard.test.mjs
else
  echo "skipped (SETUP_BROWSER=0)"
fi
echo "== the OpenAPI document against the running worker (schemathesis, --checks all)"
sh scripts/schemathesis.sh
echo "== the client libraries (TypeScript with its Hono middleware, Python) against the running worker"
sh scripts/clients.sh
echo "== the examples (the gateway in front of a local origin, through keygate's Verifier binding)"
sh scripts/examples.sh
