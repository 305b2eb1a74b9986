//! `/v1/teams`: the operator's endpoints. A team starts with one `live` key holding `admin:*`.

use super::auth::{needs_team_wide, operator, operator_or, OperatorOr};
use super::ctx::{json, read_body, ApiResult, Ctx};
use super::keys::issue_key;
use super::org::ask;
use super::org::known;
use super::password::hash_new;
use super::problem::ApiError;
use crate::core::ids::{KeyId, MemberId, TeamId};
use crate::core::input::{parse_new_team, parse_team_patch};
use crate::core::key::{Environment, PlainKey};
use crate::core::limits::{LimitsPatch, TeamLimits};
use crate::core::members::{Member, MemberRole, MemberView};
use crate::core::model::{CreatedKeyView, KeyRecord, Team};
use crate::core::permission::{Permission, PermissionSet};
use crate::core::random::OsRandom;
use crate::core::team::TeamRefusal;
use crate::core::team_settings::{
    may_change, may_change_settings, may_require_totp, TeamChange, TeamChanger,
};
use crate::storage::team_protocol::{Destroy, GetTeam, Init, UpdateTeam};
use crate::storage::Backend;
use serde::Serialize;
use worker::{console_error, Request};

#[derive(Serialize)]
struct CreatedTeam<'a> {
    team: &'a Team,
    api_key: CreatedKeyView<'a>,
    /// The first member (`owner`), when the operator gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<MemberView>,
}

pub async fn create(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    operator(ctx, req)?;
    let input = parse_new_team(body.json()?).map_err(ApiError::input)?;
    let owner = match &input.owner {
        Some(o) => Some(Member {
            id: MemberId::generate(&mut OsRandom),
            email: o.email.clone(),
            role: MemberRole::Owner,
            password: hash_new(ctx, &o.password).await?,
            created_at: ctx.now,
            last_login_at: None,
            external_id: None,
            name: None,
            totp: Default::default(),
        }),
        None => None,
    };
    let owner_view = owner.as_ref().map(Member::view);
    let team = Team {
        id: TeamId::generate(&mut OsRandom),
        name: input.name,
        created_at: ctx.now,
        limits: input.limits.apply(TeamLimits::default()),
        leak_policy: Default::default(),
        auto_disable_idle_days: None,
        branding: Default::default(),
        require_totp: false,
    };
    // The marker first: a team object never exists without it (see `Stores::team_exists`).
    ctx.stores.mark_team(&team.id).await?;
    ask(
        ctx,
        &team.id,
        Init {
            team: team.clone(),
            owner,
        },
        "team",
        "",
    )
    .await?;
    let admin = PermissionSet::new([Permission::new_static("admin:*")]);
    let plain = PlainKey::generate(&ctx.config.key_prefix, Environment::Live, &mut OsRandom);
    let record = KeyRecord {
        id: KeyId::generate(&mut OsRandom),
        team_id: team.id.clone(),
        name: "Admin key".into(),
        description: Some("The team's first key, made with the team.".into()),
        prefix: plain.display_prefix().to_owned(),
        environment: Environment::Live,
        permissions: admin.clone(),
        roles: Vec::new(),
        rate_limit: team.limits.first_key_rate(),
        project_id: None,
        service_account_id: None,
        metadata: None,
        created_at: ctx.now,
        updated_at: ctx.now,
        expires_at: None,
        disabled_at: None,
        last_used: None,
        auto_renew: false,
        rolled_from: None,
        renewed_at: None,
        leaked: None,
        credits: None,
        allowed_ips: None,
    };
    // The team's first key: made by the operator.
    let origin = operator_origin(ctx, req);
    let record = match issue_key(ctx, record, plain.hash(), &admin, Some(origin)).await {
        Ok(r) => r,
        Err(e) => {
            // A team without its first key is useless: take it back.
            if let Err(e2) = ctx.stores.team(&team.id, Destroy {}).await {
                console_error!("undoing team {} failed: {}", team.id, e2.0);
            } else if let Err(e2) = ctx.stores.unmark_team(&team.id).await {
                console_error!("removing team {}'s marker failed: {}", team.id, e2.0);
            }
            return Err(e);
        }
    };
    if let Some(o) = &owner_view {
        super::signin::index(ctx, &o.email.key(), &team.id).await;
    }
    json(
        201,
        &CreatedTeam {
            team: &team,
            api_key: CreatedKeyView {
                view: record.view(ctx.now),
                key: plain.expose_secret(),
            },
            owner: owner_view,
        },
    )
}

pub async fn get(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    operator(ctx, req)?;
    let id = known::<TeamId>("team", id)?;
    let team = ask(ctx, &id, GetTeam {}, "team", &id).await?;
    mark_existing(ctx, &id).await?;
    // Members made before the email index become findable by their email (README, "Upgrading").
    super::signin::index_team(ctx, &id).await?;
    json(200, &team)
}

/// A team made before teams had a KV marker gets one when the operator reads or changes it
/// (the upgrade path: README, "Upgrading"); a team that has one costs a cached read.
async fn mark_existing(ctx: &Ctx, id: &TeamId) -> Result<(), ApiError> {
    if !ctx.stores.team_exists(id).await? {
        ctx.stores.mark_team(id).await?;
    }
    Ok(())
}

/// `PATCH /v1/teams/{id}`: the operator renames a team or changes its limits. Lowering a limit
/// below what the team holds refuses new creates; nothing existing is removed or slowed. A
/// credential of the team itself holding `admin:*` may change the team's own settings
/// (`core::team_settings`); another team's id is `404` to it.
pub async fn update(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult {
    let body = read_body(req).await?;
    let who = operator_or(ctx, req, needs_team_wide(&["admin:*"])).await?;
    let input = parse_team_patch(body.json()?).map_err(ApiError::input)?;
    let id = known::<TeamId>("team", id)?;
    let origin = match &who {
        OperatorOr::Operator => operator_origin(ctx, req),
        OperatorOr::Team(caller) => {
            if caller.team_id != id {
                return Err(ApiError::refused(TeamRefusal::NotFound, "team", &id));
            }
            if !may_change_settings(caller.manager.environment) {
                return Err(ApiError::forbidden(
                    "a test key can only create and manage test keys; a team's settings reach its live keys",
                ));
            }
            let change = TeamChange {
                name: input.name.is_some(),
                limits: input.limits != LimitsPatch::default(),
            };
            may_change(TeamChanger::TeamAdmin, change).map_err(|field| {
                ApiError::forbidden(format!(
                    "only the operator changes a team's `{field}`; `admin:*` changes its settings"
                ))
            })?;
            // `require_totp`: an owner's session only (an `admin:*` key or an admin is no owner).
            let owner = caller
                .member()
                .is_ok_and(|m| m.member.role == MemberRole::Owner);
            if input.require_totp.is_some() && !may_require_totp(TeamChanger::TeamAdmin, owner) {
                return Err(ApiError::refused(
                    TeamRefusal::Member(crate::core::members::MemberDenial::OwnerOnly),
                    "",
                    "",
                ));
            }
            caller.origin(ctx, req)
        }
    };
    let q = UpdateTeam {
        name: input.name,
        limits: input.limits,
        leak_policy: input.leak_policy,
        branding: input.branding,
        require_totp: input.require_totp,
        auto_disable_idle_days: input
            .auto_disable_idle_days
            .map(|days| crate::core::idle::Setting { days }),
    };
    let team = super::org::ask_audited(ctx, &id, q, origin, "team", &id).await?;
    mark_existing(ctx, &id).await?;
    json(200, &team)
}

/// The operator, for the audit entries of what the operator endpoints change.
fn operator_origin(ctx: &Ctx, req: &Request) -> crate::core::audit::Origin {
    use crate::core::audit::{Actor, ActorKind};
    let actor = Actor {
        kind: ActorKind::Operator,
        id: None,
    };
    super::auth::request_origin(ctx, req, actor)
}
