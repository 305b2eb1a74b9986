//! The `Verifier` entrypoint's calls: what a product's Worker reaches through a service binding
//! (`[[services]] binding = "KEYGATE", service = "keygate", entrypoint = "Verifier"`) as
//! `env.KEYGATE.verify({...})` and `env.KEYGATE.rateLimit({key})`.
//!
//! The class the runtime calls is JavaScript (src/entry/verifier.mjs: the runtime offers RPC only
//! to a class extending its `WorkerEntrypoint`, which wasm-bindgen cannot write); it hands each
//! call's input here as JSON text and parses the JSON text it gets back, so every decision stays
//! in Rust and goes through the very code of the HTTP endpoints: [`verify::decide`] and
//! [`verify::windows`]. The answers are the bodies `POST /v1/verify` and `GET /v1/rate-limit`
//! send, field for field, counted the same way. A refusal the endpoint answers with a problem
//! (bad input: `400`; for `rateLimit` an unusable key: `401`) is thrown as an `Error` whose
//! message is the problem's `detail`, with its `code` and `status` as properties. No key is ever
//! logged: only the input's shape is judged in errors, never its value.

use super::auth::{find_key, Credential};
use super::ctx::{internal, Ctx};
use super::problem::ApiError;
use super::verify;
use crate::core::input::parse_key_only;
use crate::core::time::Timestamp;
use crate::storage::Stores;
use worker::js_sys::{Error, Reflect};
use worker::wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::{console_error, Date, Env};

/// One per `Verifier` instance (the runtime makes one per incoming binding call or session).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub struct VerifierCalls {
    env: Env,
}

#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
    js_sys = ::worker::js_sys
)]
impl VerifierCalls {
    #[wasm_bindgen(constructor)]
    pub fn new(env: Env) -> VerifierCalls {
        VerifierCalls { env }
    }

    /// `verify(input)`: `input` is the JSON text of the verify body; the answer that of
    /// `POST /v1/verify`'s.
    pub async fn verify(&self, input: String) -> Result<String, JsValue> {
        let ctx = context(&self.env).map_err(thrown)?;
        let verdict = verify::decide(&ctx, input.as_bytes())
            .await
            .map_err(thrown)?;
        verdict
            .to_json()
            .map_err(|e| thrown(internal("serializing a verification", e)))
    }

    /// `rateLimit({key})`: the key's windows, not counted, as `GET /v1/rate-limit` answers them.
    #[wasm_bindgen(js_name = rateLimit)]
    pub async fn rate_limit(&self, input: String) -> Result<String, JsValue> {
        let ctx = context(&self.env).map_err(thrown)?;
        let key = parse_key_only(input.as_bytes())
            .map_err(ApiError::input)
            .map_err(thrown)?;
        let presented = find_key(&ctx, &key)
            .await
            .map_err(ApiError::from)
            .map_err(thrown)?;
        let body = verify::windows(&ctx, &Credential::Key(presented))
            .await
            .map_err(thrown)?;
        serde_json::to_string(&body)
            .map_err(|e| thrown(super::ctx::internal("serializing the windows", e)))
    }
}

fn context(env: &Env) -> Result<Ctx, ApiError> {
    let config = super::serve::config(env)?;
    let stores = Stores::from_env(env).map_err(|e| {
        console_error!("bindings missing: {}", e.0);
        ApiError::misconfigured("a KV or Durable Object binding is missing")
    })?;
    let now = Timestamp::from_millis(Date::now().as_millis() as i64);
    Ok(Ctx::for_call(stores, config, env, now))
}

/// The problem an endpoint would answer, as the `Error` the call throws: `message` is the
/// problem's `detail`, `code` and `status` its own (they cross the binding with the error).
fn thrown(e: ApiError) -> JsValue {
    let error = Error::new(&e.detail);
    // Setting a property on a fresh Error cannot fail.
    let _ = Reflect::set(&error, &"code".into(), &e.code.into());
    let _ = Reflect::set(&error, &"status".into(), &JsValue::from(e.status));
    error.into()
}
