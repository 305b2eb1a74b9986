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

impl MemberStore for MemoryTeam {
    fn member(&self, id: &str) -> StoreResult<Option<Member>> {
        self.with(|s| s.members.find(|m| m.id == id).cloned())
    }

    fn member_by_email(&self, email_key: &str) -> StoreResult<Option<Member>> {
        self.with(|s| s.members.find(|m| m.email.key() == email_key).cloned())
    }

    fn insert_member(&self, member: &Member) -> StoreResult<()> {
        self.with(|s| s.members.insert(member.clone()))
    }

    fn update_member(&self, member: &Member) -> StoreResult<()> {
        self.with(|s| s.members.replace(|m| m.id == member.id, member.clone()))
    }

    fn delete_member(&self, id: &str) -> StoreResult<()> {
        self.with(|s| {
            s.members.remove(|m| m.id == id);
            s.sessions.retain(|(_, x)| x.member_id != id);
        })
    }

    fn list_members(&self, q: &ListQuery) -> StoreResult<Page<Member>> {
        self.with(|s| s.members.page(q, |_| true))
    }

    fn count_owners(&self) -> StoreResult<usize> {
        self.with(|s| {
            s.members
                .rows
                .iter()
                .filter(|(_, m)| m.role == MemberRole::Owner)
                .count()
        })
    }

    fn count_members(&self) -> StoreResult<u64> {
        self.with(|s| s.members.rows.len() as u64)
    }

    fn invitation(&self, id: &str) -> StoreResult<Option<Invitation>> {
        self.with(|s| s.invitations.find(|i| i.id == id).cloned())
    }

    fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        self.with(|s| s.invitations.find(|i| i.token_hash == token_hash).cloned())
    }

    fn invitation_by_email(&self, email_key: &str) -> StoreResult<Option<Invitation>> {
        self.with(|s| s.invitations.find(|i| i.email.key() == email_key).cloned())
    }

    fn insert_invitation(&self, invitation: &Invitation) -> StoreResult<()> {
        self.with(|s| s.invitations.insert(invitation.clone()))
    }

    fn delete_invitation(&self, id: &str) -> StoreResult<()> {
        self.with(|s| s.invitations.remove(|i| i.id == id))
    }

    fn list_invitations(&self, q: &ListQuery) -> StoreResult<Page<Invitation>> {
        self.with(|s| s.invitations.page(q, |_| true))
    }

    fn invitations(&self) -> StoreResult<Vec<Invitation>> {
        self.with(|s| s.invitations.rows.iter().map(|(_, i)| i.clone()).collect())
    }

    fn prune_invitations(&self, now: Timestamp) -> StoreResult<()> {
        self.with(|s| {
            s.invitations.remove(|i| i.expires_at <= now);
            s.withdrawn.retain(|(_, e)| *e > now);
        })
    }

    fn mark_withdrawn(&self, token_hash: &str, expires_at: Timestamp) -> StoreResult<()> {
        self.with(|s| s.withdrawn.push((token_hash.to_owned(), expires_at)))
    }

    fn is_withdrawn(&self, token_hash: &str) -> StoreResult<bool> {
        self.with(|s| s.withdrawn.iter().any(|(h, _)| h == token_hash))
    }

    fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        self.with(|s| {
            s.sessions
                .iter()
                .find(|(h, _)| h == token_hash)
                .map(|(_, x)| x.clone())
        })
    }

    fn put_session(&self, token_hash: &str, session: &Session) -> StoreResult<()> {
        self.with(|s| {
            s.sessions.retain(|(h, _)| h != token_hash);
            s.sessions.push((token_hash.to_owned(), session.clone()));
        })
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.with(|s| s.sessions.retain(|(h, _)| h != token_hash))
    }

    fn delete_sessions_of(&self, member_id: &str, except: Option<&str>) -> StoreResult<()> {
        self.with(|s| {
            s.sessions
                .retain(|(h, x)| x.member_id != member_id || Some(h.as_str()) == except)
        })
    }

    fn prune_sessions(&self, created_before: Timestamp) -> StoreResult<()> {
        self.with(|s| s.sessions.retain(|(_, x)| x.created_at >= created_before))
    }

    fn sessions_of(&self, member_id: &str) -> StoreResult<Vec<(String, Session)>> {
        self.with(|s| {
            s.sessions
                .iter()
                .filter(|(_, x)| x.member_id == member_id)
                .cloned()
                .collect()
        })
    }

    fn failures(&self, key: &str) -> StoreResult<Failures> {
        self.with(|s| {
            s.failures
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, f)| *f)
                .unwrap_or_default()
        })
    }

    fn put_failures(&self, key: &str, failures: &Failures) -> StoreResult<()> {
        self.with(|s| {
            s.failures.retain(|(k, _)| k != key);
            s.failures.push((key.to_owned(), *failures));
        })
    }

    fn prune_failures(&self, window_start_before: i64) -> StoreResult<()> {
        self.with(|s| {
            s.failures
                .retain(|(_, f)| f.window_start >= window_start_before)
        })
    }

    fn hold_event(&self, event: &Event) -> StoreResult<()> {
        self.with(|s| s.held.push(event.clone()))
    }

    fn held_events(&self) -> StoreResult<Vec<Event>> {
        self.with(|s| s.held.clone())
    }

    fn release_events(&self, ids: &[String]) -> StoreResult<()> {
        self.with(|s| s.held.retain(|e| !ids.contains(&e.id)))
    }
}

impl WebhookStore for MemoryTeam {
    fn endpoint(&self, id: &str) -> StoreResult<Option<Endpoint>> {
        self.with(|s| s.endpoints.iter().find(|e| e.id.as_str() == id).cloned())
    }

    fn put_endpoint(&self, endpoint: &Endpoint) -> StoreResult<()> {
        self.with(
            |s| match s.endpoints.iter_mut().find(|e| e.id == endpoint.id) {
                Some(slot) => *slot = endpoint.clone(),
                None => s.endpoints.push(endpoint.clone()),
            },
        )
    }

    fn delete_endpoint(&self, id: &str) -> StoreResult<()> {
        self.with(|s| {
            s.endpoints.retain(|e| e.id.as_str() != id);
            s.queue.retain(|q| q.endpoint_id.as_str() != id);
            s.deliveries.retain(|(e, _)| e != id);
        })
    }

    fn endpoints(&self) -> StoreResult<Vec<Endpoint>> {
        self.with(|s| s.endpoints.clone())
    }

    fn insert_event(&self, event: &Event) -> StoreResult<bool> {
        self.with(|s| {
            let new = !s.events.iter().any(|e| e.id == event.id);
            if new {
                s.events.push(event.clone());
            }
            new
        })
    }

    fn event(&self, id: &str) -> StoreResult<Option<Event>> {
        self.with(|s| s.events.iter().find(|e| e.id == id).cloned())
    }

    fn prune_events(&self, before: Timestamp) -> StoreResult<()> {
        self.with(|s| s.events.retain(|e| e.created_at >= before))
    }

    fn enqueue(&self, q: &Queued) -> StoreResult<()> {
        self.with(|s| {
            s.queue
                .retain(|o| !(o.endpoint_id == q.endpoint_id && o.event_id == q.event_id));
            s.queue.push(q.clone());
        })
    }

    fn dequeue(&self, endpoint_id: &str, event_id: &str) -> StoreResult<()> {
        self.with(|s| {
            s.queue
                .retain(|o| !(o.endpoint_id.as_str() == endpoint_id && o.event_id == event_id))
        })
    }

    fn clear_queue(&self, endpoint_id: &str) -> StoreResult<()> {
        self.with(|s| s.queue.retain(|o| o.endpoint_id.as_str() != endpoint_id))
    }

    fn due(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<Queued>> {
        self.with(|s| {
            let mut due: Vec<Queued> = s.queue.iter().filter(|q| q.due <= now).cloned().collect();
            // Stable: entries due at the same time stay in the order queued.
            due.sort_by_key(|q| q.due);
            due.truncate(limit);
            due
        })
    }

    fn next_due(&self) -> StoreResult<Option<Timestamp>> {
        self.with(|s| s.queue.iter().map(|q| q.due).min())
    }

    fn add_delivery(&self, endpoint_id: &str, d: &Delivery) -> StoreResult<()> {
        self.with(|s| {
            s.deliveries.push((endpoint_id.to_owned(), d.clone()));
            let of_endpoint = s
                .deliveries
                .iter()
                .filter(|(e, _)| e == endpoint_id)
                .count();
            if of_endpoint > DELIVERIES_KEPT {
                if let Some(i) = s.deliveries.iter().position(|(e, _)| e == endpoint_id) {
                    s.deliveries.remove(i);
                }
            }
        })
    }

    fn deliveries(&self, endpoint_id: &str, limit: usize) -> StoreResult<Vec<Delivery>> {
        self.with(|s| {
            s.deliveries
                .iter()
                .rev()
                .filter(|(e, _)| e == endpoint_id)
                .take(limit)
                .map(|(_, d)| d.clone())
                .collect()
        })
    }
}

impl crate::core::monitoring::MonitorStore for MemoryTeam {
    fn add_usage(&self, r: &crate::core::monitoring::Report) -> StoreResult<()> {
        use crate::core::monitoring::HourRow;
        self.with(|s| {
            let at = s
                .usage
                .iter()
                .position(|row| row.hour == r.hour && row.key_id == r.key_id);
            let old = at.map(|i| s.usage.remove(i));
            s.usage.push(HourRow::with_report(old, r));
        })
    }

    fn usage_since(&self, from_hour: i64) -> StoreResult<Vec<crate::core::monitoring::HourRow>> {
        self.with(|s| {
            s.usage
                .iter()
                .filter(|r| r.hour >= from_hour)
                .cloned()
                .collect()
        })
    }

    fn prune_usage(&self, before_hour: i64) -> StoreResult<()> {
        self.with(|s| s.usage.retain(|r| r.hour >= before_hour))
    }
}

impl crate::core::audit::AuditStore for MemoryTeam {
    fn insert_entry(&self, e: &crate::core::audit::Entry) -> StoreResult<()> {
        self.with(|s| {
            if s.audit.find(|x| x.id == e.id).is_none() {
                s.audit.insert(e.clone());
            }
        })
    }

    fn entries(
        &self,
        q: &crate::core::audit::AuditQuery,
    ) -> StoreResult<Page<crate::core::audit::Entry>> {
        let list = ListQuery {
            limit: q.limit,
            cursor: q.cursor,
            environment: None,
            project_id: None,
        };
        self.with(|s| {
            s.audit.page(&list, |e| {
                q.action.as_ref().is_none_or(|a| &e.action == a)
                    && q.actor_id
                        .as_ref()
                        .is_none_or(|a| e.actor.id.as_ref() == Some(a))
                    && q.target_id.as_ref().is_none_or(|t| &e.target.id == t)
                    && q.project_id.as_deref().is_none_or(|p| {
                        crate::core::audit::visible(Some(p), e.project_id.as_deref())
                    })
            })
        })
    }

    fn prune_entries(&self, before: Timestamp) -> StoreResult<()> {
        self.with(|s| s.audit.remove(|e| e.at < before))
    }

    fn entry_span(&self) -> StoreResult<i64> {
        self.with(|s| s.audit.rows.len() as i64)
    }
}

impl super::portal::PortalStore for MemoryTeam {
    fn portal(&self, token_hash: &str) -> StoreResult<Option<crate::core::portal::PortalGrant>> {
        self.with(|s| {
            s.portals
                .iter()
                .find(|g| g.token_hash == token_hash)
                .cloned()
        })
    }

    fn put_portal(&self, grant: &crate::core::portal::PortalGrant) -> StoreResult<()> {
        self.with(|s| {
            s.portals.retain(|g| g.token_hash != grant.token_hash);
            s.portals.push(grant.clone());
        })
    }

    fn prune_portals(&self, expired_before: Timestamp) -> StoreResult<()> {
        self.with(|s| s.portals.retain(|g| g.expires_at >= expired_before))
    }

    fn count_portals(&self) -> StoreResult<u64> {
        self.with(|s| s.portals.len() as u64)
    }

    fn member_by_external_id(&self, external_id: &str) -> StoreResult<Option<Member>> {
        self.with(|s| {
            s.members
                .find(|m| m.external_id.as_deref() == Some(external_id))
                .cloned()
        })
    }
}
