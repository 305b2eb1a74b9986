//! Webhook request bodies: `POST /v1/webhooks` and `PATCH /v1/webhooks/{id}`.

use super::{Body, InputError, Result};
use crate::core::team::webhooks::EndpointPatch;
use crate::core::webhooks::{is_event_filter, parse_endpoint_url, EVENTS};
use serde_json::Value;

/// At most this many event names per endpoint (there are 13, and `*`).
const MAX_EVENTS: usize = 20;

/// `POST /v1/webhooks`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

fn url(b: &Body, allow_insecure: bool) -> Result<Option<String>> {
    match b.get_raw("url") {
        None => Ok(None),
        Some(Value::String(s)) => parse_endpoint_url(s, allow_insecure)
            .map(|u| Some(u.url))
            .map_err(|e| InputError::invalid("url", e.message())),
        Some(_) => Err(InputError::invalid("url", "must be a string")),
    }
}

fn events(b: &Body) -> Result<Option<Vec<String>>> {
    let Some(v) = b.get_raw("events") else {
        return Ok(None);
    };
    let Value::Array(items) = v else {
        return Err(InputError::invalid(
            "events",
            "must be an array of event names",
        ));
    };
    if items.is_empty() || items.len() > MAX_EVENTS {
        return Err(InputError::invalid(
            "events",
            format!("must list 1 to {MAX_EVENTS} event names (or \"*\")"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(name) if is_event_filter(name) => {
                if !out.iter().any(|n| n == name) {
                    out.push(name.to_owned());
                }
            }
            _ => {
                return Err(InputError::invalid(
                    &format!("events[{i}]"),
                    format!("must be \"*\" or one of: {}", EVENTS.join(", ")),
                ))
            }
        }
    }
    Ok(Some(out))
}

pub fn parse_new_endpoint(bytes: &[u8], allow_insecure: bool) -> Result<NewEndpoint> {
    let b = Body::parse(bytes, &["url", "events", "description"])?;
    Ok(NewEndpoint {
        url: url(&b, allow_insecure)?.ok_or_else(|| InputError::missing("url"))?,
        events: events(&b)?.ok_or_else(|| InputError::missing("events"))?,
        description: b.description("description")?,
    })
}

pub fn parse_endpoint_patch(bytes: &[u8], allow_insecure: bool) -> Result<EndpointPatch> {
    let b = Body::parse(bytes, &["url", "events", "description", "enabled"])?;
    for field in ["url", "events", "enabled"] {
        if b.is_null(field) {
            return Err(InputError::invalid(field, "must not be null"));
        }
    }
    Ok(EndpointPatch {
        url: url(&b, allow_insecure)?,
        events: events(&b)?,
        description: b
            .has("description")
            .then(|| b.description("description"))
            .transpose()?,
        enabled: b.bool("enabled")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_endpoint_needs_a_public_https_url_and_known_events() {
        let ok = parse_new_endpoint(
            br#"{"url":"https://hooks.example.com/k","events":["api_key.created","*","*"]}"#,
            false,
        )
        .unwrap();
        assert_eq!(ok.events, ["api_key.created", "*"]);
        for (body, field) in [
            (r#"{"url":"http://example.com","events":["*"]}"#, "url"),
            (r#"{"url":"https://127.0.0.1/x","events":["*"]}"#, "url"),
            (r#"{"url":"https://u:p@example.com","events":["*"]}"#, "url"),
            (
                r#"{"url":"https://example.com","events":["api_key.nope"]}"#,
                "events[0]",
            ),
            (r#"{"url":"https://example.com","events":[]}"#, "events"),
            (r#"{"url":"https://example.com"}"#, "events"),
            (r#"{"events":["*"]}"#, "url"),
        ] {
            let e = parse_new_endpoint(body.as_bytes(), false).unwrap_err();
            assert!(
                e.detail.contains(&format!("`{field}`")),
                "{body}: {}",
                e.detail
            );
        }
        let long = format!(
            r#"{{"url":"https://example.com","events":["*"],"description":"{}"}}"#,
            "d".repeat(600)
        );
        assert!(parse_new_endpoint(long.as_bytes(), false).is_err());
        assert!(
            parse_new_endpoint(br#"{"url":"http://127.0.0.1:9/x","events":["*"]}"#, true).is_ok()
        );
    }

    #[test]
    fn a_patch_names_only_what_changes() {
        let p = parse_endpoint_patch(br#"{"enabled":false,"description":null}"#, false).unwrap();
        assert_eq!(
            (p.enabled, p.description, p.url),
            (Some(false), Some(None), None)
        );
        assert!(parse_endpoint_patch(br#"{"url":null}"#, false).is_err());
        assert!(parse_endpoint_patch(br#"{"enabled":"yes"}"#, false).is_err());
    }
}
