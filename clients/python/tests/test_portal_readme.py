"""The README's Python portal snippet (its "Embed the key manager in your product"), as written,
run against the running keygate with a team's key (only its URL is put in place of
`http://localhost:8787`), the link it returns opened once (`303` and the session cookie), and
type-checked with mypy --strict."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from keygate import Keygate

from .conftest import Server

README = Path(__file__).resolve().parents[3] / "README.md"


def snippet() -> str:
    text = README.read_text()
    start = text.index("## Embed the key manager in your product\n")
    section = text[start : text.index("\n## ", start + 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the section has one Python snippet"
    return str(blocks[0])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_the_portal_snippet_opens_a_link_that_signs_in_once(
    server: Server, tmp_path: Path
) -> None:
    with Keygate(server.base_url, token=server.operator_token) as operator:
        team = operator.teams.create(name=f"py-portal {uuid.uuid4().hex[:8]}")
    code = snippet().replace('"http://localhost:8787"', repr(server.base_url))
    code += '\nprint(api_keys_link("user_42", "ada@example.com", "Ada"))\n'
    script = tmp_path / "portal.py"
    script.write_text(code)
    env = {**os.environ, "KEYGATE_KEY": team["api_key"]["key"]}
    url = subprocess.run(
        [sys.executable, str(script)], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()
    assert url.startswith(f"{server.base_url}/v1/portal/kgp_{team['team']['id']}_"), url
    opener = urllib.request.build_opener(_NoRedirect)
    statuses = []
    for _ in range(2):
        try:
            opener.open(url)
        except urllib.error.HTTPError as e:
            statuses.append((e.code, e.headers.get("Location"), e.headers.get("Set-Cookie")))
    assert statuses[0][0:2] == (303, "/")
    assert str(statuses[0][2]).startswith("__Host-keygate_session=")
    assert statuses[1][0] == 410, "once"


def test_the_portal_snippet_type_checks(tmp_path: Path) -> None:
    script = tmp_path / "portal.py"
    script.write_text(snippet())
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run(
        [str(mypy), "--strict", "--no-incremental", str(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
