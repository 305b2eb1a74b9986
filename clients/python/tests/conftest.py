"""The keygate the tests talk to: KEYGATE_URL and KEYGATE_OPERATOR_TOKEN when set
(scripts/clients.sh sets them), else the built worker (build/, from scripts/build.sh) served in
workerd by the repository's tests/support/server.mjs for this session."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from keygate import Keygate

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Server:
    base_url: str
    operator_token: str


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    if os.environ.get("KEYGATE_URL"):
        yield Server(os.environ["KEYGATE_URL"], os.environ.get("KEYGATE_OPERATOR_TOKEN", ""))
        return
    token = "client-tests-operator"
    proc = subprocess.Popen(
        [str(ROOT / "node_modules/.bin/node"), "tests/support/server.mjs", "--admin-token", token],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    url = proc.stdout.readline().strip()
    if not url:
        proc.wait()
        pytest.fail("keygate's server did not start: is build/ there (sh scripts/build.sh)?")
    try:
        yield Server(url, token)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


@pytest.fixture
def admin(server: Server) -> Iterator[Keygate]:
    """A client holding the admin:* key of a new team."""
    with Keygate(server.base_url, token=server.operator_token) as operator:
        created = operator.teams.create(name=f"py-client {uuid.uuid4().hex[:8]}")
    with Keygate(server.base_url, token=created["api_key"]["key"]) as kg:
        yield kg


def in_one_minute() -> None:
    """Waits, when the UTC minute has less than 5 s left, until the next one begins: a test that
    spends a per-minute limit must not straddle the window's boundary (keygate's windows are
    aligned to the clock, so a request in the next minute is rightly admitted again)."""
    left = 60.0 - (time.time() % 60.0)
    if left < 5.0:
        time.sleep(left + 0.05)
