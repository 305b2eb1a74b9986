//! Idle keys: when a key has been unused long enough for its team's `auto_disable_idle_days`
//! to disable it, and for `api_key.idle` (90 idle days, once per idle stretch). Pure functions
//! of the key's dates, the policy its object holds, the length of a day and `now`; the key's
//! object keeps the next deadline as its alarm (`core::key_schedule`), so no cron walks every
//! key. A key's idle stretch starts at its last use, or at its creation if never used.

use super::model::{KeyRecord, KeyStatus, Team};
use super::team::{TeamResult, TeamStore};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A day, as the policy counts it (a deployment's tests may shorten it: `IDLE_DAY_MS`).
pub const DAY_MS: i64 = 86_400_000;
/// `api_key.idle` is sent when a key reaches this many idle days.
pub const IDLE_EVENT_DAYS: i64 = 90;
/// `auto_disable_idle_days` is a whole number of days in this range (or `null`: off).
pub const MIN_DAYS: u32 = 1;
pub const MAX_DAYS: u32 = 3650;
/// The shortest day `IDLE_DAY_MS` may set (tests); anything else is a real day.
pub const MIN_DAY_MS: i64 = 10;

/// The idle policy a key's object holds: a copy of its team's setting (pushed by the team's
/// object when it changes, given at creation) and the idle stretch already notified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdlePolicy {
    /// The team's `auto_disable_idle_days`; `None`: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_disable_days: Option<u32>,
    /// The start of the idle stretch `api_key.idle` was sent for: a key used again starts a
    /// new stretch, which may send it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_since: Option<Timestamp>,
}

/// What is due for a key at `now`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdleDue {
    /// Send `api_key.idle` (90 idle days reached, not yet sent for this stretch).
    pub notify: bool,
    /// Disable the key (reason `idle`): idle for the team's `auto_disable_idle_days`.
    pub disable: bool,
}

/// The length of a day: `IDLE_DAY_MS` as set (tests), else a real day. Never shorter than
/// [`MIN_DAY_MS`] nor longer than a day.
pub fn day_ms(var: Option<&str>) -> i64 {
    var.and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|d| (MIN_DAY_MS..=DAY_MS).contains(d))
        .unwrap_or(DAY_MS)
}

/// The start of the key's current idle stretch: its last use, or its creation.
pub fn idle_since(record: &KeyRecord) -> Timestamp {
    record.last_used.unwrap_or(record.created_at)
}

fn after(since: Timestamp, days: i64, day_ms: i64) -> Timestamp {
    Timestamp::from_millis(since.millis().saturating_add(days.saturating_mul(day_ms)))
}

/// Only an active key is idle in the policy's sense: a disabled key stays disabled, an
/// expired one cannot be used anyway (if its expiry moves, its next alarm looks again).
fn watched(record: &KeyRecord, now: Timestamp) -> bool {
    record.status(now) == KeyStatus::Active
}

/// What is due at `now`: idle for `auto_disable_days` whole days (exactly that long counts),
/// or for 90 with no `api_key.idle` sent for this stretch yet.
pub fn due(record: &KeyRecord, policy: &IdlePolicy, day_ms: i64, now: Timestamp) -> IdleDue {
    if !watched(record, now) {
        return IdleDue::default();
    }
    let since = idle_since(record);
    IdleDue {
        notify: policy.notified_since != Some(since)
            && now >= after(since, IDLE_EVENT_DAYS, day_ms),
        disable: policy
            .auto_disable_days
            .is_some_and(|n| now >= after(since, i64::from(n), day_ms)),
    }
}

/// When the policy next needs the key's object: the earliest of the 90-day event (unless sent
/// for this stretch) and the auto-disable, for an active key; `None` otherwise. A key used in
/// between is looked at then, found used, and scheduled again from its new last use.
pub fn next_deadline(
    record: &KeyRecord,
    policy: &IdlePolicy,
    day_ms: i64,
    now: Timestamp,
) -> Option<Timestamp> {
    if !watched(record, now) {
        return None;
    }
    let since = idle_since(record);
    let event =
        (policy.notified_since != Some(since)).then(|| after(since, IDLE_EVENT_DAYS, day_ms));
    let disable = policy
        .auto_disable_days
        .map(|n| after(since, i64::from(n), day_ms));
    event.into_iter().chain(disable).min()
}

/// The team setting as the input gives it: `Err` names why (the answer is a `400` naming
/// `auto_disable_idle_days`).
pub fn parse_setting(v: &serde_json::Value) -> Result<Option<u32>, &'static str> {
    const WHY: &str = "must be a whole number of days from 1 to 3650, or null (off)";
    if v.is_null() {
        return Ok(None);
    }
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (MIN_DAYS..=MAX_DAYS).contains(n))
        .map(Some)
        .ok_or(WHY)
}

/// A change of the team's `auto_disable_idle_days` (`days: None`: off), as the team object's
/// call carries it (a struct, so that "set to off" and "not changed" stay apart in JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub days: Option<u32>,
}

/// Sets the team's `auto_disable_idle_days` when the change has it (after the rest of the
/// team change, `core::team::update`). The team's object then pushes it to the team's keys.
pub fn set_team_setting(
    s: &impl TeamStore,
    mut team: Team,
    change: Option<Setting>,
) -> TeamResult<Team> {
    if let Some(Setting { days }) = change {
        if team.auto_disable_idle_days != days {
            team.auto_disable_idle_days = days;
            s.update_team(&team)?;
        }
    }
    Ok(team)
}

/// The team object's push of a changed setting to its keys, off the request's path: its own
/// alarm walks the listing in batches of [`PUSH_BATCH`] by `seq`, remembering the last key
/// done, so a restart resumes; a newer change starts a new push (a new `generation`), and the
/// older one's progress no longer counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub days: Option<u32>,
    pub generation: i64,
    /// The listing's `seq` of the last key given the setting.
    pub after_seq: i64,
    /// Failed calls in a row to the key at `failed_seq` (older pushes stored none: 0).
    #[serde(default)]
    pub failures: u32,
    /// The listing's `seq` of the key those calls went to (a count is one key's, never the next
    /// key's: that key may be deleted meanwhile).
    #[serde(default)]
    pub failed_seq: Option<i64>,
    /// Keys passed over in this walk of the listing: the walk is made again (see
    /// [`Push::finished`]), so a key that failed for a while gets the setting in the end.
    #[serde(default)]
    pub passed_over: u32,
    /// Walks made again so far (their delay doubles).
    #[serde(default)]
    pub round: u32,
}

/// Keys given the setting per alarm run.
pub const PUSH_BATCH: usize = 50;
/// The delay before a push whose key call failed tries that key again.
pub const PUSH_RETRY_MS: i64 = 30_000;
/// Calls to one key that may fail in a row (some five minutes of tries) before the push passes
/// over it, so that one broken key object does not hold the setting back from the rest.
pub const PUSH_TRIES: u32 = 10;
/// The delay before a walk that passed over a key is made again (doubling per round).
pub const PUSH_ROUND_MS: i64 = 3_600_000;

/// What a failed key call does to a push: try that key again later, or pass over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    Retry(Push),
    PassOver(Push),
}

impl Push {
    /// A new push of `days`, after `previous` (if any).
    pub fn start(days: Option<u32>, previous: Option<&Push>) -> Push {
        Push {
            days,
            generation: previous.map_or(1, |p| p.generation + 1),
            after_seq: 0,
            failures: 0,
            failed_seq: None,
            passed_over: 0,
            round: 0,
        }
    }

    /// One more key (at `seq`) was given the setting: a restart resumes after it.
    pub fn through(self, seq: i64) -> Push {
        Push {
            after_seq: seq,
            failures: 0,
            failed_seq: None,
            ..self
        }
    }

    /// The call to the key at `seq` failed: it is tried again after [`PUSH_RETRY_MS`], up to
    /// [`PUSH_TRIES`] calls in a row, then passed over (the push goes on after it).
    pub fn failed_at(self, seq: i64) -> AfterFailure {
        let before = if self.failed_seq == Some(seq) {
            self.failures
        } else {
            0
        };
        let failures = before.saturating_add(1);
        if failures >= PUSH_TRIES {
            AfterFailure::PassOver(Push {
                passed_over: self.passed_over.saturating_add(1),
                ..self.through(seq)
            })
        } else {
            AfterFailure::Retry(Push {
                failures,
                failed_seq: Some(seq),
                ..self
            })
        }
    }

    /// After a batch of `got` keys (the last one's `seq`, if any) went well: the push moved
    /// on, or (`None`) it is done because the batch was the listing's last.
    pub fn advanced(self, got: usize, last_seq: Option<i64>) -> Option<Push> {
        match last_seq {
            Some(seq) if got >= PUSH_BATCH => Some(Push {
                after_seq: seq,
                ..self
            }),
            _ => None,
        }
    }

    /// The walk reached the listing's end: done (`None`), or, if it passed over a key, the
    /// same push walked again from the start after a delay (an hour, doubling per round, at
    /// most a day). Keys that hold the setting already answer without a write.
    pub fn finished(self) -> Option<(Push, i64)> {
        if self.passed_over == 0 {
            return None;
        }
        let delay = (PUSH_ROUND_MS << self.round.min(5)).min(DAY_MS);
        let again = Push {
            after_seq: 0,
            failures: 0,
            failed_seq: None,
            passed_over: 0,
            round: self.round.saturating_add(1),
            ..self
        };
        Some((again, delay))
    }
}

#[cfg(test)]
#[path = "idle_tests.rs"]
mod tests;
