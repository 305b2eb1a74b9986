//! `POST /v1/verify` (for product backends: the key in the body is the credential) and
//! `GET /v1/rate-limit` (the caller's windows, not counted).

use super::auth::{check, confirm, find_key, present, Credential, KeyRejection};
use super::ctx::{internal, json, read_body_or, ApiResult, Ctx};
use super::problem::ApiError;
use super::verification::requirement;
pub use super::verification::Verdict;
use crate::core::access::{Denial, Requirement};
use crate::core::input::parse_verify;
use crate::core::ratelimit::{LimitState, WindowState};
use crate::core::time::Timestamp;
use serde::Serialize;
use worker::{Request, Response};

/// Verifies a key as the verify body (JSON) asks, counting it as a request of the key: the one
/// path of `POST /v1/verify` and of the service binding's `verify`. An input error is the
/// `400` problem; every answer about the key is a verdict.
pub async fn decide(ctx: &Ctx, body: &[u8]) -> Result<Verdict, ApiError> {
    let input = parse_verify(body).map_err(ApiError::input)?;
    let presented = match find_key(ctx, &input.key).await {
        Ok(p) => p,
        Err(KeyRejection::Store(e)) => return Err(e.into()),
        Err(KeyRejection::Malformed(_)) => return Ok(Verdict::Refused("malformed_key")),
        Err(KeyRejection::Unknown) => return Ok(Verdict::Refused(Denial::InvalidKey.code())),
    };
    let requirement = requirement(&input);
    Ok(Verdict::of(check(ctx, &presented, requirement).await?))
}

/// Always `200` for a well-formed request: the answer is in `valid` and `code`.
pub async fn verify(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body_or(req, ctx.pre_read.take()).await?;
    let verdict = decide(ctx, body.json()?).await?;
    let json = verdict
        .to_json()
        .map_err(|e| internal("serializing a verification", e))?;
    let mut resp = Response::ok(json).map_err(|e| internal("a response", e))?;
    resp.headers_mut()
        .set("Content-Type", "application/json")
        .map_err(|e| internal("a response", e))?;
    Ok(resp)
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
    /// Minute, hour, and the month for a key with a monthly quota.
    windows: Vec<Window>,
}

fn rate_limit_body(l: &LimitState) -> RateLimitBody {
    let b = Window::from(l.binding());
    RateLimitBody {
        limit: b.limit,
        remaining: b.remaining,
        reset: b.reset,
        reset_at: b.reset_at,
        windows: l.windows().into_iter().map(Window::from).collect(),
    }
}

/// The caller's windows. Needs no permission and is not counted.
pub async fn rate_limit(ctx: &Ctx, req: &Request) -> ApiResult {
    let p = present(ctx, req).await?;
    json(200, &windows(ctx, &p).await?)
}

/// A key's windows, as `GET /v1/rate-limit` answers them (refusals as its problems): the one
/// path of that endpoint and of the service binding's `rateLimit`.
pub async fn windows(ctx: &Ctx, credential: &Credential) -> Result<impl Serialize, ApiError> {
    let caller = confirm(ctx, credential, Requirement::default()).await?;
    caller.key()?;
    let limit = ctx
        .limit
        .get()
        .ok_or_else(|| internal("rate limit", "a confirmed key without windows"))?;
    Ok(rate_limit_body(&limit))
}
