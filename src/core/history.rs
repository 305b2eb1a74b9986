//! What a key's object remembers of its use, beside its counters and in the same write: the
//! outcome of each request per UTC day for 90 days, the countries it was used from (at most 50),
//! and when it last raised `api_key.rate_limited`. Pure and bounded: every structure here has a
//! fixed maximum size, so the key's stored state cannot grow with traffic.

use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Days of history kept.
pub const HISTORY_DAYS: i64 = 90;
/// Countries remembered per key.
pub const MAX_LOCATIONS: usize = 50;

/// How a request that named this key ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Admitted,
    RateLimited,
    /// Refused with 401 (expired, disabled) or 403 (permissions, project, environment).
    Denied,
}

/// One UTC day's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    /// Days since the Unix epoch (`Timestamp::utc_day`).
    pub day: i64,
    pub admitted: u64,
    pub rate_limited: u64,
    pub denied: u64,
}

/// Per-day counts, oldest first, only days with requests, none older than [`HISTORY_DAYS`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub days: Vec<Day>,
}

impl History {
    /// Counts one request at `now`, and forgets days past the window.
    pub fn record(&mut self, outcome: Outcome, now: Timestamp) {
        let today = now.utc_day();
        self.days.retain(|d| today - d.day < HISTORY_DAYS);
        if self.days.last().is_none_or(|d| d.day != today) {
            self.days.push(Day {
                day: today,
                ..Day::default()
            });
        }
        let d = self.days.last_mut().expect("pushed above");
        match outcome {
            Outcome::Admitted => d.admitted += 1,
            Outcome::RateLimited => d.rate_limited += 1,
            Outcome::Denied => d.denied += 1,
        }
    }

    /// The last `days` UTC days up to today, oldest first, a zero row for each quiet day.
    pub fn last(&self, days: i64, now: Timestamp) -> Vec<Day> {
        let today = now.utc_day();
        let days = days.clamp(1, HISTORY_DAYS);
        (today - days + 1..=today)
            .map(|day| {
                self.days
                    .iter()
                    .find(|d| d.day == day)
                    .copied()
                    .unwrap_or(Day {
                        day,
                        ..Day::default()
                    })
            })
            .collect()
    }
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01), by the civil-from-days algorithm.
pub fn date_of(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A country a key was used from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// ISO 3166-1 alpha-2, as Cloudflare's `request.cf.country` gives it.
    pub country: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// The countries a key was used from, at most [`MAX_LOCATIONS`] (the least recently seen goes
/// when a new one comes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locations {
    pub seen: Vec<Location>,
}

/// A country code as it may be stored: two ASCII letters (`T1`, Tor, and `XX`, unknown, are
/// Cloudflare's own and count as countries too).
pub fn country_code(s: &str) -> Option<String> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| s.to_ascii_uppercase())
}

impl Locations {
    /// Notes a use from `country` at `now`; `true` when it is a new location to alert on: a
    /// country never seen before, for a key that already has history in at least one other.
    pub fn record(&mut self, country: &str, now: Timestamp) -> bool {
        let Some(code) = country_code(country) else {
            return false;
        };
        if let Some(l) = self.seen.iter_mut().find(|l| l.country == code) {
            l.last_seen = now;
            return false;
        }
        let alert = !self.seen.is_empty();
        if self.seen.len() >= MAX_LOCATIONS {
            if let Some(oldest) = self
                .seen
                .iter()
                .enumerate()
                .min_by_key(|(_, l)| l.last_seen)
                .map(|(i, _)| i)
            {
                self.seen.remove(oldest);
            }
        }
        self.seen.push(Location {
            country: code,
            first_seen: now,
            last_seen: now,
        });
        alert
    }
}

/// `api_key.rate_limited` at most once per key per window: the start of the window (Unix
/// seconds) it was last raised for.
pub fn raise_rate_limited(last_window: Option<i64>, window_start: i64) -> bool {
    last_window != Some(window_start)
}

/// Is an alert that goes out at most once per period (`api_key.quota_exceeded`: per UTC month;
/// `api_key.blocked_ip`: per hour) due, given the period it last went out for?
pub fn raise_once(last_period: Option<i64>, period: i64) -> bool {
    last_period != Some(period)
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
