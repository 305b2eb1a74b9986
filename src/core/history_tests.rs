use super::*;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

#[test]
fn days_roll_over_at_utc_midnight() {
    let mut h = History::default();
    h.record(Outcome::Admitted, at("2026-11-23T23:59:59Z"));
    h.record(Outcome::Denied, at("2026-11-23T23:59:59.999Z"));
    h.record(Outcome::RateLimited, at("2026-11-24T00:00:00Z"));
    h.record(Outcome::Admitted, at("2026-11-24T10:00:00Z"));
    let last = h.last(2, at("2026-11-24T12:00:00Z"));
    assert_eq!(
        last.iter()
            .map(|d| (date_of(d.day), d.admitted, d.rate_limited, d.denied))
            .collect::<Vec<_>>(),
        vec![
            ("2026-11-23".to_owned(), 1, 0, 1),
            ("2026-11-24".to_owned(), 1, 1, 0)
        ]
    );
}

#[test]
fn quiet_days_are_zero_rows_oldest_first() {
    let mut h = History::default();
    h.record(Outcome::Admitted, at("2026-11-20T08:00:00Z"));
    let last = h.last(5, at("2026-11-23T08:00:00Z"));
    assert_eq!(last.len(), 5);
    assert_eq!(date_of(last[0].day), "2026-11-19");
    assert_eq!(last[1].admitted, 1);
    assert!(last[2..].iter().all(|d| d.admitted == 0));
    assert_eq!(h.last(0, at("2026-11-23T08:00:00Z")).len(), 1);
    assert_eq!(h.last(500, at("2026-11-23T08:00:00Z")).len(), 90);
}

#[test]
fn the_window_is_90_days_and_the_history_stays_bounded() {
    let mut h = History::default();
    let start = at("2026-01-01T12:00:00Z").millis();
    for i in 0..400 {
        h.record(
            Outcome::Admitted,
            Timestamp::from_millis(start + i * 86_400_000),
        );
    }
    assert_eq!(h.days.len(), 90);
    let now = Timestamp::from_millis(start + 399 * 86_400_000);
    assert_eq!(h.days[0].day, now.utc_day() - 89);
}

#[test]
fn dates_match_the_calendar() {
    assert_eq!(date_of(0), "1970-01-01");
    assert_eq!(date_of(at("2024-02-29T05:00:00Z").utc_day()), "2024-02-29");
    assert_eq!(date_of(at("2000-03-01T00:00:00Z").utc_day()), "2000-03-01");
    assert_eq!(date_of(at("2026-12-31T23:00:00Z").utc_day()), "2026-12-31");
    assert_eq!(date_of(-1), "1969-12-31");
}

#[test]
fn a_new_country_alerts_once_the_key_has_history_elsewhere() {
    let mut l = Locations::default();
    assert!(
        !l.record("DE", at("2026-11-23T00:00:00Z")),
        "the first country is no news"
    );
    assert!(
        !l.record("de", at("2026-11-23T01:00:00Z")),
        "the same, any case"
    );
    assert!(l.record("FR", at("2026-11-23T02:00:00Z")));
    assert!(!l.record("FR", at("2026-11-23T03:00:00Z")), "exactly once");
    assert!(
        !l.record("", at("2026-11-23T03:00:00Z")),
        "no country: nothing to say"
    );
    assert_eq!(l.seen[0].first_seen, at("2026-11-23T00:00:00Z"));
    assert_eq!(l.seen[0].last_seen, at("2026-11-23T01:00:00Z"));
}

#[test]
fn at_most_50_countries_the_least_recently_seen_goes() {
    let mut l = Locations::default();
    let letters: Vec<char> = ('A'..='Z').collect();
    for i in 0..60 {
        let code = format!("{}{}", letters[i / 26], letters[i % 26]);
        l.record(&code, Timestamp::from_millis(i as i64));
    }
    assert_eq!(l.seen.len(), 50);
    assert!(
        !l.seen.iter().any(|x| x.country == "AA"),
        "the oldest went first"
    );
    assert!(l.seen.iter().any(|x| x.country == "CH"));
}

#[test]
fn rate_limited_is_raised_once_per_window() {
    assert!(raise_rate_limited(None, 60));
    assert!(!raise_rate_limited(Some(60), 60));
    assert!(raise_rate_limited(Some(60), 120));
}
