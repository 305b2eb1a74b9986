//! A manager's change to a key's record: a validated patch applied (the rate limit resolved
//! against the key's current policy and the team's ceiling), or the key disabled for good.

use super::access::Denial;
use super::input::{InputError, KeyPatch};
use super::limits::TeamLimits;
use super::model::KeyRecord;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Why a manager's change was not applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The manager may not manage this key.
    Denied(Denial),
    /// The patch cannot be applied.
    Rejected(UpdateError),
}

/// Why an update cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateError {
    /// The key belongs to a service account; its permissions are fixed for life.
    PermissionsImmutable,
    Invalid(String),
    /// The new rate is above the team's ceiling.
    AboveCeiling(crate::core::limits::AboveCeiling),
    /// A disabled or expired key cannot be rolled.
    Inactive,
}

impl From<InputError> for UpdateError {
    fn from(e: InputError) -> Self {
        UpdateError::Invalid(e.detail)
    }
}

/// Applies a validated patch to a key. The rate limit resolves against the key's current
/// policy, so it happens here, where the current policy is authoritative, and must be within
/// the team's `limits` when they are given.
pub fn apply_patch(
    record: &mut KeyRecord,
    patch: &KeyPatch,
    limits: Option<&TeamLimits>,
    now: Timestamp,
) -> Result<(), UpdateError> {
    if patch.permissions.is_some() && record.service_account_id.is_some() {
        return Err(UpdateError::PermissionsImmutable);
    }
    let rate_limit = patch
        .rate_limit
        .map(|r| r.resolve(Some(&record.rate_limit)))
        .transpose()?;
    if let (Some(policy), Some(limits)) = (&rate_limit, limits) {
        limits
            .allows_rate(policy)
            .map_err(UpdateError::AboveCeiling)?;
    }
    if let Some(name) = &patch.name {
        record.name.clone_from(name);
    }
    if let Some(d) = &patch.description {
        record.description.clone_from(d);
    }
    if let Some(p) = &patch.permissions {
        record.permissions = p.clone();
    }
    if let Some(e) = patch.expires_at {
        record.expires_at = e;
    }
    if let Some(r) = rate_limit {
        record.rate_limit = r;
    }
    if let Some(m) = &patch.metadata {
        record.metadata.clone_from(m);
    }
    if let Some(a) = patch.auto_renew {
        record.auto_renew = a;
    }
    if let Some(c) = patch.credits {
        record.credits = c.map(|c| c.setting(now));
    }
    if let Some(l) = &patch.allowed_ips {
        record.allowed_ips.clone_from(l);
    }
    record.updated_at = now;
    Ok(())
}

/// Disables a key for good. Disabling twice changes nothing (and keeps the first time).
pub fn disable(record: &mut KeyRecord, now: Timestamp) -> bool {
    if record.disabled_at.is_some() {
        return false;
    }
    record.disabled_at = Some(now);
    record.updated_at = now;
    true
}
