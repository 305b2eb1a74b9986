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

/// Sets the object's one alarm to fire within `delay_ms`, never postponing another deadline
/// already set (a team object's hand-over retry and idle push share it; a key object's report
/// alarm, its hand-over and outbox retries and its schedule): `core::time::sooner_alarm`.
/// `running`: in an alarm handler, what [`running_alarm`] read when it began; elsewhere `None`.
pub(crate) async fn alarm_within(
    storage: &worker::Storage,
    delay_ms: i64,
    running: Option<i64>,
) -> worker::Result<()> {
    let now = worker::Date::now().as_millis() as i64;
    let existing = storage.get_alarm().await?;
    if let Some(at) = crate::core::time::sooner_alarm(now, running, existing, delay_ms) {
        storage.set_alarm(at - now).await?;
    }
    Ok(())
}

/// The alarm time as an alarm handler begins: the running alarm's own (or none), which
/// [`alarm_within`] may replace; a time set after it, by a call while the handler waits, it
/// keeps if sooner.
pub(crate) async fn running_alarm(storage: &worker::Storage) -> worker::Result<Option<i64>> {
    storage.get_alarm().await
}
