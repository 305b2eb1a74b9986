//! `POST /v1/verify` (for product backends: the key in the body is the credential) and
//! `GET /v1/rate-limit` (the caller's windows, not counted).

use super::auth::{check, confirm, find_key, present, KeyRejection};
use super::ctx::{json, read_body_or, ApiResult, Ctx};
use super::front::{Limit, Verification};
use super::problem::ApiError;
use crate::core::access::{Denial, Requirement, Scope};
use crate::core::input::parse_verify;
use crate::core::key_state::CheckResult;
use crate::core::ratelimit::{LimitState, WindowState};
use crate::core::time::Timestamp;
use serde::Serialize;
use worker::Request;

fn code(d: Option<&Denial>) -> &'static str {
    d.map_or("valid", Denial::code)
}

/// Always `200` for a well-formed request: the answer is in `valid` and `code`.
pub async fn verify(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body_or(req, ctx.pre_read.take()).await?;
    let input = parse_verify(body.json()?).map_err(ApiError::input)?;
    let presented = match find_key(ctx, &input.key).await {
        Ok(p) => p,
        Err(KeyRejection::Store(e)) => return Err(e.into()),
        Err(e) => {
            let code = match e {
                KeyRejection::Malformed(_) => "malformed_key",
                _ => Denial::InvalidKey.code(),
            };
            return json(
                200,
                &Verification {
                    code,
                    ..Default::default()
                },
            );
        }
    };
    let requirement = Requirement {
        permissions: input.permissions.iter().cloned().collect(),
        scope: input.project_id.map_or(Scope::Any, Scope::Project),
        count: true,
        ..Default::default()
    };
    let (denial, record, limit) = match check(ctx, &presented, requirement).await? {
        CheckResult::Invalid => {
            return json(
                200,
                &Verification {
                    code: Denial::InvalidKey.code(),
                    ..Default::default()
                },
            )
        }
        CheckResult::Denied {
            denial,
            record,
            limit,
        } => (Some(denial), record, limit),
        CheckResult::Admitted { record, limit, .. } => (None, record, limit),
    };
    let b = limit.binding();
    json(
        200,
        &Verification {
            valid: denial.is_none(),
            code: code(denial.as_ref()),
            key_id: Some(&record.id),
            team_id: Some(&record.team_id),
            name: Some(&record.name),
            environment: Some(record.environment),
            permissions: Some(&record.permissions),
            project_id: record.project_id.as_deref(),
            expires_at: record.expires_at,
            rate_limit: Some(Limit {
                limit: b.limit,
                remaining: b.remaining,
                reset: b.reset,
            }),
        },
    )
}

#[derive(Serialize)]
struct Window {
    name: &'static str,
    limit: u32,
    remaining: u32,
    reset: i64,
    reset_at: Timestamp,
}

impl From<&WindowState> for Window {
    fn from(w: &WindowState) -> Self {
        Window {
            name: w.name.as_str(),
            limit: w.limit,
            remaining: w.remaining,
            reset: w.reset,
            reset_at: Timestamp::from_secs(w.reset),
        }
    }
}

#[derive(Serialize)]
struct RateLimitBody {
    limit: u32,
    remaining: u32,
    reset: i64,
    reset_at: Timestamp,
    windows: [Window; 2],
}

fn rate_limit_body(l: &LimitState) -> RateLimitBody {
    let b = Window::from(l.binding());
    RateLimitBody {
        limit: b.limit,
        remaining: b.remaining,
        reset: b.reset,
        reset_at: b.reset_at,
        windows: [Window::from(&l.minute), Window::from(&l.hour)],
    }
}

/// The caller's windows. Needs no permission and is not counted.
pub async fn rate_limit(ctx: &Ctx, req: &Request) -> ApiResult {
    let p = present(ctx, req).await?;
    let caller = confirm(ctx, &p, Requirement::default()).await?;
    caller.key()?;
    let limit = ctx
        .limit
        .get()
        .ok_or_else(|| super::ctx::internal("rate limit", "a confirmed key without windows"))?;
    json(200, &rate_limit_body(&limit))
}
