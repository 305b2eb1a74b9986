"""The README's Python snippet (its "Use keygate from your code"), as written, run against the running keygate
(only its URL and operator token are put in place of `http://localhost:8787` and
`dev-admin-token`), and type-checked with mypy --strict."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import Server

README = Path(__file__).resolve().parents[3] / "README.md"


def snippet() -> str:
    text = README.read_text()
    start = text.index("## Use keygate from your code\n")
    section = text[start : text.index("\n## ", start + 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the README has one Python snippet"
    return str(blocks[0])


def test_the_snippet_runs_the_readme_flow(server: Server, tmp_path: Path) -> None:
    code = snippet().replace('"http://localhost:8787"', repr(server.base_url))
    code = code.replace('"dev-admin-token"', repr(server.operator_token))
    script = tmp_path / "snippet.py"
    script.write_text(code)
    out = subprocess.run(
        [sys.executable, str(script)], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert out[0] == "True valid"
    assert all(re.fullmatch(r"sk_live_\S+ active", line) for line in out[1:3])
    assert out[3:] == ["disabled_key", "404 not_found"]


def test_the_snippet_type_checks(tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(snippet())
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run(
        [str(mypy), "--strict", "--no-incremental", str(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
