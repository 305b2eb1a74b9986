//! The storage a team's rules run on: the team object's SQLite tables in production
//! (`objects::team`), [`super::memory::MemoryTeam`] in tests.

use crate::core::events::Event;
use crate::core::ids::RoleId;
use crate::core::limits::Counted;
use crate::core::members::{Invitation, Member, Session};
use crate::core::model::{AccountRecord, KeyRecord, Project, Role, Team};
use crate::core::page::{ListQuery, Page};
use crate::core::store::StoreResult;
use crate::core::throttle::Failures;
use crate::core::time::Timestamp;

/// The kinds of named objects (names are unique per kind within a team).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    Project,
    Role,
    ServiceAccount,
}

/// The storage a team's rules run on. Every call answers at once (no waiting), which is what
/// keeps each rule atomic.
pub trait TeamStore {
    fn team(&self) -> StoreResult<Option<Team>>;
    fn insert_team(&self, team: &Team) -> StoreResult<()>;
    fn update_team(&self, team: &Team) -> StoreResult<()>;
    /// Removes the team and everything in it.
    fn destroy(&self) -> StoreResult<()>;
    fn count(&self, what: Counted) -> StoreResult<u64>;
    fn name_taken(&self, kind: Named, name: &str, except_id: &str) -> StoreResult<bool>;

    fn key(&self, id: &str) -> StoreResult<Option<KeyRecord>>;
    fn insert_key(&self, record: &KeyRecord) -> StoreResult<()>;
    /// Replaces the listing's copy, unless it holds `revision` or a newer one.
    fn put_key(&self, record: &KeyRecord, revision: u64) -> StoreResult<()>;
    /// Replaces the listing's copy whatever its revision (for `last_used`).
    fn touch_key(&self, record: &KeyRecord) -> StoreResult<()>;
    fn remove_key(&self, id: &str) -> StoreResult<()>;
    fn list_keys(&self, query: &ListQuery) -> StoreResult<Page<KeyRecord>>;
    fn project_has_keys(&self, project_id: &str) -> StoreResult<bool>;
    /// Keys not disabled whose expiry is in `[from, to)`; with `project`, only that project's.
    fn count_expiring(
        &self,
        from: Timestamp,
        to: Timestamp,
        project: Option<&str>,
    ) -> StoreResult<u64>;

    fn project(&self, id: &str) -> StoreResult<Option<Project>>;
    fn insert_project(&self, project: &Project) -> StoreResult<()>;
    fn delete_project(&self, id: &str) -> StoreResult<()>;
    fn list_projects(&self, query: &ListQuery) -> StoreResult<Page<Project>>;

    fn role(&self, id: &str) -> StoreResult<Option<Role>>;
    fn role_by_name(&self, name: &str) -> StoreResult<Option<Role>>;
    fn insert_role(&self, role: &Role) -> StoreResult<()>;
    fn update_role(&self, role: &Role) -> StoreResult<()>;
    fn delete_role(&self, id: &str) -> StoreResult<()>;
    fn list_roles(&self, query: &ListQuery) -> StoreResult<Page<Role>>;
    /// The accounts that have this role.
    fn accounts_with_role(&self, role_id: &str) -> StoreResult<Vec<String>>;

    fn account(&self, id: &str) -> StoreResult<Option<AccountRecord>>;
    fn insert_account(&self, account: &AccountRecord) -> StoreResult<()>;
    fn update_account(&self, account: &AccountRecord) -> StoreResult<()>;
    /// Removes the account and its role assignments.
    fn delete_account(&self, id: &str) -> StoreResult<()>;
    fn list_accounts(&self, query: &ListQuery) -> StoreResult<Page<AccountRecord>>;
    /// The account's role ids, in the order they were given.
    fn account_role_ids(&self, account_id: &str) -> StoreResult<Vec<RoleId>>;
    fn set_account_roles(&self, account_id: &str, role_ids: &[RoleId]) -> StoreResult<()>;
}

/// The team object's people: members, invitations, sessions (by token hash) and the counts of
/// failed sign-ins (by email or client). Same contract as [`TeamStore`]: every call answers at
/// once.
pub trait MemberStore {
    fn member(&self, id: &str) -> StoreResult<Option<Member>>;
    /// By [`crate::core::members::Email::key`].
    fn member_by_email(&self, email_key: &str) -> StoreResult<Option<Member>>;
    fn insert_member(&self, member: &Member) -> StoreResult<()>;
    fn update_member(&self, member: &Member) -> StoreResult<()>;
    /// Removes the member and every session of theirs.
    fn delete_member(&self, id: &str) -> StoreResult<()>;
    fn list_members(&self, query: &ListQuery) -> StoreResult<Page<Member>>;
    fn count_owners(&self) -> StoreResult<usize>;
    fn count_members(&self) -> StoreResult<u64>;

    fn invitation(&self, id: &str) -> StoreResult<Option<Invitation>>;
    fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<Invitation>>;
    fn invitation_by_email(&self, email_key: &str) -> StoreResult<Option<Invitation>>;
    fn insert_invitation(&self, invitation: &Invitation) -> StoreResult<()>;
    fn delete_invitation(&self, id: &str) -> StoreResult<()>;
    fn list_invitations(&self, query: &ListQuery) -> StoreResult<Page<Invitation>>;
    /// Every pending invitation (at most 100, see `MAX_PENDING_INVITATIONS`).
    fn invitations(&self) -> StoreResult<Vec<Invitation>>;
    /// Deletes the invitations expired at `now`, and the withdrawn marks past their expiry.
    fn prune_invitations(&self, now: Timestamp) -> StoreResult<()>;
    /// Remembers a withdrawn invitation's token hash until it would have expired.
    fn mark_withdrawn(&self, token_hash: &str, expires_at: Timestamp) -> StoreResult<()>;
    fn is_withdrawn(&self, token_hash: &str) -> StoreResult<bool>;

    fn session(&self, token_hash: &str) -> StoreResult<Option<Session>>;
    fn put_session(&self, token_hash: &str, session: &Session) -> StoreResult<()>;
    fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Ends every session of a member but `except` (a token hash).
    fn delete_sessions_of(&self, member_id: &str, except: Option<&str>) -> StoreResult<()>;
    /// Removes the sessions made before this time (past their absolute timeout).
    fn prune_sessions(&self, created_before: Timestamp) -> StoreResult<()>;
    /// A member's sessions, (token hash, session).
    fn sessions_of(&self, member_id: &str) -> StoreResult<Vec<(String, Session)>>;

    fn failures(&self, key: &str) -> StoreResult<Failures>;
    fn put_failures(&self, key: &str, failures: &Failures) -> StoreResult<()>;
    /// Removes the counts whose window started before `window_start_before` (ms).
    fn prune_failures(&self, window_start_before: i64) -> StoreResult<()>;

    /// Events of the team's own changes (`member.added`, `member.removed`), held with the change
    /// until the team's events object has them.
    fn hold_event(&self, event: &Event) -> StoreResult<()>;
    fn held_events(&self) -> StoreResult<Vec<Event>>;
    fn release_events(&self, ids: &[String]) -> StoreResult<()>;
}
