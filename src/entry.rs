//! The worker's entry points: what the runtime calls, through the entry module
//! (src/entry/worker.mjs), which moves bytes and strings across once each way and decides
//! nothing:
//! - [`front`]: one synchronous call per request, answering what needs no storage
//!   (`http::front`), or saying that the body is needed, or that the full path is;
//! - `fetch` (the `#[event(fetch)]` below): the full, asynchronous path;
//! - [`fetch_with_body`]: the full path for a `POST /v1/verify` whose body the front has read.
//!
//! The Durable Objects' entries are their classes in `objects`.

use crate::http::front::{Front, Head};
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::{event, Context, Env, Request, Response, Result};

/// What [`front`] answers when the full path must: the entry calls `fetch`.
const FULL: &str = "";
/// What [`front`] answers when it needs the body: the entry calls it again with the bytes.
const NEEDS_BODY: &str = "?";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    crate::http::handle(req, env, None).await
}

/// Decides a request from its head (and `body`, once asked for): the framed answer
/// (`http::front::Answer::encode`), [`NEEDS_BODY`] or [`FULL`].
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn front(
    env: &Env,
    method: &str,
    url: &str,
    content_type: Option<String>,
    content_length: Option<String>,
    body: Option<Box<[u8]>>,
) -> String {
    let head = Head {
        method,
        path: crate::http::front::path_of(url),
        content_type: content_type.as_deref(),
        content_length: content_length.as_deref(),
    };
    match crate::http::front::front(&head, crate::http::config(env), body.as_deref()) {
        Front::Answer(a) => a.encode(),
        Front::NeedsBody => NEEDS_BODY.to_owned(),
        Front::Full => FULL.to_owned(),
    }
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
