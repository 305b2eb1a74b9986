#!/bin/sh
# Regenerates src/keygate/models.py (TypedDicts for every schema and inline body of
# docs/openapi.json) with datamodel-code-generator, pinned in pyproject.toml's `test` extra.
#   sh clients/python/generate.sh [OUTPUT]   (default: clients/python/src/keygate/models.py)
# tests/test_generated.py runs it into a temporary file and fails when the output differs.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
codegen="${DATAMODEL_CODEGEN:-}"
if [ -z "$codegen" ]; then
  codegen=datamodel-codegen
  [ -x "$here/../../.venv-clients/bin/datamodel-codegen" ] && codegen="$here/../../.venv-clients/bin/datamodel-codegen"
fi
"$codegen" --input "$here/../../docs/openapi.json" --input-file-type openapi \
  --openapi-scopes schemas paths --output-model-type typing.TypedDict \
  --target-python-version 3.10 --use-standard-collections --use-union-operator \
  --disable-timestamp --formatters builtin \
  --custom-file-header '# Generated from docs/openapi.json by clients/python/generate.sh (datamodel-code-generator): do not edit.' \
  --output "${1:-$here/src/keygate/models.py}"
