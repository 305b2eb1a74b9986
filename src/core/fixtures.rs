//! Values the core's unit tests share: a fixed instant, permission sets, a key record, hashes,
//! requirements. Test-only.

use super::access::Requirement;
use super::key::KeyHash;
use super::model::KeyRecord;
use super::permission::{Permission, PermissionSet};
use super::ratelimit::{Plan, RateLimitPolicy};
use super::time::Timestamp;

/// The instant most tests run at.
pub const NOW: &str = "2026-10-14T12:00:00Z";

pub fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

pub fn perms(list: &[&str]) -> PermissionSet {
    PermissionSet::new(list.iter().map(|s| Permission::parse(s).unwrap()))
}

/// A key holding `permissions`, with a small enterprise limit (2/min, 10/h).
pub fn record(permissions: &[&str]) -> KeyRecord {
    let mut r = super::model::sample_record("key_1", at("2026-10-01T00:00:00Z"));
    r.permissions = perms(permissions);
    r.rate_limit = RateLimitPolicy::build(Plan::Enterprise, Some(2), Some(10)).unwrap();
    r
}

/// A distinct hash per `n`.
pub fn hash(n: u8) -> KeyHash {
    KeyHash::from_hex(&hex::encode([n; 32])).unwrap()
}

/// A counted request needing these permissions.
pub fn need(list: &[&str]) -> Requirement {
    Requirement {
        permissions: perms(list).iter().cloned().collect(),
        count: true,
        ..Default::default()
    }
}
