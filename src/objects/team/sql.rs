//! The team's SQLite tables as a `core::team::TeamStore` (its members' tables, the
//! `MemberStore`, are `member_sql.rs`). Every call runs synchronously.

use crate::core::ids::RoleId;
use crate::core::limits::Counted;
use crate::core::model::{AccountRecord, KeyRecord, Project, Role, Team};
use crate::core::page::{ListQuery, Page};
use crate::core::store::{StoreError, StoreResult};
use crate::core::team::{Named, TeamStore};
use crate::core::time::Timestamp;
use crate::objects::sql::{json, opt, text, Sql};
use serde::Serialize;
use worker::SqlStorageValue as V;

fn table(kind: Named) -> &'static str {
    match kind {
        Named::Project => "projects",
        Named::Role => "roles",
        Named::ServiceAccount => "service_accounts",
    }
}

impl Sql {
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
            "withdrawn_invitations",
            "event_outbox",
            "portal_sessions",
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
            Counted::Members => "members",
            Counted::Invitations => "invitations",
            Counted::PortalSessions => "portal_sessions",
            // Counted by the team's events object, which holds them.
            Counted::Webhooks => return Ok(0),
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
        match query.idle_cutoff {
            None => self.page("keys", &filters, query),
            // `core::idle_filter::is_idle`: last used (or, never used, made) at or before the
            // cutoff. julianday() compares the bodies' RFC 3339 times to the millisecond.
            Some(cutoff) => self.page_where(
                "keys",
                &filters,
                &[(
                    "julianday(coalesce(json_extract(body, '$.last_used'), \
                     json_extract(body, '$.created_at'))) <= julianday(?)",
                    cutoff.to_string(),
                )],
                query,
            ),
        }
    }

    fn count_expiring(
        &self,
        from: Timestamp,
        to: Timestamp,
        project: Option<&str>,
    ) -> StoreResult<u64> {
        // Bodies are JSON with RFC 3339 UTC times; julianday() compares them as times.
        let mut q = "SELECT COUNT(*) FROM keys WHERE json_extract(body, '$.disabled_at') IS NULL \
             AND julianday(json_extract(body, '$.expires_at')) >= julianday(?) \
             AND julianday(json_extract(body, '$.expires_at')) < julianday(?)"
            .to_owned();
        let mut binds = vec![from.to_string().into(), to.to_string().into()];
        if let Some(p) = project {
            q.push_str(" AND project_id = ?");
            binds.push(p.into());
        }
        let n = self.count_of(&q, binds)?;
        Ok(n.max(0) as u64)
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
