//! Per-request context and response helpers.

use super::headers::rate_limit_headers;
use super::problem::ApiError;
use crate::core::config::Config;
use crate::core::input::MAX_BODY_BYTES;
use crate::core::ratelimit::LimitState;
use crate::core::time::Timestamp;
use crate::storage::{StoreError, Stores};
use serde::Serialize;
use std::cell::Cell;
use worker::{console_error, Env, Request, Response, Result};

pub type ApiResult = std::result::Result<Response, ApiError>;

pub struct Ctx {
    pub stores: Stores,
    pub config: &'static Config,
    pub env: Env,
    pub now: Timestamp,
    /// The calling key's windows, once its check has run: every later response carries them.
    pub limit: Cell<Option<LimitState>>,
    /// The signed-in member's minute of requests, once their session was read: every later
    /// response carries it.
    pub member_limit: Cell<Option<crate::core::throttle::MemberWindow>>,
    /// The request, for [`Ctx::country`] (none for a service binding's call).
    request: Option<worker::worker_sys::web_sys::Request>,
    /// Where the request came from, once asked for ([`Ctx::country`]).
    country: std::cell::OnceCell<Option<String>>,
    /// The body, when the entry's front read it already (`POST /v1/verify`): `read_body` takes it.
    pub pre_read: Cell<Option<Vec<u8>>>,
}

impl Ctx {
    pub fn new(
        stores: Stores,
        config: &'static Config,
        req: &Request,
        env: &Env,
        now: Timestamp,
    ) -> Self {
        Ctx {
            request: Some(Clone::clone(req.inner())),
            ..Ctx::for_call(stores, config, env, now)
        }
    }

    /// The context of a call that comes with no request: the `Verifier` entrypoint's (a service
    /// binding's RPC). It has no `request.cf`, so no country.
    pub fn for_call(stores: Stores, config: &'static Config, env: &Env, now: Timestamp) -> Self {
        Ctx {
            stores,
            config,
            env: env.clone(),
            now,
            limit: Cell::new(None),
            member_limit: Cell::new(None),
            request: None,
            country: std::cell::OnceCell::new(),
            pre_read: Cell::new(None),
        }
    }

    /// Where the request came from (`request.cf.country`; absent locally, in tests that do not
    /// set it, and for a service binding's call), read only when asked: by a counted check (a
    /// key's locations) and an audited change. `request.cf` is costly to read (the runtime
    /// builds the object on first access), so the entry (src/entry/worker.mjs) hides it behind
    /// an own property holding `undefined` before the request reaches `worker::Request` (which
    /// reads it on conversion); here that property is removed and the runtime's `cf` read.
    pub fn country(&self) -> Option<String> {
        self.country
            .get_or_init(|| {
                use worker::worker_sys::ext::RequestExt;
                let req = self.request.as_ref()?;
                let _ = worker::js_sys::Reflect::delete_property(req, &"cf".into());
                worker::Cf::from(req.cf()?).country()
            })
            .clone()
    }

    /// The client's address (`CF-Connecting-IP`), for a bearer key with an IP allow-list; none
    /// for a service binding's call or a header that is not an address.
    pub fn client_ip(&self) -> Option<std::net::IpAddr> {
        let h = self
            .request
            .as_ref()?
            .headers()
            .get("CF-Connecting-IP")
            .ok()??;
        crate::core::ip_allow::parse_client_ip(&h)
    }

    /// Turns a handler's result into the response, with the rate-limit headers of the calling
    /// key on every response to a key-authenticated request, errors included.
    pub fn finish(&self, result: ApiResult) -> Result<Response> {
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => problem_response(&e)?,
        };
        if let Some(limit) = self.limit.get() {
            let h = resp.headers_mut();
            for (name, value) in rate_limit_headers(&limit, self.now) {
                h.set(name, &value)?;
            }
        }
        if let Some(w) = self.member_limit.get() {
            let h = resp.headers_mut();
            for (name, value) in super::headers::member_limit_headers(&w, self.now) {
                h.set(name, &value)?;
            }
        }
        Ok(resp)
    }
}

pub fn problem_response(e: &ApiError) -> Result<Response> {
    let body =
        serde_json::to_string(&e.problem()).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut resp = Response::ok(body)?.with_status(e.status);
    let h = resp.headers_mut();
    h.set("Content-Type", "application/problem+json")?;
    for (name, value) in &e.headers {
        h.set(name, value)?;
    }
    Ok(resp)
}

pub fn json<T: Serialize>(status: u16, body: &T) -> ApiResult {
    Response::from_json(body)
        .map(|r| r.with_status(status))
        .map_err(|e| internal("serializing a response", e))
}

pub fn no_content() -> ApiResult {
    Ok(Response::empty()
        .map_err(|e| internal("empty response", e))?
        .with_status(204))
}

pub fn internal(what: &str, e: impl std::fmt::Display) -> ApiError {
    console_error!("{what}: {e}");
    ApiError::unavailable()
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        console_error!("storage: {}", e.0);
        ApiError::unavailable()
    }
}

/// A request body read within the size limit; its media type is judged when it is used, so
/// that a wrong `Content-Type` answers after authentication, in the contract's order.
pub struct Body {
    media_is_json: bool,
    bytes: Vec<u8>,
}

impl Body {
    /// The bytes, if the body was sent as JSON (`415` otherwise).
    pub fn json(&self) -> std::result::Result<&[u8], ApiError> {
        if self.media_is_json {
            Ok(&self.bytes)
        } else {
            Err(ApiError::unsupported_media_type())
        }
    }

    /// The bytes as sent, whatever their media type (a signature covers them).
    pub fn raw(&self) -> &[u8] {
        &self.bytes
    }

    /// Nothing was sent (for endpoints whose body is optional: no media type is needed then).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Reads the body as a stream and stops at [`MAX_BODY_BYTES`] + 1: past that it answers `413`
/// at once, whether or not `Content-Length` was sent, so a chunked body of any size costs at
/// most 16 KiB of memory and no authentication work.
pub async fn read_body(req: &mut Request) -> std::result::Result<Body, ApiError> {
    read_body_or(req, None).await
}

/// [`read_body`], or the bytes the entry's front already read (within the limit: it checked).
pub async fn read_body_or(
    req: &mut Request,
    read: Option<Vec<u8>>,
) -> std::result::Result<Body, ApiError> {
    read_body_bounded(req, MAX_BODY_BYTES, ApiError::payload_too_large, read).await
}

/// [`read_body`] with another bound, and its `413` (a leak report: `core::leaks::MAX_REPORT_BYTES`).
/// The request's `Content-Length`; `413` when it says more than `max` bytes, before any is read.
pub fn declared_within(
    req: &Request,
    max: usize,
    too_large: fn() -> ApiError,
) -> std::result::Result<Option<u64>, ApiError> {
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > max as u64 => Err(too_large()),
        n => Ok(n),
    }
}

pub async fn read_body_within(
    req: &mut Request,
    max: usize,
    too_large: fn() -> ApiError,
) -> std::result::Result<Body, ApiError> {
    read_body_bounded(req, max, too_large, None).await
}

async fn read_body_bounded(
    req: &mut Request,
    max: usize,
    too_large: fn() -> ApiError,
    read: Option<Vec<u8>>,
) -> std::result::Result<Body, ApiError> {
    use futures_util::StreamExt;
    let headers = req.headers();
    let content_type = headers
        .get("Content-Type")
        .ok()
        .flatten()
        .unwrap_or_default();
    let media_is_json = crate::core::input::is_json_media_type(&content_type);
    if let Some(bytes) = read {
        if bytes.len() > max {
            return Err(too_large());
        }
        return Ok(Body {
            media_is_json,
            bytes,
        });
    }
    let declared = declared_within(req, max, too_large)?;
    let mut bytes = Vec::new();
    if req.inner().body().is_none() {
        return Ok(Body {
            media_is_json,
            bytes,
        });
    }
    if declared.is_some() {
        // A declared length within the limit bounds the body (HTTP framing): one read.
        bytes = req
            .bytes()
            .await
            .map_err(|e| internal("reading the body", e))?;
    } else {
        // No length: read it chunk by chunk and stop as soon as it is too long.
        let mut stream = req.stream().map_err(|e| internal("opening the body", e))?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| internal("reading the body", e))?;
            if bytes.len() + chunk.len() > max {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
    }
    if bytes.len() > max {
        return Err(too_large());
    }
    Ok(Body {
        media_is_json,
        bytes,
    })
}

/// The query string as decoded pairs.
///
/// Decoded from the raw URL with `form_urlencoded`: a full URL parser would bring IDNA and
/// Unicode tables into the wasm for nothing.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    let url = req.inner().url();
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
