//! The multi-store writes, in the order that keeps every key safe, generic over the stores so
//! they are tested natively with an in-memory backend that can fail on demand.
//!
//! - Creating: team listing (atomic checks and snapshot) → key object (and the team's idle
//!   setting, `core::idle`) → KV index. A key can
//!   verify only once its index entry exists, the last step; a failure undoes the earlier steps.
//! - Changing (update, disable): key object (in force everywhere from then on) → listing.
//! - Deleting: key object (from then on the key is invalid everywhere) → KV index → listing.
//!
//! Once the key object has applied a change or a delete, the request has succeeded: the
//! follow-ups are tried at once, and what fails is returned for the log while the key object's
//! outbox (`core::sync`) retries it until it holds. Every follow-up is idempotent.

use super::index::IndexEntry;
use super::key_protocol::{KeyCall, KeyReply};
use super::team_protocol::{GetTeam, InsertKey, PutKey, RemoveKey, TeamAnswer, TeamRequest};
use crate::core::access::{Denial, Manager};
use crate::core::audit::Origin;
use crate::core::ids::{KeyId, TeamId};
use crate::core::key::KeyHash;
use crate::core::key_state::KeyState;
use crate::core::model::KeyRecord;
use crate::core::permission::PermissionSet;
use crate::core::team::TeamRefusal;

pub use crate::core::store::{StoreError, StoreResult};

/// The stores the service writes to. Futures on Workers are not `Send`, so this is used through
/// generics (`&impl Backend`), never `dyn`.
#[allow(async_fn_in_trait)]
pub trait Backend {
    /// One call to the team's object: its answer, or a transport failure.
    async fn team<Q: TeamRequest>(
        &self,
        team_id: &TeamId,
        q: Q,
    ) -> StoreResult<TeamAnswer<Q::Reply>>;
    async fn key(&self, key_id: &KeyId, call: &KeyCall) -> StoreResult<KeyReply>;
    async fn index_put(&self, hash: &KeyHash, entry: &IndexEntry) -> StoreResult<()>;
    async fn index_delete(&self, hash: &KeyHash) -> StoreResult<()>;
}

#[derive(Debug, PartialEq, Eq)]
pub enum IssueError {
    /// The team refused it (no room, no such project or account, escalation, the cap).
    Refused(TeamRefusal),
    /// A store failed; everything written before was undone, except what `undo_failures` says.
    Store {
        cause: StoreError,
        undo_failures: Vec<StoreError>,
    },
}

fn unexpected<T: std::fmt::Debug>(what: &str, reply: T) -> StoreError {
    StoreError(format!("{what}: unexpected reply {reply:?}"))
}

/// Writes a new key everywhere it must be, in order. Returns the record as stored (with a
/// service account's permissions and roles filled in).
pub async fn issue_key(
    b: &impl Backend,
    record: KeyRecord,
    hash: KeyHash,
    caller_permissions: &PermissionSet,
    origin: Option<Origin>,
) -> Result<KeyRecord, IssueError> {
    let store = |cause, undo_failures| IssueError::Store {
        cause,
        undo_failures,
    };
    let team_id = record.team_id.clone();
    let insert = InsertKey {
        record: Box::new(record),
        caller_permissions: caller_permissions.clone(),
    };
    let record = match b.team(&team_id, insert).await {
        Ok(Ok(record)) => record,
        Ok(Err(refusal)) => return Err(IssueError::Refused(refusal)),
        Err(e) => return Err(store(e, vec![])),
    };
    let remove = || RemoveKey {
        id: record.id.clone(),
    };
    // Empties the key's object and unlists it: what undoes a creation past the object's making.
    let unmake = || async {
        let mut undo: Vec<StoreError> = b
            .key(&record.id, &KeyCall::Delete { manager: None })
            .await
            .err()
            .into_iter()
            .collect();
        undo.extend(b.team(&team_id, remove()).await.err());
        undo
    };
    let create = audited(
        KeyCall::Create {
            state: Box::new(KeyState::new(record.clone(), hash)),
        },
        origin,
    );
    let created = match b.key(&record.id, &create).await {
        Ok(KeyReply::Created) => Ok(()),
        Ok(other) => Err(unexpected("key create", other)),
        Err(e) => Err(e),
    };
    if let Err(cause) = created {
        let undo = b.team(&team_id, remove()).await.err().into_iter().collect();
        return Err(store(cause, undo));
    }
    // The team's idle setting, read once the key object exists: a change from here on pushes
    // to it (`objects::team::idle_push`), one before is read here.
    if let Err(cause) = give_idle_setting(b, &team_id, &record.id).await {
        return Err(store(cause, unmake().await));
    }
    let entry = IndexEntry {
        key_id: record.id.clone(),
        team_id: team_id.clone(),
    };
    if let Err(cause) = b.index_put(&hash, &entry).await {
        // Without its index entry the key cannot verify; empty its object and unlist it too.
        return Err(store(cause, unmake().await));
    }
    Ok(record)
}

/// Gives a new key its team's `auto_disable_idle_days` (`core::idle`), when it is on. The setting
/// is read again after it is given: a change that landed between the read and the key's write
/// would otherwise be overwritten by the older value (its push may reach the key first). A read
/// that agrees with what the key holds ends it; any change later than that read pushes to the key
/// after this write.
async fn give_idle_setting(b: &impl Backend, team_id: &TeamId, key_id: &KeyId) -> StoreResult<()> {
    let read = || async {
        Ok::<_, StoreError>(match b.team(team_id, GetTeam {}).await? {
            Ok(team) => team.auto_disable_idle_days,
            Err(_) => None,
        })
    };
    let mut days = read().await?;
    let mut given = None;
    for _ in 0..4 {
        if days == given {
            return Ok(());
        }
        match b.key(key_id, &KeyCall::SetIdle { days }).await? {
            KeyReply::Key { .. } => given = days,
            other => return Err(unexpected("key idle setting", other)),
        }
        days = read().await?;
    }
    Err(StoreError("the team's idle setting kept changing".into()))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Revoked {
    /// Gone, from the object's answer on. `follow_up` holds the failures of removing its index
    /// entry and listing row (the key object retries them; meanwhile the stale index entry leads
    /// to an empty object, which answers `invalid_key`).
    Done {
        follow_up: Vec<StoreError>,
    },
    NotFound,
    /// The manager may not manage this key.
    Refused(Denial),
}

/// A key call with its audit entry, when the change comes through the API (`origin`).
pub fn audited(call: KeyCall, origin: Option<Origin>) -> KeyCall {
    match origin {
        Some(origin) => KeyCall::Audited {
            origin,
            call: Box::new(call),
        },
        None => call,
    }
}

/// Deletes a key: object first, so it is invalid everywhere from that moment; then its index
/// entry and its listing row. A key whose object is already gone still has any listing row of
/// it removed (a row left by an earlier delete whose follow-up failed).
pub async fn revoke_key(
    b: &impl Backend,
    team_id: &TeamId,
    key_id: &KeyId,
    manager: Manager,
    origin: Option<Origin>,
) -> StoreResult<Revoked> {
    let call = audited(
        KeyCall::Delete {
            manager: Some(manager),
        },
        origin,
    );
    match b.key(key_id, &call).await? {
        KeyReply::Deleted { hash } => Ok(Revoked::Done {
            follow_up: forget_key(b, team_id, key_id, &hash).await,
        }),
        KeyReply::NotFound => {
            b.team(team_id, remove_row(key_id)).await?.ok();
            Ok(Revoked::NotFound)
        }
        KeyReply::Refused { denial } => Ok(Revoked::Refused(denial)),
        other => Err(unexpected("key delete", other)),
    }
}

fn remove_row(key_id: &KeyId) -> RemoveKey {
    RemoveKey { id: key_id.clone() }
}

/// Removes a deleted key's index entry and listing row; both steps are tried whatever the other
/// does, and both are idempotent. Returns what failed.
pub async fn forget_key(
    b: &impl Backend,
    team_id: &TeamId,
    key_id: &KeyId,
    hash: &KeyHash,
) -> Vec<StoreError> {
    let mut failed: Vec<StoreError> = b.index_delete(hash).await.err().into_iter().collect();
    failed.extend(b.team(team_id, remove_row(key_id)).await.err());
    failed
}

/// Copies a changed record into the team's listing (which keeps the newest revision it is sent).
pub async fn relist(b: &impl Backend, record: &KeyRecord, revision: u64) -> StoreResult<()> {
    let put = PutKey {
        record: Box::new(record.clone()),
        revision,
    };
    b.team(&record.team_id, put).await.map(|_| ())
}

/// Sends a change (update, disable) to the key's object and, if it applied it, relists the key.
/// A failed relist does not undo the change: it comes back beside the reply, for the log.
pub async fn change_key(
    b: &impl Backend,
    key_id: &KeyId,
    call: &KeyCall,
) -> StoreResult<(KeyReply, Option<StoreError>)> {
    let reply = b.key(key_id, call).await?;
    let follow_up = match &reply {
        KeyReply::Key {
            record, revision, ..
        } => relist(b, record, *revision).await.err(),
        _ => None,
    };
    Ok((reply, follow_up))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::access::Requirement;
    use crate::core::key::Environment;
    use crate::core::permission::Permission;
    use crate::core::team::memory::MemoryTeam;
    use crate::core::team::TeamStore;
    use crate::core::time::Timestamp;
    use crate::storage::key_protocol::key_dispatch;
    use crate::storage::team_protocol::team_dispatch;
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    /// In-memory stores. Key objects and the team object run their real dispatch.
    #[derive(Default)]
    struct Memory {
        team: MemoryTeam,
        objects: RefCell<HashMap<String, Option<KeyState>>>,
        index: RefCell<HashMap<KeyHash, IndexEntry>>,
        fail_key_create: Cell<bool>,
        fail_index_put: Cell<bool>,
        fail_index_delete: Cell<bool>,
        /// Every team call fails (the listing is unreachable).
        fail_team: Cell<bool>,
    }

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-10-14T00:00:00Z").unwrap()
    }

    impl Backend for Memory {
        async fn team<Q: TeamRequest>(
            &self,
            _team: &TeamId,
            q: Q,
        ) -> StoreResult<TeamAnswer<Q::Reply>> {
            if self.fail_team.get() {
                return Err(StoreError("team object unavailable".into()));
            }
            let answer = team_dispatch(&self.team, q.into_call())?;
            Ok(serde_json::from_str(&answer).unwrap())
        }

        async fn key(&self, id: &KeyId, call: &KeyCall) -> StoreResult<KeyReply> {
            if matches!(call, KeyCall::Create { .. }) && self.fail_key_create.get() {
                return Err(StoreError("key object unavailable".into()));
            }
            let mut objects = self.objects.borrow_mut();
            let slot = objects.entry(id.to_string()).or_default();
            Ok(key_dispatch(slot, call.clone(), now()).0)
        }

        async fn index_put(&self, hash: &KeyHash, entry: &IndexEntry) -> StoreResult<()> {
            if self.fail_index_put.get() {
                return Err(StoreError("kv unavailable".into()));
            }
            self.index.borrow_mut().insert(*hash, entry.clone());
            Ok(())
        }

        async fn index_delete(&self, hash: &KeyHash) -> StoreResult<()> {
            if self.fail_index_delete.get() {
                return Err(StoreError("kv unavailable".into()));
            }
            self.index.borrow_mut().remove(hash);
            Ok(())
        }
    }

    impl Memory {
        fn listed(&self, id: &str) -> Option<KeyRecord> {
            self.team.key(id).unwrap()
        }

        /// Verifies a key the way the edge does: index first, then the key's object.
        fn verifies(&self, hash: &KeyHash) -> bool {
            let Some(entry) = self.index.borrow().get(hash).cloned() else {
                return false;
            };
            let call = KeyCall::Check {
                hash: *hash,
                requirement: Requirement::default(),
            };
            match block_on(self.key(&entry.key_id, &call)).unwrap() {
                KeyReply::Checked { result } => result.denial().is_none(),
                _ => false,
            }
        }
    }

    /// Runs a future that never waits (the in-memory backend answers at once).
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the in-memory backend never waits"),
        }
    }

    fn record(id: &str) -> KeyRecord {
        crate::core::model::sample_record(id, now())
    }

    fn hash(n: u8) -> KeyHash {
        KeyHash::from_hex(&hex::encode([n; 32])).unwrap()
    }

    fn issue(m: &Memory, id: &str, n: u8) -> Result<KeyRecord, IssueError> {
        block_on(issue_key(
            m,
            record(id),
            hash(n),
            &PermissionSet::default(),
            None,
        ))
    }

    #[test]
    fn a_created_key_is_listed_held_and_indexed() {
        let m = Memory::default();
        issue(&m, "key_1", 1).unwrap();
        assert!(m.listed("key_1").is_some());
        assert!(m.verifies(&hash(1)));
    }

    #[test]
    fn a_created_key_takes_its_teams_idle_setting() {
        use crate::storage::team_protocol::{Init, UpdateTeam};
        let m = Memory::default();
        issue(&m, "key_0", 9).unwrap();
        let team = crate::core::model::Team {
            id: "team_1".into(),
            name: "t".into(),
            created_at: now(),
            limits: Default::default(),
            leak_policy: Default::default(),
            branding: Default::default(),
            require_totp: false,
            auto_disable_idle_days: None,
        };
        let init = Init { team, owner: None };
        block_on(m.team(&"team_1".into(), init)).unwrap().unwrap();
        let idle = |id: &str| {
            let objects = m.objects.borrow();
            objects[id].as_ref().unwrap().idle.auto_disable_days
        };
        issue(&m, "key_1", 1).unwrap();
        assert_eq!(idle("key_1"), None, "off by default");
        let on = UpdateTeam {
            name: None,
            limits: Default::default(),
            leak_policy: None,
            branding: None,
            require_totp: None,
            auto_disable_idle_days: Some(crate::core::idle::Setting { days: Some(30) }),
        };
        let t = block_on(m.team(&"team_1".into(), on)).unwrap().unwrap();
        assert_eq!(t.auto_disable_idle_days, Some(30));
        issue(&m, "key_2", 2).unwrap();
        assert_eq!(idle("key_2"), Some(30));
        assert!(m.verifies(&hash(2)));
    }

    #[test]
    fn a_failed_object_write_leaves_nothing_behind() {
        let m = Memory::default();
        m.fail_key_create.set(true);
        let e = issue(&m, "key_1", 1).unwrap_err();
        assert!(
            matches!(e, IssueError::Store { ref undo_failures, .. } if undo_failures.is_empty())
        );
        assert!(m.listed("key_1").is_none(), "the listing was undone");
        assert!(m.index.borrow().is_empty());
        assert!(!m.verifies(&hash(1)));
    }

    #[test]
    fn a_failed_index_write_empties_the_object_and_the_listing() {
        let m = Memory::default();
        m.fail_index_put.set(true);
        let e = issue(&m, "key_1", 1).unwrap_err();
        assert!(matches!(e, IssueError::Store { ref cause, .. } if cause.0 == "kv unavailable"));
        assert!(m.listed("key_1").is_none());
        assert!(
            m.objects.borrow().get("key_1").is_some_and(Option::is_none),
            "object emptied"
        );
        // Even if the index entry appeared later (a write that landed after all), the key would
        // not verify: its object no longer holds it.
        m.index.borrow_mut().insert(
            hash(1),
            IndexEntry {
                key_id: "key_1".into(),
                team_id: "team_1".into(),
            },
        );
        assert!(!m.verifies(&hash(1)));
    }

    const T1: &str = "team_1";
    const K1: &str = "key_1";

    fn admin() -> Manager {
        Manager {
            permissions: PermissionSet::new([Permission::parse("admin:*").unwrap()]),
            environment: Environment::Live,
            project_id: None,
        }
    }

    #[test]
    fn revoking_invalidates_first_and_tolerates_a_stale_index() {
        let m = Memory::default();
        issue(&m, "key_1", 1).unwrap();
        m.fail_index_delete.set(true);
        let weak = Manager {
            permissions: PermissionSet::default(),
            environment: Environment::Test,
            project_id: None,
        };
        let refused = block_on(revoke_key(&m, &T1.into(), &K1.into(), weak, None)).unwrap();
        assert_eq!(refused, Revoked::Refused(Denial::TestKeyOnLive));
        assert!(m.verifies(&hash(1)), "a refused revocation changes nothing");
        let done = block_on(revoke_key(&m, &T1.into(), &K1.into(), admin(), None)).unwrap();
        assert!(matches!(done, Revoked::Done { ref follow_up } if follow_up.len() == 1));
        assert!(
            m.index.borrow().contains_key(&hash(1)),
            "the index entry is stale…"
        );
        assert!(
            !m.verifies(&hash(1)),
            "…and the key is refused all the same"
        );
        assert!(m.listed("key_1").is_none());
        assert_eq!(
            block_on(revoke_key(&m, &T1.into(), &K1.into(), admin(), None)).unwrap(),
            Revoked::NotFound
        );
        // The retry of the follow-up (the key object's outbox) clears the stale entry.
        m.fail_index_delete.set(false);
        assert!(block_on(forget_key(&m, &T1.into(), &K1.into(), &hash(1))).is_empty());
        assert!(m.index.borrow().is_empty());
    }

    #[test]
    fn a_delete_the_listing_misses_succeeds_and_is_repaired_later() {
        let m = Memory::default();
        issue(&m, "key_1", 1).unwrap();
        m.fail_team.set(true);
        let done = block_on(revoke_key(&m, &T1.into(), &K1.into(), admin(), None)).unwrap();
        assert!(
            matches!(done, Revoked::Done { ref follow_up } if follow_up.len() == 1),
            "the object applied it: success, with the listing's failure for the log"
        );
        assert!(!m.verifies(&hash(1)), "revoked at once");
        assert!(m.index.borrow().is_empty(), "the index step ran anyway");
        assert!(m.listed("key_1").is_some(), "the row is stale");
        m.fail_team.set(false);
        // A client's retry of the delete is 404, and clears the stale row on the way.
        assert_eq!(
            block_on(revoke_key(&m, &T1.into(), &K1.into(), admin(), None)).unwrap(),
            Revoked::NotFound
        );
        assert!(m.listed("key_1").is_none());
    }

    #[test]
    fn a_change_the_listing_misses_is_still_a_success() {
        let m = Memory::default();
        issue(&m, "key_1", 1).unwrap();
        m.fail_team.set(true);
        let call = KeyCall::Disable { manager: admin() };
        let (reply, follow_up) = block_on(change_key(&m, &K1.into(), &call)).unwrap();
        assert!(matches!(reply, KeyReply::Key { ref record, .. } if record.disabled_at.is_some()));
        assert!(follow_up.is_some());
        assert!(!m.verifies(&hash(1)), "disabled at once");
        assert!(m.listed("key_1").unwrap().disabled_at.is_none(), "stale");
        // The outbox's retry brings the listing up to date.
        m.fail_team.set(false);
        let KeyReply::Key {
            record, revision, ..
        } = reply
        else {
            unreachable!()
        };
        block_on(relist(&m, &record, revision)).unwrap();
        assert!(m.listed("key_1").unwrap().disabled_at.is_some());
    }

    #[test]
    fn a_change_the_object_refuses_touches_nothing_else() {
        let m = Memory::default();
        issue(&m, "key_1", 1).unwrap();
        m.fail_team.set(true);
        let weak = Manager {
            permissions: PermissionSet::default(),
            environment: Environment::Test,
            project_id: None,
        };
        let call = KeyCall::Disable { manager: weak };
        let (reply, follow_up) = block_on(change_key(&m, &K1.into(), &call)).unwrap();
        assert!(matches!(reply, KeyReply::Refused { .. }) && follow_up.is_none());
        assert!(m.verifies(&hash(1)));
    }
}
