//! `GET /v1/api-keys?idle_days=N`: which keys are idle at least N whole days at `now`.
//!
//! A key's idle time runs from its last use, or from its creation if never used
//! ([`KeyRecord::idle_days`]). "Idle at least N whole days" is "that instant is at or before
//! `now - N days`", so the listing turns N into one cutoff instant, computed here with the time
//! passed in, and every store compares its rows' instant to it (the team object in SQL, the
//! memory store in Rust: [`is_idle`] is the rule both follow).

use super::input::InputError;
use super::model::KeyRecord;
use super::page::{parse_list_query, ListQuery};
use super::time::Timestamp;

const DAY_MS: i64 = 86_400_000;

/// The largest `idle_days` taken (about 270 years): every instant a key can have is within it.
pub const MAX_IDLE_DAYS: i64 = 100_000;

/// The cutoff for "idle at least `days` whole days at `now`"; `None` for 0 (every key, even one
/// whose last use a skewed clock put after `now`: its `idle_days` is 0 too).
pub fn idle_cutoff(days: i64, now: Timestamp) -> Option<Timestamp> {
    (days > 0).then(|| Timestamp::from_millis(now.millis().saturating_sub(days * DAY_MS)))
}

/// The instant a key's idle time runs from.
pub fn idle_since(k: &KeyRecord) -> Timestamp {
    k.last_used.unwrap_or(k.created_at)
}

/// Whether `k` passes the listing's idle filter.
pub fn is_idle(k: &KeyRecord, cutoff: Option<Timestamp>) -> bool {
    cutoff.is_none_or(|c| idle_since(k) <= c)
}

/// `idle_days`: a whole number from 0 to [`MAX_IDLE_DAYS`].
pub fn parse_idle_days(v: &str) -> Result<i64, InputError> {
    v.parse::<i64>()
        .ok()
        .filter(|n| (0..=MAX_IDLE_DAYS).contains(n))
        .ok_or_else(|| {
            InputError::invalid(
                "idle_days",
                format!("must be an integer from 0 to {MAX_IDLE_DAYS}"),
            )
        })
}

/// The key listing's query: paging, `environment`, `project_id` and `idle_days` (as its cutoff
/// at `now`).
pub fn key_list_query(pairs: &[(String, String)], now: Timestamp) -> Result<ListQuery, InputError> {
    let mut days = None;
    let mut rest = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        if k == "idle_days" {
            days = Some(parse_idle_days(v)?);
        } else {
            rest.push((k.clone(), v.clone()));
        }
    }
    let mut q = parse_list_query(&rest, &["environment", "project_id"])?;
    q.idle_cutoff = days.and_then(|d| idle_cutoff(d, now));
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fixtures;

    const NOW: i64 = 1_780_000_000_000;

    fn key(created: i64, last_used: Option<i64>) -> KeyRecord {
        let mut k = fixtures::record(&[]);
        k.created_at = Timestamp::from_millis(created);
        k.last_used = last_used.map(Timestamp::from_millis);
        k
    }

    fn listed(k: &KeyRecord, days: i64) -> bool {
        is_idle(k, idle_cutoff(days, Timestamp::from_millis(NOW)))
    }

    #[test]
    fn the_filter_agrees_with_idle_days_at_the_boundary() {
        let now = Timestamp::from_millis(NOW);
        for days in [0, 1, 30, 90] {
            for offset in [-1, 0, 1] {
                let since = NOW - days * DAY_MS + offset;
                for k in [key(since, None), key(NOW - 400 * DAY_MS, Some(since))] {
                    assert_eq!(
                        listed(&k, days),
                        k.idle_days(now) >= days,
                        "days {days} offset {offset}"
                    );
                }
            }
        }
        // Exactly N days ago is idle N days; one millisecond later is not.
        assert!(listed(&key(NOW - 30 * DAY_MS, None), 30));
        assert!(!listed(&key(NOW - 30 * DAY_MS + 1, None), 30));
    }

    #[test]
    fn last_use_counts_not_creation() {
        let old_but_used = key(NOW - 200 * DAY_MS, Some(NOW - DAY_MS));
        assert!(listed(&old_but_used, 1));
        assert!(!listed(&old_but_used, 2));
    }

    #[test]
    fn zero_lists_every_key_even_one_used_after_now() {
        assert_eq!(idle_cutoff(0, Timestamp::from_millis(NOW)), None);
        assert!(listed(&key(NOW + 5_000, Some(NOW + 5_000)), 0));
        assert!(!listed(&key(NOW + 5_000, None), 1));
    }

    #[test]
    fn the_largest_n_does_not_overflow() {
        let c = idle_cutoff(MAX_IDLE_DAYS, Timestamp::from_millis(0)).unwrap();
        assert_eq!(c.millis(), -MAX_IDLE_DAYS * DAY_MS);
    }

    #[test]
    fn parses_whole_days_and_names_the_parameter() {
        assert_eq!(parse_idle_days("0").unwrap(), 0);
        assert_eq!(parse_idle_days("90").unwrap(), 90);
        for bad in ["-1", "1.5", "", "x", "100001", "99999999999999999999"] {
            let e = parse_idle_days(bad).unwrap_err();
            assert!(e.detail.contains("idle_days"), "{bad}: {}", e.detail);
        }
    }

    #[test]
    fn the_query_keeps_paging_and_filters() {
        let pairs: Vec<(String, String)> =
            [("limit", "5"), ("idle_days", "2"), ("environment", "test")]
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        let q = key_list_query(&pairs, Timestamp::from_millis(NOW)).unwrap();
        assert_eq!(q.limit, 5);
        assert_eq!(q.environment.map(|e| e.as_str()), Some("test"));
        assert_eq!(
            q.idle_cutoff,
            Some(Timestamp::from_millis(NOW - 2 * DAY_MS))
        );
        let none = key_list_query(&[], Timestamp::from_millis(NOW)).unwrap();
        assert_eq!(none.idle_cutoff, None);
    }
}
