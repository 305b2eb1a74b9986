//! A session cookie's member: the cross-site check, the team object's `Authenticate`, the
//! two-factor enrolment gate and the member's request window.

use super::SessionCaller;
use crate::core::ids::TeamId;
use crate::core::members::SessionToken;
use crate::core::team::TeamRefusal;
use crate::core::throttle::{MemberWindow, MEMBER_REQUESTS_PER_MINUTE};
use crate::http::credentials::{origin_of, same_origin_or_safe};
use crate::http::ctx::Ctx;
use crate::http::problem::ApiError;
use crate::storage::team_protocol::Authenticate;
use crate::storage::Backend;
use worker::Request;

/// The path of a request URL (`https://host/v1/me?x` → `/v1/me`).
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

/// The member a session cookie stands for, after the cross-site check for changes.
pub(super) async fn session(
    ctx: &Ctx,
    req: &Request,
    cookie: &str,
) -> Result<SessionCaller, ApiError> {
    let method = req.inner().method();
    let url = req.inner().url();
    let headers = req.headers();
    let origin = headers.get("Origin").ok().flatten();
    let fetch_site = headers.get("Sec-Fetch-Site").ok().flatten();
    if !same_origin_or_safe(
        &method,
        origin_of(&url),
        origin.as_deref(),
        fetch_site.as_deref(),
    ) {
        return Err(ApiError::csrf_rejected());
    }
    let (token, team) = SessionToken::parse(cookie).ok_or_else(ApiError::invalid_session)?;
    let team_id = TeamId::parse(&team).ok_or_else(ApiError::invalid_session)?;
    // A team that does not exist: no object is touched (none would be made).
    if !ctx.stores.team_exists(&team_id).await? {
        return Err(ApiError::invalid_session());
    }
    let session_hash = token.hash();
    let call = Authenticate {
        session_hash: session_hash.clone(),
        now: ctx.now,
    };
    match ctx.stores.team(&team_id, call).await? {
        // A member's answers carry no windows, but for the one that refuses them.
        // The team requires two factors and this member has none: enrolling only.
        Ok(a)
            if a.totp.enrolment_required()
                && !crate::core::totp::enrolment_allows(&method.to_string(), path_of(&url)) =>
        {
            Err(ApiError::totp_enrolment_required())
        }
        Ok(a) => Ok(SessionCaller {
            team_id,
            team: a.signed_in.team,
            member: a.signed_in.member,
            session_hash,
            return_url: a.return_url,
            totp: a.totp,
        }),
        Err(TeamRefusal::MemberRateLimited { retry_after }) => {
            ctx.member_limit.set(Some(MemberWindow {
                limit: MEMBER_REQUESTS_PER_MINUTE,
                remaining: 0,
                reset: retry_after,
            }));
            Err(ApiError::refused(
                TeamRefusal::MemberRateLimited { retry_after },
                "",
                "",
            ))
        }
        Err(_) => Err(ApiError::invalid_session()),
    }
}
