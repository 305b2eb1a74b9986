//! Request bodies and query strings, parsed into typed inputs. Once a value has its type, nothing
//! checks it again. Every error names the field and says what is wrong with it.
//!
//! Bodies are JSON objects; a field this contract does not define is `unknown_field`, a field of
//! the wrong type or value is `invalid_field`, a missing required one is `missing_field`.
//!
//! - this file: the error type and [`Body`], the JSON field reader every endpoint uses;
//! - [`keys`]: API keys and verification; [`org`]: teams, projects, roles, service accounts.
//!
//! Query strings and pagination live in `core::page`.

pub mod hooks;
pub mod keys;
pub mod members;
pub mod org;

pub use hooks::*;
pub use keys::*;
pub use org::*;

use super::key::Environment;
use super::permission::{Permission, PermissionSet, MAX_PERMISSIONS};
use super::time::Timestamp;
use crate::core::ratelimit::Plan;
use serde_json::{Map, Value};

pub const MAX_BODY_BYTES: usize = 16 * 1024;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_METADATA_BYTES: usize = 1024;
pub const MAX_ROLES: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputErrorKind {
    /// Not JSON, or not a JSON object.
    InvalidJson,
    UnknownField,
    MissingField,
    InvalidField,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub kind: InputErrorKind,
    pub detail: String,
}

impl InputError {
    pub(crate) fn invalid(field: &str, what: impl std::fmt::Display) -> Self {
        InputError {
            kind: InputErrorKind::InvalidField,
            detail: format!("`{field}` {what}"),
        }
    }

    pub(crate) fn missing(field: &str) -> Self {
        InputError {
            kind: InputErrorKind::MissingField,
            detail: format!("`{field}` is required"),
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, InputError>;

/// Is this `Content-Type` JSON? `application/json` or any `application/*+json`, parameters
/// (`; charset=utf-8`) and case ignored.
pub fn is_json_media_type(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// A JSON object body, with the fields a route allows.
pub struct Body {
    map: Map<String, Value>,
}

impl Body {
    /// Parses `bytes` as a JSON object whose fields are all in `allowed`.
    pub fn parse(bytes: &[u8], allowed: &[&str]) -> Result<Self> {
        // `from_str` (after a UTF-8 check), as everywhere else: `from_slice` would compile a
        // second copy of the JSON parser into the wasm.
        let text = std::str::from_utf8(bytes).map_err(|_| InputError {
            kind: InputErrorKind::InvalidJson,
            detail: "the body is not valid JSON: it is not UTF-8".into(),
        })?;
        let value: Value = serde_json::from_str(text).map_err(|e| InputError {
            kind: InputErrorKind::InvalidJson,
            detail: format!("the body is not valid JSON: {e}"),
        })?;
        let Value::Object(map) = value else {
            return Err(InputError {
                kind: InputErrorKind::InvalidJson,
                detail: "the body must be a JSON object".into(),
            });
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(InputError {
                kind: InputErrorKind::UnknownField,
                detail: format!(
                    "unknown field `{}`; allowed fields: {}",
                    truncate(unknown, 64),
                    allowed.join(", ")
                ),
            });
        }
        Ok(Body { map })
    }

    pub fn has(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    /// The field, with `null` and absent both `None`.
    fn get(&self, field: &str) -> Option<&Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    fn str(&self, field: &str) -> Result<Option<&str>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(InputError::invalid(field, "must be a string")),
        }
    }

    pub fn name(&self, field: &str) -> Result<Option<String>> {
        self.str(field)?.map(|s| parse_name(field, s)).transpose()
    }

    pub fn required_name(&self, field: &str) -> Result<String> {
        if self.has(field) && self.get(field).is_none() {
            return Err(InputError::invalid(field, "must not be null"));
        }
        self.name(field)?.ok_or_else(|| InputError::missing(field))
    }

    pub fn description(&self, field: &str) -> Result<Option<String>> {
        let Some(s) = self.str(field)? else {
            return Ok(None);
        };
        if s.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(InputError::invalid(
                field,
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        if s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(InputError::invalid(
                field,
                "must not contain control characters",
            ));
        }
        Ok(Some(s.to_owned()))
    }

    pub fn permissions(&self, field: &str) -> Result<Option<PermissionSet>> {
        let Some(v) = self.get(field) else {
            return Ok(None);
        };
        let Value::Array(items) = v else {
            return Err(InputError::invalid(
                field,
                "must be an array of permission strings",
            ));
        };
        if items.len() > MAX_PERMISSIONS {
            return Err(InputError::invalid(
                field,
                format!("may hold at most {MAX_PERMISSIONS} permissions"),
            ));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::String(s) = item else {
                return Err(InputError::invalid(
                    &format!("{field}[{i}]"),
                    "must be a string",
                ));
            };
            let p = Permission::parse(s).map_err(|e| {
                InputError::invalid(
                    &format!("{field}[{i}]"),
                    format!("({:?}) {e}", truncate(s, 100)),
                )
            })?;
            out.push(p);
        }
        Ok(Some(PermissionSet::new(out)))
    }

    pub fn environment(&self, field: &str) -> Result<Option<Environment>> {
        self.str(field)?
            .map(|s| {
                Environment::parse(s)
                    .ok_or_else(|| InputError::invalid(field, "must be `live` or `test`"))
            })
            .transpose()
    }

    /// A future RFC 3339 time, or `None` for null/absent.
    pub fn future_time(&self, field: &str, now: Timestamp) -> Result<Option<Timestamp>> {
        let Some(s) = self.str(field)? else {
            return Ok(None);
        };
        let t = Timestamp::parse_rfc3339(s).ok_or_else(|| {
            InputError::invalid(
                field,
                "must be an RFC 3339 time such as `2026-10-14T00:00:00Z`",
            )
        })?;
        if t <= now {
            return Err(InputError::invalid(
                field,
                format!("must be in the future (now is {now})"),
            ));
        }
        Ok(Some(t))
    }

    pub fn rate_limit(&self, field: &str) -> Result<Option<RateLimitInput>> {
        let Some(v) = self.get(field) else {
            return Ok(None);
        };
        let Value::Object(map) = v else {
            return Err(InputError::invalid(
                field,
                "must be an object with `plan`, `per_minute`, `per_hour`, `per_month`",
            ));
        };
        const ALLOWED: [&str; 4] = ["plan", "per_minute", "per_hour", "per_month"];
        if let Some(k) = map.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
            return Err(InputError {
                kind: InputErrorKind::UnknownField,
                detail: format!(
                    "unknown field `{field}.{}`; allowed: plan, per_minute, per_hour, per_month",
                    truncate(k, 64)
                ),
            });
        }
        let plan = match map.get("plan").filter(|v| !v.is_null()) {
            None => None,
            Some(Value::String(s)) => Some(Plan::parse(s).ok_or_else(|| {
                InputError::invalid(
                    &format!("{field}.plan"),
                    "must be `free`, `professional` or `enterprise`",
                )
            })?),
            Some(_) => {
                return Err(InputError::invalid(
                    &format!("{field}.plan"),
                    "must be a string",
                ))
            }
        };
        let number = |name: &str| -> Result<Option<u32>> {
            match map.get(name).filter(|v| !v.is_null()) {
                None => Ok(None),
                Some(v) => v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| (1..=crate::core::ratelimit::MAX_LIMIT).contains(n))
                    .map(Some)
                    .ok_or_else(|| {
                        InputError::invalid(
                            &format!("{field}.{name}"),
                            format!(
                                "must be an integer from 1 to {}",
                                crate::core::ratelimit::MAX_LIMIT
                            ),
                        )
                    }),
            }
        };
        Ok(Some(RateLimitInput {
            plan,
            per_minute: number("per_minute")?,
            per_hour: number("per_hour")?,
            per_month: number("per_month")?,
        }))
    }

    /// A JSON object of at most 1 KiB, or `None` for null/absent.
    pub fn metadata(&self, field: &str) -> Result<Option<Map<String, Value>>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Object(m)) => {
                let size = serde_json::to_vec(m).map(|v| v.len()).unwrap_or(usize::MAX);
                if size > MAX_METADATA_BYTES {
                    return Err(InputError::invalid(
                        field,
                        format!(
                            "must be at most {MAX_METADATA_BYTES} bytes as JSON (it is {size})"
                        ),
                    ));
                }
                Ok(Some(m.clone()))
            }
            Some(_) => Err(InputError::invalid(field, "must be a JSON object")),
        }
    }

    /// An id of type `T`, or `None` for null/absent.
    pub fn id<T: crate::core::ids::TypedId>(&self, field: &str) -> Result<Option<T>> {
        self.str(field)?
            .map(|s| {
                T::parse(s).ok_or_else(|| {
                    InputError::invalid(
                        field,
                        format!("must be an id starting with `{}`", T::KIND.prefix()),
                    )
                })
            })
            .transpose()
    }

    /// A boolean field (`null` is refused: a flag is on or off).
    pub fn bool(&self, field: &str) -> Result<Option<bool>> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(InputError::invalid(field, "must be true or false")),
        }
    }

    /// An integer field within `min..=max` (`null` is absent).
    pub fn integer(&self, field: &str, min: i64, max: i64) -> Result<Option<i64>> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .filter(|n| (min..=max).contains(n))
                .map(Some)
                .ok_or_else(|| {
                    InputError::invalid(field, format!("must be an integer from {min} to {max}"))
                }),
        }
    }

    /// The raw string of a field (for the key in `/v1/verify`, which is judged elsewhere).
    pub fn required_string(&self, field: &str) -> Result<String> {
        self.str(field)?
            .map(str::to_owned)
            .ok_or_else(|| InputError::missing(field))
    }

    /// The field as sent (`null` included).
    pub(crate) fn get_raw(&self, field: &str) -> Option<&Value> {
        self.map.get(field)
    }

    /// Is the field present with an explicit `null`?
    pub fn is_null(&self, field: &str) -> bool {
        self.map.get(field).is_some_and(Value::is_null)
    }
}

pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_owned()
    } else {
        s.chars().take(max_chars).chain(['…']).collect()
    }
}

/// A display name: trimmed, 1–100 characters, no control characters.
pub fn parse_name(field: &str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(InputError::invalid(field, "must not be empty"));
    }
    if t.chars().count() > MAX_NAME_CHARS {
        return Err(InputError::invalid(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(InputError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        for yes in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(is_json_media_type(yes), "{yes}");
        }
        for no in ["", "text/plain", "application/jsonx", "text/json", "json"] {
            assert!(!is_json_media_type(no), "{no}");
        }
    }
}
