//! The team's rules for a member's second factor (`core::totp` holds the codes): enrol (a
//! pending secret), confirm (the secret turned on, the recovery codes stored hashed), disable
//! (with a current code or a recovery code), and the team's requirement. Each runs in the team
//! object, so a code is checked and its step remembered in one step: two sign-ins racing with
//! one code cannot both pass. The sealed secret is opened here with the key the edge derives
//! from the pepper and hands in with the call (never stored, never printed).

use super::membership::member;
use super::{refuse, MemberStore, TeamRefusal, TeamResult, TeamStore};
use crate::core::time::Timestamp;
use crate::core::totp::{open, verify, SealKey, Totp, TotpStatus};

/// Starts (or restarts) an enrolment: `sealed` is the new secret, sealed at the edge, which
/// showed it to the member. A member with two factors on must disable them first.
pub fn enrol(s: &impl MemberStore, member_id: &str, sealed: String) -> TeamResult<()> {
    let mut m = member(s, member_id)?;
    if m.totp.is_enabled() {
        return refuse(TeamRefusal::TotpEnabled);
    }
    m.totp.pending = Some(sealed);
    Ok(s.update_member(&m)?)
}

/// Turns two factors on with a current code of the pending secret; `recovery` are the hashes
/// of the recovery codes the edge shows this once. Its step counts as used.
pub fn confirm(
    s: &impl MemberStore,
    member_id: &str,
    key: &SealKey,
    code: &str,
    recovery: Vec<String>,
    now: Timestamp,
) -> TeamResult<()> {
    let mut m = member(s, member_id)?;
    if m.totp.is_enabled() {
        return refuse(TeamRefusal::TotpEnabled);
    }
    let Some(pending) = m.totp.pending.clone() else {
        return refuse(TeamRefusal::TotpNotEnrolled);
    };
    let step = open(&key.0, &pending)
        .and_then(|secret| verify(&secret, code, now, None))
        .ok_or(super::TeamError::Refused(TeamRefusal::InvalidCode))?;
    m.totp = Totp {
        pending: None,
        enabled: Some(pending),
        last_step: Some(step),
        recovery,
    };
    Ok(s.update_member(&m)?)
}

/// Turns two factors off, with a current code or a recovery code (each usable once).
pub fn disable(
    s: &impl MemberStore,
    member_id: &str,
    key: &SealKey,
    code: &str,
    now: Timestamp,
) -> TeamResult<()> {
    let mut m = member(s, member_id)?;
    if !m.totp.is_enabled() {
        return refuse(TeamRefusal::TotpNotEnrolled);
    }
    if m.totp.check(&key.0, Some(code), now).is_err() {
        return refuse(TeamRefusal::InvalidCode);
    }
    m.totp = Totp::default();
    Ok(s.update_member(&m)?)
}

/// The member's two-factor state and the team's requirement.
pub fn status(s: &impl TeamStore, m: &crate::core::members::Member) -> TeamResult<TotpStatus> {
    Ok(TotpStatus {
        enabled: m.totp.is_enabled(),
        required: s.team()?.is_some_and(|t| t.require_totp),
    })
}

#[cfg(test)]
#[path = "totp_tests.rs"]
mod tests;
