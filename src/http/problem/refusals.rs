//! `ApiError` for a team object's refusals (`core::team::TeamRefusal`): each one's status, code and
//! words.

use super::ApiError;
use crate::core::members::MemberDenial;

impl ApiError {
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
}
