//! People: sign-in and sessions (`/v1/session`, `/v1/me`), members (`/v1/members`) and
//! invitations (`/v1/invitations`). The rules live in the team object (`core::team::membership`)
//! and in `core::members`; passwords are derived here, at the edge (`super::password`).

use super::auth::{authorize, confirm, needs, needs_team_wide, present, Caller};
use super::credentials::{session_clear_cookie, session_cookie, session_set_cookie};
use super::ctx::{json, read_body, ApiResult, Ctx};
use super::org::{ask, ask_audited, known, list_query, page};
use super::password;
use super::problem::ApiError;
use super::signin;
use crate::core::ids::{InvitationId, MemberId, TeamId};
use crate::core::input::members::{
    parse_acceptance, parse_invitation, parse_member_patch, parse_password_change, parse_sign_in,
};
use crate::core::members::{
    invitation_team, invitation_token, token_hash, Invitation, InvitationView, MemberView,
    SessionToken, INVITATION_TTL_MS,
};
use crate::core::model::Team;
use crate::core::permission::{needs as perm, PermissionSet};
use crate::core::random::OsRandom;
use crate::core::team::membership::SignedIn;
use crate::core::time::Timestamp;
use crate::storage::team_protocol::*;
use serde::Serialize;
use worker::{Request, Response};

const MEMBER: &str = "member";
const INVITATION: &str = "invitation";

/// `200 {"member", "team"}` (or `201` for an accepted invitation) with the session cookie.
fn signed_in(status: u16, answer: &SignedIn, token: &SessionToken) -> ApiResult {
    let mut resp = json(status, answer)?;
    set_cookie(&mut resp, &session_set_cookie(token.expose_secret()))?;
    Ok(resp)
}

fn set_cookie(resp: &mut Response, value: &str) -> Result<(), ApiError> {
    resp.headers_mut()
        .set("Set-Cookie", value)
        .map_err(|e| super::ctx::internal("Set-Cookie", e))
}

/// The client a failed sign-in is counted against (Cloudflare sets it; absent locally).
fn client(req: &Request) -> Option<String> {
    req.headers().get("CF-Connecting-IP").ok().flatten()
}

/// `POST /v1/session`: email and password (and the team, optionally) → the session cookie. A
/// wrong email and a wrong password get the same answer after the same work (one derivation
/// each). Without `team_id` the email index finds the teams (`super::signin`).
pub async fn sign_in(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let input = parse_sign_in(body.json()?).map_err(ApiError::input)?;
    let email_key = input.email.key();
    let client = client(req);
    let origin = anonymous_member(ctx, req);
    let (team_id, member) = match &input.team_id {
        Some(team_id) => {
            // A team that does not exist: nothing is stored anywhere and no object is touched;
            // the answer is a wrong password's (with no derivation: see docs/architecture.md,
            // "People").
            if !ctx.stores.team_exists(team_id).await? {
                return Err(ApiError::invalid_credentials());
            }
            let start = SignInStart {
                email_key: email_key.clone(),
                client: client.clone(),
                now: ctx.now,
            };
            let found = ask(ctx, team_id, start, "team", "").await?;
            let ok = password::matches(ctx, &input.password, found.password.as_deref()).await?;
            (team_id.clone(), found.member_id.filter(|_| ok))
        }
        None => {
            let by = signin::by_email(ctx, &email_key, &input.password, client.clone(), &origin);
            match by.await? {
                signin::ByEmail::One { team, member } => (team, Some(member)),
                signin::ByEmail::Choose(answer) => return answer,
            }
        }
    };
    let token = SessionToken::generate(&team_id, &mut OsRandom);
    let session = member.map(|id| (id, token.hash()));
    // Audited either way: a refused sign-in is recorded too, at most once a minute per
    // (email, client), by the team object's rule.
    let finish = SignInFinish {
        email_key: email_key.clone(),
        client,
        session,
        code: input.code.clone(),
        totp_key: Some(super::totp::seal_key(ctx)?),
        origin: Some(origin.clone()),
        meta: session_meta(ctx, req),
        now: ctx.now,
    };
    let answer = ask_audited(ctx, &team_id, finish, origin, "team", "").await?;
    if input.team_id.is_some() {
        // A member made before the email index is findable by email after one sign-in naming
        // the team (README, "Upgrading").
        signin::index(ctx, &email_key, &team_id).await;
    }
    signed_in(200, &answer, &token)
}

/// `DELETE /v1/session`: ends the session (if any) and clears the cookie. Always `204`.
pub async fn sign_out(ctx: &Ctx, req: &Request) -> ApiResult {
    let cookie = req.headers().get("Cookie").ok().flatten();
    if session_cookie(cookie.as_deref()).is_some() {
        // Through the same checks as any change by session (the cross-site one included).
        if let Ok(super::auth::Credential::Session(s)) = present(ctx, req).await {
            let end = EndSession {
                session_hash: s.session_hash,
            };
            ask(ctx, &s.team_id, end, "session", "").await?;
        }
    }
    let mut resp = super::ctx::no_content()?;
    set_cookie(&mut resp, &session_clear_cookie())?;
    Ok(resp)
}

#[derive(Serialize)]
struct Me<'a> {
    member: &'a MemberView,
    team: &'a Team,
    permissions: &'a PermissionSet,
    /// For a session a portal link opened: `{return_url, name}` for "Back to <name>".
    portal: Option<super::portal::BackTo>,
    /// `{enabled, required}`: the member's second factor and the team's requirement.
    totp: crate::core::totp::TotpStatus,
}

/// `GET /v1/me`: the signed-in member, their team, and what their role holds.
pub async fn me(ctx: &Ctx, req: &Request) -> ApiResult {
    let p = present(ctx, req).await?;
    let caller = confirm(ctx, &p, needs(&[])).await?;
    let m = caller.member()?;
    json(
        200,
        &Me {
            member: &m.member,
            team: &m.team,
            permissions: &caller.manager.permissions,
            portal: super::portal::back_to(&m.team, m.return_url.as_deref()),
            totp: m.totp,
        },
    )
}

/// `POST /v1/me/password`: the current password, then a new one; ends every other session.
pub async fn change_password(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let p = present(ctx, req).await?;
    let input = body
        .json()
        .and_then(|b| parse_password_change(b).map_err(ApiError::input));
    let caller = confirm(ctx, &p, needs(&[])).await?;
    let m = caller.member()?;
    let (current, new) = input?;
    // A guess of the current password counts as a sign-in attempt of the member from this
    // client (counted before it is checked; `429` past the bounds).
    let q = PasswordOf {
        member_id: m.member.id.clone(),
        client: client(req),
        now: ctx.now,
    };
    let stored = ask(ctx, &m.team_id, q, MEMBER, &m.member.id).await?;
    if !password::matches(ctx, &current, Some(&stored)).await? {
        return Err(ApiError::wrong_password());
    }
    let set = SetPassword {
        member_id: m.member.id.clone(),
        password: password::hash_new(ctx, &new).await?,
        keep_session: m.session_hash.clone(),
        client: client(req),
    };
    let origin = caller.origin(ctx, req);
    ask_audited(ctx, &m.team_id, set, origin, MEMBER, &m.member.id).await?;
    super::ctx::no_content()
}

// Members.

pub async fn list_members(ctx: &Ctx, req: &Request) -> ApiResult {
    let query = list_query(req);
    let caller = authorize(ctx, req, perm::MEMBERS_READ).await?;
    let q = ListMembers { query: query? };
    page(ask(ctx, &caller.team_id, q, MEMBER, "").await?)
}

/// A team-wide write to the members (`members:write`, not by a project-scoped key).
async fn member_writer(ctx: &Ctx, req: &Request) -> Result<Caller, ApiError> {
    let p = present(ctx, req).await?;
    confirm(ctx, &p, needs_team_wide(&[perm::MEMBERS_WRITE])).await
}

pub async fn update_member(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult {
    let body = read_body(req).await?;
    let caller = member_writer(ctx, req).await?;
    let member_id: MemberId = known(MEMBER, id)?;
    let role = body
        .json()
        .and_then(|b| parse_member_patch(b).map_err(ApiError::input))?;
    let q = ChangeMemberRole {
        id: member_id,
        role,
        by: caller.changer(),
    };
    let origin = caller.origin(ctx, req);
    json(
        200,
        &ask_audited(ctx, &caller.team_id, q, origin, MEMBER, id).await?,
    )
}

pub async fn remove_member(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = member_writer(ctx, req).await?;
    let q = RemoveMember {
        id: known(MEMBER, id)?,
        by: caller.changer(),
        now: ctx.now,
    };
    let origin = caller.origin(ctx, req);
    let removed = ask_audited(ctx, &caller.team_id, q, origin, MEMBER, id).await?;
    signin::unindex(ctx, &removed.email.key(), &caller.team_id).await;
    super::ctx::no_content()
}

// Invitations.

#[derive(Serialize)]
struct NewInvitation<'a> {
    #[serde(flatten)]
    view: &'a InvitationView,
    token: &'a str,
}

/// `POST /v1/invitations`: `201` with the token, shown this once.
pub async fn invite(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let caller = member_writer(ctx, req).await?;
    let (email, role) = body
        .json()
        .and_then(|b| parse_invitation(b).map_err(ApiError::input))?;
    let token = invitation_token(&caller.team_id, &mut OsRandom);
    let invitation = Invitation {
        id: InvitationId::generate(&mut OsRandom),
        email,
        role,
        created_at: ctx.now,
        expires_at: Timestamp::from_millis(ctx.now.millis() + INVITATION_TTL_MS),
        token_hash: token_hash(&token),
        invited_by: Some(caller.inviter()),
    };
    let q = Invite {
        invitation,
        by: caller.changer(),
    };
    let origin = caller.origin(ctx, req);
    let view = ask_audited(ctx, &caller.team_id, q, origin, INVITATION, "").await?;
    json(
        201,
        &NewInvitation {
            view: &view,
            token: &token,
        },
    )
}

pub async fn list_invitations(ctx: &Ctx, req: &Request) -> ApiResult {
    let query = list_query(req);
    let caller = authorize(ctx, req, perm::MEMBERS_READ).await?;
    let q = ListInvitations { query: query? };
    page(ask(ctx, &caller.team_id, q, INVITATION, "").await?)
}

pub async fn withdraw_invitation(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = member_writer(ctx, req).await?;
    let q = WithdrawInvitation {
        id: known(INVITATION, id)?,
    };
    let origin = caller.origin(ctx, req);
    ask_audited(ctx, &caller.team_id, q, origin, INVITATION, id).await?;
    super::ctx::no_content()
}

/// `POST /v1/invitations/accept` (no credentials: the token is one): makes the member and signs
/// them in.
pub async fn accept(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let (token, new_password) = body
        .json()
        .and_then(|b| parse_acceptance(b).map_err(ApiError::input))?;
    let team_id = invitation_team(&token)
        .and_then(TeamId::parse)
        .ok_or_else(|| {
            ApiError::refused(crate::core::team::TeamRefusal::InvalidInvitation, "", "")
        })?;
    // A team that does not exist: nothing is stored, no derivation, no object touched.
    if !ctx.stores.team_exists(&team_id).await? {
        return Err(ApiError::refused(
            crate::core::team::TeamRefusal::InvalidInvitation,
            "",
            "",
        ));
    }
    // The token before the password: a wrong one costs no derivation (PBKDF2).
    let check = CheckInvitation {
        token_hash: token_hash(&token),
        now: ctx.now,
    };
    ask(ctx, &team_id, check, INVITATION, "").await?;
    let session = SessionToken::generate(&team_id, &mut OsRandom);
    let q = AcceptInvitation {
        token_hash: token_hash(&token),
        id: MemberId::generate(&mut OsRandom),
        password: password::hash_new(ctx, &new_password).await?,
        session_hash: session.hash(),
        meta: session_meta(ctx, req),
        now: ctx.now,
    };
    let origin = anonymous_member(ctx, req);
    let answer = ask_audited(ctx, &team_id, q, origin, INVITATION, "").await?;
    signin::index(ctx, &answer.member.email.key(), &team_id).await;
    signed_in(201, &answer, &session)
}

/// The client a new session begins from (user agent, country), for `GET /v1/me/sessions`.
fn session_meta(ctx: &Ctx, req: &Request) -> crate::core::members::SessionMeta {
    let ua = req.headers().get("User-Agent").ok().flatten();
    crate::core::members::SessionMeta::new(ua.as_deref(), ctx.country().as_deref())
}

/// The origin of a member's own step before they are known (signing in, accepting an
/// invitation): the team object names the member in the entry once it knows them.
fn anonymous_member(ctx: &Ctx, req: &Request) -> crate::core::audit::Origin {
    use crate::core::audit::{Actor, ActorKind};
    let actor = Actor {
        kind: ActorKind::Member,
        id: None,
    };
    super::auth::request_origin(ctx, req, actor)
}
