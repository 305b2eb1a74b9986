//! Authentication: from the request's credentials to a confirmed caller, through one path for
//! both kinds of credential, so every rule (no escalation, project scope, `404` across teams)
//! holds for members exactly as for keys.
//!
//! [`present`] reads the credential. An API key (`Authorization: Bearer` or `X-API-Key`): parse it (format and
//! checksum), hash it, find it in the KV index, with no Durable Object touched, so garbage
//! traffic never reaches, or creates, an object. A session (the `__Host-keygate_session`
//! cookie): the cross-site check for changes, then one call to the team's object, which answers
//! the member with their role as it is now (so a logout, removal or role change is seen by the
//! very next request). Both at once is a `400`.
//!
//! [`confirm`] then decides 401/403/429 in the contract's order: for a key, its own object does,
//! counting the request in the same round trip; for a member, the same decision
//! (`Manager::decide`) runs here on the role's permissions, and nothing is counted.

use super::credentials::{key_token, session_cookie, BearerError};
use super::ctx::Ctx;
use super::problem::ApiError;
use crate::core::access::{Denial, Manager, Requirement, Scope};
use crate::core::audit::{Actor as AuditActor, ActorKind, Origin};
use crate::core::ids::TeamId;
use crate::core::key::{KeyFormatError, KeyHash, PlainKey};
use crate::core::key_state::CheckResult;
use crate::core::members::{Changer, Inviter, MemberView};
use crate::core::model::Team;
use crate::core::model::{KeyRecord, UsageView};
use crate::core::permission::Permission;
use crate::storage::index::IndexEntry;
use crate::storage::key_protocol::{KeyCall, KeyReply};
use crate::storage::{Backend, StoreError};
use worker::Request;

mod operator;
mod session;
pub use operator::{operator, operator_or, OperatorOr};
use session::session;

/// A key that passed the edge checks: well-formed and known to the index.
pub struct Presented {
    pub hash: KeyHash,
    pub entry: IndexEntry,
}

/// A live session: the member as they are now, their team, and the session's token hash.
#[derive(Clone)]
pub struct SessionCaller {
    pub team_id: TeamId,
    pub team: Team,
    pub member: MemberView,
    pub session_hash: String,
    /// For a session a portal link opened: where "Back to …" leads.
    pub return_url: Option<String>,
    /// The member's second factor and the team's requirement.
    pub totp: crate::core::totp::TotpStatus,
}

/// What a request authenticates with.
pub enum Credential {
    Key(Presented),
    Session(SessionCaller),
}

impl Credential {
    pub fn team_id(&self) -> &TeamId {
        match self {
            Credential::Key(p) => &p.entry.team_id,
            Credential::Session(s) => &s.team_id,
        }
    }
}

/// Who acts, once confirmed.
pub enum Actor {
    /// A key, with what its object answered: the record, its windows and usage.
    Key {
        record: Box<KeyRecord>,
        usage: UsageView,
    },
    Member(Box<SessionCaller>),
}

/// A caller confirmed for this request: its team, what it may do (`manager`: permissions,
/// environment, project), and who it is.
pub struct Caller {
    pub team_id: TeamId,
    pub manager: Manager,
    pub actor: Actor,
}

impl Caller {
    /// The calling key, for the endpoints about it (`/v1/api-keys/current`, `/v1/rate-limit`).
    pub fn key(&self) -> Result<(&KeyRecord, &UsageView), ApiError> {
        match &self.actor {
            Actor::Key { record, usage } => Ok((record, usage)),
            Actor::Member(_) => Err(ApiError::key_required()),
        }
    }

    /// The signed-in member, for the endpoints about them (`/v1/me`).
    pub fn member(&self) -> Result<&SessionCaller, ApiError> {
        match &self.actor {
            Actor::Member(m) => Ok(m),
            Actor::Key { .. } => Err(ApiError::session_required()),
        }
    }

    /// Where a change by this caller comes from, for its audit entry: the key or member, the
    /// client's address (`CF-Connecting-IP`), country and user agent.
    pub fn origin(&self, ctx: &Ctx, req: &Request) -> Origin {
        let actor = match &self.actor {
            Actor::Key { record, .. } => AuditActor {
                kind: ActorKind::Key,
                id: Some(record.id.to_string()),
            },
            Actor::Member(m) => AuditActor {
                kind: ActorKind::Member,
                id: Some(m.member.id.to_string()),
            },
        };
        request_origin(ctx, req, actor)
    }

    /// Who changes members: a member's role, or what the key holds (giving a role needs it).
    pub fn changer(&self) -> Changer {
        match &self.actor {
            Actor::Key { record, .. } => Changer::Key(record.permissions.clone()),
            Actor::Member(m) => Changer::Member(m.member.role),
        }
    }

    /// Who an invitation made by this caller is judged against when it is accepted.
    pub fn inviter(&self) -> Inviter {
        match &self.actor {
            Actor::Key { record, .. } => Inviter::Key(record.id.clone()),
            Actor::Member(m) => Inviter::Member(m.member.id.clone()),
        }
    }
}

/// An audit entry's origin: `actor`, with the request's client address (`CF-Connecting-IP`),
/// country and user agent.
pub fn request_origin(ctx: &Ctx, req: &Request, actor: AuditActor) -> Origin {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    Origin::new(
        actor,
        header("CF-Connecting-IP").as_deref(),
        ctx.country().as_deref(),
        header("User-Agent").as_deref(),
    )
}

/// The key (or operator token) of a request: `Authorization: Bearer` or `X-API-Key`.
fn token(req: &Request) -> Result<String, ApiError> {
    let headers = req.headers();
    let authorization = headers.get("Authorization").ok().flatten();
    let api_key = headers.get("X-API-Key").ok().flatten();
    key_token(authorization.as_deref(), api_key.as_deref())
        .map(str::to_owned)
        .map_err(|e| match e {
            BearerError::Missing => ApiError::missing_key(),
            BearerError::Malformed => ApiError::malformed_header(),
            BearerError::Ambiguous => ApiError::two_keys(),
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

pub async fn present(ctx: &Ctx, req: &Request) -> Result<Credential, ApiError> {
    let headers = req.headers();
    let authorization = headers
        .get("Authorization")
        .ok()
        .flatten()
        .or_else(|| headers.get("X-API-Key").ok().flatten());
    let cookie_header = headers.get("Cookie").ok().flatten();
    let cookie = session_cookie(cookie_header.as_deref());
    match (authorization, cookie) {
        (Some(_), Some(_)) => Err(ApiError::two_credentials()),
        (None, Some(c)) => Ok(Credential::Session(session(ctx, req, c).await?)),
        _ => Ok(Credential::Key(find_key(ctx, &token(req)?).await?)),
    }
}

/// Asks the key's object to check (and maybe count) this request; every later response carries
/// the key's windows.
pub async fn check(
    ctx: &Ctx,
    p: &Presented,
    mut requirement: Requirement,
) -> Result<CheckResult, ApiError> {
    // The country travels in the call the request makes anyway: the key's locations cost the
    // verification path nothing more.
    if requirement.count {
        requirement.country = ctx.country();
    }
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

/// Confirms the caller for this request: for a key, [`check`] (its object decides and counts);
/// for a member, the same decision on their role's permissions. A refusal is the request's
/// answer.
pub async fn confirm(
    ctx: &Ctx,
    credential: &Credential,
    mut requirement: Requirement,
) -> Result<Caller, ApiError> {
    let p = match credential {
        Credential::Key(p) => {
            // A bearer key's address is the connection's; verify's is the body's `ip`.
            requirement.ip = ctx.client_ip();
            p
        }
        Credential::Session(s) => {
            let manager = Manager::member(s.member.role);
            if let Some(denial) = manager.decide(&requirement) {
                return Err(ApiError::from_denial(&denial, None));
            }
            return Ok(Caller {
                team_id: s.team_id.clone(),
                manager,
                actor: Actor::Member(Box::new(s.clone())),
            });
        }
    };
    match check(ctx, p, requirement).await? {
        CheckResult::Admitted { record, usage, .. } => Ok(Caller {
            team_id: record.team_id.clone(),
            manager: Manager::of(&record),
            actor: Actor::Key { record, usage },
        }),
        CheckResult::Denied {
            denial: denial @ (Denial::RateLimited | Denial::QuotaExceeded),
            limit,
            ..
        } => Err(ApiError::from_denial(
            &denial,
            Some(limit.retry_after(ctx.now).unwrap_or(1)),
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
