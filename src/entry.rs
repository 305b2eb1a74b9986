//! The worker's entry points: what the runtime calls, through the entry module
//! (src/entry/worker.mjs), which moves bytes and strings across once each way and decides
//! nothing:
//! - [`front`]: one synchronous call per request, answering what needs no storage
//!   (`http::front`), or saying that the body is needed, or that the full path is;
//! - `fetch` (the `#[event(fetch)]` below): the full, asynchronous path;
//! - [`fetch_with_body`]: the full path for a request whose body the front has read;
//! - [`verify`]: a verification with a well-formed key, its body read by the front: the
//!   verification's own path (`http::verify::direct`), its answer framed as one string.
//!
//! The Durable Objects' entries are their classes in `objects`.

use crate::core::input::VerifyRequest;
use crate::http::front::{Constant, Front, Head};
use std::cell::RefCell;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::JsValue;
use worker::{event, Context, Env, Request, Response, Result};

/// What [`front`] answers when the full path must: the entry calls `fetch`.
const FULL: i32 = 0;
/// What [`front`] answers when its answer is ready: the entry takes it with [`answer`].
const ANSWER: i32 = 1;
/// What [`front`] answers when it needs the body and its declared length is within the bound:
/// the entry reads it at once and calls again with the bytes.
const BODY: i32 = -1;
/// What [`front`] answers for `POST /v1/verify` with a well-formed key (its body read): the
/// entry calls [`verify`]. Never a constant answer's id (those are below 16).
const VERIFY: i32 = 16;
// A [`Constant`]'s id (2 and up): the entry frames it once with [`constant`].
// Any other negative number -n: the body is needed and no length was declared: the entry reads
// at most n + 1 bytes of it (one more means too large), then calls again.

thread_local! {
    /// The answer [`front`] made, until the entry takes it with [`answer`] (at once: both calls
    /// run in one synchronous turn of the entry, so no other request comes between them).
    static ANSWERED: RefCell<String> = const { RefCell::new(String::new()) };
    /// The verify body [`front`] parsed, until [`verify`] takes it (at once, as [`answer`]).
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

/// A verification the front found well-formed: the answer, framed as
/// `http::front::Answer::encode` frames it, from the body [`front`] parsed (taken here, in the
/// entry's synchronous turn, before any other request's `front` can run). `req` only for
/// `request.cf` (hidden by the entry, read by a counted check: `Ctx::country`).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn verify(req: worker::worker_sys::web_sys::Request, env: Env) -> worker::js_sys::Promise {
    let input = VERIFYING.with(|slot| slot.borrow_mut().take());
    worker::wasm_bindgen_futures::future_to_promise(async move {
        let input = input.ok_or_else(|| JsValue::from_str("verify called without a front"))?;
        let answer = crate::http::verify_direct(req, &env, *input).await;
        Ok(JsValue::from_str(&answer))
    })
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
