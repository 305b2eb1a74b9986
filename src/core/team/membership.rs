//! The team's rules for its people: members and their roles, and invitations (sign-in and
//! sessions are [`super::signin`]). Each runs in the team object, synchronously over its
//! tables, so "is this the last owner", "is this email taken", "does the team have room" and
//! "is this invitation still unused" cannot interleave with another call. The policy (who may
//! change whom) is `core::members`; passwords are derived at the edge and arrive here only as
//! encoded hashes.
//!
//! Granting through members is granting: inviting someone as a role, or giving a member a role,
//! needs every permission the role holds ([`missing_for`]), and a pending invitation never
//! grants more than its inviter holds when it is accepted: a member's invitations their new
//! role could not make are withdrawn when they are demoted or removed, and every acceptance
//! judges the inviter again.

pub use super::signin::*;
use super::{found, refuse, MemberStore, TeamError, TeamRefusal, TeamResult, TeamStore};
use crate::core::events::{derived_event_id, event, Event};
use crate::core::ids::MemberId;
use crate::core::limits::{Counted, LimitReached};
use crate::core::members::{
    could_invite, could_invite_as, may_change_role, may_invite, may_remove, missing_for, Changer,
    Invitation, InvitationView, Inviter, Member, MemberRole, MemberView, SessionMeta,
    MAX_PENDING_INVITATIONS,
};
use crate::core::model::Team;
use crate::core::page::{ListQuery, Page};
use crate::core::time::Timestamp;

pub(super) fn denied(d: crate::core::members::MemberDenial) -> TeamError {
    TeamError::Refused(TeamRefusal::Member(d))
}

pub(super) fn member(s: &impl MemberStore, id: &str) -> TeamResult<Member> {
    s.member(id)?
        .ok_or(TeamError::Refused(TeamRefusal::MemberNotFound))
}

/// `by` must hold every permission `role` holds: `403 insufficient_permissions` naming the
/// first it lacks.
pub(super) fn holds_role(by: &Changer, role: MemberRole) -> TeamResult<()> {
    match missing_for(by, role) {
        Some(permission) => refuse(TeamRefusal::MissingPermission { permission }),
        None => Ok(()),
    }
}

/// One more member: within the team's `max_members`.
pub(super) fn admit_member(s: &(impl TeamStore + MemberStore)) -> TeamResult<()> {
    let limits = s.team()?.map(|t| t.limits).unwrap_or_default();
    let n = s.count_members()?;
    if n >= u64::from(limits.max_members) {
        return refuse(TeamRefusal::LimitReached(LimitReached {
            what: Counted::Members,
            limit: limits.max_members,
        }));
    }
    Ok(())
}

/// A new team, with its first owner if one is given: both or neither.
pub fn create_team(
    s: &(impl TeamStore + MemberStore),
    team: Team,
    owner: Option<Member>,
) -> TeamResult<Team> {
    let team = super::init(s, team)?;
    if let Some(owner) = owner {
        if let Err(e) = add_owner(s, owner) {
            // The team is new (init refuses an existing one): undo it whole.
            s.destroy()?;
            return Err(e);
        }
    }
    Ok(team)
}

/// The team's first owner, made with the team (`POST /v1/teams` with `owner`).
pub fn add_owner(s: &(impl TeamStore + MemberStore), owner: Member) -> TeamResult<MemberView> {
    found(s.team()?)?;
    if s.member_by_email(&owner.email.key())?.is_some() {
        return refuse(TeamRefusal::EmailTaken);
    }
    let owner = Member {
        role: MemberRole::Owner,
        ..owner
    };
    s.insert_member(&owner)?;
    Ok(owner.view())
}

pub fn list_members(s: &impl MemberStore, query: &ListQuery) -> TeamResult<Page<MemberView>> {
    let page = s.list_members(query)?;
    Ok(Page {
        items: page.items.iter().map(Member::view).collect(),
        next_cursor: page.next_cursor,
    })
}

pub fn get_member(s: &impl MemberStore, id: &str) -> TeamResult<MemberView> {
    Ok(member(s, id)?.view())
}

/// Withdraws the pending invitations `member_id` made that `role` (their new role; `None`:
/// removed) could not make. A withdrawn invitation's token answers `410` until it would have
/// expired.
pub(super) fn withdraw_beyond(
    s: &impl MemberStore,
    member_id: &str,
    role: Option<MemberRole>,
) -> TeamResult<()> {
    for inv in s.invitations()? {
        let theirs = matches!(&inv.invited_by, Some(Inviter::Member(m)) if m.as_str() == member_id);
        if theirs && !role.is_some_and(|r| could_invite(r, inv.role)) {
            s.delete_invitation(&inv.id)?;
            s.mark_withdrawn(&inv.token_hash, inv.expires_at)?;
        }
    }
    Ok(())
}

/// A new role. Takes effect on the member's very next request: sessions read the role each time.
/// Giving a role grants it: the caller must hold everything it holds (and, as for a key it
/// manages, everything the member holds now).
pub fn change_role(
    s: &impl MemberStore,
    id: &str,
    role: MemberRole,
    by: Changer,
) -> TeamResult<MemberView> {
    let mut m = member(s, id)?;
    may_change_role(&by, m.role, role, s.count_owners()?).map_err(denied)?;
    if m.role != role {
        holds_role(&by, role)?;
        holds_role(&by, m.role)?;
        m.role = role;
        s.update_member(&m)?;
        withdraw_beyond(s, id, Some(role))?;
    }
    Ok(m.view())
}

/// A member event (`member.added`, `member.removed`): `data` is the member as the API shows it.
pub(super) fn member_event(kind: &str, team_id: &str, m: &Member, now: Timestamp) -> Event {
    let data = serde_json::to_value(m.view()).unwrap_or_default();
    let id = derived_event_id(&format!("{kind}:{}:{}", m.id, now.millis()));
    event(id, kind, team_id, &data, now)
}

/// Removes a member, ends their sessions and withdraws their pending invitations;
/// `member.removed` is held with the change.
pub fn remove_member(
    s: &(impl TeamStore + MemberStore),
    id: &str,
    by: Changer,
    now: Timestamp,
) -> TeamResult<MemberView> {
    let m = member(s, id)?;
    may_remove(&by, m.role, s.count_owners()?).map_err(denied)?;
    // Removing someone takes away what their role holds: only a caller holding all of it may
    // (a key with `members:write` alone removes no admin, as it demotes none).
    holds_role(&by, m.role)?;
    s.delete_member(id)?;
    withdraw_beyond(s, id, None)?;
    if let Some(team) = s.team()? {
        s.hold_event(&member_event("member.removed", &team.id, &m, now))?;
    }
    Ok(m.view())
}

/// A new invitation (its token's hash inside). A member with the email already: `409`. A
/// pending invitation for the same email is replaced: its token stops working. Expired ones go
/// first; at most [`MAX_PENDING_INVITATIONS`] pending, and a team at `max_members` invites
/// nobody.
pub fn invite(
    s: &(impl TeamStore + MemberStore),
    invitation: Invitation,
    by: Changer,
) -> TeamResult<InvitationView> {
    may_invite(&by, invitation.role).map_err(denied)?;
    holds_role(&by, invitation.role)?;
    s.prune_invitations(invitation.created_at)?;
    let key = invitation.email.key();
    if s.member_by_email(&key)?.is_some() {
        return refuse(TeamRefusal::EmailTaken);
    }
    admit_member(s)?;
    let replaced = s.invitation_by_email(&key)?;
    let pending = s.invitations()?.len() - usize::from(replaced.is_some());
    if pending >= MAX_PENDING_INVITATIONS {
        return refuse(TeamRefusal::LimitReached(LimitReached {
            what: Counted::Invitations,
            limit: MAX_PENDING_INVITATIONS as u32,
        }));
    }
    if let Some(old) = replaced {
        // Replacing it ends its token: as withdrawing what it grants, only by who could grant it.
        holds_role(&by, old.role)?;
        s.delete_invitation(&old.id)?;
    }
    s.insert_invitation(&invitation)?;
    Ok(invitation.view())
}

pub fn list_invitations(
    s: &impl MemberStore,
    query: &ListQuery,
) -> TeamResult<Page<InvitationView>> {
    let page = s.list_invitations(query)?;
    Ok(Page {
        items: page.items.iter().map(Invitation::view).collect(),
        next_cursor: page.next_cursor,
    })
}

pub fn withdraw_invitation(s: &impl MemberStore, id: &str) -> TeamResult<()> {
    if s.invitation(id)?.is_none() {
        return refuse(TeamRefusal::InvitationNotFound);
    }
    Ok(s.delete_invitation(id)?)
}

/// Does the invitation's inviter still hold what it grants? A member must still be there with a
/// role that could make it; a key must still be listed, not disabled, and hold it.
fn inviter_still_holds(s: &(impl TeamStore + MemberStore), inv: &Invitation) -> TeamResult<bool> {
    Ok(match &inv.invited_by {
        // Made before invitations named their inviter: no one can say it was within the
        // inviter's rights, so only the least role is still honoured (README, "Upgrading").
        None => inv.role == MemberRole::Viewer,
        Some(Inviter::Member(id)) => s
            .member(id)?
            .is_some_and(|m| could_invite(m.role, inv.role)),
        Some(Inviter::Key(id)) => s.key(id)?.is_some_and(|k| {
            k.disabled_at.is_none() && could_invite_as(&Changer::Key(k.permissions), inv.role)
        }),
    })
}

/// The invitation `token_hash` names, if it can still be accepted: the first half of accepting,
/// asked before the new password is derived, so that a wrong token costs no derivation. (The
/// lookup is by the SHA-256 of the token: its time says nothing of the secret.) A withdrawn
/// invitation, or one whose inviter no longer holds what it grants, answers `410`.
pub fn usable_invitation(
    s: &(impl TeamStore + MemberStore),
    token_hash: &str,
    now: Timestamp,
) -> TeamResult<Invitation> {
    let Some(inv) = s.invitation_by_token(token_hash)? else {
        if s.is_withdrawn(token_hash)? {
            return refuse(TeamRefusal::InvitationWithdrawn);
        }
        return refuse(TeamRefusal::InvalidInvitation);
    };
    // Expired invitations are deleted (this one answers that it expired, once).
    s.prune_invitations(now)?;
    if inv.expires_at <= now {
        return refuse(TeamRefusal::InvitationExpired);
    }
    if !inviter_still_holds(s, &inv)? {
        s.delete_invitation(&inv.id)?;
        s.mark_withdrawn(&inv.token_hash, inv.expires_at)?;
        return refuse(TeamRefusal::InvitationWithdrawn);
    }
    if s.member_by_email(&inv.email.key())?.is_some() {
        return refuse(TeamRefusal::EmailTaken);
    }
    Ok(inv)
}

/// Accepting an invitation: makes the member (with the invitation's email and role), uses the
/// invitation up, and opens their first session — all or nothing, after the same checks as
/// [`usable_invitation`] (asked again: the invitation may have changed in between).
pub fn accept(
    s: &(impl TeamStore + MemberStore),
    token_hash: &str,
    id: MemberId,
    password: String,
    session_hash: &str,
    meta: SessionMeta,
    now: Timestamp,
) -> TeamResult<SignedIn> {
    let team = s
        .team()?
        .ok_or(TeamError::Refused(TeamRefusal::InvalidInvitation))?;
    let inv = usable_invitation(s, token_hash, now)?;
    admit_member(s)?;
    let m = Member {
        id,
        email: inv.email.clone(),
        role: inv.role,
        password,
        created_at: now,
        last_login_at: Some(now),
        external_id: None,
        name: None,
        totp: Default::default(),
    };
    s.insert_member(&m)?;
    s.delete_invitation(&inv.id)?;
    s.hold_event(&member_event("member.added", &team.id, &m, now))?;
    open_session(s, team, &m, session_hash, meta, now)
}

#[cfg(test)]
#[path = "people_tests.rs"]
mod tests;
