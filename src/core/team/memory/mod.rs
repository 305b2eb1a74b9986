//! An in-memory [`TeamStore`] for native tests: the same semantics as the team object's SQLite
//! tables (rows in insertion order, newest-first pages by position, revision-guarded copies).

use super::webhooks::{Delivery, Endpoint, Queued, WebhookStore, DELIVERIES_KEPT};
use super::{MemberStore, Named, TeamStore};
use crate::core::events::Event;
use crate::core::ids::RoleId;
use crate::core::limits::Counted;
use crate::core::members::{Invitation, Member, MemberRole, Session};
use crate::core::model::{AccountRecord, KeyRecord, Project, Role, Team};
use crate::core::page::{encode_cursor, ListQuery, Page};
use crate::core::store::{StoreError, StoreResult};
use crate::core::throttle::Failures;
use crate::core::time::Timestamp;
use std::cell::{Cell, RefCell};

mod events;
mod people;

/// Rows with their position (1, 2, …), as SQLite's `AUTOINCREMENT` gives them.
struct Table<T> {
    rows: Vec<(i64, T)>,
    next: i64,
}

impl<T: Clone> Table<T> {
    fn new() -> Self {
        Table {
            rows: Vec::new(),
            next: 1,
        }
    }

    fn insert(&mut self, row: T) {
        self.rows.push((self.next, row));
        self.next += 1;
    }

    fn find(&self, pred: impl Fn(&T) -> bool) -> Option<&T> {
        self.rows.iter().map(|(_, r)| r).find(|r| pred(r))
    }

    fn replace(&mut self, pred: impl Fn(&T) -> bool, row: T) {
        if let Some(slot) = self.rows.iter_mut().find(|(_, r)| pred(r)) {
            slot.1 = row;
        }
    }

    fn remove(&mut self, pred: impl Fn(&T) -> bool) {
        self.rows.retain(|(_, r)| !pred(r));
    }

    fn page(&self, q: &ListQuery, keep: impl Fn(&T) -> bool) -> Page<T> {
        let mut rows: Vec<&(i64, T)> = self
            .rows
            .iter()
            .rev()
            .filter(|(seq, r)| q.cursor.is_none_or(|c| *seq < c) && keep(r))
            .take(q.limit + 1)
            .collect();
        let next_cursor = if rows.len() > q.limit {
            rows.truncate(q.limit);
            rows.last().map(|(seq, _)| encode_cursor(*seq))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(|(_, r)| r.clone()).collect(),
            next_cursor,
        }
    }
}

struct State {
    team: Option<Team>,
    keys: Table<(KeyRecord, u64)>,
    projects: Table<Project>,
    roles: Table<Role>,
    accounts: Table<AccountRecord>,
    /// (account id, role id), in the order given.
    account_roles: Vec<(String, RoleId)>,
    members: Table<Member>,
    invitations: Table<Invitation>,
    /// (token hash, session).
    sessions: Vec<(String, Session)>,
    failures: Vec<(String, Failures)>,
    /// (token hash, would-have-expired-at) of withdrawn invitations.
    withdrawn: Vec<(String, Timestamp)>,
    endpoints: Vec<Endpoint>,
    events: Vec<Event>,
    /// Queue entries in the order queued.
    queue: Vec<Queued>,
    /// (endpoint id, delivery), oldest first.
    deliveries: Vec<(String, Delivery)>,
    held: Vec<Event>,
    usage: Vec<crate::core::monitoring::HourRow>,
    audit: Table<crate::core::audit::Entry>,
    portals: Vec<crate::core::portal::PortalGrant>,
}

/// The store. `fail` makes every call fail, to test what the callers do then.
pub struct MemoryTeam {
    state: RefCell<State>,
    pub fail: Cell<bool>,
}

impl State {
    fn empty() -> Self {
        State {
            team: None,
            keys: Table::new(),
            projects: Table::new(),
            roles: Table::new(),
            accounts: Table::new(),
            account_roles: Vec::new(),
            members: Table::new(),
            invitations: Table::new(),
            sessions: Vec::new(),
            failures: Vec::new(),
            withdrawn: Vec::new(),
            endpoints: Vec::new(),
            events: Vec::new(),
            queue: Vec::new(),
            deliveries: Vec::new(),
            held: Vec::new(),
            usage: Vec::new(),
            audit: Table::new(),
            portals: Vec::new(),
        }
    }
}

impl Default for MemoryTeam {
    fn default() -> Self {
        MemoryTeam {
            state: RefCell::new(State::empty()),
            fail: Cell::new(false),
        }
    }
}

impl MemoryTeam {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> StoreResult<R> {
        if self.fail.get() {
            return Err(StoreError("team store unavailable".into()));
        }
        Ok(f(&mut self.state.borrow_mut()))
    }
}

impl TeamStore for MemoryTeam {
    fn team(&self) -> StoreResult<Option<Team>> {
        self.with(|s| s.team.clone())
    }

    fn insert_team(&self, team: &Team) -> StoreResult<()> {
        self.with(|s| s.team = Some(team.clone()))
    }

    fn update_team(&self, team: &Team) -> StoreResult<()> {
        self.insert_team(team)
    }

    fn destroy(&self) -> StoreResult<()> {
        self.with(|s| *s = State::empty())
    }

    fn count(&self, what: Counted) -> StoreResult<u64> {
        self.with(|s| {
            (match what {
                Counted::Keys => s.keys.rows.len(),
                Counted::Projects => s.projects.rows.len(),
                Counted::Roles => s.roles.rows.len(),
                Counted::ServiceAccounts => s.accounts.rows.len(),
                Counted::Webhooks => s.endpoints.len(),
                Counted::Members => s.members.rows.len(),
                Counted::Invitations => s.invitations.rows.len(),
                Counted::PortalSessions => s.portals.len(),
            }) as u64
        })
    }

    fn name_taken(&self, kind: Named, name: &str, except_id: &str) -> StoreResult<bool> {
        self.with(|s| match kind {
            Named::Project => s
                .projects
                .find(|p| p.name == name && p.id != except_id)
                .is_some(),
            Named::Role => s
                .roles
                .find(|r| r.name == name && r.id != except_id)
                .is_some(),
            Named::ServiceAccount => s
                .accounts
                .find(|a| a.name == name && a.id != except_id)
                .is_some(),
        })
    }

    fn key(&self, id: &str) -> StoreResult<Option<KeyRecord>> {
        self.with(|s| s.keys.find(|(k, _)| k.id == id).map(|(k, _)| k.clone()))
    }

    fn insert_key(&self, record: &KeyRecord) -> StoreResult<()> {
        self.with(|s| s.keys.insert((record.clone(), 1)))
    }

    fn put_key(&self, record: &KeyRecord, revision: u64) -> StoreResult<()> {
        self.with(|s| {
            let newer = s
                .keys
                .find(|(k, _)| k.id == record.id)
                .is_some_and(|(_, r)| *r < revision);
            if newer {
                s.keys
                    .replace(|(k, _)| k.id == record.id, (record.clone(), revision));
            }
        })
    }

    fn touch_key(&self, record: &KeyRecord) -> StoreResult<()> {
        self.with(|s| {
            let revision = s
                .keys
                .find(|(k, _)| k.id == record.id)
                .map_or(1, |(_, r)| *r);
            s.keys
                .replace(|(k, _)| k.id == record.id, (record.clone(), revision));
        })
    }

    fn remove_key(&self, id: &str) -> StoreResult<()> {
        self.with(|s| s.keys.remove(|(k, _)| k.id == id))
    }

    fn list_keys(&self, q: &ListQuery) -> StoreResult<Page<KeyRecord>> {
        self.with(|s| {
            let page = s.keys.page(q, |(k, _)| {
                q.environment.is_none_or(|e| k.environment == e)
                    && q.project_id
                        .as_ref()
                        .is_none_or(|p| k.project_id.as_ref() == Some(p))
                    && crate::core::idle_filter::is_idle(k, q.idle_cutoff)
            });
            Page {
                items: page.items.into_iter().map(|(k, _)| k).collect(),
                next_cursor: page.next_cursor,
            }
        })
    }

    fn count_expiring(
        &self,
        from: Timestamp,
        to: Timestamp,
        project: Option<&str>,
    ) -> StoreResult<u64> {
        self.with(|s| {
            s.keys
                .rows
                .iter()
                .filter(|(_, (r, _))| r.disabled_at.is_none())
                .filter(|(_, (r, _))| project.is_none() || r.project_id.as_deref() == project)
                .filter(|(_, (r, _))| r.expires_at.is_some_and(|e| e >= from && e < to))
                .count() as u64
        })
    }

    fn project_has_keys(&self, project_id: &str) -> StoreResult<bool> {
        self.with(|s| {
            s.keys
                .find(|(k, _)| k.project_id.as_deref() == Some(project_id))
                .is_some()
        })
    }

    fn project(&self, id: &str) -> StoreResult<Option<Project>> {
        self.with(|s| s.projects.find(|p| p.id == id).cloned())
    }

    fn insert_project(&self, project: &Project) -> StoreResult<()> {
        self.with(|s| s.projects.insert(project.clone()))
    }

    fn delete_project(&self, id: &str) -> StoreResult<()> {
        self.with(|s| s.projects.remove(|p| p.id == id))
    }

    fn list_projects(&self, q: &ListQuery) -> StoreResult<Page<Project>> {
        self.with(|s| s.projects.page(q, |_| true))
    }

    fn role(&self, id: &str) -> StoreResult<Option<Role>> {
        self.with(|s| s.roles.find(|r| r.id == id).cloned())
    }

    fn role_by_name(&self, name: &str) -> StoreResult<Option<Role>> {
        self.with(|s| s.roles.find(|r| r.name == name).cloned())
    }

    fn insert_role(&self, role: &Role) -> StoreResult<()> {
        self.with(|s| s.roles.insert(role.clone()))
    }

    fn update_role(&self, role: &Role) -> StoreResult<()> {
        self.with(|s| s.roles.replace(|r| r.id == role.id, role.clone()))
    }

    fn delete_role(&self, id: &str) -> StoreResult<()> {
        self.with(|s| s.roles.remove(|r| r.id == id))
    }

    fn list_roles(&self, q: &ListQuery) -> StoreResult<Page<Role>> {
        self.with(|s| s.roles.page(q, |_| true))
    }

    fn accounts_with_role(&self, role_id: &str) -> StoreResult<Vec<String>> {
        self.with(|s| {
            s.account_roles
                .iter()
                .filter(|(_, r)| r.as_str() == role_id)
                .map(|(a, _)| a.clone())
                .collect()
        })
    }

    fn account(&self, id: &str) -> StoreResult<Option<AccountRecord>> {
        self.with(|s| s.accounts.find(|a| a.id == id).cloned())
    }

    fn insert_account(&self, account: &AccountRecord) -> StoreResult<()> {
        self.with(|s| s.accounts.insert(account.clone()))
    }

    fn update_account(&self, account: &AccountRecord) -> StoreResult<()> {
        self.with(|s| s.accounts.replace(|a| a.id == account.id, account.clone()))
    }

    fn delete_account(&self, id: &str) -> StoreResult<()> {
        self.with(|s| {
            s.accounts.remove(|a| a.id == id);
            s.account_roles.retain(|(a, _)| a != id);
        })
    }

    fn list_accounts(&self, q: &ListQuery) -> StoreResult<Page<AccountRecord>> {
        self.with(|s| s.accounts.page(q, |_| true))
    }

    fn account_role_ids(&self, account_id: &str) -> StoreResult<Vec<RoleId>> {
        self.with(|s| {
            s.account_roles
                .iter()
                .filter(|(a, _)| a == account_id)
                .map(|(_, r)| r.clone())
                .collect()
        })
    }

    fn set_account_roles(&self, account_id: &str, role_ids: &[RoleId]) -> StoreResult<()> {
        self.with(|s| {
            s.account_roles.retain(|(a, _)| a != account_id);
            s.account_roles
                .extend(role_ids.iter().map(|r| (account_id.to_owned(), r.clone())));
        })
    }
}
