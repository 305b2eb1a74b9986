"""The thin, hand-written layer over the generated types (models.py): one method per operation
of docs/openapi.json, each answering the decoded JSON body (a dict typed by models.py) or raising
a KeygateError carrying the problem keygate answered."""

from __future__ import annotations

from types import TracebackType
from typing import Any, cast
from urllib.parse import quote

import httpx
from typing_extensions import Unpack

from . import models
from ._errors import KeygateError

Query = str | int | bool


class Keygate:
    """A synchronous client for keygate's API.

    ``token`` is an API key (``sk_live_…``), or the deployment's operator token for ``teams``;
    it is sent as ``Authorization: Bearer``. ``verify()`` needs none (the key is in the body).
    Every operation of the OpenAPI document is a method (``keys.create``, ``webhooks.rotate_secret``,
    …); ``request()`` reaches any path directly.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        h = {"User-Agent": "keygate-python", **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        self._http = http or httpx.Client(timeout=timeout)
        self._base = base_url.rstrip("/")
        self._headers = h
        self.teams = Teams(self)
        self.keys = Keys(self)
        self.projects = Projects(self)
        self.roles = Roles(self)
        self.service_accounts = ServiceAccounts(self)
        self.members = Members(self)
        self.invitations = Invitations(self)
        self.webhooks = Webhooks(self)

    def __enter__(self) -> Keygate:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Query] | None = None,
        **path_params: str,
    ) -> Any:
        """Calls ``method path`` (a path of the document, e.g. ``/v1/api-keys/{id}``, with its
        parameters given by name) and answers the decoded body (``None`` for ``204``)."""
        url = self._base + path.format(**{k: quote(v, safe="") for k, v in path_params.items()})
        query = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in (params or {}).items()}
        response = self._http.request(
            method, url, json=json, params=query or None, headers=self._headers
        )
        if response.is_error:
            raise KeygateError.from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def verify(self, **body: Unpack[models.VerifyRequest]) -> models.Verification:
        """``POST /v1/verify``: a refusal is an answer (``valid`` False and its ``code``), not an
        exception; only a malformed request raises."""
        return cast(models.Verification, self.request("POST", "/v1/verify", json=body))

    def rate_limit(self) -> models.RateLimitStatus:
        """The calling key's windows (not counted)."""
        return cast(models.RateLimitStatus, self.request("GET", "/v1/rate-limit"))

    def health(self) -> models.HealthzGetResponse:
        return cast(models.HealthzGetResponse, self.request("GET", "/healthz"))

    def monitoring(self) -> models.Monitoring:
        return cast(models.Monitoring, self.request("GET", "/v1/monitoring"))

    def audit_log(self, **query: Query) -> models.AuditPage:
        return cast(models.AuditPage, self.request("GET", "/v1/audit-log", params=query))

    def report_leaks(self, report: models.LeakReport) -> models.LeakFeedback:
        """``POST /v1/leaks``: your own scanner's findings (``[{"token", "type"?, "url"?,
        "source"?}]``); your team's keys among them are handled by its ``leak_policy``. The answer
        labels each token by its SHA-256 (``true_positive`` for a key of your team)."""
        return cast(models.LeakFeedback, self.request("POST", "/v1/leaks", json=report))

    def create_portal_session(
        self, **body: Unpack[models.PortalSessionRequest]
    ) -> models.PortalSession:
        """``POST /v1/portal/sessions``: a link (``url``, valid once within 5 minutes) that signs
        your user (``user={"external_id", "email", "name"?}``) into keygate's dashboard with
        ``role``, and offers "Back to …" ``return_url``. With the operator token, name
        ``team_id``; with a key holding ``members:write``, its own team."""
        return cast(
            models.PortalSession, self.request("POST", "/v1/portal/sessions", json=body)
        )


class _Resource:
    def __init__(self, client: Keygate) -> None:
        self._k = client


class Teams(_Resource):
    """The operator's endpoints: the client's token is the deployment's ADMIN_TOKEN."""

    def create(self, **body: Unpack[models.V1TeamsPostRequest]) -> models.CreatedTeam:
        return cast(models.CreatedTeam, self._k.request("POST", "/v1/teams", json=body))

    def get(self, team_id: str) -> models.Team:
        return cast(models.Team, self._k.request("GET", "/v1/teams/{id}", id=team_id))

    def update(self, team_id: str, **body: Unpack[models.V1TeamsIdPatchRequest]) -> models.Team:
        return cast(models.Team, self._k.request("PATCH", "/v1/teams/{id}", id=team_id, json=body))


class Keys(_Resource):
    def list(self, **query: Query) -> models.V1ApiKeysGetResponse:
        return cast(models.V1ApiKeysGetResponse, self._k.request("GET", "/v1/api-keys", params=query))

    def create(self, **body: Unpack[models.CreateKeyRequest]) -> models.CreatedKey:
        return cast(models.CreatedKey, self._k.request("POST", "/v1/api-keys", json=body))

    def current(self) -> models.KeyWithUsage:
        """The calling key itself."""
        return cast(models.KeyWithUsage, self._k.request("GET", "/v1/api-keys/current"))

    def get(self, key_id: str) -> models.KeyWithUsage:
        return cast(models.KeyWithUsage, self._k.request("GET", "/v1/api-keys/{id}", id=key_id))

    def update(self, key_id: str, **body: Unpack[models.UpdateKeyRequest]) -> models.Key:
        return cast(models.Key, self._k.request("PATCH", "/v1/api-keys/{id}", id=key_id, json=body))

    def disable(self, key_id: str) -> models.Key:
        return cast(models.Key, self._k.request("POST", "/v1/api-keys/{id}/disable", id=key_id))

    def delete(self, key_id: str) -> None:
        self._k.request("DELETE", "/v1/api-keys/{id}", id=key_id)

    def roll(self, key_id: str, **body: Unpack[models.V1ApiKeysIdRollPostRequest]) -> models.CreatedKey:
        return cast(
            models.CreatedKey,
            self._k.request("POST", "/v1/api-keys/{id}/roll", id=key_id, json=body),
        )

    def usage(self, key_id: str, **query: Query) -> models.UsageHistory:
        return cast(
            models.UsageHistory,
            self._k.request("GET", "/v1/api-keys/{id}/usage", id=key_id, params=query),
        )


class Projects(_Resource):
    def list(self) -> models.V1ProjectsGetResponse:
        return cast(models.V1ProjectsGetResponse, self._k.request("GET", "/v1/projects"))

    def create(self, **body: Unpack[models.V1ProjectsPostRequest]) -> models.Project:
        return cast(models.Project, self._k.request("POST", "/v1/projects", json=body))

    def get(self, project_id: str) -> models.Project:
        return cast(models.Project, self._k.request("GET", "/v1/projects/{id}", id=project_id))

    def delete(self, project_id: str) -> None:
        self._k.request("DELETE", "/v1/projects/{id}", id=project_id)


class Roles(_Resource):
    def list(self) -> models.V1RolesGetResponse:
        return cast(models.V1RolesGetResponse, self._k.request("GET", "/v1/roles"))

    def create(self, **body: Unpack[models.CreateRoleRequest]) -> models.Role:
        return cast(models.Role, self._k.request("POST", "/v1/roles", json=body))

    def get(self, role_id: str) -> models.Role:
        return cast(models.Role, self._k.request("GET", "/v1/roles/{id}", id=role_id))

    def update(self, role_id: str, **body: Unpack[models.UpdateRoleRequest]) -> models.Role:
        return cast(models.Role, self._k.request("PATCH", "/v1/roles/{id}", id=role_id, json=body))

    def delete(self, role_id: str) -> None:
        self._k.request("DELETE", "/v1/roles/{id}", id=role_id)


class ServiceAccounts(_Resource):
    def list(self) -> models.V1ServiceAccountsGetResponse:
        return cast(
            models.V1ServiceAccountsGetResponse, self._k.request("GET", "/v1/service-accounts")
        )

    def create(self, **body: Unpack[models.CreateServiceAccountRequest]) -> models.ServiceAccount:
        return cast(
            models.ServiceAccount, self._k.request("POST", "/v1/service-accounts", json=body)
        )

    def get(self, account_id: str) -> models.ServiceAccount:
        return cast(
            models.ServiceAccount,
            self._k.request("GET", "/v1/service-accounts/{id}", id=account_id),
        )

    def update(
        self, account_id: str, **body: Unpack[models.UpdateServiceAccountRequest]
    ) -> models.ServiceAccount:
        return cast(
            models.ServiceAccount,
            self._k.request("PATCH", "/v1/service-accounts/{id}", id=account_id, json=body),
        )

    def delete(self, account_id: str) -> None:
        self._k.request("DELETE", "/v1/service-accounts/{id}", id=account_id)


class Members(_Resource):
    def list(self) -> models.V1MembersGetResponse:
        return cast(models.V1MembersGetResponse, self._k.request("GET", "/v1/members"))

    def update(self, member_id: str, **body: Unpack[models.V1MembersIdPatchRequest]) -> models.Member:
        return cast(
            models.Member, self._k.request("PATCH", "/v1/members/{id}", id=member_id, json=body)
        )

    def delete(self, member_id: str) -> None:
        self._k.request("DELETE", "/v1/members/{id}", id=member_id)


class Invitations(_Resource):
    def list(self) -> models.V1InvitationsGetResponse:
        return cast(models.V1InvitationsGetResponse, self._k.request("GET", "/v1/invitations"))

    def create(self, **body: Unpack[models.V1InvitationsPostRequest]) -> models.CreatedInvitation:
        return cast(
            models.CreatedInvitation, self._k.request("POST", "/v1/invitations", json=body)
        )

    def delete(self, invitation_id: str) -> None:
        self._k.request("DELETE", "/v1/invitations/{id}", id=invitation_id)

    def accept(self, **body: Unpack[models.V1InvitationsAcceptPostRequest]) -> models.SignedIn:
        """Needs no token: the invitation's token is in the body."""
        return cast(models.SignedIn, self._k.request("POST", "/v1/invitations/accept", json=body))


class Webhooks(_Resource):
    def list(self) -> models.WebhookList:
        return cast(models.WebhookList, self._k.request("GET", "/v1/webhooks"))

    def create(self, **body: Unpack[models.V1WebhooksPostRequest]) -> models.WebhookWithSecret:
        return cast(models.WebhookWithSecret, self._k.request("POST", "/v1/webhooks", json=body))

    def get(self, hook_id: str) -> models.Webhook:
        return cast(models.Webhook, self._k.request("GET", "/v1/webhooks/{id}", id=hook_id))

    def update(self, hook_id: str, **body: Unpack[models.V1WebhooksIdPatchRequest]) -> models.Webhook:
        return cast(
            models.Webhook, self._k.request("PATCH", "/v1/webhooks/{id}", id=hook_id, json=body)
        )

    def delete(self, hook_id: str) -> None:
        self._k.request("DELETE", "/v1/webhooks/{id}", id=hook_id)

    def rotate_secret(self, hook_id: str) -> models.WebhookWithSecret:
        return cast(
            models.WebhookWithSecret,
            self._k.request("POST", "/v1/webhooks/{id}/rotate-secret", id=hook_id),
        )

    def test(self, hook_id: str) -> models.EventQueued:
        return cast(
            models.EventQueued, self._k.request("POST", "/v1/webhooks/{id}/test", id=hook_id)
        )

    def deliveries(self, hook_id: str, **query: Query) -> models.DeliveryList:
        return cast(
            models.DeliveryList,
            self._k.request("GET", "/v1/webhooks/{id}/deliveries", id=hook_id, params=query),
        )

    def retry(self, hook_id: str, event_id: str) -> models.EventQueued:
        return cast(
            models.EventQueued,
            self._k.request(
                "POST",
                "/v1/webhooks/{id}/deliveries/{event_id}/retry",
                id=hook_id,
                event_id=event_id,
            ),
        )
