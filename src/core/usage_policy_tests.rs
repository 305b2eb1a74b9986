//! The usage policy as a key's object applies it (`KeyState::check`): the monthly quota's
//! denial, its order after the rate limit, its once-a-month alert, its place in the history;
//! credits spent by cost, refused without counting, refilled, exact under any interleaving.

use super::access::{Denial, Requirement};
use super::credits::{CreditsSetting, Interval, Refill};
use super::fixtures::{at, hash, need, record};
use super::key_state::{CheckResult, KeyState};
use super::ratelimit;

fn quota_key(per_month: u32) -> KeyState {
    let mut s = KeyState::new(record(&["tasks:read"]), hash(1));
    s.record.rate_limit.per_minute = 1_000;
    s.record.rate_limit.per_hour = 10_000;
    s.record.rate_limit.per_month = Some(per_month);
    s
}

fn denial(r: &CheckResult) -> Option<Denial> {
    r.denial()
}

#[test]
fn past_the_quota_a_key_is_refused_as_quota_exceeded_with_one_alert_a_month() {
    let mut s = quota_key(2);
    let t = at("2026-10-31T23:00:00Z");
    let need = need(&["tasks:read"]);
    assert_eq!(denial(&s.check(&hash(1), &need, t)), None);
    assert_eq!(denial(&s.check(&hash(1), &need, t)), None);
    for _ in 0..3 {
        let r = s.check(&hash(1), &need, t);
        assert_eq!(denial(&r), Some(Denial::QuotaExceeded));
        assert_eq!(r.limit().unwrap().retry_after(t), Some(3_600));
    }
    let kinds: Vec<&str> = s.alerts.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["api_key.quota_exceeded", "audit"], "once per month");
    assert!(s.alerts[1]
        .body
        .contains(r#""actor":{"type":"system","id":null}"#));
    let day = s.history.last(1, t)[0];
    assert_eq!((day.admitted, day.denied, day.rate_limited), (2, 3, 0));
    // The next month has the whole quota again, and a new alert when it is used up.
    let next = at("2026-11-01T00:00:00Z");
    assert_eq!(denial(&s.check(&hash(1), &need, next)), None);
    s.check(&hash(1), &need, next);
    s.check(&hash(1), &need, next);
    assert_eq!(s.alerts.len(), 4);
    // What the once-rule needs survives the stored parts.
    let joined = KeyState::from_parts(s.record_part(), Some(s.counters_part()), None);
    assert_eq!(joined.quota_exceeded_month, Some(next.utc_month()));
    assert_eq!(joined.counters, s.counters);
}

#[test]
fn the_rate_limit_is_refused_before_the_quota() {
    let mut s = quota_key(1);
    s.record.rate_limit.per_minute = 1;
    let t = at("2026-10-14T12:00:00Z");
    let need = need(&["tasks:read"]);
    s.check(&hash(1), &need, t);
    assert_eq!(
        denial(&s.check(&hash(1), &need, t)),
        Some(Denial::RateLimited)
    );
    // A permission is refused before either, and counts in neither.
    assert_eq!(
        denial(&s.check(&hash(1), &super::fixtures::need(&["tasks:write"]), t)),
        Some(Denial::MissingPermission(
            super::permission::Permission::parse("tasks:write").unwrap()
        ))
    );
    let later = at("2026-10-14T12:01:00Z");
    assert_eq!(
        denial(&s.check(&hash(1), &need, later)),
        Some(Denial::QuotaExceeded)
    );
}

fn credits_key(remaining: u64, refill: Option<(u64, Interval)>) -> KeyState {
    let mut s = quota_key(1_000);
    s.record.credits = Some(CreditsSetting {
        remaining,
        refill: refill.map(|(amount, interval)| Refill { amount, interval }),
        set_at: at("2026-10-01T00:00:00Z"),
    });
    s
}

fn costing(cost: u32) -> Requirement {
    Requirement {
        cost,
        ..need(&["tasks:read"])
    }
}

#[test]
fn credits_are_spent_by_cost_and_too_few_refuse_without_counting_anything() {
    let mut s = credits_key(10, None);
    let t = at("2026-10-14T12:00:00Z");
    assert_eq!(denial(&s.check(&hash(1), &costing(4), t)), None);
    assert_eq!(denial(&s.check(&hash(1), &costing(4), t)), None);
    let counted = s.counters;
    let r = s.check(&hash(1), &costing(4), t);
    assert_eq!(denial(&r), Some(Denial::UsageExceeded));
    assert_eq!(
        s.counters, counted,
        "the windows took back the refused request"
    );
    assert_eq!(s.credits.unwrap().remaining, 2, "nothing spent");
    // Cost 0 is admitted at any balance; bearer requests (cost 0) never spend.
    assert_eq!(denial(&s.check(&hash(1), &costing(0), t)), None);
    assert_eq!(denial(&s.check(&hash(1), &costing(2), t)), None);
    assert_eq!(denial(&s.check(&hash(1), &costing(0), t)), None);
    assert_eq!(
        denial(&s.check(&hash(1), &costing(1), t)),
        Some(Denial::UsageExceeded)
    );
    let day = s.history.last(1, t)[0];
    assert_eq!((day.admitted, day.denied), (5, 2));
    // One credits_low alert (below 10 % of 10), with its audit entry.
    let kinds: Vec<&str> = s.alerts.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["api_key.credits_low", "audit"]);
    // The live balance is what the key's own answers show.
    let view = s.record_for_view(t).view(t).credits.unwrap();
    assert_eq!(view.remaining, 0);
}

#[test]
fn the_quota_refuses_before_credits_and_a_refill_comes_at_the_boundary() {
    let mut s = credits_key(1, Some((3, Interval::Daily)));
    s.record.rate_limit.per_month = Some(2);
    let t = at("2026-10-14T23:59:59Z");
    assert_eq!(denial(&s.check(&hash(1), &costing(1), t)), None);
    assert_eq!(
        denial(&s.check(&hash(1), &costing(1), t)),
        Some(Denial::UsageExceeded)
    );
    // The next day: refilled to 3 (set, not added).
    let next = at("2026-10-15T00:00:00Z");
    assert_eq!(
        s.record_for_view(next)
            .view(next)
            .credits
            .unwrap()
            .remaining,
        3
    );
    assert_eq!(denial(&s.check(&hash(1), &costing(1), next)), None);
    assert_eq!(
        denial(&s.check(&hash(1), &costing(1), next)),
        Some(Denial::QuotaExceeded),
        "the month's 2 are used: the quota answers, not the credits"
    );
    assert_eq!(s.credits.unwrap().remaining, 2);
}

proptest::proptest! {
    /// However verifications with any costs interleave (a key's object runs them one at a
    /// time), the credits spent never exceed the grant, each refusal spends nothing and counts
    /// in no window, and what remains is the grant minus what admitted requests cost.
    #[test]
    fn credits_are_exact_under_any_interleaving(
        grant in 0u64..300,
        costs in proptest::collection::vec(0u32..=20, 1..120),
    ) {
        let mut s = credits_key(grant, None);
        let t = at("2026-10-14T12:00:00Z");
        let mut spent = 0u64;
        let mut admitted = 0u32;
        for c in costs {
            match denial(&s.check(&hash(1), &costing(c), t)) {
                None => { spent += u64::from(c); admitted += 1; }
                Some(d) => proptest::prop_assert_eq!(d, Denial::UsageExceeded),
            }
        }
        proptest::prop_assert!(spent <= grant);
        proptest::prop_assert_eq!(s.credits.map_or(grant, |b| b.remaining), grant - spent);
        let minute = ratelimit::peek(&s.record.rate_limit, &s.counters, t).minute;
        proptest::prop_assert_eq!(minute.limit - minute.remaining, admitted);
    }
}

fn ip_key(entries: &[&str]) -> KeyState {
    let mut s = quota_key(1_000);
    s.record.allowed_ips = Some(super::ip_allow::AllowList::parse(entries).unwrap());
    s
}

fn from(ip: Option<&str>, perms: &[&str]) -> Requirement {
    Requirement {
        ip: ip.map(|i| i.parse().unwrap()),
        ..need(perms)
    }
}

#[test]
fn an_address_off_the_allow_list_is_refused_and_counted_as_denied() {
    let mut s = ip_key(&["203.0.113.0/24", "2001:db8::/32"]);
    let t = at("2026-10-14T12:00:00Z");
    for ok in ["203.0.113.9", "2001:db8::7"] {
        assert_eq!(
            denial(&s.check(&hash(1), &from(Some(ok), &["tasks:read"]), t)),
            None
        );
    }
    for bad in [Some("198.51.100.1"), Some("2001:db9::1"), None] {
        let r = s.check(&hash(1), &from(bad, &["tasks:read"]), t);
        assert_eq!(denial(&r), Some(Denial::IpNotAllowed), "{bad:?}");
        assert_eq!(Denial::IpNotAllowed.code(), "ip_not_allowed");
    }
    let day = s.history.last(1, t)[0];
    assert_eq!((day.admitted, day.denied), (2, 3));
    // A key without a list takes every address, and none.
    let mut open = quota_key(1_000);
    assert_eq!(
        denial(&open.check(&hash(1), &from(None, &["tasks:read"]), t)),
        None
    );
}

#[test]
fn the_address_is_refused_after_disabled_and_expired_before_everything_else() {
    let t = at("2026-10-14T12:00:00Z");
    let off = Some("198.51.100.1");
    // Before permissions, the project, the rate limit, the quota and credits.
    let mut s = ip_key(&["203.0.113.0/24"]);
    s.record.rate_limit.per_minute = 1;
    s.record.rate_limit.per_month = Some(1);
    s.record.credits = Some(CreditsSetting {
        remaining: 0,
        refill: None,
        set_at: at("2026-10-01T00:00:00Z"),
    });
    let mut wants_more = from(off, &["tasks:write"]);
    s.record.project_id = Some("proj_a".into());
    wants_more.scope = super::access::Scope::Project("proj_b".into());
    wants_more.cost = 5;
    assert_eq!(
        denial(&s.check(&hash(1), &wants_more, t)),
        Some(Denial::IpNotAllowed)
    );
    // Inside the list, the same request meets the next rule.
    let mut inside = wants_more.clone();
    inside.ip = Some("203.0.113.1".parse().unwrap());
    assert!(matches!(
        denial(&s.check(&hash(1), &inside, t)),
        Some(Denial::MissingPermission(_))
    ));
    // After expired and disabled.
    s.record.expires_at = Some(t);
    assert_eq!(
        denial(&s.check(&hash(1), &wants_more, t)),
        Some(Denial::ExpiredKey)
    );
    s.record.disabled_at = Some(t);
    assert_eq!(
        denial(&s.check(&hash(1), &wants_more, t)),
        Some(Denial::DisabledKey)
    );
}

#[test]
fn blocked_ip_is_raised_with_the_address_at_most_once_an_hour() {
    let mut s = ip_key(&["203.0.113.0/24"]);
    let t = at("2026-10-14T12:30:00Z");
    let off = from(Some("198.51.100.1"), &["tasks:read"]);
    s.check(&hash(1), &off, t);
    s.check(&hash(1), &off, at("2026-10-14T13:29:59Z"));
    let kinds: Vec<&str> = s.alerts.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["api_key.blocked_ip", "audit"],
        "once within the hour"
    );
    assert!(
        s.alerts[0].body.contains(r#""ip":"198.51.100.1""#),
        "{}",
        s.alerts[0].body
    );
    assert!(s.alerts[1]
        .body
        .contains(r#""actor":{"type":"system","id":null}"#));
    assert!(s.alerts[1].body.contains("198.51.100.1"));
    // The once-rule survives the stored parts; an hour later it is raised again.
    let mut s = KeyState::from_parts(s.record_part(), Some(s.counters_part()), None);
    s.check(&hash(1), &off, at("2026-10-14T13:29:59Z"));
    assert!(s.alerts.is_empty());
    s.check(&hash(1), &off, at("2026-10-14T13:30:00Z"));
    assert_eq!(s.alerts.len(), 2);
}

#[test]
fn idle_days_count_whole_days_since_last_use_or_creation() {
    let mut r = super::model::sample_record("key_1", at("2026-10-01T12:00:00Z"));
    assert_eq!(r.idle_days(at("2026-10-01T12:00:00Z")), 0);
    assert_eq!(r.idle_days(at("2026-10-02T11:59:59Z")), 0);
    assert_eq!(r.idle_days(at("2026-10-02T12:00:00Z")), 1);
    assert_eq!(r.view(at("2026-10-31T13:00:00Z")).idle_days, 30);
    r.last_used = Some(at("2026-10-30T00:00:00Z"));
    assert_eq!(r.idle_days(at("2026-10-31T13:00:00Z")), 1);
    // A clock behind the key's times is not negative idleness.
    assert_eq!(r.idle_days(at("2026-10-29T00:00:00Z")), 0);
}
