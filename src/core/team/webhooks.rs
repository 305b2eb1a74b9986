//! A team's webhooks: its endpoints, the events queued for them, and what each delivery attempt
//! did. Rules over [`WebhookStore`], atomic in the team object like every team rule; the
//! sending itself (a `fetch` with a timeout) happens between [`take_due`] and [`finish`], and
//! every decision about its result (`core::webhooks::outcome`, the retry schedule, disabling)
//! is made in [`finish`].

use super::{refuse, TeamRefusal, TeamResult};
use crate::core::audit::AUDIT_EVENT;
use crate::core::events::Event;
use crate::core::ids::WebhookId;
use crate::core::limits::{Counted, LimitReached};
use crate::core::store::StoreResult;
use crate::core::time::Timestamp;
use crate::core::webhooks::ROTATION_OVERLAP_MS;
use crate::core::webhooks::{failing_too_long, outcome, retry_delay, subscribed, Outcome};
use serde::{Deserialize, Serialize};

/// An endpoint as the team object stores it. Its secrets never leave the object except to sign,
/// and once, in the answer that made them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why the service disabled it (`"gone"`: it answered 410; `"failing"`: 5 days of failures).
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub secret: String,
    /// The secret before the last rotation, and until when it still signs.
    pub previous_secret: Option<(String, Timestamp)>,
    /// Since when every delivery has failed.
    pub failing_since: Option<Timestamp>,
}

/// The `Webhook` object of the contract: an endpoint without its secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Endpoint {
    pub fn view(&self) -> EndpointView {
        EndpointView {
            id: self.id.clone(),
            url: self.url.clone(),
            events: self.events.clone(),
            description: self.description.clone(),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The secrets that sign at `now`: the current one, and the previous one for 24 h after a
    /// rotation.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<String> {
        let mut out = vec![self.secret.clone()];
        if let Some((old, until)) = &self.previous_secret {
            if *until > now {
                out.push(old.clone());
            }
        }
        out
    }
}

/// A change to an endpoint (each field `None` when not given; validated by `core::input`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// An event waiting for one endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    pub endpoint_id: WebhookId,
    pub event_id: String,
    /// The attempt this will be (1 for the first).
    pub attempt: u32,
    pub due: Timestamp,
}

/// One attempt, as `GET /v1/webhooks/{id}/deliveries` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub attempt: u32,
    /// The endpoint's status code, if it answered.
    pub status: Option<u16>,
    /// What went wrong when it did not answer (timeout, network error), in words.
    pub error: Option<String>,
    pub duration_ms: u32,
    pub at: Timestamp,
}

/// A delivery to make now: where, signed with what, and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    pub endpoint_id: WebhookId,
    pub url: String,
    pub secrets: Vec<String>,
    pub event: Event,
    pub attempt: u32,
}

/// How one attempt went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptResult {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u32,
}

/// Events are kept this long (every retry fits in it, with room for a manual one).
pub const EVENT_RETENTION_MS: i64 = 7 * 86_400_000;
/// The deliveries shown per endpoint (older attempts are dropped).
pub const DELIVERIES_KEPT: usize = 100;
/// Deliveries sent by one run of the object's alarm (the rest come in the next run).
pub const BATCH: usize = 20;

/// A team's webhook storage (its events object). Same contract as `TeamStore`: every call answers at once.
pub trait WebhookStore {
    fn endpoint(&self, id: &str) -> StoreResult<Option<Endpoint>>;
    fn put_endpoint(&self, endpoint: &Endpoint) -> StoreResult<()>;
    /// Removes the endpoint, its queue and its deliveries.
    fn delete_endpoint(&self, id: &str) -> StoreResult<()>;
    /// Oldest first.
    fn endpoints(&self) -> StoreResult<Vec<Endpoint>>;

    /// Stores the event; `false` if one with its id is already stored.
    fn insert_event(&self, event: &Event) -> StoreResult<bool>;
    fn event(&self, id: &str) -> StoreResult<Option<Event>>;
    /// Removes the events made before `before`.
    fn prune_events(&self, before: Timestamp) -> StoreResult<()>;

    /// Adds or replaces the entry for (endpoint, event).
    fn enqueue(&self, q: &Queued) -> StoreResult<()>;
    fn dequeue(&self, endpoint_id: &str, event_id: &str) -> StoreResult<()>;
    fn clear_queue(&self, endpoint_id: &str) -> StoreResult<()>;
    /// Entries due at `now`, earliest first (by due time, then by when they were queued).
    fn due(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<Queued>>;
    fn next_due(&self) -> StoreResult<Option<Timestamp>>;

    /// Records an attempt, keeping the newest [`DELIVERIES_KEPT`] of the endpoint.
    fn add_delivery(&self, endpoint_id: &str, d: &Delivery) -> StoreResult<()>;
    /// Newest first.
    fn deliveries(&self, endpoint_id: &str, limit: usize) -> StoreResult<Vec<Delivery>>;
}

fn endpoint_of(s: &impl WebhookStore, id: &str) -> TeamResult<Endpoint> {
    s.endpoint(id)?
        .ok_or(super::TeamError::Refused(TeamRefusal::WebhookNotFound))
}

/// Adds an endpoint, if the team has room for it (`max_webhooks`, its limit).
pub fn create_endpoint(
    s: &impl WebhookStore,
    endpoint: Endpoint,
    max_webhooks: u32,
) -> TeamResult<Endpoint> {
    if s.endpoints()?.len() >= max_webhooks as usize {
        return refuse(TeamRefusal::LimitReached(LimitReached {
            what: Counted::Webhooks,
            limit: max_webhooks,
        }));
    }
    s.put_endpoint(&endpoint)?;
    Ok(endpoint)
}

pub fn list_endpoints(s: &impl WebhookStore) -> TeamResult<Vec<EndpointView>> {
    Ok(s.endpoints()?.iter().map(Endpoint::view).collect())
}

pub fn get_endpoint(s: &impl WebhookStore, id: &str) -> TeamResult<EndpointView> {
    Ok(endpoint_of(s, id)?.view())
}

/// Applies a change. Enabling an endpoint the service disabled starts it afresh.
pub fn update_endpoint(
    s: &impl WebhookStore,
    id: &str,
    patch: EndpointPatch,
    now: Timestamp,
) -> TeamResult<EndpointView> {
    let mut e = endpoint_of(s, id)?;
    if let Some(url) = patch.url {
        e.url = url;
    }
    if let Some(events) = patch.events {
        e.events = events;
    }
    if let Some(d) = patch.description {
        e.description = d;
    }
    if let Some(enabled) = patch.enabled {
        if enabled && !e.enabled {
            e.disabled_reason = None;
            e.failing_since = None;
        }
        if !enabled {
            s.clear_queue(id)?;
        }
        e.enabled = enabled;
    }
    e.updated_at = now;
    s.put_endpoint(&e)?;
    Ok(e.view())
}

pub fn delete_endpoint(s: &impl WebhookStore, id: &str) -> TeamResult<()> {
    endpoint_of(s, id)?;
    Ok(s.delete_endpoint(id)?)
}

/// A new secret; the old one keeps signing for 24 hours beside it.
pub fn rotate_secret(
    s: &impl WebhookStore,
    id: &str,
    secret: String,
    now: Timestamp,
) -> TeamResult<Endpoint> {
    let mut e = endpoint_of(s, id)?;
    let until = Timestamp::from_millis(now.millis() + ROTATION_OVERLAP_MS);
    e.previous_secret = Some((std::mem::replace(&mut e.secret, secret), until));
    e.updated_at = now;
    s.put_endpoint(&e)?;
    Ok(e)
}

/// Queues each new event (by id) for every enabled endpoint that subscribes to it. An event no
/// endpoint wants is not kept.
pub fn record_events(s: &impl WebhookStore, events: &[Event], now: Timestamp) -> TeamResult<()> {
    let endpoints = s.endpoints()?;
    for event in events {
        let wanted: Vec<&Endpoint> = endpoints
            .iter()
            .filter(|e| e.enabled && subscribed(&e.events, &event.kind))
            // A test goes only where it is sent; an audit entry is never a webhook.
            .filter(|_| event.kind != "webhook.test" && event.kind != AUDIT_EVENT)
            .collect();
        if wanted.is_empty() || !s.insert_event(event)? {
            continue;
        }
        for e in wanted {
            s.enqueue(&Queued {
                endpoint_id: e.id.clone(),
                event_id: event.id.clone(),
                attempt: 1,
                due: now,
            })?;
        }
    }
    s.prune_events(Timestamp::from_millis(now.millis() - EVENT_RETENTION_MS))?;
    Ok(())
}

/// `webhook.test`, for this endpoint only (enabled or not: a test is how one checks it).
pub fn send_test(
    s: &impl WebhookStore,
    id: &str,
    event: Event,
    now: Timestamp,
) -> TeamResult<String> {
    let e = endpoint_of(s, id)?;
    s.insert_event(&event)?;
    s.enqueue(&Queued {
        endpoint_id: e.id,
        event_id: event.id.clone(),
        attempt: 1,
        due: now,
    })?;
    Ok(event.id)
}

/// Sends a kept event to the endpoint again, now.
pub fn retry(s: &impl WebhookStore, id: &str, event_id: &str, now: Timestamp) -> TeamResult<()> {
    let e = endpoint_of(s, id)?;
    if s.event(event_id)?.is_none() {
        return refuse(TeamRefusal::EventNotFound);
    }
    s.enqueue(&Queued {
        endpoint_id: e.id,
        event_id: event_id.into(),
        attempt: 1,
        due: now,
    })?;
    Ok(())
}

pub fn deliveries(s: &impl WebhookStore, id: &str, limit: usize) -> TeamResult<Vec<Delivery>> {
    endpoint_of(s, id)?;
    Ok(s.deliveries(id, limit)?)
}

/// The deliveries due now (at most [`BATCH`]), with what signing them needs. Entries whose
/// endpoint or event is gone, or whose endpoint is disabled (a test excepted), are dropped.
pub fn take_due(s: &impl WebhookStore, now: Timestamp) -> TeamResult<Vec<Outgoing>> {
    let mut out = Vec::new();
    for q in s.due(now, BATCH)? {
        let event = s.event(&q.event_id)?;
        // A disabled endpoint gets nothing but a test (which is how one checks it).
        let is_test = event.as_ref().is_some_and(|e| e.kind == "webhook.test");
        let endpoint = s.endpoint(&q.endpoint_id)?.filter(|e| e.enabled || is_test);
        match (endpoint, event) {
            (Some(e), Some(event)) => out.push(Outgoing {
                endpoint_id: e.id.clone(),
                url: e.url.clone(),
                secrets: e.signing_secrets(now),
                event,
                attempt: q.attempt,
            }),
            _ => s.dequeue(&q.endpoint_id, &q.event_id)?,
        }
    }
    Ok(out)
}

/// Records how an attempt went and decides what follows: done, a retry on the schedule
/// (`jitter` in [0, 1)), or the endpoint disabled (`410`, or failing for 5 days).
pub fn finish(
    s: &impl WebhookStore,
    sent: &Outgoing,
    result: AttemptResult,
    now: Timestamp,
    jitter: f64,
) -> TeamResult<()> {
    let Some(mut e) = s.endpoint(&sent.endpoint_id)? else {
        return Ok(());
    };
    s.add_delivery(
        &e.id,
        &Delivery {
            event_id: sent.event.id.clone(),
            kind: sent.event.kind.clone(),
            attempt: sent.attempt,
            status: result.status,
            error: result.error,
            duration_ms: result.duration_ms,
            at: now,
        },
    )?;
    s.dequeue(&e.id, &sent.event.id)?;
    match outcome(result.status) {
        Outcome::Delivered => {
            if e.failing_since.take().is_some() {
                s.put_endpoint(&e)?;
            }
        }
        Outcome::Gone => disable(s, &mut e, "gone", now)?,
        Outcome::Retry => {
            let since = *e.failing_since.get_or_insert(now);
            if failing_too_long(Some(since.millis()), now.millis()) {
                return disable(s, &mut e, "failing", now);
            }
            s.put_endpoint(&e)?;
            if let Some(delay) = retry_delay(sent.attempt as usize, jitter) {
                s.enqueue(&Queued {
                    endpoint_id: e.id.clone(),
                    event_id: sent.event.id.clone(),
                    attempt: sent.attempt + 1,
                    due: Timestamp::from_millis(now.millis() + delay),
                })?;
            }
        }
    }
    Ok(())
}

fn disable(
    s: &impl WebhookStore,
    e: &mut Endpoint,
    reason: &str,
    now: Timestamp,
) -> TeamResult<()> {
    e.enabled = false;
    e.disabled_reason = Some(reason.into());
    e.updated_at = now;
    s.put_endpoint(e)?;
    Ok(s.clear_queue(&e.id)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::events::event;
    use crate::core::team::memory::MemoryTeam;

    const T0: i64 = 1_800_000_000_000;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(T0 + ms)
    }

    fn team() -> MemoryTeam {
        MemoryTeam::default()
    }

    fn create_endpoint(s: &MemoryTeam, e: Endpoint) -> TeamResult<Endpoint> {
        super::create_endpoint(s, e, 2)
    }

    fn endpoint(id: &str, events: &[&str]) -> Endpoint {
        Endpoint {
            id: id.into(),
            url: format!("https://example.com/{id}"),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            description: None,
            enabled: true,
            disabled_reason: None,
            created_at: at(0),
            updated_at: at(0),
            secret: format!("whsec_{id}"),
            previous_secret: None,
            failing_since: None,
        }
    }

    fn ev(id: &str, kind: &str) -> Event {
        event(id.into(), kind, "team_1", &serde_json::json!({}), at(0))
    }

    fn answered(status: u16) -> AttemptResult {
        AttemptResult {
            status: Some(status),
            error: None,
            duration_ms: 3,
        }
    }

    #[test]
    fn events_go_once_to_the_enabled_endpoints_that_want_them() {
        let s = team();
        create_endpoint(&s, endpoint("wh_a", &["*"])).unwrap();
        create_endpoint(&s, endpoint("wh_b", &["api_key.deleted"])).unwrap();
        assert_eq!(
            create_endpoint(&s, endpoint("wh_c", &["*"])).map(|_| ()),
            Err(crate::core::team::TeamError::Refused(
                TeamRefusal::LimitReached(crate::core::limits::LimitReached {
                    what: Counted::Webhooks,
                    limit: 2
                })
            )),
            "the team's limit"
        );
        let batch = [
            ev("evt_1", "api_key.created"),
            ev("evt_2", "api_key.deleted"),
        ];
        record_events(&s, &batch, at(0)).unwrap();
        record_events(&s, &batch, at(1)).unwrap();
        let due: Vec<(String, String)> = s
            .due(at(1), 10)
            .unwrap()
            .into_iter()
            .map(|q| (q.endpoint_id.to_string(), q.event_id))
            .collect();
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
        };
        assert_eq!(
            due,
            pairs(&[("wh_a", "evt_1"), ("wh_a", "evt_2"), ("wh_b", "evt_2")]),
            "each event once, per subscription, in order"
        );
        // An event nobody wants is not kept; a test goes only where it is sent.
        update_endpoint(
            &s,
            "wh_a",
            EndpointPatch {
                enabled: Some(false),
                ..Default::default()
            },
            at(2),
        )
        .unwrap();
        assert_eq!(
            s.due(at(3), 10).unwrap().len(),
            1,
            "disabling drops its queue"
        );
        record_events(&s, &[ev("evt_3", "api_key.created")], at(3)).unwrap();
        assert!(s.event("evt_3").unwrap().is_none());

        send_test(&s, "wh_a", ev("evt_t", "webhook.test"), at(4)).unwrap();
        assert!(
            take_due(&s, at(4))
                .unwrap()
                .iter()
                .any(|o| o.event.id == "evt_t"),
            "a test reaches a disabled endpoint (it is how one checks it)"
        );
    }

    #[test]
    fn failures_retry_on_the_schedule_and_410_disables() {
        let s = team();
        create_endpoint(&s, endpoint("wh_a", &["*"])).unwrap();
        record_events(&s, &[ev("evt_1", "api_key.created")], at(0)).unwrap();
        let sent = take_due(&s, at(0)).unwrap().remove(0);
        assert_eq!(
            (sent.attempt, sent.secrets.clone()),
            (1, vec!["whsec_wh_a".to_owned()])
        );
        finish(&s, &sent, answered(500), at(10), 0.5).unwrap();
        let next = s.due(at(1_000_000), 10).unwrap().remove(0);
        assert_eq!(
            (next.attempt, next.due),
            (2, at(10 + 5_000)),
            "about 5 s later"
        );
        assert!(
            take_due(&s, at(100)).unwrap().is_empty(),
            "not before it is due"
        );
        let again = take_due(&s, at(5_010)).unwrap().remove(0);
        finish(&s, &again, answered(204), at(5_020), 0.5).unwrap();
        assert_eq!(s.next_due().unwrap(), None);
        assert_eq!(s.endpoint("wh_a").unwrap().unwrap().failing_since, None);
        let log = deliveries(&s, "wh_a", 10).unwrap();
        assert_eq!(
            log.iter()
                .map(|d| (d.attempt, d.status))
                .collect::<Vec<_>>(),
            [(2, Some(204)), (1, Some(500))]
        );
        // 410: disabled at once.
        record_events(
            &s,
            &[
                ev("evt_2", "api_key.created"),
                ev("evt_3", "api_key.created"),
            ],
            at(6_000),
        )
        .unwrap();
        let sent = take_due(&s, at(6_000)).unwrap().remove(0);
        finish(&s, &sent, answered(410), at(6_001), 0.5).unwrap();
        let e = s.endpoint("wh_a").unwrap().unwrap();
        assert_eq!(
            (e.enabled, e.disabled_reason.as_deref()),
            (false, Some("gone"))
        );
        assert_eq!(s.next_due().unwrap(), None, "its queue is dropped");
        // Manual retry of a kept event; unknown events are 404.
        update_endpoint(
            &s,
            "wh_a",
            EndpointPatch {
                enabled: Some(true),
                ..Default::default()
            },
            at(7_000),
        )
        .unwrap();
        retry(&s, "wh_a", "evt_2", at(7_000)).unwrap();
        assert_eq!(take_due(&s, at(7_000)).unwrap()[0].event.id, "evt_2");
        assert!(retry(&s, "wh_a", "evt_nope", at(7_000)).is_err());
    }

    #[test]
    fn an_endpoint_failing_for_five_days_is_disabled_and_the_last_retry_drops_the_event() {
        let s = team();
        create_endpoint(&s, endpoint("wh_a", &["*"])).unwrap();
        record_events(&s, &[ev("evt_1", "api_key.created")], at(0)).unwrap();
        let mut sent = take_due(&s, at(0)).unwrap().remove(0);
        sent.attempt = 10; // the last retry was used
        finish(
            &s,
            &sent,
            AttemptResult {
                status: None,
                error: Some("timeout".into()),
                duration_ms: 10_000,
            },
            at(1),
            0.0,
        )
        .unwrap();
        assert_eq!(s.next_due().unwrap(), None, "dropped after the last retry");
        assert!(s.endpoint("wh_a").unwrap().unwrap().enabled);
        record_events(&s, &[ev("evt_2", "api_key.created")], at(2)).unwrap();
        let sent = take_due(&s, at(2)).unwrap().remove(0);
        finish(&s, &sent, answered(503), at(5 * 86_400_000 + 1), 0.0).unwrap();
        let e = s.endpoint("wh_a").unwrap().unwrap();
        assert_eq!(
            (e.enabled, e.disabled_reason.as_deref()),
            (false, Some("failing"))
        );
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_new_one_for_a_day() {
        let s = team();
        create_endpoint(&s, endpoint("wh_a", &["*"])).unwrap();
        // An endpoint for "*" never receives an audit entry.
        record_events(&s, &[ev("aud_1", AUDIT_EVENT)], at(0)).unwrap();
        assert_eq!(
            s.next_due().unwrap(),
            None,
            "an audit entry is never delivered"
        );
        let e = rotate_secret(&s, "wh_a", "whsec_new".into(), at(0)).unwrap();
        assert_eq!(e.signing_secrets(at(1)), ["whsec_new", "whsec_wh_a"]);
        assert_eq!(e.signing_secrets(at(86_400_000)), ["whsec_new"]);
        assert!(
            !format!("{:?}", e.view()).contains("whsec"),
            "a view has no secret"
        );
    }
}
