//! `/v1/teams`: the operator's endpoints. A team starts with one `live` key holding `admin:*`.

use super::auth::operator;
use super::ctx::{json, read_body, ApiResult, Ctx};
use super::keys::issue_key;
use super::org::ask;
use super::org::known;
use super::password::hash_new;
use super::problem::ApiError;
use crate::core::ids::{KeyId, MemberId, TeamId};
use crate::core::input::{parse_new_team, parse_team_patch};
use crate::core::key::{Environment, PlainKey};
use crate::core::limits::TeamLimits;
use crate::core::members::{Member, MemberRole, MemberView};
use crate::core::model::{CreatedKeyView, KeyRecord, Team};
use crate::core::permission::{Permission, PermissionSet};
use crate::core::random::OsRandom;
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
/// below what the team holds refuses new creates; nothing existing is removed or slowed.
pub async fn update(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult {
    let body = read_body(req).await?;
    let by_operator = operator(ctx, req);
    let cookie = req.headers().get("Cookie").ok().flatten();
    if super::credentials::session_cookie(cookie.as_deref()).is_none() {
        by_operator.clone()?;
    }
    let input = parse_team_patch(body.json()?).map_err(ApiError::input)?;
    let id = known::<TeamId>("team", id)?;
    let origin = match by_operator {
        Ok(()) => operator_origin(ctx, req),
        // An owner's session may set its own team's `require_totp` (and nothing else here).
        Err(e) => owner_of(ctx, req, &id, &input)
            .await
            .map_err(|o| o.unwrap_or(e))?,
    };
    let q = UpdateTeam {
        name: input.name,
        limits: input.limits,
        leak_policy: input.leak_policy,
        branding: input.branding,
        require_totp: input.require_totp,
    };
    let team = super::org::ask_audited(ctx, &id, q, origin, "team", &id).await?;
    mark_existing(ctx, &id).await?;
    json(200, &team)
}

/// The operator, for the audit entries of what the operator endpoints change.
/// A request by session to change `require_totp` of the member's own team: the member must be
/// an owner (`403 owner_required`); another team is `404`; any other field `403`. `Err(None)`:
/// no session at all (the operator's refusal stands).
async fn owner_of(
    ctx: &Ctx,
    req: &Request,
    id: &TeamId,
    input: &crate::core::input::TeamInput<Option<String>>,
) -> Result<crate::core::audit::Origin, Option<ApiError>> {
    use super::auth::{confirm, needs, present, Credential};
    let p = match present(ctx, req).await {
        Ok(p @ Credential::Session(_)) => p,
        Ok(_) => return Err(None),
        Err(e) => return Err(Some(e)),
    };
    let caller = confirm(ctx, &p, needs(&[])).await?;
    let m = caller.member()?;
    if &m.team_id != id {
        return Err(Some(ApiError::not_found(format!("no team `{id}`"))));
    }
    if m.member.role != MemberRole::Owner {
        return Err(Some(ApiError::refused(
            crate::core::team::TeamRefusal::Member(crate::core::members::MemberDenial::OwnerOnly),
            "",
            "",
        )));
    }
    let only_totp =
        input.name.is_none() && input.leak_policy.is_none() && input.limits == Default::default();
    if !only_totp {
        return Err(Some(ApiError::forbidden(
            "an owner's session may change only `require_totp`; the rest takes the operator token",
        )));
    }
    Ok(caller.origin(ctx, req))
}

fn operator_origin(ctx: &Ctx, req: &Request) -> crate::core::audit::Origin {
    use crate::core::audit::{Actor, ActorKind};
    let actor = Actor {
        kind: ActorKind::Operator,
        id: None,
    };
    super::auth::request_origin(ctx, req, actor)
}
