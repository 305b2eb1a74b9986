//! The key object's protocol: the calls the worker sends it, its replies, and its dispatch as a
//! pure function of (state, call, now) onto `core::key_state`. Nothing here touches a Workers
//! type: the object only loads state, calls [`key_dispatch`], persists what it says, answers.

use crate::core::access::{Denial, Manager, Requirement};
use crate::core::audit::{key_entry, Origin};
use crate::core::events::{key_event, Event};
use crate::core::history::{History, Location};
use crate::core::input::KeyPatch;
use crate::core::key::KeyHash;
use crate::core::key_state::{CheckResult, KeyState, Refusal, UpdateError};
use crate::core::model::{KeyRecord, UsageView};

use crate::core::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyCall {
    /// Creates the key; fails with `Exists` if the object already holds one.
    Create {
        state: Box<KeyState>,
    },
    /// Checks (and maybe counts) a request made with the key whose hash is given.
    Check {
        hash: KeyHash,
        requirement: Requirement,
    },
    Get,
    /// Applies a patch, if `manager` may manage the key as it is now. A new rate limit must
    /// be within `limits` (the team's, given whenever the patch changes the rate).
    Update {
        patch: Box<KeyPatch>,
        manager: Manager,
        #[serde(default)]
        limits: Option<crate::core::limits::TeamLimits>,
    },
    /// Disables the key for good, if `manager` may manage it as it is now.
    Disable {
        manager: Manager,
    },
    /// Rolls the key (see `KeyState::roll`): `new_key_id` is the key that replaces it.
    Roll {
        manager: Manager,
        expire_old_in_secs: i64,
        new_key_id: crate::core::ids::KeyId,
    },
    /// A change made through the API: `call`, and its audit entry written with it.
    Audited {
        origin: Origin,
        call: Box<KeyCall>,
    },
    /// Deletes everything, if `manager` (when given) may manage the key as it is now; answers
    /// the hash so the caller can remove the index entry. Without a manager: undoing a creation.
    Delete {
        manager: Option<Manager>,
    },
    /// The team's `auto_disable_idle_days` (`core::idle`), pushed by the team's object when it
    /// changes and given at creation. Answers the key; the object then looks at its alarm.
    SetIdle {
        days: Option<u32>,
    },
    /// The key whose hash is given was reported leaked; `policy` is its team's
    /// (`KeyState::report_leak`). Answers the key, or `NotFound` for another hash or for a key
    /// outside `within`, the reporter's project (a project-scoped key reports only its own
    /// project's keys: another project's is not its to act on, as everywhere else).
    Leak {
        hash: KeyHash,
        leak: crate::core::leaks::Leak,
        policy: crate::core::leaks::LeakPolicy,
        #[serde(default)]
        within: Option<crate::core::ids::ProjectId>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyReply {
    Created,
    Exists,
    Checked {
        result: Box<CheckResult>,
    },
    Key {
        record: Box<KeyRecord>,
        usage: UsageView,
        revision: u64,
        /// The countries it was used from.
        #[serde(default)]
        locations: Vec<Location>,
        /// Counted requests per UTC day (`GET /v1/api-keys/{id}/usage`).
        #[serde(default)]
        history: History,
    },
    NotFound,
    /// The manager may not manage this key (it holds more, or it is live and the manager test).
    Refused {
        denial: Denial,
    },
    /// The patch cannot be applied.
    Rejected {
        error: UpdateError,
    },
    Deleted {
        hash: KeyHash,
    },
}

pub use crate::core::key_plan::Effect;

/// The key object's logic, onto `core::key_state`. `state` is what the object holds (`None` when
/// empty).
pub fn key_dispatch(
    state: &mut Option<KeyState>,
    call: KeyCall,
    now: Timestamp,
) -> (KeyReply, Effect) {
    if let KeyCall::Audited { call, .. } = call {
        return key_dispatch(state, *call, now);
    }
    let s = match (call, state.as_mut()) {
        (KeyCall::Create { state: new }, None) => {
            *state = Some(*new);
            return (KeyReply::Created, Effect::Save);
        }
        (KeyCall::Create { .. }, Some(_)) => return (KeyReply::Exists, Effect::None),
        (KeyCall::Check { .. }, None) => {
            let result = Box::new(CheckResult::Invalid);
            return (KeyReply::Checked { result }, Effect::None);
        }
        (_, None) => return (KeyReply::NotFound, Effect::None),
        (call, Some(s)) => (call, s),
    };
    match s {
        (KeyCall::Check { hash, requirement }, s) => {
            let result = s.check(&hash, &requirement, now);
            // A counted request of this key, whatever its outcome, is in its history.
            let recorded = requirement.count && !matches!(result, CheckResult::Invalid);
            let effect = if recorded {
                Effect::SaveCounters
            } else {
                Effect::None
            };
            let result = Box::new(result);
            (KeyReply::Checked { result }, effect)
        }
        (KeyCall::Get, s) => (key_reply(s, now), Effect::None),
        (
            KeyCall::Update {
                patch,
                manager,
                limits,
            },
            s,
        ) => match s.update(&patch, &manager, limits.as_ref(), now) {
            Ok(()) => (key_reply(s, now), Effect::SaveAndRelist),
            Err(Refusal::Denied(denial)) => (KeyReply::Refused { denial }, Effect::None),
            Err(Refusal::Rejected(error)) => (KeyReply::Rejected { error }, Effect::None),
        },
        (
            KeyCall::Roll {
                manager,
                expire_old_in_secs,
                ..
            },
            s,
        ) => match s.roll(&manager, expire_old_in_secs, now) {
            Ok(()) => (key_reply(s, now), Effect::SaveAndRelist),
            Err(Refusal::Denied(denial)) => (KeyReply::Refused { denial }, Effect::None),
            Err(Refusal::Rejected(error)) => (KeyReply::Rejected { error }, Effect::None),
        },
        (KeyCall::Disable { manager }, s) => match s.disable(&manager, now) {
            Ok(true) => (key_reply(s, now), Effect::SaveAndRelist),
            Ok(false) => (key_reply(s, now), Effect::None),
            Err(denial) => (KeyReply::Refused { denial }, Effect::None),
        },
        (KeyCall::Delete { manager }, s) => {
            if let Some(Err(denial)) = manager.map(|m| m.may_manage(&s.record)) {
                return (KeyReply::Refused { denial }, Effect::None);
            }
            let hash = s.hash;
            *state = None;
            (KeyReply::Deleted { hash }, Effect::Erase)
        }
        (
            KeyCall::Leak {
                hash,
                leak,
                policy,
                within,
            },
            s,
        ) => {
            use crate::core::leaks::LeakOutcome;
            if !crate::core::access::sees(within.as_deref(), s.record.project_id.as_deref()) {
                return (KeyReply::NotFound, Effect::None);
            }
            match s.report_leak(&hash, leak, policy, now) {
                LeakOutcome::NotThisKey => (KeyReply::NotFound, Effect::None),
                LeakOutcome::Unchanged => (key_reply(s, now), Effect::None),
                LeakOutcome::Changed { .. } => (key_reply(s, now), Effect::SaveAndRelist),
            }
        }
        (KeyCall::SetIdle { days }, s) => {
            // The record part only: no relisting (the listing does not show it), no event.
            let effect = if s.set_idle_setting(days) {
                Effect::Save
            } else {
                Effect::None
            };
            (key_reply(s, now), effect)
        }
        (KeyCall::Create { .. }, _) => (KeyReply::Exists, Effect::None),
        (KeyCall::Audited { .. }, _) => (KeyReply::NotFound, Effect::None),
    }
}

/// [`key_dispatch`], and the events its change makes (`api_key.created`, `updated`, `rolled`,
/// `disabled`, `deleted`), which the object stores with the change. A call that changes nothing
/// makes none.
pub fn key_dispatch_with_events(
    state: &mut Option<KeyState>,
    call: KeyCall,
    now: Timestamp,
) -> (KeyReply, Effect, Vec<Event>) {
    let (origin, call) = match call {
        KeyCall::Audited { origin, call } => (Some(origin), *call),
        // A leak makes its own events and audit entries (by `system`), held with the change.
        call @ KeyCall::Leak { .. } => {
            let (reply, effect) = key_dispatch(state, call, now);
            let events = state.as_mut().map(|s| std::mem::take(&mut s.alerts));
            return (reply, effect, events.unwrap_or_default());
        }
        call => (None, call),
    };
    // What an update set, for its audit entry (a patch holds no secret).
    let changes = match &call {
        KeyCall::Update { patch, .. } => serde_json::to_value(patch).ok(),
        KeyCall::Roll {
            expire_old_in_secs,
            new_key_id,
            ..
        } => Some(serde_json::json!({
            "expire_old_in": expire_old_in_secs,
            "new_key_id": new_key_id.as_str(),
        })),
        _ => None,
    };
    let before = match &call {
        KeyCall::Delete { .. } => state.as_ref().map(|s| s.record.clone()),
        _ => None,
    };
    let kind = match &call {
        KeyCall::Create { .. } => "api_key.created",
        KeyCall::Update { .. } => "api_key.updated",
        KeyCall::Disable { .. } => "api_key.disabled",
        KeyCall::Roll { .. } => "api_key.rolled",
        KeyCall::Delete { .. } => "api_key.deleted",
        KeyCall::Check { .. }
        | KeyCall::Get
        | KeyCall::Audited { .. }
        | KeyCall::Leak { .. }
        | KeyCall::SetIdle { .. } => "",
    };
    let new_key = match &call {
        KeyCall::Roll { new_key_id, .. } => Some(new_key_id.to_string()),
        _ => None,
    };
    let (reply, effect) = key_dispatch(state, call, now);
    if kind.is_empty() {
        // A call that is not a change of the key's own (a check, a read, the idle setting a team
        // hands its keys) makes no event, whatever it saves.
        return (reply, effect, Vec::new());
    }
    let event = match (effect, state.as_ref(), before) {
        (Effect::Save | Effect::SaveAndRelist, Some(s), _) => {
            let extra: Vec<(&str, serde_json::Value)> = new_key
                .map(|id| ("new_key_id", id.into()))
                .into_iter()
                .collect();
            let seed = format!("{kind}:{}", s.revision);
            let e = key_event(kind, &s.record, &extra, &seed, now);
            Some((e, s.record.clone(), seed))
        }
        (Effect::Erase, _, Some(record)) => Some((
            key_event(kind, &record, &[], kind, now),
            record,
            kind.to_owned(),
        )),
        _ => None,
    };
    let Some((event, record, seed)) = event else {
        return (reply, effect, Vec::new());
    };
    // The audit entry of an audited change, in the same write as the change and its event.
    let entry = origin.map(|o| key_entry(kind, &record, &o, changes, &seed, now));
    (reply, effect, std::iter::once(event).chain(entry).collect())
}

fn key_reply(s: &KeyState, now: Timestamp) -> KeyReply {
    KeyReply::Key {
        record: Box::new(s.record_for_view(now)),
        usage: s.usage_view(now),
        revision: s.revision,
        locations: s.locations.seen.clone(),
        history: s.history.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::permission::{Permission, PermissionSet};

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn state() -> KeyState {
        let record = crate::core::model::sample_record("key_1", at("2026-10-01T00:00:00Z"));
        KeyState::new(record, KeyHash::from_hex(&"ab".repeat(32)).unwrap())
    }

    #[test]
    fn create_check_delete_lifecycle() {
        let now = at("2026-10-14T00:00:00Z");
        let mut slot = None;
        let hash = state().hash;
        let check = KeyCall::Check {
            hash,
            requirement: Requirement {
                count: true,
                ..Default::default()
            },
        };
        let (r, e) = key_dispatch(&mut slot, check.clone(), now);
        assert!(
            matches!(r, KeyReply::Checked { ref result } if result.denial() == Some(Denial::InvalidKey))
        );
        assert_eq!(e, Effect::None, "an empty object writes nothing");
        let (r, e) = key_dispatch(
            &mut slot,
            KeyCall::Create {
                state: Box::new(state()),
            },
            now,
        );
        assert!(matches!(r, KeyReply::Created) && e == Effect::Save);
        let (r, _) = key_dispatch(
            &mut slot,
            KeyCall::Create {
                state: Box::new(state()),
            },
            now,
        );
        assert!(matches!(r, KeyReply::Exists));
        let (r, e) = key_dispatch(&mut slot, check.clone(), now);
        assert!(matches!(r, KeyReply::Checked { ref result } if result.denial().is_none()));
        assert_eq!(
            e,
            Effect::SaveCounters,
            "an admitted request persists its counters"
        );
        let (r, e) = key_dispatch(&mut slot, KeyCall::Delete { manager: None }, now);
        assert!(matches!(r, KeyReply::Deleted { hash: h } if h == hash) && e == Effect::Erase);
        let (r, _) = key_dispatch(&mut slot, check, now);
        assert!(
            matches!(r, KeyReply::Checked { ref result } if result.denial() == Some(Denial::InvalidKey))
        );
        assert!(matches!(
            key_dispatch(&mut slot, KeyCall::Get, now).0,
            KeyReply::NotFound
        ));
    }

    fn admin() -> Manager {
        Manager {
            permissions: PermissionSet::new([Permission::parse("admin:*").unwrap()]),
            environment: crate::core::key::Environment::Live,
            project_id: None,
        }
    }

    #[test]
    fn updates_apply_in_the_object_and_check_the_manager_there() {
        let now = at("2026-10-14T00:00:00Z");
        let mut slot = Some(state());
        slot.as_mut().unwrap().record.permissions =
            PermissionSet::new([Permission::parse("tasks:*").unwrap()]);
        let patch = KeyPatch {
            name: Some("new".into()),
            ..Default::default()
        };
        let weak = Manager {
            permissions: PermissionSet::new([Permission::parse("tasks:read").unwrap()]),
            ..admin()
        };
        let (r, e) = key_dispatch(
            &mut slot,
            KeyCall::Update {
                patch: Box::new(patch.clone()),
                manager: weak,
                limits: None,
            },
            now,
        );
        assert!(
            matches!(
                r,
                KeyReply::Refused {
                    denial: Denial::MissingPermission(_)
                }
            ) && e == Effect::None
        );
        assert_eq!(
            slot.as_ref().unwrap().record.name,
            "k",
            "a refused update changes nothing"
        );
        let (r, e) = key_dispatch(
            &mut slot,
            KeyCall::Update {
                patch: Box::new(patch),
                manager: admin(),
                limits: None,
            },
            now,
        );
        assert!(matches!(r, KeyReply::Key { ref record, revision: 2, .. } if record.name == "new"));
        assert_eq!(e, Effect::SaveAndRelist);
        slot.as_mut().unwrap().record.service_account_id = Some("sa_1".into());
        let perms = KeyPatch {
            permissions: Some(PermissionSet::default()),
            ..Default::default()
        };
        let (r, _) = key_dispatch(
            &mut slot,
            KeyCall::Update {
                patch: Box::new(perms),
                manager: admin(),
                limits: None,
            },
            now,
        );
        assert!(matches!(
            r,
            KeyReply::Rejected {
                error: UpdateError::PermissionsImmutable
            }
        ));
    }

    #[test]
    fn changes_make_their_events_and_reads_make_none() {
        let now = at("2026-10-14T00:00:00Z");
        let mut slot = None;
        let create = KeyCall::Create {
            state: Box::new(state()),
        };
        let (_, _, e) = key_dispatch_with_events(&mut slot, create, now);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, "api_key.created");
        let (_, _, e) = key_dispatch_with_events(&mut slot, KeyCall::Get, now);
        assert!(e.is_empty());
        let roll = KeyCall::Roll {
            manager: admin(),
            expire_old_in_secs: 60,
            new_key_id: "key_2".into(),
        };
        let (r, eff, e) = key_dispatch_with_events(&mut slot, roll.clone(), now);
        assert_eq!(eff, Effect::SaveAndRelist);
        assert!(matches!(r, KeyReply::Key { ref record, .. }
            if record.expires_at == Some(at("2026-10-14T00:01:00Z"))));
        let body: serde_json::Value = serde_json::from_str(&e[0].body).unwrap();
        assert_eq!(
            (e[0].kind.as_str(), &body["data"]["new_key_id"]),
            ("api_key.rolled", &"key_2".into())
        );
        // Expired a minute later: it cannot be rolled again.
        let (r, _, e) = key_dispatch_with_events(&mut slot, roll, at("2026-10-14T00:02:00Z"));
        assert!(
            matches!(
                r,
                KeyReply::Rejected {
                    error: UpdateError::Inactive
                }
            ) && e.is_empty()
        );
        let (_, _, e) = key_dispatch_with_events(&mut slot, KeyCall::Delete { manager: None }, now);
        assert_eq!(e[0].kind, "api_key.deleted");
        let body: serde_json::Value = serde_json::from_str(&e[0].body).unwrap();
        assert_eq!(body["data"]["id"], "key_1");
    }

    #[test]
    fn a_leak_is_held_with_its_events_and_a_repeat_makes_none() {
        let now = at("2026-10-14T00:00:00Z");
        let mut slot = Some(state());
        let leak = KeyCall::Leak {
            hash: state().hash,
            leak: crate::core::leaks::Leak {
                at: now,
                url: Some("https://github.com/o/r".into()),
                source: Some("content".into()),
                reporter: crate::core::leaks::Reporter::Github,
            },
            policy: crate::core::leaks::LeakPolicy::Disable,
            within: None,
        };
        // Issue 17's review: a key scoped to another project reported this one (it holds the
        // secret, not the right to act on another project's key): nothing changes.
        let KeyCall::Leak {
            hash,
            leak: l,
            policy,
            ..
        } = leak.clone()
        else {
            unreachable!()
        };
        let scoped = KeyCall::Leak {
            hash,
            leak: l,
            policy,
            within: Some("proj_other".into()),
        };
        let (r, eff, e) = key_dispatch_with_events(&mut slot, scoped, now);
        assert!(matches!(r, KeyReply::NotFound) && eff == Effect::None && e.is_empty());
        let (r, eff, e) = key_dispatch_with_events(&mut slot, leak.clone(), now);
        assert_eq!(eff, Effect::SaveAndRelist);
        assert!(matches!(r, KeyReply::Key { ref record, .. } if record.disabled_at == Some(now)));
        assert_eq!(e.len(), 4, "disabled and leaked, each with its audit entry");
        let (r, eff, e) = key_dispatch_with_events(&mut slot, leak.clone(), now);
        assert!(matches!(r, KeyReply::Key { .. }) && eff == Effect::None && e.is_empty());
        let KeyCall::Leak { leak, policy, .. } = leak else {
            unreachable!()
        };
        let other = KeyCall::Leak {
            hash: KeyHash::from_hex(&"cd".repeat(32)).unwrap(),
            leak,
            policy,
            within: None,
        };
        let (r, eff, e) = key_dispatch_with_events(&mut slot, other, now);
        assert!(matches!(r, KeyReply::NotFound) && eff == Effect::None && e.is_empty());
    }

    #[test]
    fn disable_twice_is_a_no_op() {
        let mut slot = Some(state());
        let (_, e1) = key_dispatch(
            &mut slot,
            KeyCall::Disable { manager: admin() },
            at("2026-10-14T00:00:00Z"),
        );
        let (r, e2) = key_dispatch(
            &mut slot,
            KeyCall::Disable { manager: admin() },
            at("2026-10-15T00:00:00Z"),
        );
        assert_eq!((e1, e2), (Effect::SaveAndRelist, Effect::None));
        assert!(
            matches!(r, KeyReply::Key { ref record, .. } if record.disabled_at == Some(at("2026-10-14T00:00:00Z")))
        );
    }
}
