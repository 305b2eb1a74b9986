//! A key's state as its Durable Object holds it, and what the object does with it: check a
//! request (decide, then count), apply a manager's patch, disable, delete. Pure functions of
//! (state, request, now); the object only loads, calls these, persists and answers.

use super::access::{decide, Denial, Manager, Requirement};
use super::credits::Balance;
use super::events::{key_event, Event};
use super::history::{self, History, Locations};
use super::input::KeyPatch;
use super::key::KeyHash;
use super::lifecycle::{self, Notices};
use super::limits::TeamLimits;
use super::model::{KeyRecord, KeyStatus, UsageView};
use super::monitoring::{self, Counted};
use super::ratelimit::{self, Counters, LimitState, Usage};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use super::key_patch::{apply_patch, disable, Refusal, UpdateError};

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
    /// The expiry notices already sent (`core::lifecycle`).
    #[serde(default)]
    pub notices: Notices,
    /// Counted requests per UTC day by outcome, 90 days (`core::history`).
    #[serde(default)]
    pub history: History,
    /// The countries it was used from, at most 50.
    #[serde(default)]
    pub locations: Locations,
    /// The rate-limit window `api_key.rate_limited` was last raised for (its reset time).
    #[serde(default)]
    pub rate_limited_window: Option<i64>,
    /// The UTC month (`Timestamp::utc_month`) `api_key.quota_exceeded` was last raised for.
    #[serde(default)]
    pub quota_exceeded_month: Option<i64>,
    /// When `api_key.blocked_ip` was last raised (ms): at most once an hour.
    #[serde(default)]
    pub blocked_ip_at: Option<i64>,
    /// The credits balance, for a key with credits (`core::credits`).
    #[serde(default)]
    pub credits: Option<Balance>,
    /// A new UTC day started: the earlier days must be written (their own part). Never stored.
    #[serde(skip)]
    pub history_rolled: bool,
    /// Events a check raised (`api_key.new_location`, `api_key.rate_limited`), for the object
    /// to hold with the counters it writes. Never stored here.
    #[serde(skip)]
    pub alerts: Vec<Event>,
    /// What the team's monitoring has not been told yet (`core::monitoring`).
    #[serde(default)]
    pub report: monitoring::Pending,
    /// Hourly tallies a check made due (at most once a minute), for the object to send off the
    /// request's path. Never stored here.
    #[serde(skip)]
    pub reports: Vec<(i64, monitoring::Tally)>,
    /// The team's idle setting and the idle stretch notified (`core::idle`); in the record part.
    #[serde(default)]
    pub idle: super::idle::IdlePolicy,
    /// The length of a day for the idle policy (`core::idle::day_ms`): the deployment's, set
    /// by the object when it loads. Never stored.
    #[serde(skip, default = "idle_day")]
    pub idle_day_ms: i64,
}

fn idle_day() -> i64 {
    super::idle::DAY_MS
}

/// What changes on every counted request, stored apart from the record so that a check writes a
/// small row, not the whole key: of the history, only today (the earlier days are their own
/// part, written once a day, when a new day starts: `KeyState::earlier_days`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountersPart {
    pub counters: Counters,
    pub usage: Usage,
    pub last_used: Option<Timestamp>,
    pub last_used_published: Option<Timestamp>,
    #[serde(default)]
    pub history: History,
    #[serde(default)]
    pub locations: Locations,
    #[serde(default)]
    pub rate_limited_window: Option<i64>,
    #[serde(default)]
    pub report: monitoring::Pending,
    #[serde(default)]
    pub quota_exceeded_month: Option<i64>,
    #[serde(default)]
    pub credits: Option<Balance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_ip_at: Option<i64>,
}

/// What changes only when the key is managed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordPart {
    pub record: KeyRecord,
    pub hash: KeyHash,
    pub revision: u64,
    #[serde(default)]
    pub notices: Notices,
    #[serde(default, skip_serializing_if = "is_default")]
    pub idle: super::idle::IdlePolicy,
}

fn is_default(p: &super::idle::IdlePolicy) -> bool {
    *p == super::idle::IdlePolicy::default()
}

impl KeyState {
    pub fn counters_part(&self) -> CountersPart {
        CountersPart {
            counters: self.counters,
            usage: self.usage,
            last_used: self.record.last_used,
            last_used_published: self.last_used_published,
            history: History {
                days: self.history.days.last().copied().into_iter().collect(),
            },
            locations: self.locations.clone(),
            rate_limited_window: self.rate_limited_window,
            report: self.report.clone(),
            quota_exceeded_month: self.quota_exceeded_month,
            credits: self.credits,
            blocked_ip_at: self.blocked_ip_at,
        }
    }

    /// The history's days before the current one (a part of their own, written at rollover).
    pub fn earlier_days(&self) -> History {
        let n = self.history.days.len().saturating_sub(1);
        History {
            days: self.history.days[..n].to_vec(),
        }
    }

    pub fn record_part(&self) -> RecordPart {
        RecordPart {
            record: self.record.clone(),
            hash: self.hash,
            revision: self.revision,
            notices: self.notices,
            idle: self.idle,
        }
    }

    /// Joins the stored parts (the counters part is absent before the first request, the
    /// earlier days before the first new day).
    pub fn from_parts(r: RecordPart, c: Option<CountersPart>, earlier: Option<History>) -> Self {
        let mut s = KeyState::new(r.record, r.hash);
        s.revision = r.revision;
        s.notices = r.notices;
        s.idle = r.idle;
        if let Some(c) = c {
            s.counters = c.counters;
            s.usage = c.usage;
            s.record.last_used = c.last_used.or(s.record.last_used);
            s.last_used_published = c.last_used_published;
            let current = c.history.days.first().map(|d| d.day);
            s.history = earlier.unwrap_or_default();
            s.history.days.retain(|d| current.is_none_or(|c| d.day < c));
            s.history.days.extend(c.history.days);
            s.locations = c.locations;
            s.rate_limited_window = c.rate_limited_window;
            s.quota_exceeded_month = c.quota_exceeded_month;
            s.credits = c.credits;
            s.blocked_ip_at = c.blocked_ip_at;
            s.report = c.report;
        }
        s
    }
}

/// The answer to a check: one of its three legal outcomes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    /// No such key, or the hash does not match: nothing about the key is said.
    Invalid,
    /// Refused (disabled, expired, a permission, a project, the rate limit): the key as it
    /// stands and its windows, for the answer's fields and headers. Nothing was counted.
    Denied {
        denial: Denial,
        record: Box<KeyRecord>,
        limit: LimitState,
    },
    /// Admitted. `counted`: the request was counted, so the counters must be persisted.
    Admitted {
        record: Box<KeyRecord>,
        limit: LimitState,
        usage: UsageView,
        counted: bool,
    },
}

impl CheckResult {
    /// Why it was refused (`invalid_key` for an unknown key), or `None` when admitted.
    pub fn denial(&self) -> Option<Denial> {
        match self {
            CheckResult::Invalid => Some(Denial::InvalidKey),
            CheckResult::Denied { denial, .. } => Some(denial.clone()),
            CheckResult::Admitted { .. } => None,
        }
    }

    /// The key's windows, when the key exists.
    pub fn limit(&self) -> Option<LimitState> {
        match self {
            CheckResult::Invalid => None,
            CheckResult::Denied { limit, .. } | CheckResult::Admitted { limit, .. } => Some(*limit),
        }
    }

    /// Did the check change the state (a counted request), so that it must be persisted?
    pub fn counted(&self) -> bool {
        matches!(self, CheckResult::Admitted { counted: true, .. })
    }
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
            notices: Notices::default(),
            history: History::default(),
            history_rolled: false,
            locations: Locations::default(),
            rate_limited_window: None,
            quota_exceeded_month: None,
            blocked_ip_at: None,
            credits: None,
            alerts: Vec::new(),
            report: monitoring::Pending::default(),
            reports: Vec::new(),
            idle: Default::default(),
            idle_day_ms: idle_day(),
        }
    }

    /// Runs the checks in order; counts the request only if it passes them all and
    /// `req.count` is set. A counted request (`req.count`) with the right hash also goes into
    /// the key's history by outcome and its locations, which may raise an alert
    /// (`self.alerts`): the object then writes the counters part, as for an admitted request.
    pub fn check(&mut self, hash: &KeyHash, req: &Requirement, now: Timestamp) -> CheckResult {
        if !self.hash.ct_eq(hash) {
            return CheckResult::Invalid;
        }
        if req.count {
            if let Some(country) = req.country.as_deref() {
                if self.locations.record(country, now) {
                    let seed = format!("new_location:{country}:{}", now.millis());
                    let code = country.to_ascii_uppercase();
                    let extra = [("country", code.clone().into())];
                    let e = key_event("api_key.new_location", &self.record, &extra, &seed, now);
                    self.alerts.push(e);
                    self.audit_alert("api_key.new_location", json!({"country": code}), &seed, now);
                }
            }
        }
        let denied = |s: &mut Self, denial: Denial, limit: LimitState| {
            if req.count {
                let (outcome, counted) = match denial {
                    Denial::RateLimited => (history::Outcome::RateLimited, Counted::RateLimited),
                    _ => (history::Outcome::Denied, Counted::Denied(denial.code())),
                };
                s.record_history(outcome, now);
                s.tally(counted, now);
                if denial == Denial::RateLimited {
                    s.raise_rate_limited(&limit, now);
                }
                if denial == Denial::QuotaExceeded {
                    s.raise_quota_exceeded(&limit, now);
                }
                if denial == Denial::IpNotAllowed {
                    s.raise_blocked_ip(req.ip, now);
                }
            }
            CheckResult::Denied {
                denial,
                record: Box::new(s.record.clone()),
                limit,
            }
        };
        if let Some(d) = decide(&self.record, req, now) {
            let limit = ratelimit::peek(&self.record.rate_limit, &self.counters, now);
            return denied(self, d, limit);
        }
        let limit = if req.count {
            let before = self.counters;
            match ratelimit::admit(&self.record.rate_limit, &mut self.counters, now) {
                Ok(limit) => {
                    // Credits last: too few, and the windows take back what they just counted.
                    if self.spend_credits(req.cost, now).is_err() {
                        self.counters = before;
                        let limit = ratelimit::peek(&self.record.rate_limit, &self.counters, now);
                        return denied(self, Denial::UsageExceeded, limit);
                    }
                    self.usage.record(now);
                    self.record_history(history::Outcome::Admitted, now);
                    self.tally(Counted::Admitted, now);
                    self.record.last_used = Some(now);
                    limit
                }
                Err(limit) if limit.quota_exceeded() => {
                    return denied(self, Denial::QuotaExceeded, limit)
                }
                Err(limit) => return denied(self, Denial::RateLimited, limit),
            }
        } else {
            ratelimit::peek(&self.record.rate_limit, &self.counters, now)
        };
        CheckResult::Admitted {
            record: Box::new(self.record.clone()),
            limit,
            usage: self.usage_view(now),
            counted: req.count,
        }
    }

    /// Applies a manager's patch, if the manager may manage the key as it is now (checked here,
    /// atomically with the change). Bumps the revision the listing keeps.
    pub fn update(
        &mut self,
        patch: &KeyPatch,
        manager: &Manager,
        limits: Option<&TeamLimits>,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        manager.may_manage(&self.record).map_err(Refusal::Denied)?;
        let mut record = self.record.clone();
        apply_patch(&mut record, patch, limits, now).map_err(Refusal::Rejected)?;
        self.record = record;
        self.revision += 1;
        Ok(())
    }

    /// Disables the key for good, if the manager may; `Ok(false)` when it already was.
    pub fn disable(&mut self, manager: &Manager, now: Timestamp) -> Result<bool, Denial> {
        manager.may_manage(&self.record)?;
        let changed = disable(&mut self.record, now);
        if changed {
            self.revision += 1;
        }
        Ok(changed)
    }

    /// Rolls the key: it keeps working for `expire_old_in_secs` more (never longer than it
    /// would have), if the manager may manage it and it is still active.
    pub fn roll(
        &mut self,
        manager: &Manager,
        expire_old_in_secs: i64,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        manager.may_manage(&self.record).map_err(Refusal::Denied)?;
        if self.record.status(now) != KeyStatus::Active {
            return Err(Refusal::Rejected(UpdateError::Inactive));
        }
        let expires_at = lifecycle::rolled_expiry(self.record.expires_at, now, expire_old_in_secs);
        self.record.expires_at = Some(expires_at);
        // The old key is on its way out: renewing it would undo the roll.
        self.record.auto_renew = false;
        self.record.updated_at = now;
        self.revision += 1;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::input::RateLimitInput;

    use crate::core::fixtures::{at, hash, need, perms, record, NOW};

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
                per_month: None,
            }),
            ..Default::default()
        };
        apply_patch(&mut rec, &patch, None, now).unwrap();
        let ceiling = crate::core::limits::TeamLimits {
            max_per_minute: 40,
            ..Default::default()
        };
        assert!(matches!(
            apply_patch(&mut rec, &patch, Some(&ceiling), now),
            Err(UpdateError::AboveCeiling(ref c)) if c.field == "per_minute"
        ));
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
            apply_patch(&mut rec, &perm_patch, None, now),
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
        // What the object takes after each call (reports to send) is never stored.
        s.reports.clear();
        let joined = KeyState::from_parts(
            s.record_part(),
            Some(s.counters_part()),
            Some(s.earlier_days()),
        );
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

    #[test]
    fn checks_go_into_the_history_by_outcome_and_raise_alerts_once() {
        let t0 = at(NOW);
        let mut s = KeyState::new(record(&["tasks:read"]), hash(1));
        s.record.rate_limit.per_minute = 2;
        let from = |c: &str, perms: &[&str]| Requirement {
            country: Some(c.into()),
            ..need(perms)
        };
        // Admitted twice (from two countries: the second is a new location), then limited twice
        // (one alert for the window), refused once for a permission, and a wrong hash: nothing.
        s.check(&hash(1), &from("de", &["tasks:read"]), t0);
        assert!(s.alerts.is_empty(), "the first country is no alert");
        s.check(&hash(1), &from("FR", &["tasks:read"]), t0);
        s.check(&hash(1), &from("FR", &["tasks:read"]), t0);
        s.check(&hash(1), &from("FR", &["tasks:read"]), t0);
        s.check(&hash(1), &from("FR", &["tasks:write"]), t0);
        s.check(&hash(2), &from("US", &["tasks:read"]), t0);
        let kinds: Vec<&str> = s.alerts.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "api_key.new_location",
                "audit",
                "api_key.rate_limited",
                "audit"
            ],
            "each alert, and its audit entry by keygate itself"
        );
        assert!(s.alerts[1]
            .body
            .contains(r#""actor":{"type":"system","id":null}"#));
        let day = s.history.last(1, t0)[0];
        assert_eq!((day.admitted, day.rate_limited, day.denied), (2, 2, 1));
        let countries: Vec<&str> = s
            .locations
            .seen
            .iter()
            .map(|l| l.country.as_str())
            .collect();
        assert_eq!(
            countries,
            ["DE", "FR"],
            "a wrong hash says nothing about the key"
        );
        // Not counted (GET /v1/rate-limit): not in the history.
        s.check(
            &hash(1),
            &Requirement {
                count: false,
                ..need(&["tasks:read"])
            },
            t0,
        );
        assert_eq!(s.history.last(1, t0)[0].admitted, 2);
        // The parts keep it all.
        let joined = KeyState::from_parts(
            s.record_part(),
            Some(s.counters_part()),
            Some(s.earlier_days()),
        );
        assert_eq!(
            (joined.history, joined.locations),
            (s.history.clone(), s.locations.clone())
        );
    }

    #[test]
    fn a_check_writes_only_todays_history_and_the_earlier_days_once_a_day() {
        const DAY: i64 = 86_400_000;
        let t0 = at(NOW);
        let mut s = KeyState::new(record(&["tasks:read"]), hash(1));
        s.check(&hash(1), &need(&["tasks:read"]), t0);
        assert!(!s.history_rolled, "the first day has nothing earlier");
        s.check(
            &hash(1),
            &need(&["tasks:read"]),
            Timestamp::from_millis(t0.millis() + DAY),
        );
        assert!(s.history_rolled, "a new day: the earlier days are written");
        s.history_rolled = false;
        s.check(
            &hash(1),
            &need(&["tasks:read"]),
            Timestamp::from_millis(t0.millis() + DAY + 1),
        );
        assert!(
            !s.history_rolled,
            "the same day again: only the counters row"
        );
        assert_eq!(s.counters_part().history.days.len(), 1);
        assert_eq!(s.earlier_days().days.len(), 1);
        let joined = KeyState::from_parts(
            s.record_part(),
            Some(s.counters_part()),
            Some(s.earlier_days()),
        );
        assert_eq!(joined.history, s.history);
        // A stale earlier-days part never duplicates today.
        let stale = History {
            days: s.history.days.clone(),
        };
        let joined = KeyState::from_parts(s.record_part(), Some(s.counters_part()), Some(stale));
        assert_eq!(joined.history, s.history);
    }
}
