use super::*;
use std::cell::RefCell;
use std::collections::HashMap;

const T0: i64 = 1_800_000_000_000;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(T0 + ms)
}

/// The counts as the team object keeps them; `attempt` is one call: judge, count, store.
#[derive(Default)]
struct Counts(RefCell<HashMap<String, Failures>>);

impl Counts {
    fn read(&self, k: &str) -> Failures {
        self.0.borrow().get(k).copied().unwrap_or_default()
    }

    fn attempt(&self, email: &str, client: &str, now: Timestamp) -> Result<(), Throttled> {
        let t = Throttle::new(email, Some(client));
        let writes = t.admit(|k| self.read(k), now)?;
        self.0.borrow_mut().extend(writes);
        Ok(())
    }
}

#[test]
fn ipv6_clients_are_counted_by_their_64_and_v4_as_given() {
    assert_eq!(
        client_key(Some("2001:db8:1:2:aaaa::1")),
        client_key(Some("2001:db8:1:2:ffff:ffff:ffff:ffff"))
    );
    assert_ne!(
        client_key(Some("2001:db8:1:2::1")),
        client_key(Some("2001:db8:1:3::1"))
    );
    assert_eq!(client_key(Some("2001:db8:1:2::1")), "2001:db8:1:2::/64");
    assert_eq!(client_key(Some("203.0.113.7")), "203.0.113.7");
    assert_eq!(client_key(Some("::ffff:203.0.113.7")), "203.0.113.7");
    assert_eq!(client_key(None), "unknown");
}

#[test]
fn a_pair_gets_ten_attempts_counted_before_any_password_is_checked() {
    let c = Counts::default();
    // Each attempt holds its place before its (slow) password check: a burst of 40 finds
    // the bound after 10, whatever the checks' outcomes.
    let admitted = (0..40)
        .filter(|_| c.attempt("a@x.test", "10.0.0.1", at(0)).is_ok())
        .count();
    assert_eq!(admitted, PAIR_BOUND as usize);
    let refused = c.attempt("a@x.test", "10.0.0.1", at(1_000)).unwrap_err();
    assert_eq!(refused.retry_after, 899);
    // After the window the pair starts over.
    assert!(c
        .attempt("a@x.test", "10.0.0.1", at(FAILURE_WINDOW_MS))
        .is_ok());
}

#[test]
fn another_client_is_not_locked_out_by_a_pairs_failures() {
    let c = Counts::default();
    for _ in 0..PAIR_BOUND {
        c.attempt("owner@x.test", "10.0.0.1", at(0)).unwrap();
    }
    assert!(c.attempt("owner@x.test", "10.0.0.1", at(1)).is_err());
    // The owner, elsewhere, has no failures of their own: admitted.
    assert!(c.attempt("owner@x.test", "192.0.2.9", at(1)).is_ok());
}

#[test]
fn a_client_is_bounded_across_emails_and_an_email_across_clients() {
    let c = Counts::default();
    for i in 0..CLIENT_BOUND {
        c.attempt(&format!("u{i}@x.test"), "10.0.0.1", at(0))
            .unwrap();
    }
    assert!(c.attempt("fresh@x.test", "10.0.0.1", at(0)).is_err());
    let c = Counts::default();
    for i in 0..EMAIL_BOUND {
        c.attempt(
            "victim@x.test",
            &format!("10.0.{}.{}", i / 200, i % 200),
            at(0),
        )
        .unwrap();
    }
    let r = c.attempt("victim@x.test", "192.0.2.1", at(0));
    assert!(r.is_err(), "past the per-email bound, every client waits");
}

#[test]
fn a_success_gives_its_place_back_and_clears_its_pair() {
    let c = Counts::default();
    for _ in 0..5 {
        c.attempt("a@x.test", "10.0.0.1", at(0)).unwrap();
    }
    let t = Throttle::new("a@x.test", Some("10.0.0.1"));
    let writes = t.release(|k| c.read(k));
    c.0.borrow_mut().extend(writes);
    assert_eq!(c.read(&t.pair).count, 0);
    assert_eq!(c.read(&t.client).count, 4);
    assert_eq!(c.read(&t.email).count, 4);
}

#[test]
fn refusals_are_audited_at_most_once_a_minute_with_their_count() {
    let f = Failures::default();
    let (f, first) = f.refused(at(0));
    assert_eq!(first, Some(1));
    let (f, none) = f.refused(at(10_000));
    assert_eq!(none, None);
    let (f, none) = f.refused(at(59_999));
    assert_eq!(none, None);
    let (_, next) = f.refused(at(60_000));
    assert_eq!(next, Some(3), "the refusals since the last entry");
}

#[test]
fn members_get_600_requests_a_minute() {
    let mut f = Failures::default();
    for _ in 0..MEMBER_REQUESTS_PER_MINUTE {
        f = member_request(f, at(0)).unwrap();
    }
    assert_eq!(MemberWindow::of(&f, at(0)).remaining, 0);
    assert_eq!(member_request(f, at(30_000)).unwrap_err().retry_after, 30);
    let f = member_request(f, at(MINUTE_MS)).unwrap();
    let w = MemberWindow::of(&f, at(MINUTE_MS));
    assert_eq!((w.limit, w.remaining, w.reset), (600, 599, 60));
}
