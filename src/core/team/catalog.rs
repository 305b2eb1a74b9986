//! The team's projects, roles and service accounts: names unique per kind, "in use" objects kept,
//! the count limits, and no escalation through an account's roles (at most 100 permissions,
//! each held by the caller who gives it).

use super::*;

// Projects.

pub fn create_project(s: &impl TeamStore, project: Project) -> TeamResult<Project> {
    admit(s, Counted::Projects)?;
    unique(s, Named::Project, &project.name, &project.id)?;
    s.insert_project(&project)?;
    Ok(project)
}

pub fn get_project(s: &impl TeamStore, id: &str) -> TeamResult<Project> {
    found(s.project(id)?)
}

pub fn list_projects(s: &impl TeamStore, query: &ListQuery) -> TeamResult<Page<Project>> {
    Ok(s.list_projects(query)?)
}

/// A project with keys scoped to it is in use.
pub fn delete_project(s: &impl TeamStore, id: &str) -> TeamResult<()> {
    found(s.project(id)?)?;
    if s.project_has_keys(id)? {
        return refuse(TeamRefusal::InUse(InUse::ProjectHasKeys));
    }
    Ok(s.delete_project(id)?)
}

// Roles.

pub fn create_role(s: &impl TeamStore, role: Role) -> TeamResult<Role> {
    admit(s, Counted::Roles)?;
    unique(s, Named::Role, &role.name, &role.id)?;
    s.insert_role(&role)?;
    Ok(role)
}

pub fn get_role(s: &impl TeamStore, id: &str) -> TeamResult<Role> {
    found(s.role(id)?)
}

pub fn list_roles(s: &impl TeamStore, query: &ListQuery) -> TeamResult<Page<Role>> {
    Ok(s.list_roles(query)?)
}

/// Renames a role or replaces its permissions. (The caller holding every permission it newly
/// gives is checked at the edge, with the caller's key.) No account that has the role may end up
/// with roles past the permission cap.
pub fn update_role(
    s: &impl TeamStore,
    id: &str,
    name: Option<String>,
    permissions: Option<PermissionSet>,
    now: Timestamp,
) -> TeamResult<Role> {
    let mut role = found(s.role(id)?)?;
    if let Some(n) = name {
        unique(s, Named::Role, &n, id)?;
        role.name = n;
    }
    if let Some(p) = permissions {
        for account in s.accounts_with_role(id)? {
            let others = account_roles(s, &account)?;
            let union = PermissionSet::union(
                others
                    .iter()
                    .filter(|r| r.id.as_str() != id)
                    .map(|r| &r.permissions)
                    .chain([&p]),
            );
            capped(&union)?;
        }
        role.permissions = p;
    }
    role.updated_at = now;
    s.update_role(&role)?;
    Ok(role)
}

/// A role given to a service account is in use.
pub fn delete_role(s: &impl TeamStore, id: &str) -> TeamResult<()> {
    found(s.role(id)?)?;
    if !s.accounts_with_role(id)?.is_empty() {
        return refuse(TeamRefusal::InUse(InUse::RoleGiven));
    }
    Ok(s.delete_role(id)?)
}

// Service accounts.

/// An account's roles, in the order they were given (a role deleted meanwhile is skipped).
pub(super) fn account_roles(s: &impl TeamStore, account_id: &str) -> TeamResult<Vec<Role>> {
    let mut roles = Vec::new();
    for id in s.account_role_ids(account_id)? {
        roles.extend(s.role(&id)?);
    }
    Ok(roles)
}

fn account_view(s: &impl TeamStore, a: AccountRecord) -> TeamResult<ServiceAccount> {
    let roles = account_roles(s, &a.id)?
        .into_iter()
        .map(|r| r.name)
        .collect();
    Ok(a.view(roles))
}

/// The roles named, if they all exist, the caller holds every permission they carry (no
/// escalation through an account), and together they hold at most 100.
fn granted_roles(
    s: &impl TeamStore,
    names: &[String],
    caller_permissions: &PermissionSet,
) -> TeamResult<Vec<Role>> {
    let mut roles = Vec::with_capacity(names.len());
    for n in names {
        match s.role_by_name(n)? {
            Some(r) => roles.push(r),
            None => return refuse(TeamRefusal::UnknownRole { name: n.clone() }),
        }
    }
    let perms = PermissionSet::union(roles.iter().map(|r| &r.permissions));
    if let Some(missing) = caller_permissions.first_uncovered(perms.iter()) {
        return refuse(TeamRefusal::MissingPermission {
            permission: missing.clone(),
        });
    }
    capped(&perms)?;
    Ok(roles)
}

fn role_ids(roles: &[Role]) -> Vec<RoleId> {
    roles.iter().map(|r| r.id.clone()).collect()
}

/// Creates an account with roles given by name.
pub fn create_account(
    s: &impl TeamStore,
    account: ServiceAccount,
    caller_permissions: &PermissionSet,
) -> TeamResult<ServiceAccount> {
    admit(s, Counted::ServiceAccounts)?;
    let roles = granted_roles(s, &account.roles, caller_permissions)?;
    unique(s, Named::ServiceAccount, &account.name, &account.id)?;
    s.insert_account(&AccountRecord::of(&account))?;
    s.set_account_roles(&account.id, &role_ids(&roles))?;
    Ok(account)
}

pub fn get_account(s: &impl TeamStore, id: &str) -> TeamResult<ServiceAccount> {
    let a = found(s.account(id)?)?;
    account_view(s, a)
}

pub fn list_accounts(s: &impl TeamStore, query: &ListQuery) -> TeamResult<Page<ServiceAccount>> {
    let page = s.list_accounts(query)?;
    let items = page
        .items
        .into_iter()
        .map(|a| account_view(s, a))
        .collect::<TeamResult<Vec<_>>>()?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

pub fn update_account(
    s: &impl TeamStore,
    id: &str,
    name: Option<String>,
    roles: Option<Vec<String>>,
    caller_permissions: &PermissionSet,
    now: Timestamp,
) -> TeamResult<ServiceAccount> {
    let mut a = found(s.account(id)?)?;
    if let Some(n) = name {
        unique(s, Named::ServiceAccount, &n, id)?;
        a.name = n;
    }
    if let Some(names) = roles {
        let roles = granted_roles(s, &names, caller_permissions)?;
        s.set_account_roles(id, &role_ids(&roles))?;
    }
    a.updated_at = now;
    s.update_account(&a)?;
    account_view(s, a)
}

/// Its keys keep working with the permissions they were made with.
pub fn delete_account(s: &impl TeamStore, id: &str) -> TeamResult<()> {
    found(s.account(id)?)?;
    Ok(s.delete_account(id)?)
}
