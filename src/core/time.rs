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
        if let Some(t) = parse_canonical(s.as_bytes()) {
            return Some(t);
        }
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

/// Days since the epoch → (year, month 1–12, day 1–31), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// (year, month, day) → days since the epoch (`days_from_civil`, the inverse of the above).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-10-14T00:00:00Z` or `2026-10-14T00:00:00.250Z`, as chrono's
/// `to_rfc3339_opts(AutoSi, true)` writes it for years 0–9999 (others: `None`, and chrono
/// writes them). Formatting runs on every record a key object answers: no `fmt` machinery.
fn format_canonical(ms: i64, out: &mut [u8; 24]) -> Option<usize> {
    let (y, mo, d) = civil_from_days(ms.div_euclid(86_400_000));
    if !(0..=9999).contains(&y) {
        return None;
    }
    let in_day = ms.rem_euclid(86_400_000);
    let (h, mi, s, frac) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let put = |out: &mut [u8; 24], at: usize, v: i64, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    *out = *b"0000-00-00T00:00:00.000Z";
    put(out, 0, y, 4);
    put(out, 5, i64::from(mo), 2);
    put(out, 8, i64::from(d), 2);
    put(out, 11, h, 2);
    put(out, 14, mi, 2);
    put(out, 17, s, 2);
    if frac == 0 {
        out[19] = b'Z';
        return Some(20);
    }
    put(out, 20, frac, 3);
    Some(24)
}

/// The canonical form [`format_canonical`] writes (no fraction or exactly 3 digits, `Z`), read
/// without chrono; anything else (offsets, other precisions, invalid dates): `None`.
fn parse_canonical(b: &[u8]) -> Option<Timestamp> {
    if !(b.len() == 20 || b.len() == 24) || b[b.len() - 1] != b'Z' {
        return None;
    }
    let num = |at: usize, width: usize| -> Option<i64> {
        b.get(at..at + width)?.iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, s) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let frac = if b.len() == 24 {
        if b[19] != b'.' {
            return None;
        }
        num(20, 3)?
    } else {
        0
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo)
        || d < 1
        || d > days_in[(mo - 1) as usize]
        || h > 23
        || mi > 59
        || s > 59
    {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(Timestamp(
        days * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + frac,
    ))
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with a `Z`; fractions of a second only when there are any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        match format_canonical(self.0, &mut buf) {
            Some(n) => f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?),
            None => f.write_str(&self.datetime().to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 24];
        match format_canonical(self.0, &mut buf) {
            // ASCII digits and separators only.
            Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
            None => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
    }
}

/// An object has one alarm for all its deadlines: the time to set it to so that a deadline
/// `wanted_ms` from `now_ms` is met without postponing another already set (`existing`, in ms
/// since the epoch). `None`: keep the alarm as it is. `running`: inside the alarm's handler, the
/// alarm time read when the handler began (the alarm that is running, which is no deadline to
/// keep); elsewhere `None`. Any other time set, past or future, is a deadline still to come: an
/// alarm set for "now" that has not fired yet reads as a time already past.
pub fn sooner_alarm(
    now_ms: i64,
    running: Option<i64>,
    existing: Option<i64>,
    wanted_ms: i64,
) -> Option<i64> {
    let at = now_ms.saturating_add(wanted_ms.max(0));
    match existing {
        Some(e) if Some(e) != running && e <= at => None,
        _ => Some(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alarm_is_moved_only_sooner() {
        // Nothing set: set it.
        assert_eq!(sooner_alarm(1_000, None, None, 500), Some(1_500));
        // A later one set: bring it forward.
        assert_eq!(sooner_alarm(1_000, None, Some(9_000), 500), Some(1_500));
        // A sooner (or the same) one set: keep it.
        assert_eq!(sooner_alarm(1_000, None, Some(1_200), 500), None);
        assert_eq!(sooner_alarm(1_000, None, Some(1_500), 500), None);
        // One set for "now" that has not fired yet (its time is past): keep it, outside the
        // handler and inside it alike (set by a call while the handler was waiting).
        assert_eq!(sooner_alarm(1_000, None, Some(1_000), 500), None);
        assert_eq!(sooner_alarm(1_000, None, Some(10), 58_000), None);
        assert_eq!(sooner_alarm(1_000, Some(900), Some(950), 500), None);
        // The alarm running now, read when its handler began, is no deadline to keep, whether
        // its time is past or (fired a little early) still ahead.
        assert_eq!(sooner_alarm(1_000, Some(900), Some(900), 500), Some(1_500));
        assert_eq!(
            sooner_alarm(1_000, Some(1_200), Some(1_200), 500),
            Some(1_500)
        );
        // A negative delay means now.
        assert_eq!(sooner_alarm(1_000, None, Some(5_000), -3), Some(1_000));
    }

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
    fn the_fast_format_and_parse_are_chronos() {
        let chrono_text = |ms: i64| {
            DateTime::from_timestamp_millis(ms)
                .unwrap_or_default()
                .to_rfc3339_opts(SecondsFormat::AutoSi, true)
        };
        let chrono_parse = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc).timestamp_millis())
        };
        // Every day of 1969–2101 at a few times, the edges of the 4-digit years, and a spread.
        let mut samples: Vec<i64> = (-365..48_000)
            .flat_map(|d: i64| [(d % 3) * 1000 + d % 1000, 86_399_999].map(|t| d * 86_400_000 + t))
            .collect();
        samples.extend([
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_799_999,
            253_402_300_800_000,
            i64::MIN / 2,
            i64::MAX / 2,
        ]);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push((x % 600_000_000_000_000) as i64 - 300_000_000_000_000);
        }
        for ms in samples {
            let text = Timestamp(ms).to_string();
            assert_eq!(text, chrono_text(ms), "{ms}");
            let json = serde_json::to_string(&Timestamp(ms)).unwrap();
            assert_eq!(json, format!("\"{text}\""), "{ms}");
            assert_eq!(
                parse_canonical(text.as_bytes()).map(Timestamp::millis),
                chrono_parse(&text).filter(|_| text.len() == 20 || text.len() == 24),
                "{text}"
            );
        }
        for bad in [
            "2026-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-12-32T00:00:00Z",
            "2024-12-01T24:00:00Z",
            "2024-12-01T23:60:00Z",
            "2024-12-01T23:59:60Z",
            "2024-12-01T23:59:59.5Z",
            "2024-12-01 23:59:59Z",
            "+024-12-01T23:59:59Z",
            "2024-12-01T23:59:59.25xZ",
        ] {
            assert_eq!(parse_canonical(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(
            Timestamp::parse_rfc3339("2024-02-29T12:00:00.500Z"),
            chrono_parse("2024-02-29T12:00:00.500Z").map(Timestamp)
        );
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
