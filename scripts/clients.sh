#!/bin/sh
# The client libraries' tests (clients/typescript, clients/python) against the built worker
# (build/, from scripts/build.sh) served in workerd, as scripts/schemathesis.sh serves it.
# Installs what they need itself, once: the TypeScript package's npm packages (its lock file;
# `npm ci` also builds dist/ through its `prepare` script) and a venv .venv-clients with the Python
# package and its pinned test extras. Each suite also checks that its generated part is what
# docs/openapi.json generates now.
#   sh scripts/clients.sh
set -eu
cd "$(dirname "$0")/.."
NODE="$PWD/node_modules/.bin/node"

TS=clients/typescript
if [ ! -f "$TS/node_modules/.package-lock.json" ] || [ "$TS/package-lock.json" -nt "$TS/node_modules/.package-lock.json" ]; then
  echo "clients: npm ci in $TS"
  (cd "$TS" && npm ci --no-audit --no-fund)
fi

VENV=.venv-clients
STAMP="$VENV/.installed"
if [ ! -f "$STAMP" ] || [ clients/python/pyproject.toml -nt "$STAMP" ]; then
  echo "clients: installing clients/python[test] into $VENV"
  command -v python3 >/dev/null || { echo "clients: needs Python 3 (apt-get install python3-venv)" >&2; exit 1; }
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV" || { echo "clients: python3 cannot make a venv (apt-get install python3-venv)" >&2; exit 1; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -e 'clients/python[test]'
  touch "$STAMP"
fi

. scripts/lib.sh
start_worker clients-operator
export KEYGATE_URL="$BASE" KEYGATE_OPERATOR_TOKEN=clients-operator

status=0
echo "== clients: TypeScript (tsc, then node --test)"
(cd "$TS" && "$NODE" node_modules/typescript/bin/tsc -p tsconfig.json \
  && "$NODE" --test --test-reporter=spec test/*.test.mjs) || status=1
echo "== clients: Python (mypy --strict, then pytest)"
"$VENV/bin/mypy" --strict clients/python/src clients/python/tests || status=1
"$VENV/bin/pytest" -q clients/python/tests || status=1
exit $status
