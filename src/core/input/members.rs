//! The bodies of the members, invitations and session endpoints. Passwords are checked for
//! length here and never echoed in an error.

use super::{Body, InputError, Result};
use crate::core::ids::TeamId;
use crate::core::members::{Email, MemberRole, Password};
use serde_json::Value;

impl Body {
    fn required_str(&self, field: &str) -> Result<&str> {
        match self.get_raw(field) {
            None | Some(Value::Null) => Err(InputError::missing(field)),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(InputError::invalid(field, "must be a string")),
        }
    }

    fn optional_str(&self, field: &str) -> Result<Option<&str>> {
        match self.get_raw(field) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.required_str(field).map(Some),
        }
    }

    pub fn email(&self, field: &str) -> Result<Email> {
        Email::parse(self.required_str(field)?).ok_or_else(|| {
            InputError::invalid(field, "must be an email address (name@example.com)")
        })
    }

    pub fn password(&self, field: &str) -> Result<Password> {
        Password::parse(self.required_str(field)?).map_err(|why| InputError::invalid(field, why))
    }

    pub fn member_role(&self, field: &str) -> Result<MemberRole> {
        let s = self.required_str(field)?;
        MemberRole::parse(s).ok_or_else(|| {
            InputError::invalid(
                field,
                "must be one of `owner`, `admin`, `developer`, `viewer`",
            )
        })
    }
}

/// An email and a password (the team's first owner, an invitation accepted).
#[derive(Debug)]
pub struct Credentials {
    pub email: Email,
    pub password: Password,
}

/// `"owner": {"email", "password"}` of `POST /v1/teams`, when given.
pub fn parse_owner(b: &Body, field: &str) -> Result<Option<Credentials>> {
    let Some(v) = b.get_raw(field).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    let owner = Body::parse(&bytes, &["email", "password"]).map_err(|e| {
        InputError::invalid(
            field,
            format!("must be {{\"email\", \"password\"}}: {}", e.detail),
        )
    })?;
    Ok(Some(Credentials {
        email: owner.email("email").map_err(|e| nested(field, e))?,
        password: owner.password("password").map_err(|e| nested(field, e))?,
    }))
}

fn nested(parent: &str, e: InputError) -> InputError {
    InputError {
        detail: e.detail.replacen('`', &format!("`{parent}."), 1),
        ..e
    }
}

/// `POST /v1/session`.
#[derive(Debug)]
pub struct SignIn {
    /// `None`: the teams are found by the email (`core::email_index`).
    pub team_id: Option<TeamId>,
    pub email: Email,
    pub password: Password,
    /// A second factor: a current TOTP code or a recovery code (`core::totp`).
    pub code: Option<String>,
}

pub fn parse_sign_in(bytes: &[u8]) -> Result<SignIn> {
    let b = Body::parse(bytes, &["team_id", "email", "password", "code"])?;
    let team_id = match b.optional_str("team_id")? {
        Some(t) => Some(
            TeamId::parse(t)
                .ok_or_else(|| InputError::invalid("team_id", "must be a team id (`team_…`)"))?,
        ),
        None => None,
    };
    Ok(SignIn {
        team_id,
        email: b.email("email")?,
        // Any non-empty string: a wrong one is a wrong password, answered as such.
        password: Password::unchecked(b.required_str("password")?),
        code: b.optional_str("code")?.map(str::to_owned),
    })
}

/// `POST /v1/invitations`.
pub fn parse_invitation(bytes: &[u8]) -> Result<(Email, MemberRole)> {
    let b = Body::parse(bytes, &["email", "role"])?;
    Ok((b.email("email")?, b.member_role("role")?))
}

/// `POST /v1/invitations/accept`: the token (judged by the team object) and a new password.
pub fn parse_acceptance(bytes: &[u8]) -> Result<(String, Password)> {
    let b = Body::parse(bytes, &["token", "password"])?;
    Ok((b.required_str("token")?.to_owned(), b.password("password")?))
}

/// `PATCH /v1/members/{id}`.
pub fn parse_member_patch(bytes: &[u8]) -> Result<MemberRole> {
    Body::parse(bytes, &["role"])?.member_role("role")
}

/// `POST /v1/me/password`: the current one (any string) and a new one (12–128 characters).
pub fn parse_password_change(bytes: &[u8]) -> Result<(Password, Password)> {
    let b = Body::parse(bytes, &["current_password", "new_password"])?;
    Ok((
        Password::unchecked(b.required_str("current_password")?),
        b.password("new_password")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_needs_an_email_and_a_password_and_may_name_a_team() {
        let alone = parse_sign_in(br#"{"email":"a@b.co","password":"x"}"#).unwrap();
        assert!(alone.team_id.is_none());
        let ok = parse_sign_in(
            br#"{"team_id":"team_0123456789abcdefghij","email":"a@b.co","password":"x"}"#,
        )
        .unwrap();
        assert_eq!(ok.email.as_str(), "a@b.co");
        for bad in [
            r#"{"team_id":"nope","email":"a@b.co","password":"x"}"#,
            r#"{"team_id":"team_0123456789abcdefghij","email":"a","password":"x"}"#,
            r#"{"team_id":"team_0123456789abcdefghij","email":"a@b.co"}"#,
            r#"{"team_id":"team_0123456789abcdefghij","email":"a@b.co","password":1}"#,
            r#"{"team_id":"team_0123456789abcdefghij","email":"a@b.co","password":"x","extra":1}"#,
        ] {
            assert!(parse_sign_in(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_weak_password_is_refused_without_being_echoed() {
        let e = parse_acceptance(br#"{"token":"t","password":"hunter2"}"#).unwrap_err();
        assert!(e.detail.contains("at least 12"), "{}", e.detail);
        assert!(!e.detail.contains("hunter2"));
        assert!(parse_acceptance(br#"{"token":"t","password":"a long enough one"}"#).is_ok());
    }

    #[test]
    fn roles_and_owners() {
        assert_eq!(
            parse_member_patch(br#"{"role":"viewer"}"#).unwrap(),
            MemberRole::Viewer
        );
        assert!(parse_member_patch(br#"{"role":"root"}"#).is_err());
        assert!(parse_member_patch(br#"{}"#).is_err());
        let (email, role) = parse_invitation(br#"{"email":"X@Y.io","role":"admin"}"#).unwrap();
        assert_eq!((email.key().as_str(), role), ("x@y.io", MemberRole::Admin));
        let b = Body::parse(
            br#"{"owner":{"email":"o@x.io","password":"short"}}"#,
            &["owner"],
        )
        .unwrap();
        let e = parse_owner(&b, "owner").unwrap_err();
        assert!(
            e.detail.starts_with("`owner.password` must be at least 12"),
            "{}",
            e.detail
        );
        let b = Body::parse(
            br#"{"owner":{"email":"o@x.io","password":"long enough pw"}}"#,
            &["owner"],
        )
        .unwrap();
        assert_eq!(
            parse_owner(&b, "owner").unwrap().unwrap().email.as_str(),
            "o@x.io"
        );
    }
}
