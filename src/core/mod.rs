//! The pure core of keygate: every rule of the product (key format, hashing, permissions,
//! rate-limit arithmetic, input validation, the access decision), with no Workers type in it.
//!
//! Nothing under `core` may import `worker`, `js_sys` or `web_sys`: it compiles and is tested
//! natively with `cargo test`. Time and randomness come in as arguments ([`time::Timestamp`],
//! [`random::Random`]), so every rule can be tested with a stepped clock and fixed bytes.

pub mod access;
pub mod audit;
pub mod base62;
pub mod branding;
pub mod config;
pub mod credits;
pub mod email_index;
pub mod events;
#[cfg(test)]
pub mod fixtures;
pub mod history;
pub mod host;
pub mod idle;
pub mod idle_filter;
pub mod ids;
pub mod input;
pub mod ip_allow;
pub mod key;
pub mod key_alerts;
pub mod key_patch;
pub mod key_plan;
pub mod key_schedule;
pub mod key_state;
pub mod leaks;
pub mod lifecycle;
pub mod limits;
pub mod members;
pub mod model;
pub mod monitoring;
pub mod page;
pub mod permission;
pub mod portal;
pub mod random;
pub mod ratelimit;
pub mod store;
pub mod sync;
pub mod team;
pub mod team_settings;
pub mod throttle;
pub mod time;
pub mod totp;
#[cfg(test)]
mod usage_policy_tests;
pub mod webhooks;
