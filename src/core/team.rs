//! The team's rules: what its object decides for every call, as functions over a small
//! [`TeamStore`] (the team object's SQLite tables in production, [`memory::MemoryTeam`] in tests).
//!
//! Each rule runs synchronously from its first read to its last write (the store's calls do not
//! wait), so in a Durable Object, which runs one event at a time, every rule is atomic: "is this
//! name taken", "is this project in use", "does the team have room", and "snapshot this
//! account's roles into the key" cannot interleave with another call.
//!
//! The rules, each enforced in one place:
//! - no escalation through roles: a caller gives a service account only roles whose permissions
//!   it holds, and a key for an account only permissions it holds ([`insert_key`]);
//! - a service account's key takes the union of its roles at that moment (the snapshot), at most
//!   100 permissions, and no account may be given or left with roles past that cap;
//! - names are unique per kind; projects with keys and roles given to accounts are "in use";
//! - the team's count limits and rate ceiling ([`super::limits`]).

use super::ids::RoleId;
use super::limits::{within_permission_cap, AboveCeiling, Counted, LimitReached, LimitsPatch};
use super::members::MemberDenial;
use super::model::{AccountRecord, KeyRecord, Project, Role, ServiceAccount, Team};
use super::page::{ListQuery, Page};
use super::permission::{Permission, PermissionSet};
use super::store::StoreError;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
pub use store::{MemberStore, Named, TeamStore};

/// Why an object is "in use" and cannot be deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InUse {
    /// Keys are scoped to the project.
    ProjectHasKeys,
    /// A service account has the role.
    RoleGiven,
}

/// Why a team call was refused: the answer the client gets (as a 4xx), nothing was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamRefusal {
    NotFound,
    /// The team exists already (creating it twice).
    Exists,
    ProjectNotFound,
    ServiceAccountNotFound,
    UnknownRole {
        name: String,
    },
    NameTaken {
        name: String,
    },
    InUse(InUse),
    /// The caller would give a permission it lacks.
    MissingPermission {
        permission: Permission,
    },
    LimitReached(LimitReached),
    AboveCeiling(AboveCeiling),
    /// Roles that together would give a key this many permissions (over 100).
    TooManyPermissions {
        count: usize,
    },
    MemberNotFound,
    InvitationNotFound,
    WebhookNotFound,
    /// The event is no longer kept (or never was, for this team).
    EventNotFound,
    /// A member of the team has this email already.
    EmailTaken,
    /// The change to the members needs an owner, or would leave the team without one.
    Member(MemberDenial),
    /// An invitation token no pending invitation has (never issued, used, or withdrawn).
    InvalidInvitation,
    /// An invitation past its 7 days.
    InvitationExpired,
    /// An invitation withdrawn because its inviter no longer holds what it grants (`410`).
    InvitationWithdrawn,
    /// Wrong email or wrong password (the same answer for both).
    InvalidCredentials,
    /// Too many failed sign-ins for this email or client: try again in this many seconds.
    SignInThrottled {
        retry_after: i64,
    },
    /// The member made more session-authenticated requests this minute than they may.
    MemberRateLimited {
        retry_after: i64,
    },
    /// No live session has this token (signed out, expired, ended by a role or password
    /// change, or the member was removed).
    InvalidSession,
    /// `DELETE /v1/me/sessions/{id}`: none of the member's sessions has this id.
    SessionNotFound,
    /// No portal link has this token (never issued, or forgotten an hour after it expired).
    PortalNotFound,
    /// A portal link used already, past its 5 minutes, or whose opener no longer holds what
    /// it grants (`410 invalid_portal_token`).
    PortalSpent,
    /// The member signs in with two factors: a current code (or a recovery code) is missing,
    /// wrong or used already (`401 totp_required`; a wrong one is a failed sign-in).
    TotpRequired,
    /// A code that does not confirm or disable two factors (`400 invalid_code`).
    InvalidCode,
    /// Two factors are on already: disable them first (`409 totp_enabled`).
    TotpEnabled,
    /// No enrolment to confirm, or two factors are not on (`409 totp_not_enrolled`).
    TotpNotEnrolled,
}

/// A rule's failure: refused (a 4xx, nothing written) or the store failed.
#[derive(Debug, PartialEq, Eq)]
pub enum TeamError {
    Refused(TeamRefusal),
    Store(StoreError),
}

impl From<StoreError> for TeamError {
    fn from(e: StoreError) -> Self {
        TeamError::Store(e)
    }
}

impl From<TeamRefusal> for TeamError {
    fn from(r: TeamRefusal) -> Self {
        TeamError::Refused(r)
    }
}

pub type TeamResult<T> = Result<T, TeamError>;

fn refuse<T>(r: TeamRefusal) -> TeamResult<T> {
    Err(TeamError::Refused(r))
}

fn found<T>(v: Option<T>) -> TeamResult<T> {
    v.ok_or(TeamError::Refused(TeamRefusal::NotFound))
}

/// Refuses a create past the team's limit for `what`.
fn admit(s: &impl TeamStore, what: Counted) -> TeamResult<()> {
    let limits = s.team()?.map(|t| t.limits).unwrap_or_default();
    limits
        .admit(what, s.count(what)?)
        .map_err(|r| TeamError::Refused(TeamRefusal::LimitReached(r)))
}

fn unique(s: &impl TeamStore, kind: Named, name: &str, id: &str) -> TeamResult<()> {
    if s.name_taken(kind, name, id)? {
        return refuse(TeamRefusal::NameTaken {
            name: name.to_owned(),
        });
    }
    Ok(())
}

fn capped(perms: &PermissionSet) -> TeamResult<()> {
    within_permission_cap(perms).or_else(|count| refuse(TeamRefusal::TooManyPermissions { count }))
}

// The team.

pub fn init(s: &impl TeamStore, team: Team) -> TeamResult<Team> {
    if s.team()?.is_some() {
        return refuse(TeamRefusal::Exists);
    }
    s.insert_team(&team)?;
    Ok(team)
}

pub fn get(s: &impl TeamStore) -> TeamResult<Team> {
    found(s.team()?)
}

/// The operator's change: a new name, limits that replace the ones given, the leak policy.
pub fn update(
    s: &impl TeamStore,
    name: Option<String>,
    limits: LimitsPatch,
    leak_policy: Option<super::leaks::LeakPolicy>,
    branding: Option<super::branding::Branding>,
    require_totp: Option<bool>,
) -> TeamResult<Team> {
    let mut team = found(s.team()?)?;
    if let Some(b) = branding {
        team.branding = b;
    }
    if let Some(r) = require_totp {
        team.require_totp = r;
    }
    if let Some(n) = name {
        team.name = n;
    }
    if let Some(p) = leak_policy {
        team.leak_policy = p;
    }
    team.limits = limits.apply(team.limits);
    s.update_team(&team)?;
    Ok(team)
}

pub fn destroy(s: &impl TeamStore) -> TeamResult<()> {
    Ok(s.destroy()?)
}

// The key listing.

/// Adds a key to the listing: the team must have room for it and allow its rate, its project
/// must exist, and a service account's key takes the union of the account's roles, which the
/// caller must hold and which may hold at most 100 permissions. Returns the record as stored.
pub fn insert_key(
    s: &impl TeamStore,
    mut record: KeyRecord,
    caller_permissions: &PermissionSet,
) -> TeamResult<KeyRecord> {
    admit(s, Counted::Keys)?;
    let limits = s.team()?.map(|t| t.limits).unwrap_or_default();
    limits
        .allows_rate(&record.rate_limit)
        .map_err(|c: AboveCeiling| TeamError::Refused(TeamRefusal::AboveCeiling(c)))?;
    if let Some(p) = &record.project_id {
        if s.project(p)?.is_none() {
            return refuse(TeamRefusal::ProjectNotFound);
        }
    }
    if let Some(sa) = &record.service_account_id {
        if s.account(sa)?.is_none() {
            return refuse(TeamRefusal::ServiceAccountNotFound);
        }
        let roles = account_roles(s, sa)?;
        let perms = PermissionSet::union(roles.iter().map(|r| &r.permissions));
        if let Some(missing) = caller_permissions.first_uncovered(perms.iter()) {
            return refuse(TeamRefusal::MissingPermission {
                permission: missing.clone(),
            });
        }
        capped(&perms)?;
        record.permissions = perms;
        record.roles = roles.into_iter().map(|r| r.name).collect();
    }
    s.insert_key(&record)?;
    Ok(record)
}

/// A newer copy of a key from its object (older copies, arriving late, are ignored).
pub fn put_key(s: &impl TeamStore, record: &KeyRecord, revision: u64) -> TeamResult<()> {
    Ok(s.put_key(record, revision)?)
}

/// Removing a row that is not there is a no-op: removal is retried until it holds.
pub fn remove_key(s: &impl TeamStore, id: &str) -> TeamResult<()> {
    Ok(s.remove_key(id)?)
}

/// Moves the listing's `last_used` forward (never back: copies can arrive out of order).
pub fn touch_key(s: &impl TeamStore, id: &str, last_used: Timestamp) -> TeamResult<()> {
    if let Some(mut record) = s.key(id)? {
        if record.last_used.is_none_or(|t| t < last_used) {
            record.last_used = Some(last_used);
            s.touch_key(&record)?;
        }
    }
    Ok(())
}

pub fn list_keys(s: &impl TeamStore, query: &ListQuery) -> TeamResult<Page<KeyRecord>> {
    Ok(s.list_keys(query)?)
}

// Projects, roles and service accounts: `catalog`.
pub use catalog::*;

mod catalog;
pub mod membership;
pub mod portal;
pub mod signin;
mod store;
pub mod totp;
pub mod webhooks;
pub use webhooks::WebhookStore;

#[cfg(test)]
pub mod fixtures;
#[cfg(test)]
pub mod memory;

#[cfg(test)]
mod idle_listing_tests;
#[cfg(test)]
mod tests;
