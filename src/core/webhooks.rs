//! Webhooks, the pure side: event names, endpoint URLs (https and a public host), secrets, the
//! Standard Webhooks signature, and the retry schedule. The delivery itself (an outbox in a
//! Durable Object, alarms, `fetch`) is at the edge; every decision it makes is here.
//!
//! URLs are parsed by hand, narrowly: a full URL parser (the `url` crate) brings IDNA tables that
//! would cost the wasm more than everything here. What is accepted is a strict subset:
//! `https://host[:port][/path][?query]`, ASCII only, no user-info, no fragment; the host is read
//! as the URL standard reads it and judged by the address it denotes (`core::host`).

pub use super::host::Host;
use super::random::Random;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Mac, SimpleHmac};
use sha2::Sha256;

/// Every event a webhook can subscribe to (`"*"` is all of them).
pub const EVENTS: [&str; 18] = [
    "api_key.created",
    "api_key.updated",
    "api_key.rolled",
    "api_key.disabled",
    "api_key.deleted",
    "api_key.expiring",
    "api_key.expired",
    "api_key.renewed",
    "api_key.rate_limited",
    "api_key.new_location",
    "api_key.quota_exceeded",
    "api_key.credits_low",
    "api_key.blocked_ip",
    "api_key.leaked",
    "api_key.idle",
    "member.added",
    "member.removed",
    "webhook.test",
];

/// Is `name` an event, or `*`?
pub fn is_event_filter(name: &str) -> bool {
    name == "*" || EVENTS.contains(&name)
}

/// Does a subscription to `filters` receive `event`? (`webhook.test` goes to the endpoint it is
/// sent to, whatever it subscribes to.)
pub fn subscribed(filters: &[String], event: &str) -> bool {
    event == "webhook.test" || filters.iter().any(|f| f == "*" || f == event)
}

/// Why an endpoint URL is refused (each a `400` naming the reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlError {
    TooLong,
    NotHttps,
    Malformed,
    UserInfo,
    Fragment,
    BadPort,
    /// Loopback, private, link-local, shared, documentation, multicast or otherwise not public,
    /// in any notation (`core::host`).
    NotPublic,
}

impl UrlError {
    pub fn message(self) -> &'static str {
        match self {
            UrlError::TooLong => "must be at most 2048 characters",
            UrlError::NotHttps => "must start with https://",
            UrlError::Malformed => "is not a URL of the form https://host[:port][/path][?query]",
            UrlError::UserInfo => "must not carry a user or password (`user:pass@`)",
            UrlError::Fragment => "must not have a fragment (`#…`)",
            UrlError::BadPort => "has a port outside 1–65535",
            UrlError::NotPublic => {
                "must name a public host: loopback, private, link-local and other special-purpose \
                 addresses, in any notation, are refused"
            }
        }
    }
}

/// The parts of an accepted URL that a caller may need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointUrl {
    pub url: String,
    pub host: Host,
    pub port: Option<u16>,
}

pub const MAX_URL_LEN: usize = 2048;

/// Checks an endpoint URL. Its host is read as `fetch` will read it (`core::host`: numeric
/// IPv4 forms, IPv4 carried in IPv6) and must be public. `allow_insecure` (the
/// `ALLOW_INSECURE_WEBHOOKS` setting, local development and tests only) also accepts `http://`
/// and loopback or private hosts (still well-formed).
pub fn parse_endpoint_url(s: &str, allow_insecure: bool) -> Result<EndpointUrl, UrlError> {
    if s.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    if !s.is_ascii() || s.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') {
        return Err(UrlError::Malformed);
    }
    let rest = if let Some(r) = strip_prefix_ignore_case(s, "https://") {
        r
    } else if let Some(r) = strip_prefix_ignore_case(s, "http://").filter(|_| allow_insecure) {
        r
    } else {
        return Err(UrlError::NotHttps);
    };
    if s.contains('#') {
        return Err(UrlError::Fragment);
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.contains('@') {
        return Err(UrlError::UserInfo);
    }
    let (host, port) = split_host_port(authority)?;
    if !allow_insecure && !host.is_public() {
        return Err(UrlError::NotPublic);
    }
    Ok(EndpointUrl {
        url: s.to_owned(),
        host,
        port,
    })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`: the host as the URL standard reads it, and the
/// port.
fn split_host_port(authority: &str) -> Result<(Host, Option<u16>), UrlError> {
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => {
                let port = match &authority[end + 1..] {
                    "" => None,
                    p => Some(p.strip_prefix(':').ok_or(UrlError::Malformed)?),
                };
                (&authority[..=end], port)
            }
            None => return Err(UrlError::Malformed),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => {
            let n: u32 = p.parse().map_err(|_| UrlError::BadPort)?;
            if !(1..=65535).contains(&n) || p.starts_with('+') {
                return Err(UrlError::BadPort);
            }
            Some(n as u16)
        }
    };
    let host = Host::parse(&host.to_ascii_lowercase()).map_err(|_| UrlError::Malformed)?;
    Ok((host, port))
}

/// A new endpoint secret: `whsec_` and the base64 of 32 random bytes. Shown once.
pub fn new_secret(rng: &mut impl Random) -> String {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes);
    format!("whsec_{}", BASE64.encode(bytes))
}

/// The key bytes of a secret (the base64 after `whsec_`).
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    BASE64.decode(secret.strip_prefix("whsec_")?).ok()
}

/// One signature of the Standard Webhooks specification: `v1,` and the base64 of
/// HMAC-SHA256(key, "{id}.{timestamp}.{body}").
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <SimpleHmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per current secret (two during a rotation),
/// space-separated.
pub fn signature_header(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &str) -> String {
    keys.iter()
        .map(|k| signature(k, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// After a rotation, the old secret still signs for this long.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;

/// Delays before the retries of a failed delivery: ~5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
/// 20 h, 24 h; then the delivery is dropped.
pub const RETRY_DELAYS_MS: [i64; 9] = [
    5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000,
    86_400_000,
];

/// The delay before retry number `retry` (1 for the first retry), with up to ±10 % jitter from
/// `jitter` in [0, 1); `None` once every retry has been used.
pub fn retry_delay(retry: usize, jitter: f64) -> Option<i64> {
    let base = *RETRY_DELAYS_MS.get(retry.checked_sub(1)?)?;
    let factor = 0.9 + 0.2 * jitter.clamp(0.0, 1.0);
    Some((base as f64 * factor) as i64)
}

/// What an endpoint's answer means for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Try again later (per [`retry_delay`]).
    Retry,
    /// `410 Gone`: disable the endpoint at once.
    Gone,
}

/// A status (or none: a network error or the 10 s timeout).
pub fn outcome(status: Option<u16>) -> Outcome {
    match status {
        Some(s) if (200..300).contains(&s) => Outcome::Delivered,
        Some(410) => Outcome::Gone,
        _ => Outcome::Retry,
    }
}

/// An endpoint that has failed every delivery for this long is disabled.
pub const DISABLE_AFTER_FAILING_MS: i64 = 5 * 86_400_000;

/// Should an endpoint failing since `failing_since` (ms) be disabled at `now` (ms)?
pub fn failing_too_long(failing_since: Option<i64>, now: i64) -> bool {
    failing_since.is_some_and(|since| now - since >= DISABLE_AFTER_FAILING_MS)
}

#[cfg(test)]
#[path = "webhooks_tests.rs"]
mod tests;
