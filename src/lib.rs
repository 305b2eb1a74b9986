//! keygate: an API-key service for Cloudflare Workers.
//!
//! - [`core`]: every rule of the product, pure and natively tested (never imports `worker`).
//! - `storage`: the adapters to Workers KV and to the Durable Objects' internal protocol.
//! - `objects`: the Durable Objects (one per key, one per team).
//! - `http`: the router, authentication, handlers and problem+json errors.
//! - `entry`: the worker's entry points (what the runtime calls).
//!
//! One wasm, one Worker (docs/architecture.md, "One Worker"): every route and every Durable
//! Object class is in it.

pub mod core;
#[cfg(target_arch = "wasm32")]
mod entry;
pub mod http;
#[cfg(target_arch = "wasm32")]
pub mod objects;
pub mod storage;
