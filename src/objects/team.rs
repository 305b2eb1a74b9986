//! The team object: SQLite tables for one team's key listing, projects, roles and service
//! accounts.
//!
//! Every call runs its SQL synchronously, with no `await` in between, so each call is atomic:
//! "is this project in use", "is this name taken" and "snapshot this account's roles into the
//! key" cannot interleave with another request. Records are stored as JSON bodies beside the
//! columns that queries filter on.

use crate::core::limits::{within_permission_cap, Counted, TeamLimits};
use crate::core::model::{KeyRecord, Role, ServiceAccount, Team};
use crate::core::page::{encode_cursor, ListQuery};
use crate::core::permission::PermissionSet;
use crate::storage::protocol::{TeamCall, TeamReply};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use worker::{
    durable_object, DurableObject, Env, Request, Response, Result, SqlStorage,
    SqlStorageValue as V, State,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS team (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  environment TEXT NOT NULL, project_id TEXT, revision INTEGER NOT NULL DEFAULT 1,
  body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS keys_project ON keys (project_id);
CREATE TABLE IF NOT EXISTS projects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roles (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS service_accounts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS account_roles (
  account_id TEXT NOT NULL, role_id TEXT NOT NULL, position INTEGER NOT NULL,
  PRIMARY KEY (account_id, role_id));
CREATE INDEX IF NOT EXISTS account_roles_role ON account_roles (role_id);
";

#[durable_object]
pub struct TeamObject {
    state: State,
    schema_ready: Cell<bool>,
}

impl DurableObject for TeamObject {
    fn new(state: State, _env: Env) -> Self {
        TeamObject {
            state,
            schema_ready: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let call: TeamCall = req.json().await?;
        let db = Db(self.state.storage().sql());
        if !self.schema_ready.get() {
            db.0.exec(SCHEMA, None)?;
            self.schema_ready.set(true);
        }
        Response::from_json(&db.dispatch(call)?)
    }
}

#[derive(Deserialize)]
struct BodyRow {
    seq: i64,
    body: String,
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

#[derive(Deserialize)]
struct CountRow {
    n: i64,
}

/// The stored form of a service account: role ids, resolved to names when read.
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    id: String,
    name: String,
    created_at: crate::core::time::Timestamp,
    updated_at: crate::core::time::Timestamp,
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| worker::Error::RustError(e.to_string()))
}

fn parse<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| worker::Error::RustError(e.to_string()))
}

fn opt(s: Option<&str>) -> V {
    s.map_or(V::Null, V::from)
}

struct Db(SqlStorage);

impl Db {
    fn rows(&self, q: &str, binds: Vec<V>) -> Result<Vec<BodyRow>> {
        self.0.exec(q, binds)?.to_array()
    }

    fn one<T: DeserializeOwned>(&self, q: &str, binds: Vec<V>) -> Result<Option<T>> {
        self.rows(q, binds)?
            .first()
            .map(|r| parse(&r.body))
            .transpose()
    }

    fn exists(&self, q: &str, binds: Vec<V>) -> Result<bool> {
        Ok(!self
            .0
            .exec(q, binds)?
            .to_array::<serde_json::Value>()?
            .is_empty())
    }

    /// One page, newest first: rows of (seq, body) with `seq` below the cursor.
    fn page<T: DeserializeOwned>(
        &self,
        table: &str,
        extra_where: &str,
        mut binds: Vec<V>,
        query: &ListQuery,
    ) -> Result<(Vec<T>, Option<String>)> {
        let q = format!(
            "SELECT seq, body FROM {table} WHERE (? IS NULL OR seq < ?) {extra_where} ORDER BY seq DESC LIMIT ?"
        );
        let cursor = query.cursor.map_or(V::Null, V::from);
        let mut all = vec![cursor.clone(), cursor];
        all.append(&mut binds);
        all.push(V::from(query.limit as i64 + 1));
        let mut rows = self.rows(&q, all)?;
        let next = if rows.len() > query.limit {
            rows.truncate(query.limit);
            rows.last().map(|r| encode_cursor(r.seq))
        } else {
            None
        };
        let items = rows
            .iter()
            .map(|r| parse(&r.body))
            .collect::<Result<Vec<T>>>()?;
        Ok((items, next))
    }

    fn team(&self) -> Result<Option<Team>> {
        self.one("SELECT 0 AS seq, body FROM team", vec![])
    }

    fn limits(&self) -> Result<TeamLimits> {
        Ok(self.team()?.map(|t| t.limits).unwrap_or_default())
    }

    /// Refuses a create past the team's limit for `what` (counted in `table`).
    fn admit(&self, what: Counted, table: &str) -> Result<Option<TeamReply>> {
        let rows: Vec<CountRow> = self
            .0
            .exec(&format!("SELECT COUNT(*) AS n FROM {table}"), None)?
            .to_array()?;
        let current = rows.first().map_or(0, |r| r.n.max(0) as u64);
        Ok(self
            .limits()?
            .admit(what, current)
            .err()
            .map(|reached| TeamReply::LimitReached { reached }))
    }

    fn name_taken(&self, table: &str, name: &str, except_id: &str) -> Result<bool> {
        self.exists(
            &format!("SELECT 1 FROM {table} WHERE name = ? AND id != ?"),
            vec![name.into(), except_id.into()],
        )
    }

    /// Inserts a row into a table of named objects (projects, roles, service accounts), unless
    /// the team already has one of that name: then answers `NameTaken` and writes nothing.
    fn insert_named<T: Serialize>(
        &self,
        table: &str,
        id: &str,
        name: &str,
        body: &T,
    ) -> Result<Option<TeamReply>> {
        if self.name_taken(table, name, id)? {
            return Ok(Some(TeamReply::NameTaken {
                name: name.to_owned(),
            }));
        }
        self.0.exec(
            &format!("INSERT INTO {table} (id, name, body) VALUES (?, ?, ?)"),
            vec![id.into(), name.into(), json(body)?.into()],
        )?;
        Ok(None)
    }

    fn role_by_name(&self, name: &str) -> Result<Option<Role>> {
        self.one(
            "SELECT seq, body FROM roles WHERE name = ?",
            vec![name.into()],
        )
    }

    fn role_by_id(&self, id: &str) -> Result<Option<Role>> {
        self.one("SELECT seq, body FROM roles WHERE id = ?", vec![id.into()])
    }

    /// The roles of an account, in the order they were given.
    fn account_roles(&self, account_id: &str) -> Result<Vec<Role>> {
        let ids: Vec<IdRow> = self
            .0
            .exec(
                "SELECT role_id AS id FROM account_roles WHERE account_id = ? ORDER BY position",
                vec![account_id.into()],
            )?
            .to_array()?;
        let mut roles = Vec::with_capacity(ids.len());
        for r in ids {
            if let Some(role) = self.role_by_id(&r.id)? {
                roles.push(role);
            }
        }
        Ok(roles)
    }

    fn account_view(&self, stored: StoredAccount) -> Result<ServiceAccount> {
        let roles = self
            .account_roles(&stored.id)?
            .into_iter()
            .map(|r| r.name)
            .collect();
        Ok(ServiceAccount {
            id: stored.id,
            name: stored.name,
            roles,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        })
    }

    fn stored_account(&self, id: &str) -> Result<Option<StoredAccount>> {
        self.one(
            "SELECT seq, body FROM service_accounts WHERE id = ?",
            vec![id.into()],
        )
    }

    /// Resolves role names to roles; the first unknown name is the error.
    fn resolve_roles(&self, names: &[String]) -> Result<std::result::Result<Vec<Role>, String>> {
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            match self.role_by_name(n)? {
                Some(r) => out.push(r),
                None => return Ok(Err(n.clone())),
            }
        }
        Ok(Ok(out))
    }

    /// The roles named, if they all exist and the caller holds every permission they carry;
    /// otherwise the reply that says why not. (No escalation through a service account.)
    fn granted_roles(
        &self,
        names: &[String],
        caller_permissions: &PermissionSet,
    ) -> Result<std::result::Result<Vec<Role>, TeamReply>> {
        let roles = match self.resolve_roles(names)? {
            Ok(r) => r,
            Err(name) => return Ok(Err(TeamReply::UnknownRole { name })),
        };
        let perms = PermissionSet::union(roles.iter().map(|r| &r.permissions));
        if let Some(missing) = caller_permissions.first_uncovered(perms.iter()) {
            return Ok(Err(TeamReply::MissingPermission {
                permission: missing.clone(),
            }));
        }
        if let Err(count) = within_permission_cap(&perms) {
            return Ok(Err(TeamReply::TooManyPermissions { count }));
        }
        Ok(Ok(roles))
    }

    fn set_account_roles(&self, account_id: &str, roles: &[Role]) -> Result<()> {
        self.0.exec(
            "DELETE FROM account_roles WHERE account_id = ?",
            vec![account_id.into()],
        )?;
        for (i, r) in roles.iter().enumerate() {
            self.0.exec(
                "INSERT INTO account_roles (account_id, role_id, position) VALUES (?, ?, ?)",
                vec![account_id.into(), r.id.as_str().into(), V::from(i as i64)],
            )?;
        }
        Ok(())
    }

    fn dispatch(&self, call: TeamCall) -> Result<TeamReply> {
        use TeamReply as R;
        Ok(match call {
            TeamCall::Init { team } => {
                if self.exists("SELECT 1 FROM team", vec![])? {
                    R::Exists
                } else {
                    self.0.exec(
                        "INSERT INTO team (id, body) VALUES (?, ?)",
                        vec![team.id.as_str().into(), json(&team)?.into()],
                    )?;
                    R::Team { team }
                }
            }
            TeamCall::Get => match self.team()? {
                Some(team) => R::Team { team },
                None => R::NotFound,
            },
            TeamCall::UpdateTeam { name, limits } => {
                let Some(mut team) = self.team()? else {
                    return Ok(R::NotFound);
                };
                if let Some(n) = name {
                    team.name = n;
                }
                team.limits = limits.apply(team.limits);
                self.0.exec(
                    "UPDATE team SET body = ? WHERE id = ?",
                    vec![json(&team)?.into(), team.id.as_str().into()],
                )?;
                R::Team { team }
            }
            TeamCall::Destroy => {
                for t in [
                    "team",
                    "keys",
                    "projects",
                    "roles",
                    "service_accounts",
                    "account_roles",
                ] {
                    self.0.exec(&format!("DELETE FROM {t}"), None)?;
                }
                R::Done
            }
            TeamCall::InsertKey {
                mut record,
                caller_permissions,
            } => {
                if let Some(refusal) = self.admit(Counted::Keys, "keys")? {
                    return Ok(refusal);
                }
                if let Err(ceiling) = self.limits()?.allows_rate(&record.rate_limit) {
                    return Ok(R::AboveCeiling { ceiling });
                }
                if let Some(p) = &record.project_id {
                    if !self.exists(
                        "SELECT 1 FROM projects WHERE id = ?",
                        vec![p.as_str().into()],
                    )? {
                        return Ok(R::ProjectNotFound);
                    }
                }
                if let Some(sa) = &record.service_account_id {
                    if self.stored_account(sa)?.is_none() {
                        return Ok(R::ServiceAccountNotFound);
                    }
                    // The snapshot: the union of the account's roles as they are right now.
                    let roles = self.account_roles(sa)?;
                    let perms = PermissionSet::union(roles.iter().map(|r| &r.permissions));
                    if let Some(missing) = caller_permissions.first_uncovered(perms.iter()) {
                        return Ok(R::MissingPermission {
                            permission: missing.clone(),
                        });
                    }
                    if let Err(count) = within_permission_cap(&perms) {
                        return Ok(R::TooManyPermissions { count });
                    }
                    record.permissions = perms;
                    record.roles = roles.into_iter().map(|r| r.name).collect();
                }
                self.0.exec(
                    "INSERT INTO keys (id, environment, project_id, body) VALUES (?, ?, ?, ?)",
                    vec![
                        record.id.as_str().into(),
                        record.environment.as_str().into(),
                        opt(record.project_id.as_deref()),
                        json(&record)?.into(),
                    ],
                )?;
                R::Key { record }
            }
            TeamCall::PutKey { record, revision } => {
                self.0.exec(
                    "UPDATE keys SET body = ?, revision = ? WHERE id = ? AND revision < ?",
                    vec![
                        json(&record)?.into(),
                        V::from(revision as i64),
                        record.id.as_str().into(),
                        V::from(revision as i64),
                    ],
                )?;
                R::Done
            }
            TeamCall::RemoveKey { id } => {
                self.0
                    .exec("DELETE FROM keys WHERE id = ?", vec![id.into()])?;
                R::Done
            }
            TeamCall::TouchKey { id, last_used } => {
                let current: Option<KeyRecord> = self.one(
                    "SELECT seq, body FROM keys WHERE id = ?",
                    vec![id.as_str().into()],
                )?;
                if let Some(mut record) = current {
                    if record.last_used.is_none_or(|t| t < last_used) {
                        record.last_used = Some(last_used);
                        self.0.exec(
                            "UPDATE keys SET body = ? WHERE id = ?",
                            vec![json(&record)?.into(), id.into()],
                        )?;
                    }
                }
                R::Done
            }
            TeamCall::ListKeys { query } => {
                let env = query.environment.map(|e| e.as_str());
                let binds = vec![
                    opt(env),
                    opt(env),
                    opt(query.project_id.as_deref()),
                    opt(query.project_id.as_deref()),
                ];
                let (records, next_cursor) = self.page(
                    "keys",
                    "AND (? IS NULL OR environment = ?) AND (? IS NULL OR project_id = ?)",
                    binds,
                    &query,
                )?;
                R::Keys {
                    records,
                    next_cursor,
                }
            }
            TeamCall::CreateProject { project } => {
                if let Some(refusal) = self.admit(Counted::Projects, "projects")? {
                    return Ok(refusal);
                }
                if let Some(taken) =
                    self.insert_named("projects", &project.id, &project.name, &project)?
                {
                    return Ok(taken);
                }
                R::Project { project }
            }
            TeamCall::ListProjects { query } => {
                let (projects, next_cursor) = self.page("projects", "", vec![], &query)?;
                R::Projects {
                    projects,
                    next_cursor,
                }
            }
            TeamCall::GetProject { id } => {
                match self.one(
                    "SELECT seq, body FROM projects WHERE id = ?",
                    vec![id.into()],
                )? {
                    Some(project) => R::Project { project },
                    None => R::NotFound,
                }
            }
            TeamCall::DeleteProject { id } => {
                if !self.exists(
                    "SELECT 1 FROM projects WHERE id = ?",
                    vec![id.as_str().into()],
                )? {
                    return Ok(R::NotFound);
                }
                if self.exists(
                    "SELECT 1 FROM keys WHERE project_id = ? LIMIT 1",
                    vec![id.as_str().into()],
                )? {
                    return Ok(R::InUse {
                        detail: format!(
                            "project {id} still has API keys scoped to it; delete them first"
                        ),
                    });
                }
                self.0
                    .exec("DELETE FROM projects WHERE id = ?", vec![id.into()])?;
                R::Done
            }
            TeamCall::CreateRole { role } => {
                if let Some(refusal) = self.admit(Counted::Roles, "roles")? {
                    return Ok(refusal);
                }
                if let Some(taken) = self.insert_named("roles", &role.id, &role.name, &role)? {
                    return Ok(taken);
                }
                R::Role { role }
            }
            TeamCall::ListRoles { query } => {
                let (roles, next_cursor) = self.page("roles", "", vec![], &query)?;
                R::Roles { roles, next_cursor }
            }
            TeamCall::GetRole { id } => match self.role_by_id(&id)? {
                Some(role) => R::Role { role },
                None => R::NotFound,
            },
            TeamCall::UpdateRole {
                id,
                name,
                permissions,
                now,
            } => {
                let Some(mut role) = self.role_by_id(&id)? else {
                    return Ok(R::NotFound);
                };
                if let Some(n) = name {
                    if self.name_taken("roles", &n, &id)? {
                        return Ok(R::NameTaken { name: n });
                    }
                    role.name = n;
                }
                if let Some(p) = permissions {
                    // No account may end up with roles past the permission cap.
                    let holders: Vec<IdRow> = self
                        .0
                        .exec(
                            "SELECT account_id AS id FROM account_roles WHERE role_id = ?",
                            vec![id.as_str().into()],
                        )?
                        .to_array()?;
                    for holder in holders {
                        let others = self.account_roles(&holder.id)?;
                        let union = PermissionSet::union(
                            others
                                .iter()
                                .filter(|r| r.id != id)
                                .map(|r| &r.permissions)
                                .chain([&p]),
                        );
                        if let Err(count) = within_permission_cap(&union) {
                            return Ok(R::TooManyPermissions { count });
                        }
                    }
                    role.permissions = p;
                }
                role.updated_at = now;
                self.0.exec(
                    "UPDATE roles SET name = ?, body = ? WHERE id = ?",
                    vec![role.name.as_str().into(), json(&role)?.into(), id.into()],
                )?;
                R::Role { role }
            }
            TeamCall::DeleteRole { id } => {
                if self.role_by_id(&id)?.is_none() {
                    return Ok(R::NotFound);
                }
                if self.exists(
                    "SELECT 1 FROM account_roles WHERE role_id = ? LIMIT 1",
                    vec![id.as_str().into()],
                )? {
                    return Ok(R::InUse {
                        detail: format!(
                            "role {id} is given to a service account; take it away first"
                        ),
                    });
                }
                self.0
                    .exec("DELETE FROM roles WHERE id = ?", vec![id.into()])?;
                R::Done
            }
            TeamCall::CreateServiceAccount {
                account,
                caller_permissions,
            } => {
                if let Some(refusal) = self.admit(Counted::ServiceAccounts, "service_accounts")? {
                    return Ok(refusal);
                }
                let roles = match self.granted_roles(&account.roles, &caller_permissions)? {
                    Ok(r) => r,
                    Err(refusal) => return Ok(refusal),
                };
                let stored = StoredAccount {
                    id: account.id.clone(),
                    name: account.name.clone(),
                    created_at: account.created_at,
                    updated_at: account.updated_at,
                };
                if let Some(taken) =
                    self.insert_named("service_accounts", &account.id, &account.name, &stored)?
                {
                    return Ok(taken);
                }
                self.set_account_roles(&account.id, &roles)?;
                R::ServiceAccount { account }
            }
            TeamCall::ListServiceAccounts { query } => {
                let (stored, next_cursor) =
                    self.page::<StoredAccount>("service_accounts", "", vec![], &query)?;
                let accounts = stored
                    .into_iter()
                    .map(|s| self.account_view(s))
                    .collect::<Result<Vec<_>>>()?;
                R::ServiceAccounts {
                    accounts,
                    next_cursor,
                }
            }
            TeamCall::GetServiceAccount { id } => match self.stored_account(&id)? {
                Some(s) => R::ServiceAccount {
                    account: self.account_view(s)?,
                },
                None => R::NotFound,
            },
            TeamCall::UpdateServiceAccount {
                id,
                name,
                roles,
                caller_permissions,
                now,
            } => {
                let Some(mut stored) = self.stored_account(&id)? else {
                    return Ok(R::NotFound);
                };
                if let Some(n) = name {
                    if self.name_taken("service_accounts", &n, &id)? {
                        return Ok(R::NameTaken { name: n });
                    }
                    stored.name = n;
                }
                if let Some(names) = roles {
                    let roles = match self.granted_roles(&names, &caller_permissions)? {
                        Ok(r) => r,
                        Err(refusal) => return Ok(refusal),
                    };
                    self.set_account_roles(&id, &roles)?;
                }
                stored.updated_at = now;
                self.0.exec(
                    "UPDATE service_accounts SET name = ?, body = ? WHERE id = ?",
                    vec![
                        stored.name.as_str().into(),
                        json(&stored)?.into(),
                        id.into(),
                    ],
                )?;
                R::ServiceAccount {
                    account: self.account_view(stored)?,
                }
            }
            TeamCall::DeleteServiceAccount { id } => {
                if self.stored_account(&id)?.is_none() {
                    return Ok(R::NotFound);
                }
                self.0.exec(
                    "DELETE FROM account_roles WHERE account_id = ?",
                    vec![id.as_str().into()],
                )?;
                self.0
                    .exec("DELETE FROM service_accounts WHERE id = ?", vec![id.into()])?;
                R::Done
            }
        })
    }
}
