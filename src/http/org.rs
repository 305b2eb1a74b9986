//! `/v1/projects`, `/v1/roles`, `/v1/service-accounts`: the team's structure, kept in its team
//! object so uniqueness and "in use" checks are atomic.

use super::auth::{authorize, authorize_team_write, confirm, needs_team_wide, present};
use super::ctx::{internal, json, no_content, query_pairs, read_body, ApiResult, Ctx};
use super::problem::ApiError;
use crate::core::ids::{is_id, new_id, IdKind};
use crate::core::input::{
    parse_named, parse_new_role, parse_new_service_account, parse_role_patch,
    parse_service_account_patch,
};
use crate::core::model::{Project, Role, ServiceAccount};
use crate::core::page::{parse_list_query, ListQuery};
use crate::core::permission::needs as perm;
use crate::core::random::OsRandom;
use crate::storage::protocol::{TeamCall, TeamReply};
use crate::storage::Backend;
use serde::Serialize;
use worker::Request;

#[derive(Serialize)]
struct Page<T: Serialize> {
    data: Vec<T>,
    has_more: bool,
    next_cursor: Option<String>,
}

fn page<T: Serialize>(data: Vec<T>, next_cursor: Option<String>) -> ApiResult {
    json(
        200,
        &Page {
            data,
            has_more: next_cursor.is_some(),
            next_cursor,
        },
    )
}

/// The reply of the team object, for errors every route shares.
fn fail(reply: TeamReply, kind: &str, id: &str) -> ApiError {
    match reply {
        TeamReply::NotFound => {
            let shown: String = id.chars().take(40).collect();
            ApiError::not_found(format!("no {kind} `{shown}` in this team"))
        }
        TeamReply::NameTaken { name } => ApiError::conflict(
            "name_taken",
            "Name taken",
            format!("this team already has a {kind} named {name:?}"),
        ),
        TeamReply::InUse { detail } => {
            let code = if kind == "project" {
                "project_in_use"
            } else {
                "role_in_use"
            };
            ApiError::conflict(code, "In use", detail)
        }
        TeamReply::UnknownRole { name } => {
            ApiError::not_found(format!("no role named {name:?} in this team"))
        }
        TeamReply::MissingPermission { permission } => ApiError::forbidden(format!(
            "the roles include `{permission}`, which this key lacks, so it cannot give it"
        )),
        TeamReply::LimitReached { reached } => ApiError::limit_reached(&reached),
        TeamReply::TooManyPermissions { count } => ApiError::too_many_permissions(count),
        other => internal("team object", format!("unexpected reply {other:?}")),
    }
}

async fn call(ctx: &Ctx, team_id: &str, c: &TeamCall) -> Result<TeamReply, ApiError> {
    Ok(ctx.stores.team(team_id, c).await?)
}

fn list_query(req: &Request) -> Result<ListQuery, ApiError> {
    parse_list_query(&query_pairs(req), &[]).map_err(ApiError::input)
}

// Projects.

pub async fn create_project(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let caller = authorize_team_write(ctx, req, perm::PROJECTS_WRITE).await?;
    let name = parse_named(body.json()?).map_err(ApiError::input)?;
    let project = Project {
        id: new_id(IdKind::Project, &mut OsRandom),
        name,
        created_at: ctx.now,
    };
    match call(
        ctx,
        &caller.record.team_id,
        &TeamCall::CreateProject { project },
    )
    .await?
    {
        TeamReply::Project { project } => json(201, &project),
        other => Err(fail(other, "project", "")),
    }
}

pub async fn list_projects(ctx: &Ctx, req: &Request) -> ApiResult {
    let caller = authorize(ctx, req, perm::PROJECTS_READ).await?;
    let query = list_query(req)?;
    match call(
        ctx,
        &caller.record.team_id,
        &TeamCall::ListProjects { query },
    )
    .await?
    {
        TeamReply::Projects {
            projects,
            next_cursor,
        } => page(projects, next_cursor),
        other => Err(fail(other, "project", "")),
    }
}

pub async fn get_project(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize(ctx, req, perm::PROJECTS_READ).await?;
    if !is_id(IdKind::Project, id) {
        return Err(fail(TeamReply::NotFound, "project", id));
    }
    match call(
        ctx,
        &caller.record.team_id,
        &TeamCall::GetProject { id: id.into() },
    )
    .await?
    {
        TeamReply::Project { project } => json(200, &project),
        other => Err(fail(other, "project", id)),
    }
}

pub async fn delete_project(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize_team_write(ctx, req, perm::PROJECTS_WRITE).await?;
    if !is_id(IdKind::Project, id) {
        return Err(fail(TeamReply::NotFound, "project", id));
    }
    match call(
        ctx,
        &caller.record.team_id,
        &TeamCall::DeleteProject { id: id.into() },
    )
    .await?
    {
        TeamReply::Done => no_content(),
        other => Err(fail(other, "project", id)),
    }
}

// Roles.

pub async fn create_role(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let p = present(ctx, req).await?;
    let input = body
        .json()
        .and_then(|b| parse_new_role(b).map_err(ApiError::input));
    // A role can only be given permissions the caller holds.
    let mut requirement = needs_team_wide(&[perm::ROLES_WRITE]);
    if let Ok((_, perms)) = &input {
        requirement.permissions.extend(perms.iter().cloned());
    }
    let caller = confirm(ctx, &p, requirement).await?;
    let (name, permissions) = input?;
    let role = Role {
        id: new_id(IdKind::Role, &mut OsRandom),
        name,
        permissions,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    match call(ctx, &caller.record.team_id, &TeamCall::CreateRole { role }).await? {
        TeamReply::Role { role } => json(201, &role),
        other => Err(fail(other, "role", "")),
    }
}

pub async fn list_roles(ctx: &Ctx, req: &Request) -> ApiResult {
    let caller = authorize(ctx, req, perm::ROLES_READ).await?;
    let query = list_query(req)?;
    match call(ctx, &caller.record.team_id, &TeamCall::ListRoles { query }).await? {
        TeamReply::Roles { roles, next_cursor } => page(roles, next_cursor),
        other => Err(fail(other, "role", "")),
    }
}

pub async fn get_role(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize(ctx, req, perm::ROLES_READ).await?;
    if !is_id(IdKind::Role, id) {
        return Err(fail(TeamReply::NotFound, "role", id));
    }
    match call(
        ctx,
        &caller.record.team_id,
        &TeamCall::GetRole { id: id.into() },
    )
    .await?
    {
        TeamReply::Role { role } => json(200, &role),
        other => Err(fail(other, "role", id)),
    }
}

pub async fn update_role(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult {
    let body = read_body(req).await?;
    let p = present(ctx, req).await?;
    let input = body
        .json()
        .and_then(|b| parse_role_patch(b).map_err(ApiError::input));
    let mut requirement = needs_team_wide(&[perm::ROLES_WRITE]);
    if let Ok((_, Some(perms))) = &input {
        requirement.permissions.extend(perms.iter().cloned());
    }
    let caller = confirm(ctx, &p, requirement).await?;
    let (name, permissions) = input?;
    if !is_id(IdKind::Role, id) {
        return Err(fail(TeamReply::NotFound, "role", id));
    }
    let c = TeamCall::UpdateRole {
        id: id.into(),
        name,
        permissions,
        now: ctx.now,
    };
    match call(ctx, &caller.record.team_id, &c).await? {
        TeamReply::Role { role } => json(200, &role),
        other => Err(fail(other, "role", id)),
    }
}

pub async fn delete_role(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize_team_write(ctx, req, perm::ROLES_WRITE).await?;
    if !is_id(IdKind::Role, id) {
        return Err(fail(TeamReply::NotFound, "role", id));
    }
    match call(
        ctx,
        &caller.record.team_id,
        &TeamCall::DeleteRole { id: id.into() },
    )
    .await?
    {
        TeamReply::Done => no_content(),
        other => Err(fail(other, "role", id)),
    }
}

// Service accounts.

pub async fn create_account(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let caller = authorize_team_write(ctx, req, perm::SERVICE_ACCOUNTS_WRITE).await?;
    let (name, roles) = parse_new_service_account(body.json()?).map_err(ApiError::input)?;
    let account = ServiceAccount {
        id: new_id(IdKind::ServiceAccount, &mut OsRandom),
        name,
        roles,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let c = TeamCall::CreateServiceAccount {
        account,
        caller_permissions: caller.record.permissions.clone(),
    };
    match call(ctx, &caller.record.team_id, &c).await? {
        TeamReply::ServiceAccount { account } => json(201, &account),
        other => Err(fail(other, "service account", "")),
    }
}

pub async fn list_accounts(ctx: &Ctx, req: &Request) -> ApiResult {
    let caller = authorize(ctx, req, perm::SERVICE_ACCOUNTS_READ).await?;
    let query = list_query(req)?;
    match call(
        ctx,
        &caller.record.team_id,
        &TeamCall::ListServiceAccounts { query },
    )
    .await?
    {
        TeamReply::ServiceAccounts {
            accounts,
            next_cursor,
        } => page(accounts, next_cursor),
        other => Err(fail(other, "service account", "")),
    }
}

pub async fn get_account(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize(ctx, req, perm::SERVICE_ACCOUNTS_READ).await?;
    if !is_id(IdKind::ServiceAccount, id) {
        return Err(fail(TeamReply::NotFound, "service account", id));
    }
    match call(
        ctx,
        &caller.record.team_id,
        &TeamCall::GetServiceAccount { id: id.into() },
    )
    .await?
    {
        TeamReply::ServiceAccount { account } => json(200, &account),
        other => Err(fail(other, "service account", id)),
    }
}

pub async fn update_account(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult {
    let body = read_body(req).await?;
    let caller = authorize_team_write(ctx, req, perm::SERVICE_ACCOUNTS_WRITE).await?;
    let (name, roles) = parse_service_account_patch(body.json()?).map_err(ApiError::input)?;
    if !is_id(IdKind::ServiceAccount, id) {
        return Err(fail(TeamReply::NotFound, "service account", id));
    }
    let c = TeamCall::UpdateServiceAccount {
        id: id.into(),
        name,
        roles,
        caller_permissions: caller.record.permissions.clone(),
        now: ctx.now,
    };
    match call(ctx, &caller.record.team_id, &c).await? {
        TeamReply::ServiceAccount { account } => json(200, &account),
        other => Err(fail(other, "service account", id)),
    }
}

pub async fn delete_account(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize_team_write(ctx, req, perm::SERVICE_ACCOUNTS_WRITE).await?;
    if !is_id(IdKind::ServiceAccount, id) {
        return Err(fail(TeamReply::NotFound, "service account", id));
    }
    match call(
        ctx,
        &caller.record.team_id,
        &TeamCall::DeleteServiceAccount { id: id.into() },
    )
    .await?
    {
        TeamReply::Done => no_content(),
        other => Err(fail(other, "service account", id)),
    }
}
