//! A key's life without requests: when its expiry notices are due (30, 7 and 1 day before), when
//! it expires, when it renews itself, and how a roll shortens the old key. Pure functions of the
//! key's dates, what was already sent, and `now`; the key's Durable Object keeps the next
//! deadline as an alarm and runs [`due`] when it fires (alarms are at least once, so every
//! effect is recorded in [`Notices`] and a second run finds nothing left to do).

use super::time::Timestamp;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

/// The expiry notices, in the order they come due (so `Days30 < Days7 < Day1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Threshold {
    Days30,
    Days7,
    Day1,
}

impl Threshold {
    pub const ALL: [Threshold; 3] = [Threshold::Days30, Threshold::Days7, Threshold::Day1];

    /// How long before expiry the notice is due.
    pub fn before_ms(self) -> i64 {
        match self {
            Threshold::Days30 => 30 * DAY_MS,
            Threshold::Days7 => 7 * DAY_MS,
            Threshold::Day1 => DAY_MS,
        }
    }

    pub fn days(self) -> u32 {
        (self.before_ms() / DAY_MS) as u32
    }
}

/// What was already done for the key's current expiry. Reset whenever the expiry moves, so a
/// key whose expiry is moved gets the notices of its new schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notices {
    /// The expiry these records are about.
    pub for_expiry: Option<Timestamp>,
    /// The closest threshold already notified (or skipped as past): later ones are not sent.
    pub last_threshold: Option<Threshold>,
    /// `api_key.expired` was sent.
    pub expired_sent: bool,
    /// After a renewal: the earliest the next one may happen (a day later), so a key whose
    /// lifetime is shorter than 30 days, which is due again at once, renews at most daily.
    #[serde(default)]
    pub renew_not_before: Option<Timestamp>,
}

impl Notices {
    /// The records for `expires_at`: kept if they are about it, fresh otherwise.
    pub fn for_expiry(self, expires_at: Option<Timestamp>) -> Notices {
        if self.for_expiry == expires_at {
            self
        } else {
            Notices {
                for_expiry: expires_at,
                ..Notices::default()
            }
        }
    }

    /// Was `t` notified, or skipped because a closer one was?
    fn notified(&self, t: Threshold) -> bool {
        self.last_threshold.is_some_and(|last| last >= t)
    }
}

/// The dates of a key that its schedule depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dates {
    pub expires_at: Option<Timestamp>,
    /// When the current lifetime began: creation, or the last renewal.
    pub lifetime_start: Timestamp,
    pub auto_renew: bool,
    pub disabled: bool,
}

/// One thing due now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send `api_key.expiring` for this threshold.
    Expiring(Threshold),
    /// Send `api_key.expired`.
    Expired,
    /// Move `expires_at` to `new_expires_at` (lifetime begins now) and send `api_key.renewed`.
    Renew {
        old_expires_at: Timestamp,
        new_expires_at: Timestamp,
    },
}

/// A renewal's new expiry: forward by the key's lifetime (from its creation or last renewal to
/// its expiry), at least one day.
pub fn renewed_expiry(d: &Dates, expires_at: Timestamp) -> Timestamp {
    let lifetime = (expires_at.millis() - d.lifetime_start.millis()).max(DAY_MS);
    Timestamp::from_millis(expires_at.millis() + lifetime)
}

/// What is due at `now`, and the records after doing it. At most one action a call: the caller
/// records it with the effect, then asks again (a renewal changes the schedule).
///
/// - A disabled key, or one with no expiry, has nothing due.
/// - `auto_renew`: when 30 days or less remain (and it has not expired), renew; no expiring
///   notice is sent for it.
/// - Otherwise the closest threshold already reached is notified once, and the ones before it
///   are skipped: a key created with 10 days left gets the 30-day notice at once (the nearest
///   reached), and the 7-day one when 7 days remain; one created with 5 days left gets only the
///   7-day one now.
/// - At expiry, `api_key.expired` once.
pub fn due(d: &Dates, notices: Notices, now: Timestamp) -> (Option<Action>, Notices) {
    let mut n = notices.for_expiry(d.expires_at);
    let Some(expires_at) = d.expires_at.filter(|_| !d.disabled) else {
        return (None, n);
    };
    let left = expires_at.millis() - now.millis();
    if left <= 0 {
        if n.expired_sent {
            return (None, n);
        }
        n.expired_sent = true;
        return (Some(Action::Expired), n);
    }
    if d.auto_renew {
        let waited = n.renew_not_before.is_none_or(|t| now >= t);
        if left <= Threshold::Days30.before_ms() && waited {
            let new_expires_at = renewed_expiry(d, expires_at);
            let renewed = Notices {
                for_expiry: Some(new_expires_at),
                renew_not_before: Some(Timestamp::from_millis(now.millis() + DAY_MS)),
                ..Notices::default()
            };
            return (
                Some(Action::Renew {
                    old_expires_at: expires_at,
                    new_expires_at,
                }),
                renewed,
            );
        }
        return (None, n);
    }
    // The closest threshold reached: the last of ALL whose time has come.
    let reached = Threshold::ALL.into_iter().rfind(|t| left <= t.before_ms());
    match reached {
        Some(t) if !n.notified(t) => {
            n.last_threshold = Some(t);
            (Some(Action::Expiring(t)), n)
        }
        _ => (None, n),
    }
}

/// When to look again: the next threshold, renewal or expiry after `now` (`None`: never, until
/// the key changes).
pub fn next_deadline(d: &Dates, notices: Notices, now: Timestamp) -> Option<Timestamp> {
    let n = notices.for_expiry(d.expires_at);
    let expires_at = d.expires_at.filter(|_| !d.disabled)?;
    // Once expired (and told), nothing is left; at or past expiry, only the expiry is due.
    if n.expired_sent {
        return None;
    }
    if now >= expires_at {
        return Some(now);
    }
    let at = |t: Threshold| Timestamp::from_millis(expires_at.millis() - t.before_ms());
    let mut candidates = Vec::new();
    if d.auto_renew {
        let renew_at = at(Threshold::Days30);
        candidates.push(n.renew_not_before.map_or(renew_at, |t| t.max(renew_at)));
    } else {
        candidates.extend(
            Threshold::ALL
                .into_iter()
                .filter(|t| !n.notified(*t))
                .map(at),
        );
    }
    if !n.expired_sent {
        candidates.push(expires_at);
    }
    // A deadline already past is due at once (the alarm fires immediately).
    candidates
        .into_iter()
        .map(|t| if t < now { now } else { t })
        .min()
}

/// Rolling: the old key's new expiry, `expire_old_in` seconds from now, never later than it was.
pub fn rolled_expiry(old: Option<Timestamp>, now: Timestamp, expire_old_in_secs: i64) -> Timestamp {
    let proposed = Timestamp::from_millis(now.millis() + expire_old_in_secs * 1000);
    match old {
        Some(o) if o < proposed => o,
        _ => proposed,
    }
}

/// `expire_old_in`: 0 to 30 days, in seconds.
pub const MAX_EXPIRE_OLD_IN_SECS: i64 = 30 * 86_400;
/// Its default: a day.
pub const DEFAULT_EXPIRE_OLD_IN_SECS: i64 = 86_400;

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
