"""Fails when docs/openapi.json changed and src/keygate/models.py was not regenerated
(`sh clients/python/generate.sh`), or when an operation of the document has no method."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
DOC = HERE.parents[1] / "docs/openapi.json"


def needs_no_method(path: str) -> bool:
    """The dashboard's own operations (sign-in and a member's session cookie, not a key), GitHub's
    signed secret-scanning endpoint (GitHub calls it, never a client), a portal link's arrival
    (a person's browser opens it) and the document itself: reached with Keygate.request()."""
    exempt = {"/openapi.json", "/v1/session", "/v1/me", "/v1/leaks/github", "/v1/portal/{id}"}
    return path in exempt or path.startswith("/v1/me/")


def test_models_are_what_the_document_generates(tmp_path: Path) -> None:
    out = tmp_path / "models.py"
    codegen = Path(sys.executable).with_name("datamodel-codegen")
    env = {**os.environ, "DATAMODEL_CODEGEN": str(codegen)}
    subprocess.run(["sh", str(HERE / "generate.sh"), str(out)], check=True, env=env)
    committed = (HERE / "src/keygate/models.py").read_text()
    assert out.read_text() == committed, (
        "docs/openapi.json changed: run `sh clients/python/generate.sh` and commit models.py"
    )


def test_every_operation_has_a_method() -> None:
    doc = json.loads(DOC.read_text())
    source = (HERE / "src/keygate/_client.py").read_text()
    called = set(re.findall(r'request\(\s*"([A-Z]+)",\s*"([^"]+)"', source))
    wanted = {
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"} and not needs_no_method(path)
    }
    assert wanted - called == set(), "operations of the document with no method"
    assert called - wanted == set(), "methods for operations the document does not have"
    assert len(called) >= 40
