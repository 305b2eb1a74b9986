//! The key object's RPC methods (the runtime's `call`s from the worker), beside the object
//! they serve (`super`): parsing a call, and the verification's answer.

use super::{now, KeyObject};
use crate::http::verification::object_answer;
use crate::storage::key_protocol::{KeyCall, KeyReply};
use worker::wasm_bindgen::prelude::{wasm_bindgen, JsValue};

/// The object's RPC methods, through the class `src/entry/worker.mjs` makes (the runtime offers
/// RPC only to a class that extends its `DurableObject`):
/// - `call`: the worker's path to it (`storage::edge`). One JSON call in, one JSON reply out.
///   `callNow` answers a check on a loaded key in the call's own turn (the class asks it
///   first, then `call`).
/// - `verify`: the verification's own path (`http::verification`): a check, with the
///   request's country, answered as the framed answer of `POST /v1/verify`, made here where
///   the record and the windows are (nothing of them crosses as JSON to be parsed again);
///   `verifyNow` as `callNow`.
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
    js_sys = ::worker::js_sys
)]
impl KeyObject {
    #[wasm_bindgen(js_name = call)]
    pub async fn rpc(&self, call: String) -> std::result::Result<String, JsValue> {
        let reply = self
            .serve(parse_call(&call)?)
            .await
            .map_err(JsValue::from)?;
        serde_json::to_string(&reply).map_err(|e| JsValue::from_str(&e.to_string()))
    }

    /// `call` at once, or `undefined` (not loaded, or not a check: serde writes a check as
    /// `{"Check":…}`, so no other call is parsed twice).
    #[wasm_bindgen(js_name = callNow)]
    pub fn rpc_now(&self, call: &str) -> std::result::Result<Option<String>, JsValue> {
        if self.slot.borrow().is_none() || !call.starts_with(r#"{"Check":"#) {
            return Ok(None);
        }
        match self.check_now(parse_call(call)?).map_err(JsValue::from)? {
            Some(reply) => serde_json::to_string(&reply)
                .map(Some)
                .map_err(|e| JsValue::from_str(&e.to_string())),
            None => Ok(None),
        }
    }

    pub async fn verify(
        &self,
        call: String,
        country: Option<String>,
    ) -> std::result::Result<String, JsValue> {
        let reply = self.serve(check_call(&call, country)?).await;
        answer_verification(reply.map_err(JsValue::from)?)
    }

    #[wasm_bindgen(js_name = verifyNow)]
    pub fn verify_now(
        &self,
        call: &str,
        country: Option<String>,
    ) -> std::result::Result<Option<String>, JsValue> {
        if self.slot.borrow().is_none() {
            return Ok(None);
        }
        let reply = self.check_now(check_call(call, country)?);
        reply
            .map_err(JsValue::from)?
            .map(answer_verification)
            .transpose()
    }
}

fn parse_call(call: &str) -> std::result::Result<KeyCall, JsValue> {
    serde_json::from_str(call).map_err(|e| JsValue::from_str(&format!("key call: {e}")))
}

/// A verification's check, with the country the entry read from the request.
fn check_call(call: &str, country: Option<String>) -> std::result::Result<KeyCall, JsValue> {
    match parse_call(call)? {
        KeyCall::Check {
            hash,
            mut requirement,
        } => {
            requirement.country = country;
            Ok(KeyCall::Check { hash, requirement })
        }
        _ => Err(JsValue::from_str("verify: not a check")),
    }
}

fn answer_verification(reply: KeyReply) -> std::result::Result<String, JsValue> {
    match reply {
        KeyReply::Checked { result } => Ok(object_answer(*result, now())),
        _ => Err(JsValue::from_str("verify: the check answered no result")),
    }
}
