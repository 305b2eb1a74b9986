//! The usage policy as a key's object applies it (`KeyState::check`): the monthly quota's
//! denial, its order after the rate limit, its once-a-month alert, its place in the history.

use super::access::Denial;
use super::fixtures::{at, hash, need, record};
use super::key_state::{CheckResult, KeyState};

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
