//! The team's rules for portal links (`core::portal`): opening one (`POST /v1/portal/sessions`)
//! and using it (`GET /v1/portal/{token}`). Each runs in the team object in one synchronous
//! call, so a link is used at most once: the call that finds it unused marks it used before it
//! answers, and no other call can come in between.
//!
//! Who the link signs in is judged like a role change of that member by its opener: the role
//! named, and the role the linked member has now, must both be within what the opener holds
//! (acting as someone is holding their rights), `owner` only by the operator, and the last
//! owner is never demoted. Judged when the link is opened (so the backend hears `403` at once)
//! and again when it is used (a key disabled, deleted or narrowed in between opens nothing).

use super::membership::{
    admit_member, denied, holds_role, member_event, open_session, withdraw_beyond, SignedIn,
};
use super::{found, refuse, MemberStore, TeamError, TeamRefusal, TeamResult, TeamStore};
use crate::core::audit::{as_event, entry, Origin, Target};
use crate::core::events::derived_id;
use crate::core::ids::MemberId;
use crate::core::limits::{Counted, LimitReached};
use crate::core::members::{
    may_change_role, may_invite, Changer, Member, MemberDenial, MemberRole, SessionMeta,
    NO_PASSWORD,
};
use crate::core::permission::{needs, Permission};
use crate::core::portal::{
    operator_changer, GrantState, Opener, PortalGrant, MAX_PORTAL_SESSIONS, PORTAL_KEPT_MS,
};
use crate::core::store::StoreResult;
use crate::core::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Where the team object keeps portal links (by token hash) and finds the member linked to
/// an external id. Same contract as `TeamStore`: every call answers at once.
pub trait PortalStore {
    fn portal(&self, token_hash: &str) -> StoreResult<Option<PortalGrant>>;
    /// Inserts the link, or replaces the one with its token hash.
    fn put_portal(&self, grant: &PortalGrant) -> StoreResult<()>;
    /// Forgets the links that expired before this time.
    fn prune_portals(&self, expired_before: Timestamp) -> StoreResult<()>;
    fn count_portals(&self) -> StoreResult<u64>;
    fn member_by_external_id(&self, external_id: &str) -> StoreResult<Option<Member>>;
}

/// A link as its opener hears of it (the URL is made at the edge, which holds the token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalOpened {
    pub id: String,
    pub expires_at: Timestamp,
}

/// May `by` sign someone in through a link with `grant`'s role? Returns the member linked to
/// its external id, if there is one.
fn judge(
    s: &impl PortalStore,
    m: &impl MemberStore,
    by: &Changer,
    grant: &PortalGrant,
) -> TeamResult<Option<Member>> {
    let linked = s.member_by_external_id(&grant.user.external_id)?;
    may_invite(by, grant.role).map_err(denied)?;
    holds_role(by, grant.role)?;
    match &linked {
        None => {
            // A new member takes the email: one that another member has is refused, so a link
            // can never take over an existing (password) member.
            if m.member_by_email(&grant.user.email.key())?.is_some() {
                return refuse(TeamRefusal::EmailTaken);
            }
        }
        Some(current) => {
            // Signing in as an owner is acting as one: only the operator may.
            if current.role == MemberRole::Owner && *by != operator_changer() {
                return Err(denied(MemberDenial::OwnerOnly));
            }
            may_change_role(by, current.role, grant.role, m.count_owners()?).map_err(denied)?;
            holds_role(by, current.role)?;
        }
    }
    Ok(linked)
}

/// Opens a link: judged now, remembered by its token's hash. Links forgotten an hour after
/// they expired; at most [`MAX_PORTAL_SESSIONS`] remembered (`409 limit_reached`).
pub fn open_portal(
    s: &(impl TeamStore + MemberStore + PortalStore),
    grant: PortalGrant,
    by: Changer,
    now: Timestamp,
) -> TeamResult<PortalOpened> {
    found(s.team()?)?;
    judge(s, s, &by, &grant)?;
    s.prune_portals(Timestamp::from_millis(now.millis() - PORTAL_KEPT_MS))?;
    if s.count_portals()? >= u64::from(MAX_PORTAL_SESSIONS) {
        return refuse(TeamRefusal::LimitReached(LimitReached {
            what: Counted::PortalSessions,
            limit: MAX_PORTAL_SESSIONS,
        }));
    }
    s.put_portal(&grant)?;
    Ok(PortalOpened {
        id: grant.id,
        expires_at: grant.expires_at,
    })
}

/// The opener as it stands now: the operator, or its key if that is still listed, not
/// disabled nor expired, and writes members.
fn opener_now(s: &impl TeamStore, opener: &Opener, now: Timestamp) -> TeamResult<Option<Changer>> {
    Ok(match opener {
        Opener::Operator => Some(operator_changer()),
        Opener::Key(id) => s
            .key(id)?
            .filter(|k| {
                k.disabled_at.is_none()
                    && k.expires_at.is_none_or(|e| e > now)
                    && k.permissions
                        .covers(&Permission::new_static(needs::MEMBERS_WRITE))
            })
            .map(|k| Changer::Key(k.permissions)),
    })
}

/// Uses a link: single use, within its 5 minutes, its opener judged again. The member linked
/// to its external id is made on first use (with no password) or given the link's role, and
/// an ordinary session opens for them (`session_hash`, with where "Back to …" leads). Audited
/// as `portal_session.used` (`origin`: the request's client), never with the token.
#[allow(clippy::too_many_arguments)]
pub fn use_portal(
    s: &(impl TeamStore + MemberStore + PortalStore),
    token_hash: &str,
    new_member: MemberId,
    session_hash: &str,
    meta: SessionMeta,
    origin: Option<&Origin>,
    now: Timestamp,
) -> TeamResult<SignedIn> {
    let not_found = || TeamError::Refused(TeamRefusal::PortalNotFound);
    let team = s.team()?.ok_or_else(not_found)?;
    let grant = s.portal(token_hash)?.ok_or_else(not_found)?;
    if grant.state(now) == GrantState::Spent {
        return refuse(TeamRefusal::PortalSpent);
    }
    // Used up from here on, whatever the answer.
    s.put_portal(&PortalGrant {
        used_at: Some(now),
        ..grant.clone()
    })?;
    let Some(by) = opener_now(s, &grant.opened_by, now)? else {
        return refuse(TeamRefusal::PortalSpent);
    };
    let linked = judge(s, s, &by, &grant)?;
    let mut m = match linked {
        Some(mut m) => {
            if m.role != grant.role {
                m.role = grant.role;
                withdraw_beyond(s, &m.id, Some(grant.role))?;
            }
            m
        }
        None => {
            admit_member(s)?;
            let m = Member {
                id: new_member,
                email: grant.user.email.clone(),
                role: grant.role,
                password: NO_PASSWORD.to_owned(),
                created_at: now,
                last_login_at: None,
                external_id: Some(grant.user.external_id.clone()),
                name: None,
                totp: Default::default(),
            };
            s.insert_member(&m)?;
            s.hold_event(&member_event("member.added", &team.id, &m, now))?;
            m
        }
    };
    if grant.user.name.is_some() {
        m.name.clone_from(&grant.user.name);
    }
    m.last_login_at = Some(now);
    s.update_member(&m)?;
    if let Some(origin) = origin {
        let mut origin = origin.clone();
        origin.actor.id = Some(m.id.to_string());
        let target = Target {
            kind: "member".into(),
            id: m.id.to_string(),
        };
        let changes = serde_json::json!({"portal_session": grant.id, "role": grant.role});
        let e = entry(
            derived_id("aud_", &format!("portal:{}", grant.id)),
            &origin,
            "portal_session.used",
            target,
            Some(changes),
            now,
        );
        s.hold_event(&as_event(&e))?;
    }
    let meta = SessionMeta {
        return_url: Some(grant.return_url.clone()),
        ..meta
    };
    open_session(s, team, &m, session_hash, meta, now)
}

#[cfg(test)]
#[path = "portal_tests.rs"]
mod tests;
