//! The team object: one per team. It parses a call, runs it through the core's rules
//! (`storage::team_protocol::team_dispatch` → `core::team`) on its SQLite tables, and answers.
//! `sql.rs` is the SQLite side of `core::team::TeamStore`: every `if` there is about storage.
//!
//! SQLite calls are synchronous, so a rule runs from its first read to its last write with no
//! `await` in between: atomic, since the object runs one event at a time. Records are stored as
//! JSON bodies beside the columns that queries filter on.

mod deliver;
mod sql;

use crate::core::random::{OsRandom, Random};
use crate::core::team::webhooks::{finish, take_due};
use crate::core::time::Timestamp;
use crate::storage::team_protocol::{team_dispatch, TeamCall};
use sql::Sql;
use std::cell::Cell;
use worker::wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::{
    console_error, durable_object, Date, DurableObject, Env, Request, Response, Result, State,
};

/// Pages run newest first on `seq` (the primary key); filtered listings have an index that ends
/// in `seq`, so a page deep in a listing costs what the first page costs.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS team (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  environment TEXT NOT NULL, project_id TEXT, revision INTEGER NOT NULL DEFAULT 1,
  body TEXT NOT NULL);
DROP INDEX IF EXISTS keys_project;
CREATE INDEX IF NOT EXISTS keys_project_seq ON keys (project_id, seq);
CREATE INDEX IF NOT EXISTS keys_environment_seq ON keys (environment, seq);
CREATE INDEX IF NOT EXISTS keys_project_environment_seq ON keys (project_id, environment, seq);
CREATE TABLE IF NOT EXISTS projects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roles (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS service_accounts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS account_roles (
  account_id TEXT NOT NULL, role_id TEXT NOT NULL, position INTEGER NOT NULL,
  PRIMARY KEY (account_id, role_id));
CREATE INDEX IF NOT EXISTS account_roles_role ON account_roles (role_id);
CREATE TABLE IF NOT EXISTS members (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, email TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS invitations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, email TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY, member_id TEXT NOT NULL, created_ms INTEGER NOT NULL,
  body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_created ON sessions (created_ms);
CREATE INDEX IF NOT EXISTS sessions_member ON sessions (member_id);
CREATE TABLE IF NOT EXISTS sign_in_failures (key TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS webhook_events (
  id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_events_created ON webhook_events (created_ms);
CREATE TABLE IF NOT EXISTS webhook_queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, endpoint_id TEXT NOT NULL, event_id TEXT NOT NULL,
  attempt INTEGER NOT NULL, due_ms INTEGER NOT NULL, UNIQUE (endpoint_id, event_id));
CREATE INDEX IF NOT EXISTS webhook_queue_due ON webhook_queue (due_ms, seq);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, endpoint_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, seq);
";

#[durable_object]
pub struct TeamObject {
    state: State,
    schema_ready: Cell<bool>,
}

impl DurableObject for TeamObject {
    fn new(state: State, _env: Env) -> Self {
        TeamObject {
            state,
            schema_ready: Cell::new(false),
        }
    }

    /// The object is called over RPC only (`call`, below): a worker and its Durable Objects
    /// deploy as one version, so no caller speaks HTTP to it.
    async fn fetch(&self, _req: Request) -> Result<Response> {
        Response::error("the team object is called over RPC (`call`)", 400)
    }

    /// Delivers what is due (a batch at a time, concurrently, each within 10 s), records how
    /// each went, and sets the alarm for what is due next. Alarms are at least once: an attempt
    /// whose result was not recorded is made again, which receivers absorb by `webhook-id`.
    async fn alarm(&self) -> Result<Response> {
        let db = self.db()?;
        let outgoing = take_due(&db, now()).map_err(store_error)?;
        let sent_at = now();
        let results =
            futures_util::future::join_all(outgoing.iter().map(|o| deliver::attempt(o, sent_at)))
                .await;
        for (o, result) in outgoing.iter().zip(results) {
            let mut b = [0u8; 2];
            OsRandom.fill(&mut b);
            let jitter = f64::from(u16::from_le_bytes(b)) / 65_536.0;
            if let Err(e) = finish(&db, o, result, now(), jitter) {
                console_error!("recording a webhook delivery failed: {:?}", e);
            }
        }
        self.wake(&db).await?;
        Response::ok("delivered")
    }
}

fn now() -> Timestamp {
    Timestamp::from_millis(Date::now().as_millis() as i64)
}

fn store_error(e: crate::core::team::TeamError) -> worker::Error {
    worker::Error::RustError(format!("{e:?}"))
}

impl TeamObject {
    fn db(&self) -> Result<Sql> {
        let db = Sql(self.state.storage().sql());
        if !self.schema_ready.get() {
            db.0.exec(SCHEMA, None)?;
            self.schema_ready.set(true);
        }
        Ok(db)
    }

    /// Sets the alarm for the next delivery due, if any.
    async fn wake(&self, db: &Sql) -> Result<()> {
        use crate::core::team::WebhookStore;
        if let Some(due) = db.next_due().map_err(|e| worker::Error::RustError(e.0))? {
            let delay = (due.millis() - now().millis()).max(0);
            self.state.storage().set_alarm(delay).await?;
        }
        Ok(())
    }

    /// One call: parsed with serde_json (the same code the worker's replies use, not a second
    /// copy of every type's deserializer through `Request::json`), run, answered. A call that
    /// queued deliveries sets the alarm that sends them.
    async fn serve(&self, call: &str) -> Result<String> {
        let call: TeamCall =
            serde_json::from_str(call).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let db = self.db()?;
        let wakes = call.queues_deliveries();
        let answer = team_dispatch(&db, call).map_err(|e| worker::Error::RustError(e.0))?;
        if wakes {
            self.wake(&db).await?;
        }
        Ok(answer)
    }
}

/// The object's RPC method, `call`: the worker's path to it, as for the key object (see
/// `objects::key` and `src/entry/rpc.mjs`). Every team rule runs without waiting; only setting
/// the delivery alarm does.
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
    js_sys = ::worker::js_sys
)]
impl TeamObject {
    #[wasm_bindgen(js_name = call)]
    pub async fn rpc(&self, call: String) -> std::result::Result<String, JsValue> {
        self.serve(&call)
            .await
            .map_err(|e| JsValue::from_str(&e.to_string()))
    }
}
