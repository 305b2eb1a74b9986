# Generated from docs/openapi.json by clients/python/generate.sh (datamodel-code-generator): do not edit.

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict


class Problem(TypedDict):
    type: str
    title: str
    status: int
    detail: str
    code: Literal['missing_key', 'malformed_key', 'invalid_key', 'expired_key', 'disabled_key', 'ip_not_allowed', 'insufficient_permissions', 'rate_limited', 'quota_exceeded', 'usage_exceeded', 'not_found', 'method_not_allowed', 'invalid_json', 'unknown_field', 'missing_field', 'invalid_field', 'payload_too_large', 'unsupported_media_type', 'permissions_immutable', 'project_in_use', 'role_in_use', 'name_taken', 'service_unavailable', 'misconfigured', 'project_mismatch', 'limit_reached', 'rate_limit_ceiling', 'ambiguous_credentials', 'csrf_rejected', 'key_required', 'session_required', 'invalid_session', 'invalid_credentials', 'email_taken', 'owner_required', 'last_owner', 'invalid_invitation', 'invitation_expired', 'wrong_password', 'invalid_report', 'invalid_signature', 'totp_required', 'invalid_code', 'totp_enabled', 'totp_not_enrolled', 'totp_enrolment_required']


class Branding(TypedDict):
    name: NotRequired[str]
    logo_url: NotRequired[str]
    accent_color: NotRequired[str]


class RateLimit(TypedDict):
    plan: Literal['free', 'professional', 'enterprise']
    per_minute: int
    per_hour: int
    per_month: NotRequired[int]


class Usage(TypedDict):
    requests_today: int
    requests_this_month: int


class RateLimit1(TypedDict):
    limit: NotRequired[int]
    remaining: NotRequired[int]
    reset: NotRequired[int]


class Verification(TypedDict):
    valid: bool
    code: Literal['valid', 'malformed_key', 'invalid_key', 'expired_key', 'disabled_key', 'ip_not_allowed', 'insufficient_permissions', 'project_mismatch', 'rate_limited', 'quota_exceeded', 'usage_exceeded']
    key_id: str | None
    team_id: str | None
    name: str | None
    environment: Literal['live', 'test'] | None
    permissions: list[str] | None
    project_id: str | None
    expires_at: str | None
    rate_limit: RateLimit1 | None


class Window(TypedDict):
    name: Literal['minute', 'hour', 'month']
    limit: int
    remaining: int
    reset: int
    reset_at: str


class RateLimitStatus(TypedDict):
    limit: int
    remaining: int
    reset: int
    reset_at: str
    windows: list[Window]


class Project(TypedDict):
    id: str
    name: str
    created_at: str


class Role(TypedDict):
    id: str
    name: str
    permissions: list[str]
    created_at: str
    updated_at: str


class ServiceAccount(TypedDict):
    id: str
    name: str
    roles: list[str]
    created_at: str
    updated_at: str


Name: TypeAlias = str


Description: TypeAlias = str


ProjectId: TypeAlias = str


ServiceAccountId: TypeAlias = str


Permission: TypeAlias = str


class RateLimitInput(TypedDict, closed=True):
    plan: NotRequired[Literal['free', 'professional', 'enterprise'] | None]
    per_minute: NotRequired[int | None]
    per_hour: NotRequired[int | None]
    per_month: NotRequired[int | None]


class TeamLimits(TypedDict):
    max_keys: int
    max_projects: int
    max_roles: int
    max_service_accounts: int
    max_webhooks: int
    max_members: int
    max_per_minute: int
    max_per_hour: int


class TeamLimitsInput(TypedDict, closed=True):
    max_keys: NotRequired[int]
    max_projects: NotRequired[int]
    max_roles: NotRequired[int]
    max_service_accounts: NotRequired[int]
    max_webhooks: NotRequired[int]
    max_members: NotRequired[int]
    max_per_minute: NotRequired[int]
    max_per_hour: NotRequired[int]


Email: TypeAlias = str


Password: TypeAlias = str


MemberRole: TypeAlias = Literal['owner', 'admin', 'developer', 'viewer']


MemberId: TypeAlias = str


InvitationId: TypeAlias = str


class Member(TypedDict):
    id: MemberId
    email: Email
    role: MemberRole
    created_at: str
    last_login_at: str | None
    external_id: NotRequired[str]
    name: NotRequired[str]


class Invitation(TypedDict):
    id: InvitationId
    email: Email
    role: MemberRole
    created_at: str
    expires_at: str


class CreatedInvitation(Invitation):
    token: str


class Portal(TypedDict):
    return_url: str
    name: str


class Totp(TypedDict, closed=True):
    enabled: bool
    required: bool


class OwnerInput(TypedDict, closed=True):
    email: Email
    password: Password


WebhookEventName: TypeAlias = Literal['api_key.created', 'api_key.updated', 'api_key.rolled', 'api_key.disabled', 'api_key.deleted', 'api_key.expiring', 'api_key.expired', 'api_key.renewed', 'api_key.rate_limited', 'api_key.new_location', 'api_key.quota_exceeded', 'api_key.credits_low', 'api_key.blocked_ip', 'api_key.leaked', 'api_key.idle', 'member.added', 'member.removed', 'webhook.test', '*']


class Webhook(TypedDict):
    id: str
    url: str
    events: list[WebhookEventName]
    description: str | None
    enabled: bool
    disabled_reason: Literal['gone', 'failing'] | None
    created_at: str
    updated_at: str


class WebhookWithSecret(Webhook):
    secret: str


class WebhookList(TypedDict):
    data: list[Webhook]
    has_more: Literal[False]
    next_cursor: None


class Delivery(TypedDict):
    event_id: str
    type: str
    attempt: int
    status: int | None
    error: str | None
    duration_ms: int
    at: str


class DeliveryList(TypedDict):
    data: list[Delivery]
    has_more: Literal[False]
    next_cursor: None


class EventQueued(TypedDict):
    event_id: str


class WebhookEvent(TypedDict):
    id: str
    type: Literal['api_key.created', 'api_key.updated', 'api_key.rolled', 'api_key.disabled', 'api_key.deleted', 'api_key.expiring', 'api_key.expired', 'api_key.renewed', 'api_key.rate_limited', 'api_key.new_location', 'api_key.quota_exceeded', 'api_key.credits_low', 'api_key.blocked_ip', 'api_key.leaked', 'api_key.idle', 'member.added', 'member.removed', 'webhook.test']
    created_at: str
    team_id: str
    data: dict[str, Any]


class Location(TypedDict):
    country: str
    first_seen: str
    last_seen: str


class UsageDay(TypedDict):
    date: str
    admitted: int
    rate_limited: int
    denied: int


class UsageHistory(TypedDict):
    days: list[UsageDay]


class TopKey(TypedDict):
    key_id: str
    name: str
    requests: int


class Monitoring(TypedDict):
    since: str
    requests: int
    admitted: int
    rate_limited: int
    denied_by_reason: dict[str, int]
    keys_expiring_30d: int
    top_keys: list[TopKey]


class Actor(TypedDict):
    type: Literal['key', 'member', 'operator', 'system']
    id: str | None


class Target(TypedDict):
    type: str
    id: str


class AuditEntry(TypedDict):
    id: str
    action: str
    actor: Actor
    target: Target
    project_id: str | None
    changes: NotRequired[dict[str, Any]]
    at: str
    ip: str | None
    country: str | None
    user_agent: str | None


class AuditPage(TypedDict):
    data: list[AuditEntry]
    has_more: bool
    next_cursor: str | None


LeakPolicy: TypeAlias = Literal['disable', 'notify']


class Leak(TypedDict, closed=True):
    at: str
    url: str | None
    source: str | None
    reporter: Literal['github', 'team']


class LeakReportItem(TypedDict):
    token: Any
    type: NotRequired[Any]
    url: NotRequired[Any]
    source: NotRequired[Any]


LeakReport: TypeAlias = list[LeakReportItem]


class LeakFeedbackItem(TypedDict, closed=True):
    token_hash: str
    token_type: str
    label: Literal['true_positive', 'false_positive']


LeakFeedback: TypeAlias = list[LeakFeedbackItem]


class CreditsRefill(TypedDict, closed=True):
    amount: int
    interval: Literal['daily', 'monthly']


class CreditsInput(TypedDict, closed=True):
    remaining: int
    refill: NotRequired[CreditsRefill | None]


class Credits(TypedDict):
    remaining: int
    refill: NotRequired[CreditsRefill]


class Branding1(TypedDict, closed=True):
    name: NotRequired[str | None]
    logo_url: NotRequired[str | None]
    accent_color: NotRequired[str | None]


class PortalSession(TypedDict):
    url: str
    expires_at: str


class Session(TypedDict):
    id: str
    created_at: str
    last_seen_at: str
    user_agent: str | None
    country: str | None
    current: bool


class SessionList(TypedDict):
    data: list[Session]


class PortalUser(TypedDict, closed=True):
    external_id: str
    email: Email
    name: NotRequired[str]


class Team1(TypedDict, closed=True):
    id: str
    name: str


class TeamChoice(TypedDict, closed=True):
    teams: list[Team1]


class TotpEnrolment(TypedDict, closed=True):
    secret: str
    otpauth_url: str


class RecoveryCodes(TypedDict, closed=True):
    recovery_codes: list[str]


class HealthzGetResponse(TypedDict):
    status: NotRequired[Literal['ok']]


class OpenapiJsonGetResponse(TypedDict):
    pass


class Limits(TeamLimitsInput):
    max_keys: NotRequired[int]


class V1TeamsPostRequest(TypedDict, closed=True):
    name: Name
    limits: NotRequired[Limits | None]
    owner: NotRequired[OwnerInput | None]


class V1TeamsIdPatchRequest(TypedDict, closed=True):
    name: NotRequired[Name]
    limits: NotRequired[TeamLimitsInput]
    leak_policy: NotRequired[LeakPolicy]
    branding: NotRequired[Branding1]
    require_totp: NotRequired[bool]
    auto_disable_idle_days: NotRequired[int | None]


class V1ProjectsGetResponse(TypedDict):
    data: list[Project]
    has_more: bool
    next_cursor: str | None


class V1ProjectsPostRequest(TypedDict, closed=True):
    name: str


class V1RolesGetResponse(TypedDict):
    data: list[Role]
    has_more: bool
    next_cursor: str | None


class V1ServiceAccountsGetResponse(TypedDict):
    data: list[ServiceAccount]
    has_more: bool
    next_cursor: str | None


class V1SessionPostRequest(TypedDict, closed=True):
    team_id: NotRequired[str]
    email: Email
    password: str
    code: NotRequired[str]


class V1MePasswordPostRequest(TypedDict, closed=True):
    current_password: str
    new_password: Password


class V1MembersGetResponse(TypedDict):
    data: list[Member]
    has_more: bool
    next_cursor: str | None


class V1MembersIdPatchRequest(TypedDict, closed=True):
    role: MemberRole


class V1InvitationsGetResponse(TypedDict):
    data: list[Invitation]
    has_more: bool
    next_cursor: str | None


class V1InvitationsPostRequest(TypedDict, closed=True):
    email: Email
    role: MemberRole


class V1InvitationsAcceptPostRequest(TypedDict, closed=True):
    token: str
    password: Password


class V1ApiKeysIdRollPostRequest(TypedDict, closed=True):
    expire_old_in: NotRequired[int]


class V1WebhooksPostRequest(TypedDict, closed=True):
    url: str
    events: list[WebhookEventName]
    description: NotRequired[Description | None]


class V1WebhooksIdPatchRequest(TypedDict, closed=True):
    url: NotRequired[str]
    events: NotRequired[list[WebhookEventName]]
    description: NotRequired[Description | None]
    enabled: NotRequired[bool]


class V1MeTotpConfirmPostRequest(TypedDict, closed=True):
    code: str


class V1MeTotpDisablePostRequest(TypedDict, closed=True):
    code: str


class Team(TypedDict):
    id: str
    name: str
    created_at: str
    limits: TeamLimits
    leak_policy: LeakPolicy
    branding: NotRequired[Branding]
    require_totp: NotRequired[bool]
    auto_disable_idle_days: NotRequired[int | None]


class Key(TypedDict):
    id: str
    name: str
    description: str | None
    prefix: str
    environment: Literal['live', 'test']
    permissions: list[str]
    roles: list[str]
    status: Literal['active', 'disabled', 'expired']
    rate_limit: RateLimit
    project_id: str | None
    service_account_id: str | None
    metadata: dict[str, Any] | None
    created_at: str
    updated_at: str
    expires_at: str | None
    disabled_at: str | None
    last_used: str | None
    auto_renew: bool
    rolled_from: str | None
    leaked: NotRequired[Leak]
    idle_days: int
    credits: NotRequired[Credits]
    allowed_ips: NotRequired[list[str]]


class CreatedKey(Key):
    key: str


class KeyWithUsage(Key):
    usage: Usage
    locations: NotRequired[list[Location]]


class CreateKeyRequest(TypedDict, closed=True):
    name: Name
    description: NotRequired[Description | None]
    permissions: NotRequired[list[Permission] | None]
    environment: NotRequired[Literal['live', 'test'] | None]
    expires_at: NotRequired[str | None]
    rate_limit: NotRequired[RateLimitInput | None]
    project_id: NotRequired[ProjectId | None]
    service_account_id: NotRequired[ServiceAccountId | None]
    metadata: NotRequired[dict[str, Any] | None]
    auto_renew: NotRequired[bool]
    credits: NotRequired[CreditsInput | None]
    allowed_ips: NotRequired[list[str] | None]


class UpdateKeyRequest(TypedDict, closed=True):
    name: NotRequired[Name]
    description: NotRequired[Description | None]
    permissions: NotRequired[list[Permission]]
    expires_at: NotRequired[str | None]
    rate_limit: NotRequired[RateLimitInput]
    metadata: NotRequired[dict[str, Any] | None]
    auto_renew: NotRequired[bool]
    credits: NotRequired[CreditsInput | None]
    allowed_ips: NotRequired[list[str] | None]


class VerifyRequest(TypedDict, closed=True):
    key: str
    permissions: NotRequired[list[Permission] | None]
    project_id: NotRequired[ProjectId | None]
    cost: NotRequired[int | None]
    ip: NotRequired[str | None]


class CreateRoleRequest(TypedDict, closed=True):
    name: Name
    permissions: list[Permission]


class UpdateRoleRequest(TypedDict, closed=True):
    name: NotRequired[Name]
    permissions: NotRequired[list[Permission]]


class CreateServiceAccountRequest(TypedDict, closed=True):
    name: Name
    roles: NotRequired[list[Name] | None]


class UpdateServiceAccountRequest(TypedDict, closed=True):
    name: NotRequired[Name]
    roles: NotRequired[list[Name]]


class SignedIn(TypedDict):
    member: Member
    team: Team
    totp_enrolment_required: NotRequired[bool]


class Me(TypedDict):
    member: Member
    team: Team
    permissions: list[str]
    portal: NotRequired[Portal | None]
    totp: Totp


class PortalSessionRequest(TypedDict, closed=True):
    team_id: NotRequired[str]
    user: PortalUser
    role: MemberRole
    return_url: str


class V1ApiKeysGetResponse(TypedDict):
    data: list[Key]
    has_more: bool
    next_cursor: str | None


V1SessionPostResponse: TypeAlias = SignedIn | TeamChoice


class CreatedTeam(TypedDict):
    team: Team
    api_key: CreatedKey
    owner: NotRequired[Member]
