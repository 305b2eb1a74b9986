//! Points in time as the service sees them: UTC milliseconds since the Unix epoch, written as
//! RFC 3339 strings (`2026-10-14T00:00:00Z`) wherever they leave the process.
//!
//! The clock is never read here: the edge reads it once per request and passes it in.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A UTC instant with millisecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub const fn from_secs(s: i64) -> Self {
        Timestamp(s * 1000)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded down.
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Parses an RFC 3339 time with any offset; the result is in UTC.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Timestamp(t.with_timezone(&Utc).timestamp_millis()))
    }

    fn datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }

    /// Days since the epoch of this instant's UTC calendar day.
    pub fn utc_day(self) -> i64 {
        self.0.div_euclid(86_400_000)
    }

    /// A number for this instant's UTC calendar month (`year * 12 + month0`).
    pub fn utc_month(self) -> i64 {
        let d = self.datetime();
        i64::from(d.year()) * 12 + i64::from(d.month0())
    }

    /// The start of the UTC calendar month numbered `month` (as [`Timestamp::utc_month`]), in
    /// Unix seconds: the 1st at 00:00:00.
    pub fn month_start_secs(month: i64) -> i64 {
        let (year, month0) = (month.div_euclid(12), month.rem_euclid(12));
        chrono::NaiveDate::from_ymd_opt(year as i32, month0 as u32 + 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |d| d.and_utc().timestamp())
    }

    /// The start of this instant's UTC calendar month, in Unix seconds.
    pub fn utc_month_start(self) -> i64 {
        Self::month_start_secs(self.utc_month())
    }

    /// The start of the next UTC calendar month (when this one's window resets), in Unix seconds.
    pub fn utc_next_month_start(self) -> i64 {
        Self::month_start_secs(self.utc_month() + 1)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with a `Z`; fractions of a second only when there are any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.datetime().to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_months_at_their_ends_and_leap_days() {
        let at = |s| Timestamp::parse_rfc3339(s).unwrap();
        let secs = |s| at(s).secs();
        for (now, start, next) in [
            (
                "2028-02-29T23:59:59.999Z",
                "2028-02-01T00:00:00Z",
                "2028-03-01T00:00:00Z",
            ),
            (
                "2027-02-28T12:00:00Z",
                "2027-02-01T00:00:00Z",
                "2027-03-01T00:00:00Z",
            ),
            (
                "2026-12-31T23:59:59Z",
                "2026-12-01T00:00:00Z",
                "2027-01-01T00:00:00Z",
            ),
            (
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:00:00Z",
                "2026-02-01T00:00:00Z",
            ),
            (
                "2026-04-30T23:00:00Z",
                "2026-04-01T00:00:00Z",
                "2026-05-01T00:00:00Z",
            ),
        ] {
            assert_eq!(at(now).utc_month_start(), secs(start), "{now}");
            assert_eq!(at(now).utc_next_month_start(), secs(next), "{now}");
        }
        // A leap February is 29 days long, a common one 28.
        let len = |s| at(s).utc_next_month_start() - at(s).utc_month_start();
        assert_eq!(len("2028-02-10T00:00:00Z"), 29 * 86_400);
        assert_eq!(len("2100-02-10T00:00:00Z"), 28 * 86_400);
    }

    #[test]
    fn formats_utc_with_z_and_no_empty_fraction() {
        let t = Timestamp::parse_rfc3339("2026-10-14T02:00:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-10-14T00:00:00Z");
        let t = Timestamp::from_millis(t.millis() + 250);
        assert_eq!(t.to_string(), "2026-10-14T00:00:00.250Z");
    }

    #[test]
    fn rejects_non_rfc3339() {
        for s in [
            "2026-10-14",
            "tomorrow",
            "2026-10-14 00:00:00",
            "",
            "2026-13-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn calendar_day_and_month_are_utc() {
        let a = Timestamp::parse_rfc3339("2026-01-31T23:59:59.999Z").unwrap();
        let b = Timestamp::parse_rfc3339("2026-02-01T00:00:00Z").unwrap();
        assert_eq!(a.utc_day() + 1, b.utc_day());
        assert_eq!(a.utc_month() + 1, b.utc_month());
        let c = Timestamp::parse_rfc3339("2026-02-01T00:30:00+01:00").unwrap();
        assert_eq!(
            c.utc_month(),
            a.utc_month(),
            "23:30 UTC on Jan 31 is still January"
        );
    }

    #[test]
    fn round_trips_through_serde() {
        let t = Timestamp::from_secs(1_760_400_000);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2025-10-14T00:00:00Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }
}
