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
