#!/bin/sh
# Starts keygate (one Worker) locally at http://127.0.0.1:8787 with `wrangler dev`: local KV and Durable Objects persisted under
# .wrangler/state, the secrets from .dev.vars (written here on first run: the operator token
# with the documented local default, `dev-admin-token`, and a random password pepper). Extra
# arguments go to wrangler.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
if [ ! -f .dev.vars ]; then
  printf 'ADMIN_TOKEN=dev-admin-token\n' > .dev.vars
  echo "dev: wrote .dev.vars with ADMIN_TOKEN=dev-admin-token (local only; git ignores it)"
fi
if ! grep -q '^PASSWORD_PEPPER=' .dev.vars; then
  # Members' passwords are derived with it: changing it later invalidates every local password.
  printf 'PASSWORD_PEPPER=%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >> .dev.vars
  echo "dev: added a random PASSWORD_PEPPER to .dev.vars"
fi
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
exec npx wrangler dev --ip 127.0.0.1 --port 8787 --persist-to .wrangler/state "$@"
