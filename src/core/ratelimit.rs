//! Rate limits and usage counts: pure functions of (policy, stored counters, now).
//!
//! Each key has two fixed windows aligned to the UTC clock, a minute (`hh:mm:00`–`hh:mm:59`) and
//! an hour (`hh:00:00`–`hh:59:59`), and may have a monthly quota: a third window, the UTC
//! calendar month (the 1st 00:00:00 to the last day's 23:59:59, so 28 to 31 days long). A
//! request is admitted only if every window has room, and an admitted request counts in all. A
//! rejected one counts in none. A full minute or hour is `rate_limited`; room there but a full
//! month is `quota_exceeded` (that order).
//!
//! A policy change takes effect at once, against the counts already made in the current windows:
//! lowering a limit below what was already used leaves zero remaining until the window rolls over;
//! raising it frees the difference immediately. Counts are never reset by a policy change.

use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The highest limit a window may have.
pub const MAX_LIMIT: u32 = 1_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Professional,
    Enterprise,
}

impl Plan {
    pub fn parse(s: &str) -> Option<Plan> {
        match s {
            "free" => Some(Plan::Free),
            "professional" => Some(Plan::Professional),
            "enterprise" => Some(Plan::Enterprise),
            _ => None,
        }
    }

    /// The monthly quota a key of the plan gets unless it names one (`enterprise`: none).
    pub fn month_default(self) -> Option<u32> {
        match self {
            Plan::Free => Some(10_000),
            Plan::Professional => Some(1_000_000),
            Plan::Enterprise => None,
        }
    }

    /// (per minute, per hour), or `None` for a plan without fixed numbers.
    pub fn defaults(self) -> Option<(u32, u32)> {
        match self {
            Plan::Free => Some((100, 1_000)),
            Plan::Professional => Some((500, 10_000)),
            Plan::Enterprise => None,
        }
    }
}

/// A key's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitPolicy {
    pub plan: Plan,
    pub per_minute: u32,
    pub per_hour: u32,
    /// Admitted requests per UTC calendar month, or none. Keys stored before quotas existed
    /// load with none: a deployment's upgrade never starts refusing a key that worked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_month: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// `enterprise` has no numbers of its own.
    EnterpriseNeedsBoth,
    /// A number outside 1..=MAX_LIMIT.
    OutOfRange(&'static str),
}

impl RateLimitPolicy {
    /// A plan fills in its numbers; explicit numbers override them.
    pub fn build(
        plan: Plan,
        per_minute: Option<u32>,
        per_hour: Option<u32>,
    ) -> Result<Self, PolicyError> {
        for (name, v) in [("per_minute", per_minute), ("per_hour", per_hour)] {
            if let Some(v) = v {
                if !(1..=MAX_LIMIT).contains(&v) {
                    return Err(PolicyError::OutOfRange(name));
                }
            }
        }
        let (per_minute, per_hour) = match (plan.defaults(), per_minute, per_hour) {
            (_, Some(m), Some(h)) => (m, h),
            (Some((dm, dh)), m, h) => (m.unwrap_or(dm), h.unwrap_or(dh)),
            (None, _, _) => return Err(PolicyError::EnterpriseNeedsBoth),
        };
        Ok(RateLimitPolicy {
            plan,
            per_minute,
            per_hour,
            per_month: plan.month_default(),
        })
    }

    /// The policy with `per_month` given explicitly (1..=MAX_LIMIT), else as it is.
    pub fn with_month(self, per_month: Option<u32>) -> Result<Self, PolicyError> {
        match per_month {
            None => Ok(self),
            Some(v) if (1..=MAX_LIMIT).contains(&v) => Ok(RateLimitPolicy {
                per_month: Some(v),
                ..self
            }),
            Some(_) => Err(PolicyError::OutOfRange("per_month")),
        }
    }

    pub fn free() -> Self {
        Self::build(Plan::Free, None, None).expect("free has defaults")
    }
}

/// Seconds in each window, in the order windows are reported.
pub const WINDOWS: [(&str, i64); 2] = [("minute", 60), ("hour", 3_600)];

/// What the key's object stores between requests: each window's start and count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Per window (as in [`WINDOWS`]): the window's start in Unix seconds, and its count.
    pub windows: [(i64, u32); 2],
    /// The calendar month's start in Unix seconds, and its count (rows stored before quotas
    /// existed load with none counted).
    #[serde(default)]
    pub month: (i64, u32),
}

fn window_start(now: Timestamp, len: i64) -> i64 {
    let s = now.secs();
    s - s.rem_euclid(len)
}

impl Counters {
    /// The count of window `i` as of `now` (zero once the stored window has rolled over).
    fn count(&self, i: usize, now: Timestamp) -> u32 {
        let (start, count) = self.windows[i];
        if start == window_start(now, WINDOWS[i].1) {
            count
        } else {
            0
        }
    }

    /// The calendar month's count as of `now`.
    fn month_count(&self, now: Timestamp) -> u32 {
        let (start, count) = self.month;
        if start == now.utc_month_start() {
            count
        } else {
            0
        }
    }
}

/// One window as clients see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowState {
    pub name: WindowName,
    pub limit: u32,
    pub remaining: u32,
    /// When the window rolls over, in Unix seconds.
    pub reset: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowName {
    Minute,
    Hour,
    Month,
}

impl WindowName {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowName::Minute => "minute",
            WindowName::Hour => "hour",
            WindowName::Month => "month",
        }
    }
}

impl WindowState {
    /// The window's length in seconds (a month's is that month's: 28 to 31 days).
    pub fn seconds(&self) -> i64 {
        match self.name {
            WindowName::Minute => 60,
            WindowName::Hour => 3_600,
            WindowName::Month => {
                let start = Timestamp::from_secs(self.reset - 1).utc_month_start();
                self.reset - start
            }
        }
    }
}

/// Every window after a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitState {
    pub minute: WindowState,
    pub hour: WindowState,
    /// The calendar month, for a key with a monthly quota.
    #[serde(default)]
    pub month: Option<WindowState>,
}

impl LimitState {
    /// The windows in the order they are reported: minute, hour, then the month if any.
    pub fn windows(&self) -> Vec<&WindowState> {
        let mut w = vec![&self.minute, &self.hour];
        w.extend(self.month.as_ref());
        w
    }

    /// The window with the fewest remaining; on a tie, the one that resets later (it is the one
    /// that keeps refusing). This is what the `X-RateLimit-*` headers describe.
    pub fn binding(&self) -> &WindowState {
        self.windows()
            .into_iter()
            .max_by_key(|w| (std::cmp::Reverse(w.remaining), w.reset))
            .unwrap_or(&self.minute)
    }

    /// A refusal with room in the minute and the hour was the monthly quota's.
    pub fn quota_exceeded(&self) -> bool {
        self.minute.remaining > 0
            && self.hour.remaining > 0
            && self.month.is_some_and(|m| m.remaining == 0)
    }

    /// Whole seconds until a request can be admitted again (at least 1), or `None` if one can
    /// be admitted now.
    pub fn retry_after(&self, now: Timestamp) -> Option<i64> {
        self.windows()
            .into_iter()
            .filter(|w| w.remaining == 0)
            .map(|w| {
                (w.reset * 1000 - now.millis() + 999)
                    .div_euclid(1000)
                    .max(1)
            })
            .max()
    }
}

fn state(policy: &RateLimitPolicy, counters: &Counters, now: Timestamp) -> LimitState {
    let window = |i: usize, name: WindowName, limit: u32| WindowState {
        name,
        limit,
        remaining: limit.saturating_sub(counters.count(i, now)),
        reset: window_start(now, WINDOWS[i].1) + WINDOWS[i].1,
    };
    LimitState {
        minute: window(0, WindowName::Minute, policy.per_minute),
        hour: window(1, WindowName::Hour, policy.per_hour),
        month: policy.per_month.map(|limit| WindowState {
            name: WindowName::Month,
            limit,
            remaining: limit.saturating_sub(counters.month_count(now)),
            reset: now.utc_next_month_start(),
        }),
    }
}

/// The windows as they stand, counting nothing (`GET /v1/rate-limit`, rejected requests).
pub fn peek(policy: &RateLimitPolicy, counters: &Counters, now: Timestamp) -> LimitState {
    state(policy, counters, now)
}

/// Admits one request if every window has room, counting it in all (`Ok`), or refuses it and
/// counts nothing (`Err`; [`LimitState::quota_exceeded`] tells which refusal). Either way,
/// returns the windows as they stand afterwards. The month is counted even without a quota, so
/// that a quota set mid-month applies to the requests already made in it.
pub fn admit(
    policy: &RateLimitPolicy,
    counters: &mut Counters,
    now: Timestamp,
) -> Result<LimitState, LimitState> {
    let before = state(policy, counters, now);
    if before.windows().iter().any(|w| w.remaining == 0) {
        return Err(before);
    }
    for (i, (_, len)) in WINDOWS.iter().enumerate() {
        let count = counters.count(i, now);
        counters.windows[i] = (window_start(now, *len), count + 1);
    }
    counters.month = (now.utc_month_start(), counters.month_count(now) + 1);
    Ok(state(policy, counters, now))
}

/// Admitted requests per UTC calendar day and month, exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub day: i64,
    pub today: u64,
    pub month: i64,
    pub this_month: u64,
}

impl Usage {
    pub fn record(&mut self, now: Timestamp) {
        let (today, this_month) = self.counts(now);
        *self = Usage {
            day: now.utc_day(),
            today: today + 1,
            month: now.utc_month(),
            this_month: this_month + 1,
        };
    }

    /// (requests today, requests this month) as of `now`.
    pub fn counts(&self, now: Timestamp) -> (u64, u64) {
        let today = if self.day == now.utc_day() {
            self.today
        } else {
            0
        };
        let month = if self.month == now.utc_month() {
            self.this_month
        } else {
            0
        };
        (today, month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn policy(m: u32, h: u32) -> RateLimitPolicy {
        RateLimitPolicy::build(Plan::Enterprise, Some(m), Some(h)).unwrap()
    }

    #[test]
    fn plans_fill_in_and_numbers_override() {
        assert_eq!(RateLimitPolicy::free(), policy_of(Plan::Free, 100, 1_000));
        let pro = RateLimitPolicy::build(Plan::Professional, None, Some(20_000)).unwrap();
        assert_eq!(pro, policy_of(Plan::Professional, 500, 20_000));
        assert_eq!(
            RateLimitPolicy::build(Plan::Enterprise, Some(5), None),
            Err(PolicyError::EnterpriseNeedsBoth)
        );
        assert_eq!(
            RateLimitPolicy::build(Plan::Free, Some(0), None),
            Err(PolicyError::OutOfRange("per_minute"))
        );
    }

    fn policy_of(plan: Plan, per_minute: u32, per_hour: u32) -> RateLimitPolicy {
        RateLimitPolicy {
            plan,
            per_minute,
            per_hour,
            per_month: plan.month_default(),
        }
    }

    #[test]
    fn admits_up_to_the_minute_limit_then_refuses_until_the_boundary() {
        let p = policy(3, 100);
        let mut c = Counters::default();
        let t = at("2026-10-14T10:20:30Z");
        for left in [2, 1, 0] {
            assert_eq!(admit(&p, &mut c, t).unwrap().minute.remaining, left);
        }
        let refused = admit(&p, &mut c, at("2026-10-14T10:20:59.999Z")).unwrap_err();
        assert_eq!(refused.minute.reset, at("2026-10-14T10:21:00Z").secs());
        assert_eq!(refused.retry_after(at("2026-10-14T10:20:59.999Z")), Some(1));
        assert_eq!(refused.retry_after(t), Some(30));
        // The next minute starts exactly on the boundary.
        let next = admit(&p, &mut c, at("2026-10-14T10:21:00Z")).unwrap();
        assert_eq!(next.minute.remaining, 2);
        assert_eq!(next.hour.remaining, 96);
    }

    #[test]
    fn the_hour_binds_across_minutes() {
        let p = policy(10, 4);
        let mut c = Counters::default();
        for m in 0..4 {
            admit(&p, &mut c, at(&format!("2026-10-14T10:0{m}:00Z"))).unwrap();
        }
        let refused = admit(&p, &mut c, at("2026-10-14T10:05:00Z")).unwrap_err();
        assert_eq!(refused.binding().name, WindowName::Hour);
        assert_eq!(
            refused.retry_after(at("2026-10-14T10:05:00Z")),
            Some(55 * 60)
        );
        assert!(admit(&p, &mut c, at("2026-10-14T11:00:00Z")).is_ok());
    }

    #[test]
    fn refusals_count_nothing_and_peek_counts_nothing() {
        let p = policy(1, 10);
        let mut c = Counters::default();
        let t = at("2026-10-14T10:00:00Z");
        admit(&p, &mut c, t).unwrap();
        let snapshot = c;
        admit(&p, &mut c, t).unwrap_err();
        peek(&p, &c, t);
        assert_eq!(c, snapshot);
    }

    #[test]
    fn policy_change_mid_window_applies_to_counts_already_made() {
        let mut c = Counters::default();
        let t = at("2026-10-14T10:00:10Z");
        for _ in 0..5 {
            admit(&policy(10, 100), &mut c, t).unwrap();
        }
        // Lowered below what was used: nothing remains until the window rolls over.
        assert_eq!(peek(&policy(3, 100), &c, t).minute.remaining, 0);
        assert!(admit(&policy(3, 100), &mut c, t).is_err());
        // Raised: the difference is free at once.
        assert_eq!(peek(&policy(8, 100), &c, t).minute.remaining, 3);
    }

    #[test]
    fn binding_window_prefers_fewest_then_later_reset() {
        let p = policy(100, 100);
        let s = peek(&p, &Counters::default(), at("2026-10-14T10:00:00Z"));
        assert_eq!(
            s.binding().name,
            WindowName::Hour,
            "tie: the hour resets later"
        );
        let p = policy(5, 100);
        assert_eq!(
            peek(&p, &Counters::default(), at("2026-10-14T10:00:00Z"))
                .binding()
                .name,
            WindowName::Minute
        );
    }

    fn quota(m: u32, h: u32, month: u32) -> RateLimitPolicy {
        policy(m, h).with_month(Some(month)).unwrap()
    }

    #[test]
    fn plans_carry_a_monthly_quota_and_old_policies_load_without_one() {
        assert_eq!(RateLimitPolicy::free().per_month, Some(10_000));
        let pro = RateLimitPolicy::build(Plan::Professional, None, None).unwrap();
        assert_eq!(pro.per_month, Some(1_000_000));
        assert_eq!(policy(5, 50).per_month, None);
        assert_eq!(
            policy(5, 50).with_month(Some(0)),
            Err(PolicyError::OutOfRange("per_month"))
        );
        let old: RateLimitPolicy =
            serde_json::from_str(r#"{"plan":"free","per_minute":100,"per_hour":1000}"#).unwrap();
        assert_eq!(old.per_month, None);
        let old: Counters = serde_json::from_str(r#"{"windows":[[0,1],[0,1]]}"#).unwrap();
        assert_eq!(old.month, (0, 0));
        assert_eq!(
            peek(&policy(5, 50), &old, at("2026-10-14T10:00:00Z")).month,
            None
        );
    }

    #[test]
    fn the_month_refuses_as_quota_until_the_next_utc_month() {
        let p = quota(100, 1_000, 3);
        let mut c = Counters::default();
        // A leap day, the month's last second.
        let t = at("2028-02-29T23:59:59Z");
        for left in [2, 1, 0] {
            let s = admit(&p, &mut c, t).unwrap();
            assert_eq!(s.month.unwrap().remaining, left);
        }
        let refused = admit(&p, &mut c, t).unwrap_err();
        assert!(refused.quota_exceeded());
        assert_eq!(refused.binding().name, WindowName::Month);
        assert_eq!(
            refused.month.unwrap().reset,
            at("2028-03-01T00:00:00Z").secs()
        );
        assert_eq!(refused.month.unwrap().seconds(), 29 * 86_400);
        assert_eq!(refused.retry_after(t), Some(1));
        let s = admit(&p, &mut c, at("2028-03-01T00:00:00Z")).unwrap();
        assert_eq!(s.month.unwrap().remaining, 2);
        assert_eq!(s.month.unwrap().seconds(), 31 * 86_400);
    }

    #[test]
    fn a_full_minute_is_a_rate_limit_even_when_the_month_is_full_too() {
        let p = quota(1, 1_000, 1);
        let mut c = Counters::default();
        let t = at("2026-12-31T10:00:00Z");
        admit(&p, &mut c, t).unwrap();
        let refused = admit(&p, &mut c, t).unwrap_err();
        assert!(!refused.quota_exceeded(), "the rate limit comes first");
        // The Retry-After is the later of the full windows: the month's end.
        let end = at("2027-01-01T00:00:00Z").secs();
        assert_eq!(refused.retry_after(t), Some(end - t.secs()));
        let next_minute = admit(&p, &mut c, at("2026-12-31T10:01:00Z")).unwrap_err();
        assert!(next_minute.quota_exceeded());
    }

    #[test]
    fn a_quota_set_mid_month_counts_the_months_requests_already_made() {
        let mut c = Counters::default();
        let t = at("2026-10-14T10:00:00Z");
        for _ in 0..4 {
            admit(&policy(100, 1_000), &mut c, t).unwrap();
        }
        let s = peek(&quota(100, 1_000, 5), &c, at("2026-10-20T10:00:00Z"));
        assert_eq!(s.month.unwrap().remaining, 1);
    }

    #[test]
    fn usage_rolls_over_on_utc_day_and_month() {
        let mut u = Usage::default();
        u.record(at("2026-01-31T23:59:59Z"));
        u.record(at("2026-01-31T23:59:59Z"));
        assert_eq!(u.counts(at("2026-01-31T23:59:59Z")), (2, 2));
        assert_eq!(u.counts(at("2026-02-01T00:00:00Z")), (0, 0));
        u.record(at("2026-02-01T00:00:00Z"));
        u.record(at("2026-02-02T08:00:00Z"));
        assert_eq!(u.counts(at("2026-02-02T09:00:00Z")), (1, 2));
    }

    proptest! {
        /// However requests fall in time, no window ever admits more than its limit.
        #[test]
        fn never_admits_more_than_the_limit(
            per_minute in 1u32..8, per_hour in 1u32..20,
            steps in proptest::collection::vec(0i64..40_000, 1..200),
        ) {
            let p = policy(per_minute, per_hour);
            let mut c = Counters::default();
            let mut now = at("2026-10-14T10:00:00Z").millis();
            let mut admitted: std::collections::HashMap<(usize, i64), u32> = Default::default();
            for step in steps {
                now += step;
                let t = Timestamp::from_millis(now);
                if admit(&p, &mut c, t).is_ok() {
                    for (i, (_, len)) in WINDOWS.iter().enumerate() {
                        *admitted.entry((i, window_start(t, *len))).or_default() += 1;
                    }
                }
            }
            for ((i, _), n) in admitted {
                prop_assert!(n <= [per_minute, per_hour][i]);
            }
        }

        /// A window rolls over exactly at its boundary: however a minute was used up, the last
        /// millisecond before the next minute still refuses and the first millisecond of it has
        /// the whole limit again (the hour permitting).
        #[test]
        fn windows_roll_over_exactly_at_the_boundary(
            per_minute in 1u32..6, minute in 0i64..59, used_at in 0i64..60_000,
        ) {
            let p = policy(per_minute, 1_000);
            let start = at("2026-10-14T10:00:00Z").millis() + minute * 60_000;
            let mut c = Counters::default();
            for _ in 0..per_minute {
                admit(&p, &mut c, Timestamp::from_millis(start + used_at)).unwrap();
            }
            let last = Timestamp::from_millis(start + 59_999);
            prop_assert!(admit(&p, &mut c, last).is_err());
            let next = Timestamp::from_millis(start + 60_000);
            prop_assert_eq!(peek(&p, &c, next).minute.remaining, per_minute);
            prop_assert_eq!(admit(&p, &mut c, next).unwrap().minute.remaining, per_minute - 1);
        }

        /// However requests fall over months, no calendar month admits more than its quota.
        #[test]
        fn never_admits_more_than_the_quota_in_a_month(
            per_month in 1u32..10,
            steps in proptest::collection::vec(0i64..3_000_000_000, 1..100),
        ) {
            let p = quota(1_000, 10_000, per_month);
            let mut c = Counters::default();
            let mut now = at("2027-12-30T00:00:00Z").millis();
            let mut admitted: std::collections::HashMap<i64, u32> = Default::default();
            for step in steps {
                now += step / 30;
                let t = Timestamp::from_millis(now);
                match admit(&p, &mut c, t) {
                    Ok(_) => *admitted.entry(t.utc_month()).or_default() += 1,
                    Err(s) => prop_assert!(
                        s.quota_exceeded() && admitted.get(&t.utc_month()) == Some(&per_month)
                    ),
                }
            }
            for n in admitted.values() {
                prop_assert!(*n <= per_month);
            }
        }

        /// When every window has room, a request is admitted (the limiter never refuses early).
        #[test]
        fn admits_whenever_there_is_room(per_minute in 1u32..8, n in 0u32..8, offset in 0i64..59_000) {
            let p = policy(per_minute, 1_000);
            let mut c = Counters::default();
            let t = Timestamp::from_millis(at("2026-10-14T10:00:00Z").millis() + offset);
            for i in 0..n {
                prop_assert_eq!(admit(&p, &mut c, t).is_ok(), i < per_minute);
            }
        }
    }
}
