//! The events object's protocol (see `storage::calls`): a team's webhooks, the events queued
//! for them, and their deliveries, with the rules in `core::team::webhooks`. Pure: no Workers
//! type.

use crate::core::audit::{self, AuditQuery, AuditStore, Entry, Origin, Target};
use crate::core::events::Event;
use crate::core::ids::{ProjectId, WebhookId};
use crate::core::monitoring::{self, MonitorStore, Monitoring, Report};
use crate::core::page::Page;
use crate::core::team::webhooks::{self as hooks, Delivery, Endpoint, EndpointPatch};
use crate::core::team::webhooks::{EndpointView, WebhookStore};
use crate::core::time::Timestamp;
use crate::storage::calls::object_calls;
use crate::storage::team_protocol::AuditSpec;
use serde_json::json;

object_calls! {
    trait EventsRequest; enum EventsCall; fn events_dispatch(store: &(impl WebhookStore + MonitorStore + AuditStore));

    /// Events made elsewhere (a key's object, the team's object): queued for the endpoints
    /// that want them, each event id once.
    RecordEvents { events: Vec<Event>, now: Timestamp } -> () = |s, q| {
        hooks::record_events(s, &q.events, q.now)
            .and_then(|()| audit::record_entries(s, &q.events, q.now))
    };
    /// `project_id`: the caller's project (`None`: a team-wide caller, who sees every entry).
    AuditLog { query: AuditQuery, project_id: Option<ProjectId> } -> Page<Entry> =
        |s, q| audit::list(s, &q.query, q.project_id.as_ref());
    /// `max_webhooks`: the team's limit, from its team object.
    CreateWebhook { endpoint: Endpoint, max_webhooks: u32 } -> EndpointView =
        |s, q| hooks::create_endpoint(s, q.endpoint, q.max_webhooks).map(|e| e.view());
    ListWebhooks {} -> Vec<EndpointView> = |s, _q| hooks::list_endpoints(s);
    GetWebhook { id: WebhookId } -> EndpointView = |s, q| hooks::get_endpoint(s, &q.id);
    UpdateWebhook { id: WebhookId, patch: EndpointPatch, now: Timestamp } -> EndpointView =
        |s, q| hooks::update_endpoint(s, &q.id, q.patch, q.now);
    DeleteWebhook { id: WebhookId } -> () = |s, q| hooks::delete_endpoint(s, &q.id);
    /// The new secret comes from the caller (shown once, in its answer).
    RotateWebhookSecret { id: WebhookId, secret: String, now: Timestamp } -> EndpointView =
        |s, q| hooks::rotate_secret(s, &q.id, q.secret, q.now).map(|e| e.view());
    TestWebhook { id: WebhookId, event: Event, now: Timestamp } -> String =
        |s, q| hooks::send_test(s, &q.id, q.event, q.now);
    RetryDelivery { id: WebhookId, event_id: String, now: Timestamp } -> () =
        |s, q| hooks::retry(s, &q.id, &q.event_id, q.now);
    ListDeliveries { id: WebhookId, limit: usize } -> Vec<Delivery> =
        |s, q| hooks::deliveries(s, &q.id, q.limit);
    /// Keys' hourly tallies, for the team's monitoring.
    ReportUsage { reports: Vec<Report>, now: Timestamp } -> () =
        |s, q| monitoring::record_reports(s, &q.reports, q.now);
    /// `project_id`: the caller's project (`None`: team-wide); `keys_expiring_30d` is counted
    /// for the same caller.
    Monitor { keys_expiring_30d: u64, project_id: Option<ProjectId>, now: Timestamp } -> Monitoring =
        |s, q| monitoring::monitor(s, q.keys_expiring_30d, q.project_id.as_ref(), q.now);
}

impl EventsCall {
    /// Does this call queue deliveries (so the object must set its alarm)?
    pub fn queues_deliveries(&self) -> bool {
        matches!(
            self,
            EventsCall::RecordEvents(_) | EventsCall::TestWebhook(_) | EventsCall::RetryDelivery(_)
        )
    }
}

/// An events call that changes something, made through the API, with its origin: the events
/// object writes its audit entry in the same transaction.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AuditedEventsCall {
    pub origin: Origin,
    pub call: EventsCall,
}

/// The audit entry an events call records (webhook changes), if it is a change.
pub fn audit_spec(call: &EventsCall) -> Option<AuditSpec> {
    let hook = |id: &str| Target {
        kind: "webhook".into(),
        id: id.to_owned(),
    };
    let (action, target, changes) = match call {
        EventsCall::CreateWebhook(q) => (
            "webhook.created",
            hook(&q.endpoint.id),
            Some(json!({"url": q.endpoint.url, "events": q.endpoint.events})),
        ),
        EventsCall::UpdateWebhook(q) => {
            // Only the fields the patch gave (a description set to `null` is one).
            let p = &q.patch;
            let mut set = serde_json::Map::new();
            if let Some(url) = &p.url {
                set.insert("url".into(), json!(url));
            }
            if let Some(events) = &p.events {
                set.insert("events".into(), json!(events));
            }
            if let Some(description) = &p.description {
                set.insert("description".into(), json!(description));
            }
            if let Some(enabled) = p.enabled {
                set.insert("enabled".into(), json!(enabled));
            }
            ("webhook.updated", hook(&q.id), Some(set.into()))
        }
        EventsCall::DeleteWebhook(q) => ("webhook.deleted", hook(&q.id), None),
        // The new secret is never in the entry: only that it changed.
        EventsCall::RotateWebhookSecret(q) => ("webhook.secret_rotated", hook(&q.id), None),
        _ => return None,
    };
    Some(AuditSpec {
        action,
        refused_action: None,
        target,
        changes,
    })
}
