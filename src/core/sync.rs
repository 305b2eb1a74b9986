//! What a key's object still owes the copies kept elsewhere after a change, and when to try
//! again.
//!
//! The key object is the authority: once it has applied an update, disable or delete, that
//! change is in force at every location and the request succeeds. Two copies follow it: the
//! team's listing (a row per key) and, for a delete, the KV index entry. The worker brings them
//! up to date right away; if that fails, the key object holds a [`Pending`] record and an alarm,
//! and retries until both hold. Revocation never waits for them: a stale index entry leads to an
//! object that answers `invalid_key`, and a stale listing row only misreports.

use super::events::Event;
use super::ids::{KeyId, TeamId};
use super::key::KeyHash;
use serde::{Deserialize, Serialize};

/// The first retry: long enough for the worker's own attempt to have finished.
pub const FIRST_RETRY_MS: i64 = 30_000;
/// Retries back off by doubling up to this, and never stop.
pub const MAX_RETRY_MS: i64 = 60 * 60 * 1000;

/// A follow-up the key object owes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pending {
    /// The listing must hold the object's current record (it keeps the newest revision only, so
    /// sending it again is harmless).
    Relist,
    /// The key is gone: its index entry and its listing row must be removed.
    Remove {
        team_id: TeamId,
        key_id: KeyId,
        hash: KeyHash,
    },
}

/// A pending follow-up and how many times it has failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    pub pending: Pending,
    pub failures: u32,
}

impl Outbox {
    pub fn new(pending: Pending) -> Self {
        Outbox {
            pending,
            failures: 0,
        }
    }

    /// Records a failed attempt; returns the delay before the next one (ms).
    pub fn failed(&mut self) -> i64 {
        self.failures = self.failures.saturating_add(1);
        retry_delay_ms(self.failures)
    }
}

/// The events a key's changes made that its team's events object has not taken yet. Written with the
/// change (so an event is never lost), handed over by the key object's alarm, and removed once
/// the team's events object has them (it keeps each event id once, so handing one over twice is
/// harmless).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventOutbox {
    pub team_id: TeamId,
    pub events: Vec<Event>,
    pub failures: u32,
}

/// A key object holds at most this many events for its team; past it, the oldest go (only if
/// the team's events object has been unreachable for a long time).
pub const MAX_HELD_EVENTS: usize = 500;

impl EventOutbox {
    pub fn new(team_id: TeamId) -> Self {
        EventOutbox {
            team_id,
            events: Vec::new(),
            failures: 0,
        }
    }

    pub fn add(&mut self, events: Vec<Event>) {
        for e in events {
            if !self.events.iter().any(|held| held.id == e.id) {
                self.events.push(e);
            }
        }
        let excess = self.events.len().saturating_sub(MAX_HELD_EVENTS);
        self.events.drain(..excess);
    }

    /// Drops the events the team's events object took (others may have been added meanwhile).
    pub fn handed_over(&mut self, ids: &[String]) {
        self.events.retain(|e| !ids.contains(&e.id));
        self.failures = 0;
    }

    /// Records a failed hand-over; returns the delay before the next one (ms).
    pub fn failed(&mut self) -> i64 {
        self.failures = self.failures.saturating_add(1);
        retry_delay_ms(self.failures)
    }
}

/// The delay before attempt `failures + 1`: 30 s, 1 min, 2 min, … doubling, at most an hour.
pub fn retry_delay_ms(failures: u32) -> i64 {
    let doublings = failures.saturating_sub(1).min(20);
    (FIRST_RETRY_MS << doublings).min(MAX_RETRY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_never_stop() {
        assert_eq!(retry_delay_ms(0), 30_000);
        assert_eq!(retry_delay_ms(1), 30_000);
        assert_eq!(retry_delay_ms(2), 60_000);
        assert_eq!(retry_delay_ms(3), 120_000);
        assert_eq!(retry_delay_ms(8), MAX_RETRY_MS);
        assert_eq!(retry_delay_ms(u32::MAX), MAX_RETRY_MS);
        let mut o = Outbox::new(Pending::Relist);
        let delays: Vec<i64> = (0..4).map(|_| o.failed()).collect();
        assert_eq!(delays, [30_000, 60_000, 120_000, 240_000]);
        assert_eq!(o.failures, 4);
    }

    #[test]
    fn the_event_outbox_keeps_each_event_once_and_is_bounded() {
        let ev = |n: usize| crate::core::events::Event {
            id: format!("evt_{n}"),
            kind: "api_key.updated".into(),
            created_at: crate::core::time::Timestamp::from_millis(0),
            body: "{}".into(),
        };
        let mut o = EventOutbox::new("team_1".into());
        o.add(vec![ev(1), ev(2)]);
        o.add(vec![ev(2), ev(3)]);
        assert_eq!(o.events.len(), 3);
        o.failed();
        o.handed_over(&["evt_1".into(), "evt_2".into()]);
        assert_eq!((o.events.len(), o.failures), (1, 0));
        o.add((10..10 + MAX_HELD_EVENTS).map(ev).collect());
        assert_eq!(o.events.len(), MAX_HELD_EVENTS);
        assert_eq!(o.events[0].id, "evt_10", "the oldest (evt_3) went first");
    }

    #[test]
    fn the_outbox_round_trips_as_json() {
        let o = Outbox::new(Pending::Remove {
            team_id: "team_1".into(),
            key_id: "key_1".into(),
            hash: KeyHash::from_hex(&"ab".repeat(32)).unwrap(),
        });
        let text = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<Outbox>(&text).unwrap(), o);
    }
}
