"""The README's flow through the Python client against a running keygate, and problems raised
as KeygateError with their codes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from keygate import Keygate, KeygateError

from .conftest import Server, in_one_minute


def next_year() -> str:
    return (datetime.now(timezone.utc) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_readme_flow(admin: Keygate) -> None:
    key = admin.keys.create(
        name="Production App", permissions=["tasks:read", "tasks:write"], expires_at=next_year()
    )
    assert key["key"].startswith("sk_live_")

    v = admin.verify(key=key["key"], permissions=["tasks:read"])
    assert (v["valid"], v["code"], v["key_id"]) == (True, "valid", key["id"])
    assert v["permissions"] == ["tasks:read", "tasks:write"]
    assert admin.verify(key=key["key"], permissions=["billing:read"])["code"] == (
        "insufficient_permissions"
    )

    page = admin.keys.list()
    row = next(k for k in page["data"] if k["id"] == key["id"])
    assert row["prefix"] == key["key"][:12]
    assert key["key"] not in str(page)

    updated = admin.keys.update(key["id"], name="Production App v2", permissions=["tasks:read"])
    assert (updated["name"], updated["permissions"]) == ("Production App v2", ["tasks:read"])

    assert admin.keys.disable(key["id"])["status"] == "disabled"
    after = admin.verify(key=key["key"], permissions=["tasks:read"])
    assert (after["valid"], after["code"]) == (False, "disabled_key")

    admin.keys.delete(key["id"])
    assert admin.verify(key=key["key"])["code"] == "invalid_key"
    with pytest.raises(KeygateError) as e:
        admin.keys.get(key["id"])
    assert (e.value.status, e.value.code) == (404, "not_found")


def test_problems_carry_status_code_title_detail(server: Server, admin: Keygate) -> None:
    with Keygate(server.base_url, token="sk_live_not-a-key") as stranger:
        with pytest.raises(KeygateError) as e:
            stranger.keys.list()
    assert (e.value.status, e.value.code, e.value.title) == (401, "malformed_key", "Malformed API key")
    assert e.value.detail
    assert e.value.headers["WWW-Authenticate"] == "Bearer"

    # The operator's endpoints: an API key is not enough, a wrong token is no operator.
    with pytest.raises(KeygateError) as e:
        admin.teams.create(name="not the operator")
    assert (e.value.status, e.value.code) == (403, "insufficient_permissions")
    with Keygate(server.base_url, token="not-the-operator-token") as impostor:
        with pytest.raises(KeygateError) as e:
            impostor.teams.create(name="nope")
    assert (e.value.status, e.value.code) == (401, "invalid_key")

    with pytest.raises(KeygateError) as e:
        admin.request("POST", "/v1/api-keys", json={"name": "x", "colour": "red"})
    assert (e.value.status, e.value.code) == (400, "unknown_field")

    admin.projects.create(name="web")
    with pytest.raises(KeygateError) as e:
        admin.projects.create(name="web")
    assert (e.value.status, e.value.code) == (409, "name_taken")


def test_rate_limited_key_raises_429_with_retry_after(admin: Keygate, server: Server) -> None:
    in_one_minute()
    key = admin.keys.create(name="slow", permissions=[], rate_limit={"per_minute": 1})
    with Keygate(server.base_url, token=key["key"]) as slow:
        assert slow.keys.current()["id"] == key["id"]
        with pytest.raises(KeygateError) as e:
            slow.keys.current()
    assert (e.value.status, e.value.code) == (429, "rate_limited")
    assert e.value.retry_after is not None and 1 <= e.value.retry_after <= 60


def test_other_operations(admin: Keygate) -> None:
    assert admin.keys.current()["permissions"] == ["admin:*"]
    assert [w["name"] for w in admin.rate_limit()["windows"]] == ["minute", "hour", "month"]
    role = admin.roles.create(name="event_ingestor", permissions=["events:write"])
    account = admin.service_accounts.create(name="ingest-service", roles=["event_ingestor"])
    key = admin.keys.create(name="ingest prod", service_account_id=account["id"])
    assert admin.verify(key=key["key"], permissions=["events:write"])["valid"] is True
    assert admin.roles.get(role["id"])["name"] == "event_ingestor"
    assert isinstance(admin.audit_log(limit=5)["data"], list)  # entries arrive within seconds
    assert admin.health()
