use super::*;

const T0: i64 = 1_800_000_000_000;

fn at_day(d: f64) -> Timestamp {
    Timestamp::from_millis(T0 + (d * DAY_MS as f64) as i64)
}

fn key(expires_in_days: f64, auto_renew: bool) -> Dates {
    Dates {
        expires_at: Some(at_day(expires_in_days)),
        lifetime_start: at_day(0.0),
        auto_renew,
        disabled: false,
    }
}

/// Runs the alarm the way the object does: everything due at `now`, recorded one by one.
fn run(d: &mut Dates, n: &mut Notices, now: Timestamp) -> Vec<Action> {
    let mut done = Vec::new();
    loop {
        let (action, next) = due(d, *n, now);
        *n = next;
        let Some(a) = action else { break };
        if let Action::Renew { new_expires_at, .. } = a {
            d.expires_at = Some(new_expires_at);
            d.lifetime_start = now;
        }
        done.push(a);
    }
    done
}

#[test]
fn a_key_with_10_days_left_gets_exactly_the_30_day_notice_at_once() {
    let mut d = key(10.0, false);
    let mut n = Notices::default();
    assert_eq!(
        run(&mut d, &mut n, at_day(0.0)),
        vec![Action::Expiring(Threshold::Days30)]
    );
    // Run again (alarms are at least once): nothing more.
    assert_eq!(run(&mut d, &mut n, at_day(0.0)), vec![]);
    // The 7-day notice is not due yet; its deadline is day 3.
    assert_eq!(next_deadline(&d, n, at_day(0.0)), Some(at_day(3.0)));
    assert_eq!(
        run(&mut d, &mut n, at_day(3.0)),
        vec![Action::Expiring(Threshold::Days7)]
    );
    assert_eq!(
        run(&mut d, &mut n, at_day(9.0)),
        vec![Action::Expiring(Threshold::Day1)]
    );
    assert_eq!(next_deadline(&d, n, at_day(9.0)), Some(at_day(10.0)));
    assert_eq!(run(&mut d, &mut n, at_day(10.0)), vec![Action::Expired]);
    assert_eq!(run(&mut d, &mut n, at_day(11.0)), vec![]);
    assert_eq!(next_deadline(&d, n, at_day(11.0)), None);
}

#[test]
fn a_key_made_close_to_expiry_gets_only_the_nearest_notice() {
    let mut d = key(5.0, false);
    let mut n = Notices::default();
    assert_eq!(
        run(&mut d, &mut n, at_day(0.0)),
        vec![Action::Expiring(Threshold::Days7)]
    );
    let mut d = key(0.5, false);
    let mut n = Notices::default();
    assert_eq!(
        run(&mut d, &mut n, at_day(0.0)),
        vec![Action::Expiring(Threshold::Day1)]
    );
    // An alarm that fires late, after the expiry: only `expired`, no stale notices.
    let mut d = key(40.0, false);
    let mut n = Notices::default();
    assert_eq!(run(&mut d, &mut n, at_day(41.0)), vec![Action::Expired]);
}

#[test]
fn a_moved_expiry_gets_the_notices_of_its_new_schedule() {
    let mut d = key(10.0, false);
    let mut n = Notices::default();
    run(&mut d, &mut n, at_day(0.0));
    d.expires_at = Some(at_day(100.0));
    assert_eq!(next_deadline(&d, n, at_day(1.0)), Some(at_day(70.0)));
    assert_eq!(
        run(&mut d, &mut n, at_day(70.0)),
        vec![Action::Expiring(Threshold::Days30)]
    );
}

#[test]
fn auto_renew_moves_the_expiry_by_the_lifetime_without_notices() {
    // Made at day 0 to expire at day 20: renewed at once (20 days left), to day 40.
    let mut d = key(20.0, true);
    let mut n = Notices::default();
    let done = run(&mut d, &mut n, at_day(0.0));
    assert_eq!(
        done,
        vec![Action::Renew {
            old_expires_at: at_day(20.0),
            new_expires_at: at_day(40.0)
        }]
    );
    // The next renewal is due when 30 days remain (day 10), by the span from the last renewal
    // (day 0) to the expiry (day 40), as the contract defines the lifetime.
    assert_eq!(next_deadline(&d, n, at_day(0.0)), Some(at_day(10.0)));
    let done = run(&mut d, &mut n, at_day(10.0));
    assert_eq!(
        done,
        vec![Action::Renew {
            old_expires_at: at_day(40.0),
            new_expires_at: at_day(80.0)
        }]
    );
    assert!(done.iter().all(|a| !matches!(a, Action::Expiring(_))));
    // A long-lived key renews when 30 days remain, by its whole lifetime.
    let mut d = key(365.0, true);
    let mut n = Notices::default();
    assert_eq!(run(&mut d, &mut n, at_day(0.0)), vec![]);
    assert_eq!(next_deadline(&d, n, at_day(0.0)), Some(at_day(335.0)));
    assert_eq!(
        run(&mut d, &mut n, at_day(335.0)),
        vec![Action::Renew {
            old_expires_at: at_day(365.0),
            new_expires_at: at_day(730.0)
        }]
    );
}

#[test]
fn disabled_keys_and_keys_without_expiry_have_no_schedule() {
    let mut d = key(5.0, false);
    d.disabled = true;
    assert_eq!(due(&d, Notices::default(), at_day(0.0)).0, None);
    assert_eq!(next_deadline(&d, Notices::default(), at_day(0.0)), None);
    let mut d = key(5.0, false);
    d.expires_at = None;
    assert_eq!(next_deadline(&d, Notices::default(), at_day(0.0)), None);
}

#[test]
fn rolling_shortens_the_old_key_never_lengthens_it() {
    let now = at_day(0.0);
    assert_eq!(rolled_expiry(None, now, 0), now);
    assert_eq!(rolled_expiry(None, now, 86_400), at_day(1.0));
    assert_eq!(rolled_expiry(Some(at_day(0.5)), now, 86_400), at_day(0.5));
    assert_eq!(rolled_expiry(Some(at_day(9.0)), now, 86_400), at_day(1.0));
}
