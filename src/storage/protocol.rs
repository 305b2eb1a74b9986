//! The internal protocol between the Worker and its Durable Objects, and the key object's
//! dispatch as a pure function of (state, call, now). Nothing here touches a Workers type: the
//! object only loads state, calls [`key_dispatch`], persists what it says, and answers.

use crate::core::access::{self, CheckResult, Denial, KeyState, Manager, Requirement, UpdateError};
use crate::core::input::KeyPatch;
use crate::core::key::KeyHash;
use crate::core::model::{KeyRecord, UsageView};

use crate::core::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What KV stores under a key's hash: where to find the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    pub key_id: String,
    pub team_id: String,
}

impl IndexEntry {
    /// `key_…/team_…`: ids never contain `/`.
    pub fn encode(&self) -> String {
        format!("{}/{}", self.key_id, self.team_id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (key_id, team_id) = s.split_once('/')?;
        Some(IndexEntry {
            key_id: key_id.to_owned(),
            team_id: team_id.to_owned(),
        })
    }
}

/// Index entries this isolate has already read, so a warm isolate verifies a key with no KV read.
///
/// Safe to cache without expiry: a key's hash and id never change for the key's life, ids are
/// never reused, and every entry found is confirmed by the key's object, so a deleted key's
/// cached entry leads to an empty object that answers `invalid_key`. Misses are never cached (a
/// key created a moment ago must verify). Bounded: when full, it starts over.
pub struct IndexCache {
    map: std::collections::HashMap<KeyHash, IndexEntry>,
    capacity: usize,
}

impl IndexCache {
    pub fn new(capacity: usize) -> Self {
        IndexCache {
            map: std::collections::HashMap::new(),
            capacity,
        }
    }

    pub fn get(&self, hash: &KeyHash) -> Option<&IndexEntry> {
        self.map.get(hash)
    }

    pub fn insert(&mut self, hash: KeyHash, entry: IndexEntry) {
        if self.map.len() >= self.capacity {
            self.map.clear();
        }
        self.map.insert(hash, entry);
    }

    pub fn remove(&mut self, hash: &KeyHash) {
        self.map.remove(hash);
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The KV name of a key's index entry.
pub fn index_name(hash: &KeyHash) -> String {
    format!("h:{}", hash.to_hex())
}

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
    /// Deletes everything, if `manager` (when given) may manage the key as it is now; answers
    /// the hash so the caller can remove the index entry. Without a manager: undoing a creation.
    Delete {
        manager: Option<Manager>,
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

/// What the object must do with its storage after a call.
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

/// The key object's logic. `state` is what the object holds (`None` when empty).
pub fn key_dispatch(
    state: &mut Option<KeyState>,
    call: KeyCall,
    now: Timestamp,
) -> (KeyReply, Effect) {
    match (call, state.as_mut()) {
        (KeyCall::Create { state: new }, None) => {
            *state = Some(*new);
            (KeyReply::Created, Effect::Save)
        }
        (KeyCall::Create { .. }, Some(_)) => (KeyReply::Exists, Effect::None),
        (KeyCall::Check { .. }, None) => (
            KeyReply::Checked {
                result: Box::new(CheckResult::invalid()),
            },
            Effect::None,
        ),
        (KeyCall::Check { hash, requirement }, Some(s)) => {
            let (result, changed) = s.check(&hash, &requirement, now);
            let effect = if changed {
                Effect::SaveCounters
            } else {
                Effect::None
            };
            (
                KeyReply::Checked {
                    result: Box::new(result),
                },
                effect,
            )
        }
        (_, None) => (KeyReply::NotFound, Effect::None),
        (KeyCall::Get, Some(s)) => (key_reply(s, now), Effect::None),
        (
            KeyCall::Update {
                patch,
                manager,
                limits,
            },
            Some(s),
        ) => {
            if let Err(denial) = manager.may_manage(&s.record) {
                return (KeyReply::Refused { denial }, Effect::None);
            }
            let mut record = s.record.clone();
            if let Err(error) = access::apply_patch(&mut record, &patch, limits.as_ref(), now) {
                return (KeyReply::Rejected { error }, Effect::None);
            }
            s.record = record;
            s.revision += 1;
            (key_reply(s, now), Effect::SaveAndRelist)
        }
        (KeyCall::Disable { manager }, Some(s)) => {
            if let Err(denial) = manager.may_manage(&s.record) {
                return (KeyReply::Refused { denial }, Effect::None);
            }
            if access::disable(&mut s.record, now) {
                s.revision += 1;
                (key_reply(s, now), Effect::SaveAndRelist)
            } else {
                (key_reply(s, now), Effect::None)
            }
        }
        (KeyCall::Delete { manager }, Some(s)) => {
            if let Some(Err(denial)) = manager.map(|m| m.may_manage(&s.record)) {
                return (KeyReply::Refused { denial }, Effect::None);
            }
            let hash = s.hash;
            *state = None;
            (KeyReply::Deleted { hash }, Effect::Erase)
        }
    }
}

fn key_reply(s: &KeyState, now: Timestamp) -> KeyReply {
    KeyReply::Key {
        record: Box::new(s.record.clone()),
        usage: s.usage_view(now),
        revision: s.revision,
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
    fn index_entry_round_trip() {
        let e = IndexEntry {
            key_id: "key_a".into(),
            team_id: "team_b".into(),
        };
        assert_eq!(IndexEntry::decode(&e.encode()), Some(e));
        assert_eq!(IndexEntry::decode("garbage"), None);
    }

    #[test]
    fn index_cache_is_bounded() {
        let mut c = IndexCache::new(2);
        let h = |n: u8| KeyHash::from_hex(&hex::encode([n; 32])).unwrap();
        let e = |n: u8| IndexEntry {
            key_id: format!("key_{n}"),
            team_id: "team_1".into(),
        };
        c.insert(h(1), e(1));
        c.insert(h(2), e(2));
        assert_eq!(c.get(&h(1)), Some(&e(1)));
        c.insert(h(3), e(3));
        assert_eq!(c.len(), 1, "full: it started over");
        assert_eq!(c.get(&h(3)), Some(&e(3)));
        c.remove(&h(3));
        assert!(c.is_empty());
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
            matches!(r, KeyReply::Checked { ref result } if result.denial == Some(access::Denial::InvalidKey))
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
        assert!(matches!(r, KeyReply::Checked { ref result } if result.denial.is_none()));
        assert_eq!(
            e,
            Effect::SaveCounters,
            "an admitted request persists its counters"
        );
        let (r, e) = key_dispatch(&mut slot, KeyCall::Delete { manager: None }, now);
        assert!(matches!(r, KeyReply::Deleted { hash: h } if h == hash) && e == Effect::Erase);
        let (r, _) = key_dispatch(&mut slot, check, now);
        assert!(
            matches!(r, KeyReply::Checked { ref result } if result.denial == Some(access::Denial::InvalidKey))
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
