//! The events object: one per team. It keeps the team's webhook
//! endpoints, the events queued for them (handed over by key objects and the team object) and
//! the log of delivery attempts, in SQLite tables (`sql.rs`), and delivers from its alarm
//! (`deliver.rs`). Every rule is `core::team::webhooks`; this file loads, calls, persists,
//! answers.
//!
//! Delivery is a Durable Object alarm rather than a Cloudflare Queue: the outbox must be written
//! in the same transaction as what queues it (an event taken, a retry asked for), per team and
//! in order, with per-endpoint retry times from seconds to a day; the object's own SQLite table
//! and alarm give exactly that, where a queue would be a second store to keep in step (and has
//! no per-message delay beyond 12 hours).

mod deliver;
mod sql;

use crate::core::audit::{past_alert_mark, record_entries};
use crate::core::random::{OsRandom, Random};
use crate::core::team::webhooks::{finish, take_due, Outgoing, WebhookStore};
use crate::core::time::Timestamp;
use crate::objects::sql::Sql;
use crate::storage::events_protocol::{audit_spec, events_dispatch, AuditedEventsCall, EventsCall};
use std::cell::Cell;
use worker::wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::{
    console_error, durable_object, Date, DurableObject, Env, Request, Response, Result, State,
};

#[durable_object]
pub struct EventsObject {
    state: State,
    schema_ready: Cell<bool>,
}

fn now() -> Timestamp {
    Timestamp::from_millis(Date::now().as_millis() as i64)
}

fn store_error(e: impl std::fmt::Debug) -> worker::Error {
    worker::Error::RustError(format!("{e:?}"))
}

impl DurableObject for EventsObject {
    fn new(state: State, _env: Env) -> Self {
        EventsObject {
            state,
            schema_ready: Cell::new(false),
        }
    }

    /// The object is called over RPC only (`call`, below).
    async fn fetch(&self, _req: Request) -> Result<Response> {
        Response::error("the events object is called over RPC (`call`)", 400)
    }

    /// Delivers what is due (a batch at a time: each endpoint's in order, the endpoints
    /// concurrently, each attempt within 10 s), records how
    /// each went, and sets the alarm for what is due next. Alarms are at least once: an attempt
    /// whose result was not recorded is made again, which receivers absorb by `webhook-id`.
    async fn alarm(&self) -> Result<Response> {
        let db = self.db()?;
        let outgoing = take_due(&db, now()).map_err(store_error)?;
        let sent_at = now();
        // One endpoint's deliveries one after another, in the order the events happened; the
        // endpoints side by side.
        let mut by_endpoint: Vec<Vec<&Outgoing>> = Vec::new();
        for o in &outgoing {
            match by_endpoint
                .iter_mut()
                .find(|g| g[0].endpoint_id == o.endpoint_id)
            {
                Some(g) => g.push(o),
                None => by_endpoint.push(vec![o]),
            }
        }
        let done =
            futures_util::future::join_all(by_endpoint.into_iter().map(|group| async move {
                let mut results = Vec::with_capacity(group.len());
                for o in group {
                    results.push((o, deliver::attempt(o, sent_at).await));
                }
                results
            }))
            .await;
        for (o, result) in done.into_iter().flatten() {
            let mut b = [0u8; 2];
            OsRandom.fill(&mut b);
            let jitter = f64::from(u16::from_le_bytes(b)) / 65_536.0;
            if let Err(e) = finish(&db, o, result, now(), jitter) {
                console_error!("recording a webhook delivery failed: {:?}", e);
            }
        }
        if let Some(delay) = next_delay(&db)? {
            self.state.storage().set_alarm(delay).await?;
        }
        Response::ok("delivered")
    }
}

/// How long until the next delivery is due (none queued: `None`).
fn next_delay(db: &Sql) -> Result<Option<i64>> {
    let due = db.next_due().map_err(store_error)?;
    Ok(due.map(|d| (d.millis() - now().millis()).max(0)))
}

impl EventsObject {
    fn db(&self) -> Result<Sql> {
        let db = Sql(self.state.storage().sql());
        if !self.schema_ready.get() {
            db.0.exec(sql::SCHEMA, None)?;
            self.schema_ready.set(true);
        }
        Ok(db)
    }

    /// One call, run and answered. A call that queued deliveries sets the alarm that sends
    /// them: held by `wait_until` rather than awaited, so the rules stay a plain function (a
    /// future around them costs ~25 KB of wasm).
    fn serve(&self, text: &str) -> Result<String> {
        let parse_error = |e: serde_json::Error| worker::Error::RustError(e.to_string());
        let (origin, call) = if text.starts_with(r#"{"origin""#) {
            let a: AuditedEventsCall = serde_json::from_str(text).map_err(parse_error)?;
            (Some(a.origin), a.call)
        } else {
            (
                None,
                serde_json::from_str::<EventsCall>(text).map_err(parse_error)?,
            )
        };
        let db = self.db()?;
        let wakes = call.queues_deliveries();
        let audit = origin.and_then(|o| audit_spec(&call).map(|spec| (o, spec)));
        let records = matches!(call, EventsCall::RecordEvents(_));
        let answer = events_dispatch(&db, call).map_err(|e| worker::Error::RustError(e.0))?;
        // Entries younger than 90 days are never evicted to make room: a log past its alert
        // mark is reported instead (docs/architecture.md, "The audit log").
        if records && past_alert_mark(&db).map_err(store_error)? {
            console_error!(
                "audit log past its alert mark of {} entries: nothing younger than 90 days is evicted",
                crate::core::audit::MAX_ENTRIES
            );
        }
        // A webhook change's audit entry, in the same transaction (this object keeps the log).
        if let Some((origin, spec)) = audit {
            let accepted = answer.starts_with(r#"{"Ok""#);
            if let Some(e) = spec.entry(&origin, accepted, now(), &mut OsRandom) {
                record_entries(&db, &[e], now()).map_err(store_error)?;
            }
        }
        if wakes {
            if let Some(delay) = next_delay(&db)? {
                let storage = self.state.storage();
                self.state.wait_until(async move {
                    if let Err(e) = storage.set_alarm(delay).await {
                        console_error!("setting the delivery alarm failed: {e}");
                    }
                });
            }
        }
        Ok(answer)
    }
}

/// The object's RPC method, `call`, as for the other objects (see `src/entry/rpc.mjs`).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
impl EventsObject {
    #[wasm_bindgen(js_name = call)]
    pub fn rpc(&self, call: String) -> std::result::Result<String, JsValue> {
        self.serve(&call)
            .map_err(|e| JsValue::from_str(&e.to_string()))
    }
}
