//! A key's schedule, run by its object's alarm: expiry notices, the expiry and renewal
//! (`core::lifecycle`), and idle keys (`core::idle`): the `api_key.idle` event and the team's
//! `auto_disable_idle_days`. Pure functions of (state, now); split from `core::key_state`.

use super::events::{key_event, Event};
use super::idle;
use super::key_state::{disable, KeyState};
use super::lifecycle::{self, Action};
use super::time::Timestamp;
use serde_json::json;

impl KeyState {
    /// Does what the key's schedule says is due at `now` (`core::lifecycle::due`, until nothing
    /// is): expiry notices, the expiry, a renewal. Returns the events, in order; each has an id
    /// derived from what it is about, so running this twice for the same moment makes the same
    /// events (and the notices record makes the second run find nothing). `renewed`: the record
    /// changed (its listing must follow).
    pub fn run_schedule(&mut self, now: Timestamp) -> (Vec<Event>, bool) {
        let mut events = Vec::new();
        let mut renewed = false;
        // Each action moves the schedule forward; a handful is the most one moment can hold.
        for _ in 0..8 {
            let (action, notices) = lifecycle::due(&self.record.dates(), self.notices, now);
            self.notices = notices;
            let expiry = self.record.expires_at.map_or(0, Timestamp::millis);
            let event = match action {
                None => break,
                Some(Action::Expiring(t)) => key_event(
                    "api_key.expiring",
                    &self.record,
                    &[("days_before_expiry", t.days().into())],
                    &format!("expiring:{expiry}:{}", t.days()),
                    now,
                ),
                Some(Action::Expired) => key_event(
                    "api_key.expired",
                    &self.record,
                    &[],
                    &format!("expired:{expiry}"),
                    now,
                ),
                Some(Action::Renew {
                    old_expires_at,
                    new_expires_at,
                }) => {
                    self.record.expires_at = Some(new_expires_at);
                    self.record.renewed_at = Some(now);
                    self.record.updated_at = now;
                    self.revision += 1;
                    renewed = true;
                    let previous = serde_json::to_value(old_expires_at).unwrap_or_default();
                    key_event(
                        "api_key.renewed",
                        &self.record,
                        &[("previous_expires_at", previous)],
                        &format!("renewed:{}", old_expires_at.millis()),
                        now,
                    )
                }
            };
            events.push(event);
        }
        (events, renewed)
    }

    /// When the key's schedule next needs its object (`None`: not until it changes): a notice,
    /// an expiry or a renewal, or a monitoring report a quiet key still owes.
    pub fn next_deadline(&self, now: Timestamp) -> Option<Timestamp> {
        let schedule = lifecycle::next_deadline(&self.record.dates(), self.notices, now);
        let report = self.report.report_deadline(now);
        let idle = idle::next_deadline(&self.record, &self.idle, self.idle_day_ms, now);
        schedule.into_iter().chain(report).chain(idle).min()
    }

    /// Does what the idle policy says is due at `now` (`core::idle::due`): `api_key.idle` once
    /// per idle stretch, and the team's auto-disable, exactly as `POST …/disable` disables
    /// (reason `idle`); each with its audit entry by `system`. Returns the events, and whether
    /// the key was disabled (its listing must follow). Running it twice for the same moment
    /// makes the same events (ids from what they are about) and the second run finds nothing.
    pub fn run_idle(&mut self, now: Timestamp) -> (Vec<Event>, bool) {
        let due = idle::due(&self.record, &self.idle, self.idle_day_ms, now);
        let since = idle::idle_since(&self.record);
        let mut events = Vec::new();
        let day = self.idle_day_ms;
        let idle_days = (now.millis() - since.millis()).max(0) / day;
        let since_value = serde_json::to_value(since).unwrap_or_default();
        if due.notify {
            self.idle.notified_since = Some(since);
            let seed = format!("idle:{}", since.millis());
            let extra = [
                ("idle_days", idle_days.into()),
                ("idle_since", since_value.clone()),
            ];
            events.push(key_event("api_key.idle", &self.record, &extra, &seed, now));
            let changes = json!({"idle_days": idle_days, "idle_since": since_value});
            self.audit_alert("api_key.idle", changes, &seed, now);
        }
        let disabled = due.disable && disable(&mut self.record, now);
        if disabled {
            self.revision += 1;
            let seed = format!("disabled:idle:{}", since.millis());
            let extra = [("reason", "idle".into()), ("idle_days", idle_days.into())];
            events.push(key_event(
                "api_key.disabled",
                &self.record,
                &extra,
                &seed,
                now,
            ));
            let changes = json!({"reason": "idle", "idle_days": idle_days});
            self.audit_alert("api_key.disabled", changes, &seed, now);
        }
        // The audit entries were put with the alerts; they go out with these events, in order.
        events.append(&mut self.alerts);
        (events, disabled)
    }

    /// Takes the team's `auto_disable_idle_days` (pushed by the team's object, or given at
    /// creation). `true`: it changed, the record part must be written and the alarm looked at.
    pub fn set_idle_setting(&mut self, days: Option<u32>) -> bool {
        let changed = self.idle.auto_disable_days != days;
        self.idle.auto_disable_days = days;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fixtures::{at, hash, record, NOW};

    #[test]
    fn the_schedule_sends_each_notice_once_and_renews_by_the_lifetime() {
        const DAY: i64 = 86_400_000;
        let t0 = at(NOW);
        let later = |days: i64| Timestamp::from_millis(t0.millis() + days * DAY);
        // 10 days left: the 30-day notice at once, nothing more until 7 days remain.
        let mut s = KeyState::new(record(&[]), hash(1));
        s.record.expires_at = Some(later(10));
        let (events, renewed) = s.run_schedule(t0);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!((kinds, renewed), (vec!["api_key.expiring"], false));
        let first_id = events[0].id.clone();
        assert!(
            s.run_schedule(t0).0.is_empty(),
            "a second run finds nothing"
        );
        assert_eq!(s.next_deadline(t0), Some(later(3)), "the 7-day notice");
        let (events, _) = s.run_schedule(later(10));
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["api_key.expired"], "past expiry, no late notices");
        assert_ne!(events[0].id, first_id);
        assert_eq!(s.next_deadline(later(10)), None);

        // auto_renew, created 10 days ago for 30 days (20 left): renewed at once by 30 days.
        let mut s = KeyState::new(record(&[]), hash(1));
        s.record.created_at = later(-10);
        s.record.expires_at = Some(later(20));
        s.record.auto_renew = true;
        let (events, renewed) = s.run_schedule(t0);
        assert!(renewed && events.len() == 1 && events[0].kind == "api_key.renewed");
        assert_eq!(s.record.expires_at, Some(later(50)));
        assert_eq!(s.revision, 2);
        let body: serde_json::Value = serde_json::from_str(&events[0].body).unwrap();
        assert_eq!(body["data"]["previous_expires_at"], "2026-11-03T12:00:00Z");
        assert_eq!(
            s.next_deadline(t0),
            Some(later(20)),
            "renews again when 30 days remain"
        );
    }
}
