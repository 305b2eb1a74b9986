//! The Durable Objects. Each loads its state, hands the call to pure logic, persists, answers.
//!
//! - [`key::KeyObject`]: one per key, the authority on its status, expiry, permissions, counters
//!   and usage. Strongly consistent: a change is seen by the very next request, everywhere.
//! - [`team::TeamObject`]: one per team, SQLite tables for the team's key listing, projects,
//!   roles and service accounts, members and sessions, so "in use" checks and unique names are
//!   atomic.
//! - [`events::EventsObject`]: one per team, its webhooks: endpoints, queued events, deliveries.

pub mod events;
pub mod key;
pub mod sql;
pub mod team;

/// Sets the object's one alarm to fire within `delay_ms`, never postponing a sooner deadline
/// already set (a team object's hand-over retry and idle push share it; a key object's
/// report alarm and its retries): `core::time::sooner_alarm`.
pub(crate) async fn alarm_within(storage: &worker::Storage, delay_ms: i64) -> worker::Result<()> {
    let now = worker::Date::now().as_millis() as i64;
    let existing = storage.get_alarm().await?;
    if let Some(at) = crate::core::time::sooner_alarm(now, existing, delay_ms) {
        storage.set_alarm(at - now).await?;
    }
    Ok(())
}
