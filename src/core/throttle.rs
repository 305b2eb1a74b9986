//! Password guessing and floods by members, the pure side: which counters a sign-in attempt is
//! judged and counted by, their bounds, how a client is named (IPv6 by its /64), and the
//! per-member rate of session-authenticated requests.
//!
//! A sign-in attempt is counted *before* its password is checked, in the same call of the team
//! object that checks the bounds ([`Throttle::admit`]): a parallel burst cannot get more guesses
//! than the bounds, because each attempt holds its place in the counts before any derivation
//! starts. A success then gives its place back ([`Throttle::release`]) and clears its pair.

use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The window every sign-in count runs over.
pub const FAILURE_WINDOW_MS: i64 = 15 * 60_000;
/// Failed sign-ins per (email, client) within the window before `429`.
pub const PAIR_BOUND: u32 = 10;
/// Per client (all emails).
pub const CLIENT_BOUND: u32 = 50;
/// Per email (all clients): the only bound a client with no failures of its own can meet.
pub const EMAIL_BOUND: u32 = 100;
/// Session-authenticated requests per member per minute.
pub const MEMBER_REQUESTS_PER_MINUTE: u32 = 600;
pub const MINUTE_MS: i64 = 60_000;
/// A refused sign-in is written to the audit log at most this often per (email, client).
pub const REFUSAL_AUDIT_MS: i64 = 60_000;

/// A count over a fixed window that starts with its first event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    pub window_start: i64,
    pub count: u32,
    /// For a (email, client) pair: when a refusal was last audited, and how many refusals
    /// since then are not yet in the audit log.
    #[serde(default)]
    pub audited_at: i64,
    #[serde(default)]
    pub unaudited: u32,
}

impl Failures {
    fn live(&self, now: i64, window: i64) -> bool {
        now - self.window_start < window
    }

    /// The count at `now` (0 once the window is over).
    pub fn current(&self, now: Timestamp, window: i64) -> u32 {
        if self.live(now.millis(), window) {
            self.count
        } else {
            0
        }
    }

    /// `Some(seconds)` to wait when the count is at `bound` at `now`.
    pub fn retry_after(&self, now: Timestamp, window: i64, bound: u32) -> Option<i64> {
        let end = self.window_start + window;
        (self.current(now, window) >= bound).then(|| ((end - now.millis()) + 999) / 1000)
    }

    /// One more at `now`.
    pub fn counted(self, now: Timestamp, window: i64) -> Self {
        let now = now.millis();
        if self.live(now, window) {
            Failures {
                count: self.count.saturating_add(1),
                ..self
            }
        } else {
            Failures {
                window_start: now,
                count: 1,
                ..self
            }
        }
    }

    /// One fewer (an attempt that succeeded gives back its place).
    pub fn released(self) -> Self {
        Failures {
            count: self.count.saturating_sub(1),
            ..self
        }
    }

    /// A refusal of this pair at `now`: `Some(n)` when it is time to audit the `n` refusals
    /// not yet in the log (at most once a minute), with the counter updated either way.
    pub fn refused(self, now: Timestamp) -> (Self, Option<u32>) {
        let unaudited = self.unaudited.saturating_add(1);
        if now.millis() - self.audited_at >= REFUSAL_AUDIT_MS {
            let f = Failures {
                audited_at: now.millis(),
                unaudited: 0,
                ..self
            };
            (f, Some(unaudited))
        } else {
            (Failures { unaudited, ..self }, None)
        }
    }
}

/// How a client is counted: its address, an IPv6 one by its /64 (one host holds a whole /64),
/// anything unreadable as given (cut to 64 characters). No client (no `CF-Connecting-IP`, as
/// in local development) is counted as `unknown`.
pub fn client_key(ip: Option<&str>) -> String {
    let Some(ip) = ip.map(str::trim) else {
        return "unknown".into();
    };
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => ip.chars().take(64).collect(),
    }
}

/// The counters one sign-in attempt is judged and counted by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Throttle {
    pub pair: String,
    pub client: String,
    pub email: String,
}

/// A refused attempt: how long to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: i64,
}

impl Throttle {
    pub fn new(email_key: &str, client: Option<&str>) -> Self {
        let client = client_key(client);
        Throttle {
            pair: format!("pair:{email_key}|{client}"),
            client: format!("client:{client}"),
            email: format!("email:{email_key}"),
        }
    }

    fn bounded(&self) -> [(&str, u32); 3] {
        [
            (self.pair.as_str(), PAIR_BOUND),
            (self.client.as_str(), CLIENT_BOUND),
            (self.email.as_str(), EMAIL_BOUND),
        ]
    }

    /// Judges an attempt by the three counts and, if admitted, counts it in each (the new
    /// values to store, in the same call). A client with no failures of its own has its pair
    /// and client counts at 0, so only the per-email bound can refuse it.
    pub fn admit(
        &self,
        read: impl Fn(&str) -> Failures,
        now: Timestamp,
    ) -> Result<Vec<(String, Failures)>, Throttled> {
        let mut out = Vec::with_capacity(3);
        for (key, bound) in self.bounded() {
            let f = read(key);
            if let Some(retry_after) = f.retry_after(now, FAILURE_WINDOW_MS, bound) {
                return Err(Throttled {
                    retry_after: retry_after.max(1),
                });
            }
            out.push((key.to_owned(), f.counted(now, FAILURE_WINDOW_MS)));
        }
        Ok(out)
    }

    /// A success: the attempt's place is given back in the client and email counts, and the
    /// pair starts over.
    pub fn release(&self, read: impl Fn(&str) -> Failures) -> Vec<(String, Failures)> {
        vec![
            (self.pair.clone(), Failures::default()),
            (self.client.clone(), read(&self.client).released()),
            (self.email.clone(), read(&self.email).released()),
        ]
    }
}

/// A member's session-authenticated request at `now`: the new count, or how long to wait.
pub fn member_request(f: Failures, now: Timestamp) -> Result<Failures, Throttled> {
    match f.retry_after(now, MINUTE_MS, MEMBER_REQUESTS_PER_MINUTE) {
        Some(retry_after) => Err(Throttled {
            retry_after: retry_after.max(1),
        }),
        None => Ok(f.counted(now, MINUTE_MS)),
    }
}

/// The rate-limit fields of a member's window (as the headers show them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberWindow {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window starts over.
    pub reset: i64,
}

impl MemberWindow {
    pub fn of(f: &Failures, now: Timestamp) -> Self {
        let used = f.current(now, MINUTE_MS);
        let reset = ((f.window_start + MINUTE_MS - now.millis()).max(0) + 999) / 1000;
        MemberWindow {
            limit: MEMBER_REQUESTS_PER_MINUTE,
            remaining: MEMBER_REQUESTS_PER_MINUTE.saturating_sub(used),
            reset: reset.max(1),
        }
    }
}

#[cfg(test)]
#[path = "throttle_tests.rs"]
mod tests;
