//! The front: every answer keygate gives without storage, decided in one synchronous call.
//!
//! The entry module (src/entry/worker.mjs) hands each request's method, path, `Content-Type`
//! and `Content-Length` (not read for a `GET` or `HEAD`: no route of theirs reads a body) to
//! [`front`] once, and then, when asked, the body's bytes (`front_body`), and gets back
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
use crate::core::input::{is_json_media_type, parse_verify, VerifyRequest, MAX_BODY_BYTES};
use crate::core::key::{Environment, KeyHash, PlainKey};
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
#[derive(Debug, PartialEq)]
pub enum Front {
    /// The whole answer.
    Answer(Answer),
    /// An answer that never changes while the isolate lives (its id): the entry frames it once
    /// ([`Constant::answer`]) and makes each response from that.
    Constant(Constant),
    /// `POST /v1/verify`: ask again with the body (`front_body`): all of it when its declared length is
    /// within [`MAX_BODY_BYTES`], otherwise at most that and one byte more, if there is more
    /// (then the answer is `413`).
    NeedsBody { declared: bool },
    /// Storage is needed (or the settings or bindings are missing): the full path answers.
    Full,
    /// `POST /v1/verify` with a well-formed key and its body read: the verification's own
    /// path answers (`http::verification`: no route table, no `worker::Request`, the answer
    /// framed as [`Answer::encode`] frames it, by the key's object), from the body the front
    /// parsed (never parsed twice).
    Verify(Box<Verifying>),
}

/// A verify body with a well-formed key, and the key's hash (the key itself goes no further).
#[derive(Debug, PartialEq)]
pub struct Verifying {
    pub input: VerifyRequest,
    pub hash: KeyHash,
}

/// The answers the front gives that never change: their ids (the entry's cache's indices; 0
/// and 1 are the entry's "full path" and "answer ready").
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Constant {
    Healthz = 2,
    MalformedKey = 3,
    NotFound = 4,
    TooLarge = 5,
    UnsupportedMedia = 6,
    /// A verification of a key nobody holds (`http::verification`).
    InvalidKey = 7,
}

impl Constant {
    pub const ALL: [Constant; 6] = [
        Constant::Healthz,
        Constant::MalformedKey,
        Constant::NotFound,
        Constant::TooLarge,
        Constant::UnsupportedMedia,
        Constant::InvalidKey,
    ];

    pub fn from_id(id: u32) -> Option<Constant> {
        Constant::ALL.into_iter().find(|c| *c as u32 == id)
    }

    /// The answer, as the full path gives it.
    pub fn answer(self) -> Answer {
        match self {
            Constant::Healthz => {
                Answer::new(200, "application/json", r#"{"status":"ok"}"#.to_owned())
            }
            Constant::MalformedKey => refused("malformed_key"),
            Constant::InvalidKey => refused("invalid_key"),
            Constant::NotFound => Answer::problem(&ApiError::route_not_found()),
            Constant::TooLarge => Answer::problem(&ApiError::payload_too_large()),
            Constant::UnsupportedMedia => Answer::problem(&ApiError::unsupported_media_type()),
        }
    }
}

/// A verification's answer refused before any object was asked (`valid: false` and the code).
fn refused(code: &'static str) -> Answer {
    let body = Verification {
        code,
        ..Default::default()
    };
    Answer::new(
        200,
        "application/json",
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

/// The two routes the front answers most, matched without the route table (which splits the
/// path and tries every pattern): exactly what [`route`] gives for them (a test holds them).
fn quick_route(method: &str, path: &str) -> Option<Route> {
    match (path, method) {
        ("/healthz", "GET" | "HEAD") => Some(Route::Healthz),
        ("/v1/verify", "POST") => Some(Route::Verify),
        _ => None,
    }
}

/// A response: status, headers (those every response carries included), body.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Answer {
    pub fn new(status: u16, content_type: &'static str, body: String) -> Self {
        let mut headers = vec![("Content-Type", content_type.to_owned())];
        headers.extend(SECURITY_HEADERS.iter().map(|(n, v)| (*n, (*v).to_owned())));
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn problem(e: &ApiError) -> Self {
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

impl<'a> Head<'a> {
    /// The head as the entry sends it, one string (one copy into wasm, not four):
    /// `{method}\n{url}\n{Content-Type}\n{Content-Length}`, an absent header empty (the front
    /// reads an empty one as absent: no media type, no declared length); for a `GET` or `HEAD`
    /// only `{method}\n{url}`. None of the four can hold a newline (HTTP's framing and the URL
    /// parser remove them).
    pub fn parse(head: &'a str) -> Head<'a> {
        let mut parts = head.splitn(4, '\n');
        let mut next = || parts.next().unwrap_or_default();
        let (method, url, content_type, content_length) = (next(), next(), next(), next());
        let present = |v: &'a str| (!v.is_empty()).then_some(v);
        Head {
            method,
            path: path_of(url),
            content_type: present(content_type),
            content_length: present(content_length),
        }
    }
}

/// Decides one request (see the module's documentation). `config` is the isolate's settings,
/// or why the isolate cannot serve storage routes (a setting or a binding missing): then every
/// route but `/healthz`, `404` and `405` goes the full way, which answers the `503` and logs
/// it, as before any front existed. `body` the bytes, once asked for.
pub fn front(head: &Head, config: Result<&Config, ApiError>, body: Option<&[u8]>) -> Front {
    let matched = match quick_route(head.method, head.path) {
        Some(r) => r,
        None => match route(head.method, head.path) {
            Ok(m) => m.route,
            Err(RouteError::NotFound) => return Front::Constant(Constant::NotFound),
            Err(RouteError::MethodNotAllowed(allowed)) => {
                return answer_problem(&ApiError::method_not_allowed(&allowed))
            }
        },
    };
    match matched {
        Route::Healthz => Front::Constant(Constant::Healthz),
        Route::Verify => verify(head, config, body),
        _ => Front::Full,
    }
}

fn answer_problem(e: &ApiError) -> Front {
    Front::Answer(Answer::problem(e))
}

/// `POST /v1/verify` up to the key's format: what `verify::verify` does before storage.
fn verify(head: &Head, config: Result<&Config, ApiError>, body: Option<&[u8]>) -> Front {
    let Ok(config) = config else {
        return Front::Full;
    };
    // A declared length past the limit is refused unread; without one the entry reads at most
    // the limit and one byte more (which makes it too large), as the full path would refuse it.
    let declared = head
        .content_length
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Front::Constant(Constant::TooLarge);
    }
    let Some(bytes) = body else {
        return Front::NeedsBody {
            declared: declared.is_some(),
        };
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Front::Constant(Constant::TooLarge);
    }
    if !is_json_media_type(head.content_type.unwrap_or_default()) {
        return Front::Constant(Constant::UnsupportedMedia);
    }
    let input = match parse_verify(bytes) {
        Ok(i) => i,
        Err(e) => return answer_problem(&ApiError::input(e)),
    };
    if let Ok(key) = PlainKey::parse(&config.key_prefix, &input.key) {
        let hash = key.hash();
        return Front::Verify(Box::new(Verifying { input, hash }));
    }
    Front::Constant(Constant::MalformedKey)
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
            Front::Constant(c) => c.answer(),
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
        // A body without a declared length is asked for too (the entry reads it bounded).
        assert_eq!(
            decide(&head("POST", "/v1/verify", None), None),
            Front::NeedsBody { declared: false }
        );
    }

    #[test]
    fn the_quick_routes_are_the_route_tables() {
        for (method, path) in [
            ("GET", "/healthz"),
            ("HEAD", "/healthz"),
            ("POST", "/v1/verify"),
        ] {
            let quick = quick_route(method, path);
            assert_eq!(quick, route(method, path).ok().map(|m| m.route), "{method}");
            assert!(quick.is_some());
        }
        for (method, path) in [
            ("POST", "/healthz"),
            ("GET", "/v1/verify"),
            ("POST", "/v1/verify/"),
            ("GET", "/healthz/"),
            ("post", "/v1/verify"),
        ] {
            assert_eq!(quick_route(method, path), None, "{method} {path}");
        }
    }

    #[test]
    fn constants_have_their_ids_and_the_full_paths_bytes() {
        for c in Constant::ALL {
            assert_eq!(Constant::from_id(c as u32), Some(c));
        }
        assert_eq!(Constant::from_id(0), None);
        assert_eq!(Constant::from_id(1), None);
        assert_eq!(
            Constant::NotFound.answer(),
            Answer::problem(&ApiError::route_not_found())
        );
        assert_eq!(
            Constant::TooLarge.answer(),
            Answer::problem(&ApiError::payload_too_large())
        );
        let too_long = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            decide(&head("POST", "/v1/verify", None), Some(&too_long)),
            Front::Constant(Constant::TooLarge)
        );
    }

    #[test]
    fn verify_asks_for_the_body_then_answers_what_needs_no_storage() {
        let h = head("POST", "/v1/verify", Some("40"));
        assert_eq!(decide(&h, None), Front::NeedsBody { declared: true });
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
        let Front::Verify(v) = decide(&h, Some(body.as_bytes())) else {
            panic!("a well-formed key goes to the verification's own path");
        };
        assert_eq!(v.input.key, key.expose_secret());
        assert_eq!(v.hash, key.hash());
    }

    #[test]
    fn the_head_comes_as_one_string() {
        let h = Head::parse("POST\nhttps://example.com/v1/verify?x=1\napplication/json\n12");
        assert_eq!((h.method, h.path), ("POST", "/v1/verify"));
        assert_eq!(h.content_type, Some("application/json"));
        assert_eq!(h.content_length, Some("12"));
        // Absent headers are empty, and read as absent.
        let h = Head::parse("GET\nhttps://example.com/healthz\n\n");
        assert_eq!((h.method, h.path), ("GET", "/healthz"));
        assert_eq!((h.content_type, h.content_length), (None, None));
        assert_eq!(
            decide(&h, None),
            decide(&head("GET", "/healthz", None), None)
        );
        let h = Head::parse("POST\nhttps://example.com/v1/verify\n\n");
        assert_eq!(decide(&h, None), Front::NeedsBody { declared: false });
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
        // A setting or a binding missing: the full path answers its 503 (and logs it).
        assert_eq!(broken, Front::Full);
        let broken = front(
            &head("POST", "/v1/verify", Some("2")),
            Err(ApiError::misconfigured("x")),
            Some(br#"{"key":"sk_live_this-is-not-a-key"}"#),
        );
        assert_eq!(broken, Front::Full);
    }
}
