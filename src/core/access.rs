//! The access decision and the key's state machine: what a key's Durable Object does, as pure
//! functions of (state, request, now).
//!
//! A check runs its steps in the contract's order and stops at the first failure:
//! 1. the key exists and its hash matches (else `invalid_key`), it is not disabled
//!    (`disabled_key`), not expired (`expired_key`) — the 401s;
//! 2. it holds every wanted permission and may act on the target environment — the 403s;
//! 3. (verify only) it belongs to the project asked about — `project_mismatch`;
//! 4. its windows have room — the 429. Only a request that passes all of them is counted.

use super::input::{InputError, KeyPatch};
use super::key::{Environment, KeyHash};
use super::model::{KeyRecord, UsageView};
use super::permission::{Permission, PermissionSet};
use super::ratelimit::{self, Counters, LimitState, Usage};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What a request needs of the key that makes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    /// Every one must be covered by the key's permissions.
    pub permissions: Vec<Permission>,
    /// The environment of the key being created or managed: a test key may only act on test keys.
    pub target_environment: Option<Environment>,
    /// For `/v1/verify`: the project the request is for.
    pub project_id: Option<String>,
    /// Count the request against the limits if admitted (`false` for `GET /v1/rate-limit` and
    /// for checks that must not count).
    pub count: bool,
}

/// Why a check failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denial {
    InvalidKey,
    DisabledKey,
    ExpiredKey,
    /// The first wanted permission the key lacks.
    MissingPermission(Permission),
    /// A test key tried to create or manage a live key.
    TestKeyOnLive,
    ProjectMismatch,
    RateLimited,
}

/// A key's durable state, as its object holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyState {
    pub record: KeyRecord,
    pub hash: KeyHash,
    pub counters: Counters,
    pub usage: Usage,
    /// When `last_used` was last copied to the team's listing.
    pub last_used_published: Option<Timestamp>,
    /// Bumped by every change to the record; the listing keeps only the newest copy it is sent.
    #[serde(default)]
    pub revision: u64,
}

/// What changes on every admitted request, stored apart from the record so that a check writes
/// a few dozen bytes, not the whole key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountersPart {
    pub counters: Counters,
    pub usage: Usage,
    pub last_used: Option<Timestamp>,
    pub last_used_published: Option<Timestamp>,
}

/// What changes only when the key is managed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordPart {
    pub record: KeyRecord,
    pub hash: KeyHash,
    pub revision: u64,
}

impl KeyState {
    pub fn counters_part(&self) -> CountersPart {
        CountersPart {
            counters: self.counters,
            usage: self.usage,
            last_used: self.record.last_used,
            last_used_published: self.last_used_published,
        }
    }

    pub fn record_part(&self) -> RecordPart {
        RecordPart {
            record: self.record.clone(),
            hash: self.hash,
            revision: self.revision,
        }
    }

    /// Joins the two stored parts (the counters part is absent before the first request).
    pub fn from_parts(r: RecordPart, c: Option<CountersPart>) -> Self {
        let mut s = KeyState::new(r.record, r.hash);
        s.revision = r.revision;
        if let Some(c) = c {
            s.counters = c.counters;
            s.usage = c.usage;
            s.record.last_used = c.last_used.or(s.record.last_used);
            s.last_used_published = c.last_used_published;
        }
        s
    }
}

/// The answer to a check: the key as it stands (absent for `invalid_key`) and its windows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckResult {
    pub denial: Option<Denial>,
    pub record: Option<KeyRecord>,
    pub limit: Option<LimitState>,
    pub usage: Option<UsageView>,
}

/// How stale the listing's `last_used` may get.
pub const LAST_USED_PUBLISH_INTERVAL_MS: i64 = 60_000;

impl KeyState {
    pub fn new(record: KeyRecord, hash: KeyHash) -> Self {
        KeyState {
            record,
            hash,
            counters: Counters::default(),
            usage: Usage::default(),
            last_used_published: None,
            revision: 1,
        }
    }

    /// Runs the checks in order; counts the request only if it passes them all and
    /// `req.count` is set. Returns whether the state changed (and must be persisted).
    pub fn check(
        &mut self,
        hash: &KeyHash,
        req: &Requirement,
        now: Timestamp,
    ) -> (CheckResult, bool) {
        if !self.hash.ct_eq(hash) {
            return (CheckResult::invalid(), false);
        }
        let denial = self.deny(req, now);
        let (denial, limit, changed) = match denial {
            Some(d) => (
                Some(d),
                ratelimit::peek(&self.record.rate_limit, &self.counters, now),
                false,
            ),
            None if !req.count => (
                None,
                ratelimit::peek(&self.record.rate_limit, &self.counters, now),
                false,
            ),
            None => match ratelimit::admit(&self.record.rate_limit, &mut self.counters, now) {
                Ok(limit) => {
                    self.usage.record(now);
                    self.record.last_used = Some(now);
                    (None, limit, true)
                }
                Err(limit) => (Some(Denial::RateLimited), limit, false),
            },
        };
        (
            CheckResult {
                denial,
                record: Some(self.record.clone()),
                limit: Some(limit),
                usage: Some(self.usage_view(now)),
            },
            changed,
        )
    }

    fn deny(&self, req: &Requirement, now: Timestamp) -> Option<Denial> {
        let r = &self.record;
        if r.disabled_at.is_some() {
            return Some(Denial::DisabledKey);
        }
        if r.expires_at.is_some_and(|e| e <= now) {
            return Some(Denial::ExpiredKey);
        }
        if let Some(p) = r.permissions.first_uncovered(&req.permissions) {
            return Some(Denial::MissingPermission(p.clone()));
        }
        if req.target_environment == Some(Environment::Live) && r.environment == Environment::Test {
            return Some(Denial::TestKeyOnLive);
        }
        if let (Some(asked), Some(own)) = (&req.project_id, &r.project_id) {
            if asked != own {
                return Some(Denial::ProjectMismatch);
            }
        }
        None
    }

    pub fn usage_view(&self, now: Timestamp) -> UsageView {
        let (requests_today, requests_this_month) = self.usage.counts(now);
        UsageView {
            requests_today,
            requests_this_month,
        }
    }

    /// Should `last_used` be copied to the listing now? At most once a minute per key, so a busy
    /// key costs its team object one write a minute, not one per request.
    pub fn take_last_used_publish(&mut self, now: Timestamp) -> Option<Timestamp> {
        let used = self.record.last_used?;
        let due = self
            .last_used_published
            .is_none_or(|p| now.millis() - p.millis() >= LAST_USED_PUBLISH_INTERVAL_MS);
        if due && Some(used) != self.last_used_published {
            self.last_used_published = Some(now);
            Some(used)
        } else {
            None
        }
    }
}

impl CheckResult {
    pub fn invalid() -> Self {
        CheckResult {
            denial: Some(Denial::InvalidKey),
            record: None,
            limit: None,
            usage: None,
        }
    }
}

/// The key making a management call, as the target's object needs to see it: the check that it
/// may manage the target runs in the target's object, atomically with the change, so a
/// concurrent upgrade of the target cannot slip between the check and the write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manager {
    pub permissions: PermissionSet,
    pub environment: Environment,
}

impl Manager {
    /// A key may manage another only if it holds every permission the other holds, and a test
    /// key only test keys.
    pub fn may_manage(&self, target: &KeyRecord) -> Result<(), Denial> {
        if target.environment == Environment::Live && self.environment == Environment::Test {
            return Err(Denial::TestKeyOnLive);
        }
        match self.permissions.first_uncovered(target.permissions.iter()) {
            Some(p) => Err(Denial::MissingPermission(p.clone())),
            None => Ok(()),
        }
    }
}

/// Why an update cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateError {
    /// The key belongs to a service account; its permissions are fixed for life.
    PermissionsImmutable,
    Invalid(String),
}

impl From<InputError> for UpdateError {
    fn from(e: InputError) -> Self {
        UpdateError::Invalid(e.detail)
    }
}

/// Applies a validated patch to a key. The rate limit resolves against the key's current
/// policy, so it happens here, where the current policy is authoritative.
pub fn apply_patch(
    record: &mut KeyRecord,
    patch: &KeyPatch,
    now: Timestamp,
) -> Result<(), UpdateError> {
    if patch.permissions.is_some() && record.service_account_id.is_some() {
        return Err(UpdateError::PermissionsImmutable);
    }
    let rate_limit = patch
        .rate_limit
        .map(|r| r.resolve(Some(&record.rate_limit)))
        .transpose()?;
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

/// What a caller must hold to create a key: the management permission and every permission the
/// new key is given; a test key may only create test keys.
pub fn create_requirement(
    management: &Permission,
    permissions: &PermissionSet,
    environment: Option<Environment>,
) -> Requirement {
    let mut all = vec![management.clone()];
    all.extend(permissions.iter().cloned());
    Requirement {
        permissions: all,
        target_environment: environment,
        project_id: None,
        count: true,
    }
}

/// What a caller must hold to manage (update, disable, delete) `target`: the management
/// permission itself and every permission the target holds (no managing keys more powerful than
/// yourself), plus, for updates, every permission it would be given.
pub fn management_requirement(
    management: &Permission,
    target: &KeyRecord,
    new_permissions: Option<&PermissionSet>,
) -> Requirement {
    let mut permissions = vec![management.clone()];
    permissions.extend(target.permissions.iter().cloned());
    if let Some(new) = new_permissions {
        permissions.extend(new.iter().cloned());
    }
    Requirement {
        permissions,
        target_environment: Some(target.environment),
        project_id: None,
        count: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::input::RateLimitInput;
    use crate::core::ratelimit::{Plan, RateLimitPolicy};

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn perms(list: &[&str]) -> PermissionSet {
        PermissionSet::new(list.iter().map(|s| Permission::parse(s).unwrap()))
    }

    fn record(permissions: &[&str]) -> KeyRecord {
        let mut r = crate::core::model::sample_record("key_1", at("2026-10-01T00:00:00Z"));
        r.permissions = perms(permissions);
        r.rate_limit = RateLimitPolicy::build(Plan::Enterprise, Some(2), Some(10)).unwrap();
        r
    }

    fn hash(n: u8) -> KeyHash {
        KeyHash::from_hex(&hex::encode([n; 32])).unwrap()
    }

    fn need(list: &[&str]) -> Requirement {
        Requirement {
            permissions: perms(list).iter().cloned().collect(),
            count: true,
            ..Default::default()
        }
    }

    const NOW: &str = "2026-10-14T12:00:00Z";

    #[test]
    fn a_wrong_hash_is_an_invalid_key_and_reveals_nothing() {
        let mut s = KeyState::new(record(&["admin:*"]), hash(1));
        let (r, changed) = s.check(&hash(2), &need(&[]), at(NOW));
        assert_eq!(r.denial, Some(Denial::InvalidKey));
        assert!(r.record.is_none() && r.limit.is_none() && !changed);
    }

    #[test]
    fn checks_run_in_the_contract_order() {
        let now = at(NOW);
        let mut rec = record(&["tasks:read"]);
        rec.expires_at = Some(at("2026-10-14T11:00:00Z"));
        rec.disabled_at = Some(at("2026-10-14T10:00:00Z"));
        let mut s = KeyState::new(rec, hash(1));
        let check = |s: &mut KeyState, n: &Requirement| s.check(&hash(1), n, now).0.denial;
        assert_eq!(
            check(&mut s, &need(&["events:write"])),
            Some(Denial::DisabledKey)
        );
        s.record.disabled_at = None;
        assert_eq!(
            check(&mut s, &need(&["events:write"])),
            Some(Denial::ExpiredKey)
        );
        s.record.expires_at = Some(at("2026-10-15T00:00:00Z"));
        assert_eq!(
            check(&mut s, &need(&["tasks:read", "events:write"])),
            Some(Denial::MissingPermission(
                Permission::parse("events:write").unwrap()
            ))
        );
        assert_eq!(check(&mut s, &need(&["tasks:read"])), None);
        assert_eq!(check(&mut s, &need(&["tasks:read"])), None);
        assert_eq!(
            check(&mut s, &need(&["tasks:read"])),
            Some(Denial::RateLimited)
        );
        // 401 and 403 outrank 429, and none of them counts.
        assert_eq!(
            check(&mut s, &need(&["events:write"])).unwrap(),
            Denial::MissingPermission(Permission::parse("events:write").unwrap())
        );
    }

    #[test]
    fn expiry_is_exact_to_the_millisecond() {
        let mut rec = record(&[]);
        rec.expires_at = Some(at(NOW));
        let mut s = KeyState::new(rec, hash(1));
        let before = Timestamp::from_millis(at(NOW).millis() - 1);
        assert_eq!(s.check(&hash(1), &need(&[]), before).0.denial, None);
        assert_eq!(
            s.check(&hash(1), &need(&[]), at(NOW)).0.denial,
            Some(Denial::ExpiredKey)
        );
    }

    #[test]
    fn only_admitted_requests_count_and_touch_last_used() {
        let mut s = KeyState::new(record(&["tasks:read"]), hash(1));
        let now = at(NOW);
        let (_, changed) = s.check(&hash(1), &need(&["tasks:write"]), now);
        assert!(!changed);
        assert_eq!(s.usage_view(now).requests_today, 0);
        assert_eq!(s.record.last_used, None);
        let peek = Requirement {
            count: false,
            ..need(&["tasks:read"])
        };
        let (r, changed) = s.check(&hash(1), &peek, now);
        assert!(r.denial.is_none() && !changed);
        let (r, changed) = s.check(&hash(1), &need(&["tasks:read"]), now);
        assert!(r.denial.is_none() && changed);
        assert_eq!(r.limit.unwrap().minute.remaining, 1);
        assert_eq!(r.usage.unwrap().requests_today, 1);
        assert_eq!(s.record.last_used, Some(now));
    }

    #[test]
    fn test_keys_cannot_touch_live_keys() {
        let mut rec = record(&["admin:*"]);
        rec.environment = Environment::Test;
        let mut s = KeyState::new(rec, hash(1));
        let live = Requirement {
            target_environment: Some(Environment::Live),
            ..need(&[])
        };
        assert_eq!(
            s.check(&hash(1), &live, at(NOW)).0.denial,
            Some(Denial::TestKeyOnLive)
        );
        let test = Requirement {
            target_environment: Some(Environment::Test),
            ..need(&[])
        };
        assert_eq!(s.check(&hash(1), &test, at(NOW)).0.denial, None);
    }

    #[test]
    fn project_scoping() {
        let mut rec = record(&[]);
        rec.project_id = Some("proj_a".into());
        let mut s = KeyState::new(rec, hash(1));
        let other = Requirement {
            project_id: Some("proj_b".into()),
            ..need(&[])
        };
        assert_eq!(
            s.check(&hash(1), &other, at(NOW)).0.denial,
            Some(Denial::ProjectMismatch)
        );
        let own = Requirement {
            project_id: Some("proj_a".into()),
            ..need(&[])
        };
        assert_eq!(s.check(&hash(1), &own, at(NOW)).0.denial, None);
        s.record.project_id = None;
        assert_eq!(
            s.check(&hash(1), &other, at(NOW)).0.denial,
            None,
            "null project = every project"
        );
    }

    #[test]
    fn managing_needs_everything_the_target_holds() {
        let target = record(&["tasks:*", "events:read"]);
        let write = Permission::parse("api_keys:write").unwrap();
        let req = management_requirement(&write, &target, Some(&perms(&["users:read"])));
        let names: Vec<&str> = req.permissions.iter().map(Permission::as_str).collect();
        assert_eq!(
            names,
            ["api_keys:write", "tasks:*", "events:read", "users:read"]
        );
        let caller = perms(&["api_keys:*", "tasks:read", "events:read", "users:read"]);
        assert_eq!(
            caller.first_uncovered(&req.permissions).unwrap().as_str(),
            "tasks:*"
        );
    }

    /// One step of the escalation property test: `actor` creates a key, or updates `target`.
    #[derive(Clone, Debug)]
    enum Op {
        Create {
            actor: usize,
            perms: Vec<usize>,
        },
        Update {
            actor: usize,
            target: usize,
            perms: Vec<usize>,
        },
    }

    const POOL: [&str; 8] = [
        "api_keys:write",
        "api_keys:*",
        "tasks:read",
        "tasks:write",
        "tasks:*",
        "events:read",
        "events:*",
        "admin:*",
    ];

    fn pick(ix: &[usize]) -> PermissionSet {
        perms(&ix.iter().map(|i| POOL[i % POOL.len()]).collect::<Vec<_>>())
    }

    fn arb_op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let ix = proptest::collection::vec(0usize..POOL.len(), 0..4);
        prop_oneof![
            (0usize..16, ix.clone()).prop_map(|(actor, perms)| Op::Create { actor, perms }),
            (0usize..16, 0usize..16, ix).prop_map(|(actor, target, perms)| Op::Update {
                actor,
                target,
                perms
            }),
        ]
    }

    proptest::proptest! {
        /// No sequence of create and update calls, made by any key of the team, gives a key a
        /// permission that the key which granted it did not hold at that moment; so no key ever
        /// holds what the root key does not cover.
        #[test]
        fn no_sequence_of_calls_escalates(
            root in proptest::collection::vec(0usize..7, 1..4),
            ops in proptest::collection::vec(arb_op(), 1..40),
        ) {
            let write = Permission::parse("api_keys:write").unwrap();
            let now = at(NOW);
            let root_perms = pick(&root);
            let mut keys: Vec<KeyState> = vec![KeyState::new(record_with(root_perms.clone()), hash(0))];
            for op in ops {
                match op {
                    Op::Create { actor, perms: p } => {
                        let actor = actor % keys.len();
                        let wanted = pick(&p);
                        let req = create_requirement(&write, &wanted, None);
                        let held = keys[actor].record.permissions.clone();
                        if keys[actor].check(&hash(actor as u8), &req, now).0.denial.is_none() {
                            for w in wanted.iter() {
                                proptest::prop_assert!(held.covers(w), "{w} granted by {held:?}");
                            }
                            keys.push(KeyState::new(record_with(wanted), hash(keys.len() as u8)));
                        }
                    }
                    Op::Update { actor, target, perms: p } => {
                        let (actor, target) = (actor % keys.len(), target % keys.len());
                        let wanted = pick(&p);
                        let req = management_requirement(&write, &keys[target].record, Some(&wanted));
                        let held = keys[actor].record.permissions.clone();
                        if keys[actor].check(&hash(actor as u8), &req, now).0.denial.is_none() {
                            for w in wanted.iter().chain(keys[target].record.permissions.iter()) {
                                proptest::prop_assert!(held.covers(w), "{w} managed by {held:?}");
                            }
                            keys[target].record.permissions = wanted;
                        }
                    }
                }
            }
            for k in &keys {
                for p in k.record.permissions.iter() {
                    proptest::prop_assert!(root_perms.covers(p), "{p} escaped the root's {root_perms:?}");
                }
            }
        }
    }

    fn record_with(p: PermissionSet) -> KeyRecord {
        let mut r = record(&[]);
        r.permissions = p;
        r.rate_limit =
            RateLimitPolicy::build(Plan::Enterprise, Some(1_000_000), Some(1_000_000)).unwrap();
        r
    }

    #[test]
    fn a_manager_must_cover_the_target() {
        let target = record(&["tasks:*"]);
        let m = |p: &[&str], environment| Manager {
            permissions: perms(p),
            environment,
        };
        assert_eq!(
            m(&["tasks:*"], Environment::Live).may_manage(&target),
            Ok(())
        );
        assert_eq!(
            m(&["admin:*"], Environment::Live).may_manage(&target),
            Ok(())
        );
        assert_eq!(
            m(&["tasks:read"], Environment::Live).may_manage(&target),
            Err(Denial::MissingPermission(
                Permission::parse("tasks:*").unwrap()
            ))
        );
        assert_eq!(
            m(&["admin:*"], Environment::Test).may_manage(&target),
            Err(Denial::TestKeyOnLive)
        );
    }

    #[test]
    fn patches() {
        let now = at(NOW);
        let mut rec = record(&["tasks:read"]);
        let patch = KeyPatch {
            name: Some("renamed".into()),
            expires_at: Some(Some(at("2027-01-01T00:00:00Z"))),
            rate_limit: Some(RateLimitInput {
                plan: None,
                per_minute: Some(50),
                per_hour: None,
            }),
            ..Default::default()
        };
        apply_patch(&mut rec, &patch, now).unwrap();
        assert_eq!(rec.name, "renamed");
        assert_eq!(
            (rec.rate_limit.per_minute, rec.rate_limit.per_hour),
            (50, 10)
        );
        assert_eq!(rec.updated_at, now);
        rec.service_account_id = Some("sa_1".into());
        let perm_patch = KeyPatch {
            permissions: Some(perms(&["tasks:read"])),
            ..Default::default()
        };
        assert_eq!(
            apply_patch(&mut rec, &perm_patch, now),
            Err(UpdateError::PermissionsImmutable)
        );
    }

    #[test]
    fn disabling_is_permanent_and_idempotent() {
        let mut rec = record(&[]);
        assert!(disable(&mut rec, at("2026-10-14T00:00:00Z")));
        assert!(!disable(&mut rec, at("2026-10-15T00:00:00Z")));
        assert_eq!(rec.disabled_at, Some(at("2026-10-14T00:00:00Z")));
        assert_eq!(rec.status(at(NOW)), crate::core::model::KeyStatus::Disabled);
    }

    #[test]
    fn stored_parts_join_back_into_the_same_state() {
        let mut s = KeyState::new(record(&["tasks:read"]), hash(1));
        s.check(&hash(1), &need(&["tasks:read"]), at(NOW));
        s.revision = 4;
        let joined = KeyState::from_parts(s.record_part(), Some(s.counters_part()));
        assert_eq!(joined, s);
    }

    #[test]
    fn last_used_is_published_at_most_once_a_minute() {
        let mut s = KeyState::new(record(&[]), hash(1));
        let t0 = at(NOW);
        assert_eq!(s.take_last_used_publish(t0), None, "never used");
        s.record.last_used = Some(t0);
        assert_eq!(s.take_last_used_publish(t0), Some(t0));
        s.record.last_used = Some(Timestamp::from_millis(t0.millis() + 30_000));
        assert_eq!(
            s.take_last_used_publish(Timestamp::from_millis(t0.millis() + 30_000)),
            None
        );
        let t2 = Timestamp::from_millis(t0.millis() + 60_000);
        assert!(s.take_last_used_publish(t2).is_some());
    }
}
