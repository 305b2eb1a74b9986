//! Authentication: from the `Authorization` header to a confirmed caller.
//!
//! [`present`] does what needs no Durable Object: parse the header and the key (format and
//! checksum), hash it, and find it in the KV index. A malformed key or one KV does not know is
//! rejected here, so garbage traffic never reaches, or creates, an object. [`confirm`] then asks
//! the key's own object, which decides 401/403/429 in the contract's order and counts the request
//! in the same round trip.

use super::bearer::{bearer_token, BearerError};
use super::ctx::Ctx;
use super::problem::ApiError;
use crate::core::access::{Denial, Requirement, Scope};
use crate::core::key::{secrets_equal, KeyFormatError, KeyHash, PlainKey};
use crate::core::key_state::CheckResult;
use crate::core::model::{KeyRecord, UsageView};
use crate::core::permission::Permission;
use crate::core::ratelimit::LimitState;
use crate::storage::index::IndexEntry;
use crate::storage::key_protocol::{KeyCall, KeyReply};
use crate::storage::{Backend, StoreError};
use worker::Request;

/// A key that passed the edge checks: well-formed and known to the index.
pub struct Presented {
    pub hash: KeyHash,
    pub entry: IndexEntry,
}

/// A key its object has confirmed for this request.
pub struct Caller {
    pub record: KeyRecord,
    pub limit: LimitState,
    pub usage: UsageView,
}

fn token(req: &Request) -> Result<String, ApiError> {
    let header = req.headers().get("Authorization").ok().flatten();
    bearer_token(header.as_deref())
        .map(str::to_owned)
        .map_err(|e| match e {
            BearerError::Missing => ApiError::missing_key(),
            BearerError::Malformed => ApiError::malformed_header(),
        })
}

/// Why a key was not presented.
pub enum KeyRejection {
    /// It fails the format or the checksum: no storage was touched.
    Malformed(KeyFormatError),
    /// Well-formed, but the index does not know it.
    Unknown,
    Store(StoreError),
}

impl From<KeyRejection> for ApiError {
    fn from(e: KeyRejection) -> Self {
        match e {
            KeyRejection::Malformed(e) => ApiError::malformed_key(e),
            KeyRejection::Unknown => ApiError::invalid_key(),
            KeyRejection::Store(e) => e.into(),
        }
    }
}

/// Parses a key and finds it in the index: no Durable Object is touched.
pub async fn find_key(ctx: &Ctx, text: &str) -> Result<Presented, KeyRejection> {
    let key = PlainKey::parse(&ctx.config.key_prefix, text).map_err(KeyRejection::Malformed)?;
    let hash = key.hash();
    match ctx.stores.index_get(&hash).await {
        Ok(Some(entry)) => Ok(Presented { hash, entry }),
        Ok(None) => Err(KeyRejection::Unknown),
        Err(e) => Err(KeyRejection::Store(e)),
    }
}

pub async fn present(ctx: &Ctx, req: &Request) -> Result<Presented, ApiError> {
    let text = token(req)?;
    Ok(find_key(ctx, &text).await?)
}

/// Asks the key's object to check (and maybe count) this request; every later response carries
/// the key's windows.
pub async fn check(
    ctx: &Ctx,
    p: &Presented,
    requirement: Requirement,
) -> Result<CheckResult, ApiError> {
    let call = KeyCall::Check {
        hash: p.hash,
        requirement,
    };
    let result = match ctx.stores.key(&p.entry.key_id, &call).await? {
        KeyReply::Checked { result } => *result,
        other => {
            return Err(super::ctx::internal(
                "key object",
                format!("unexpected reply {other:?}"),
            ))
        }
    };
    if matches!(result, CheckResult::Invalid) {
        // The object holds no such key: a replay of a deleted key must not find a cached index
        // entry (and cost an object call) in this isolate again.
        ctx.stores.forget(&p.hash);
    }
    if let Some(limit) = result.limit() {
        ctx.limit.set(Some(limit));
    }
    Ok(result)
}

/// [`check`], for a request the key authenticates: a refusal is the request's answer.
pub async fn confirm(
    ctx: &Ctx,
    p: &Presented,
    requirement: Requirement,
) -> Result<Caller, ApiError> {
    match check(ctx, p, requirement).await? {
        CheckResult::Admitted {
            record,
            limit,
            usage,
            ..
        } => Ok(Caller {
            record: *record,
            limit,
            usage,
        }),
        CheckResult::Denied {
            denial: Denial::RateLimited,
            limit,
            ..
        } => Err(ApiError::rate_limited(
            limit.retry_after(ctx.now).unwrap_or(1),
        )),
        CheckResult::Denied { denial, .. } => Err(ApiError::from_denial(&denial, None)),
        CheckResult::Invalid => Err(ApiError::invalid_key()),
    }
}

/// A requirement of some permissions, counted.
pub fn needs(perms: &[&str]) -> Requirement {
    Requirement {
        permissions: perms.iter().map(|p| Permission::new_static(p)).collect(),
        count: true,
        ..Default::default()
    }
}

/// A write to a team-wide object (projects, roles, service accounts): the permissions, and a
/// key that is not scoped to a project (`403 project_mismatch` otherwise).
pub fn needs_team_wide(perms: &[&str]) -> Requirement {
    Requirement {
        scope: Scope::TeamWide,
        ..needs(perms)
    }
}

/// The usual case: present, then confirm with one permission, counting the request.
pub async fn authorize(ctx: &Ctx, req: &Request, perm: &str) -> Result<Caller, ApiError> {
    let p = present(ctx, req).await?;
    confirm(ctx, &p, needs(&[perm])).await
}

/// [`authorize`] for a write to a team-wide object.
pub async fn authorize_team_write(
    ctx: &Ctx,
    req: &Request,
    perm: &str,
) -> Result<Caller, ApiError> {
    let p = present(ctx, req).await?;
    confirm(ctx, &p, needs_team_wide(&[perm])).await
}

/// The operator endpoints: only the `ADMIN_TOKEN` secret opens them. An API key is refused
/// with `403` (it is a real credential, just not for this), anything else with `401`.
pub fn operator(ctx: &Ctx, req: &Request) -> Result<(), ApiError> {
    let text = token(req)?;
    let admin = ctx
        .env
        .secret("ADMIN_TOKEN")
        .map(|s| s.to_string())
        .or_else(|_| ctx.env.var("ADMIN_TOKEN").map(|v| v.to_string()))
        .ok()
        .filter(|t| !t.is_empty());
    let Some(admin) = admin else {
        return Err(ApiError::operator_token_unset());
    };
    if secrets_equal(&text, &admin) {
        return Ok(());
    }
    if PlainKey::parse(&ctx.config.key_prefix, &text).is_ok() {
        return Err(ApiError::forbidden(
            "team endpoints take the operator token (ADMIN_TOKEN), not an API key",
        ));
    }
    Err(ApiError::invalid_operator_token())
}
