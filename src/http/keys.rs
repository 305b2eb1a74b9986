//! `/v1/api-keys`: create, list, get, update, disable, delete.
//!
//! Writes go to the key's object first (the authority), then to the listing and the index. A key
//! becomes usable only when its KV index entry is written, which is the last step of creation;
//! if any step fails, the earlier ones are undone, so no half-made key can ever verify.

use super::auth::{authorize, confirm, needs, present, Credential};
use super::ctx::{internal, json, no_content, query_pairs, read_body, ApiResult, Ctx};
use super::org::{ask, page};
use super::problem::ApiError;
use crate::core::access::{
    create_requirement, listing_filter, management_requirement, sees, Denial, ListingFilter,
    Manager,
};
use crate::core::audit::Origin;
use crate::core::history::{date_of, History, Location, HISTORY_DAYS};
use crate::core::idle_filter::key_list_query;
use crate::core::ids::{KeyId, TeamId};
use crate::core::input::{
    parse_key_patch, parse_new_key, parse_roll, InputError, InputErrorKind, KeyPatch,
};
use crate::core::key::{KeyHash, PlainKey};
use crate::core::key_state::UpdateError;
use crate::core::limits::TeamLimits;
use crate::core::model::{CreatedKeyView, KeyRecord, KeyStatus, UsageView};
use crate::core::page::unknown_param;
use crate::core::page::Page;
use crate::core::permission::{needs as perm, Permission, PermissionSet};
use crate::core::random::OsRandom;
use crate::storage::key_protocol::{KeyCall, KeyReply};
use crate::storage::service::{self, IssueError, Revoked};
use crate::storage::team_protocol::{GetTeam, ListKeys};
use crate::storage::Backend;
use serde::Serialize;
use worker::{console_error, Request};

/// `Key` + `usage` (+ `locations`, for a key of the team), for the single-key reads.
#[derive(Serialize)]
struct KeyWithUsage<'a> {
    #[serde(flatten)]
    key: crate::core::model::KeyView<'a>,
    usage: UsageView,
    #[serde(skip_serializing_if = "Option::is_none")]
    locations: Option<&'a [Location]>,
}

/// A key as its object holds it, for the reads.
struct Loaded {
    record: KeyRecord,
    usage: UsageView,
    locations: Vec<Location>,
    history: History,
}

/// Writes a new key everywhere it must be (see [`service::issue_key`]) and maps the outcome.
pub async fn issue_key(
    ctx: &Ctx,
    record: KeyRecord,
    hash: KeyHash,
    caller_permissions: &PermissionSet,
    origin: Option<Origin>,
) -> Result<KeyRecord, ApiError> {
    service::issue_key(&ctx.stores, record, hash, caller_permissions, origin)
        .await
        .map_err(|e| match e {
            IssueError::Refused(r) => ApiError::refused(r, "key", ""),
            IssueError::Store {
                cause,
                undo_failures,
            } => {
                for u in undo_failures {
                    console_error!("undoing a failed key creation: {}", u.0);
                }
                cause.into()
            }
        })
}

pub async fn create(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let p = present(ctx, req).await?;
    let input = body
        .json()
        .and_then(|b| parse_new_key(b, ctx.now).map_err(ApiError::input));
    // The caller must hold api_keys:write and every permission it hands out.
    let write = Permission::new_static(perm::API_KEYS_WRITE);
    let requirement = match &input {
        Ok(i) => create_requirement(&write, &i.permissions, i.environment, &i.project),
        Err(_) => needs(&[perm::API_KEYS_WRITE]),
    };
    let caller = confirm(ctx, &p, requirement).await?;
    let input = input?;
    let project_id = input.project.resolve(caller.manager.project_id.as_ref());
    let environment = input.environment.unwrap_or(caller.manager.environment);
    let plain = PlainKey::generate(&ctx.config.key_prefix, environment, &mut OsRandom);
    let record = KeyRecord {
        id: KeyId::generate(&mut OsRandom),
        team_id: caller.team_id.clone(),
        name: input.name,
        description: input.description,
        prefix: plain.display_prefix().to_owned(),
        environment,
        permissions: input.permissions,
        roles: Vec::new(),
        rate_limit: input.rate_limit,
        project_id,
        service_account_id: input.service_account_id,
        metadata: input.metadata,
        created_at: ctx.now,
        updated_at: ctx.now,
        expires_at: input.expires_at,
        disabled_at: None,
        last_used: None,
        auto_renew: input.auto_renew,
        rolled_from: None,
        renewed_at: None,
        leaked: None,
        credits: input.credits.map(|c| c.setting(ctx.now)),
        allowed_ips: input.allowed_ips,
    };
    let origin = caller.origin(ctx, req);
    let record = issue_key(
        ctx,
        record,
        plain.hash(),
        &caller.manager.permissions,
        Some(origin),
    )
    .await?;
    json(
        201,
        &CreatedKeyView {
            view: record.view(ctx.now),
            key: plain.expose_secret(),
        },
    )
}

pub async fn list(ctx: &Ctx, req: &Request) -> ApiResult {
    let p = present(ctx, req).await?;
    let query = key_list_query(&query_pairs(req), ctx.now).map_err(ApiError::input);
    let caller = confirm(ctx, &p, needs(&[perm::API_KEYS_READ])).await?;
    let mut query = query?;
    // A scoped key lists its project's keys only.
    match listing_filter(
        caller.manager.project_id.as_ref(),
        query.project_id.as_ref(),
    ) {
        ListingFilter::Project(p) => query.project_id = p,
        ListingFilter::Nothing => {
            return page::<KeyRecord>(Page {
                items: Vec::new(),
                next_cursor: None,
            })
        }
    }
    let found = ask(ctx, &caller.team_id, ListKeys { query }, "key", "").await?;
    page(Page {
        items: found.items.iter().map(|r| r.view(ctx.now)).collect(),
        next_cursor: found.next_cursor,
    })
}

/// A key of the caller's team, with its usage and revision; `None` for anything else (another
/// team's key is as invisible as one that never existed).
async fn load(ctx: &Ctx, team_id: &TeamId, id: &str) -> Result<Option<Loaded>, ApiError> {
    let Some(id) = KeyId::parse(id) else {
        return Ok(None);
    };
    Ok(match ctx.stores.key(&id, &KeyCall::Get).await? {
        KeyReply::Key {
            record,
            usage,
            locations,
            history,
            ..
        } if &record.team_id == team_id => Some(Loaded {
            record: *record,
            usage,
            locations,
            history,
        }),
        _ => None,
    })
}

fn key_not_found(id: &str) -> ApiError {
    let shown: String = id.chars().take(40).collect();
    ApiError::not_found(format!("no API key `{shown}` in this team"))
}

fn with_usage(
    ctx: &Ctx,
    record: &KeyRecord,
    usage: UsageView,
    locations: Option<&[Location]>,
) -> ApiResult {
    json(
        200,
        &KeyWithUsage {
            key: record.view(ctx.now),
            usage,
            locations,
        },
    )
}

/// A key of the caller's team that the caller may see (its project), or `404`.
async fn visible(ctx: &Ctx, req: &Request, id: &str) -> Result<Loaded, ApiError> {
    let caller = authorize(ctx, req, perm::API_KEYS_READ).await?;
    load(ctx, &caller.team_id, id)
        .await?
        .filter(|k| {
            sees(
                caller.manager.project_id.as_deref(),
                k.record.project_id.as_deref(),
            )
        })
        .ok_or_else(|| key_not_found(id))
}

pub async fn get(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let k = visible(ctx, req, id).await?;
    with_usage(ctx, &k.record, k.usage, Some(&k.locations))
}

#[derive(Serialize)]
struct UsageDay {
    date: String,
    admitted: u64,
    rate_limited: u64,
    denied: u64,
}

#[derive(Serialize)]
struct UsageHistory {
    days: Vec<UsageDay>,
}

/// `GET /v1/api-keys/{id}/usage?days=1..90` (default 30): counted requests per UTC day, oldest
/// first, a zero row for each quiet day.
pub async fn usage(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let mut days = 30;
    for (k, v) in query_pairs(req) {
        match (k.as_str(), v.parse::<i64>()) {
            ("days", Ok(n)) if (1..=HISTORY_DAYS).contains(&n) => days = n,
            ("days", _) => {
                return Err(ApiError::input(InputError::invalid(
                    "days",
                    format!("must be an integer from 1 to {HISTORY_DAYS}"),
                )))
            }
            _ => return Err(ApiError::input(unknown_param(&k))),
        }
    }
    let k = visible(ctx, req, id).await?;
    let days = k
        .history
        .last(days, ctx.now)
        .into_iter()
        .map(|d| UsageDay {
            date: date_of(d.day),
            admitted: d.admitted,
            rate_limited: d.rate_limited,
            denied: d.denied,
        })
        .collect();
    json(200, &UsageHistory { days })
}

/// The calling key itself. Needs no permission: a key may always see what it is.
pub async fn current(ctx: &Ctx, req: &Request) -> ApiResult {
    let p = present(ctx, req).await?;
    let caller = confirm(ctx, &p, needs(&[])).await?;
    let (record, usage) = caller.key()?;
    with_usage(ctx, record, *usage, None)
}

/// Loads the target, then checks the caller against everything managing it needs (see
/// [`management_requirement`]): a key outside the caller's project answers `404` as one of
/// another team does. 401/403/429 come before the target's 404 and the body's 400. The target's
/// object checks the returned [`Manager`] again, atomically with the change.
async fn manage(
    ctx: &Ctx,
    req: &Request,
    p: &Credential,
    id: &str,
    new_permissions: Option<&PermissionSet>,
) -> Result<(KeyRecord, Manager, Origin), ApiError> {
    let target = load(ctx, p.team_id(), id).await?.map(|k| k.record);
    let write = Permission::new_static(perm::API_KEYS_WRITE);
    let requirement = management_requirement(&write, target.as_ref(), new_permissions);
    let caller = confirm(ctx, p, requirement).await.map_err(|e| {
        if e.status == 404 {
            key_not_found(id)
        } else {
            e
        }
    })?;
    match target {
        Some(t) if t.team_id == caller.team_id => {
            Ok((t, caller.manager.clone(), caller.origin(ctx, req)))
        }
        _ => Err(key_not_found(id)),
    }
}

/// Sends a change to the key's object and answers what it did. Once the object has applied it,
/// the change is in force and the answer is a success, even if the listing could not follow yet
/// (the key object's outbox retries that).
async fn change(ctx: &Ctx, id: &KeyId, call: &KeyCall) -> ApiResult {
    let (reply, follow_up) = service::change_key(&ctx.stores, id, call).await?;
    if let Some(e) = follow_up {
        console_error!("relisting {id} failed (its object retries): {}", e.0);
    }
    match reply {
        KeyReply::Key { record, .. } => json(200, &record.view(ctx.now)),
        KeyReply::Refused {
            denial: Denial::OutsideProject,
        } => Err(key_not_found(id)),
        KeyReply::Refused { denial } => Err(ApiError::from_denial(&denial, None)),
        KeyReply::Rejected {
            error: UpdateError::PermissionsImmutable,
        } => Err(ApiError::conflict(
            "permissions_immutable",
            "Permissions are immutable",
            "this key belongs to a service account: its permissions are fixed for life; \
             create a new key for the account instead",
        )),
        KeyReply::Rejected {
            error: UpdateError::Invalid(detail),
        } => Err(ApiError::input(InputError {
            kind: InputErrorKind::InvalidField,
            detail,
        })),
        KeyReply::Rejected {
            error: UpdateError::AboveCeiling(c),
        } => Err(ApiError::rate_limit_ceiling(&c)),
        KeyReply::Rejected {
            error: UpdateError::Inactive,
        } => Err(key_inactive()),
        // Deleted since it was loaded.
        KeyReply::NotFound => Err(key_not_found(id)),
        other => Err(internal(
            "key object",
            format!("unexpected reply {other:?}"),
        )),
    }
}

fn key_inactive() -> ApiError {
    ApiError::conflict(
        "key_inactive",
        "Key inactive",
        "a disabled or expired key cannot be rolled; create a new key instead",
    )
}

/// `POST /v1/api-keys/{id}/roll`: a new key (new id, new secret) with everything of the old one
/// but its dates, and `rolled_from`; then the old key's expiry is shortened in its own object
/// (exact everywhere). The caller must be able to manage the old key, which means holding every
/// permission the new one gets. If the old key cannot be rolled after all (disabled meanwhile),
/// the new key is deleted again: nothing half-done stays usable.
pub async fn roll(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult {
    let body = read_body(req).await?;
    let p = present(ctx, req).await?;
    let (target, manager, origin) = manage(ctx, req, &p, id, None).await?;
    let expire_old_in_secs = body
        .json()
        .or_else(|e| if body.is_empty() { Ok(&[][..]) } else { Err(e) })
        .and_then(|b| parse_roll(b).map_err(ApiError::input))?;
    if target.status(ctx.now) != KeyStatus::Active {
        return Err(key_inactive());
    }
    let plain = PlainKey::generate(&ctx.config.key_prefix, target.environment, &mut OsRandom);
    let record = KeyRecord {
        id: KeyId::generate(&mut OsRandom),
        prefix: plain.display_prefix().to_owned(),
        created_at: ctx.now,
        updated_at: ctx.now,
        disabled_at: None,
        last_used: None,
        renewed_at: None,
        leaked: None,
        // Credits go with the key: the new one starts with what the old one has left.
        rolled_from: Some(target.id.clone()),
        ..target.clone()
    };
    let new = issue_key(
        ctx,
        record,
        plain.hash(),
        &manager.permissions,
        Some(origin.clone()),
    )
    .await?;
    let call = service::audited(
        KeyCall::Roll {
            manager: manager.clone(),
            expire_old_in_secs,
            new_key_id: new.id.clone(),
        },
        Some(origin.clone()),
    );
    let rolled = change(ctx, &target.id, &call).await;
    if let Err(e) = rolled {
        match service::revoke_key(&ctx.stores, &new.team_id, &new.id, manager, Some(origin)).await {
            Ok(Revoked::Done { .. }) | Ok(Revoked::NotFound) => {}
            other => console_error!("undoing the new key of a failed roll: {other:?}"),
        }
        return Err(e);
    }
    json(
        201,
        &CreatedKeyView {
            view: new.view(ctx.now),
            key: plain.expose_secret(),
        },
    )
}

async fn team_limits(ctx: &Ctx, team_id: &TeamId) -> Result<TeamLimits, ApiError> {
    Ok(ask(ctx, team_id, GetTeam {}, "team", team_id).await?.limits)
}

pub async fn update(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult {
    let body = read_body(req).await?;
    let p = present(ctx, req).await?;
    let patch: Result<KeyPatch, ApiError> = body
        .json()
        .and_then(|b| parse_key_patch(b, ctx.now).map_err(ApiError::input));
    let new_perms = patch.as_ref().ok().and_then(|pt| pt.permissions.as_ref());
    let (target, manager, origin) = manage(ctx, req, &p, id, new_perms).await?;
    let patch = patch?;
    // A new rate must stay under the team's ceiling: the key object resolves the new policy
    // (against the key's current one) and checks it there.
    let limits = match patch.rate_limit {
        Some(_) => Some(team_limits(ctx, &target.team_id).await?),
        None => None,
    };
    let call = KeyCall::Update {
        patch: Box::new(patch),
        manager,
        limits,
    };
    change(ctx, &target.id, &service::audited(call, Some(origin))).await
}

pub async fn disable(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let p = present(ctx, req).await?;
    let (target, manager, origin) = manage(ctx, req, &p, id, None).await?;
    let call = service::audited(KeyCall::Disable { manager }, Some(origin));
    change(ctx, &target.id, &call).await
}

pub async fn delete(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let p = present(ctx, req).await?;
    let (target, manager, origin) = manage(ctx, req, &p, id, None).await?;
    match service::revoke_key(
        &ctx.stores,
        &target.team_id,
        &target.id,
        manager,
        Some(origin),
    )
    .await?
    {
        Revoked::Done { follow_up } => {
            for e in follow_up {
                // Revoked all the same: a stale index entry leads to an empty object, which
                // answers invalid_key. The key object's outbox retries the removal.
                console_error!("cleaning up after deleting {id} failed: {}", e.0);
            }
            no_content()
        }
        Revoked::NotFound | Revoked::Refused(Denial::OutsideProject) => Err(key_not_found(id)),
        Revoked::Refused(denial) => Err(ApiError::from_denial(&denial, None)),
    }
}
