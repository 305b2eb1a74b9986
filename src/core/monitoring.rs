//! Monitoring, the pure side: what a key's object tallies between reports (requests by outcome,
//! denials by reason), when it reports (at most once a minute, and at each new hour), and the
//! team's last 24 hours summed from the hourly rows its events object keeps.
//!
//! Reports go off the request's path (`wait_until`, or the key's alarm for a key that falls
//! quiet), so the team view may lag a minute; the key's own history (`core::history`) is exact.
//!
//! Each report and hourly row carries its key's project, so a project-scoped caller's view is
//! summed from its project's keys only (`core::access::sees`); a row stored before rows had a
//! project is team-wide, shown to team-wide callers only.

use super::access::sees;
use super::ids::ProjectId;
use super::model::KeyRecord;
use super::store::StoreResult;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const HOUR_MS: i64 = 3_600_000;
/// A key reports at most this often.
pub const REPORT_INTERVAL_MS: i64 = 60_000;
/// Hours of rows the events object keeps (the view needs 24; a day more for late reports).
pub const KEEP_HOURS: i64 = 48;
/// Keys in `top_keys`.
pub const TOP_KEYS: usize = 10;

pub fn hour_of(t: Timestamp) -> i64 {
    t.millis().div_euclid(HOUR_MS)
}

/// Requests of one key in one hour, by outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub admitted: u64,
    pub rate_limited: u64,
    /// Denial code (`expired_key`, `insufficient_permissions`, …) → count.
    pub denied: BTreeMap<String, u64>,
}

impl Tally {
    pub fn is_empty(&self) -> bool {
        self.admitted == 0 && self.rate_limited == 0 && self.denied.is_empty()
    }

    pub fn total(&self) -> u64 {
        self.admitted + self.rate_limited + self.denied.values().sum::<u64>()
    }

    pub fn add(&mut self, other: &Tally) {
        self.admitted += other.admitted;
        self.rate_limited += other.rate_limited;
        for (reason, n) in &other.denied {
            *self.denied.entry(reason.clone()).or_default() += n;
        }
    }
}

/// What a key's object tallies until it reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The hour the tally is about.
    pub hour: i64,
    pub tally: Tally,
    pub last_report: Option<Timestamp>,
}

/// A key's report: one hour's tally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub key_id: String,
    pub name: String,
    /// The key's project (`None`: an unscoped key).
    #[serde(default)]
    pub project_id: Option<ProjectId>,
    pub hour: i64,
    pub tally: Tally,
}

impl Report {
    /// The report of `record`'s key for one hour.
    pub fn of(record: &KeyRecord, hour: i64, tally: Tally) -> Report {
        Report {
            key_id: record.id.to_string(),
            name: record.name.clone(),
            project_id: record.project_id.clone(),
            hour,
            tally,
        }
    }
}

/// How a counted request ended, for the tally (`None`: admitted; `rate_limited`; a denial code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted<'a> {
    Admitted,
    RateLimited,
    Denied(&'a str),
}

impl Pending {
    /// Tallies one request. A request of a new hour first closes the old hour's tally, which is
    /// returned to be reported now.
    pub fn record(&mut self, outcome: Counted, now: Timestamp) -> Option<(i64, Tally)> {
        let hour = hour_of(now);
        let closed = (hour != self.hour && !self.tally.is_empty())
            .then(|| (self.hour, std::mem::take(&mut self.tally)));
        self.hour = hour;
        match outcome {
            Counted::Admitted => self.tally.admitted += 1,
            Counted::RateLimited => self.tally.rate_limited += 1,
            Counted::Denied(code) => *self.tally.denied.entry(code.to_owned()).or_default() += 1,
        }
        closed
    }

    /// The tally to report now, if there is one and the last report is a minute old (or
    /// `force`: the key's alarm, for a key that fell quiet).
    pub fn take(&mut self, now: Timestamp, force: bool) -> Option<(i64, Tally)> {
        if self.tally.is_empty() {
            return None;
        }
        let due = self
            .last_report
            .is_none_or(|t| now.millis() - t.millis() >= REPORT_INTERVAL_MS);
        if !(due || force) {
            return None;
        }
        self.last_report = Some(now);
        Some((self.hour, std::mem::take(&mut self.tally)))
    }

    /// When the key's alarm should report what is pending, if anything is.
    pub fn report_deadline(&self, now: Timestamp) -> Option<Timestamp> {
        if self.tally.is_empty() {
            return None;
        }
        let at = self
            .last_report
            .map_or(now.millis(), |t| t.millis() + REPORT_INTERVAL_MS);
        Some(Timestamp::from_millis(at.max(now.millis())))
    }
}

/// One hourly row of the events object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourRow {
    pub hour: i64,
    pub key_id: String,
    pub name: String,
    /// The key's project; `None`: an unscoped key, or a row stored before rows had a project
    /// (team-wide either way).
    #[serde(default)]
    pub project_id: Option<ProjectId>,
    pub tally: Tally,
}

impl HourRow {
    /// The row of (hour, key) with a report added (`old`: the row so far, if any). The name and
    /// project are the key's as it reports them now (a row of an older build gets its project).
    pub fn with_report(old: Option<HourRow>, r: &Report) -> HourRow {
        let mut row = old.unwrap_or(HourRow {
            hour: r.hour,
            key_id: r.key_id.clone(),
            name: String::new(),
            project_id: None,
            tally: Tally::default(),
        });
        row.tally.add(&r.tally);
        row.name.clone_from(&r.name);
        row.project_id.clone_from(&r.project_id);
        row
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopKey {
    pub key_id: String,
    pub name: String,
    pub requests: u64,
}

/// `GET /v1/monitoring`: the team's last 24 hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monitoring {
    pub since: Timestamp,
    pub requests: u64,
    pub admitted: u64,
    pub rate_limited: u64,
    pub denied_by_reason: BTreeMap<String, u64>,
    pub keys_expiring_30d: u64,
    pub top_keys: Vec<TopKey>,
}

/// Sums the rows of the 24 hours up to `now` (the current hour and the 23 before it) that a
/// caller of project `viewer` sees (`None`: a team-wide caller, who sees every row; a scoped
/// caller sees its project's keys only).
pub fn summarize(
    rows: &[HourRow],
    keys_expiring_30d: u64,
    viewer: Option<&ProjectId>,
    now: Timestamp,
) -> Monitoring {
    let first = hour_of(now) - 23;
    let mut total = Tally::default();
    let mut by_key: BTreeMap<&str, (&str, u64)> = BTreeMap::new();
    let seen = |r: &&HourRow| sees(viewer.map(|p| p.as_str()), r.project_id.as_deref());
    for r in rows.iter().filter(|r| r.hour >= first).filter(seen) {
        total.add(&r.tally);
        let e = by_key.entry(&r.key_id).or_insert((&r.name, 0));
        e.1 += r.tally.total();
    }
    let mut top: Vec<TopKey> = by_key
        .into_iter()
        .map(|(id, (name, requests))| TopKey {
            key_id: id.to_owned(),
            name: name.to_owned(),
            requests,
        })
        .collect();
    top.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.key_id.cmp(&b.key_id)));
    top.truncate(TOP_KEYS);
    Monitoring {
        since: Timestamp::from_millis(first * HOUR_MS),
        requests: total.total(),
        admitted: total.admitted,
        rate_limited: total.rate_limited,
        denied_by_reason: total.denied,
        keys_expiring_30d,
        top_keys: top,
    }
}

/// The events object's hourly rows. Same contract as the other stores: every call answers at once.
pub trait MonitorStore {
    /// Adds a tally to the row of (hour, key), making it if needed.
    fn add_usage(&self, report: &Report) -> StoreResult<()>;
    /// The rows from `from_hour` on.
    fn usage_since(&self, from_hour: i64) -> StoreResult<Vec<HourRow>>;
    /// Removes the rows before `before_hour`.
    fn prune_usage(&self, before_hour: i64) -> StoreResult<()>;
}

/// Takes the keys' reports, and forgets hours past [`KEEP_HOURS`].
pub fn record_reports(
    s: &impl MonitorStore,
    reports: &[Report],
    now: Timestamp,
) -> Result<(), crate::core::team::TeamError> {
    for r in reports.iter().filter(|r| !r.tally.is_empty()) {
        s.add_usage(r)?;
    }
    s.prune_usage(hour_of(now) - KEEP_HOURS)?;
    Ok(())
}

/// The team's last 24 hours as a caller of project `viewer` sees them (`keys_expiring_30d`
/// comes from the team object, counted for the same viewer).
pub fn monitor(
    s: &impl MonitorStore,
    keys_expiring_30d: u64,
    viewer: Option<&ProjectId>,
    now: Timestamp,
) -> Result<Monitoring, crate::core::team::TeamError> {
    let rows = s.usage_since(hour_of(now) - 23)?;
    Ok(summarize(&rows, keys_expiring_30d, viewer, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000 - 1_800_000_000_000 % HOUR_MS;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(T0 + ms)
    }

    #[test]
    fn a_key_reports_at_most_once_a_minute_and_closes_each_hour() {
        let mut p = Pending::default();
        assert_eq!(p.record(Counted::Admitted, at(0)), None);
        let (hour, t) = p.take(at(0), false).expect("the first report goes at once");
        assert_eq!((hour, t.admitted), (hour_of(at(0)), 1));
        p.record(Counted::Denied("expired_key"), at(1_000));
        p.record(Counted::RateLimited, at(2_000));
        assert_eq!(p.take(at(30_000), false), None, "not within the minute");
        assert_eq!(p.report_deadline(at(30_000)), Some(at(60_000)));
        let (_, t) = p.take(at(30_000), true).expect("the alarm forces it");
        assert_eq!((t.rate_limited, t.denied["expired_key"]), (1, 1));
        assert_eq!(p.report_deadline(at(30_000)), None, "nothing pending");
        // A new hour closes the old hour's tally.
        p.record(Counted::Admitted, at(HOUR_MS - 1));
        let closed = p.record(Counted::Admitted, at(HOUR_MS));
        assert_eq!(
            closed.map(|(h, t)| (h, t.admitted)),
            Some((hour_of(at(0)), 1))
        );
        assert_eq!(p.tally.admitted, 1);
    }

    #[test]
    fn the_team_view_sums_24_hours_and_ranks_keys() {
        let now = at(30 * HOUR_MS);
        let row = |hours_ago: i64, key: &str, admitted: u64, denied: &[(&str, u64)]| HourRow {
            hour: hour_of(now) - hours_ago,
            key_id: key.into(),
            name: format!("name of {key}"),
            project_id: None,
            tally: Tally {
                admitted,
                rate_limited: 0,
                denied: denied.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect(),
            },
        };
        let rows = [
            row(0, "key_a", 5, &[("expired_key", 2)]),
            row(23, "key_b", 9, &[]),
            row(24, "key_c", 100, &[]), // 25 hours ago: outside
            row(3, "key_a", 1, &[("insufficient_permissions", 1)]),
        ];
        let m = summarize(&rows, 4, None, now);
        assert_eq!((m.requests, m.admitted, m.rate_limited), (18, 15, 0));
        assert_eq!(m.denied_by_reason["expired_key"], 2);
        assert_eq!(m.keys_expiring_30d, 4);
        let top: Vec<(&str, u64)> = m
            .top_keys
            .iter()
            .map(|k| (k.key_id.as_str(), k.requests))
            .collect();
        assert_eq!(top, [("key_a", 9), ("key_b", 9)], "by requests, then by id");
    }

    /// Issue 17, rule 6: a key scoped to project A saw B's keys in `top_keys`.
    #[test]
    fn a_scoped_caller_sees_its_projects_keys_only() {
        use crate::core::model::sample_record;
        let now = at(0);
        let report = |key: &str, project: Option<&str>, admitted: u64| {
            let mut r = sample_record(key, now);
            r.name = format!("name of {key}");
            r.project_id = project.map(Into::into);
            let tally = Tally {
                admitted,
                denied: [("expired_key".to_owned(), 1)].into(),
                ..Tally::default()
            };
            Report::of(&r, hour_of(now), tally)
        };
        let rows: Vec<HourRow> = [
            report("key_a", Some("proj_a"), 3),
            report("key_b", Some("proj_b"), 50),
            report("key_all", None, 7),
        ]
        .iter()
        .map(|r| HourRow::with_report(None, r))
        .collect();
        let names =
            |m: &Monitoring| -> Vec<String> { m.top_keys.iter().map(|k| k.name.clone()).collect() };
        let a = summarize(&rows, 1, Some(&"proj_a".into()), now);
        assert_eq!(names(&a), ["name of key_a"]);
        assert_eq!((a.requests, a.admitted), (4, 3), "its keys' requests only");
        assert_eq!(a.denied_by_reason["expired_key"], 1);
        let team = summarize(&rows, 1, None, now);
        assert_eq!(team.top_keys.len(), 3, "a team-wide caller sees every key");
        assert_eq!(team.requests, 63);
        // A row stored before rows had a project is team-wide; the next report gives it one.
        let mut old = serde_json::to_value(&rows[0]).unwrap();
        old.as_object_mut().unwrap().remove("project_id");
        let old: HourRow = serde_json::from_value(old).unwrap();
        assert!(
            summarize(std::slice::from_ref(&old), 0, Some(&"proj_a".into()), now)
                .top_keys
                .is_empty()
        );
        let merged = HourRow::with_report(Some(old), &report("key_a", Some("proj_a"), 1));
        assert_eq!(merged.project_id.as_deref(), Some("proj_a"));
        assert_eq!(merged.tally.admitted, 4);
    }
}
