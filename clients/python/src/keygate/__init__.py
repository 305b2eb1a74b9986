"""keygate's Python client: every operation of docs/openapi.json over httpx (sync), typed by the
TypedDicts generated into ``keygate.models``; problems raised as ``KeygateError``.

    from keygate import Keygate, KeygateError

    kg = Keygate("https://keygate.example.com", token="sk_live_…")
    v = kg.verify(key=presented_key, permissions=["tasks:read"])
    if not v["valid"]:
        ...  # v["code"]: "invalid_key", "disabled_key", "insufficient_permissions", …
"""

from . import models
from ._client import Keygate
from ._errors import KeygateError

__all__ = ["Keygate", "KeygateError", "models"]
