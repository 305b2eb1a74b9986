//! One webhook delivery attempt: a signed `POST` (Standard Webhooks headers), at most 10 s, no
//! redirects followed, the response body never read (only its status matters, so a huge or
//! endless body costs nothing). Every decision about the result is `core::team::webhooks::finish`.

use crate::core::team::webhooks::{AttemptResult, Outgoing};
use crate::core::time::Timestamp;
use crate::core::webhooks::{secret_key, signature_header};
use futures_util::future::{select, Either};
use std::time::Duration;
use worker::wasm_bindgen::JsValue;
use worker::{
    AbortController, Date, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

/// How long an endpoint has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

fn failed(error: String, started: Timestamp) -> AttemptResult {
    AttemptResult {
        status: None,
        error: Some(error),
        duration_ms: elapsed(started),
    }
}

fn elapsed(started: Timestamp) -> u32 {
    (Date::now().as_millis() as i64 - started.millis()).clamp(0, i64::from(u32::MAX)) as u32
}

pub async fn attempt(o: &Outgoing, now: Timestamp) -> AttemptResult {
    let timestamp = now.millis() / 1000;
    let keys: Vec<Vec<u8>> = o.secrets.iter().filter_map(|s| secret_key(s)).collect();
    let signature = signature_header(&keys, &o.event.id, timestamp, &o.event.body);
    let request = (|| {
        let headers = Headers::new();
        headers.set("Content-Type", "application/json")?;
        headers.set("User-Agent", "keygate-webhooks/1")?;
        headers.set("webhook-id", &o.event.id)?;
        headers.set("webhook-timestamp", &timestamp.to_string())?;
        headers.set("webhook-signature", &signature)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_redirect(RequestRedirect::Manual)
            .with_body(Some(JsValue::from_str(&o.event.body)));
        Request::new_with_init(&o.url, &init)
    })();
    let request = match request {
        Ok(r) => r,
        Err(e) => return failed(format!("the request could not be made: {e}"), now),
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sending = std::pin::pin!(fetch.send_with_signal(&signal));
    let timeout = std::pin::pin!(Delay::from(TIMEOUT));
    match select(sending, timeout).await {
        Either::Left((Ok(response), _)) => AttemptResult {
            status: Some(response.status_code()),
            error: None,
            duration_ms: elapsed(now),
        },
        Either::Left((Err(e), _)) => failed(truncate(&e.to_string()), now),
        Either::Right(((), _)) => {
            controller.abort();
            failed("no answer within 10 s".into(), now)
        }
    }
}

/// Errors from the runtime can carry the whole URL; 200 characters say what happened.
fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}
