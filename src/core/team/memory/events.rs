//! The in-memory stores of what a team's events and audit need: webhooks, monitoring, audit
//! entries and portal links.

use super::*;

impl WebhookStore for MemoryTeam {
    fn endpoint(&self, id: &str) -> StoreResult<Option<Endpoint>> {
        self.with(|s| s.endpoints.iter().find(|e| e.id.as_str() == id).cloned())
    }

    fn put_endpoint(&self, endpoint: &Endpoint) -> StoreResult<()> {
        self.with(
            |s| match s.endpoints.iter_mut().find(|e| e.id == endpoint.id) {
                Some(slot) => *slot = endpoint.clone(),
                None => s.endpoints.push(endpoint.clone()),
            },
        )
    }

    fn delete_endpoint(&self, id: &str) -> StoreResult<()> {
        self.with(|s| {
            s.endpoints.retain(|e| e.id.as_str() != id);
            s.queue.retain(|q| q.endpoint_id.as_str() != id);
            s.deliveries.retain(|(e, _)| e != id);
        })
    }

    fn endpoints(&self) -> StoreResult<Vec<Endpoint>> {
        self.with(|s| s.endpoints.clone())
    }

    fn insert_event(&self, event: &Event) -> StoreResult<bool> {
        self.with(|s| {
            let new = !s.events.iter().any(|e| e.id == event.id);
            if new {
                s.events.push(event.clone());
            }
            new
        })
    }

    fn event(&self, id: &str) -> StoreResult<Option<Event>> {
        self.with(|s| s.events.iter().find(|e| e.id == id).cloned())
    }

    fn prune_events(&self, before: Timestamp) -> StoreResult<()> {
        self.with(|s| s.events.retain(|e| e.created_at >= before))
    }

    fn enqueue(&self, q: &Queued) -> StoreResult<()> {
        self.with(|s| {
            s.queue
                .retain(|o| !(o.endpoint_id == q.endpoint_id && o.event_id == q.event_id));
            s.queue.push(q.clone());
        })
    }

    fn dequeue(&self, endpoint_id: &str, event_id: &str) -> StoreResult<()> {
        self.with(|s| {
            s.queue
                .retain(|o| !(o.endpoint_id.as_str() == endpoint_id && o.event_id == event_id))
        })
    }

    fn clear_queue(&self, endpoint_id: &str) -> StoreResult<()> {
        self.with(|s| s.queue.retain(|o| o.endpoint_id.as_str() != endpoint_id))
    }

    fn due(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<Queued>> {
        self.with(|s| {
            let mut due: Vec<Queued> = s.queue.iter().filter(|q| q.due <= now).cloned().collect();
            // Stable: entries due at the same time stay in the order queued.
            due.sort_by_key(|q| q.due);
            due.truncate(limit);
            due
        })
    }

    fn next_due(&self) -> StoreResult<Option<Timestamp>> {
        self.with(|s| s.queue.iter().map(|q| q.due).min())
    }

    fn add_delivery(&self, endpoint_id: &str, d: &Delivery) -> StoreResult<()> {
        self.with(|s| {
            s.deliveries.push((endpoint_id.to_owned(), d.clone()));
            let of_endpoint = s
                .deliveries
                .iter()
                .filter(|(e, _)| e == endpoint_id)
                .count();
            if of_endpoint > DELIVERIES_KEPT {
                if let Some(i) = s.deliveries.iter().position(|(e, _)| e == endpoint_id) {
                    s.deliveries.remove(i);
                }
            }
        })
    }

    fn deliveries(&self, endpoint_id: &str, limit: usize) -> StoreResult<Vec<Delivery>> {
        self.with(|s| {
            s.deliveries
                .iter()
                .rev()
                .filter(|(e, _)| e == endpoint_id)
                .take(limit)
                .map(|(_, d)| d.clone())
                .collect()
        })
    }
}

impl crate::core::monitoring::MonitorStore for MemoryTeam {
    fn add_usage(&self, r: &crate::core::monitoring::Report) -> StoreResult<()> {
        use crate::core::monitoring::HourRow;
        self.with(|s| {
            let at = s
                .usage
                .iter()
                .position(|row| row.hour == r.hour && row.key_id == r.key_id);
            let old = at.map(|i| s.usage.remove(i));
            s.usage.push(HourRow::with_report(old, r));
        })
    }

    fn usage_since(&self, from_hour: i64) -> StoreResult<Vec<crate::core::monitoring::HourRow>> {
        self.with(|s| {
            s.usage
                .iter()
                .filter(|r| r.hour >= from_hour)
                .cloned()
                .collect()
        })
    }

    fn prune_usage(&self, before_hour: i64) -> StoreResult<()> {
        self.with(|s| s.usage.retain(|r| r.hour >= before_hour))
    }
}

impl crate::core::audit::AuditStore for MemoryTeam {
    fn insert_entry(&self, e: &crate::core::audit::Entry) -> StoreResult<()> {
        self.with(|s| {
            if s.audit.find(|x| x.id == e.id).is_none() {
                s.audit.insert(e.clone());
            }
        })
    }

    fn entries(
        &self,
        q: &crate::core::audit::AuditQuery,
    ) -> StoreResult<Page<crate::core::audit::Entry>> {
        let list = ListQuery {
            limit: q.limit,
            cursor: q.cursor,
            environment: None,
            project_id: None,
            idle_cutoff: None,
        };
        self.with(|s| {
            s.audit.page(&list, |e| {
                q.action.as_ref().is_none_or(|a| &e.action == a)
                    && q.actor_id
                        .as_ref()
                        .is_none_or(|a| e.actor.id.as_ref() == Some(a))
                    && q.target_id.as_ref().is_none_or(|t| &e.target.id == t)
                    && q.project_id.as_deref().is_none_or(|p| {
                        crate::core::audit::visible(Some(p), e.project_id.as_deref())
                    })
            })
        })
    }

    fn prune_entries(&self, before: Timestamp) -> StoreResult<()> {
        self.with(|s| s.audit.remove(|e| e.at < before))
    }

    fn entry_span(&self) -> StoreResult<i64> {
        self.with(|s| s.audit.rows.len() as i64)
    }
}

impl crate::core::team::portal::PortalStore for MemoryTeam {
    fn portal(&self, token_hash: &str) -> StoreResult<Option<crate::core::portal::PortalGrant>> {
        self.with(|s| {
            s.portals
                .iter()
                .find(|g| g.token_hash == token_hash)
                .cloned()
        })
    }

    fn put_portal(&self, grant: &crate::core::portal::PortalGrant) -> StoreResult<()> {
        self.with(|s| {
            s.portals.retain(|g| g.token_hash != grant.token_hash);
            s.portals.push(grant.clone());
        })
    }

    fn prune_portals(&self, expired_before: Timestamp) -> StoreResult<()> {
        self.with(|s| s.portals.retain(|g| g.expires_at >= expired_before))
    }

    fn count_portals(&self) -> StoreResult<u64> {
        self.with(|s| s.portals.len() as u64)
    }

    fn member_by_external_id(&self, external_id: &str) -> StoreResult<Option<Member>> {
        self.with(|s| {
            s.members
                .find(|m| m.external_id.as_deref() == Some(external_id))
                .cloned()
        })
    }
}
