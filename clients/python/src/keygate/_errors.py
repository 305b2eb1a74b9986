"""Problems (RFC 9457, ``application/problem+json``) as exceptions."""

from __future__ import annotations

import httpx


class KeygateError(Exception):
    """keygate answered a problem: ``status``, its stable ``code`` (``"not_found"``,
    ``"insufficient_permissions"``, …), ``title`` and ``detail``. ``headers`` holds the response's
    headers (``Retry-After``, the rate-limit headers)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        type: str | None = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.type = type or f"urn:keygate:problem:{code}"
        self.headers = headers if headers is not None else httpx.Headers()

    @property
    def retry_after(self) -> int | None:
        """Seconds to wait, for a ``429``."""
        value = self.headers.get("Retry-After")
        return int(value) if value and value.isdigit() else None

    @classmethod
    def from_response(cls, response: httpx.Response) -> KeygateError:
        try:
            body = response.json()
        except ValueError:
            body = None
        p = body if isinstance(body, dict) else {}

        def text(name: str, fallback: str) -> str:
            value = p.get(name)
            return value if isinstance(value, str) else fallback

        return cls(
            response.status_code,
            text("code", "unexpected_response"),
            text("title", response.reason_phrase or "Unexpected response"),
            text("detail", "" if p else response.text[:200]),
            type=p.get("type") if isinstance(p.get("type"), str) else None,
            headers=response.headers,
        )
