//! The operator's credential (`ADMIN_TOKEN`), alone or beside a team's own.

use super::{confirm, present, token, Caller};
use crate::core::access::Requirement;
use crate::core::key::{secrets_equal, PlainKey};
use crate::http::credentials::session_cookie;
use crate::http::ctx::Ctx;
use crate::http::problem::ApiError;
use worker::Request;

/// Who calls an operator endpoint that a team's own credential may use too.
pub enum OperatorOr {
    Operator,
    Team(Caller),
}

/// The operator (the `ADMIN_TOKEN`), or else a key or session confirmed for `requirement`
/// (counted like any request of that key). A request carrying neither answers as [`operator`].
pub async fn operator_or(
    ctx: &Ctx,
    req: &Request,
    requirement: Requirement,
) -> Result<OperatorOr, ApiError> {
    let headers = req.headers();
    let key_header =
        headers.has("Authorization").unwrap_or(false) || headers.has("X-API-Key").unwrap_or(false);
    let cookie = headers.get("Cookie").ok().flatten();
    let has_session = session_cookie(cookie.as_deref()).is_some();
    let is_key = token(req)
        .ok()
        .is_some_and(|t| PlainKey::parse(&ctx.config.key_prefix, &t).is_ok());
    if is_key || (has_session && !key_header) {
        let p = present(ctx, req).await?;
        return Ok(OperatorOr::Team(confirm(ctx, &p, requirement).await?));
    }
    operator(ctx, req).map(|()| OperatorOr::Operator)
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
