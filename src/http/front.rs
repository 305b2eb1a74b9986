//! The front: every answer keygate gives without storage, decided in one synchronous call.
//!
//! The entry module (src/entry/worker.mjs) hands each request's method, path, `Content-Type`
//! and `Content-Length` (and, when asked, the body's bytes) to [`front`] once, and gets back
//! either the whole answer, framed by [`Answer::encode`], or a word that the request needs more:
//! its body ([`Front::NeedsBody`]) or the full, asynchronous path ([`Front::Full`]: storage).
//! Answered here: `/healthz`, `404`/`405` for every path, and for `POST /v1/verify` a `413` by
//! `Content-Length`, a `415`, an unparseable or invalid body (`400`) and a malformed key (`200`,
//! `malformed_key`). Each answer is byte for byte what the full path answers (tests below and
//! the end-to-end suites hold them to each other), with the headers every response carries.
//!
//! Pure: no `worker` import, so it is tested natively.

use super::headers::SECURITY_HEADERS;
use super::problem::ApiError;
use super::router::{route, Route, RouteError};
use crate::core::config::Config;
use crate::core::input::{is_json_media_type, parse_verify, MAX_BODY_BYTES};
use crate::core::key::{Environment, PlainKey};
use crate::core::permission::PermissionSet;
use crate::core::time::Timestamp;
use serde::Serialize;

/// `{"limit","remaining","reset"}` of a verification's binding window.
#[derive(Serialize)]
pub struct Limit {
    pub limit: u32,
    pub remaining: u32,
    pub reset: i64,
}

/// The body of every `POST /v1/verify` answer (`200`): `valid` and `code` say it all.
#[derive(Serialize, Default)]
pub struct Verification<'a> {
    pub valid: bool,
    pub code: &'static str,
    pub key_id: Option<&'a str>,
    pub team_id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub environment: Option<Environment>,
    pub permissions: Option<&'a PermissionSet>,
    pub project_id: Option<&'a str>,
    pub expires_at: Option<Timestamp>,
    pub rate_limit: Option<Limit>,
}

/// What one request's head (and perhaps body) decides.
#[derive(Debug, PartialEq, Eq)]
pub enum Front {
    /// The whole answer.
    Answer(Answer),
    /// `POST /v1/verify` with a declared length within the limit: ask again with the body.
    NeedsBody,
    /// Storage is needed (or a body without a declared length): the full path answers.
    Full,
}

/// A response: status, headers (those every response carries included), body.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Answer {
    fn new(status: u16, content_type: &'static str, body: String) -> Self {
        let mut headers = vec![("Content-Type", content_type.to_owned())];
        headers.extend(SECURITY_HEADERS.iter().map(|(n, v)| (*n, (*v).to_owned())));
        Answer {
            status,
            headers,
            body,
        }
    }

    fn problem(e: &ApiError) -> Self {
        let body = serde_json::to_string(&e.problem()).unwrap_or_default();
        let mut a = Answer::new(e.status, "application/problem+json", body);
        a.headers.extend(e.headers.iter().cloned());
        a
    }

    /// `{status}\n{Name}: {value}\n…\n\n{body}`: the entry turns it into a `Response` without
    /// looking at it (header values never hold a newline: they are ours).
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(64 + self.body.len());
        s.push_str(&self.status.to_string());
        for (name, value) in &self.headers {
            s.push('\n');
            s.push_str(name);
            s.push_str(": ");
            s.push_str(value);
        }
        s.push_str("\n\n");
        s.push_str(&self.body);
        s
    }
}

/// The path of a request's URL (as `worker::Request::path` reads it: what follows the host, up
/// to `?` or `#`).
pub fn path_of(url: &str) -> &str {
    let Some(scheme_end) = url.find("://") else {
        return url;
    };
    let after_host = &url[scheme_end + 3..];
    match after_host.find('/') {
        Some(i) => {
            let path = &after_host[i..];
            &path[..path.find(['?', '#']).unwrap_or(path.len())]
        }
        None => "/",
    }
}

/// The request as the front sees it.
pub struct Head<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub content_type: Option<&'a str>,
    pub content_length: Option<&'a str>,
}

/// Decides one request (see the module's documentation). `config` is the isolate's settings
/// (or why they are wrong: `503`, as on the full path); `body` the bytes, once asked for.
pub fn front(head: &Head, config: Result<&Config, ApiError>, body: Option<&[u8]>) -> Front {
    let matched = match route(head.method, head.path) {
        Ok(m) => m,
        Err(RouteError::NotFound) => return answer_problem(&ApiError::route_not_found()),
        Err(RouteError::MethodNotAllowed(allowed)) => {
            return answer_problem(&ApiError::method_not_allowed(&allowed))
        }
    };
    match matched.route {
        Route::Healthz => Front::Answer(Answer::new(
            200,
            "application/json",
            r#"{"status":"ok"}"#.to_owned(),
        )),
        Route::Verify => verify(head, config, body),
        _ => Front::Full,
    }
}

fn answer_problem(e: &ApiError) -> Front {
    Front::Answer(Answer::problem(e))
}

/// `POST /v1/verify` up to the key's format: what `verify::verify` does before storage.
fn verify(head: &Head, config: Result<&Config, ApiError>, body: Option<&[u8]>) -> Front {
    let config = match config {
        Ok(c) => c,
        Err(e) => return answer_problem(&e),
    };
    // Without a declared length the body is read in chunks up to the limit: the full path.
    let Some(declared) = head
        .content_length
        .and_then(|v| v.trim().parse::<u64>().ok())
    else {
        return Front::Full;
    };
    if declared > MAX_BODY_BYTES as u64 {
        return answer_problem(&ApiError::payload_too_large());
    }
    let Some(bytes) = body else {
        return Front::NeedsBody;
    };
    if bytes.len() > MAX_BODY_BYTES {
        return answer_problem(&ApiError::payload_too_large());
    }
    if !is_json_media_type(head.content_type.unwrap_or_default()) {
        return answer_problem(&ApiError::unsupported_media_type());
    }
    let input = match parse_verify(bytes) {
        Ok(i) => i,
        Err(e) => return answer_problem(&ApiError::input(e)),
    };
    if PlainKey::parse(&config.key_prefix, &input.key).is_ok() {
        return Front::Full;
    }
    let body = serde_json::to_string(&Verification {
        code: "malformed_key",
        ..Default::default()
    })
    .unwrap_or_default();
    Front::Answer(Answer::new(200, "application/json", body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head<'a>(method: &'a str, path: &'a str, len: Option<&'a str>) -> Head<'a> {
        Head {
            method,
            path,
            content_type: Some("application/json"),
            content_length: len,
        }
    }

    fn decide(h: &Head, body: Option<&[u8]>) -> Front {
        front(h, Ok(&Config::default()), body)
    }

    fn answer(f: Front) -> Answer {
        match f {
            Front::Answer(a) => a,
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
        a.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_path_is_what_follows_the_host() {
        for (url, path) in [
            ("https://example.com/", "/"),
            ("http://127.0.0.1:8787/v1/verify", "/v1/verify"),
            ("https://example.com/foo?a=1&b=/x", "/foo"),
            ("https://example.com/foo#/frag?x", "/foo"),
            ("https://example.com/a%3F%23%2Fb?c", "/a%3F%23%2Fb"),
            ("https://example.com", "/"),
        ] {
            assert_eq!(path_of(url), path, "{url}");
        }
    }

    #[test]
    fn healthz_is_answered_with_the_headers_every_response_carries() {
        let a = answer(decide(&head("GET", "/healthz", None), None));
        assert_eq!(a.status, 200);
        assert_eq!(a.body, r#"{"status":"ok"}"#);
        assert_eq!(header(&a, "Content-Type"), Some("application/json"));
        assert_eq!(header(&a, "Cache-Control"), Some("no-store"));
        assert_eq!(header(&a, "X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(
            a.encode(),
            "200\nContent-Type: application/json\nCache-Control: no-store\n\
             X-Content-Type-Options: nosniff\n\n{\"status\":\"ok\"}"
        );
    }

    #[test]
    fn unknown_paths_and_methods_are_problems() {
        let a = answer(decide(&head("GET", "/nope", None), None));
        assert_eq!(a.status, 404);
        assert_eq!(header(&a, "Content-Type"), Some("application/problem+json"));
        assert!(a.body.contains("\"code\":\"not_found\""), "{}", a.body);
        let a = answer(decide(&head("GET", "/v1/verify", None), None));
        assert_eq!(a.status, 405);
        assert_eq!(header(&a, "Allow"), Some("POST"));
    }

    #[test]
    fn storage_routes_go_the_full_way() {
        assert_eq!(
            decide(&head("GET", "/v1/api-keys", None), None),
            Front::Full
        );
        assert_eq!(
            decide(&head("GET", "/openapi.json", None), None),
            Front::Full
        );
        // A body without a declared length is read in chunks, on the full path.
        assert_eq!(decide(&head("POST", "/v1/verify", None), None), Front::Full);
    }

    #[test]
    fn verify_asks_for_the_body_then_answers_what_needs_no_storage() {
        let h = head("POST", "/v1/verify", Some("40"));
        assert_eq!(decide(&h, None), Front::NeedsBody);
        let a = answer(decide(&h, Some(br#"{"key":"sk_live_this-is-not-a-key"}"#)));
        assert_eq!(a.status, 200);
        assert_eq!(
            a.body,
            r#"{"valid":false,"code":"malformed_key","key_id":null,"team_id":null,"name":null,"environment":null,"permissions":null,"project_id":null,"expires_at":null,"rate_limit":null}"#
        );
        let a = answer(decide(&h, Some(b"{not json")));
        assert_eq!((a.status, a.body.contains("invalid_json")), (400, true));
        let a = answer(decide(&h, Some(br#"{"key":1}"#)));
        assert_eq!(a.status, 400);
        // A well-formed key needs the index.
        let key = crate::core::key::PlainKey::generate(
            &Config::default().key_prefix,
            Environment::Live,
            &mut crate::core::random::FixedRandom(vec![7, 42], 0),
        );
        let body = format!(r#"{{"key":"{}"}}"#, key.expose_secret());
        assert_eq!(decide(&h, Some(body.as_bytes())), Front::Full);
    }

    #[test]
    fn verify_refuses_too_long_and_non_json_bodies() {
        let a = answer(decide(&head("POST", "/v1/verify", Some("16385")), None));
        assert_eq!(a.status, 413);
        let h = Head {
            content_type: Some("text/plain"),
            ..head("POST", "/v1/verify", Some("2"))
        };
        assert_eq!(answer(decide(&h, Some(b"{}"))).status, 415);
        let broken = front(
            &head("POST", "/v1/verify", Some("2")),
            Err(ApiError::misconfigured("x")),
            None,
        );
        assert_eq!(answer(broken).status, 503);
    }
}
