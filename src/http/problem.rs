//! The API's one error type: each failure maps to a status, a stable snake_case `code` and an
//! RFC 9457 problem+json body. Internal causes are logged where they happen and never returned;
//! no error ever echoes a key.

use crate::core::access::Denial;
use crate::core::input::{InputError, InputErrorKind};
use crate::core::key::KeyFormatError;
use serde::Serialize;

// More of `ApiError`'s constructors, by subject.
mod refusals;
mod sessions;

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
