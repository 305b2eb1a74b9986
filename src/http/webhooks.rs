//! `/v1/webhooks`, `/v1/monitoring` and `/v1/audit-log` (the events objects' routes). Webhooks: a team's endpoints (in its team object), their secrets (shown once: on
//! creation and rotation), a test event, the delivery log and manual retries. Delivery itself
//! runs in the team object's alarm (`objects::team`), never on a request's path.

use super::auth::{authorize, authorize_team_write};
use super::ctx::{json, no_content, query_pairs, read_body, ApiResult, Ctx};
use super::org::{ask, known};
use super::problem::ApiError;
use crate::core::audit::parse_audit_query;
use crate::core::events::{event, random_event_id};
use crate::core::ids::TeamId;
use crate::core::ids::WebhookId;
use crate::core::input::{parse_endpoint_patch, parse_new_endpoint, InputError};
use crate::core::page::unknown_param;
use crate::core::permission::needs as perm;
use crate::core::random::OsRandom;
use crate::core::team::webhooks::{Endpoint, EndpointView};
use crate::core::webhooks::new_secret;
use crate::storage::events_protocol::*;
use crate::storage::team_protocol::{CountExpiring, GetTeam};
use serde::Serialize;
use worker::Request;

const WEBHOOK: &str = "webhook";

/// [`ask_events`] for a change: the events object writes its audit entry with it.
async fn change_events<Q: EventsRequest>(
    ctx: &Ctx,
    caller: &super::auth::Caller,
    req: &Request,
    q: Q,
    id: &str,
) -> Result<Q::Reply, ApiError> {
    let origin = caller.origin(ctx, req);
    ctx.stores
        .events_audited(&caller.team_id, q, origin)
        .await?
        .map_err(|r| ApiError::refused(r, WEBHOOK, id))
}

/// One call to the team's events object; a refusal becomes its 4xx.
async fn ask_events<Q: EventsRequest>(
    ctx: &Ctx,
    team_id: &TeamId,
    q: Q,
    what: &str,
    id: &str,
) -> Result<Q::Reply, ApiError> {
    ctx.stores
        .events(team_id, q)
        .await?
        .map_err(|r| ApiError::refused(r, what, id))
}

/// `ALLOW_INSECURE_WEBHOOKS = "true"`: `http://` and private hosts too (local development and
/// tests only).
fn allow_insecure(ctx: &Ctx) -> bool {
    ctx.env
        .var("ALLOW_INSECURE_WEBHOOKS")
        .is_ok_and(|v| v.to_string() == "true")
}

/// An endpoint with its secret: only in the answers that made the secret.
#[derive(Serialize)]
struct WithSecret {
    #[serde(flatten)]
    endpoint: EndpointView,
    secret: String,
}

#[derive(Serialize)]
struct List<T> {
    data: Vec<T>,
    has_more: bool,
    next_cursor: Option<String>,
}

fn list<T: Serialize>(data: Vec<T>) -> ApiResult {
    json(
        200,
        &List {
            data,
            has_more: false,
            next_cursor: None,
        },
    )
}

pub async fn create(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let caller = authorize_team_write(ctx, req, perm::WEBHOOKS_WRITE).await?;
    let input = parse_new_endpoint(body.json()?, allow_insecure(ctx)).map_err(ApiError::input)?;
    let secret = new_secret(&mut OsRandom);
    let endpoint = Endpoint {
        id: WebhookId::generate(&mut OsRandom),
        url: input.url,
        events: input.events,
        description: input.description,
        enabled: true,
        disabled_reason: None,
        created_at: ctx.now,
        updated_at: ctx.now,
        secret: secret.clone(),
        previous_secret: None,
        failing_since: None,
    };
    let team = ask(ctx, &caller.team_id, GetTeam {}, "team", &caller.team_id).await?;
    let create = CreateWebhook {
        endpoint,
        max_webhooks: team.limits.max_webhooks,
    };
    let view = change_events(ctx, &caller, req, create, "").await?;
    json(
        201,
        &WithSecret {
            endpoint: view,
            secret,
        },
    )
}

pub async fn list_webhooks(ctx: &Ctx, req: &Request) -> ApiResult {
    let caller = authorize(ctx, req, perm::WEBHOOKS_READ).await?;
    list(ask_events(ctx, &caller.team_id, ListWebhooks {}, WEBHOOK, "").await?)
}

pub async fn get(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize(ctx, req, perm::WEBHOOKS_READ).await?;
    let id: WebhookId = known(WEBHOOK, id)?;
    json(
        200,
        &ask_events(
            ctx,
            &caller.team_id,
            GetWebhook { id: id.clone() },
            WEBHOOK,
            &id,
        )
        .await?,
    )
}

pub async fn update(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult {
    let body = read_body(req).await?;
    let caller = authorize_team_write(ctx, req, perm::WEBHOOKS_WRITE).await?;
    let patch = parse_endpoint_patch(body.json()?, allow_insecure(ctx)).map_err(ApiError::input)?;
    let id: WebhookId = known(WEBHOOK, id)?;
    let q = UpdateWebhook {
        id: id.clone(),
        patch,
        now: ctx.now,
    };
    json(200, &change_events(ctx, &caller, req, q, &id).await?)
}

pub async fn delete(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize_team_write(ctx, req, perm::WEBHOOKS_WRITE).await?;
    let id: WebhookId = known(WEBHOOK, id)?;
    change_events(ctx, &caller, req, DeleteWebhook { id: id.clone() }, &id).await?;
    no_content()
}

/// A new secret, shown once; the old one keeps signing beside it for 24 hours.
pub async fn rotate_secret(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize_team_write(ctx, req, perm::WEBHOOKS_WRITE).await?;
    let id: WebhookId = known(WEBHOOK, id)?;
    let secret = new_secret(&mut OsRandom);
    let q = RotateWebhookSecret {
        id: id.clone(),
        secret: secret.clone(),
        now: ctx.now,
    };
    let view = change_events(ctx, &caller, req, q, &id).await?;
    json(
        200,
        &WithSecret {
            endpoint: view,
            secret,
        },
    )
}

#[derive(Serialize)]
struct Queued {
    event_id: String,
}

/// `webhook.test` to this endpoint, now (delivered by the team object's alarm: `202`).
pub async fn test(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize_team_write(ctx, req, perm::WEBHOOKS_WRITE).await?;
    let id: WebhookId = known(WEBHOOK, id)?;
    let data = serde_json::json!({ "webhook_id": id.as_str() });
    let test = event(
        random_event_id(&mut OsRandom),
        "webhook.test",
        &caller.team_id,
        &data,
        ctx.now,
    );
    let q = TestWebhook {
        id: id.clone(),
        event: test,
        now: ctx.now,
    };
    let event_id = ask_events(ctx, &caller.team_id, q, WEBHOOK, &id).await?;
    json(202, &Queued { event_id })
}

/// The latest attempts, newest first: `?limit=1..100` (default 50).
pub async fn deliveries(ctx: &Ctx, req: &Request, id: &str) -> ApiResult {
    let caller = authorize(ctx, req, perm::WEBHOOKS_READ).await?;
    let mut limit = 50;
    for (k, v) in query_pairs(req) {
        match (k.as_str(), v.parse::<usize>()) {
            ("limit", Ok(n)) if (1..=100).contains(&n) => limit = n,
            ("limit", _) => {
                return Err(ApiError::input(InputError::invalid(
                    "limit",
                    "must be an integer from 1 to 100",
                )))
            }
            _ => return Err(ApiError::input(unknown_param(&k))),
        }
    }
    let id: WebhookId = known(WEBHOOK, id)?;
    let q = ListDeliveries {
        id: id.clone(),
        limit,
    };
    list(ask_events(ctx, &caller.team_id, q, WEBHOOK, &id).await?)
}

/// Sends a kept event to the endpoint again, now (`202`).
pub async fn retry(ctx: &Ctx, req: &Request, id: &str, event_id: &str) -> ApiResult {
    let caller = authorize_team_write(ctx, req, perm::WEBHOOKS_WRITE).await?;
    let id: WebhookId = known(WEBHOOK, id)?;
    let retry = RetryDelivery {
        id: id.clone(),
        event_id: event_id.chars().take(64).collect(),
        now: ctx.now,
    };
    ask_events(ctx, &caller.team_id, retry, "event", event_id).await?;
    json(
        202,
        &Queued {
            event_id: event_id.to_owned(),
        },
    )
}

/// `GET /v1/monitoring`: the team's last 24 hours, from its keys' reports (which may lag a
/// minute), and its keys expiring within 30 days (from its listing); a scoped caller's, of its
/// project's keys only.
pub async fn monitoring(ctx: &Ctx, req: &Request) -> ApiResult {
    let caller = authorize(ctx, req, perm::API_KEYS_READ).await?;
    if let Some((k, _)) = query_pairs(req).into_iter().next() {
        return Err(ApiError::input(unknown_param(&k)));
    }
    let project_id = caller.manager.project_id.clone();
    let to = crate::core::time::Timestamp::from_millis(ctx.now.millis() + 30 * 86_400_000);
    let count = CountExpiring {
        from: ctx.now,
        to,
        project_id: project_id.clone(),
    };
    let expiring = ask(ctx, &caller.team_id, count, "team", &caller.team_id).await?;
    let q = Monitor {
        keys_expiring_30d: expiring,
        project_id,
        now: ctx.now,
    };
    json(200, &ask_events(ctx, &caller.team_id, q, "team", "").await?)
}

/// `GET /v1/audit-log`: who changed what, newest first, with filters (`action`, `actor_id`,
/// `target_id`) and a cursor; a scoped caller sees its project's entries only.
pub async fn audit_log(ctx: &Ctx, req: &Request) -> ApiResult {
    let caller = authorize(ctx, req, perm::AUDIT_LOG_READ).await?;
    let query = parse_audit_query(&query_pairs(req)).map_err(ApiError::input)?;
    let q = AuditLog {
        query,
        project_id: caller.manager.project_id.clone(),
    };
    super::org::page(ask_events(ctx, &caller.team_id, q, "team", "").await?)
}
