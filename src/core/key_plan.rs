//! What a key object does around a call and at its alarm, decided here so that the object
//! (`objects::key`) only loads, calls, persists and sends: which stored parts to write, what it
//! owes the listing and the index afterwards (`core::sync::Outbox`), which events to hold for
//! the team's events object, the monitoring reports due and the alarm a quiet key needs, the
//! `last_used` to publish, and when the alarm runs next.

use super::events::Event;
use super::history::History;
use super::ids::{KeyId, TeamId};
use super::key::KeyHash;
use super::key_state::{CountersPart, KeyState, RecordPart};
use super::monitoring::{Report, Tally};
use super::sync::{EventOutbox, Outbox, Pending};
use super::time::Timestamp;

/// What the object must do with its storage after a call (the dispatch's verdict,
/// `storage::key_protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    /// Only the counters changed (an admitted request): write the small part.
    SaveCounters,
    /// The record was created: write both parts.
    Save,
    /// The record was changed by a management call: write both parts, and owe the team's
    /// listing the new revision (`core::sync::Pending::Relist`).
    SaveAndRelist,
    /// The key was deleted: erase it, and owe the removal of its index entry and listing row.
    Erase,
}

/// The synchronous writes a call or an alarm makes, in this order: erase, the record, the
/// counters, the history's earlier days, the outbox.
#[derive(Debug, Default)]
pub struct Writes {
    pub erase: bool,
    pub record: Option<RecordPart>,
    pub counters: Option<CountersPart>,
    pub history: Option<History>,
    pub outbox: Option<Outbox>,
}

/// Monitoring reports to send to the team's events object (off the request's path), and the
/// delay (ms) of the alarm that reports a key which falls quiet.
#[derive(Debug)]
pub struct Reports {
    pub team_id: TeamId,
    pub due: Vec<Report>,
    pub alarm_in: Option<i64>,
}

/// Everything a call leaves the object to do.
#[derive(Debug)]
pub struct AfterCall {
    pub writes: Writes,
    /// Events to hold for the team's events object (with the change, never lost), handed over
    /// by an alarm set for now, which also runs the outbox and reschedules the deadlines.
    pub events: Option<(TeamId, Vec<Event>)>,
    pub reports: Option<Reports>,
    /// The `last_used` to copy to the team's listing (at most once a minute per key).
    pub publish: Option<(TeamId, KeyId, Timestamp)>,
}

fn report(s: &KeyState, hour: i64, tally: Tally) -> Report {
    Report::of(&s.record, hour, tally)
}

/// After a call: `held` is the state after the dispatch, `before` the key's team and id before
/// it, `effect` and `events` the dispatch's, `deleted` the hash of a key the call deleted. A
/// check's events are the alerts it raised (new location, rate limited), taken from the state.
pub fn after_call(
    held: &mut Option<KeyState>,
    before: Option<(TeamId, KeyId)>,
    effect: Effect,
    deleted: Option<KeyHash>,
    checking: bool,
    events: Vec<Event>,
    now: Timestamp,
) -> AfterCall {
    let events = match (checking, held.as_mut()) {
        (true, Some(s)) => std::mem::take(&mut s.alerts),
        (true, None) => Vec::new(),
        (false, _) => events,
    };
    let mut writes = Writes {
        erase: effect == Effect::Erase,
        ..Writes::default()
    };
    if let (Effect::Save | Effect::SaveAndRelist | Effect::SaveCounters, Some(s)) =
        (effect, held.as_mut())
    {
        if matches!(effect, Effect::Save | Effect::SaveAndRelist) {
            writes.record = Some(s.record_part());
        }
        writes.counters = Some(s.counters_part());
        if std::mem::take(&mut s.history_rolled) {
            writes.history = Some(s.earlier_days());
        }
    }
    writes.outbox = match (effect, deleted, &before) {
        (Effect::SaveAndRelist, _, _) => Some(Outbox::new(Pending::Relist)),
        (Effect::Erase, Some(hash), Some((team_id, key_id))) => {
            Some(Outbox::new(Pending::Remove {
                team_id: team_id.clone(),
                key_id: key_id.clone(),
                hash,
            }))
        }
        _ => None,
    };
    // The team is the key's: held before the call, or made by it (a creation).
    let events = (!events.is_empty())
        .then(|| {
            before
                .as_ref()
                .map(|(team_id, _)| team_id.clone())
                .or_else(|| held.as_ref().map(|s| s.record.team_id.clone()))
                .map(|team_id| (team_id, events))
        })
        .flatten();
    let publish = held.as_mut().and_then(|s| {
        s.take_last_used_publish(now)
            .map(|t| (s.record.team_id.clone(), s.record.id.clone(), t))
    });
    let reports = held.as_mut().and_then(|s| {
        let due = std::mem::take(&mut s.reports);
        // A key's first counted request of a report period owes a report if it falls quiet;
        // an alarm set for now (held events) reschedules by every deadline itself.
        let alarm_in = (checking && s.report.tally.total() == 1 && events.is_none())
            .then(|| s.next_deadline(now))
            .flatten()
            .map(|t| (t.millis() - now.millis()).max(0));
        (!due.is_empty() || alarm_in.is_some()).then(|| Reports {
            team_id: s.record.team_id.clone(),
            due: due
                .into_iter()
                .map(|(hour, tally)| report(s, hour, tally))
                .collect(),
            alarm_in,
        })
    });
    AfterCall {
        writes,
        events,
        reports,
        publish,
    }
}

/// What the alarm's run of the key's schedule (notices, expiry, renewal) leaves to do.
#[derive(Debug, Default)]
pub struct Scheduled {
    pub writes: Writes,
    pub events: Option<(TeamId, Vec<Event>)>,
    /// The report a quiet key still owes (so the team's view lags a minute at most).
    pub report: Option<(TeamId, Report)>,
    /// When the schedule next needs the object.
    pub next: Option<Timestamp>,
}

/// The alarm's own decisions for `now`: the schedule's changes (with their events, and a
/// relisting after a renewal) and a quiet key's report.
pub fn at_alarm(held: Option<&mut KeyState>, now: Timestamp) -> Scheduled {
    let Some(s) = held else {
        return Scheduled::default();
    };
    let mut out = Scheduled::default();
    let (mut events, renewed) = s.run_schedule(now);
    // Idle keys (`core::idle`): `api_key.idle`, and the team's auto-disable.
    let (idle_events, disabled) = s.run_idle(now);
    events.extend(idle_events);
    let renewed = renewed || disabled;
    out.next = s.next_deadline(now);
    if !events.is_empty() {
        out.writes.record = Some(s.record_part());
        out.events = Some((s.record.team_id.clone(), events));
        // The listing shows the new expiry (or the key disabled) once the outbox has run.
        out.writes.outbox = renewed.then(|| Outbox::new(Pending::Relist));
    }
    if let Some((hour, tally)) = s.report.take(now, true) {
        out.report = Some((s.record.team_id.clone(), report(s, hour, tally)));
        out.writes.counters = Some(s.counters_part());
    }
    out
}

/// After handing the held events with these `ids` to the team's events object (`taken`: it
/// has them, or the team is gone and its events with it): they are released, and events held
/// while the call was out go at once, since an alarm set during the alarm's own run is replaced
/// by the alarm's reschedule; or, if it failed, they stay and the next try backs off. Returns
/// the delay (ms) before the next hand-over, if one is needed.
pub fn after_hand_over(held: &mut EventOutbox, ids: &[String], taken: bool) -> Option<i64> {
    if taken {
        held.handed_over(ids);
        (!held.events.is_empty()).then_some(0)
    } else {
        Some(held.failed())
    }
}

/// When the alarm runs next (ms from now): the earliest of the schedule's deadline and the
/// retries that failed hand-overs need.
pub fn next_alarm(
    now: Timestamp,
    deadline: Option<Timestamp>,
    retries: &[Option<i64>],
) -> Option<i64> {
    deadline
        .map(|d| (d.millis() - now.millis()).max(0))
        .into_iter()
        .chain(retries.iter().flatten().copied())
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fixtures::{at, hash};
    use crate::core::model::sample_record;

    fn state() -> KeyState {
        KeyState::new(sample_record("key_1", at("2026-10-01T00:00:00Z")), hash(1))
    }

    fn ids(s: &KeyState) -> Option<(TeamId, KeyId)> {
        Some((s.record.team_id.clone(), s.record.id.clone()))
    }

    #[test]
    fn a_management_change_writes_both_parts_and_owes_a_relisting() {
        let now = at("2026-10-14T00:00:00Z");
        let mut held = Some(state());
        let before = ids(held.as_ref().unwrap());
        let ev = vec![];
        let plan = after_call(
            &mut held,
            before,
            Effect::SaveAndRelist,
            None,
            false,
            ev,
            now,
        );
        assert!(plan.writes.record.is_some() && plan.writes.counters.is_some());
        assert!(!plan.writes.erase);
        assert!(matches!(
            plan.writes.outbox,
            Some(Outbox {
                pending: Pending::Relist,
                ..
            })
        ));
        assert!(plan.events.is_none() && plan.reports.is_none() && plan.publish.is_none());
    }

    #[test]
    fn a_counted_check_writes_only_the_counters() {
        let now = at("2026-10-14T00:00:00Z");
        let mut held = Some(state());
        let before = ids(held.as_ref().unwrap());
        let plan = after_call(
            &mut held,
            before,
            Effect::SaveCounters,
            None,
            true,
            vec![],
            now,
        );
        assert!(plan.writes.record.is_none() && plan.writes.counters.is_some());
        assert!(plan.writes.history.is_none() && plan.writes.outbox.is_none());
    }

    #[test]
    fn a_rolled_history_is_written_once() {
        let now = at("2026-10-14T00:00:00Z");
        let mut held = Some(state());
        held.as_mut().unwrap().history_rolled = true;
        let before = ids(held.as_ref().unwrap());
        let plan = after_call(
            &mut held,
            before.clone(),
            Effect::None,
            None,
            true,
            vec![],
            now,
        );
        assert!(
            plan.writes.history.is_none(),
            "nothing written, the flag kept"
        );
        let plan = after_call(
            &mut held,
            before.clone(),
            Effect::SaveCounters,
            None,
            true,
            vec![],
            now,
        );
        assert!(plan.writes.history.is_some());
        let plan = after_call(
            &mut held,
            before,
            Effect::SaveCounters,
            None,
            true,
            vec![],
            now,
        );
        assert!(plan.writes.history.is_none());
    }

    #[test]
    fn a_delete_erases_and_owes_the_index_and_the_listing() {
        let now = at("2026-10-14T00:00:00Z");
        let s = state();
        let before = ids(&s);
        let mut held = None;
        let plan = after_call(
            &mut held,
            before.clone(),
            Effect::Erase,
            Some(hash(1)),
            false,
            vec![],
            now,
        );
        assert!(plan.writes.erase && plan.writes.record.is_none());
        match plan.writes.outbox.map(|o| o.pending) {
            Some(Pending::Remove {
                team_id,
                key_id,
                hash: h,
            }) => {
                assert_eq!(Some((team_id, key_id)), before);
                assert_eq!(h, hash(1));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_check_holds_its_alerts_for_the_team() {
        let now = at("2026-10-14T00:00:00Z");
        let mut held = Some(state());
        let before = ids(held.as_ref().unwrap());
        let record = &held.as_ref().unwrap().record;
        let alert = crate::core::events::key_event("api_key.rate_limited", record, &[], "t", now);
        held.as_mut().unwrap().alerts.push(alert);
        let plan = after_call(
            &mut held,
            before.clone(),
            Effect::SaveCounters,
            None,
            true,
            vec![],
            now,
        );
        let (team, events) = plan.events.expect("held");
        assert_eq!(Some(team), before.map(|(t, _)| t));
        assert_eq!(events.len(), 1);
        assert!(held.unwrap().alerts.is_empty());
    }

    #[test]
    fn the_next_alarm_is_the_earliest_need() {
        let now = at("2026-10-14T00:00:00Z");
        let soon = at("2026-10-14T00:01:00Z");
        assert_eq!(next_alarm(now, None, &[None, None]), None);
        assert_eq!(
            next_alarm(now, Some(soon), &[None, Some(30_000)]),
            Some(30_000)
        );
        assert_eq!(next_alarm(now, Some(soon), &[Some(120_000)]), Some(60_000));
        let past = at("2026-10-13T00:00:00Z");
        assert_eq!(next_alarm(now, Some(past), &[]), Some(0));
    }

    #[test]
    fn events_held_during_a_hand_over_go_at_once_and_a_failure_backs_off() {
        let now = at("2026-10-14T00:00:00Z");
        let s = state();
        let ev = |seed: &str| {
            crate::core::events::key_event("api_key.updated", &s.record, &[], seed, now)
        };
        let mut held = EventOutbox::new(s.record.team_id.clone());
        held.add(vec![ev("a")]);
        let ids: Vec<String> = held.events.iter().map(|e| e.id.clone()).collect();
        held.add(vec![ev("b")]); // held while the call was out
        assert_eq!(after_hand_over(&mut held, &ids, true), Some(0));
        assert_eq!(held.events.len(), 1);
        let ids: Vec<String> = held.events.iter().map(|e| e.id.clone()).collect();
        assert!(after_hand_over(&mut held, &ids, false).is_some_and(|d| d > 0));
        assert_eq!(held.events.len(), 1, "kept after a failure");
        assert_eq!(after_hand_over(&mut held, &ids, true), None);
        assert!(held.events.is_empty());
    }

    #[test]
    fn an_empty_object_has_nothing_to_do_at_its_alarm() {
        let s = at_alarm(None, at("2026-10-14T00:00:00Z"));
        assert!(s.next.is_none() && s.events.is_none() && s.report.is_none());
    }
}
