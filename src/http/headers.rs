//! Response headers: the ones every response carries, and the rate-limit headers of a key.
//!
//! - [`SECURITY_HEADERS`] go on every response, errors and `/healthz` included: nothing keygate
//!   answers may be cached (a response can hold a key shown once), nor sniffed as another type.
//! - `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (Unix seconds) describe
//!   the window with the fewest remaining (the one that will refuse first).
//! - `RateLimit-Policy` and `RateLimit` (IETF draft-ietf-httpapi-ratelimit-headers) describe
//!   all: `"minute";q=100;w=60, "hour";q=1000;w=3600` and `"minute";r=99;t=42, "hour";r=990;t=1242`
//!   (`q` quota, `w` window seconds, `r` remaining, `t` seconds until reset), then
//!   `"month";q=10000;w=2678400` / `"month";r=9990;t=…` for a key with a monthly quota (`w` is
//!   the current month's length).

use crate::core::ratelimit::LimitState;
use crate::core::time::Timestamp;

/// Set on every response by the worker's entry.
pub const SECURITY_HEADERS: [(&str, &str); 2] = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
];

pub fn rate_limit_headers(s: &LimitState, now: Timestamp) -> [(&'static str, String); 5] {
    let b = s.binding();
    let policy = s
        .windows()
        .iter()
        .map(|w| format!("\"{}\";q={};w={}", w.name.as_str(), w.limit, w.seconds()))
        .collect::<Vec<_>>()
        .join(", ");
    let current = s
        .windows()
        .iter()
        .map(|w| {
            format!(
                "\"{}\";r={};t={}",
                w.name.as_str(),
                w.remaining,
                (w.reset - now.secs()).max(0)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    [
        ("X-RateLimit-Limit", b.limit.to_string()),
        ("X-RateLimit-Remaining", b.remaining.to_string()),
        ("X-RateLimit-Reset", b.reset.to_string()),
        ("RateLimit-Policy", policy),
        ("RateLimit", current),
    ]
}

/// The same headers for a signed-in member's one window (a minute; see `core::throttle`).
pub fn member_limit_headers(
    w: &crate::core::throttle::MemberWindow,
    now: Timestamp,
) -> [(&'static str, String); 5] {
    [
        ("X-RateLimit-Limit", w.limit.to_string()),
        ("X-RateLimit-Remaining", w.remaining.to_string()),
        ("X-RateLimit-Reset", (now.secs() + w.reset).to_string()),
        ("RateLimit-Policy", format!("\"minute\";q={};w=60", w.limit)),
        (
            "RateLimit",
            format!("\"minute\";r={};t={}", w.remaining, w.reset),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ratelimit::{admit, Counters, Plan, RateLimitPolicy};

    #[test]
    fn headers_describe_the_binding_window_and_both_policies() {
        let now = Timestamp::parse_rfc3339("2026-10-14T10:20:30Z").unwrap();
        let p = RateLimitPolicy::build(Plan::Free, None, None).unwrap();
        let s = admit(&p, &mut Counters::default(), now).unwrap();
        let h = rate_limit_headers(&s, now);
        assert_eq!(h[0], ("X-RateLimit-Limit", "100".into()));
        assert_eq!(h[1], ("X-RateLimit-Remaining", "99".into()));
        assert_eq!(
            h[2].1,
            Timestamp::parse_rfc3339("2026-10-14T10:21:00Z")
                .unwrap()
                .secs()
                .to_string()
        );
        // October has 31 days; the month's window ends at November's start.
        assert_eq!(
            h[3].1,
            "\"minute\";q=100;w=60, \"hour\";q=1000;w=3600, \"month\";q=10000;w=2678400"
        );
        let to_november = Timestamp::parse_rfc3339("2026-11-01T00:00:00Z")
            .unwrap()
            .secs()
            - now.secs();
        assert_eq!(
            h[4].1,
            format!(
                "\"minute\";r=99;t=30, \"hour\";r=999;t=2370, \"month\";r=9999;t={to_november}"
            )
        );
        // Without a quota (enterprise), two windows as before.
        let p = RateLimitPolicy::build(Plan::Enterprise, Some(100), Some(1000)).unwrap();
        let s = admit(&p, &mut Counters::default(), now).unwrap();
        assert_eq!(
            rate_limit_headers(&s, now)[3].1,
            "\"minute\";q=100;w=60, \"hour\";q=1000;w=3600"
        );
    }
}
