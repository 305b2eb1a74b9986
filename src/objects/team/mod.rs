//! The team object: one per team. It parses a call, runs it through the core's rules
//! (`storage::team_protocol::team_dispatch` → `core::team`) on its SQLite tables, and answers.
//! `sql.rs` is the SQLite side of `core::team::TeamStore`: every `if` there is about storage.
//!
//! SQLite calls are synchronous, so a rule runs from its first read to its last write with no
//! `await` in between: atomic, since the object runs one event at a time. Records are stored as
//! JSON bodies beside the columns that queries filter on.

mod idle_push;
mod people;
mod portal;
mod sql;

use crate::core::random::OsRandom;
use crate::core::team::{MemberStore, TeamStore};
use crate::core::time::Timestamp;
use crate::objects::sql::Sql;
use crate::storage::events_protocol::RecordEvents;
use crate::storage::team_protocol::{audit_spec, team_dispatch, AuditedTeamCall, TeamCall};
use crate::storage::Stores;
use std::cell::Cell;
use worker::wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::{
    console_error, durable_object, Date, DurableObject, Env, Request, Response, Result, State,
    Storage,
};

/// When a hand-over of held events failed, the next try (the alarm).
const HAND_OVER_RETRY_MS: i64 = 30_000;

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
CREATE TABLE IF NOT EXISTS withdrawn_invitations (
  token_hash TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS event_outbox (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS portal_sessions (
  token_hash TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS portal_sessions_expires ON portal_sessions (expires_ms);
CREATE INDEX IF NOT EXISTS members_external_id ON members (json_extract(body, '$.external_id'));
";

#[durable_object]
pub struct TeamObject {
    state: State,
    env: Env,
    schema_ready: Cell<bool>,
}

impl DurableObject for TeamObject {
    fn new(state: State, env: Env) -> Self {
        TeamObject {
            state,
            env,
            schema_ready: Cell::new(false),
        }
    }

    /// Hands over the events a hand-over after a call could not (see `serve`), and runs a batch
    /// of the push of a changed idle setting to the team's keys (`idle_push`).
    async fn alarm(&self) -> Result<Response> {
        let running = super::running_alarm(&self.state.storage()).await?;
        let db = self.db()?;
        if let Some((team_id, events)) = held(&db)? {
            let storage = self.state.storage();
            hand_over(self.env.clone(), storage, team_id, events, running).await;
        }
        let next = match idle_push::run(&db, &self.env).await {
            Ok(next) => next,
            Err(e) => {
                console_error!("pushing the idle setting failed (retried): {}", e.0);
                Some(crate::core::idle::PUSH_RETRY_MS)
            }
        };
        if let Some(delay) = next {
            // Not `set_alarm`: a failed hand-over above may have asked for a sooner retry.
            super::alarm_within(&self.state.storage(), delay, running).await?;
        }
        Response::ok("done")
    }

    /// The object is called over RPC only (`call`, below): a worker and its Durable Objects
    /// deploy as one version, so no caller speaks HTTP to it.
    async fn fetch(&self, _req: Request) -> Result<Response> {
        Response::error("the team object is called over RPC (`call`)", 400)
    }
}

impl TeamObject {
    /// One call: parsed with serde_json (the same code the worker's replies use, not a second
    /// copy of every type's deserializer through `Request::json`), run, answered.
    ///
    /// A change that made events (`member.added`, `member.removed`) held them in the same
    /// transaction (`event_outbox`); they are handed to the team's events object right after
    /// the answer, by `wait_until`, and by the alarm if that fails.
    ///
    /// A call made through the API to change something comes with its origin
    /// (`AuditedTeamCall`): its audit entry is held in the same transaction, with the events.
    fn serve(&self, text: &str) -> Result<String> {
        let parse_error = |e: serde_json::Error| worker::Error::RustError(e.to_string());
        let (origin, call) = if text.starts_with(r#"{"origin""#) {
            let a: AuditedTeamCall = serde_json::from_str(text).map_err(parse_error)?;
            (Some(a.origin), a.call)
        } else {
            (
                None,
                serde_json::from_str::<TeamCall>(text).map_err(parse_error)?,
            )
        };
        let db = self.db()?;
        let audit = origin.and_then(|o| audit_spec(&call).map(|spec| (o, spec)));
        let audit = match audit {
            // The team's own changes name the team, which only its object knows here.
            Some((o, mut spec)) if spec.target.id.is_empty() => {
                let team = db.team().map_err(store_error)?;
                spec.target.id = team.map(|t| t.id.to_string()).unwrap_or_default();
                Some((o, spec))
            }
            other => other,
        };
        // A change of `auto_disable_idle_days`: the setting before, to push it if it changed.
        let idle_before = match &call {
            TeamCall::UpdateTeam(q) if q.auto_disable_idle_days.is_some() => Some(
                db.team()
                    .map_err(store_error)?
                    .and_then(|t| t.auto_disable_idle_days),
            ),
            _ => None,
        };
        let answer = team_dispatch(&db, call).map_err(|e| worker::Error::RustError(e.0))?;
        if let Some(before) = idle_before {
            let after = db
                .team()
                .map_err(store_error)?
                .and_then(|t| t.auto_disable_idle_days);
            if after != before {
                // Held with the change (the same event, no await between): never lost.
                idle_push::start(&db, after).map_err(store_error)?;
                let storage = self.state.storage();
                self.state.wait_until(async move {
                    if let Err(e) = storage.set_alarm(0).await {
                        console_error!("setting the idle push alarm failed: {e}");
                    }
                });
            }
        }
        if let Some((origin, spec)) = audit {
            let now = Timestamp::from_millis(Date::now().as_millis() as i64);
            let accepted = answer.starts_with(r#"{"Ok""#);
            if let Some(entry) = spec.entry(&origin, accepted, now, &mut OsRandom) {
                db.hold_event(&entry).map_err(store_error)?;
            }
        }
        if let Some((team_id, events)) = held(&db)? {
            let (env, storage) = (self.env.clone(), self.state.storage());
            self.state
                .wait_until(hand_over(env, storage, team_id, events, None));
        }
        Ok(answer)
    }

    fn db(&self) -> Result<Sql> {
        let db = Sql(self.state.storage().sql());
        if !self.schema_ready.get() {
            db.0.exec(SCHEMA, None)?;
            self.schema_ready.set(true);
        }
        Ok(db)
    }
}

fn store_error(e: crate::core::store::StoreError) -> worker::Error {
    worker::Error::RustError(e.0)
}

/// The events held for the events object, with the team's id (none held: `None`).
fn held(db: &Sql) -> Result<Option<(crate::core::ids::TeamId, Vec<crate::core::events::Event>)>> {
    let events = db.held_events().map_err(store_error)?;
    if events.is_empty() {
        return Ok(None);
    }
    Ok(db.team().map_err(store_error)?.map(|t| (t.id, events)))
}

/// Gives held events to the team's events object, then releases them; on failure, the alarm
/// tries again.
async fn hand_over(
    env: Env,
    storage: Storage,
    team_id: crate::core::ids::TeamId,
    events: Vec<crate::core::events::Event>,
    running: Option<i64>,
) {
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let now = Timestamp::from_millis(Date::now().as_millis() as i64);
    let call = RecordEvents { events, now };
    let result = match Stores::from_env(&env) {
        Ok(stores) => stores.events(&team_id, call).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            if let Err(e) = Sql(storage.sql()).release_events(&ids) {
                console_error!("releasing handed-over events failed: {}", e.0);
            }
        }
        Err(e) => {
            console_error!(
                "handing member events over failed (the alarm retries): {}",
                e.0
            );
            // Never postponing a push's sooner alarm.
            if let Err(e) = super::alarm_within(&storage, HAND_OVER_RETRY_MS, running).await {
                console_error!("setting the hand-over alarm failed: {e}");
            }
        }
    }
}

/// The object's RPC method, `call`: the worker's path to it, as for the key object (see
/// `objects::key` and `src/entry/rpc.mjs`). Synchronous: every team rule runs without waiting.
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
impl TeamObject {
    #[wasm_bindgen(js_name = call)]
    pub fn rpc(&self, call: String) -> std::result::Result<String, JsValue> {
        self.serve(&call)
            .map_err(|e| JsValue::from_str(&e.to_string()))
    }
}
