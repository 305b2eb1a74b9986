//! The adapters: Workers KV and the Durable Object stubs, behind one small handle.

use super::events_protocol::{AuditedEventsCall, EventsRequest};
use super::index::{index_name, team_marker_name, IndexCache, IndexEntry, KnownTeams};
use super::key_protocol::{KeyCall, KeyReply};
pub use super::service::{Backend, StoreError, StoreResult};
use super::team_protocol::{AuditedTeamCall, TeamAnswer, TeamRequest};
use crate::core::audit::Origin;
use crate::core::ids::{KeyId, TeamId};
use crate::core::key::KeyHash;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::js_sys::Promise;
use worker::wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Env, KvStore, ObjectNamespace};

/// Binding names, as in `wrangler.toml`.
pub const KV_BINDING: &str = "KEY_INDEX";
pub const KEY_OBJECTS: &str = "KEY_OBJECTS";
pub const TEAM_OBJECTS: &str = "TEAM_OBJECTS";
pub const EVENTS_OBJECTS: &str = "EVENTS_OBJECTS";

/// Index entries this isolate has read (see [`IndexCache`]). 10,000 entries is about 1.5 MB.
const INDEX_CACHE_CAPACITY: usize = 10_000;

thread_local! {
    static INDEX_CACHE: std::cell::RefCell<IndexCache> =
        std::cell::RefCell::new(IndexCache::new(INDEX_CACHE_CAPACITY));
    static KNOWN_TEAMS: std::cell::RefCell<KnownTeams> =
        std::cell::RefCell::new(KnownTeams::new(INDEX_CACHE_CAPACITY));
}

impl From<worker::Error> for StoreError {
    fn from(e: worker::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<worker::kv::KvError> for StoreError {
    fn from(e: worker::kv::KvError) -> Self {
        StoreError(format!("kv: {e:?}"))
    }
}

/// The bindings, looked up once per isolate (each lookup is a `Reflect.get` and the `worker`
/// crate's type checks: about 12 crossings of the wasm boundary per request before they were
/// kept). Bindings never change while an isolate lives; `Stores` is a cheap handle onto them.
#[derive(Clone)]
pub struct Stores(std::rc::Rc<Bindings>);

pub struct Bindings {
    kv: KvStore,
    keys: ObjectNamespace,
    teams: ObjectNamespace,
    events: ObjectNamespace,
}

impl std::ops::Deref for Stores {
    type Target = Bindings;
    fn deref(&self) -> &Bindings {
        &self.0
    }
}

thread_local! {
    /// Kept only once every binding was found: an isolate missing one keeps answering
    /// `503 misconfigured` (tests/misconfigured.rs), and says which binding on each request.
    static STORES: std::cell::RefCell<Option<Stores>> = const { std::cell::RefCell::new(None) };
}

impl Stores {
    pub fn from_env(env: &Env) -> StoreResult<Self> {
        if let Some(s) = STORES.with(|c| c.borrow().clone()) {
            return Ok(s);
        }
        let stores = Stores(std::rc::Rc::new(Bindings {
            kv: env.kv(KV_BINDING)?,
            keys: env.durable_object(KEY_OBJECTS)?,
            teams: env.durable_object(TEAM_OBJECTS)?,
            events: env.durable_object(EVENTS_OBJECTS)?,
        }));
        STORES.with(|c| *c.borrow_mut() = Some(stores.clone()));
        Ok(stores)
    }

    /// A team call that changes something, with its origin: the team object records the audit
    /// entry with the change.
    pub async fn team_audited<Q: TeamRequest>(
        &self,
        team_id: &TeamId,
        q: Q,
        origin: Origin,
    ) -> StoreResult<TeamAnswer<Q::Reply>> {
        let call = AuditedTeamCall {
            origin,
            call: q.into_call(),
        };
        from_json(&call_object(&self.teams, team_id, &to_json(&call)?).await?)
    }

    /// An events call that changes something, with its origin (its audit entry is written with
    /// it).
    pub async fn events_audited<Q: EventsRequest>(
        &self,
        team_id: &TeamId,
        q: Q,
        origin: Origin,
    ) -> StoreResult<TeamAnswer<Q::Reply>> {
        let call = AuditedEventsCall {
            origin,
            call: q.into_call(),
        };
        from_json(&call_object(&self.events, team_id, &to_json(&call)?).await?)
    }

    /// One call to a team's events object (webhooks).
    pub async fn events<Q: EventsRequest>(
        &self,
        team_id: &TeamId,
        q: Q,
    ) -> StoreResult<TeamAnswer<Q::Reply>> {
        let body = to_json(&q.into_call())?;
        from_json(&call_object(&self.events, team_id, &body).await?)
    }

    pub async fn index_get(&self, hash: &KeyHash) -> StoreResult<Option<IndexEntry>> {
        if let Some(hit) = cached_index(hash) {
            return Ok(Some(hit));
        }
        let text = self.kv.get(&index_name(hash)).text().await?;
        let entry = text.as_deref().and_then(IndexEntry::decode);
        if let Some(e) = &entry {
            remember_index(hash, e);
        }
        Ok(entry)
    }

    /// Does the team exist? Its KV marker says, with no Durable Object touched (see
    /// [`team_marker_name`]).
    pub async fn team_exists(&self, team: &TeamId) -> StoreResult<bool> {
        if KNOWN_TEAMS.with(|k| k.borrow().contains(team)) {
            return Ok(true);
        }
        let found = self.kv.get(&team_marker_name(team)).text().await?.is_some();
        if found {
            KNOWN_TEAMS.with(|k| k.borrow_mut().insert(team.clone()));
        }
        Ok(found)
    }

    /// Writes the team's marker (when it is made, and for teams made before markers existed,
    /// when the operator reads or changes them).
    pub async fn mark_team(&self, team: &TeamId) -> StoreResult<()> {
        self.kv.put(&team_marker_name(team), "1")?.execute().await?;
        KNOWN_TEAMS.with(|k| k.borrow_mut().insert(team.clone()));
        Ok(())
    }

    /// Removes the marker of a team that was taken back.
    pub async fn unmark_team(&self, team: &TeamId) -> StoreResult<()> {
        KNOWN_TEAMS.with(|k| k.borrow_mut().remove(team));
        self.kv.delete(&team_marker_name(team)).await?;
        Ok(())
    }

    /// Writes an email index entry (`core::email_index`): a membership was made.
    pub async fn index_email(&self, entry: &str) -> StoreResult<()> {
        self.kv.put(entry, "1")?.execute().await?;
        Ok(())
    }

    /// Removes an email index entry: the membership ended.
    pub async fn unindex_email(&self, entry: &str) -> StoreResult<()> {
        self.kv.delete(entry).await?;
        Ok(())
    }

    /// The names of the email index entries under `prefix` (at most `limit`): no object is
    /// touched.
    pub async fn email_entries(&self, prefix: &str, limit: usize) -> StoreResult<Vec<String>> {
        let listed = self
            .kv
            .list()
            .prefix(prefix.to_owned())
            .limit(limit as u64)
            .execute()
            .await?;
        Ok(listed.keys.into_iter().map(|k| k.name).collect())
    }

    /// Drops a key from this isolate's index cache (its object reported it gone).
    pub fn forget(&self, hash: &KeyHash) {
        forget_index(hash);
    }
}

/// The index entry of `hash`, if this isolate has read it (the verification's own path asks
/// before the entry reads KV: `http::verification`).
pub fn cached_index(hash: &KeyHash) -> Option<IndexEntry> {
    INDEX_CACHE.with(|c| c.borrow().get(hash).cloned())
}

/// Keeps an index entry read from KV for this isolate's later requests.
pub fn remember_index(hash: &KeyHash, entry: &IndexEntry) {
    INDEX_CACHE.with(|c| c.borrow_mut().insert(*hash, entry.clone()));
}

/// Drops a key from this isolate's index cache.
pub fn forget_index(hash: &KeyHash) {
    INDEX_CACHE.with(|c| c.borrow_mut().remove(hash));
}

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
extern "C" {
    /// An object's stub, seen through its RPC method `call` (`objects::key`, `objects::team`,
    /// `src/entry.mjs`).
    type ObjectRpc;

    #[wasm_bindgen(method, catch, js_name = call)]
    fn call(this: &ObjectRpc, call: &str) -> Result<Promise, JsValue>;
}

/// One JSON call to the object named `name`, over RPC: only the two JSON texts cross, no
/// request or response is built around them (for a key, this is the verification path's one
/// object call).
async fn call_object(ns: &ObjectNamespace, name: &str, body: &str) -> StoreResult<String> {
    let stub: ObjectRpc = ns.id_from_name(name)?.get_stub()?.into_rpc();
    let answer = async { JsFuture::from(stub.call(body)?).await }
        .await
        .map_err(|e| StoreError(format!("object {name}: {e:?}")))?;
    answer
        .as_string()
        .ok_or_else(|| StoreError("the object answered no text".into()))
}

fn to_json<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError(e.to_string()))
}

/// `from_str`, as the objects parse what they store: one instantiation of each type's
/// deserializer in the wasm (`from_slice` would compile a second copy of every one).
fn from_json<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError(format!("object reply: {e}")))
}

/// The writes and object calls, as the service (`super::service`) sees them.
impl Backend for Stores {
    async fn index_put(&self, hash: &KeyHash, entry: &IndexEntry) -> StoreResult<()> {
        self.kv
            .put(&index_name(hash), entry.encode())?
            .execute()
            .await?;
        Ok(())
    }

    async fn index_delete(&self, hash: &KeyHash) -> StoreResult<()> {
        forget_index(hash);
        self.kv.delete(&index_name(hash)).await?;
        Ok(())
    }

    async fn key(&self, key_id: &KeyId, call: &KeyCall) -> StoreResult<KeyReply> {
        from_json(&call_object(&self.keys, key_id, &to_json(call)?).await?)
    }

    async fn team<Q: TeamRequest>(
        &self,
        team_id: &TeamId,
        q: Q,
    ) -> StoreResult<TeamAnswer<Q::Reply>> {
        let body = to_json(&q.into_call())?;
        from_json(&call_object(&self.teams, team_id, &body).await?)
    }
}
