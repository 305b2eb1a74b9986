#!/bin/sh
# Starts keygate locally with `wrangler dev`: local KV and Durable Objects persisted under
# .wrangler/state, the operator token from .dev.vars (written here on first run with the
# documented local default, `dev-admin-token`). Extra arguments go to wrangler.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
if [ ! -f .dev.vars ]; then
  printf 'ADMIN_TOKEN=dev-admin-token\n' > .dev.vars
  echo "dev: wrote .dev.vars with ADMIN_TOKEN=dev-admin-token (local only; git ignores it)"
fi
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
exec npx wrangler dev --persist-to .wrangler/state "$@"
