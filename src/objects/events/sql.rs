//! The events object's SQLite tables as a `core::team::webhooks::WebhookStore`: endpoints
//! (`webhooks`), the events kept for delivery (`webhook_events`), what is due (`webhook_queue`,
//! one row per endpoint and event) and the attempts (`webhook_deliveries`).

use crate::core::audit::{AuditQuery, AuditStore, Entry};
use crate::core::events::Event;
use crate::core::ids::WebhookId;
use crate::core::monitoring::{HourRow, MonitorStore, Report};
use crate::core::page::{ListQuery, Page};
use crate::core::store::{StoreError, StoreResult};
use crate::core::team::webhooks::{Delivery, Endpoint, Queued, WebhookStore, DELIVERIES_KEPT};
use crate::core::time::Timestamp;
use crate::objects::sql::{int, json, parse, text, Sql};
use worker::SqlStorageValue as V;

pub const SCHEMA: &str = "
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
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, at_ms INTEGER NOT NULL,
  action TEXT NOT NULL, actor_id TEXT, target_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action, seq);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor_id, seq);
CREATE INDEX IF NOT EXISTS audit_log_target ON audit_log (target_id, seq);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at_ms);
CREATE INDEX IF NOT EXISTS audit_log_project ON audit_log (json_extract(body, '$.project_id'), seq);
CREATE TABLE IF NOT EXISTS usage_hours (
  hour INTEGER NOT NULL, key_id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (hour, key_id));
";

fn queued(row: &[V]) -> StoreResult<Queued> {
    Ok(Queued {
        endpoint_id: WebhookId::parse(text(row, 0)?)
            .ok_or_else(|| StoreError("webhook_queue: a malformed endpoint id".into()))?,
        event_id: text(row, 1)?.to_owned(),
        attempt: int(row, 2)?.clamp(1, i64::from(u32::MAX)) as u32,
        due: Timestamp::from_millis(int(row, 3)?),
    })
}

/// Webhooks: endpoints (`webhooks`), events kept for delivery (`webhook_events`), what is due
/// (`webhook_queue`, one row per endpoint and event) and the attempts (`webhook_deliveries`).
impl WebhookStore for Sql {
    fn endpoint(&self, id: &str) -> StoreResult<Option<Endpoint>> {
        self.by_id("webhooks", id)
    }

    fn put_endpoint(&self, e: &Endpoint) -> StoreResult<()> {
        self.exec(
            "INSERT INTO webhooks (id, body) VALUES (?, ?) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            vec![e.id.as_str().into(), json(e)?.into()],
        )
    }

    fn delete_endpoint(&self, id: &str) -> StoreResult<()> {
        for t in ["webhook_queue", "webhook_deliveries"] {
            self.exec(
                &format!("DELETE FROM {t} WHERE endpoint_id = ?"),
                vec![id.into()],
            )?;
        }
        self.delete_by_id("webhooks", id)
    }

    fn endpoints(&self) -> StoreResult<Vec<Endpoint>> {
        self.rows("SELECT seq, body FROM webhooks ORDER BY seq", vec![])?
            .iter()
            .map(|r| parse(text(r, 1)?))
            .collect()
    }

    fn insert_event(&self, e: &Event) -> StoreResult<bool> {
        let before = self.count_of(
            "SELECT COUNT(*) FROM webhook_events WHERE id = ?",
            vec![e.id.as_str().into()],
        )?;
        if before > 0 {
            return Ok(false);
        }
        self.exec(
            "INSERT INTO webhook_events (id, created_ms, body) VALUES (?, ?, ?)",
            vec![
                e.id.as_str().into(),
                V::from(e.created_at.millis()),
                json(e)?.into(),
            ],
        )?;
        Ok(true)
    }

    fn event(&self, id: &str) -> StoreResult<Option<Event>> {
        self.one(
            "SELECT id, body FROM webhook_events WHERE id = ?",
            vec![id.into()],
        )
    }

    fn prune_events(&self, before: Timestamp) -> StoreResult<()> {
        self.exec(
            "DELETE FROM webhook_events WHERE created_ms < ?",
            vec![V::from(before.millis())],
        )
    }

    fn enqueue(&self, q: &Queued) -> StoreResult<()> {
        self.exec(
            "INSERT INTO webhook_queue (endpoint_id, event_id, attempt, due_ms) VALUES (?, ?, ?, ?) \
             ON CONFLICT (endpoint_id, event_id) DO UPDATE SET attempt = excluded.attempt, due_ms = excluded.due_ms",
            vec![
                q.endpoint_id.as_str().into(),
                q.event_id.as_str().into(),
                V::from(i64::from(q.attempt)),
                V::from(q.due.millis()),
            ],
        )
    }

    fn dequeue(&self, endpoint_id: &str, event_id: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM webhook_queue WHERE endpoint_id = ? AND event_id = ?",
            vec![endpoint_id.into(), event_id.into()],
        )
    }

    fn clear_queue(&self, endpoint_id: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM webhook_queue WHERE endpoint_id = ?",
            vec![endpoint_id.into()],
        )
    }

    fn due(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<Queued>> {
        self.rows(
            "SELECT endpoint_id, event_id, attempt, due_ms FROM webhook_queue \
             WHERE due_ms <= ? ORDER BY due_ms, seq LIMIT ?",
            vec![V::from(now.millis()), V::from(limit as i64)],
        )?
        .iter()
        .map(|r| queued(r))
        .collect()
    }

    fn next_due(&self) -> StoreResult<Option<Timestamp>> {
        let rows = self.rows("SELECT MIN(due_ms) FROM webhook_queue", vec![])?;
        Ok(rows
            .first()
            .and_then(|r| int(r, 0).ok())
            .map(Timestamp::from_millis))
    }

    fn add_delivery(&self, endpoint_id: &str, d: &Delivery) -> StoreResult<()> {
        self.exec(
            "INSERT INTO webhook_deliveries (endpoint_id, body) VALUES (?, ?)",
            vec![endpoint_id.into(), json(d)?.into()],
        )?;
        self.exec(
            "DELETE FROM webhook_deliveries WHERE endpoint_id = ? AND seq NOT IN \
             (SELECT seq FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY seq DESC LIMIT ?)",
            vec![
                endpoint_id.into(),
                endpoint_id.into(),
                V::from(DELIVERIES_KEPT as i64),
            ],
        )
    }

    fn deliveries(&self, endpoint_id: &str, limit: usize) -> StoreResult<Vec<Delivery>> {
        self.rows(
            "SELECT seq, body FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY seq DESC LIMIT ?",
            vec![endpoint_id.into(), V::from(limit as i64)],
        )?
        .iter()
        .map(|r| parse(text(r, 1)?))
        .collect()
    }
}

/// Monitoring: one row per hour and key (`usage_hours`), its `HourRow` as JSON.
impl MonitorStore for Sql {
    fn add_usage(&self, r: &Report) -> StoreResult<()> {
        let old = self.one::<HourRow>(
            "SELECT hour, body FROM usage_hours WHERE hour = ? AND key_id = ?",
            vec![V::from(r.hour), r.key_id.as_str().into()],
        )?;
        let row = HourRow::with_report(old, r);
        self.exec(
            "INSERT OR REPLACE INTO usage_hours (hour, key_id, body) VALUES (?, ?, ?)",
            vec![
                V::from(r.hour),
                r.key_id.as_str().into(),
                json(&row)?.into(),
            ],
        )
    }

    fn usage_since(&self, from_hour: i64) -> StoreResult<Vec<HourRow>> {
        self.rows(
            "SELECT hour, body FROM usage_hours WHERE hour >= ?",
            vec![V::from(from_hour)],
        )?
        .iter()
        .map(|r| parse(text(r, 1)?))
        .collect()
    }

    fn prune_usage(&self, before_hour: i64) -> StoreResult<()> {
        self.exec(
            "DELETE FROM usage_hours WHERE hour < ?",
            vec![V::from(before_hour)],
        )
    }
}

/// The expression of the `audit_log_project` index (a query must name it exactly to use it).
const PROJECT_OF_ENTRY: &str = "json_extract(body, '$.project_id')";

/// The audit log (`audit_log`): newest first on `seq`, each filter with an index ending in `seq`.
impl AuditStore for Sql {
    fn insert_entry(&self, e: &Entry) -> StoreResult<()> {
        self.exec(
            "INSERT OR IGNORE INTO audit_log (id, at_ms, action, actor_id, target_id, body) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                e.id.as_str().into(),
                V::from(e.at.millis()),
                e.action.as_str().into(),
                e.actor.id.as_deref().map_or(V::Null, V::from),
                e.target.id.as_str().into(),
                json(e)?.into(),
            ],
        )
    }

    fn entries(&self, q: &AuditQuery) -> StoreResult<Page<Entry>> {
        let list = ListQuery {
            limit: q.limit,
            cursor: q.cursor,
            environment: None,
            project_id: None,
            idle_cutoff: None,
        };
        // The project is read from the entry's body, through an index on that expression:
        // entries stored before they had a project need no migration (theirs is NULL, which
        // equals nothing: team-wide, as `audit::visible` says).
        let filters = [
            ("action", q.action.as_deref()),
            ("actor_id", q.actor_id.as_deref()),
            ("target_id", q.target_id.as_deref()),
            (PROJECT_OF_ENTRY, q.project_id.as_deref()),
        ];
        self.page("audit_log", &filters, &list)
    }

    fn prune_entries(&self, before: Timestamp) -> StoreResult<()> {
        self.exec(
            "DELETE FROM audit_log WHERE at_ms < ?",
            vec![V::from(before.millis())],
        )
    }

    fn entry_span(&self) -> StoreResult<i64> {
        // Two reads of the primary key: no scan of the log.
        self.count_of(
            "SELECT COALESCE(MAX(seq) - MIN(seq) + 1, 0) AS n FROM audit_log",
            vec![],
        )
    }
}
