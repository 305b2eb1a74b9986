//! keygate: an API-key service for Cloudflare Workers.
//!
//! - [`core`]: every rule of the product, pure and natively tested (never imports `worker`).
//! - `storage`: the adapters to Workers KV and to the Durable Objects' internal protocol.
//! - `objects`: the Durable Objects (one per key, one per team).
//! - `http`: the router, authentication, handlers and problem+json errors.
//! - `entry`: the worker's entry points (what the runtime calls).
//!
//! The wasm is built three times (cargo features, scripts/build.sh): `edge`, the public Worker
//! (verification and the key objects), `admin` (management and the team objects) and `events`
//! (webhooks and the events objects).

// The edge and events Workers use a part of the shared HTTP and storage code; the admin build,
// which uses nearly all of it, and the host build are where unused code is found.
#![cfg_attr(any(feature = "edge", feature = "events"), allow(dead_code))]

#[cfg(all(
    target_arch = "wasm32",
    not(any(feature = "edge", feature = "admin", feature = "events"))
))]
compile_error!("build the wasm with `--features edge`, `admin` or `events` (scripts/build.sh)");
#[cfg(any(
    all(feature = "edge", feature = "admin"),
    all(feature = "edge", feature = "events"),
    all(feature = "admin", feature = "events")
))]
compile_error!("`edge`, `admin` and `events` are three Workers: build them one at a time");

pub mod core;
#[cfg(target_arch = "wasm32")]
mod entry;
pub mod http;
#[cfg(target_arch = "wasm32")]
pub mod objects;
pub mod storage;
