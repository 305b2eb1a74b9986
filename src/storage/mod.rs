//! Storage: Workers KV as the edge index, and the clients of the two Durable Objects.
//!
//! - KV maps `SHA-256(key)` → [`index::IndexEntry`] (key id and team id): enough to find the
//!   key's object. KV is eventually consistent, so it is only ever an index: every key it finds
//!   is confirmed by the key's own object, which is the authority.
//! - One key object per key (named by key id) holds its record, hash, counters and usage.
//! - One team object per team (named by team id) holds the listing of its keys, its projects,
//!   roles and service accounts, in SQLite tables.

pub mod calls;
pub mod events_protocol;
pub mod index;
pub mod key_protocol;
pub mod service;
pub mod team_protocol;

#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
pub use edge::*;
