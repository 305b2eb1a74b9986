//! Team members: the people who sign in to the dashboard. Their roles and what each holds, who
//! may change whom, passwords (policy and stored form), sessions (token, timeouts) and the
//! throttle on failed sign-ins. Pure: the key derivation itself runs at the edge (WebCrypto), with
//! the parameters fixed here.

use super::base62;
use super::ids::{InvitationId, MemberId};
use super::key::secrets_equal;
use super::permission::{needs, Permission, PermissionSet, KEYGATE_RESOURCES};
use super::random::Random;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

mod credentials;
pub use credentials::*;

/// A member's role, highest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    Owner,
    Admin,
    Developer,
    Viewer,
}

impl MemberRole {
    pub const ALL: [MemberRole; 4] = [
        MemberRole::Owner,
        MemberRole::Admin,
        MemberRole::Developer,
        MemberRole::Viewer,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Owner => "owner",
            MemberRole::Admin => "admin",
            MemberRole::Developer => "developer",
            MemberRole::Viewer => "viewer",
        }
    }

    /// What the role holds:
    /// - `viewer`: `*:read` of keygate's own resources;
    /// - `developer`: that, `api_keys:write`, and every permission on the product's resources
    ///   (`*:*`, see `permission`): it can give a key `tasks:read` or `events:*`, never
    ///   `admin:*` nor a keygate permission it lacks;
    /// - `admin` and `owner`: `admin:*` (they differ only in who may manage owners).
    pub fn permissions(self) -> PermissionSet {
        let reads = KEYGATE_RESOURCES
            .iter()
            .map(|r| Permission::parse(&format!("{r}:read")).expect("valid resource names"));
        match self {
            MemberRole::Owner | MemberRole::Admin => {
                PermissionSet::new([Permission::new_static("admin:*")])
            }
            MemberRole::Developer => PermissionSet::new(reads.chain([
                Permission::new_static(needs::API_KEYS_WRITE),
                Permission::product_wide(),
            ])),
            MemberRole::Viewer => PermissionSet::new(reads),
        }
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A member as the team object stores them. `password` is the encoded [`PasswordHash`]: it
/// never leaves the team object except to the sign-in step that compares it, and no view has it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: MemberId,
    pub email: Email,
    pub role: MemberRole,
    pub password: String,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
    /// The product's id for this person, when a portal link made them (`core::portal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Their name, as the last portal link gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Two-factor sign-in (`core::totp`); members stored before it have none.
    #[serde(default, skip_serializing_if = "crate::core::totp::Totp::is_off")]
    pub totp: crate::core::totp::Totp,
}

/// The stored password of a member made by a portal link: no derivation matches it
/// (`PasswordHash::decode` refuses it), so they sign in only through their product.
pub const NO_PASSWORD: &str = "";

impl fmt::Debug for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Member")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A member as clients see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub id: MemberId,
    pub email: Email,
    pub role: MemberRole,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Member {
    pub fn view(&self) -> MemberView {
        MemberView {
            id: self.id.clone(),
            email: self.email.clone(),
            role: self.role,
            created_at: self.created_at,
            last_login_at: self.last_login_at,
            external_id: self.external_id.clone(),
            name: self.name.clone(),
        }
    }
}

/// A pending invitation, stored by the hash of its token (the token is shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub email: Email,
    pub role: MemberRole,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// SHA-256 of the token (hex); internal, never in a view.
    pub token_hash: String,
    /// Who made it (none for invitations stored before inviters were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<Inviter>,
}

/// Who made an invitation: its grant is judged against them again when it is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inviter {
    Member(MemberId),
    Key(super::ids::KeyId),
}

/// An invitation as clients see it (`token` only in the answer that creates it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: InvitationId,
    pub email: Email,
    pub role: MemberRole,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Invitation {
    pub fn view(&self) -> InvitationView {
        InvitationView {
            id: self.id.clone(),
            email: self.email.clone(),
            role: self.role,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

/// Why a change to the members is refused (the caller already holds `members:write`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberDenial {
    /// Making, demoting or removing an owner (or inviting one) takes an owner.
    OwnerOnly,
    /// The team would have no owner left.
    LastOwner,
}

/// Who asks for a change to the members: a member (with their role) or an API key (with what
/// it holds; never an owner, whatever it holds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Changer {
    Member(MemberRole),
    Key(PermissionSet),
}

impl Changer {
    fn is_owner(&self) -> bool {
        *self == Changer::Member(MemberRole::Owner)
    }

    /// What the caller holds: a member's role's permissions, or the key's.
    pub fn permissions(&self) -> PermissionSet {
        match self {
            Changer::Member(role) => role.permissions(),
            Changer::Key(p) => p.clone(),
        }
    }
}

/// Giving someone `role` grants what it holds: the first permission of it the caller lacks
/// (the same no-escalation rule as for keys, `PermissionSet::first_uncovered`).
pub fn missing_for(by: &Changer, role: MemberRole) -> Option<Permission> {
    by.permissions()
        .first_uncovered(role.permissions().iter())
        .cloned()
}

/// Could `by` make an invitation as `role` now: it writes members, and holds what `role` holds
/// (owners only by an owner)? A pending invitation never grants more than its inviter holds.
pub fn could_invite_as(by: &Changer, role: MemberRole) -> bool {
    let writes = Permission::new_static(needs::MEMBERS_WRITE);
    by.permissions().covers(&writes)
        && may_invite(by, role).is_ok()
        && missing_for(by, role).is_none()
}

/// [`could_invite_as`] for a member of role `inviter`.
pub fn could_invite(inviter: MemberRole, role: MemberRole) -> bool {
    could_invite_as(&Changer::Member(inviter), role)
}

/// May `by` give the member who is `current` the role `new`? `owners` is how many owners the team
/// has now. (That `by` holds what `new` holds is [`missing_for`].)
pub fn may_change_role(
    by: &Changer,
    current: MemberRole,
    new: MemberRole,
    owners: usize,
) -> Result<(), MemberDenial> {
    let touches_owner = current == MemberRole::Owner || new == MemberRole::Owner;
    if touches_owner && current != new && !by.is_owner() {
        return Err(MemberDenial::OwnerOnly);
    }
    if current == MemberRole::Owner && new != MemberRole::Owner && owners <= 1 {
        return Err(MemberDenial::LastOwner);
    }
    Ok(())
}

/// May `by` remove the member who is `current`?
pub fn may_remove(by: &Changer, current: MemberRole, owners: usize) -> Result<(), MemberDenial> {
    if current == MemberRole::Owner {
        if !by.is_owner() {
            return Err(MemberDenial::OwnerOnly);
        }
        if owners <= 1 {
            return Err(MemberDenial::LastOwner);
        }
    }
    Ok(())
}

/// May `by` invite someone as `role`? (Owners only by an owner; that `by` holds what `role`
/// holds is [`missing_for`].)
pub fn may_invite(by: &Changer, role: MemberRole) -> Result<(), MemberDenial> {
    if role == MemberRole::Owner && !by.is_owner() {
        return Err(MemberDenial::OwnerOnly);
    }
    Ok(())
}

/// An invitation token: `kgi_<team id>_<43 base62>`, shown once, stored hashed, valid 7 days,
/// used once.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3_600_000;

pub fn invitation_token(team_id: &str, rng: &mut impl Random) -> String {
    format!("kgi_{team_id}_{}", base62::random_string(rng, 43))
}

/// The team an invitation token names, if it has the shape of one.
pub fn invitation_team(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("kgi_")?;
    let (team, secret) = rest.rsplit_once('_')?;
    (secret.len() == 43
        && secret.bytes().all(|b| b.is_ascii_alphanumeric())
        && team.starts_with("team_")
        && team.len() <= 40)
        .then_some(team)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Two token hashes (hex), compared in constant time.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    secrets_equal(a, b)
}

/// The counts of failed sign-ins live in [`super::throttle`].
pub use super::throttle::{Failures, FAILURE_WINDOW_MS};

/// At most this many pending invitations per team (`409 limit_reached` past it).
pub const MAX_PENDING_INVITATIONS: usize = 100;
/// At most this many live sessions per member: a new one past it ends the oldest.
pub const MAX_SESSIONS_PER_MEMBER: usize = 50;

#[cfg(test)]
#[path = "members_tests.rs"]
mod tests;
