use super::*;
use crate::core::fixtures::{at, hash, record, NOW};
use crate::core::key_plan::at_alarm;
use crate::core::key_state::KeyState;
use crate::core::sync::Pending;
use serde_json::json;

const MIN: i64 = 60_000;

fn later(t: Timestamp, ms: i64) -> Timestamp {
    Timestamp::from_millis(t.millis() + ms)
}

fn days(n: i64) -> i64 {
    n * DAY_MS
}

/// A key made at NOW, never used, in a team whose setting is `n` days.
fn key(n: Option<u32>) -> KeyState {
    let mut r = record(&[]);
    r.created_at = at(NOW);
    r.last_used = None;
    r.expires_at = None;
    r.disabled_at = None;
    let mut s = KeyState::new(r, hash(1));
    s.set_idle_setting(n);
    s
}

fn kinds(events: &[crate::core::events::Event]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

#[test]
fn a_key_idle_exactly_n_days_is_disabled_and_a_millisecond_less_is_not() {
    let t0 = at(NOW);
    let s = key(Some(30));
    let p = &s.idle;
    let r = &s.record;
    assert!(!due(r, p, DAY_MS, later(t0, days(30) - 1)).disable);
    assert!(due(r, p, DAY_MS, later(t0, days(30))).disable);
    assert_eq!(next_deadline(r, p, DAY_MS, t0), Some(later(t0, days(30))));
}

#[test]
fn a_key_used_a_minute_before_its_deadline_is_not_disabled_and_is_rescheduled() {
    let t0 = at(NOW);
    let mut s = key(Some(30));
    let deadline = later(t0, days(30));
    s.record.last_used = Some(later(deadline, -MIN));
    let (events, disabled) = s.run_idle(deadline);
    assert!(events.is_empty() && !disabled);
    assert_eq!(s.record.disabled_at, None);
    assert_eq!(
        s.next_deadline(deadline),
        Some(later(deadline, days(30) - MIN)),
        "30 days from its last use"
    );
}

#[test]
fn a_setting_turned_off_before_the_alarm_fires_disables_nothing() {
    let t0 = at(NOW);
    let mut s = key(Some(30));
    assert!(s.set_idle_setting(None));
    assert!(
        !s.set_idle_setting(None),
        "the same setting again is no change"
    );
    let (events, disabled) = s.run_idle(later(t0, days(30)));
    assert!(events.is_empty() && !disabled);
    // Only the 90-day event is left to wait for.
    assert_eq!(s.next_deadline(t0), Some(later(t0, days(90))));
}

#[test]
fn a_disabled_or_expired_key_has_nothing_due_and_no_deadline() {
    let t0 = at(NOW);
    let mut s = key(Some(1));
    s.record.disabled_at = Some(t0);
    let t = later(t0, days(100));
    assert_eq!(due(&s.record, &s.idle, DAY_MS, t), IdleDue::default());
    assert_eq!(next_deadline(&s.record, &s.idle, DAY_MS, t), None);
    let rev = s.revision;
    assert_eq!(s.run_idle(t), (vec![], false));
    assert_eq!((s.record.disabled_at, s.revision), (Some(t0), rev), "kept");
    let mut s = key(Some(1));
    s.record.expires_at = Some(later(t0, DAY_MS / 2));
    assert_eq!(due(&s.record, &s.idle, DAY_MS, t), IdleDue::default());
}

#[test]
fn a_deleted_key_has_nothing_to_do_at_its_alarm() {
    let out = at_alarm(None, later(at(NOW), days(400)));
    assert!(out.events.is_none() && out.next.is_none() && out.writes.record.is_none());
}

#[test]
fn auto_disable_is_the_disable_of_the_api_with_reason_idle_by_system() {
    let t0 = at(NOW);
    let mut s = key(Some(30));
    let rev = s.revision;
    let t = later(t0, days(31));
    let out = at_alarm(Some(&mut s), t);
    let (_, events) = out.events.expect("events");
    assert_eq!(kinds(&events), ["api_key.disabled", "audit"]);
    let body: serde_json::Value = serde_json::from_str(&events[0].body).unwrap();
    assert_eq!(body["data"]["reason"], "idle");
    assert_eq!(body["data"]["idle_days"], 31);
    assert_eq!(body["data"]["status"], "disabled");
    assert!(events[1]
        .body
        .contains(r#""actor":{"type":"system","id":null}"#));
    assert!(events[1].body.contains(r#""reason":"idle""#));
    assert_eq!(s.record.disabled_at, Some(t));
    assert_eq!(s.revision, rev + 1, "the listing keeps the newer copy");
    assert!(out
        .writes
        .record
        .is_some_and(|r| r.record.disabled_at == Some(t)));
    assert!(matches!(
        out.writes.outbox.map(|o| o.pending),
        Some(Pending::Relist)
    ));
    assert_eq!(out.next, None, "a disabled key waits for nothing");
    // At least once: the alarm again finds nothing.
    let again = at_alarm(Some(&mut s), t);
    assert!(again.events.is_none());
}

#[test]
fn the_idle_event_goes_once_per_idle_stretch() {
    let t0 = at(NOW);
    let mut s = key(None);
    assert_eq!(s.next_deadline(t0), Some(later(t0, days(90))));
    assert!(s.run_idle(later(t0, days(90) - 1)).0.is_empty());
    let t = later(t0, days(90));
    let (events, disabled) = s.run_idle(t);
    assert_eq!(
        (kinds(&events), disabled),
        (vec!["api_key.idle", "audit"], false)
    );
    let body: serde_json::Value = serde_json::from_str(&events[0].body).unwrap();
    assert_eq!(body["data"]["idle_days"], 90);
    assert_eq!(body["data"]["idle_since"], json!(NOW));
    assert_eq!(s.idle.notified_since, Some(t0));
    assert!(s.run_idle(later(t, days(10))).0.is_empty(), "once");
    assert_eq!(s.next_deadline(t), None, "nothing more to wait for");
    // Used again: a new stretch, which may send it again 90 days on, with another id.
    let used = later(t, days(1));
    s.record.last_used = Some(used);
    assert_eq!(s.next_deadline(used), Some(later(used, days(90))));
    let (again, _) = s.run_idle(later(used, days(90)));
    assert_eq!(kinds(&again), ["api_key.idle", "audit"]);
    assert_ne!(again[0].id, events[0].id);
}

#[test]
fn a_key_idle_90_days_under_a_90_day_setting_is_told_and_disabled() {
    let t0 = at(NOW);
    let mut s = key(Some(90));
    let (events, disabled) = s.run_idle(later(t0, days(90)));
    assert!(disabled);
    assert_eq!(
        kinds(&events),
        ["api_key.idle", "api_key.disabled", "audit", "audit"]
    );
    // A shorter setting disables first; the idle event never comes for a disabled key.
    let mut s = key(Some(10));
    assert_eq!(s.next_deadline(t0), Some(later(t0, days(10))));
    assert!(s.run_idle(later(t0, days(10))).1);
    assert!(s.run_idle(later(t0, days(90))).0.is_empty());
}

#[test]
fn the_policy_is_kept_in_the_record_part() {
    let t0 = at(NOW);
    let mut s = key(Some(7));
    s.run_idle(later(t0, days(90)));
    let joined = KeyState::from_parts(s.record_part(), Some(s.counters_part()), None);
    assert_eq!(joined.idle, s.idle);
    // A record part stored before the policy existed reads as off.
    let mut part = serde_json::to_value(key(None).record_part()).unwrap();
    part.as_object_mut().unwrap().remove("idle");
    let old: crate::core::key_state::RecordPart = serde_json::from_value(part).unwrap();
    assert_eq!(old.idle, IdlePolicy::default());
}

#[test]
fn the_setting_is_1_to_3650_days_or_null() {
    assert_eq!(parse_setting(&json!(null)), Ok(None));
    assert_eq!(parse_setting(&json!(1)), Ok(Some(1)));
    assert_eq!(parse_setting(&json!(3650)), Ok(Some(3650)));
    for bad in [
        json!(0),
        json!(3651),
        json!(-1),
        json!(1.5),
        json!("30"),
        json!(true),
    ] {
        assert!(parse_setting(&bad).is_err(), "{bad}");
    }
}

#[test]
fn a_day_is_a_day_unless_a_test_deployment_shortens_it() {
    assert_eq!(day_ms(None), DAY_MS);
    assert_eq!(day_ms(Some("50")), 50);
    for bad in ["", "x", "0", "5", "-50", "86400001"] {
        assert_eq!(day_ms(Some(bad)), DAY_MS, "{bad}");
    }
}

#[test]
fn a_push_walks_the_listing_in_batches_and_a_newer_change_starts_over() {
    let p = Push::start(Some(30), None);
    assert_eq!((p.generation, p.after_seq), (1, 0));
    let p = p.through(7);
    assert_eq!(p.after_seq, 7);
    let next = p.advanced(PUSH_BATCH, Some(60)).expect("more to do");
    assert_eq!(next.after_seq, 60);
    assert_eq!(
        next.advanced(3, Some(63)),
        None,
        "a short batch is the last"
    );
    assert_eq!(next.advanced(0, None), None);
    let newer = Push::start(None, Some(&next));
    assert_eq!(
        (newer.generation, newer.after_seq, newer.days),
        (2, 0, None)
    );
}

#[test]
fn a_key_that_keeps_failing_is_passed_over_after_its_tries_and_a_success_resets_the_count() {
    let mut p = Push::start(Some(30), None).through(4);
    for n in 1..PUSH_TRIES {
        match p.failed_at(9) {
            AfterFailure::Retry(next) => {
                assert_eq!(
                    (next.failures, next.after_seq, next.failed_seq),
                    (n, 4, Some(9))
                );
                p = next;
            }
            other => panic!("try {n}: {other:?}"),
        }
    }
    assert_eq!(
        p.failed_at(9),
        AfterFailure::PassOver(Push {
            after_seq: 9,
            failures: 0,
            failed_seq: None,
            passed_over: 1,
            ..p
        })
    );
    // The count is that key's: if it is gone and the next key fails, that one starts at one.
    match p.failed_at(12) {
        AfterFailure::Retry(next) => assert_eq!((next.failures, next.failed_seq), (1, Some(12))),
        other => panic!("{other:?}"),
    }
    // A key that answers in the end starts the next one's count from zero.
    assert_eq!(p.through(9).failures, 0);
    // The walk that passed over a key is made again from the start, later each round.
    let AfterFailure::PassOver(passed) = p.failed_at(9) else {
        unreachable!()
    };
    assert_eq!(passed.passed_over, 1);
    let (again, delay) = passed.finished().expect("walked again");
    assert_eq!(
        (again.after_seq, again.passed_over, again.round, delay),
        (0, 0, 1, PUSH_ROUND_MS)
    );
    assert_eq!(again.days, passed.days);
    assert_eq!(
        again.finished(),
        None,
        "a walk that passed over none is done"
    );
    let late = Push {
        passed_over: 1,
        round: 9,
        ..again
    };
    assert_eq!(late.finished().unwrap().1, DAY_MS, "at most a day apart");
    // A push stored before the count existed reads as none failed.
    let old: Push = serde_json::from_str(r#"{"days":30,"generation":2,"after_seq":5}"#).unwrap();
    assert_eq!((old.failures, old.passed_over, old.round), (0, 0, 0));
}

#[test]
fn the_setting_reaches_a_key_as_a_call_that_writes_only_when_it_changes() {
    use crate::storage::key_protocol::{key_dispatch, Effect, KeyCall, KeyReply};
    let now = at(NOW);
    let mut slot = Some(key(None));
    let (r, e) = key_dispatch(&mut slot, KeyCall::SetIdle { days: Some(30) }, now);
    assert!(matches!(r, KeyReply::Key { .. }) && e == Effect::Save);
    assert_eq!(slot.as_ref().unwrap().idle.auto_disable_days, Some(30));
    let (_, e) = key_dispatch(&mut slot, KeyCall::SetIdle { days: Some(30) }, now);
    assert_eq!(e, Effect::None);
    let mut empty = None;
    let (r, e) = key_dispatch(&mut empty, KeyCall::SetIdle { days: Some(30) }, now);
    assert!(matches!(r, KeyReply::NotFound) && e == Effect::None);
    assert!(empty.is_none(), "nothing an outsider names creates storage");
}

#[test]
fn a_new_setting_saves_the_key_but_sends_no_event() {
    use crate::storage::key_protocol::{key_dispatch_with_events, Effect, KeyCall};
    let mut slot = Some(key(None));
    let (_, e, events) =
        key_dispatch_with_events(&mut slot, KeyCall::SetIdle { days: Some(30) }, at(NOW));
    assert_eq!(e, Effect::Save);
    assert!(
        events.is_empty(),
        "a team's setting is not a change of the key's: {events:?}"
    );
}

#[test]
fn a_team_patch_sets_turns_off_or_refuses_the_setting_naming_it() {
    use crate::core::input::parse_team_patch;
    let p = parse_team_patch(br#"{"auto_disable_idle_days":30}"#).unwrap();
    assert_eq!(p.auto_disable_idle_days, Some(Some(30)));
    let p = parse_team_patch(br#"{"auto_disable_idle_days":null}"#).unwrap();
    assert_eq!(p.auto_disable_idle_days, Some(None), "null turns it off");
    assert_eq!(
        parse_team_patch(b"{}").unwrap().auto_disable_idle_days,
        None
    );
    for bad in [
        r#"{"auto_disable_idle_days":0}"#,
        r#"{"auto_disable_idle_days":"7"}"#,
    ] {
        let e = parse_team_patch(bad.as_bytes()).unwrap_err();
        assert!(e.detail.contains("auto_disable_idle_days"), "{}", e.detail);
    }
}
