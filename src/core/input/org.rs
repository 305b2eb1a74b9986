//! The bodies of the team-structure endpoints: teams (operator), projects, roles, service
//! accounts.

use super::members::{parse_owner, Credentials};
use super::{parse_name, Body, InputError, InputErrorKind, Result, MAX_ROLES};
use crate::core::leaks::LeakPolicy;
use crate::core::limits::LimitsPatch;
use crate::core::permission::PermissionSet;
use serde_json::Value;
/// `POST /v1/teams` and `PATCH /v1/teams/{id}`: a name (required on create) and limits
/// that differ from the current ones (on create, from the defaults); on create, the first owner.
#[derive(Debug)]
pub struct TeamInput<N> {
    pub name: N,
    pub limits: LimitsPatch,
    pub owner: Option<Credentials>,
    /// `leak_policy` (`PATCH` only): what a key of the team reported leaked becomes.
    pub leak_policy: Option<LeakPolicy>,
    /// `branding` (`PATCH` only): replaces the team's branding whole (`core::branding`).
    pub branding: Option<crate::core::branding::Branding>,
    /// `require_totp` (`PATCH` only): members must sign in with two factors.
    pub require_totp: Option<bool>,
    /// `auto_disable_idle_days` (`PATCH` only): `Some(None)` turns it off (`core::idle`).
    pub auto_disable_idle_days: Option<Option<u32>>,
}

/// `POST /v1/roles` and `PATCH /v1/roles/{id}` (on a patch, absent fields stay as they are).
#[derive(Clone, Debug, PartialEq)]
pub struct RoleInput<N, P> {
    pub name: N,
    pub permissions: P,
}

/// `POST /v1/service-accounts` and `PATCH /v1/service-accounts/{id}`; `roles` are names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountInput<N, R> {
    pub name: N,
    pub roles: R,
}

/// A patch may leave any field out, never set one to `null`.
fn no_nulls(b: &Body, fields: &[&str]) -> Result<()> {
    match fields.iter().find(|f| b.is_null(f)) {
        Some(f) => Err(InputError::invalid(f, "must not be null")),
        None => Ok(()),
    }
}

pub fn parse_new_team(bytes: &[u8]) -> Result<TeamInput<String>> {
    let b = Body::parse(bytes, &["name", "limits", "owner"])?;
    let name = b.required_name("name")?;
    let limits = b.limits("limits")?.unwrap_or_default();
    limits.check_new_team().map_err(|detail| InputError {
        kind: InputErrorKind::InvalidField,
        detail,
    })?;
    let owner = parse_owner(&b, "owner")?;
    Ok(TeamInput {
        name,
        limits,
        owner,
        leak_policy: None,
        branding: None,
        require_totp: None,
        auto_disable_idle_days: None,
    })
}

pub fn parse_team_patch(bytes: &[u8]) -> Result<TeamInput<Option<String>>> {
    let b = Body::parse(
        bytes,
        &[
            "name",
            "limits",
            "leak_policy",
            "branding",
            "require_totp",
            "auto_disable_idle_days",
        ],
    )?;
    no_nulls(
        &b,
        &["name", "limits", "leak_policy", "branding", "require_totp"],
    )?;
    let branding = match b.get_raw("branding") {
        None => None,
        Some(v) => Some(
            crate::core::branding::Branding::parse(v)
                .map_err(|(field, why)| InputError::invalid(field, why))?,
        ),
    };
    let leak_policy = match b.get_raw("leak_policy") {
        None => None,
        Some(v) => Some(v.as_str().and_then(LeakPolicy::parse).ok_or_else(|| {
            InputError::invalid("leak_policy", "must be \"disable\" or \"notify\"")
        })?),
    };
    Ok(TeamInput {
        name: b.name("name")?,
        limits: b.limits("limits")?.unwrap_or_default(),
        owner: None,
        leak_policy,
        branding,
        require_totp: b.bool("require_totp")?,
        auto_disable_idle_days: match b.get_raw("auto_disable_idle_days") {
            None => None,
            Some(v) => Some(
                crate::core::idle::parse_setting(v)
                    .map_err(|why| InputError::invalid("auto_disable_idle_days", why))?,
            ),
        },
    })
}

/// A body with just a name (`POST /v1/projects`).
pub fn parse_named(bytes: &[u8]) -> Result<String> {
    Body::parse(bytes, &["name"])?.required_name("name")
}

pub fn parse_new_role(bytes: &[u8]) -> Result<RoleInput<String, PermissionSet>> {
    let b = Body::parse(bytes, &["name", "permissions"])?;
    Ok(RoleInput {
        name: b.required_name("name")?,
        permissions: b
            .permissions("permissions")?
            .ok_or_else(|| InputError::missing("permissions"))?,
    })
}

pub fn parse_role_patch(bytes: &[u8]) -> Result<RoleInput<Option<String>, Option<PermissionSet>>> {
    let b = Body::parse(bytes, &["name", "permissions"])?;
    no_nulls(&b, &["name", "permissions"])?;
    Ok(RoleInput {
        name: b.name("name")?,
        permissions: b.permissions("permissions")?,
    })
}

pub fn parse_new_service_account(bytes: &[u8]) -> Result<AccountInput<String, Vec<String>>> {
    let b = Body::parse(bytes, &["name", "roles"])?;
    Ok(AccountInput {
        name: b.required_name("name")?,
        roles: b.names("roles")?.unwrap_or_default(),
    })
}

pub fn parse_service_account_patch(
    bytes: &[u8],
) -> Result<AccountInput<Option<String>, Option<Vec<String>>>> {
    let b = Body::parse(bytes, &["name", "roles"])?;
    no_nulls(&b, &["name", "roles"])?;
    Ok(AccountInput {
        name: b.name("name")?,
        roles: b.names("roles")?,
    })
}

/// The team-structure fields of a body.
impl Body {
    /// A team's `limits` object, or `None` for null/absent.
    pub fn limits(&self, field: &str) -> Result<Option<crate::core::limits::LimitsPatch>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Object(m)) => crate::core::limits::LimitsPatch::parse(m)
                .map(Some)
                .map_err(|e| match e {
                    crate::core::limits::LimitsError::Unknown(detail) => InputError {
                        kind: InputErrorKind::UnknownField,
                        detail,
                    },
                    crate::core::limits::LimitsError::Invalid(detail) => InputError {
                        kind: InputErrorKind::InvalidField,
                        detail,
                    },
                }),
            Some(_) => Err(InputError::invalid(field, "must be an object of limits")),
        }
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
            return Err(InputError::invalid(
                field,
                format!("may hold at most {MAX_ROLES} names"),
            ));
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<impl std::fmt::Debug>) -> InputError {
        r.expect_err("should fail")
    }

    #[test]
    fn team_bodies() {
        let t = parse_new_team(br#"{"name":"Acme","limits":{"max_keys":5}}"#).unwrap();
        assert_eq!((t.name.as_str(), t.limits.max_keys), ("Acme", Some(5)));
        assert!(parse_new_team(br#"{"name":"Acme","limits":null}"#).is_ok());
        let e = err(parse_new_team(
            br#"{"name":"Acme","limits":{"max_keys":0}}"#,
        ));
        assert!(e.detail.contains("at least 1"), "{e:?}");
        let e = err(parse_new_team(
            br#"{"name":"Acme","limits":{"max_keyz":1}}"#,
        ));
        assert_eq!(e.kind, InputErrorKind::UnknownField);
        let t = parse_team_patch(br#"{"limits":{"max_keys":0}}"#).unwrap();
        assert_eq!(
            (t.name, t.limits.max_keys),
            (None, Some(0)),
            "0 is allowed later"
        );
        assert_eq!(
            err(parse_team_patch(br#"{"limits":null}"#)).kind,
            InputErrorKind::InvalidField
        );
        let t = parse_team_patch(br#"{"leak_policy":"notify"}"#).unwrap();
        assert_eq!(t.leak_policy, Some(LeakPolicy::Notify));
        assert_eq!(parse_team_patch(b"{}").unwrap().leak_policy, None);
        let b = parse_team_patch(br##"{"branding":{"accent_color":"#00AA00"}}"##).unwrap();
        assert_eq!(b.branding.unwrap().accent_color.as_deref(), Some("#00aa00"));
        let bad = parse_team_patch(br#"{"branding":{"logo_url":"http://a.test/l.png"}}"#);
        assert!(err(bad).detail.contains("branding.logo_url"));
        for bad in [
            r#"{"leak_policy":"revoke"}"#,
            r#"{"leak_policy":null}"#,
            r#"{"leak_policy":1}"#,
        ] {
            assert_eq!(
                err(parse_team_patch(bad.as_bytes())).kind,
                InputErrorKind::InvalidField
            );
        }
    }
}
