//! `POST /v1/verify` (for product backends: the key in the body is the credential) and
//! `GET /v1/rate-limit` (the caller's windows, not counted).

use super::auth::{check, confirm, find_key, present, Credential, KeyRejection};
use super::ctx::{internal, json, read_body_or, ApiResult, Ctx};
use super::front::{Answer, Limit, Verification};
use super::headers::rate_limit_headers;
use super::problem::ApiError;
use crate::core::access::{Denial, Requirement, Scope};
use crate::core::input::{parse_verify, VerifyRequest};
use crate::core::key_state::CheckResult;
use crate::core::model::KeyRecord;
use crate::core::ratelimit::{LimitState, WindowState};
use crate::core::time::Timestamp;
use serde::Serialize;
use worker::{Request, Response};

fn code(d: Option<&Denial>) -> &'static str {
    d.map_or("valid", Denial::code)
}

/// What a verification found: refused before any object was asked (`malformed_key`,
/// `invalid_key`), or the key's object's decision with the key as it stands. One value for both
/// ways in: `POST /v1/verify` serializes it as its body, the `Verifier` entrypoint (`rpc`) hands
/// the same JSON object to the calling Worker.
pub enum Verdict {
    Refused(&'static str),
    Checked {
        denial: Option<Denial>,
        record: Box<KeyRecord>,
        limit: LimitState,
    },
}

impl Verdict {
    fn body(&self) -> Verification<'_> {
        match self {
            Verdict::Refused(code) => Verification {
                code,
                ..Default::default()
            },
            Verdict::Checked {
                denial,
                record,
                limit,
            } => {
                let b = limit.binding();
                Verification {
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
                }
            }
        }
    }

    /// The answer's JSON text, as `POST /v1/verify` sends it.
    pub fn to_json(&self) -> Result<String, ApiError> {
        serde_json::to_string(&self.body()).map_err(|e| internal("serializing a verification", e))
    }
}

/// Verifies a key as the verify body (JSON) asks, counting it as a request of the key: the one
/// path of `POST /v1/verify` and of the service binding's `verify`. An input error is the
/// `400` problem; every answer about the key is a verdict.
pub async fn decide(ctx: &Ctx, body: &[u8]) -> Result<Verdict, ApiError> {
    decide_parsed(ctx, parse_verify(body).map_err(ApiError::input)?).await
}

/// [`decide`] for a body already parsed (the front parsed it to find the key well-formed).
async fn decide_parsed(ctx: &Ctx, input: VerifyRequest) -> Result<Verdict, ApiError> {
    let presented = match find_key(ctx, &input.key).await {
        Ok(p) => p,
        Err(KeyRejection::Store(e)) => return Err(e.into()),
        Err(KeyRejection::Malformed(_)) => return Ok(Verdict::Refused("malformed_key")),
        Err(KeyRejection::Unknown) => return Ok(Verdict::Refused(Denial::InvalidKey.code())),
    };
    let requirement = Requirement {
        permissions: input.permissions.iter().cloned().collect(),
        scope: input.project_id.map_or(Scope::Any, Scope::Project),
        count: true,
        cost: input.cost,
        ip: input.ip,
        ..Default::default()
    };
    Ok(match check(ctx, &presented, requirement).await? {
        CheckResult::Invalid => Verdict::Refused(Denial::InvalidKey.code()),
        CheckResult::Denied {
            denial,
            record,
            limit,
        } => Verdict::Checked {
            denial: Some(denial),
            record,
            limit,
        },
        CheckResult::Admitted { record, limit, .. } => Verdict::Checked {
            denial: None,
            record,
            limit,
        },
    })
}

/// Always `200` for a well-formed request: the answer is in `valid` and `code`.
pub async fn verify(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body_or(req, ctx.pre_read.take()).await?;
    let verdict = decide(ctx, body.json()?).await?;
    let mut resp = Response::ok(verdict.to_json()?).map_err(|e| internal("a response", e))?;
    resp.headers_mut()
        .set("Content-Type", "application/json")
        .map_err(|e| internal("a response", e))?;
    Ok(resp)
}

/// `POST /v1/verify` once the front has found the key well-formed and read the body: the
/// same answer as [`verify`] through the full path (route, `Ctx::finish`, the headers every
/// response carries), framed as one string (`Answer::encode`) so the entry builds the
/// `Response` with one crossing: no `worker::Request` conversion, no `Headers.set` per header.
pub async fn direct(
    request: worker::worker_sys::web_sys::Request,
    env: &worker::Env,
    input: VerifyRequest,
) -> String {
    let now = Timestamp::from_millis(worker::Date::now().as_millis() as i64);
    let answer = match super::ready(env) {
        Err(e) => Answer::problem(&e),
        Ok(config) => match crate::storage::Stores::from_env(env) {
            Err(_) => Answer::problem(&ApiError::misconfigured(
                "a KV or Durable Object binding is missing",
            )),
            Ok(stores) => {
                let ctx = Ctx::for_request(stores, config, request, env, now);
                let result = match decide_parsed(&ctx, input).await {
                    Ok(verdict) => verdict.to_json(),
                    Err(e) => Err(e),
                };
                let mut a = match result {
                    Ok(json) => Answer::new(200, "application/json", json),
                    Err(e) => Answer::problem(&e),
                };
                if let Some(limit) = ctx.limit.get() {
                    a.headers.extend(rate_limit_headers(&limit, now));
                }
                a
            }
        },
    };
    answer.encode()
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
