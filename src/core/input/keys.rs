//! The bodies of the key endpoints: create, update, verify.

use super::{Body, InputError, Result};
use crate::core::credits::{CreditsSetting, Interval, Refill, MAX_COST, MAX_CREDITS};
use crate::core::ids::{ProjectId, ServiceAccountId};
use crate::core::ip_allow::{AllowList, ListError, MAX_ENTRIES as MAX_IP_ENTRIES};
use crate::core::key::Environment;
use crate::core::permission::PermissionSet;
use crate::core::ratelimit::{Plan, PolicyError, RateLimitPolicy, MAX_LIMIT};
use crate::core::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
/// A rate-limit request before it is resolved against a plan (and, for updates, the current
/// policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitInput {
    pub plan: Option<Plan>,
    pub per_minute: Option<u32>,
    pub per_hour: Option<u32>,
    /// The monthly quota; absent: the plan's (a new plan) or the key's (no plan given).
    #[serde(default)]
    pub per_month: Option<u32>,
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
            )
            .map(|p| RateLimitPolicy {
                per_month: cur.per_month,
                ..p
            }),
            (None, None) => RateLimitPolicy::build(Plan::Free, self.per_minute, self.per_hour),
        }
        .and_then(|p| p.with_month(self.per_month));
        result.map_err(|e| match e {
            PolicyError::EnterpriseNeedsBoth => InputError::invalid(
                "rate_limit",
                "with plan `enterprise` needs both `per_minute` and `per_hour`",
            ),
            PolicyError::OutOfRange(f) => InputError::invalid(
                &format!("rate_limit.{f}"),
                format!("must be an integer from 1 to {MAX_LIMIT}"),
            ),
        })
    }
}

/// `allowed_ips` on create and `PATCH`: an array of at most 100 CIDRs or addresses, parsed once
/// (`core::ip_allow`); `[]` and `null` both mean no list.
fn allowed_ips(b: &Body, field: &str) -> Result<Option<AllowList>> {
    let Some(v) = b.get_raw(field).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Value::Array(items) = v else {
        return Err(InputError::invalid(field, "must be an array of strings"));
    };
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::String(s) = item else {
            return Err(InputError::invalid(
                &format!("{field}[{i}]"),
                "must be a string",
            ));
        };
        entries.push(s.as_str());
    }
    match AllowList::parse(&entries) {
        Ok(l) if l.is_empty() => Ok(None),
        Ok(l) => Ok(Some(l)),
        Err(ListError::TooMany) => Err(InputError::invalid(
            field,
            format!("may hold at most {MAX_IP_ENTRIES} entries"),
        )),
        Err(ListError::Bad(e)) => Err(InputError::invalid(
            &format!("{field}[{}]", e.index),
            format!(
                "`{}` is not an IPv4 or IPv6 address or CIDR (a CIDR's address must be its network's first)",
                super::truncate(&e.entry, 64)
            ),
        )),
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
    pub project: crate::core::access::ProjectChoice,
    pub service_account_id: Option<ServiceAccountId>,
    pub metadata: Option<Map<String, Value>>,
    pub auto_renew: bool,
    pub credits: Option<CreditsInput>,
    pub allowed_ips: Option<AllowList>,
}

/// `credits` on create and `PATCH`: `{"remaining", "refill"?: {"amount", "interval"}}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsInput {
    pub remaining: u64,
    #[serde(default)]
    pub refill: Option<Refill>,
}

impl CreditsInput {
    pub fn setting(self, now: Timestamp) -> CreditsSetting {
        CreditsSetting {
            remaining: self.remaining,
            refill: self.refill,
            set_at: now,
        }
    }
}

fn credits(b: &Body, field: &str) -> Result<Option<CreditsInput>> {
    let Some(v) = b.get_raw(field).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let shape = || {
        InputError::invalid(
            field,
            "must be an object `{\"remaining\": int, \"refill\"?: {\"amount\": int, \"interval\": \"daily\"|\"monthly\"}}`",
        )
    };
    let map = v.as_object().ok_or_else(shape)?;
    if map.keys().any(|k| k != "remaining" && k != "refill") {
        return Err(shape());
    }
    let amount = |v: Option<&Value>, name: &str| -> Result<u64> {
        v.and_then(Value::as_u64)
            .filter(|n| *n <= MAX_CREDITS)
            .ok_or_else(|| {
                InputError::invalid(
                    &format!("{field}.{name}"),
                    format!("must be an integer from 0 to {MAX_CREDITS}"),
                )
            })
    };
    let remaining = amount(map.get("remaining"), "remaining")?;
    let refill = match map.get("refill").filter(|v| !v.is_null()) {
        None => None,
        Some(r) => {
            let r = r.as_object().ok_or_else(shape)?;
            if r.keys().any(|k| k != "amount" && k != "interval") {
                return Err(shape());
            }
            let interval = r
                .get("interval")
                .and_then(Value::as_str)
                .and_then(Interval::parse)
                .ok_or_else(|| {
                    InputError::invalid(
                        &format!("{field}.refill.interval"),
                        "must be \"daily\" or \"monthly\"",
                    )
                })?;
            Some(Refill {
                amount: amount(r.get("amount"), "refill.amount")?,
                interval,
            })
        }
    };
    Ok(Some(CreditsInput { remaining, refill }))
}

pub fn parse_new_key(bytes: &[u8], now: Timestamp) -> Result<NewKey> {
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
            "auto_renew",
            "credits",
            "allowed_ips",
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
        project: match b.id("project_id")? {
            Some(p) => crate::core::access::ProjectChoice::Project(p),
            None if b.is_null("project_id") => crate::core::access::ProjectChoice::Unscoped,
            None => crate::core::access::ProjectChoice::Absent,
        },
        service_account_id: b.id("service_account_id")?,
        metadata: b.metadata("metadata")?,
        auto_renew: b.bool("auto_renew")?.unwrap_or(false),
        credits: credits(&b, "credits")?,
        allowed_ips: allowed_ips(&b, "allowed_ips")?,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_renew: Option<bool>,
    /// New credits (a new balance), or `null`: none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub credits: Option<Option<CreditsInput>>,
    /// A new IP allow-list, or `null` / `[]`: none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub allowed_ips: Option<Option<AllowList>>,
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
            "auto_renew",
            "credits",
            "allowed_ips",
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
        auto_renew: b.bool("auto_renew")?,
        credits: given("credits")
            .then(|| credits(&b, "credits"))
            .transpose()?,
        allowed_ips: given("allowed_ips")
            .then(|| allowed_ips(&b, "allowed_ips"))
            .transpose()?,
    })
}

/// `POST /v1/api-keys/{id}/roll`: how long the old key keeps working, in seconds (an empty
/// body takes the default).
pub fn parse_roll(bytes: &[u8]) -> Result<i64> {
    use crate::core::lifecycle::{DEFAULT_EXPIRE_OLD_IN_SECS, MAX_EXPIRE_OLD_IN_SECS};
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(DEFAULT_EXPIRE_OLD_IN_SECS);
    }
    let b = Body::parse(bytes, &["expire_old_in"])?;
    Ok(b.integer("expire_old_in", 0, MAX_EXPIRE_OLD_IN_SECS)?
        .unwrap_or(DEFAULT_EXPIRE_OLD_IN_SECS))
}

/// `POST /v1/verify`.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifyRequest {
    pub key: String,
    pub permissions: PermissionSet,
    pub project_id: Option<ProjectId>,
    /// Credits this verification spends from a key that has them: 0..=1000, default 1.
    pub cost: u32,
    /// The address of the product's client, for keys with an IP allow-list.
    pub ip: Option<std::net::IpAddr>,
}

pub fn parse_verify(bytes: &[u8]) -> Result<VerifyRequest> {
    let b = Body::parse(bytes, &["key", "permissions", "project_id", "cost", "ip"])?;
    let ip = match b.get_raw("ip").filter(|v| !v.is_null()) {
        None => None,
        Some(Value::String(s)) => Some(
            crate::core::ip_allow::parse_client_ip(s)
                .ok_or_else(|| InputError::invalid("ip", "must be an IPv4 or IPv6 address"))?,
        ),
        Some(_) => return Err(InputError::invalid("ip", "must be a string")),
    };
    Ok(VerifyRequest {
        key: b.required_string("key")?,
        permissions: b.permissions("permissions")?.unwrap_or_default(),
        project_id: b.id("project_id")?,
        cost: b
            .integer("cost", 0, i64::from(MAX_COST))?
            .map_or(1, |c| c as u32),
        ip,
    })
}

/// The input of the `Verifier` entrypoint's `rateLimit({key})` (the service binding): the key,
/// nothing else, judged as the verify body is.
pub fn parse_key_only(bytes: &[u8]) -> Result<String> {
    Body::parse(bytes, &["key"])?.required_string("key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::input::InputErrorKind;

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-10-14T00:00:00Z").unwrap()
    }

    fn err(r: Result<impl std::fmt::Debug>) -> InputError {
        r.expect_err("should fail")
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
    fn key_only_input_takes_the_key_and_nothing_else() {
        use InputErrorKind::*;
        assert_eq!(parse_key_only(br#"{"key":"sk_x"}"#).unwrap(), "sk_x");
        assert_eq!(parse_key_only(b"{}").unwrap_err().kind, MissingField);
        assert_eq!(
            parse_key_only(br#"{"key":1}"#).unwrap_err().kind,
            InvalidField
        );
        assert_eq!(
            parse_key_only(br#"{"key":"k","cost":1}"#).unwrap_err().kind,
            UnknownField
        );
    }

    #[test]
    fn verify_takes_a_cost_and_the_client_ip() {
        let v = parse_verify(br#"{"key":"k","ip":"203.0.113.7"}"#).unwrap();
        assert_eq!(v.ip, Some("203.0.113.7".parse().unwrap()));
        let v = parse_verify(br#"{"key":"k","ip":"2001:db8::1","cost":0}"#).unwrap();
        assert_eq!(v.ip, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(parse_verify(br#"{"key":"k","ip":null}"#).unwrap().ip, None);
        for bad in [
            &br#"{"key":"k","ip":"203.0.113.0/24"}"#[..],
            br#"{"key":"k","ip":"localhost"}"#,
            br#"{"key":"k","ip":7}"#,
        ] {
            let e = parse_verify(bad).unwrap_err();
            assert_eq!(e.kind, InputErrorKind::InvalidField, "{e:?}");
            assert!(e.detail.contains("`ip`"), "{e:?}");
        }
        assert_eq!(parse_verify(br#"{"key":"k"}"#).unwrap().cost, 1);
        assert_eq!(parse_verify(br#"{"key":"k","cost":0}"#).unwrap().cost, 0);
        assert_eq!(
            parse_verify(br#"{"key":"k","cost":1000}"#).unwrap().cost,
            1000
        );
        for bad in [
            &br#"{"key":"k","cost":1001}"#[..],
            br#"{"key":"k","cost":-1}"#,
            br#"{"key":"k","cost":"1"}"#,
        ] {
            let e = parse_verify(bad).unwrap_err();
            assert_eq!(e.kind, InputErrorKind::InvalidField, "{e:?}");
        }
    }

    #[test]
    fn allowed_ips_parse_on_create_and_patch_and_name_the_bad_entry() {
        let now = now();
        let k = parse_new_key(
            br#"{"name":"c","allowed_ips":["203.0.113.0/24","2001:db8::/32","198.51.100.7"]}"#,
            now,
        )
        .unwrap();
        assert_eq!(
            k.allowed_ips.unwrap().entries(),
            ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"]
        );
        let k = parse_new_key(br#"{"name":"c","allowed_ips":[]}"#, now).unwrap();
        assert_eq!(k.allowed_ips, None, "[] is no list");
        assert_eq!(
            parse_key_patch(br#"{"allowed_ips":null}"#, now)
                .unwrap()
                .allowed_ips,
            Some(None)
        );
        assert_eq!(
            parse_key_patch(br#"{"allowed_ips":[]}"#, now)
                .unwrap()
                .allowed_ips,
            Some(None)
        );
        assert_eq!(
            parse_key_patch(br#"{"name":"x"}"#, now)
                .unwrap()
                .allowed_ips,
            None
        );
        let p = parse_key_patch(br#"{"allowed_ips":["10.0.0.0/8"]}"#, now).unwrap();
        assert_eq!(p.allowed_ips.unwrap().unwrap().entries(), ["10.0.0.0/8"]);
        let e =
            parse_key_patch(br#"{"allowed_ips":["10.0.0.0/8","10.0.0.1/8"]}"#, now).unwrap_err();
        assert_eq!(e.kind, InputErrorKind::InvalidField);
        assert!(e.detail.contains("`allowed_ips[1]`"), "{e:?}");
        assert!(e.detail.contains("`10.0.0.1/8`"), "{e:?}");
        let e = parse_new_key(br#"{"name":"c","allowed_ips":"10.0.0.0/8"}"#, now).unwrap_err();
        assert!(e.detail.contains("array"), "{e:?}");
        let e = parse_new_key(br#"{"name":"c","allowed_ips":[1]}"#, now).unwrap_err();
        assert!(e.detail.contains("`allowed_ips[0]`"), "{e:?}");
        let many: Vec<String> = (0..101).map(|i| format!("\"10.0.{i}.0/24\"")).collect();
        let body = format!(r#"{{"name":"c","allowed_ips":[{}]}}"#, many.join(","));
        let e = parse_new_key(body.as_bytes(), now).unwrap_err();
        assert!(e.detail.contains("at most 100"), "{e:?}");
    }

    #[test]
    fn credits_parse_on_create_and_patch() {
        let now = now();
        let k = parse_new_key(
            br#"{"name":"c","credits":{"remaining":100,"refill":{"amount":50,"interval":"daily"}}}"#,
            now,
        )
        .unwrap();
        let c = k.credits.unwrap();
        assert_eq!(c.remaining, 100);
        assert_eq!(
            c.refill.unwrap().interval,
            crate::core::credits::Interval::Daily
        );
        let p = parse_key_patch(br#"{"credits":null}"#, now).unwrap();
        assert_eq!(p.credits, Some(None));
        let p = parse_key_patch(br#"{"credits":{"remaining":3}}"#, now).unwrap();
        assert_eq!(p.credits.unwrap().unwrap().refill, None);
        for bad in [
            &br#"{"name":"c","credits":5}"#[..],
            br#"{"name":"c","credits":{"remaining":-1}}"#,
            br#"{"name":"c","credits":{"remaining":1,"refill":{"amount":1,"interval":"weekly"}}}"#,
            br#"{"name":"c","credits":{"remaining":1,"extra":1}}"#,
        ] {
            assert_eq!(
                parse_new_key(bad, now).unwrap_err().kind,
                InputErrorKind::InvalidField
            );
        }
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
    fn the_monthly_quota_follows_the_plan_unless_given_and_survives_other_changes() {
        let input = |plan, per_month| RateLimitInput {
            plan,
            per_minute: None,
            per_hour: None,
            per_month,
        };
        let free = input(None, None).resolve(None).unwrap();
        assert_eq!(free.per_month, Some(10_000));
        let own = input(Some(Plan::Free), Some(50)).resolve(None).unwrap();
        assert_eq!(own.per_month, Some(50));
        // A change of the minute alone keeps the key's quota; a new plan brings its own.
        let minute = RateLimitInput {
            per_minute: Some(3),
            ..input(None, None)
        };
        assert_eq!(minute.resolve(Some(&own)).unwrap().per_month, Some(50));
        let pro = input(Some(Plan::Professional), None).resolve(Some(&own));
        assert_eq!(pro.unwrap().per_month, Some(1_000_000));
        let ent = RateLimitInput {
            per_minute: Some(5),
            per_hour: Some(50),
            ..input(Some(Plan::Enterprise), None)
        };
        assert_eq!(ent.resolve(None).unwrap().per_month, None);
        assert!(input(None, Some(0)).resolve(None).is_err());
    }

    #[test]
    fn rate_limit_resolution_on_update() {
        let pro = RateLimitPolicy::build(Plan::Professional, None, Some(20_000)).unwrap();
        let only_minute = RateLimitInput {
            plan: None,
            per_minute: Some(7),
            per_hour: None,
            per_month: None,
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
            per_month: None,
        };
        assert_eq!(
            to_free.resolve(Some(&pro)).unwrap(),
            RateLimitPolicy::free()
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
