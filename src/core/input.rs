//! Request bodies and query strings, parsed into typed inputs. Once a value has its type, nothing
//! checks it again. Every error names the field and says what is wrong with it.
//!
//! Bodies are JSON objects; a field this contract does not define is `unknown_field`, a field of
//! the wrong type or value is `invalid_field`, a missing required one is `missing_field`.

use super::key::Environment;
use super::permission::{Permission, PermissionSet, MAX_PERMISSIONS};
use super::ratelimit::{Plan, PolicyError, RateLimitPolicy};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const MAX_BODY_BYTES: usize = 16 * 1024;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_METADATA_BYTES: usize = 1024;
pub const MAX_ROLES: usize = 50;
pub const DEFAULT_PAGE_LIMIT: usize = 20;
pub const MAX_PAGE_LIMIT: usize = 100;

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
    fn invalid(field: &str, what: impl std::fmt::Display) -> Self {
        InputError {
            kind: InputErrorKind::InvalidField,
            detail: format!("`{field}` {what}"),
        }
    }

    fn missing(field: &str) -> Self {
        InputError {
            kind: InputErrorKind::MissingField,
            detail: format!("`{field}` is required"),
        }
    }
}

type Result<T> = std::result::Result<T, InputError>;

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
        let value: Value = serde_json::from_slice(bytes).map_err(|e| InputError {
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
            return Err(InputError::invalid(field, "must be at most 500 characters"));
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
                "may hold at most 100 permissions",
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
                "must be an object with `plan`, `per_minute`, `per_hour`",
            ));
        };
        const ALLOWED: [&str; 3] = ["plan", "per_minute", "per_hour"];
        if let Some(k) = map.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
            return Err(InputError {
                kind: InputErrorKind::UnknownField,
                detail: format!(
                    "unknown field `{field}.{}`; allowed: plan, per_minute, per_hour",
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
                    .filter(|n| (1..=super::ratelimit::MAX_LIMIT).contains(n))
                    .map(Some)
                    .ok_or_else(|| {
                        InputError::invalid(
                            &format!("{field}.{name}"),
                            "must be an integer from 1 to 1000000000",
                        )
                    }),
            }
        };
        Ok(Some(RateLimitInput {
            plan,
            per_minute: number("per_minute")?,
            per_hour: number("per_hour")?,
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
                        format!("must be at most 1024 bytes as JSON (it is {size})"),
                    ));
                }
                Ok(Some(m.clone()))
            }
            Some(_) => Err(InputError::invalid(field, "must be a JSON object")),
        }
    }

    /// A team's `limits` object, or `None` for null/absent.
    pub fn limits(&self, field: &str) -> Result<Option<super::limits::LimitsPatch>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Object(m)) => {
                super::limits::LimitsPatch::parse(m)
                    .map(Some)
                    .map_err(|e| match e {
                        super::limits::LimitsError::Unknown(detail) => InputError {
                            kind: InputErrorKind::UnknownField,
                            detail,
                        },
                        super::limits::LimitsError::Invalid(detail) => InputError {
                            kind: InputErrorKind::InvalidField,
                            detail,
                        },
                    })
            }
            Some(_) => Err(InputError::invalid(field, "must be an object of limits")),
        }
    }

    /// An id string of the kind named by `check`, or `None` for null/absent.
    pub fn id(&self, field: &str, kind: super::ids::IdKind) -> Result<Option<String>> {
        self.str(field)?
            .map(|s| {
                if super::ids::is_id(kind, s) {
                    Ok(s.to_owned())
                } else {
                    Err(InputError::invalid(
                        field,
                        format!("must be an id starting with `{}`", kind.prefix()),
                    ))
                }
            })
            .transpose()
    }

    /// An array of names (role names), deduplicated.
    pub fn names(&self, field: &str) -> Result<Option<Vec<String>>> {
        let Some(v) = self.get(field) else {
            return Ok(None);
        };
        let Value::Array(items) = v else {
            return Err(InputError::invalid(field, "must be an array of strings"));
        };
        if items.len() > MAX_ROLES {
            return Err(InputError::invalid(field, "may hold at most 50 names"));
        }
        let mut out: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Value::String(s) = item else {
                return Err(InputError::invalid(
                    &format!("{field}[{i}]"),
                    "must be a string",
                ));
            };
            let n = parse_name(&format!("{field}[{i}]"), s)?;
            if !out.contains(&n) {
                out.push(n);
            }
        }
        Ok(Some(out))
    }

    /// The raw string of a field (for the key in `/v1/verify`, which is judged elsewhere).
    pub fn required_string(&self, field: &str) -> Result<String> {
        self.str(field)?
            .map(str::to_owned)
            .ok_or_else(|| InputError::missing(field))
    }

    /// Is the field present with an explicit `null`?
    pub fn is_null(&self, field: &str) -> bool {
        self.map.get(field).is_some_and(Value::is_null)
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
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
        return Err(InputError::invalid(field, "must be at most 100 characters"));
    }
    if t.chars().any(char::is_control) {
        return Err(InputError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(t.to_owned())
}

/// A rate-limit request before it is resolved against a plan (and, for updates, the current
/// policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitInput {
    pub plan: Option<Plan>,
    pub per_minute: Option<u32>,
    pub per_hour: Option<u32>,
}

impl RateLimitInput {
    /// On create (`current` is `None`) the plan defaults to `free`. On update, a new plan brings
    /// its own numbers; without one, the key keeps its plan and numbers and only the numbers
    /// given change.
    pub fn resolve(self, current: Option<&RateLimitPolicy>) -> Result<RateLimitPolicy> {
        let result = match (self.plan, current) {
            (Some(plan), _) => RateLimitPolicy::build(plan, self.per_minute, self.per_hour),
            (None, Some(cur)) => RateLimitPolicy::build(
                cur.plan,
                Some(self.per_minute.unwrap_or(cur.per_minute)),
                Some(self.per_hour.unwrap_or(cur.per_hour)),
            ),
            (None, None) => RateLimitPolicy::build(Plan::Free, self.per_minute, self.per_hour),
        };
        result.map_err(|e| match e {
            PolicyError::EnterpriseNeedsBoth => InputError::invalid(
                "rate_limit",
                "with plan `enterprise` needs both `per_minute` and `per_hour`",
            ),
            PolicyError::OutOfRange(f) => InputError::invalid(
                &format!("rate_limit.{f}"),
                "must be an integer from 1 to 1000000000",
            ),
        })
    }
}

/// `POST /v1/api-keys`.
#[derive(Clone, Debug, PartialEq)]
pub struct NewKey {
    pub name: String,
    pub description: Option<String>,
    pub permissions: PermissionSet,
    pub environment: Option<Environment>,
    pub expires_at: Option<Timestamp>,
    pub rate_limit: RateLimitPolicy,
    /// Absent, `null` (every project) or a project: a scoped caller's absent means its own.
    pub project: super::access::ProjectChoice,
    pub service_account_id: Option<String>,
    pub metadata: Option<Map<String, Value>>,
}

pub fn parse_new_key(bytes: &[u8], now: Timestamp) -> Result<NewKey> {
    use super::ids::IdKind;
    let b = Body::parse(
        bytes,
        &[
            "name",
            "description",
            "permissions",
            "environment",
            "expires_at",
            "rate_limit",
            "project_id",
            "service_account_id",
            "metadata",
        ],
    )?;
    let new = NewKey {
        name: b.required_name("name")?,
        description: b.description("description")?,
        permissions: b.permissions("permissions")?.unwrap_or_default(),
        environment: b.environment("environment")?,
        expires_at: b.future_time("expires_at", now)?,
        rate_limit: match b.rate_limit("rate_limit")? {
            Some(r) => r.resolve(None)?,
            None => RateLimitPolicy::free(),
        },
        project: match b.id("project_id", IdKind::Project)? {
            Some(p) => super::access::ProjectChoice::Project(p),
            None if b.is_null("project_id") => super::access::ProjectChoice::Unscoped,
            None => super::access::ProjectChoice::Absent,
        },
        service_account_id: b.id("service_account_id", IdKind::ServiceAccount)?,
        metadata: b.metadata("metadata")?,
    };
    if new.service_account_id.is_some() && b.has("permissions") {
        return Err(InputError::invalid(
            "permissions",
            "cannot be given with `service_account_id`: the key takes its service account's role permissions",
        ));
    }
    Ok(new)
}

/// `PATCH /v1/api-keys/{id}`: each field is `None` when not given. `Some(None)` clears.
/// (It travels to the key's object, which applies it; absent and `null` stay distinct there.)
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionSet>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub expires_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitInput>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub metadata: Option<Option<Map<String, Value>>>,
}

/// Absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))` (with `default` and
/// `skip_serializing_if = "Option::is_none"` on the field).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

pub fn parse_key_patch(bytes: &[u8], now: Timestamp) -> Result<KeyPatch> {
    let b = Body::parse(
        bytes,
        &[
            "name",
            "description",
            "permissions",
            "expires_at",
            "rate_limit",
            "metadata",
        ],
    )?;
    for field in ["name", "permissions", "rate_limit"] {
        if b.is_null(field) {
            return Err(InputError::invalid(field, "must not be null"));
        }
    }
    let given = |f: &str| b.has(f);
    Ok(KeyPatch {
        name: b.name("name")?,
        description: given("description")
            .then(|| b.description("description"))
            .transpose()?,
        permissions: b.permissions("permissions")?,
        expires_at: given("expires_at")
            .then(|| b.future_time("expires_at", now))
            .transpose()?,
        rate_limit: b.rate_limit("rate_limit")?,
        metadata: given("metadata")
            .then(|| b.metadata("metadata"))
            .transpose()?,
    })
}

/// `POST /v1/verify`.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifyRequest {
    pub key: String,
    pub permissions: PermissionSet,
    pub project_id: Option<String>,
}

pub fn parse_verify(bytes: &[u8]) -> Result<VerifyRequest> {
    let b = Body::parse(bytes, &["key", "permissions", "project_id"])?;
    Ok(VerifyRequest {
        key: b.required_string("key")?,
        permissions: b.permissions("permissions")?.unwrap_or_default(),
        project_id: b.id("project_id", super::ids::IdKind::Project)?,
    })
}

/// `POST /v1/teams`: a name and, optionally, limits that differ from the defaults.
pub fn parse_new_team(bytes: &[u8]) -> Result<(String, super::limits::LimitsPatch)> {
    let b = Body::parse(bytes, &["name", "limits"])?;
    let name = b.required_name("name")?;
    let limits = b.limits("limits")?.unwrap_or_default();
    limits.check_new_team().map_err(|detail| InputError {
        kind: InputErrorKind::InvalidField,
        detail,
    })?;
    Ok((name, limits))
}

/// `PATCH /v1/teams/{id}`.
pub fn parse_team_patch(bytes: &[u8]) -> Result<(Option<String>, super::limits::LimitsPatch)> {
    let b = Body::parse(bytes, &["name", "limits"])?;
    for field in ["name", "limits"] {
        if b.is_null(field) {
            return Err(InputError::invalid(field, "must not be null"));
        }
    }
    Ok((b.name("name")?, b.limits("limits")?.unwrap_or_default()))
}

/// A body with just a name (`POST /v1/projects`).
pub fn parse_named(bytes: &[u8]) -> Result<String> {
    Body::parse(bytes, &["name"])?.required_name("name")
}

/// `POST /v1/roles`.
pub fn parse_new_role(bytes: &[u8]) -> Result<(String, PermissionSet)> {
    let b = Body::parse(bytes, &["name", "permissions"])?;
    Ok((
        b.required_name("name")?,
        b.permissions("permissions")?
            .ok_or_else(|| InputError::missing("permissions"))?,
    ))
}

/// `PATCH /v1/roles/{id}`.
pub fn parse_role_patch(bytes: &[u8]) -> Result<(Option<String>, Option<PermissionSet>)> {
    let b = Body::parse(bytes, &["name", "permissions"])?;
    for field in ["name", "permissions"] {
        if b.is_null(field) {
            return Err(InputError::invalid(field, "must not be null"));
        }
    }
    Ok((b.name("name")?, b.permissions("permissions")?))
}

/// `POST /v1/service-accounts`.
pub fn parse_new_service_account(bytes: &[u8]) -> Result<(String, Vec<String>)> {
    let b = Body::parse(bytes, &["name", "roles"])?;
    Ok((
        b.required_name("name")?,
        b.names("roles")?.unwrap_or_default(),
    ))
}

/// `PATCH /v1/service-accounts/{id}`.
pub fn parse_service_account_patch(bytes: &[u8]) -> Result<(Option<String>, Option<Vec<String>>)> {
    let b = Body::parse(bytes, &["name", "roles"])?;
    for field in ["name", "roles"] {
        if b.is_null(field) {
            return Err(InputError::invalid(field, "must not be null"));
        }
    }
    Ok((b.name("name")?, b.names("roles")?))
}

/// `GET /v1/api-keys` query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    pub limit: usize,
    /// Opaque to clients: the position after which the next page starts.
    pub cursor: Option<i64>,
    pub environment: Option<Environment>,
    pub project_id: Option<String>,
}

/// Parses `limit`, `cursor`, and the filters named in `filters` out of decoded query pairs.
pub fn parse_list_query(pairs: &[(String, String)], filters: &[&str]) -> Result<ListQuery> {
    let mut q = ListQuery {
        limit: DEFAULT_PAGE_LIMIT,
        cursor: None,
        environment: None,
        project_id: None,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "limit" => {
                q.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE_LIMIT).contains(n))
                    .ok_or_else(|| {
                        InputError::invalid("limit", "must be an integer from 1 to 100")
                    })?;
            }
            // An empty cursor is the first page (what a client holding no cursor may send).
            "cursor" if v.is_empty() => q.cursor = None,
            "cursor" => {
                q.cursor = Some(decode_cursor(v).ok_or_else(|| {
                    InputError::invalid("cursor", "is not a cursor this API returned")
                })?);
            }
            "environment" if filters.contains(&"environment") => {
                q.environment = Some(Environment::parse(v).ok_or_else(|| {
                    InputError::invalid("environment", "must be `live` or `test`")
                })?);
            }
            "project_id" if filters.contains(&"project_id") => {
                if !super::ids::is_id(super::ids::IdKind::Project, v) {
                    return Err(InputError::invalid(
                        "project_id",
                        "must be an id starting with `proj_`",
                    ));
                }
                q.project_id = Some(v.clone());
            }
            other => {
                return Err(InputError {
                    kind: InputErrorKind::UnknownField,
                    detail: format!("unknown query parameter `{}`", truncate(other, 64)),
                })
            }
        }
    }
    Ok(q)
}

/// Cursors are `c` + a decimal position: opaque to clients, cheap to check.
pub fn encode_cursor(position: i64) -> String {
    format!("c{position}")
}

fn decode_cursor(s: &str) -> Option<i64> {
    s.strip_prefix('c')?.parse::<i64>().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-10-14T00:00:00Z").unwrap()
    }

    fn err(r: Result<impl std::fmt::Debug>) -> InputError {
        r.expect_err("should fail")
    }

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

    #[test]
    fn team_bodies() {
        let (name, limits) = parse_new_team(br#"{"name":"Acme","limits":{"max_keys":5}}"#).unwrap();
        assert_eq!((name.as_str(), limits.max_keys), ("Acme", Some(5)));
        assert!(parse_new_team(br#"{"name":"Acme","limits":null}"#).is_ok());
        let e = err(parse_new_team(
            br#"{"name":"Acme","limits":{"max_keys":0}}"#,
        ));
        assert!(e.detail.contains("at least 1"), "{e:?}");
        let e = err(parse_new_team(
            br#"{"name":"Acme","limits":{"max_keyz":1}}"#,
        ));
        assert_eq!(e.kind, InputErrorKind::UnknownField);
        let (name, limits) = parse_team_patch(br#"{"limits":{"max_keys":0}}"#).unwrap();
        assert_eq!(
            (name, limits.max_keys),
            (None, Some(0)),
            "0 is allowed later"
        );
        assert_eq!(
            err(parse_team_patch(br#"{"limits":null}"#)).kind,
            InputErrorKind::InvalidField
        );
    }

    #[test]
    fn new_key_defaults() {
        let k = parse_new_key(br#"{"name":"  Production App  "}"#, now()).unwrap();
        assert_eq!(k.name, "Production App");
        assert!(k.permissions.is_empty());
        assert_eq!(k.environment, None);
        assert_eq!(k.rate_limit, RateLimitPolicy::free());
        assert_eq!(k.expires_at, None);
    }

    #[test]
    fn new_key_full() {
        let body =
            br#"{"name":"n","description":"d","permissions":["tasks:read","tasks:read","events:*"],
            "environment":"test","expires_at":"2027-01-01T00:00:00+01:00",
            "rate_limit":{"plan":"enterprise","per_minute":5,"per_hour":50},"metadata":{"a":[1]}}"#;
        let k = parse_new_key(body, now()).unwrap();
        assert_eq!(k.permissions.len(), 2);
        assert_eq!(k.environment, Some(Environment::Test));
        assert_eq!(k.expires_at.unwrap().to_string(), "2026-12-31T23:00:00Z");
        assert_eq!(k.rate_limit.per_hour, 50);
        assert_eq!(k.metadata.unwrap()["a"], serde_json::json!([1]));
    }

    #[test]
    fn bad_bodies_name_what_is_wrong() {
        use InputErrorKind::*;
        let cases: &[(&[u8], InputErrorKind, &str)] = &[
            (b"not json", InvalidJson, "not valid JSON"),
            (b"[1]", InvalidJson, "JSON object"),
            (br#"{"name":"x","colour":"red"}"#, UnknownField, "`colour`"),
            (br#"{}"#, MissingField, "`name` is required"),
            (br#"{"name":null}"#, InvalidField, "`name` must not be null"),
            (br#"{"name":5}"#, InvalidField, "`name` must be a string"),
            (
                br#"{"name":"   "}"#,
                InvalidField,
                "`name` must not be empty",
            ),
            (
                br#"{"name":"a\u0007b"}"#,
                InvalidField,
                "control characters",
            ),
            (
                br#"{"name":"x","permissions":"tasks:read"}"#,
                InvalidField,
                "`permissions` must be an array",
            ),
            (
                br#"{"name":"x","permissions":["Tasks:read"]}"#,
                InvalidField,
                "`permissions[0]`",
            ),
            (
                br#"{"name":"x","permissions":[1]}"#,
                InvalidField,
                "`permissions[0]` must be a string",
            ),
            (
                br#"{"name":"x","environment":"prod"}"#,
                InvalidField,
                "`environment`",
            ),
            (
                br#"{"name":"x","expires_at":"2020-01-01T00:00:00Z"}"#,
                InvalidField,
                "in the future",
            ),
            (
                br#"{"name":"x","expires_at":"next week"}"#,
                InvalidField,
                "RFC 3339",
            ),
            (
                br#"{"name":"x","rate_limit":{"plan":"gold"}}"#,
                InvalidField,
                "`rate_limit.plan`",
            ),
            (
                br#"{"name":"x","rate_limit":{"plan":"enterprise","per_minute":5}}"#,
                InvalidField,
                "both",
            ),
            (
                br#"{"name":"x","rate_limit":{"per_minute":-1}}"#,
                InvalidField,
                "`rate_limit.per_minute`",
            ),
            (
                br#"{"name":"x","rate_limit":{"burst":1}}"#,
                UnknownField,
                "rate_limit.burst",
            ),
            (
                br#"{"name":"x","metadata":[1]}"#,
                InvalidField,
                "`metadata` must be a JSON object",
            ),
            (
                br#"{"name":"x","project_id":"key_1"}"#,
                InvalidField,
                "`project_id`",
            ),
        ];
        for (body, kind, needle) in cases {
            let e = err(parse_new_key(body, now()));
            assert_eq!(
                e.kind,
                *kind,
                "{}: {}",
                String::from_utf8_lossy(body),
                e.detail
            );
            assert!(
                e.detail.contains(needle),
                "{} → {}",
                String::from_utf8_lossy(body),
                e.detail
            );
        }
    }

    #[test]
    fn length_limits() {
        let long = format!(r#"{{"name":"{}"}}"#, "é".repeat(101));
        assert!(err(parse_new_key(long.as_bytes(), now()))
            .detail
            .contains("100"));
        let ok = format!(r#"{{"name":"{}"}}"#, "é".repeat(100));
        assert!(
            parse_new_key(ok.as_bytes(), now()).is_ok(),
            "100 characters, not bytes"
        );
        let desc = format!(r#"{{"name":"x","description":"{}"}}"#, "d".repeat(501));
        assert!(err(parse_new_key(desc.as_bytes(), now()))
            .detail
            .contains("500"));
        let meta = format!(
            r#"{{"name":"x","metadata":{{"k":"{}"}}}}"#,
            "v".repeat(1020)
        );
        assert!(err(parse_new_key(meta.as_bytes(), now()))
            .detail
            .contains("1024"));
    }

    #[test]
    fn patch_distinguishes_absent_from_null() {
        let p = parse_key_patch(br#"{"description":null,"expires_at":null}"#, now()).unwrap();
        assert_eq!(p.description, Some(None));
        assert_eq!(p.expires_at, Some(None));
        assert_eq!(p.name, None);
        assert_eq!(p.metadata, None);
        let e = err(parse_key_patch(br#"{"environment":"test"}"#, now()));
        assert_eq!(e.kind, InputErrorKind::UnknownField);
        let e = err(parse_key_patch(
            br#"{"expires_at":"2001-01-01T00:00:00Z"}"#,
            now(),
        ));
        assert!(e.detail.contains("future"));
        assert!(parse_key_patch(br#"{"name":null}"#, now()).is_err());
    }

    #[test]
    fn patches_keep_absent_and_null_apart_on_the_wire() {
        for body in [
            &br#"{"description":null,"name":"x"}"#[..],
            br#"{"expires_at":"2027-01-01T00:00:00Z"}"#,
            br#"{}"#,
        ] {
            let p = parse_key_patch(body, now()).unwrap();
            let wire = serde_json::to_string(&p).unwrap();
            assert_eq!(
                serde_json::from_str::<KeyPatch>(&wire).unwrap(),
                p,
                "{wire}"
            );
        }
    }

    #[test]
    fn rate_limit_resolution_on_update() {
        let pro = RateLimitPolicy::build(Plan::Professional, None, Some(20_000)).unwrap();
        let only_minute = RateLimitInput {
            plan: None,
            per_minute: Some(7),
            per_hour: None,
        };
        let r = only_minute.resolve(Some(&pro)).unwrap();
        assert_eq!(
            (r.plan, r.per_minute, r.per_hour),
            (Plan::Professional, 7, 20_000)
        );
        let to_free = RateLimitInput {
            plan: Some(Plan::Free),
            per_minute: None,
            per_hour: None,
        };
        assert_eq!(
            to_free.resolve(Some(&pro)).unwrap(),
            RateLimitPolicy::free()
        );
    }

    #[test]
    fn list_query() {
        let pairs = |s: &[(&str, &str)]| -> Vec<(String, String)> {
            s.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let q = parse_list_query(
            &pairs(&[("limit", "5"), ("cursor", "c42"), ("environment", "test")]),
            &["environment", "project_id"],
        )
        .unwrap();
        assert_eq!(
            (q.limit, q.cursor, q.environment),
            (5, Some(42), Some(Environment::Test))
        );
        for bad in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "x"),
            ("cursor", "42"),
            ("environment", "prod"),
            ("sort", "asc"),
        ] {
            assert!(
                parse_list_query(&pairs(&[bad]), &["environment"]).is_err(),
                "{bad:?}"
            );
        }
        assert!(
            parse_list_query(&pairs(&[("environment", "live")]), &[]).is_err(),
            "filter not offered"
        );
    }

    #[test]
    fn verify_body() {
        let v = parse_verify(br#"{"key":"sk_live_x","permissions":["tasks:read"]}"#).unwrap();
        assert_eq!(v.key, "sk_live_x");
        assert_eq!(
            err(parse_verify(br#"{}"#)).kind,
            InputErrorKind::MissingField
        );
        assert_eq!(
            err(parse_verify(br#"{"key":1}"#)).kind,
            InputErrorKind::InvalidField
        );
    }
}
