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

use crate::core::events::Event;
use crate::core::ids::TeamId;
use crate::core::key_state::{CountersPart, KeyState, RecordPart};
use crate::core::monitoring::Report;
use crate::core::sync::{EventOutbox, Outbox, Pending};
use crate::core::time::Timestamp;
use crate::storage::events_protocol::{RecordEvents, ReportUsage};
use crate::storage::key_protocol::{
    key_dispatch, key_dispatch_with_events, Effect, KeyCall, KeyReply,
};
use crate::storage::service::{forget_key, relist};
use crate::storage::team_protocol::TouchKey;
use crate::storage::Backend;
use crate::storage::Stores;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::{Cell, RefCell};
use worker::wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::{
    console_error, durable_object, Date, DurableObject, Env, Request, Response, Result, SqlStorage,
    SqlStorageValue, State, Storage,
};

const RECORD: &str = "record";
const COUNTERS: &str = "counters";
const OUTBOX: &str = "outbox";
const EVENTS: &str = "events";
const HISTORY: &str = "history";

#[durable_object]
pub struct KeyObject {
    state: State,
    env: Env,
    /// `None` until loaded; then what storage holds (`Some(None)` for an empty object).
    slot: RefCell<Option<Option<KeyState>>>,
    /// The parts table exists (made once per object instance, and again after an erase).
    table_ready: Cell<bool>,
}

const PARTS_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS parts (name TEXT PRIMARY KEY, body TEXT NOT NULL)";

fn json_error(key: &str, e: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(format!("stored {key}: {e}"))
}

async fn get_json<T: DeserializeOwned>(storage: &Storage, key: &str) -> Result<Option<T>> {
    match storage.get::<String>(key).await? {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| worker::Error::RustError(format!("stored {key}: {e}"))),
        None => Ok(None),
    }
}

/// Writes a part, synchronously (durable before the answer leaves, by the output gate).
fn put_part<T: Serialize>(sql: &SqlStorage, name: &str, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| json_error(name, e))?;
    sql.exec(
        "INSERT OR REPLACE INTO parts (name, body) VALUES (?, ?)",
        vec![name.into(), text.into()],
    )?;
    Ok(())
}

fn get_part<T: DeserializeOwned>(sql: &SqlStorage, name: &str) -> Result<Option<T>> {
    // Read positionally (`raw`), as the team object's tables are: no second deserializer.
    let row = sql
        .exec("SELECT body FROM parts WHERE name = ?", vec![name.into()])?
        .raw()
        .next()
        .transpose()?;
    match row.as_deref() {
        None => Ok(None),
        Some([SqlStorageValue::String(body)]) => serde_json::from_str(body)
            .map(Some)
            .map_err(|e| json_error(name, e)),
        Some(_) => Err(json_error(name, "a row without one text column")),
    }
}

impl KeyObject {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.table_ready.get() {
            sql.exec(PARTS_TABLE, None)?;
            self.table_ready.set(true);
        }
        Ok(sql)
    }

    /// A part from the table, or (for an object written before the table) the key-value API.
    async fn part<T: DeserializeOwned>(&self, sql: &SqlStorage, name: &str) -> Result<Option<T>> {
        match get_part(sql, name)? {
            Some(v) => Ok(Some(v)),
            None => get_json(&self.state.storage(), name).await,
        }
    }

    /// Runs one call: the decision in memory (`key_dispatch_with_events`), then its effect on
    /// storage, with the events it made, then the reply.
    async fn serve(&self, call: KeyCall) -> Result<KeyReply> {
        self.load().await?;
        let now = Timestamp::from_millis(Date::now().as_millis() as i64);
        let checking = matches!(call, KeyCall::Check { .. });
        let (reply, effect, events, parts, publish, erased, reports) = {
            let mut slot = self.slot.borrow_mut();
            let held = slot.as_mut().expect("loaded above");
            let ids = held
                .as_ref()
                .map(|s| (s.record.team_id.clone(), s.record.id.clone()));
            let (reply, effect, events) = if checking {
                let (r, e) = key_dispatch(held, call, now);
                // Alerts a check raised (new location, rate limited): rare, held like events.
                let alerts = held.as_mut().map(|s| std::mem::take(&mut s.alerts));
                (r, e, alerts.unwrap_or_default())
            } else {
                key_dispatch_with_events(held, call, now)
            };
            let erased = if effect == Effect::Erase {
                ids.clone()
            } else {
                None
            };
            let publish = held.as_mut().and_then(|s| {
                s.take_last_used_publish(now)
                    .map(|t| (s.record.team_id.clone(), s.record.id.clone(), t))
            });
            // Monitoring reports due (at most once a minute per key), and whether a quiet key
            // will owe one (its alarm then sends it).
            let reports = held.as_mut().and_then(|s| {
                let due = std::mem::take(&mut s.reports);
                let report_alarm = (checking && s.report.tally.total() == 1)
                    .then(|| s.next_deadline(now))
                    .flatten();
                (!due.is_empty() || report_alarm.is_some()).then(|| {
                    let reports = due
                        .into_iter()
                        .map(|(hour, tally)| Report::of(&s.record, hour, tally))
                        .collect::<Vec<_>>();
                    (s.record.team_id.clone(), reports, report_alarm)
                })
            });
            let parts = held.as_mut().map(|s| {
                let saves_record = matches!(effect, Effect::Save | Effect::SaveAndRelist);
                let record = saves_record.then(|| s.record_part());
                let earlier = std::mem::take(&mut s.history_rolled).then(|| s.earlier_days());
                (record, s.counters_part(), earlier)
            });
            // The team is the key's: held before the call, or made by it (a creation).
            let events = match events.is_empty() {
                true => None,
                false => ids
                    .map(|(team_id, _)| team_id)
                    .or_else(|| held.as_ref().map(|s| s.record.team_id.clone()))
                    .map(|team_id| (team_id, events)),
            };
            (reply, effect, events, parts, publish, erased, reports)
        };
        let storage = self.state.storage();
        let owed = match (&effect, &reply) {
            (Effect::SaveAndRelist, _) => Some(Pending::Relist),
            (Effect::Erase, KeyReply::Deleted { hash }) => {
                erased.map(|(team_id, key_id)| Pending::Remove {
                    team_id,
                    key_id,
                    hash: *hash,
                })
            }
            _ => None,
        };
        match (effect, parts) {
            (
                Effect::Save | Effect::SaveAndRelist | Effect::SaveCounters,
                Some((record, counters, earlier)),
            ) => {
                let sql = self.sql()?;
                if let Some(r) = record {
                    put_part(&sql, RECORD, &r)?;
                }
                put_part(&sql, COUNTERS, &counters)?;
                if let Some(days) = earlier {
                    put_part(&sql, HISTORY, &days)?;
                }
            }
            (Effect::Erase, _) => {
                storage.delete_all().await?;
                self.table_ready.set(false);
            }
            _ => {}
        }
        if let Some(pending) = owed {
            // Written with the change: from here on the follow-up cannot be lost.
            put_part(&self.sql()?, OUTBOX, &Outbox::new(pending))?;
        }
        let events_held = events.is_some();
        if let Some((team_id, events)) = events {
            // With the change too (an event is never lost, never made for nothing). Every
            // change makes one, so this alarm, set for now, also hands over the outbox and
            // reschedules the key's deadlines, off this call's path.
            self.hold_events(team_id, events)?;
            if checking {
                // A check's alert: the alarm is set without holding the verification's answer.
                let storage = self.state.storage();
                self.state.wait_until(async move {
                    if let Err(e) = storage.set_alarm(0).await {
                        console_error!("setting the alarm for an alert failed: {e}");
                    }
                });
            } else {
                storage.set_alarm(0).await?;
            }
        }
        if let Some((team_id, reports, alarm_at)) = reports {
            // An alarm set for now (held events) reschedules by every deadline itself.
            let alarm_in = alarm_at
                .filter(|_| !events_held)
                .map(|t| t.millis() - now.millis());
            self.send_reports(team_id, reports, alarm_in);
        }
        if let Some((team_id, id, last_used)) = publish {
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
        Ok(reply)
    }

    /// Sends monitoring reports to the team's events object, off the request's path (a lost
    /// report costs the team view a minute of counts; the key's own history is exact), and sets
    /// the alarm that reports a key which falls quiet (`alarm_in`, ms).
    fn send_reports(&self, team_id: TeamId, reports: Vec<Report>, alarm_in: Option<i64>) {
        let env = self.env.clone();
        let storage = self.state.storage();
        self.state.wait_until(async move {
            if let Some(delay) = alarm_in {
                if let Err(e) = storage.set_alarm(delay.max(0)).await {
                    console_error!("setting the report alarm failed: {e}");
                }
            }
            if reports.is_empty() {
                return;
            }
            let now = Timestamp::from_millis(Date::now().as_millis() as i64);
            let call = ReportUsage { reports, now };
            let result = match Stores::from_env(&env) {
                Ok(stores) => stores.events(&team_id, call).await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                console_error!("a monitoring report was lost: {}", e.0);
            }
        });
    }

    /// Adds events to those held for the team's events object (a synchronous write).
    fn hold_events(&self, team_id: TeamId, events: Vec<Event>) -> Result<()> {
        let sql = self.sql()?;
        let mut held =
            get_part::<EventOutbox>(&sql, EVENTS)?.unwrap_or_else(|| EventOutbox::new(team_id));
        held.add(events);
        put_part(&sql, EVENTS, &held)
    }

    /// Runs the key's schedule (notices, expiry, renewal) for `now`, storing what it did with
    /// the events it made. Returns when it next needs the object.
    fn run_schedule(&self, now: Timestamp) -> Result<Option<Timestamp>> {
        let ran = {
            let mut slot = self.slot.borrow_mut();
            match slot.as_mut().and_then(Option::as_mut) {
                Some(s) => {
                    let (events, renewed) = s.run_schedule(now);
                    let next = s.next_deadline(now);
                    let changed = !events.is_empty();
                    Some((
                        changed.then(|| (s.record_part(), s.record.team_id.clone(), events)),
                        renewed,
                        next,
                    ))
                }
                None => None,
            }
        };
        let Some((changed, renewed, next)) = ran else {
            return Ok(None);
        };
        if let Some((part, team_id, events)) = changed {
            let sql = self.sql()?;
            put_part(&sql, RECORD, &part)?;
            self.hold_events(team_id, events)?;
            if renewed {
                // The listing shows the new expiry once the outbox has run.
                put_part(&sql, OUTBOX, &Outbox::new(Pending::Relist))?;
            }
        }
        Ok(next)
    }

    /// The monitoring report a quiet key still owes (the alarm's, so it lags a minute at most).
    fn flush_report(&self, now: Timestamp) -> Result<()> {
        let taken = {
            let mut slot = self.slot.borrow_mut();
            slot.as_mut().and_then(Option::as_mut).and_then(|s| {
                s.report.take(now, true).map(|(hour, tally)| {
                    let report = Report::of(&s.record, hour, tally);
                    (s.record.team_id.clone(), report, s.counters_part())
                })
            })
        };
        if let Some((team_id, report, counters)) = taken {
            put_part(&self.sql()?, COUNTERS, &counters)?;
            self.send_reports(team_id, vec![report], None);
        }
        Ok(())
    }

    /// Hands the held events to the team's events object. Returns the delay before trying again, if
    /// that failed.
    async fn hand_over_events(&self, stores: &Stores, now: Timestamp) -> Result<Option<i64>> {
        let sql = self.sql()?;
        let Some(held) = get_part::<EventOutbox>(&sql, EVENTS)? else {
            return Ok(None);
        };
        let ids: Vec<String> = held.events.iter().map(|e| e.id.clone()).collect();
        let call = RecordEvents {
            events: held.events,
            now,
        };
        let outcome = stores.events(&held.team_id, call).await;
        // Read again: a change may have added events while the call was out.
        let sql = self.sql()?;
        let mut held = get_part::<EventOutbox>(&sql, EVENTS)?
            .unwrap_or_else(|| EventOutbox::new(held.team_id));
        let retry = match outcome {
            // Taken; or the team is gone, and its events with it.
            Ok(_) => {
                held.handed_over(&ids);
                None
            }
            Err(e) => {
                let delay = held.failed();
                console_error!(
                    "handing events to the team failed {} time(s), next try in {} s: {}",
                    held.failures,
                    delay / 1000,
                    e.0
                );
                Some(delay)
            }
        };
        if held.events.is_empty() {
            sql.exec("DELETE FROM parts WHERE name = ?", vec![EVENTS.into()])?;
        } else {
            put_part(&sql, EVENTS, &held)?;
        }
        Ok(retry)
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
                get_part(&sql, HISTORY)?,
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
        }
    }

    /// The object is called over RPC only (`call`, below): a worker and its Durable Objects
    /// deploy as one version, so no caller speaks HTTP to it.
    async fn fetch(&self, _req: Request) -> Result<Response> {
        Response::error("the key object is called over RPC (`call`)", 400)
    }

    /// The key's own work, off every request's path: its schedule (expiry notices, expiry,
    /// renewal; `core::lifecycle`), handing its events to the team's events object, and the outbox
    /// (the listing and, for a deleted key, the index). Then the alarm is set for the earliest
    /// of the next deadline and any retry. Alarms are at least once; each step is idempotent.
    async fn alarm(&self) -> Result<Response> {
        self.load().await?;
        let now = Timestamp::from_millis(Date::now().as_millis() as i64);
        let deadline = self.run_schedule(now)?;
        self.flush_report(now)?;
        let stores = Stores::from_env(&self.env).map_err(|e| worker::Error::RustError(e.0))?;
        let events_retry = self.hand_over_events(&stores, now).await?;
        let outbox_retry = self.run_outbox(&stores).await?;
        let next = [
            deadline.map(|d| (d.millis() - now.millis()).max(0)),
            events_retry,
            outbox_retry,
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(delay) = next {
            self.state.storage().set_alarm(delay).await?;
        }
        Response::ok("done")
    }
}

impl KeyObject {
    /// Brings the listing (and, for a deleted key, the index) up to date. Returns the delay
    /// before trying again, doubling up to an hour, if that failed.
    async fn run_outbox(&self, stores: &Stores) -> Result<Option<i64>> {
        let storage = self.state.storage();
        let sql = self.sql()?;
        let Some(mut outbox) = self.part::<Outbox>(&sql, OUTBOX).await? else {
            return Ok(None);
        };
        let failed = match &outbox.pending {
            Pending::Relist => {
                let current = self
                    .slot
                    .borrow()
                    .as_ref()
                    .and_then(|s| s.as_ref().map(|s| (s.record.clone(), s.revision)));
                match current {
                    Some((record, revision)) => relist(stores, &record, revision).await.err(),
                    None => None,
                }
            }
            Pending::Remove {
                team_id,
                key_id,
                hash,
            } => forget_key(stores, team_id, key_id, hash)
                .await
                .into_iter()
                .next(),
        };
        let sql = self.sql()?;
        match failed {
            None => {
                sql.exec("DELETE FROM parts WHERE name = ?", vec![OUTBOX.into()])?;
                // An outbox written before the table (key-value API) is done too.
                storage.delete(OUTBOX).await?;
                Ok(None)
            }
            Some(e) => {
                let delay = outbox.failed();
                console_error!(
                    "key follow-up failed {} time(s), next try in {} s: {}",
                    outbox.failures,
                    delay / 1000,
                    e.0
                );
                put_part(&sql, OUTBOX, &outbox)?;
                Ok(Some(delay))
            }
        }
    }
}

/// The object's RPC method, `call`: the worker's path to it (`storage::edge`). One JSON call in,
/// one JSON reply out, as the HTTP `fetch` above carries them, without building a request and a
/// response around them on both sides. The runtime offers RPC only to a class that extends its
/// `DurableObject`; `src/entry.mjs` is that class, and hands each call to this one.
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
    js_sys = ::worker::js_sys
)]
impl KeyObject {
    #[wasm_bindgen(js_name = call)]
    pub async fn rpc(&self, call: String) -> std::result::Result<String, JsValue> {
        let call: KeyCall = serde_json::from_str(&call)
            .map_err(|e| JsValue::from_str(&format!("key call: {e}")))?;
        let reply = self.serve(call).await.map_err(JsValue::from)?;
        serde_json::to_string(&reply).map_err(|e| JsValue::from_str(&e.to_string()))
    }
}
