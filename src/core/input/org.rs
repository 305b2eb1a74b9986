//! The bodies of the team-structure endpoints: teams (operator), projects, roles, service
//! accounts.

use super::{Body, InputError, InputErrorKind, Result};
use crate::core::limits::LimitsPatch;
use crate::core::permission::PermissionSet;
/// `POST /v1/teams`: a name and, optionally, limits that differ from the defaults.
pub fn parse_new_team(bytes: &[u8]) -> Result<(String, LimitsPatch)> {
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
pub fn parse_team_patch(bytes: &[u8]) -> Result<(Option<String>, LimitsPatch)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<impl std::fmt::Debug>) -> InputError {
        r.expect_err("should fail")
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
}
