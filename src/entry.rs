//! The worker's entry points: what the runtime calls, through the entry module
//! (src/entry/worker.mjs), which moves bytes and strings across once each way and decides
//! nothing:
//! - [`front`]: one synchronous call per request, answering what needs no storage
//!   (`http::front`), or saying that the body is needed, or that the full path is;
//! - `fetch` (the `#[event(fetch)]` below): the full, asynchronous path;
//! - [`fetch_with_body`]: the full path for a request whose body the front has read;
//! - [`verify_begin`], [`verify_indexed`], [`verify_forget`], [`verify_failed`]: a
//!   verification with a well-formed key, its body read by the front: the verification's own
//!   path (`http::verification`), each step synchronous, the entry making the KV read and the
//!   key object's call between them.
//!
//! The Durable Objects' entries are their classes in `objects`.

use crate::core::input::VerifyRequest;
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
/// the entry reads it at once and calls again with the bytes.
const BODY: i32 = -1;
/// What [`front`] answers for `POST /v1/verify` with a well-formed key (its body read): the
/// entry calls [`verify_begin`] and takes the verification's steps. Never a constant answer's
/// id (those are below 16).
const VERIFY: i32 = 16;
// A [`Constant`]'s id (2 and up): the entry frames it once with [`constant`].
// Any other negative number -n: the body is needed and no length was declared: the entry reads
// at most n + 1 bytes of it (one more means too large), then calls again.

thread_local! {
    /// The answer [`front`] made, until the entry takes it with [`answer`] (at once: both calls
    /// run in one synchronous turn of the entry, so no other request comes between them).
    static ANSWERED: RefCell<String> = const { RefCell::new(String::new()) };
    /// The verify body [`front`] parsed, until [`verify_begin`] takes it (at once, as
    /// [`answer`]).
    static VERIFYING: RefCell<Option<Box<VerifyRequest>>> = const { RefCell::new(None) };
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    crate::http::handle(req, env, None).await
}

/// Decides a request from its head (and `body`, once asked for): [`FULL`], [`ANSWER`] (then
/// [`answer`] holds it, framed by `http::front::Answer::encode`), a constant answer's id, or
/// minus the most bytes of body to read, or [`VERIFY`]. `head`: the request's head as one
/// string (`Head::parse`).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn front(env: &Env, head: &str, body: Option<Box<[u8]>>) -> i32 {
    let head = Head::parse(head);
    match crate::http::front::front(&head, crate::http::ready(env), body.as_deref()) {
        Front::Answer(a) => {
            ANSWERED.with(|slot| *slot.borrow_mut() = a.encode());
            ANSWER
        }
        Front::Constant(c) => c as i32,
        Front::NeedsBody { declared: true } => BODY,
        Front::NeedsBody { declared: false } => -(crate::core::input::MAX_BODY_BYTES as i32),
        Front::Full => FULL,
        Front::Verify(input) => {
            VERIFYING.with(|slot| *slot.borrow_mut() = Some(input));
            VERIFY
        }
    }
}

/// The first step of a verification the front found well-formed (`http::verification`): its
/// body, parsed by [`front`], is taken here, in the entry's synchronous turn, before any other
/// request's `front` can run. Returns the step, encoded (`Step::encode`).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn verify_begin(env: &Env) -> String {
    let input = VERIFYING.with(|slot| slot.borrow_mut().take());
    let step = match (input, crate::http::config(env)) {
        (Some(input), Ok(config)) => {
            verification::begin(&config.key_prefix, &input, crate::storage::cached_index)
        }
        // Neither happens: the entry calls this only after `front` answered VERIFY, which it
        // does only with a body parsed and the settings read.
        _ => Step::Answer(Answer::problem(&ApiError::unavailable()).encode()),
    };
    step.encode()
}

/// After the KV read a [`verify_begin`] step asked for (`entry`: its text, or none): the key
/// object's name (its id), the entry kept in this isolate's cache; or the `invalid_key` answer
/// (tag included).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn verify_indexed(hash: &str, entry: Option<String>) -> String {
    match (
        KeyHash::from_hex(hash),
        verification::indexed(entry.as_deref()),
    ) {
        (Some(hash), Ok(entry)) => {
            crate::storage::remember_index(&hash, &entry);
            format!("O{}", entry.key_id)
        }
        (_, Err(answer)) => answer,
        (None, Ok(_)) => verification::unknown(),
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
    let what = match step.strip_prefix('O') {
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

/// The full path, for a request whose body [`front`] has read (its bytes).
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
