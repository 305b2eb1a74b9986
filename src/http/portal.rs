//! Portal links and a member's own sessions: `POST /v1/portal/sessions` (the product's backend
//! opens a link), `GET /v1/portal/{token}` (the person arrives: cookie, then `303` to the
//! dashboard), `GET /v1/me/sessions`, `DELETE /v1/me/sessions/{id}`. The rules are
//! `core::portal` and `core::team::portal`; this side parses, asks the team object, answers.

use super::auth::{confirm, needs, needs_team_wide, operator, present, request_origin};
use super::credentials::{origin_of, session_set_cookie};
use super::ctx::{internal, json, read_body, ApiResult, Ctx};
use super::org::{ask, ask_audited};
use super::problem::ApiError;
use crate::core::audit::{Actor, ActorKind, Origin};
use crate::core::ids::MemberId;
use crate::core::members::{Changer, SessionMeta, SessionToken, SessionView};
use crate::core::permission::needs as perm;
use crate::core::portal::{
    operator_changer, parse_portal_input, portal_url, Opener, PortalGrant, PortalToken,
    PORTAL_TTL_MS,
};
use crate::core::random::OsRandom;
use crate::core::team::TeamRefusal;
use crate::core::time::Timestamp;
use crate::storage::team_protocol::{EndOwnSession, ListSessions, OpenPortal, UsePortal};
use serde::Serialize;
use worker::{Request, Response};

const PORTAL: &str = "portal session";

/// `ALLOW_INSECURE_WEBHOOKS = "true"` (local development and tests only) also lets a
/// `return_url` be `http://localhost` or `http://127.0.0.1`.
fn allow_dev_urls(ctx: &Ctx) -> bool {
    ctx.env
        .var("ALLOW_INSECURE_WEBHOOKS")
        .is_ok_and(|v| v.to_string() == "true")
}

#[derive(Serialize)]
struct Opened {
    url: String,
    expires_at: Timestamp,
}

/// `POST /v1/portal/sessions`: the operator (naming `team_id`) or a key of the team holding
/// `members:write` (team-wide) opens a link for one of the product's users. `201 {url,
/// expires_at}`: the URL holds the token, shown this once.
pub async fn open(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    // Parsed first, refused after the credentials are judged (401 and 403 come before 400).
    let parsed = body
        .json()
        .and_then(|b| parse_portal_input(b, allow_dev_urls(ctx)).map_err(ApiError::input));
    let (team_id, by, opened_by, origin, input) = if operator(ctx, req).is_ok() {
        let input = parsed?;
        let Some(team_id) = input.team_id.clone() else {
            return Err(ApiError::input(crate::core::input::InputError {
                kind: crate::core::input::InputErrorKind::MissingField,
                detail: "`team_id` is required with the operator token".into(),
            }));
        };
        // A team that does not exist: no object is touched (none would be made).
        if !ctx.stores.team_exists(&team_id).await? {
            return Err(ApiError::refused(TeamRefusal::NotFound, "team", &team_id));
        }
        let actor = Actor {
            kind: ActorKind::Operator,
            id: None,
        };
        let origin = request_origin(ctx, req, actor);
        (team_id, operator_changer(), Opener::Operator, origin, input)
    } else {
        let p = present(ctx, req).await?;
        let caller = confirm(ctx, &p, needs_team_wide(&[perm::MEMBERS_WRITE])).await?;
        let (record, _) = caller.key()?;
        let input = parsed?;
        // Another team's id names nothing this key can see.
        if let Some(t) = input.team_id.as_ref().filter(|t| **t != caller.team_id) {
            return Err(ApiError::refused(TeamRefusal::NotFound, "team", t));
        }
        let origin = caller.origin(ctx, req);
        let by = Changer::Key(record.permissions.clone());
        let opener = Opener::Key(record.id.clone());
        (caller.team_id.clone(), by, opener, origin, input)
    };
    let token = PortalToken::generate(&team_id, &mut OsRandom);
    let grant = PortalGrant {
        id: PortalGrant::new_id(&mut OsRandom),
        token_hash: token.hash(),
        user: input.user,
        role: input.role,
        return_url: input.return_url,
        opened_by,
        created_at: ctx.now,
        expires_at: Timestamp::from_millis(ctx.now.millis() + PORTAL_TTL_MS),
        used_at: None,
    };
    let q = OpenPortal {
        grant: Box::new(grant),
        by,
        now: ctx.now,
    };
    let opened = ask_audited(ctx, &team_id, q, origin, PORTAL, "").await?;
    let url = req.inner().url();
    json(
        201,
        &Opened {
            url: portal_url(origin_of(&url), &token),
            expires_at: opened.expires_at,
        },
    )
}

/// `GET /v1/portal/{token}`: the person arrives. Once, within 5 minutes: the session cookie,
/// and `303` to the dashboard (`/`), so the token leaves the address bar. Used or expired:
/// `410 invalid_portal_token`; anything else: `404`, with no object touched for a token that
/// names no team.
pub async fn arrive(ctx: &Ctx, req: &Request, token: &str) -> ApiResult {
    let not_found = || ApiError::refused(TeamRefusal::PortalNotFound, PORTAL, "");
    let (token, team_id) = PortalToken::parse(token).ok_or_else(not_found)?;
    if !ctx.stores.team_exists(&team_id).await? {
        return Err(not_found());
    }
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let session = SessionToken::generate(&team_id, &mut OsRandom);
    let q = UsePortal {
        token_hash: token.hash(),
        new_member: MemberId::generate(&mut OsRandom),
        session_hash: session.hash(),
        meta: SessionMeta::new(header("User-Agent").as_deref(), ctx.country().as_deref()),
        origin: Some(anonymous(ctx, req)),
        now: ctx.now,
    };
    ask(ctx, &team_id, q, PORTAL, "").await?;
    let mut resp = Response::empty()
        .map_err(|e| internal("empty response", e))?
        .with_status(303);
    let h = resp.headers_mut();
    let set = |h: &mut worker::Headers, n: &str, v: &str| {
        h.set(n, v).map_err(|e| internal("portal headers", e))
    };
    set(h, "Location", "/")?;
    set(
        h,
        "Set-Cookie",
        &session_set_cookie(session.expose_secret()),
    )?;
    set(h, "Cache-Control", "no-store")?;
    set(h, "Referrer-Policy", "no-referrer")?;
    Ok(resp)
}

/// The person arriving, before the team object knows which member they are.
fn anonymous(ctx: &Ctx, req: &Request) -> Origin {
    let actor = Actor {
        kind: ActorKind::Member,
        id: None,
    };
    request_origin(ctx, req, actor)
}

#[derive(Serialize)]
struct Sessions {
    data: Vec<SessionView>,
}

/// `GET /v1/me/sessions`: the member's live sessions, by id (never a token nor its hash).
pub async fn my_sessions(ctx: &Ctx, req: &Request) -> ApiResult {
    let p = present(ctx, req).await?;
    let caller = confirm(ctx, &p, needs(&[])).await?;
    let m = caller.member()?;
    let q = ListSessions {
        member_id: m.member.id.clone(),
        current_hash: m.session_hash.clone(),
        now: ctx.now,
    };
    let data = ask(ctx, &m.team_id, q, "session", "").await?;
    json(200, &Sessions { data })
}

/// `DELETE /v1/me/sessions/{id}`: ends one of the member's own sessions (its next request
/// answers `401`); another member's, or none: `404`.
pub async fn end_my_session(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let p = present(ctx, req).await?;
    let caller = confirm(ctx, &p, needs(&[])).await?;
    let m = caller.member()?;
    let q = EndOwnSession {
        member_id: m.member.id.clone(),
        id: id.chars().take(64).collect(),
    };
    let origin = caller.origin(ctx, req);
    ask_audited(ctx, &m.team_id, q, origin, "session", id).await?;
    super::ctx::no_content()
}

/// `GET /v1/me`'s `portal`: for a session a portal link opened, its `return_url` and the name
/// to show (the team's branding name, else its name); `None` otherwise.
pub fn back_to(team: &crate::core::model::Team, return_url: Option<&str>) -> Option<BackTo> {
    return_url.map(|u| BackTo {
        return_url: u.to_owned(),
        name: team
            .branding
            .name
            .clone()
            .unwrap_or_else(|| team.name.clone()),
    })
}

/// Where the dashboard's "Back to <name>" leads, for a session a portal link opened.
#[derive(Serialize)]
pub struct BackTo {
    pub return_url: String,
    pub name: String,
}
