use super::*;
use proptest::prelude::*;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn setting(remaining: u64, refill: Option<(u64, Interval)>) -> CreditsSetting {
    CreditsSetting {
        remaining,
        refill: refill.map(|(amount, interval)| Refill { amount, interval }),
        set_at: at("2026-10-14T12:00:00Z"),
    }
}

#[test]
fn spends_the_cost_and_refuses_without_spending_when_too_few_remain() {
    let s = setting(5, None);
    let now = at("2026-10-14T12:00:01Z");
    let mut b = Balance::current(&s, None, now);
    assert_eq!(b.spend(3), Ok(false));
    assert_eq!(b.spend(3), Err(TooFew), "2 left: nothing spent");
    assert_eq!(b.remaining, 2);
    assert_eq!(b.spend(0), Ok(false), "cost 0 spends nothing, even at 0");
    assert_eq!(b.spend(2), Ok(true), "below 10 %: the alert, once");
    assert_eq!(b.spend(0), Ok(false));
    assert_eq!(b.remaining, 0);
}

#[test]
fn a_refill_sets_the_balance_on_the_boundary_not_before() {
    let s = setting(10, Some((100, Interval::Daily)));
    let mut b = Balance::current(&s, None, at("2026-10-14T23:59:59.999Z"));
    b.spend(10).unwrap();
    let last_ms = Balance::current(&s, Some(b), at("2026-10-14T23:59:59.999Z"));
    assert_eq!(last_ms.remaining, 0);
    let next = Balance::current(&s, Some(b), at("2026-10-15T00:00:00Z"));
    assert_eq!(next.remaining, 100, "set to amount, not added");
    assert_eq!(next.grant, 100);
    assert!(!next.low_alerted);
    // Monthly: at the 1st, through a leap February.
    let s = setting(7, Some((50, Interval::Monthly)));
    let mut b = Balance::current(&s, None, at("2028-02-29T23:59:59Z"));
    b.spend(1).unwrap();
    assert_eq!(
        Balance::current(&s, Some(b), at("2028-02-29T23:59:59Z")).remaining,
        6
    );
    assert_eq!(
        Balance::current(&s, Some(b), at("2028-03-01T00:00:00Z")).remaining,
        50
    );
}

#[test]
fn a_new_setting_starts_a_new_balance() {
    let s = setting(10, None);
    let mut b = Balance::current(&s, None, at("2026-10-14T12:00:01Z"));
    b.spend(9).unwrap();
    let patched = CreditsSetting {
        remaining: 500,
        set_at: at("2026-10-14T13:00:00Z"),
        ..s
    };
    let now = at("2026-10-14T13:00:01Z");
    assert_eq!(Balance::current(&patched, Some(b), now).remaining, 500);
    assert_eq!(view(&s, Some(b), now).remaining, 1);
}

#[test]
fn the_low_alert_is_raised_once_per_grant() {
    let s = setting(100, Some((20, Interval::Daily)));
    let t = at("2026-10-14T12:00:01Z");
    let mut b = Balance::current(&s, None, t);
    let raised: Vec<bool> = (0..95).map(|_| b.spend(1).unwrap()).collect();
    assert_eq!(raised.iter().filter(|r| **r).count(), 1);
    assert!(raised[90], "at 9 left of 100");
    let mut next = Balance::current(&s, Some(b), at("2026-10-15T00:00:00Z"));
    let raised: Vec<bool> = (0..20).map(|_| next.spend(1).unwrap()).collect();
    assert_eq!(
        raised.iter().filter(|r| **r).count(),
        1,
        "again after the refill"
    );
    assert!(raised[18], "at 1 left of 20");
}

proptest! {
    /// However costs fall, a balance never spends more than it was granted, never goes
    /// negative, and a refusal spends nothing.
    #[test]
    fn never_spends_more_than_granted(
        remaining in 0u64..200,
        costs in proptest::collection::vec(0u32..=MAX_COST, 0..100),
    ) {
        let s = setting(remaining, None);
        let mut b = Balance::current(&s, None, at("2026-10-14T12:00:01Z"));
        let mut spent = 0u64;
        for c in costs {
            let before = b.remaining;
            match b.spend(c) {
                Ok(_) => spent += u64::from(c),
                Err(TooFew) => prop_assert_eq!(b.remaining, before),
            }
            prop_assert_eq!(b.remaining + spent, remaining);
        }
    }
}
