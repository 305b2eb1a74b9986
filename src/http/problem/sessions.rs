//! `ApiError` for members, sessions and the credentials a request brings.

use super::ApiError;

impl ApiError {
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
}
