//! keygate: an API-key service for Cloudflare Workers.
//!
//! - [`core`]: every rule of the product, pure and natively tested (never imports `worker`).
//! - `storage`: the adapters to Workers KV and to the Durable Objects' internal protocol.
//! - `objects`: the Durable Objects (one per key, one per team).
//! - `http`: the router, authentication, handlers and problem+json errors.
//! - `entry`: the worker's entry points (what the runtime calls).
//!
//! The wasm is built twice (cargo features, scripts/build.sh): `edge`, the public Worker
//! (verification and the key objects), and `admin` (management and the team objects).

// The edge Worker uses a part of the shared HTTP and storage code (verification); the admin
// build, which uses all of it, is where unused code is found.
#![cfg_attr(feature = "edge", allow(dead_code))]

#[cfg(all(target_arch = "wasm32", not(any(feature = "edge", feature = "admin"))))]
compile_error!(
    "build the wasm with `--features edge` or `--features admin` (see scripts/build.sh)"
);
#[cfg(all(feature = "edge", feature = "admin"))]
compile_error!("`edge` and `admin` are two Workers: build them one at a time");

pub mod core;
#[cfg(target_arch = "wasm32")]
mod entry;
pub mod http;
#[cfg(target_arch = "wasm32")]
pub mod objects;
pub mod storage;
