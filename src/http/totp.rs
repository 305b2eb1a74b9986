//! Two-factor sign-in for the signed-in member (`/v1/me/totp…`): the secret is made and sealed
//! here, shown once; the team object keeps it sealed and checks the codes (`core::team::totp`).
//! Nothing of a secret, a code or a recovery code reaches a log, an error or the audit log.

use super::auth::{confirm as confirm_caller, needs, present, Caller};
use super::ctx::{json, read_body, ApiResult, Ctx};
use super::org::{ask, ask_audited};
use super::password;
use super::problem::ApiError;
use crate::core::email_index::{derive_key, TOTP_SEAL_INFO};
use crate::core::input::{Body, InputError};
use crate::core::random::OsRandom;
use crate::core::totp::{
    base32, new_recovery_codes, new_secret, otpauth_url, recovery_hash, seal, SealKey,
};
use crate::storage::team_protocol::{TotpConfirm, TotpDisable, TotpEnrol};
use serde::Serialize;
use worker::Request;

const MEMBER: &str = "member";

/// The key sealing TOTP secrets, derived from the pepper (HKDF).
pub fn seal_key(ctx: &Ctx) -> Result<SealKey, ApiError> {
    Ok(SealKey(derive_key(&password::pepper(ctx)?, TOTP_SEAL_INFO)))
}

async fn member(ctx: &Ctx, req: &Request) -> Result<Caller, ApiError> {
    let p = present(ctx, req).await?;
    let caller = confirm_caller(ctx, &p, needs(&[])).await?;
    caller.member()?;
    Ok(caller)
}

fn code_of(bytes: &[u8]) -> Result<String, ApiError> {
    let b = Body::parse(bytes, &["code"]).map_err(ApiError::input)?;
    b.required_string("code")
        .map_err(ApiError::input)
        .and_then(|c| {
            if c.len() > 64 {
                Err(ApiError::input(InputError::invalid("code", "is too long")))
            } else {
                Ok(c)
            }
        })
}

#[derive(Serialize)]
struct Enrolment {
    secret: String,
    otpauth_url: String,
}

/// `POST /v1/me/totp`: a new secret, pending until confirmed (a new one replaces it). The
/// secret is shown this once.
pub async fn enrol(ctx: &Ctx, req: &Request) -> ApiResult {
    let caller = member(ctx, req).await?;
    let m = caller.member()?;
    let secret = new_secret(&mut OsRandom);
    let q = TotpEnrol {
        member_id: m.member.id.clone(),
        sealed: seal(&seal_key(ctx)?.0, &secret, &mut OsRandom),
    };
    ask(ctx, &m.team_id, q, MEMBER, &m.member.id).await?;
    json(
        200,
        &Enrolment {
            secret: base32(&secret),
            otpauth_url: otpauth_url(&m.team.name, m.member.email.as_str(), &secret),
        },
    )
}

#[derive(Serialize)]
struct Recovery {
    recovery_codes: Vec<String>,
}

/// `POST /v1/me/totp/confirm {code}`: turns two factors on; the recovery codes are shown this
/// once (stored hashed).
pub async fn confirm(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let caller = member(ctx, req).await?;
    let m = caller.member()?;
    let code = code_of(body.json()?)?;
    let codes = new_recovery_codes(&mut OsRandom);
    let q = TotpConfirm {
        member_id: m.member.id.clone(),
        code,
        recovery: codes.iter().map(|c| recovery_hash(c)).collect(),
        totp_key: seal_key(ctx)?,
        now: ctx.now,
    };
    let origin = caller.origin(ctx, req);
    ask_audited(ctx, &m.team_id, q, origin, MEMBER, &m.member.id).await?;
    json(
        200,
        &Recovery {
            recovery_codes: codes,
        },
    )
}

/// `POST /v1/me/totp/disable {code}`: turns two factors off with a current code or a recovery
/// code.
pub async fn disable(ctx: &Ctx, req: &mut Request) -> ApiResult {
    let body = read_body(req).await?;
    let caller = member(ctx, req).await?;
    let m = caller.member()?;
    let code = code_of(body.json()?)?;
    let q = TotpDisable {
        member_id: m.member.id.clone(),
        code,
        totp_key: seal_key(ctx)?,
        now: ctx.now,
    };
    let origin = caller.origin(ctx, req);
    ask_audited(ctx, &m.team_id, q, origin, MEMBER, &m.member.id).await?;
    super::ctx::no_content()
}
