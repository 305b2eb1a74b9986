//! The worker's entry points: what the runtime calls, through the entry module
//! (src/entry/worker.mjs), which moves bytes and strings across once each way and decides
//! nothing:
//! - [`front`]: one synchronous call per request, answering what needs no storage
//!   (`http::front`), or saying that the body is needed, or that the full path is;
//! - [`front_body`]: the same once the body is read, and for a verification with a
//!   well-formed key its first step;
//! - `fetch` (the `#[event(fetch)]` below): the full, asynchronous path;
//! - [`fetch_with_body`]: the full path for a request whose body the front has read;
//! - [`verify_indexed`], [`verify_forget`], [`verify_failed`]: the verification's own path's
//!   next steps (`http::verification`), each synchronous, the entry making the KV read and the
//!   key object's call between them.
//!
//! The Durable Objects' entries are their classes in `objects`.

use crate::core::key::KeyHash;
use crate::http::front::{Answer, Constant, Front, Head};
use crate::http::problem::ApiError;
use crate::http::verification::{self, Step};
use std::cell::RefCell;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::{event, Context, Env, Request, Response, Result};

/// What [`front`] answers when the full path must: the entry calls `fetch`.
const FULL: i32 = 0;
/// What [`front`] answers when its answer is ready: the entry takes it with [`answer`].
const ANSWER: i32 = 1;
/// What [`front`] answers when it needs the body and its declared length is within the bound:
/// the entry reads it at once and calls [`front_body`] with the bytes.
const BODY: i32 = -1;
// A [`Constant`]'s id (2 and up): the entry frames it once with [`constant`].
// Any other negative number -n: the body is needed and no length was declared: the entry reads
// at most n + 1 bytes of it (one more means too large), then calls [`front_body`].

thread_local! {
    /// The answer [`front`] made, until the entry takes it with [`answer`] (at once: both calls
    /// run in one synchronous turn of the entry, so no other request comes between them).
    static ANSWERED: RefCell<String> = const { RefCell::new(String::new()) };
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    crate::http::handle(req, env, None).await
}

/// Decides a request from its head: [`FULL`], [`ANSWER`] (then [`answer`] holds it, framed by
/// `http::front::Answer::encode`), a constant answer's id, or minus the most bytes of body to
/// read (then [`front_body`] decides). `head`: the request's head as one string
/// (`Head::parse`).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn front(env: &Env, head: &str) -> i32 {
    let head = Head::parse(head);
    match crate::http::front::front(&head, crate::http::ready(env), None) {
        Front::Answer(a) => {
            ANSWERED.with(|slot| *slot.borrow_mut() = a.encode());
            ANSWER
        }
        Front::Constant(c) => c as i32,
        Front::NeedsBody { declared: true } => BODY,
        Front::NeedsBody { declared: false } => -(crate::core::input::MAX_BODY_BYTES as i32),
        // Never without a body: a verification is decided once the body is read.
        Front::Full | Front::Verify(_) => FULL,
    }
}

/// Decides a request [`front`] asked the body of, with its bytes: `F` (the full path:
/// `fetch_with_body`), or a step of the verification's own path (`http::verification::Step`,
/// encoded): an answer, a constant answer's id, or, for a well-formed key, its first I/O (the
/// body is parsed once, here, and never crosses again).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn front_body(env: &Env, head: &str, body: &[u8]) -> String {
    let head = Head::parse(head);
    let step = match crate::http::front::front(&head, crate::http::ready(env), Some(body)) {
        Front::Answer(a) => Step::Answer(a.encode()),
        Front::Constant(c) => Step::Constant(c),
        Front::Verify(v) => verification::begin(&v.input, v.hash, crate::storage::cached_index),
        Front::Full | Front::NeedsBody { .. } => return FULL_PATH.to_owned(),
    };
    step.encode()
}

/// What [`front_body`] answers when the full path must: the entry calls [`fetch_with_body`].
const FULL_PATH: &str = "F";

/// After the KV read a [`front_body`] step asked for (`entry`: its text, or none): the key
/// object's name (`O{key id}`), the entry kept in this isolate's cache; or the `invalid_key`
/// answer, a constant (`C7`).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn verify_indexed(hash: &str, entry: Option<String>) -> String {
    match (
        KeyHash::from_hex(hash),
        verification::indexed(entry.as_deref()),
    ) {
        (Some(hash), Some(entry)) => {
            crate::storage::remember_index(&hash, &entry);
            format!("{}{}", verification::OBJECT, entry.key_id)
        }
        _ => verification::unknown(),
    }
}

/// The key object holds no such key: this isolate forgets its index entry (a replay of a
/// deleted key must not find it and cost an object call again); the `invalid_key` answer.
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn verify_forget(hash: &str) -> String {
    if let Some(hash) = KeyHash::from_hex(hash) {
        crate::storage::forget_index(&hash);
    }
    verification::unknown()
}

/// The KV read or the object call of a verification failed (`step`: the step being taken;
/// `error`: the exception's text): logged, naming the key object but never the index entry's
/// name (the key's hash), and answered as the full path answers a storage failure (`503`).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn verify_failed(step: &str, error: &str) -> String {
    let what = match step.strip_prefix(verification::OBJECT) {
        Some(key_id) => format!("object {key_id}"),
        None => "the KV index".to_owned(),
    };
    worker::console_error!("storage: verification: {what}: {error}");
    Step::Answer(Answer::problem(&ApiError::unavailable()).encode()).encode()
}

/// The answer [`front`] just made (framed), taken.
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn answer() -> String {
    ANSWERED.with(|slot| std::mem::take(&mut *slot.borrow_mut()))
}

/// A constant answer (framed), by its id: the entry asks once per isolate.
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn constant(id: u32) -> String {
    Constant::from_id(id).map_or_else(String::new, |c| c.answer().encode())
}

/// The full path, for a request whose body the entry has read (its bytes) and [`front_body`]
/// sent there.
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
    js_sys = ::worker::js_sys
)]
pub async fn fetch_with_body(
    req: worker::worker_sys::web_sys::Request,
    env: Env,
    body: Box<[u8]>,
) -> worker::worker_sys::web_sys::Response {
    match crate::http::handle(Request::from(req), env, Some(body.into_vec())).await {
        Ok(r) => r.into(),
        Err(e) => {
            worker::console_error!("{e}");
            Response::error("INTERNAL SERVER ERROR", 500)
                .expect("a constant response")
                .into()
        }
    }
}
