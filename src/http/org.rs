//! `/v1/projects`, `/v1/roles`, `/v1/service-accounts`: the team's structure, kept in its team
//! object, whose rules (`core::team`) make uniqueness, limits and "in use" checks atomic.

use super::auth::{authorize, authorize_team_write, confirm, needs_team_wide, present};
use super::ctx::{json, no_content, query_pairs, read_body, ApiResult, Ctx};
use super::problem::ApiError;
use crate::core::audit::Origin;
use crate::core::ids::{ProjectId, RoleId, ServiceAccountId, TeamId, TypedId};
use crate::core::input::{
    parse_named, parse_new_role, parse_new_service_account, parse_role_patch,
    parse_service_account_patch,
};
use crate::core::model::{Project, Role, ServiceAccount};
use crate::core::page::{parse_list_query, ListQuery, Page};
use crate::core::permission::needs as perm;
use crate::core::random::OsRandom;
use crate::storage::team_protocol::*;
use crate::storage::Backend;
use serde::Serialize;
use worker::Request;

#[derive(Serialize)]
struct PageView<T: Serialize> {
    data: Vec<T>,
    has_more: bool,
    next_cursor: Option<String>,
}

/// The API's page shape, `{"data", "has_more", "next_cursor"}`.
pub fn page<T: Serialize>(p: Page<T>) -> ApiResult {
    json(
        200,
        &PageView {
            has_more: p.next_cursor.is_some(),
            data: p.items,
            next_cursor: p.next_cursor,
        },
    )
}

/// One call to a team's object; a refusal becomes its 4xx (`what` names the kind of object,
/// `id` the one asked for).
pub async fn ask<Q: TeamRequest>(
    ctx: &Ctx,
    team_id: &TeamId,
    q: Q,
    what: &str,
    id: &str,
) -> Result<Q::Reply, ApiError> {
    ctx.stores
        .team(team_id, q)
        .await?
        .map_err(|r| ApiError::refused(r, what, id))
}

/// [`ask`] for a change made through the API: the team object records its audit entry with it.
pub async fn ask_audited<Q: TeamRequest>(
    ctx: &Ctx,
    team_id: &TeamId,
    q: Q,
    origin: Origin,
    what: &str,
    id: &str,
) -> Result<Q::Reply, ApiError> {
    ctx.stores
        .team_audited(team_id, q, origin)
        .await?
        .map_err(|r| ApiError::refused(r, what, id))
}

/// The path's id as a `T`; anything that cannot be one is answered `404` without a lookup.
pub fn known<T: TypedId>(what: &str, id: &str) -> Result<T, ApiError> {
    T::parse(id)
        .ok_or_else(|| ApiError::refused(crate::core::team::TeamRefusal::NotFound, what, id))
}

pub fn list_query(req: &Request) -> Result<ListQuery, ApiError> {
    parse_list_query(&query_pairs(req), &[]).map_err(ApiError::input)
}

const PROJECT: &str = "project";
const ROLE: &str = "role";
const ACCOUNT: &str = "service account";

// Projects.

pub async fn create_project(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let caller = authorize_team_write(ctx, req, perm::PROJECTS_WRITE).await?;
    let name = parse_named(body.json()?).map_err(ApiError::input)?;
    let project = Project {
        id: ProjectId::generate(&mut OsRandom),
        name,
        created_at: ctx.now,
    };
    let (team, origin) = (&caller.team_id, caller.origin(ctx, req));
    let q = CreateProject { project };
    json(201, &ask_audited(ctx, team, q, origin, PROJECT, "").await?)
}

pub async fn list_projects(ctx: &Ctx, req: &Request) -> ApiResult {
    let caller = authorize(ctx, req, perm::PROJECTS_READ).await?;
    let query = list_query(req)?;
    page(ask(ctx, &caller.team_id, ListProjects { query }, PROJECT, "").await?)
}

pub async fn get_project(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize(ctx, req, perm::PROJECTS_READ).await?;
    let id = known::<ProjectId>(PROJECT, id)?;
    let team = &caller.team_id;
    json(
        200,
        &ask(ctx, team, GetProject { id: id.clone() }, PROJECT, &id).await?,
    )
}

pub async fn delete_project(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize_team_write(ctx, req, perm::PROJECTS_WRITE).await?;
    let id = known::<ProjectId>(PROJECT, id)?;
    let (team, origin) = (&caller.team_id, caller.origin(ctx, req));
    let q = DeleteProject { id: id.clone() };
    ask_audited(ctx, team, q, origin, PROJECT, &id).await?;
    no_content()
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
    if let Ok(r) = &input {
        requirement
            .permissions
            .extend(r.permissions.iter().cloned());
    }
    let caller = confirm(ctx, &p, requirement).await?;
    let input = input?;
    let role = Role {
        id: RoleId::generate(&mut OsRandom),
        name: input.name,
        permissions: input.permissions,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let origin = caller.origin(ctx, req);
    let q = CreateRole { role };
    json(
        201,
        &ask_audited(ctx, &caller.team_id, q, origin, ROLE, "").await?,
    )
}

pub async fn list_roles(ctx: &Ctx, req: &Request) -> ApiResult {
    let caller = authorize(ctx, req, perm::ROLES_READ).await?;
    let query = list_query(req)?;
    page(ask(ctx, &caller.team_id, ListRoles { query }, ROLE, "").await?)
}

pub async fn get_role(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize(ctx, req, perm::ROLES_READ).await?;
    let id = known::<RoleId>(ROLE, id)?;
    json(
        200,
        &ask(ctx, &caller.team_id, GetRole { id: id.clone() }, ROLE, &id).await?,
    )
}

pub async fn update_role(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult {
    let body = read_body(req).await?;
    let p = present(ctx, req).await?;
    let input = body
        .json()
        .and_then(|b| parse_role_patch(b).map_err(ApiError::input));
    let mut requirement = needs_team_wide(&[perm::ROLES_WRITE]);
    if let Ok(Some(perms)) = input.as_ref().map(|i| &i.permissions) {
        requirement.permissions.extend(perms.iter().cloned());
    }
    let caller = confirm(ctx, &p, requirement).await?;
    let input = input?;
    let id = known::<RoleId>(ROLE, id)?;
    let q = UpdateRole {
        id: id.clone(),
        name: input.name,
        permissions: input.permissions,
        now: ctx.now,
    };
    let origin = caller.origin(ctx, req);
    json(
        200,
        &ask_audited(ctx, &caller.team_id, q, origin, ROLE, &id).await?,
    )
}

pub async fn delete_role(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize_team_write(ctx, req, perm::ROLES_WRITE).await?;
    let id = known::<RoleId>(ROLE, id)?;
    let (q, origin) = (DeleteRole { id: id.clone() }, caller.origin(ctx, req));
    ask_audited(ctx, &caller.team_id, q, origin, ROLE, &id).await?;
    no_content()
}

// Service accounts.

pub async fn create_account(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let caller = authorize_team_write(ctx, req, perm::SERVICE_ACCOUNTS_WRITE).await?;
    let input = parse_new_service_account(body.json()?).map_err(ApiError::input)?;
    let account = ServiceAccount {
        id: ServiceAccountId::generate(&mut OsRandom),
        name: input.name,
        roles: input.roles,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let q = CreateServiceAccount {
        account,
        caller_permissions: caller.manager.permissions.clone(),
    };
    let origin = caller.origin(ctx, req);
    json(
        201,
        &ask_audited(ctx, &caller.team_id, q, origin, ACCOUNT, "").await?,
    )
}

pub async fn list_accounts(ctx: &Ctx, req: &Request) -> ApiResult {
    let caller = authorize(ctx, req, perm::SERVICE_ACCOUNTS_READ).await?;
    let query = list_query(req)?;
    page(
        ask(
            ctx,
            &caller.team_id,
            ListServiceAccounts { query },
            ACCOUNT,
            "",
        )
        .await?,
    )
}

pub async fn get_account(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize(ctx, req, perm::SERVICE_ACCOUNTS_READ).await?;
    let id = known::<ServiceAccountId>(ACCOUNT, id)?;
    let q = GetServiceAccount { id: id.clone() };
    json(200, &ask(ctx, &caller.team_id, q, ACCOUNT, &id).await?)
}

pub async fn update_account(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult {
    let body = read_body(req).await?;
    let caller = authorize_team_write(ctx, req, perm::SERVICE_ACCOUNTS_WRITE).await?;
    let input = parse_service_account_patch(body.json()?).map_err(ApiError::input)?;
    let id = known::<ServiceAccountId>(ACCOUNT, id)?;
    let q = UpdateServiceAccount {
        id: id.clone(),
        name: input.name,
        roles: input.roles,
        caller_permissions: caller.manager.permissions.clone(),
        now: ctx.now,
    };
    let origin = caller.origin(ctx, req);
    json(
        200,
        &ask_audited(ctx, &caller.team_id, q, origin, ACCOUNT, &id).await?,
    )
}

pub async fn delete_account(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize_team_write(ctx, req, perm::SERVICE_ACCOUNTS_WRITE).await?;
    let id = known::<ServiceAccountId>(ACCOUNT, id)?;
    let (q, origin) = (
        DeleteServiceAccount { id: id.clone() },
        caller.origin(ctx, req),
    );
    ask_audited(ctx, &caller.team_id, q, origin, ACCOUNT, &id).await?;
    no_content()
}
