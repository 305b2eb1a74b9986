//! What a key's changes still owe, run by its alarm off every request's path: the events held
//! for the team's events object (written with the change, handed over, kept through a delete)
//! and the outbox (the team's listing and, for a deleted key, the KV index).

use super::parts::{self, EVENTS, OUTBOX};
use super::KeyObject;
use crate::core::events::Event;
use crate::core::ids::TeamId;
use crate::core::key_plan::after_hand_over;
use crate::core::sync::{EventOutbox, Outbox, Pending};
use crate::core::time::Timestamp;
use crate::storage::events_protocol::RecordEvents;
use crate::storage::service::{forget_key, relist};
use crate::storage::Stores;
use worker::{console_error, Result};

impl KeyObject {
    /// Adds events to those held for the team's events object (a synchronous write).
    pub(super) fn hold_events(&self, team_id: TeamId, events: Vec<Event>) -> Result<()> {
        let sql = self.sql()?;
        let mut held =
            parts::get::<EventOutbox>(&sql, EVENTS)?.unwrap_or_else(|| EventOutbox::new(team_id));
        held.add(events);
        parts::put(&sql, EVENTS, &held)
    }

    /// Hands the held events to the team's events object. Returns the delay before trying again, if
    /// that failed.
    pub(super) async fn hand_over_events(
        &self,
        stores: &Stores,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let Some(held) = parts::get::<EventOutbox>(&self.sql()?, EVENTS)? else {
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
        let mut held = parts::get::<EventOutbox>(&sql, EVENTS)?
            .unwrap_or_else(|| EventOutbox::new(held.team_id));
        let retry = after_hand_over(&mut held, &ids, outcome.is_ok());
        if let (Err(e), Some(delay)) = (outcome, retry) {
            console_error!(
                "handing events to the team failed {} time(s), next try in {} s: {}",
                held.failures,
                delay / 1000,
                e.0
            );
        }
        if held.events.is_empty() {
            parts::delete(&sql, EVENTS)?;
        } else {
            parts::put(&sql, EVENTS, &held)?;
        }
        Ok(retry)
    }

    /// Brings the listing (and, for a deleted key, the index) up to date. Returns the delay
    /// before trying again, doubling up to an hour, if that failed.
    pub(super) async fn run_outbox(&self, stores: &Stores) -> Result<Option<i64>> {
        let sql = self.sql()?;
        let Some(mut outbox) = self.part::<Outbox>(&sql, OUTBOX).await? else {
            return Ok(None);
        };
        let revision = || {
            self.slot
                .borrow()
                .as_ref()
                .and_then(|s| s.as_ref().map(|s| s.revision))
        };
        let ran_at = revision();
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
        // A call while this one was out may have written a newer follow-up (a delete just after
        // a disable) or changed the record again: that one is kept, and run at once.
        let written = parts::get::<Outbox>(&sql, OUTBOX)?;
        if written.is_some_and(|w| w.pending != outbox.pending) || revision() != ran_at {
            return Ok(Some(0));
        }
        match failed {
            None => {
                parts::delete(&sql, OUTBOX)?;
                // An outbox written before the table (key-value API) is done too.
                self.state.storage().delete(OUTBOX).await?;
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
                parts::put(&sql, OUTBOX, &outbox)?;
                Ok(Some(delay))
            }
        }
    }
}
