//! The team's SQLite tables as a `core::team::TeamStore`. Every call runs synchronously.

use crate::core::events::Event;
use crate::core::ids::{RoleId, WebhookId};
use crate::core::limits::Counted;
use crate::core::members::{Failures, Invitation, Member, MemberRole, Session};
use crate::core::model::{AccountRecord, KeyRecord, Project, Role, Team};
use crate::core::page::{encode_cursor, ListQuery, Page};
use crate::core::store::{StoreError, StoreResult};
use crate::core::team::webhooks::{Delivery, Endpoint, Queued, DELIVERIES_KEPT};
use crate::core::team::{MemberStore, Named, TeamStore, WebhookStore};
use crate::core::time::Timestamp;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{SqlStorage, SqlStorageValue as V};

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn json<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(err)
}

fn parse<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(err)
}

/// Column `i` of a row, as text.
fn text(row: &[V], i: usize) -> StoreResult<&str> {
    match row.get(i) {
        Some(V::String(s)) => Ok(s),
        other => Err(StoreError(format!(
            "column {i}: expected text, got {other:?}"
        ))),
    }
}

/// Column `i` of a row, as an integer.
fn int(row: &[V], i: usize) -> StoreResult<i64> {
    match row.get(i) {
        Some(V::Integer(n)) => Ok(*n),
        other => Err(StoreError(format!(
            "column {i}: expected an integer, got {other:?}"
        ))),
    }
}

fn opt(s: Option<&str>) -> V {
    s.map_or(V::Null, V::from)
}

fn table(kind: Named) -> &'static str {
    match kind {
        Named::Project => "projects",
        Named::Role => "roles",
        Named::ServiceAccount => "service_accounts",
    }
}

/// The team's tables.
pub(super) struct Sql(pub(super) SqlStorage);

impl Sql {
    fn exec(&self, q: &str, binds: Vec<V>) -> StoreResult<()> {
        self.0.exec(q, binds).map(|_| ()).map_err(err)
    }

    /// The rows, each as its columns in order. Read positionally through the cursor's raw
    /// iterator, not deserialized into structs: that would compile a second JSON-like
    /// deserializer (serde-wasm-bindgen) into the wasm for a handful of columns.
    fn rows(&self, q: &str, binds: Vec<V>) -> StoreResult<Vec<Vec<V>>> {
        let cursor = self.0.exec(q, binds).map_err(err)?;
        cursor.raw().collect::<worker::Result<_>>().map_err(err)
    }

    /// `SELECT seq, body …`: the first row's body, parsed.
    fn one<T: DeserializeOwned>(&self, q: &str, binds: Vec<V>) -> StoreResult<Option<T>> {
        self.rows(q, binds)?
            .first()
            .map(|r| parse(text(r, 1)?))
            .transpose()
    }

    fn exists(&self, q: &str, binds: Vec<V>) -> StoreResult<bool> {
        Ok(!self.rows(q, binds)?.is_empty())
    }

    /// `SELECT COUNT(*) …`.
    fn count_of(&self, q: &str, binds: Vec<V>) -> StoreResult<i64> {
        let rows = self.rows(q, binds)?;
        rows.first().map_or(Ok(0), |r| int(r, 0))
    }

    fn by_id<T: DeserializeOwned>(&self, table: &str, id: &str) -> StoreResult<Option<T>> {
        self.one(
            &format!("SELECT seq, body FROM {table} WHERE id = ?"),
            vec![id.into()],
        )
    }

    /// One page, newest first: rows with `seq` below the cursor and the `filters` given
    /// (column, value). Only the filters given are in the query, so SQLite can use the index
    /// that matches them.
    fn page<T: DeserializeOwned>(
        &self,
        table: &str,
        filters: &[(&str, Option<&str>)],
        query: &ListQuery,
    ) -> StoreResult<Page<T>> {
        let mut clauses = Vec::new();
        let mut binds = Vec::new();
        if let Some(c) = query.cursor {
            clauses.push("seq < ?".to_owned());
            binds.push(V::from(c));
        }
        for (column, value) in filters {
            if let Some(v) = value {
                clauses.push(format!("{column} = ?"));
                binds.push(V::from(*v));
            }
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        binds.push(V::from(query.limit as i64 + 1));
        let q = format!("SELECT seq, body FROM {table} {filter} ORDER BY seq DESC LIMIT ?");
        let mut rows = self.rows(&q, binds)?;
        let next_cursor = if rows.len() > query.limit {
            rows.truncate(query.limit);
            rows.last()
                .map(|r| int(r, 0))
                .transpose()?
                .map(encode_cursor)
        } else {
            None
        };
        let items = rows
            .iter()
            .map(|r| parse(text(r, 1)?))
            .collect::<StoreResult<Vec<T>>>()?;
        Ok(Page { items, next_cursor })
    }

    fn insert_named<T: Serialize>(
        &self,
        kind: Named,
        id: &str,
        name: &str,
        body: &T,
    ) -> StoreResult<()> {
        self.exec(
            &format!(
                "INSERT INTO {} (id, name, body) VALUES (?, ?, ?)",
                table(kind)
            ),
            vec![id.into(), name.into(), json(body)?.into()],
        )
    }

    fn update_named<T: Serialize>(
        &self,
        kind: Named,
        id: &str,
        name: &str,
        body: &T,
    ) -> StoreResult<()> {
        self.exec(
            &format!("UPDATE {} SET name = ?, body = ? WHERE id = ?", table(kind)),
            vec![name.into(), json(body)?.into(), id.into()],
        )
    }

    fn delete_by_id(&self, table: &str, id: &str) -> StoreResult<()> {
        self.exec(
            &format!("DELETE FROM {table} WHERE id = ?"),
            vec![id.into()],
        )
    }
}

impl TeamStore for Sql {
    fn team(&self) -> StoreResult<Option<Team>> {
        self.one("SELECT 0 AS seq, body FROM team", vec![])
    }

    fn insert_team(&self, team: &Team) -> StoreResult<()> {
        self.exec(
            "INSERT INTO team (id, body) VALUES (?, ?)",
            vec![team.id.as_str().into(), json(team)?.into()],
        )
    }

    fn update_team(&self, team: &Team) -> StoreResult<()> {
        self.exec(
            "UPDATE team SET body = ? WHERE id = ?",
            vec![json(team)?.into(), team.id.as_str().into()],
        )
    }

    fn destroy(&self) -> StoreResult<()> {
        for t in [
            "team",
            "keys",
            "projects",
            "roles",
            "service_accounts",
            "account_roles",
            "members",
            "invitations",
            "sessions",
            "sign_in_failures",
            "webhooks",
            "webhook_events",
            "webhook_queue",
            "webhook_deliveries",
        ] {
            self.exec(&format!("DELETE FROM {t}"), vec![])?;
        }
        Ok(())
    }

    fn count(&self, what: Counted) -> StoreResult<u64> {
        let table = match what {
            Counted::Keys => "keys",
            Counted::Projects => "projects",
            Counted::Roles => "roles",
            Counted::ServiceAccounts => "service_accounts",
            Counted::Webhooks => "webhooks",
        };
        let n = self.count_of(&format!("SELECT COUNT(*) AS n FROM {table}"), vec![])?;
        Ok(n.max(0) as u64)
    }

    fn name_taken(&self, kind: Named, name: &str, except_id: &str) -> StoreResult<bool> {
        self.exists(
            &format!("SELECT 1 FROM {} WHERE name = ? AND id != ?", table(kind)),
            vec![name.into(), except_id.into()],
        )
    }

    fn key(&self, id: &str) -> StoreResult<Option<KeyRecord>> {
        self.by_id("keys", id)
    }

    fn insert_key(&self, record: &KeyRecord) -> StoreResult<()> {
        self.exec(
            "INSERT INTO keys (id, environment, project_id, body) VALUES (?, ?, ?, ?)",
            vec![
                record.id.as_str().into(),
                record.environment.as_str().into(),
                opt(record.project_id.as_deref()),
                json(record)?.into(),
            ],
        )
    }

    fn put_key(&self, record: &KeyRecord, revision: u64) -> StoreResult<()> {
        self.exec(
            "UPDATE keys SET body = ?, revision = ? WHERE id = ? AND revision < ?",
            vec![
                json(record)?.into(),
                V::from(revision as i64),
                record.id.as_str().into(),
                V::from(revision as i64),
            ],
        )
    }

    fn touch_key(&self, record: &KeyRecord) -> StoreResult<()> {
        self.exec(
            "UPDATE keys SET body = ? WHERE id = ?",
            vec![json(record)?.into(), record.id.as_str().into()],
        )
    }

    fn remove_key(&self, id: &str) -> StoreResult<()> {
        self.delete_by_id("keys", id)
    }

    fn list_keys(&self, query: &ListQuery) -> StoreResult<Page<KeyRecord>> {
        let filters = [
            ("project_id", query.project_id.as_deref()),
            ("environment", query.environment.map(|e| e.as_str())),
        ];
        self.page("keys", &filters, query)
    }

    fn project_has_keys(&self, project_id: &str) -> StoreResult<bool> {
        self.exists(
            "SELECT 1 FROM keys WHERE project_id = ? LIMIT 1",
            vec![project_id.into()],
        )
    }

    fn project(&self, id: &str) -> StoreResult<Option<Project>> {
        self.by_id("projects", id)
    }

    fn insert_project(&self, p: &Project) -> StoreResult<()> {
        self.insert_named(Named::Project, &p.id, &p.name, p)
    }

    fn delete_project(&self, id: &str) -> StoreResult<()> {
        self.delete_by_id("projects", id)
    }

    fn list_projects(&self, query: &ListQuery) -> StoreResult<Page<Project>> {
        self.page("projects", &[], query)
    }

    fn role(&self, id: &str) -> StoreResult<Option<Role>> {
        self.by_id("roles", id)
    }

    fn role_by_name(&self, name: &str) -> StoreResult<Option<Role>> {
        self.one(
            "SELECT seq, body FROM roles WHERE name = ?",
            vec![name.into()],
        )
    }

    fn insert_role(&self, r: &Role) -> StoreResult<()> {
        self.insert_named(Named::Role, &r.id, &r.name, r)
    }

    fn update_role(&self, r: &Role) -> StoreResult<()> {
        self.update_named(Named::Role, &r.id, &r.name, r)
    }

    fn delete_role(&self, id: &str) -> StoreResult<()> {
        self.delete_by_id("roles", id)
    }

    fn list_roles(&self, query: &ListQuery) -> StoreResult<Page<Role>> {
        self.page("roles", &[], query)
    }

    fn accounts_with_role(&self, role_id: &str) -> StoreResult<Vec<String>> {
        let rows = self.rows(
            "SELECT account_id AS id FROM account_roles WHERE role_id = ?",
            vec![role_id.into()],
        )?;
        rows.iter().map(|r| text(r, 0).map(str::to_owned)).collect()
    }

    fn account(&self, id: &str) -> StoreResult<Option<AccountRecord>> {
        self.by_id("service_accounts", id)
    }

    fn insert_account(&self, a: &AccountRecord) -> StoreResult<()> {
        self.insert_named(Named::ServiceAccount, &a.id, &a.name, a)
    }

    fn update_account(&self, a: &AccountRecord) -> StoreResult<()> {
        self.update_named(Named::ServiceAccount, &a.id, &a.name, a)
    }

    fn delete_account(&self, id: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM account_roles WHERE account_id = ?",
            vec![id.into()],
        )?;
        self.delete_by_id("service_accounts", id)
    }

    fn list_accounts(&self, query: &ListQuery) -> StoreResult<Page<AccountRecord>> {
        self.page("service_accounts", &[], query)
    }

    fn account_role_ids(&self, account_id: &str) -> StoreResult<Vec<RoleId>> {
        let rows = self.rows(
            "SELECT role_id AS id FROM account_roles WHERE account_id = ? ORDER BY position",
            vec![account_id.into()],
        )?;
        rows.iter()
            .map(|r| {
                let id = text(r, 0)?;
                RoleId::parse(id).ok_or_else(|| StoreError(format!("stored role id {id:?}")))
            })
            .collect()
    }

    fn set_account_roles(&self, account_id: &str, role_ids: &[RoleId]) -> StoreResult<()> {
        self.exec(
            "DELETE FROM account_roles WHERE account_id = ?",
            vec![account_id.into()],
        )?;
        for (i, r) in role_ids.iter().enumerate() {
            self.exec(
                "INSERT INTO account_roles (account_id, role_id, position) VALUES (?, ?, ?)",
                vec![account_id.into(), r.as_str().into(), V::from(i as i64)],
            )?;
        }
        Ok(())
    }
}

impl MemberStore for Sql {
    fn member(&self, id: &str) -> StoreResult<Option<Member>> {
        self.by_id("members", id)
    }

    fn member_by_email(&self, email_key: &str) -> StoreResult<Option<Member>> {
        self.one(
            "SELECT seq, body FROM members WHERE email = ?",
            vec![email_key.into()],
        )
    }

    fn insert_member(&self, m: &Member) -> StoreResult<()> {
        self.exec(
            "INSERT INTO members (id, email, role, body) VALUES (?, ?, ?, ?)",
            vec![
                V::from(&*m.id),
                m.email.key().into(),
                m.role.as_str().into(),
                json(m)?.into(),
            ],
        )
    }

    fn update_member(&self, m: &Member) -> StoreResult<()> {
        self.exec(
            "UPDATE members SET role = ?, body = ? WHERE id = ?",
            vec![m.role.as_str().into(), json(m)?.into(), V::from(&*m.id)],
        )
    }

    fn delete_member(&self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM sessions WHERE member_id = ?", vec![id.into()])?;
        self.exec("DELETE FROM members WHERE id = ?", vec![id.into()])
    }

    fn list_members(&self, query: &ListQuery) -> StoreResult<Page<Member>> {
        self.page("members", &[], query)
    }

    fn count_owners(&self) -> StoreResult<usize> {
        let n = self.count_of(
            "SELECT COUNT(*) AS n FROM members WHERE role = ?",
            vec![MemberRole::Owner.as_str().into()],
        )?;
        Ok(n as usize)
    }

    fn invitation(&self, id: &str) -> StoreResult<Option<Invitation>> {
        self.by_id("invitations", id)
    }

    fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        self.one(
            "SELECT seq, body FROM invitations WHERE token_hash = ?",
            vec![token_hash.into()],
        )
    }

    fn invitation_by_email(&self, email_key: &str) -> StoreResult<Option<Invitation>> {
        self.one(
            "SELECT seq, body FROM invitations WHERE email = ?",
            vec![email_key.into()],
        )
    }

    fn insert_invitation(&self, i: &Invitation) -> StoreResult<()> {
        self.exec(
            "INSERT INTO invitations (id, email, token_hash, body) VALUES (?, ?, ?, ?)",
            vec![
                V::from(&*i.id),
                i.email.key().into(),
                i.token_hash.as_str().into(),
                json(i)?.into(),
            ],
        )
    }

    fn delete_invitation(&self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM invitations WHERE id = ?", vec![id.into()])
    }

    fn list_invitations(&self, query: &ListQuery) -> StoreResult<Page<Invitation>> {
        self.page("invitations", &[], query)
    }

    fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        self.one(
            "SELECT 0 AS seq, body FROM sessions WHERE token_hash = ?",
            vec![token_hash.into()],
        )
    }

    fn put_session(&self, token_hash: &str, session: &Session) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO sessions (token_hash, member_id, created_ms, body)
             VALUES (?, ?, ?, ?)",
            vec![
                token_hash.into(),
                session.member_id.as_str().into(),
                V::from(session.created_at.millis()),
                json(session)?.into(),
            ],
        )
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM sessions WHERE token_hash = ?",
            vec![token_hash.into()],
        )
    }

    fn delete_sessions_of(&self, member_id: &str, except: Option<&str>) -> StoreResult<()> {
        self.exec(
            "DELETE FROM sessions WHERE member_id = ? AND token_hash != ?",
            vec![member_id.into(), except.unwrap_or("").into()],
        )
    }

    fn prune_sessions(&self, created_before: Timestamp) -> StoreResult<()> {
        self.exec(
            "DELETE FROM sessions WHERE created_ms < ?",
            vec![V::from(created_before.millis())],
        )
    }

    fn failures(&self, key: &str) -> StoreResult<Failures> {
        Ok(self
            .one(
                "SELECT 0 AS seq, body FROM sign_in_failures WHERE key = ?",
                vec![key.into()],
            )?
            .unwrap_or_default())
    }

    fn put_failures(&self, key: &str, f: &Failures) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO sign_in_failures (key, body) VALUES (?, ?)",
            vec![key.into(), json(f)?.into()],
        )
    }
}

impl Sql {
    fn queued(row: &[V]) -> StoreResult<Queued> {
        Ok(Queued {
            endpoint_id: WebhookId::parse(text(row, 0)?)
                .ok_or_else(|| StoreError("webhook_queue: a malformed endpoint id".into()))?,
            event_id: text(row, 1)?.to_owned(),
            attempt: int(row, 2)?.clamp(1, i64::from(u32::MAX)) as u32,
            due: Timestamp::from_millis(int(row, 3)?),
        })
    }
}

/// Webhooks: endpoints (`webhooks`), events kept for delivery (`webhook_events`), what is due
/// (`webhook_queue`, one row per endpoint and event) and the attempts (`webhook_deliveries`).
impl WebhookStore for Sql {
    fn endpoint(&self, id: &str) -> StoreResult<Option<Endpoint>> {
        self.by_id("webhooks", id)
    }

    fn put_endpoint(&self, e: &Endpoint) -> StoreResult<()> {
        self.exec(
            "INSERT INTO webhooks (id, body) VALUES (?, ?) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            vec![e.id.as_str().into(), json(e)?.into()],
        )
    }

    fn delete_endpoint(&self, id: &str) -> StoreResult<()> {
        for t in ["webhook_queue", "webhook_deliveries"] {
            self.exec(
                &format!("DELETE FROM {t} WHERE endpoint_id = ?"),
                vec![id.into()],
            )?;
        }
        self.delete_by_id("webhooks", id)
    }

    fn endpoints(&self) -> StoreResult<Vec<Endpoint>> {
        self.rows("SELECT seq, body FROM webhooks ORDER BY seq", vec![])?
            .iter()
            .map(|r| parse(text(r, 1)?))
            .collect()
    }

    fn insert_event(&self, e: &Event) -> StoreResult<bool> {
        let before = self.count_of(
            "SELECT COUNT(*) FROM webhook_events WHERE id = ?",
            vec![e.id.as_str().into()],
        )?;
        if before > 0 {
            return Ok(false);
        }
        self.exec(
            "INSERT INTO webhook_events (id, created_ms, body) VALUES (?, ?, ?)",
            vec![
                e.id.as_str().into(),
                V::from(e.created_at.millis()),
                json(e)?.into(),
            ],
        )?;
        Ok(true)
    }

    fn event(&self, id: &str) -> StoreResult<Option<Event>> {
        self.one(
            "SELECT id, body FROM webhook_events WHERE id = ?",
            vec![id.into()],
        )
    }

    fn prune_events(&self, before: Timestamp) -> StoreResult<()> {
        self.exec(
            "DELETE FROM webhook_events WHERE created_ms < ?",
            vec![V::from(before.millis())],
        )
    }

    fn enqueue(&self, q: &Queued) -> StoreResult<()> {
        self.exec(
            "INSERT INTO webhook_queue (endpoint_id, event_id, attempt, due_ms) VALUES (?, ?, ?, ?) \
             ON CONFLICT (endpoint_id, event_id) DO UPDATE SET attempt = excluded.attempt, due_ms = excluded.due_ms",
            vec![
                q.endpoint_id.as_str().into(),
                q.event_id.as_str().into(),
                V::from(i64::from(q.attempt)),
                V::from(q.due.millis()),
            ],
        )
    }

    fn dequeue(&self, endpoint_id: &str, event_id: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM webhook_queue WHERE endpoint_id = ? AND event_id = ?",
            vec![endpoint_id.into(), event_id.into()],
        )
    }

    fn clear_queue(&self, endpoint_id: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM webhook_queue WHERE endpoint_id = ?",
            vec![endpoint_id.into()],
        )
    }

    fn due(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<Queued>> {
        self.rows(
            "SELECT endpoint_id, event_id, attempt, due_ms FROM webhook_queue \
             WHERE due_ms <= ? ORDER BY due_ms, seq LIMIT ?",
            vec![V::from(now.millis()), V::from(limit as i64)],
        )?
        .iter()
        .map(|r| Sql::queued(r))
        .collect()
    }

    fn next_due(&self) -> StoreResult<Option<Timestamp>> {
        let rows = self.rows("SELECT MIN(due_ms) FROM webhook_queue", vec![])?;
        Ok(rows
            .first()
            .and_then(|r| int(r, 0).ok())
            .map(Timestamp::from_millis))
    }

    fn add_delivery(&self, endpoint_id: &str, d: &Delivery) -> StoreResult<()> {
        self.exec(
            "INSERT INTO webhook_deliveries (endpoint_id, body) VALUES (?, ?)",
            vec![endpoint_id.into(), json(d)?.into()],
        )?;
        self.exec(
            "DELETE FROM webhook_deliveries WHERE endpoint_id = ? AND seq NOT IN \
             (SELECT seq FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY seq DESC LIMIT ?)",
            vec![
                endpoint_id.into(),
                endpoint_id.into(),
                V::from(DELIVERIES_KEPT as i64),
            ],
        )
    }

    fn deliveries(&self, endpoint_id: &str, limit: usize) -> StoreResult<Vec<Delivery>> {
        self.rows(
            "SELECT seq, body FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY seq DESC LIMIT ?",
            vec![endpoint_id.into(), V::from(limit as i64)],
        )?
        .iter()
        .map(|r| parse(text(r, 1)?))
        .collect()
    }
}
