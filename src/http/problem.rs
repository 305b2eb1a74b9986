//! The API's one error type: each failure maps to a status, a stable snake_case `code` and an
//! RFC 9457 problem+json body. Internal causes are logged where they happen and never returned;
//! no error ever echoes a key.

use crate::core::access::Denial;
use crate::core::input::{InputError, InputErrorKind};
use crate::core::key::KeyFormatError;
use crate::core::members::MemberDenial;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`, `Allow`).
    pub headers: Vec<(&'static str, String)>,
}

/// The problem+json body.
#[derive(Serialize)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'a str,
    pub status: u16,
    pub detail: &'a str,
    pub code: &'a str,
}

impl ApiError {
    fn new(
        status: u16,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: detail.into(),
            headers: Vec::new(),
        }
    }

    fn unauthorized(code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        let mut e = Self::new(401, code, title, detail);
        e.headers.push(("WWW-Authenticate", "Bearer".into()));
        e
    }

    pub fn missing_key() -> Self {
        Self::unauthorized(
            "missing_key",
            "Missing API key",
            "send the key as `Authorization: Bearer <key>` or `X-API-Key: <key>`",
        )
    }

    pub fn malformed_header() -> Self {
        Self::unauthorized(
            "malformed_key",
            "Malformed API key",
            "the Authorization header must be `Bearer <key>`",
        )
    }

    pub fn malformed_key(e: KeyFormatError) -> Self {
        Self::unauthorized("malformed_key", "Malformed API key", e.to_string())
    }

    pub fn invalid_key() -> Self {
        Self::unauthorized(
            "invalid_key",
            "Invalid API key",
            "no such key: it never existed or it was deleted",
        )
    }

    pub fn invalid_operator_token() -> Self {
        Self::unauthorized(
            "invalid_key",
            "Invalid operator token",
            "this is not the operator token",
        )
    }

    /// No `ADMIN_TOKEN` secret: a deployment error (`503 misconfigured`), not the caller's.
    pub fn operator_token_unset() -> Self {
        Self::misconfigured(
            "ADMIN_TOKEN is not set, so the operator endpoints are closed: \
             `npx wrangler secret put ADMIN_TOKEN`",
        )
    }

    pub fn expired_key() -> Self {
        Self::unauthorized(
            "expired_key",
            "Expired API key",
            "the key is past its `expires_at`",
        )
    }

    pub fn disabled_key() -> Self {
        Self::unauthorized(
            "disabled_key",
            "Disabled API key",
            "the key was disabled and cannot be used again",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            403,
            "insufficient_permissions",
            "Insufficient permissions",
            detail,
        )
    }

    pub fn missing_permission(p: &str) -> Self {
        Self::forbidden(format!("this key lacks the permission `{p}`"))
    }

    pub fn project_mismatch() -> Self {
        Self::new(
            403,
            "project_mismatch",
            "Outside the key's project",
            "this key is scoped to a project: it acts only inside it, and cannot change \
             team-wide objects or create keys for other projects or for every project",
        )
    }

    pub fn rate_limited(retry_after: i64) -> Self {
        let mut e = Self::new(
            429,
            "rate_limited",
            "Rate limit exceeded",
            format!(
                "this key has no requests left in the current window; retry in {retry_after} s"
            ),
        );
        e.headers.push(("Retry-After", retry_after.to_string()));
        e
    }

    /// The key's monthly quota is used up: `Retry-After` is the month's end.
    pub fn quota_exceeded(retry_after: i64) -> Self {
        let mut e = Self::new(
            429,
            "quota_exceeded",
            "Monthly quota exceeded",
            format!(
                "this key has used its monthly quota; it renews at the start of the next UTC month, in {retry_after} s"
            ),
        );
        e.headers.push(("Retry-After", retry_after.to_string()));
        e
    }

    /// The 401/403/429 for a failed check.
    pub fn from_denial(d: &Denial, retry_after: Option<i64>) -> Self {
        match d {
            Denial::InvalidKey => Self::invalid_key(),
            Denial::DisabledKey => Self::disabled_key(),
            Denial::ExpiredKey => Self::expired_key(),
            Denial::IpNotAllowed => Self::new(
                403,
                "ip_not_allowed",
                "Address not allowed",
                "this key only accepts requests from the addresses in its `allowed_ips`",
            ),
            Denial::MissingPermission(p) => Self::missing_permission(p.as_str()),
            Denial::TestKeyOnLive => {
                Self::forbidden("a test key can only create and manage test keys")
            }
            Denial::ProjectMismatch => Self::project_mismatch(),
            Denial::OutsideProject => Self::not_found("no such object in this key's project"),
            Denial::RateLimited => Self::rate_limited(retry_after.unwrap_or(1)),
            Denial::QuotaExceeded => Self::quota_exceeded(retry_after.unwrap_or(1)),
            Denial::UsageExceeded => Self::new(
                429,
                "usage_exceeded",
                "No credits left",
                "this key has fewer credits left than the request costs",
            ),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, "not_found", "Not found", detail)
    }

    pub fn route_not_found() -> Self {
        Self::not_found("no such endpoint; see GET /openapi.json")
    }

    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        let mut e = Self::new(
            405,
            "method_not_allowed",
            "Method not allowed",
            format!("this endpoint accepts {}", allowed.join(", ")),
        );
        e.headers.push(("Allow", allowed.join(", ")));
        e
    }

    pub fn input(e: InputError) -> Self {
        let (code, title) = match e.kind {
            InputErrorKind::InvalidJson => ("invalid_json", "Invalid JSON body"),
            InputErrorKind::UnknownField => ("unknown_field", "Unknown field"),
            InputErrorKind::MissingField => ("missing_field", "Missing field"),
            InputErrorKind::InvalidField => ("invalid_field", "Invalid field"),
        };
        Self::new(400, code, title, e.detail)
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            413,
            "payload_too_large",
            "Payload too large",
            format!(
                "the body must be at most {} bytes",
                crate::core::input::MAX_BODY_BYTES
            ),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as JSON with `Content-Type: application/json`",
        )
    }

    pub fn limit_reached(r: &crate::core::limits::LimitReached) -> Self {
        Self::conflict("limit_reached", "Team limit reached", r.detail())
    }

    pub fn rate_limit_ceiling(c: &crate::core::limits::AboveCeiling) -> Self {
        Self::new(
            403,
            "rate_limit_ceiling",
            "Above the team's rate-limit ceiling",
            c.detail(),
        )
    }

    /// A service account's roles would give a key more than 100 permissions.
    pub fn too_many_permissions(count: usize) -> Self {
        Self::new(
            400,
            "invalid_field",
            "Invalid field",
            crate::core::limits::too_many_permissions(count),
        )
    }

    /// A team object's refusal. `what` names the kind of object asked for ("project"), `id` the
    /// one asked for (may be empty).
    pub fn refused(r: crate::core::team::TeamRefusal, what: &str, id: &str) -> Self {
        use crate::core::team::{InUse, TeamRefusal as R};
        let shown: String = id.chars().take(40).collect();
        match r {
            R::NotFound => Self::not_found(format!("no {what} `{shown}` in this team")),
            R::Exists => Self::conflict("name_taken", "Exists", format!("the {what} exists")),
            R::ProjectNotFound => Self::not_found("`project_id` names no project of this team"),
            R::ServiceAccountNotFound => {
                Self::not_found("`service_account_id` names no service account of this team")
            }
            R::UnknownRole { name } => {
                Self::not_found(format!("no role named {name:?} in this team"))
            }
            R::NameTaken { name } => Self::conflict(
                "name_taken",
                "Name taken",
                format!("this team already has a {what} named {name:?}"),
            ),
            R::InUse(InUse::ProjectHasKeys) => Self::conflict(
                "project_in_use",
                "In use",
                format!("project {shown} still has API keys scoped to it; delete them first"),
            ),
            R::InUse(InUse::RoleGiven) => Self::conflict(
                "role_in_use",
                "In use",
                format!("role {shown} is given to a service account; take it away first"),
            ),
            R::MissingPermission { permission } => Self::forbidden(format!(
                "the roles include `{permission}`, which this caller lacks, so it cannot give it"
            )),
            R::LimitReached(reached) => Self::limit_reached(&reached),
            R::AboveCeiling(ceiling) => Self::rate_limit_ceiling(&ceiling),
            R::TooManyPermissions { count } => Self::too_many_permissions(count),
            R::MemberNotFound => Self::not_found(format!("no member `{shown}` in this team")),
            R::WebhookNotFound => Self::not_found(format!("no webhook `{shown}` in this team")),
            R::EventNotFound => Self::not_found(
                "this event is not kept for this webhook (events are kept for 7 days)",
            ),
            R::InvitationNotFound => {
                Self::not_found(format!("no pending invitation `{shown}` in this team"))
            }
            R::EmailTaken => Self::conflict(
                "email_taken",
                "Email taken",
                "a member of this team already has this email",
            ),
            R::Member(MemberDenial::OwnerOnly) => Self::new(
                403,
                "owner_required",
                "Owner required",
                "only an owner can make, demote, invite or remove an owner",
            ),
            R::Member(MemberDenial::LastOwner) => Self::conflict(
                "last_owner",
                "Last owner",
                "the team's last owner can be neither demoted nor removed; make another owner first",
            ),
            R::InvalidInvitation => Self::new(
                400,
                "invalid_invitation",
                "Invalid invitation",
                "this invitation token is unknown, already used or withdrawn; ask for a new invitation",
            ),
            R::InvitationExpired => Self::new(
                400,
                "invitation_expired",
                "Invitation expired",
                "this invitation is more than 7 days old; ask for a new one",
            ),
            R::InvitationWithdrawn => Self::new(
                410,
                "invalid_invitation",
                "Invitation withdrawn",
                "this invitation was withdrawn: whoever made it can no longer give this role; ask for a new invitation",
            ),
            R::MemberRateLimited { retry_after } => {
                let mut e = Self::new(
                    429,
                    "rate_limited",
                    "Rate limit exceeded",
                    format!(
                        "this member has made too many requests this minute; retry in {retry_after} s"
                    ),
                );
                e.headers.push(("Retry-After", retry_after.to_string()));
                e
            }
            R::InvalidCredentials => Self::invalid_credentials(),
            R::SignInThrottled { retry_after } => {
                let mut e = Self::new(
                    429,
                    "rate_limited",
                    "Too many failed sign-ins",
                    format!(
                        "too many failed sign-ins for this email or client; try again in {retry_after} s"
                    ),
                );
                e.headers.push(("Retry-After", retry_after.to_string()));
                e
            }
            R::InvalidSession => Self::invalid_session(),
            R::SessionNotFound => {
                Self::not_found(format!("no session `{shown}` of this member"))
            }
            R::PortalNotFound => Self::not_found("no such portal link"),
            R::PortalSpent => Self::new(
                410,
                "invalid_portal_token",
                "Portal link used or expired",
                "this portal link was used already or is past its 5 minutes; open a new one from your product",
            ),
            R::TotpRequired => Self::unauthorized(
                "totp_required",
                "Second factor required",
                "send `code`: a current code of your authenticator app, or one of your recovery codes (each works once)",
            ),
            R::InvalidCode => Self::new(
                400,
                "invalid_code",
                "Invalid code",
                "`code` is not a current code of this authenticator secret (or a recovery code), or was used already",
            ),
            R::TotpEnabled => Self::new(
                409,
                "totp_enabled",
                "Two-factor sign-in is on",
                "two-factor sign-in is on already; disable it first (POST /v1/me/totp/disable)",
            ),
            R::TotpNotEnrolled => Self::new(
                409,
                "totp_not_enrolled",
                "Two-factor sign-in is not set up",
                "start with POST /v1/me/totp, then confirm with a code",
            ),
        }
    }

    /// A member of a team requiring two factors, not enrolled yet, asking for anything else.
    pub fn totp_enrolment_required() -> Self {
        Self::new(
            403,
            "totp_enrolment_required",
            "Two-factor enrolment required",
            "this team requires two-factor sign-in: enrol first (POST /v1/me/totp, then POST /v1/me/totp/confirm)",
        )
    }

    /// A request with both an API key and a session cookie: which one acts would be a guess.
    pub fn two_credentials() -> Self {
        Self::new(
            400,
            "ambiguous_credentials",
            "Two credentials",
            "send either `Authorization: Bearer <key>` or the session cookie, not both",
        )
    }

    /// `Authorization: Bearer` and `X-API-Key` with different keys.
    pub fn two_keys() -> Self {
        Self::new(
            400,
            "ambiguous_credentials",
            "Two credentials",
            "send the key as `Authorization: Bearer <key>` or as `X-API-Key`, not two different keys",
        )
    }

    /// A change made with a session cookie from another site.
    pub fn csrf_rejected() -> Self {
        Self::new(
            403,
            "csrf_rejected",
            "Cross-site request refused",
            "a change made with a session must come from the dashboard's own origin",
        )
    }

    /// An endpoint about the calling key, called with a session.
    pub fn key_required() -> Self {
        Self::new(
            400,
            "key_required",
            "API key required",
            "this endpoint describes the calling API key; a session has none (see GET /v1/me)",
        )
    }

    /// An endpoint about the signed-in member, called with a key.
    pub fn session_required() -> Self {
        Self::unauthorized(
            "session_required",
            "Session required",
            "this endpoint is for a signed-in member: sign in with POST /v1/session",
        )
    }

    /// `current_password` of a password change is not the member's password.
    pub fn wrong_password() -> Self {
        Self::new(
            400,
            "wrong_password",
            "Wrong password",
            "`current_password` is not this member's password",
        )
    }

    /// A wrong email or a wrong password: one answer for both.
    pub fn invalid_credentials() -> Self {
        Self::new(
            401,
            "invalid_credentials",
            "Invalid credentials",
            "the email or the password is wrong",
        )
    }

    /// A session cookie that no live session has.
    pub fn invalid_session() -> Self {
        Self::unauthorized(
            "invalid_session",
            "Invalid session",
            "the session has ended (signed out, expired, or changed by an administrator); sign in again",
        )
    }

    pub fn conflict(code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self::new(409, code, title, detail)
    }

    /// Storage did not answer. The cause is logged by the caller; the client may retry.
    pub fn unavailable() -> Self {
        let mut e = Self::new(
            503,
            "service_unavailable",
            "Service unavailable",
            "storage did not answer; nothing was changed, retry shortly",
        );
        e.headers.push(("Retry-After", "1".into()));
        e
    }

    /// A deployment error (a missing secret or binding, an invalid KEY_PREFIX): the operator
    /// must fix it. `503`: the service cannot answer until then; the client is not at fault.
    pub fn misconfigured(detail: impl Into<String>) -> Self {
        Self::new(503, "misconfigured", "Service misconfigured", detail)
    }

    pub fn problem(&self) -> Problem<'_> {
        Problem {
            kind: format!("urn:keygate:problem:{}", self.code),
            title: self.title,
            status: self.status,
            detail: &self.detail,
            code: self.code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::permission::Permission;

    #[test]
    fn auth_failures_are_401_with_www_authenticate() {
        for e in [
            ApiError::missing_key(),
            ApiError::malformed_header(),
            ApiError::invalid_key(),
            ApiError::expired_key(),
            ApiError::disabled_key(),
        ] {
            assert_eq!(e.status, 401);
            assert!(e
                .headers
                .contains(&("WWW-Authenticate", "Bearer".to_string())));
        }
    }

    #[test]
    fn forbidden_names_the_permission() {
        let e = ApiError::from_denial(
            &Denial::MissingPermission(Permission::parse("tasks:write").unwrap()),
            None,
        );
        assert_eq!((e.status, e.code), (403, "insufficient_permissions"));
        assert!(e.detail.contains("tasks:write"));
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let e = ApiError::from_denial(&Denial::RateLimited, Some(17));
        assert_eq!(e.status, 429);
        assert!(e.headers.contains(&("Retry-After", "17".to_string())));
    }

    #[test]
    fn problem_body_shape() {
        let v = serde_json::to_value(ApiError::not_found("no key key_x").problem()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type":"urn:keygate:problem:not_found","title":"Not found","status":404,
                               "detail":"no key key_x","code":"not_found"})
        );
    }
}
