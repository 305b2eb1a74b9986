//! Credits: a balance a key spends on each admitted verification (`cost`, 0..=1000, default 1),
//! optionally refilled at the start of each UTC day or month. Pure functions of (setting,
//! balance, now); the key's object holds the balance in the counters row the rate limit writes
//! anyway, so spending costs no storage call of its own and is exact under concurrency.
//!
//! The setting lives in the key's record (changed only by create and `PATCH`); the balance in the
//! counters. A balance belongs to the setting it was made from (`set_at`): a new setting starts
//! a new balance at its `remaining`, so a `PATCH` never has to touch the counters.
//!
//! A refill *sets* `remaining` to `amount` (it does not add), lazily: at the first check of a new
//! day or month, or when the balance is read.

use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The highest `remaining` or refill `amount`.
pub const MAX_CREDITS: u64 = 1_000_000_000;
/// The highest `cost` of one verification.
pub const MAX_COST: u32 = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Daily,
    Monthly,
}

impl Interval {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "daily" => Some(Interval::Daily),
            "monthly" => Some(Interval::Monthly),
            _ => None,
        }
    }

    /// The period `now` falls in: a UTC day or a UTC month number.
    fn period(self, now: Timestamp) -> i64 {
        match self {
            Interval::Daily => now.utc_day(),
            Interval::Monthly => now.utc_month(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refill {
    pub amount: u64,
    pub interval: Interval,
}

/// The key's credits as set by create or `PATCH` (in its record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsSetting {
    /// What the key was granted when this was set.
    pub remaining: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refill: Option<Refill>,
    /// When it was set: the balance made from it carries this.
    pub set_at: Timestamp,
}

/// What a key holds now (in its counters row).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The setting this balance was made from.
    pub set_at: Timestamp,
    pub remaining: u64,
    /// The refill period it was last set for (a day or month number), when it refills.
    pub period: i64,
    /// The last grant (the first, or the last refill): `api_key.credits_low` is below 10 % of it.
    pub grant: u64,
    /// `api_key.credits_low` was raised since the last grant.
    pub low_alerted: bool,
}

/// Fewer credits remain than the cost: nothing was spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooFew;

/// `Ok(true)`: spent, and the balance just fell below 10 % of its grant for the first time
/// (raise `api_key.credits_low`). `Err`: too few left; nothing spent.
pub type Spent = Result<bool, TooFew>;

impl Balance {
    fn fresh(s: &CreditsSetting, now: Timestamp) -> Self {
        Balance {
            set_at: s.set_at,
            remaining: s.remaining,
            period: s.refill.map_or(0, |r| r.interval.period(now)),
            grant: s.remaining,
            low_alerted: false,
        }
    }

    /// The balance as of `now`: `stored` if it belongs to `setting` (refilled if a new period
    /// started), else a new one made from `setting`.
    pub fn current(setting: &CreditsSetting, stored: Option<Balance>, now: Timestamp) -> Balance {
        let mut b = match stored {
            Some(b) if b.set_at == setting.set_at => b,
            _ => Balance::fresh(setting, now),
        };
        if let Some(r) = setting.refill {
            let period = r.interval.period(now);
            if period != b.period {
                b.remaining = r.amount;
                b.grant = r.amount;
                b.period = period;
                b.low_alerted = false;
            }
        }
        b
    }

    /// Spends `cost` if that many remain (a cost of 0 always succeeds and spends nothing).
    pub fn spend(&mut self, cost: u32) -> Spent {
        let cost = u64::from(cost);
        if self.remaining < cost {
            return Err(TooFew);
        }
        self.remaining -= cost;
        let low = self.remaining * 10 < self.grant;
        let raise = low && !self.low_alerted && cost > 0;
        if raise {
            self.low_alerted = true;
        }
        Ok(raise)
    }
}

/// `credits` as a key's view shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsView {
    pub remaining: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refill: Option<Refill>,
}

pub fn view(setting: &CreditsSetting, stored: Option<Balance>, now: Timestamp) -> CreditsView {
    CreditsView {
        remaining: Balance::current(setting, stored, now).remaining,
        refill: setting.refill,
    }
}

#[cfg(test)]
#[path = "credits_tests.rs"]
mod tests;
