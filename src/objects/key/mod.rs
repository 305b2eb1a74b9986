//! The key object: holds one key's [`KeyState`] and runs [`key_dispatch`] on it.
//!
//! The state is cached in memory for the object's life and written back after every change, so a
//! check costs no storage read once the object is warm, and a restart loses no count. It is
//! stored in two parts, as JSON text in a SQLite table: the record (written when the key is
//! managed), the counters (written on every counted request: windows, today's history, the
//! countries, the monitoring tally; a few hundred bytes) and the history's earlier days
//! (written once a day, when a new day starts). SQLite
//! writes are synchronous, and the runtime's output gate holds the answer until they are
//! durable, so counting costs no awaited storage call. Workers deliver one event at a time to an
//! object, and the decision is made synchronously in memory, so no two requests can both take
//! the last slot of a window. (Objects written before the table existed kept their parts in the
//! key-value API; a part missing from the table is read from there, and the table's copy, once
//! written, is always the newer.)
//!
//! After a management change or a delete it also keeps an outbox (`core::sync`): what the team's
//! listing and the KV index still owe, written with the change itself, and an alarm that
//! retries it until it holds. The worker tries the same follow-ups at once, so the alarm usually
//! finds them done (they are idempotent) and only clears the outbox.
//!
//! What to write, hold, send and schedule after a call or at the alarm is decided in
//! `core::key_plan`; this file loads, calls, persists and sends (the parts: `parts.rs`; the
//! events held and the outbox: `follow_ups.rs`; the RPC methods: `rpc.rs`).

mod follow_ups;
mod parts;
mod rpc;

use crate::core::ids::TeamId;
use crate::core::key_plan::{after_call, at_alarm, next_alarm, AfterCall, Writes};
use crate::core::key_state::{CountersPart, KeyState, RecordPart};
use crate::core::monitoring::Report;
use crate::core::sync::EventOutbox;
use crate::core::time::Timestamp;
use crate::storage::events_protocol::ReportUsage;
use crate::storage::key_protocol::{key_dispatch, key_dispatch_with_events, KeyCall, KeyReply};
use crate::storage::team_protocol::TouchKey;
use crate::storage::Backend;
use crate::storage::Stores;
use parts::{COUNTERS, EVENTS, HISTORY, OUTBOX, RECORD};
use serde::de::DeserializeOwned;
use std::cell::{Cell, RefCell};
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::{
    console_error, durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State,
};

#[durable_object]
pub struct KeyObject {
    state: State,
    env: Env,
    /// `None` until loaded; then what storage holds (`Some(None)` for an empty object).
    slot: RefCell<Option<Option<KeyState>>>,
    /// The parts table exists (made once per object instance, and again after an erase).
    table_ready: Cell<bool>,
    /// The length of a day for idle keys (`core::idle::day_ms`, from `IDLE_DAY_MS`).
    idle_day_ms: Cell<Option<i64>>,
}

fn now() -> Timestamp {
    // `Date.now()`, not `new Date()` (`worker::Date::now`): no object made per call, on the
    // verification's path (measured ~1.5 % of a valid verification's samples).
    Timestamp::from_millis(worker::js_sys::Date::now() as i64)
}

impl KeyObject {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.table_ready.get() {
            sql.exec(parts::TABLE, None)?;
            self.table_ready.set(true);
        }
        Ok(sql)
    }

    /// A part from the table, or (for an object written before the table) the key-value API.
    async fn part<T: DeserializeOwned>(&self, sql: &SqlStorage, name: &str) -> Result<Option<T>> {
        match parts::get(sql, name)? {
            Some(v) => Ok(Some(v)),
            None => parts::read_legacy(&self.state.storage(), name).await,
        }
    }

    /// The writes `core::key_plan` decided, synchronous but for an erase.
    async fn write(&self, w: Writes) -> Result<()> {
        if w.erase {
            // Events held and not handed over yet (a disable just before the delete, whose
            // alarm has not run) outlive the erase: no event is lost (unless they cannot be
            // read, which is logged). The delete's own event is added to them after, so they
            // are sent in order.
            let held = parts::get::<EventOutbox>(&self.sql()?, EVENTS).unwrap_or_else(|e| {
                console_error!("held events unreadable, not kept through the delete: {e}");
                None
            });
            self.state.storage().delete_all().await?;
            self.table_ready.set(false);
            if let Some(held) = held {
                parts::put(&self.sql()?, EVENTS, &held)?;
            }
        }
        self.write_now(w)
    }

    /// The writes but an erase (a check never erases): synchronous, durable before the answer
    /// leaves (the output gate).
    fn write_now(&self, w: Writes) -> Result<()> {
        let nothing = w.record.is_none() && w.counters.is_none() && w.history.is_none();
        if nothing && w.outbox.is_none() {
            return Ok(());
        }
        let sql = self.sql()?;
        if let Some(r) = w.record {
            parts::put(&sql, RECORD, &r)?;
        }
        if let Some(c) = w.counters {
            parts::put(&sql, COUNTERS, &c)?;
        }
        if let Some(days) = w.history {
            parts::put(&sql, HISTORY, &days)?;
        }
        if let Some(outbox) = w.outbox {
            // Written with the change: from here on the follow-up cannot be lost.
            parts::put(&sql, OUTBOX, &outbox)?;
        }
        Ok(())
    }

    /// Runs one call: the decision in memory (`key_dispatch`), what follows from it
    /// (`core::key_plan::after_call`), its writes, then the reply.
    async fn serve(&self, call: KeyCall) -> Result<KeyReply> {
        self.load().await?;
        let checking = matches!(call, KeyCall::Check { .. });
        let idle_setting = matches!(call, KeyCall::SetIdle { .. });
        let (reply, mut plan) = self.decide(call, checking);
        // A new idle setting moves the idle deadline: the alarm looks again now (it
        // reschedules by every deadline, `core::key_plan::at_alarm`).
        let look_again = idle_setting && plan.writes.record.is_some();
        self.write(std::mem::take(&mut plan.writes)).await?;
        if look_again {
            self.state.storage().set_alarm(0).await?;
        }
        if self.follow(plan, checking)? {
            self.state.storage().set_alarm(0).await?;
        }
        Ok(reply)
    }

    /// A check (`KeyCall::Check`) answered in the call's own turn, when the key is loaded
    /// (`None` otherwise: [`serve`] answers it): a check's writes are synchronous and all it
    /// leaves to do goes to `wait_until`, so no future, promise or microtask is made for it.
    fn check_now(&self, call: KeyCall) -> Result<Option<KeyReply>> {
        if self.slot.borrow().is_none() || !matches!(call, KeyCall::Check { .. }) {
            return Ok(None);
        }
        let (reply, mut plan) = self.decide(call, true);
        debug_assert!(!plan.writes.erase, "a check never erases");
        self.write_now(std::mem::take(&mut plan.writes))?;
        self.follow(plan, true)?;
        Ok(Some(reply))
    }

    /// The decision on the loaded state and what follows from it.
    fn decide(&self, call: KeyCall, checking: bool) -> (KeyReply, AfterCall) {
        self.set_idle_day();
        let now = now();
        let mut slot = self.slot.borrow_mut();
        let held = slot.as_mut().expect("loaded before deciding");
        let before = held
            .as_ref()
            .map(|s| (s.record.team_id.clone(), s.record.id.clone()));
        let (reply, effect, events) = if checking {
            let (r, e) = key_dispatch(held, call, now);
            (r, e, Vec::new())
        } else {
            key_dispatch_with_events(held, call, now)
        };
        let deleted = match &reply {
            KeyReply::Deleted { hash } => Some(*hash),
            _ => None,
        };
        if let Some(s) = held.as_mut() {
            s.idle_day_ms = self.idle_day_ms.get().unwrap_or(s.idle_day_ms);
        }
        let plan = after_call(held, before, effect, deleted, checking, events, now);
        (reply, plan)
    }

    /// What a call leaves once its writes are made: events held (with the change: never lost,
    /// never made for nothing; the alarm, set for now, hands them over, runs the outbox and
    /// reschedules, off the call's path), reports and the listing's `last_used` sent off the
    /// request's path. Returns whether the caller must set the alarm for now itself (a change's
    /// events; a check's alert sets it without holding the answer).
    fn follow(&self, plan: AfterCall, checking: bool) -> Result<bool> {
        let mut alarm_now = false;
        if let Some((team_id, events)) = plan.events {
            self.hold_events(team_id, events)?;
            if checking {
                let storage = self.state.storage();
                self.state.wait_until(async move {
                    if let Err(e) = storage.set_alarm(0).await {
                        console_error!("setting the alarm for an alert failed: {e}");
                    }
                });
            } else {
                alarm_now = true;
            }
        }
        if let Some(r) = plan.reports {
            self.send_reports(r.team_id, r.due, r.alarm_in);
        }
        if let Some((team_id, id, last_used)) = plan.publish {
            // Off the request's path: the listing's `last_used` may lag, the answer may not.
            let env = self.env.clone();
            self.state.wait_until(async move {
                let touch = TouchKey { id, last_used };
                let result = match Stores::from_env(&env) {
                    Ok(stores) => stores.team(&team_id, touch).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    console_error!("publishing last_used failed: {}", e.0);
                }
            });
        }
        Ok(alarm_now)
    }

    /// Sends monitoring reports to the team's events object, off the request's path (a lost
    /// report costs the team view a minute of counts; the key's own history is exact), and sets
    /// the alarm that reports a key which falls quiet (`alarm_in`, ms).
    fn send_reports(&self, team_id: TeamId, reports: Vec<Report>, alarm_in: Option<i64>) {
        let env = self.env.clone();
        let storage = self.state.storage();
        self.state.wait_until(async move {
            if let Some(delay) = alarm_in {
                // Never postponing a sooner retry (of a hand-over or the outbox).
                if let Err(e) = super::alarm_within(&storage, delay, None).await {
                    console_error!("setting the report alarm failed: {e}");
                }
            }
            if reports.is_empty() {
                return;
            }
            let call = ReportUsage {
                reports,
                now: now(),
            };
            let result = match Stores::from_env(&env) {
                Ok(stores) => stores.events(&team_id, call).await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                console_error!("a monitoring report was lost: {}", e.0);
            }
        });
    }

    /// The idle policy's day (a real day unless the deployment's `IDLE_DAY_MS`, for tests,
    /// shortens it), given to the state the object holds.
    fn set_idle_day(&self) {
        let day = match self.idle_day_ms.get() {
            Some(d) => d,
            None => {
                let var = self.env.var("IDLE_DAY_MS").ok().map(|v| v.to_string());
                let d = crate::core::idle::day_ms(var.as_deref());
                self.idle_day_ms.set(Some(d));
                d
            }
        };
        if let Some(Some(s)) = self.slot.borrow_mut().as_mut() {
            s.idle_day_ms = day;
        }
    }

    async fn load(&self) -> Result<()> {
        if self.slot.borrow().is_some() {
            return Ok(());
        }
        let sql = self.sql()?;
        let loaded = match self.part::<RecordPart>(&sql, RECORD).await? {
            Some(record) => Some(KeyState::from_parts(
                record,
                self.part::<CountersPart>(&sql, COUNTERS).await?,
                parts::get(&sql, HISTORY)?,
            )),
            None => None,
        };
        let mut slot = self.slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(loaded);
        }
        Ok(())
    }
}

impl DurableObject for KeyObject {
    fn new(state: State, env: Env) -> Self {
        KeyObject {
            state,
            env,
            slot: RefCell::new(None),
            table_ready: Cell::new(false),
            idle_day_ms: Cell::new(None),
        }
    }

    /// The object is called over RPC only (`call`, below): a worker and its Durable Objects
    /// deploy as one version, so no caller speaks HTTP to it.
    async fn fetch(&self, _req: Request) -> Result<Response> {
        Response::error("the key object is called over RPC (`call`)", 400)
    }

    /// The key's own work, off every request's path (`core::key_plan::at_alarm`): its schedule
    /// (expiry notices, expiry, renewal; `core::lifecycle`) and a quiet key's report, handing
    /// its events to the team's events object, and the outbox (the listing and, for a deleted
    /// key, the index). Then the alarm is set for the earliest of the next deadline and any
    /// retry. Alarms are at least once; each step is idempotent.
    async fn alarm(&self) -> Result<Response> {
        let running = super::running_alarm(&self.state.storage()).await?;
        self.load().await?;
        self.set_idle_day();
        let now = now();
        let scheduled = at_alarm(
            self.slot.borrow_mut().as_mut().and_then(Option::as_mut),
            now,
        );
        self.write(scheduled.writes).await?;
        if let Some((team_id, events)) = scheduled.events {
            self.hold_events(team_id, events)?;
        }
        if let Some((team_id, report)) = scheduled.report {
            self.send_reports(team_id, vec![report], None);
        }
        let stores = Stores::from_env(&self.env).map_err(|e| worker::Error::RustError(e.0))?;
        let events_retry = self.hand_over_events(&stores, now).await?;
        let outbox_retry = self.run_outbox(&stores).await?;
        if let Some(delay) = next_alarm(now, scheduled.next, &[events_retry, outbox_retry]) {
            // Not `set_alarm`: a call while this handler waited may have set a sooner one.
            super::alarm_within(&self.state.storage(), delay, running).await?;
        }
        Response::ok("done")
    }
}
