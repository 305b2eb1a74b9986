//! The access decision and the key's state machine: what a key's Durable Object does, as pure
//! functions of (state, request, now).
//!
//! A check runs its steps in the contract's order and stops at the first failure:
//! 1. the key exists and its hash matches (else `invalid_key`), it is not disabled
//!    (`disabled_key`), not expired (`expired_key`) — the 401s; and, for a key with an IP
//!    allow-list, the request comes from an allowed address (`ip_not_allowed`, a 403);
//! 2. it holds every permission the action needs — `insufficient_permissions`;
//! 3. the key it manages, if any: outside the caller's project it does not exist for the caller
//!    (`404`, exactly as another team's key); then the caller must hold everything the target
//!    holds, and a test key may only manage test keys — the 403s;
//! 4. the project the action is bound to: a key scoped to a project acts only inside it, and
//!    team-wide actions are not for it — `project_mismatch`;
//! 5. its windows have room — the 429. Only a request that passes all of them is counted.

use super::ids::ProjectId;
use super::key::Environment;
use super::members::MemberRole;
use super::model::KeyRecord;
use super::permission::{Permission, PermissionSet};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What a request needs of the key that makes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    /// Every one must be covered by the key's permissions.
    pub permissions: Vec<Permission>,
    /// The environment of the key being created: a test key may only create test keys.
    pub target_environment: Option<Environment>,
    /// The key being managed, if the request manages one.
    pub target: Option<Target>,
    /// Which projects the action reaches.
    pub scope: Scope,
    /// Count the request against the limits if admitted (`false` for `GET /v1/rate-limit` and
    /// for checks that must not count). A counted request also goes into the key's history.
    pub count: bool,
    /// Where the request came from (`request.cf.country`), for the key's locations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Credits an admitted request spends from a key that has them (`core::credits`): the
    /// verify body's `cost` (default 1); 0 for bearer requests, which never spend credits.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cost: u32,
    /// The client's address, for a key with an IP allow-list (`core::ip_allow`): the verify
    /// body's `ip`, or `CF-Connecting-IP` for bearer requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<std::net::IpAddr>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The key a management call (get, update, disable, delete, roll) acts on, as the caller's
/// check needs to see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub project_id: Option<ProjectId>,
    pub environment: Environment,
    /// Everything it holds: managing it needs all of it (no managing a stronger key).
    pub permissions: Vec<Permission>,
}

/// Which projects an action reaches, for the project-scope rule: a key with a `project_id` acts
/// only inside that project.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Nothing project-bound (reading the key itself, its windows, team-wide listings).
    #[default]
    Any,
    /// One project: `/v1/verify` for a project, creating a key in a named project.
    Project(ProjectId),
    /// Every project: writes to team-wide objects (projects, roles, service accounts, …) and
    /// creating an unscoped key. Only an unscoped key may.
    TeamWide,
}

/// Does a key of `own` project (`None`: every project) reach `scope`?
pub fn reaches(own: Option<&str>, scope: &Scope) -> bool {
    match (own, scope) {
        (None, _) | (_, Scope::Any) => true,
        (Some(own), Scope::Project(p)) => own == p.as_str(),
        (Some(_), Scope::TeamWide) => false,
    }
}

/// Can a key of `own` project see a key of `target` project? A scoped key sees only its
/// project's keys; everything else is as invisible to it as another team's.
pub fn sees(own: Option<&str>, target: Option<&str>) -> bool {
    own.is_none() || own == target
}

/// The `project_id` a create request gave: absent, `null`, or a project.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProjectChoice {
    #[default]
    Absent,
    /// Explicitly every project.
    Unscoped,
    Project(ProjectId),
}

impl ProjectChoice {
    /// What creating a key with this choice reaches: a scoped caller may only leave it absent
    /// or name its own project.
    pub fn scope(&self) -> Scope {
        match self {
            ProjectChoice::Absent => Scope::Any,
            ProjectChoice::Unscoped => Scope::TeamWide,
            ProjectChoice::Project(p) => Scope::Project(p.clone()),
        }
    }

    /// The new key's project: absent means the caller's own (so a scoped key's keys, service
    /// account keys included, stay in its project).
    pub fn resolve(self, caller: Option<&ProjectId>) -> Option<ProjectId> {
        match self {
            ProjectChoice::Absent => caller.cloned(),
            ProjectChoice::Unscoped => None,
            ProjectChoice::Project(p) => Some(p),
        }
    }
}

/// What a scoped caller's listing may show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListingFilter {
    /// Only keys of this project (`None`: no project filter).
    Project(Option<ProjectId>),
    /// The caller asked for a project it cannot see: an empty page.
    Nothing,
}

/// The project filter of a key listing, given the caller's project and the one asked for.
pub fn listing_filter(own: Option<&ProjectId>, asked: Option<&ProjectId>) -> ListingFilter {
    match (own, asked) {
        (None, asked) => ListingFilter::Project(asked.cloned()),
        (Some(own), Some(asked)) if own != asked => ListingFilter::Nothing,
        (Some(own), _) => ListingFilter::Project(Some(own.clone())),
    }
}

/// Why a check failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denial {
    InvalidKey,
    DisabledKey,
    ExpiredKey,
    /// The key has an IP allow-list and the request's address is not on it (or not given).
    IpNotAllowed,
    /// The first wanted permission the key lacks.
    MissingPermission(Permission),
    /// A test key tried to create or manage a live key.
    TestKeyOnLive,
    /// The action reaches beyond the project the key is scoped to.
    ProjectMismatch,
    /// The managed key is outside the caller's project: for the caller it does not exist.
    OutsideProject,
    RateLimited,
    /// The key's monthly quota is used up (after the rate limit: `core::ratelimit`).
    QuotaExceeded,
    /// Fewer credits remain than the verification's `cost` (after the quota).
    UsageExceeded,
}

impl Denial {
    /// The contract's `code` for this denial.
    pub fn code(&self) -> &'static str {
        match self {
            Denial::InvalidKey => "invalid_key",
            Denial::DisabledKey => "disabled_key",
            Denial::ExpiredKey => "expired_key",
            Denial::IpNotAllowed => "ip_not_allowed",
            Denial::MissingPermission(_) | Denial::TestKeyOnLive => "insufficient_permissions",
            Denial::ProjectMismatch => "project_mismatch",
            Denial::OutsideProject => "not_found",
            Denial::RateLimited => "rate_limited",
            Denial::QuotaExceeded => "quota_exceeded",
            Denial::UsageExceeded => "usage_exceeded",
        }
    }
}

/// The access decision for a key that exists and whose hash matched: the first failing step,
/// in the contract's order (see the module's documentation), or `None` when it may act.
pub fn decide(r: &KeyRecord, req: &Requirement, now: Timestamp) -> Option<Denial> {
    if r.disabled_at.is_some() {
        return Some(Denial::DisabledKey);
    }
    if r.expires_at.is_some_and(|e| e <= now) {
        return Some(Denial::ExpiredKey);
    }
    if r.allowed_ips.as_ref().is_some_and(|l| !l.allows(req.ip)) {
        return Some(Denial::IpNotAllowed);
    }
    Manager::of(r).decide(req)
}

/// The key making a management call, as the target's object needs to see it: the check that it
/// may manage the target runs in the target's object, atomically with the change, so a
/// concurrent upgrade of the target cannot slip between the check and the write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manager {
    pub permissions: PermissionSet,
    pub environment: Environment,
    /// The manager's project (`None`: every project).
    #[serde(default)]
    pub project_id: Option<ProjectId>,
}

impl Manager {
    /// The manager a confirmed key acts as.
    pub fn of(record: &KeyRecord) -> Self {
        Manager {
            permissions: record.permissions.clone(),
            environment: record.environment,
            project_id: record.project_id.clone(),
        }
    }

    /// A team member acts with their role's permissions, in both environments, team-wide.
    pub fn member(role: MemberRole) -> Self {
        Manager {
            permissions: role.permissions(),
            environment: Environment::Live,
            project_id: None,
        }
    }

    /// Steps 2 to 4 of the decision (see the module's documentation) for a caller that exists
    /// and is active: a confirmed key, or a signed-in member.
    pub fn decide(&self, req: &Requirement) -> Option<Denial> {
        if let Some(p) = self.permissions.first_uncovered(&req.permissions) {
            return Some(Denial::MissingPermission(p.clone()));
        }
        if let Some(t) = &req.target {
            if !sees(self.project_id.as_deref(), t.project_id.as_deref()) {
                return Some(Denial::OutsideProject);
            }
            if let Some(p) = self.permissions.first_uncovered(&t.permissions) {
                return Some(Denial::MissingPermission(p.clone()));
            }
            if t.environment == Environment::Live && self.environment == Environment::Test {
                return Some(Denial::TestKeyOnLive);
            }
        }
        if req.target_environment == Some(Environment::Live)
            && self.environment == Environment::Test
        {
            return Some(Denial::TestKeyOnLive);
        }
        if !reaches(self.project_id.as_deref(), &req.scope) {
            return Some(Denial::ProjectMismatch);
        }
        None
    }

    /// A key may manage another only inside its project, if it holds every permission the other
    /// holds, and a test key only test keys.
    pub fn may_manage(&self, target: &KeyRecord) -> Result<(), Denial> {
        if !sees(self.project_id.as_deref(), target.project_id.as_deref()) {
            return Err(Denial::OutsideProject);
        }
        if target.environment == Environment::Live && self.environment == Environment::Test {
            return Err(Denial::TestKeyOnLive);
        }
        match self.permissions.first_uncovered(target.permissions.iter()) {
            Some(p) => Err(Denial::MissingPermission(p.clone())),
            None => Ok(()),
        }
    }
}

/// What a caller must hold to create a key: the management permission and every permission the
/// new key is given; a test key may only create test keys; a scoped key only keys of its project.
pub fn create_requirement(
    management: &Permission,
    permissions: &PermissionSet,
    environment: Option<Environment>,
    project: &ProjectChoice,
) -> Requirement {
    let mut all = vec![management.clone()];
    all.extend(permissions.iter().cloned());
    Requirement {
        permissions: all,
        target_environment: environment,
        target: None,
        scope: project.scope(),
        count: true,
        country: None,
        cost: 0,
        ip: None,
    }
}

/// What a caller must hold to manage (update, disable, delete) a key: the management permission
/// and, for updates, every permission the key would be given; then, for the key as it is (when
/// it exists in the caller's team), to see it (its project) and to hold everything it holds.
/// With no target (no such key in the team) the caller learns `404` only once it holds the rest.
pub fn management_requirement(
    management: &Permission,
    target: Option<&KeyRecord>,
    new_permissions: Option<&PermissionSet>,
) -> Requirement {
    let mut permissions = vec![management.clone()];
    if let Some(new) = new_permissions {
        permissions.extend(new.iter().cloned());
    }
    Requirement {
        permissions,
        target_environment: None,
        target: target.map(|t| Target {
            project_id: t.project_id.clone(),
            environment: t.environment,
            permissions: t.permissions.iter().cloned().collect(),
        }),
        scope: Scope::Any,
        count: true,
        country: None,
        cost: 0,
        ip: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::key_state::{CheckResult, KeyState};
    use crate::core::ratelimit::{Plan, RateLimitPolicy};

    use crate::core::fixtures::{at, hash, need, perms, record, NOW};

    #[test]
    fn a_wrong_hash_is_an_invalid_key_and_reveals_nothing() {
        let mut s = KeyState::new(record(&["admin:*"]), hash(1));
        let r = s.check(&hash(2), &need(&[]), at(NOW));
        assert!(matches!(r, CheckResult::Invalid), "{r:?}");
        assert_eq!(r.denial(), Some(Denial::InvalidKey));
        assert!(r.limit().is_none() && !r.counted());
    }

    #[test]
    fn checks_run_in_the_contract_order() {
        let now = at(NOW);
        let mut rec = record(&["tasks:read"]);
        rec.expires_at = Some(at("2026-10-14T11:00:00Z"));
        rec.disabled_at = Some(at("2026-10-14T10:00:00Z"));
        let mut s = KeyState::new(rec, hash(1));
        let check = |s: &mut KeyState, n: &Requirement| s.check(&hash(1), n, now).denial();
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
        assert_eq!(s.check(&hash(1), &need(&[]), before).denial(), None);
        assert_eq!(
            s.check(&hash(1), &need(&[]), at(NOW)).denial(),
            Some(Denial::ExpiredKey)
        );
    }

    #[test]
    fn only_admitted_requests_count_and_touch_last_used() {
        let mut s = KeyState::new(record(&["tasks:read"]), hash(1));
        let now = at(NOW);
        let r = s.check(&hash(1), &need(&["tasks:write"]), now);
        assert!(!r.counted());
        assert_eq!(s.usage_view(now).requests_today, 0);
        assert_eq!(s.record.last_used, None);
        let peek = Requirement {
            count: false,
            ..need(&["tasks:read"])
        };
        let r = s.check(&hash(1), &peek, now);
        assert!(r.denial().is_none() && !r.counted());
        let r = s.check(&hash(1), &need(&["tasks:read"]), now);
        assert!(r.denial().is_none() && r.counted());
        assert_eq!(r.limit().unwrap().minute.remaining, 1);
        let CheckResult::Admitted { usage, .. } = r else {
            panic!("admitted")
        };
        assert_eq!(usage.requests_today, 1);
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
            s.check(&hash(1), &live, at(NOW)).denial(),
            Some(Denial::TestKeyOnLive)
        );
        let test = Requirement {
            target_environment: Some(Environment::Test),
            ..need(&[])
        };
        assert_eq!(s.check(&hash(1), &test, at(NOW)).denial(), None);
    }

    #[test]
    fn verify_for_a_project() {
        let mut rec = record(&[]);
        rec.project_id = Some("proj_a".into());
        let mut s = KeyState::new(rec, hash(1));
        let for_project = |p: &str| Requirement {
            scope: Scope::Project(p.into()),
            ..need(&[])
        };
        assert_eq!(
            s.check(&hash(1), &for_project("proj_b"), at(NOW)).denial(),
            Some(Denial::ProjectMismatch)
        );
        assert_eq!(
            s.check(&hash(1), &for_project("proj_a"), at(NOW)).denial(),
            None
        );
        s.record.project_id = None;
        assert_eq!(
            s.check(&hash(1), &for_project("proj_b"), at(NOW)).denial(),
            None,
            "null project = every project"
        );
    }

    #[test]
    fn scope_rules() {
        // An unscoped key reaches everything; a scoped one its project, never team-wide.
        for scope in [Scope::Any, Scope::TeamWide, Scope::Project("proj_a".into())] {
            assert!(reaches(None, &scope));
        }
        assert!(reaches(Some("proj_a"), &Scope::Any));
        assert!(reaches(Some("proj_a"), &Scope::Project("proj_a".into())));
        assert!(!reaches(Some("proj_a"), &Scope::Project("proj_b".into())));
        assert!(!reaches(Some("proj_a"), &Scope::TeamWide));
        // It sees its project's keys only; an unscoped key sees all.
        assert!(sees(None, Some("proj_a")) && sees(None, None));
        assert!(sees(Some("proj_a"), Some("proj_a")));
        assert!(!sees(Some("proj_a"), Some("proj_b")));
        assert!(
            !sees(Some("proj_a"), None),
            "an unscoped key is outside every project"
        );
        // Creating: absent is the caller's project; null and other projects are refused to it.
        assert_eq!(
            ProjectChoice::Absent.resolve(Some(&"proj_a".into())),
            Some("proj_a".into())
        );
        assert_eq!(ProjectChoice::Absent.resolve(None), None);
        assert_eq!(ProjectChoice::Unscoped.scope(), Scope::TeamWide);
        // Listing.
        assert_eq!(
            listing_filter(Some(&"proj_a".into()), None),
            ListingFilter::Project(Some("proj_a".into()))
        );
        assert_eq!(
            listing_filter(Some(&"proj_a".into()), Some(&"proj_b".into())),
            ListingFilter::Nothing
        );
        assert_eq!(
            listing_filter(None, Some(&"proj_b".into())),
            ListingFilter::Project(Some("proj_b".into()))
        );
        assert_eq!(listing_filter(None, None), ListingFilter::Project(None));
    }

    #[test]
    fn a_key_outside_the_callers_project_does_not_exist_for_it() {
        let write = Permission::parse("api_keys:write").unwrap();
        let mut caller = record(&["admin:*"]);
        caller.project_id = Some("proj_a".into());
        let mut s = KeyState::new(caller, hash(1));
        let mut target = record(&["tasks:read"]);
        target.project_id = Some("proj_b".into());
        let req = management_requirement(&write, Some(&target), None);
        assert_eq!(
            s.check(&hash(1), &req, at(NOW)).denial(),
            Some(Denial::OutsideProject)
        );
        assert_eq!(Denial::OutsideProject.code(), "not_found");
        target.project_id = None;
        let req = management_requirement(&write, Some(&target), None);
        assert_eq!(
            s.check(&hash(1), &req, at(NOW)).denial(),
            Some(Denial::OutsideProject),
            "an unscoped key is beyond a scoped one"
        );
        target.project_id = Some("proj_a".into());
        let req = management_requirement(&write, Some(&target), None);
        assert_eq!(s.check(&hash(1), &req, at(NOW)).denial(), None);
        // Without the management permission the answer is 403 whatever the target, as for a
        // key of another team: the 404 never tells more than the 403 would.
        s.record.permissions = perms(&["tasks:read"]);
        target.project_id = Some("proj_b".into());
        let req = management_requirement(&write, Some(&target), None);
        assert!(matches!(
            s.check(&hash(1), &req, at(NOW)).denial(),
            Some(Denial::MissingPermission(_))
        ));
    }

    #[test]
    fn team_wide_writes_are_not_for_scoped_keys() {
        let mut rec = record(&["admin:*"]);
        rec.project_id = Some("proj_a".into());
        let mut s = KeyState::new(rec, hash(1));
        let write = Requirement {
            scope: Scope::TeamWide,
            ..need(&["roles:write"])
        };
        assert_eq!(
            s.check(&hash(1), &write, at(NOW)).denial(),
            Some(Denial::ProjectMismatch)
        );
        assert_eq!(Denial::ProjectMismatch.code(), "project_mismatch");
        s.record.project_id = None;
        assert_eq!(s.check(&hash(1), &write, at(NOW)).denial(), None);
    }

    #[test]
    fn managing_needs_everything_the_target_holds() {
        let target = record(&["tasks:*", "events:read"]);
        let write = Permission::parse("api_keys:write").unwrap();
        let req = management_requirement(&write, Some(&target), Some(&perms(&["users:read"])));
        let names: Vec<&str> = req.permissions.iter().map(Permission::as_str).collect();
        assert_eq!(names, ["api_keys:write", "users:read"]);
        let held: Vec<&str> = req
            .target
            .as_ref()
            .unwrap()
            .permissions
            .iter()
            .map(Permission::as_str)
            .collect();
        assert_eq!(held, ["tasks:*", "events:read"]);
        let mut s = KeyState::new(
            record_with(perms(&[
                "api_keys:*",
                "tasks:read",
                "events:read",
                "users:read",
            ])),
            hash(1),
        );
        assert_eq!(
            s.check(&hash(1), &req, at(NOW)).denial(),
            Some(Denial::MissingPermission(
                Permission::parse("tasks:*").unwrap()
            ))
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
                        let req = create_requirement(&write, &wanted, None, &ProjectChoice::Absent);
                        let held = keys[actor].record.permissions.clone();
                        if keys[actor].check(&hash(actor as u8), &req, now).denial().is_none() {
                            for w in wanted.iter() {
                                proptest::prop_assert!(held.covers(w), "{w} granted by {held:?}");
                            }
                            keys.push(KeyState::new(record_with(wanted), hash(keys.len() as u8)));
                        }
                    }
                    Op::Update { actor, target, perms: p } => {
                        let (actor, target) = (actor % keys.len(), target % keys.len());
                        let wanted = pick(&p);
                        let req = management_requirement(&write, Some(&keys[target].record), Some(&wanted));
                        let held = keys[actor].record.permissions.clone();
                        if keys[actor].check(&hash(actor as u8), &req, now).denial().is_none() {
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
            project_id: None,
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
        let scoped = Manager {
            project_id: Some("proj_a".into()),
            ..m(&["admin:*"], Environment::Live)
        };
        assert_eq!(scoped.may_manage(&target), Err(Denial::OutsideProject));
        let mut inside = target.clone();
        inside.project_id = Some("proj_a".into());
        assert_eq!(scoped.may_manage(&inside), Ok(()));
    }

    /// One step of the project-scope property test: `actor` creates a key with a project
    /// choice, or manages `target`.
    #[derive(Clone, Debug)]
    enum ScopeOp {
        Create { actor: usize, choice: u8 },
        Manage { actor: usize, target: usize },
    }

    const PROJECTS: [Option<&str>; 3] = [None, Some("proj_a"), Some("proj_b")];

    fn arb_scope_op() -> impl proptest::strategy::Strategy<Value = ScopeOp> {
        use proptest::prelude::*;
        prop_oneof![
            (0usize..16, 0u8..4).prop_map(|(actor, choice)| ScopeOp::Create { actor, choice }),
            (0usize..16, 0usize..16).prop_map(|(actor, target)| ScopeOp::Manage { actor, target }),
        ]
    }

    proptest::proptest! {
        /// Whatever a team's keys do, a key made by a scoped key (or by a key it made, and so
        /// on) is scoped to the same project, and no scoped key manages a key outside it.
        #[test]
        fn no_scoped_key_reaches_outside_its_project(
            roots in proptest::collection::vec(0usize..3, 1..4),
            ops in proptest::collection::vec(arb_scope_op(), 1..40),
        ) {
            let write = Permission::parse("api_keys:write").unwrap();
            let admin = perms(&["admin:*"]);
            let now = at(NOW);
            let mut keys: Vec<(KeyState, Option<ProjectId>)> = Vec::new();
            for (i, r) in roots.iter().enumerate() {
                let mut rec = record_with(admin.clone());
                rec.project_id = PROJECTS[*r].map(ProjectId::from);
                // The project a key must stay in: its root's (None: unconfined).
                let confined = rec.project_id.clone();
                keys.push((KeyState::new(rec, hash(i as u8)), confined));
            }
            for op in ops {
                match op {
                    ScopeOp::Create { actor, choice } => {
                        let actor = actor % keys.len();
                        let choice = match choice {
                            0 => ProjectChoice::Absent,
                            1 => ProjectChoice::Unscoped,
                            n => ProjectChoice::Project(if n == 2 { "proj_a" } else { "proj_b" }.into()),
                        };
                        let req = create_requirement(&write, &admin, None, &choice);
                        let h = hash(actor as u8);
                        if keys[actor].0.check(&h, &req, now).denial().is_none() {
                            let own = keys[actor].0.record.project_id.clone();
                            let project = choice.resolve(own.as_ref());
                            let confined = keys[actor].1.clone();
                            if confined.is_some() {
                                proptest::prop_assert_eq!(&project, &confined);
                            }
                            let mut rec = record_with(admin.clone());
                            rec.project_id = project;
                            let n = keys.len() as u8;
                            keys.push((KeyState::new(rec, hash(n)), confined));
                        }
                    }
                    ScopeOp::Manage { actor, target } => {
                        let (actor, target) = (actor % keys.len(), target % keys.len());
                        let t = keys[target].0.record.clone();
                        let req = management_requirement(&write, Some(&t), None);
                        let h = hash(actor as u8);
                        let admitted = keys[actor].0.check(&h, &req, now).denial().is_none();
                        let in_object = Manager::of(&keys[actor].0.record).may_manage(&t).is_ok();
                        proptest::prop_assert_eq!(admitted, in_object, "edge and object agree");
                        if admitted {
                            if let Some(p) = &keys[actor].1 {
                                proptest::prop_assert_eq!(t.project_id.as_ref(), Some(p));
                            }
                        }
                    }
                }
            }
        }
    }
}
