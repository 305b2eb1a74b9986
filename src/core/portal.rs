//! Portal sessions: a product's backend signs its own user into the dashboard for one team,
//! with no keygate password. The backend asks for a link (`POST /v1/portal/sessions`); the
//! link's token is single use, valid [`PORTAL_TTL_MS`], and stored only as its SHA-256 in the
//! team object. Its first `GET` opens an ordinary session for the member linked to the user's
//! `external_id` (made on first use), with the role the link names.
//!
//! Granting through a portal link is granting: the role is never above what the opener holds
//! (`members::missing_for`, as for invitations), only the operator gives `owner` (a key is no
//! owner), and the opener is judged again when the link is used (a key disabled or deleted in
//! between opens nothing). The rules that touch storage are `core::team::portal`.

use super::base62;
use super::branding::web_url;
use super::ids::{KeyId, TeamId};
use super::input::{Body, InputError, Result as InputResult};
use super::members::{Changer, Email, MemberRole};
use super::random::Random;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A portal link works for this long after it is made...
pub const PORTAL_TTL_MS: i64 = 5 * 60_000;
/// ...and is remembered this long after it expired, so that using it again answers `410`
/// (after that, `404`).
pub const PORTAL_KEPT_MS: i64 = 60 * 60_000;
/// At most this many links are remembered per team (made within the last ~65 minutes):
/// `409 limit_reached` past it.
pub const MAX_PORTAL_SESSIONS: u32 = 1_000;
/// Hosts a `return_url` may name over `http://` when the deployment allows insecure URLs
/// (`ALLOW_INSECURE_WEBHOOKS = "true"`: local development and tests).
pub const DEV_HOSTS: [&str; 2] = ["localhost", "127.0.0.1"];

/// A portal token as the link carries it: `kgp_<team id>_<43 base62>` (~256 random bits). The
/// team id tells the edge which team object to ask; only the SHA-256 of the whole token is
/// stored. Never printed.
pub struct PortalToken(String);

impl PortalToken {
    pub fn generate(team_id: &str, rng: &mut impl Random) -> Self {
        PortalToken(format!("kgp_{team_id}_{}", base62::random_string(rng, 43)))
    }

    /// A path segment of the right shape, and the team it names. Anything else is answered
    /// `404` with no storage touched.
    pub fn parse(s: &str) -> Option<(Self, TeamId)> {
        let rest = s.strip_prefix("kgp_")?;
        let (team, secret) = rest.rsplit_once('_')?;
        let ok = secret.len() == 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric());
        let team = TeamId::parse(team).filter(|_| ok)?;
        Some((PortalToken(s.to_owned()), team))
    }

    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PortalToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PortalToken(<redacted>)")
    }
}

/// The product's user a link is for. `external_id` is the product's own id for them (1–200
/// printable characters): the member linked to it is the same on every link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalUser {
    pub external_id: String,
    pub email: Email,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Who opened a link: the operator, or a key of the team (judged again when the link is used).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Opener {
    Operator,
    Key(KeyId),
}

/// The operator gives any role, `owner` included: for the member rules it counts as an owner.
pub fn operator_changer() -> Changer {
    Changer::Member(MemberRole::Owner)
}

/// A portal link as the team object stores it (by its token's hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalGrant {
    /// `ps_…`: names the link in the audit log (never the token).
    pub id: String,
    /// SHA-256 of the token (hex); internal.
    pub token_hash: String,
    pub user: PortalUser,
    pub role: MemberRole,
    pub return_url: String,
    pub opened_by: Opener,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<Timestamp>,
}

/// Where a link stands at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantState {
    Usable,
    /// Used once already, or past its 5 minutes: `410 invalid_portal_token`.
    Spent,
}

impl PortalGrant {
    pub fn state(&self, now: Timestamp) -> GrantState {
        if self.used_at.is_some() || now >= self.expires_at {
            GrantState::Spent
        } else {
            GrantState::Usable
        }
    }

    pub fn new_id(rng: &mut impl Random) -> String {
        format!("ps_{}", base62::random_string(rng, 20))
    }
}

/// `POST /v1/portal/sessions`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalInput {
    pub team_id: Option<TeamId>,
    pub user: PortalUser,
    pub role: MemberRole,
    pub return_url: String,
}

fn text(b: &Body, field: &str, max: usize) -> InputResult<Option<String>> {
    match b.get_raw(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => {
            let n = s.chars().count();
            if n == 0 || n > max || s.chars().any(char::is_control) {
                Err(InputError::invalid(
                    field,
                    format!("must be 1 to {max} characters, no control characters"),
                ))
            } else {
                Ok(Some(s.clone()))
            }
        }
        Some(_) => Err(InputError::invalid(field, "must be a string")),
    }
}

fn in_user(e: InputError) -> InputError {
    InputError {
        detail: e.detail.replacen('`', "`user.", 1),
        ..e
    }
}

/// The body of `POST /v1/portal/sessions`: `{team_id?, user: {external_id, email, name?},
/// role, return_url}`. `return_url` is `https://`, or `http://localhost` / `http://127.0.0.1`
/// when `allow_dev_urls` (the deployment's insecure-URL setting, development only).
pub fn parse_portal_input(bytes: &[u8], allow_dev_urls: bool) -> InputResult<PortalInput> {
    let b = Body::parse(bytes, &["team_id", "user", "role", "return_url"])?;
    let team_id = b.id::<TeamId>("team_id")?;
    let user = match b.get_raw("user") {
        None | Some(serde_json::Value::Null) => return Err(InputError::missing("user")),
        Some(v) => {
            let bytes = serde_json::to_vec(v).unwrap_or_default();
            let u = Body::parse(&bytes, &["external_id", "email", "name"]).map_err(|e| {
                InputError::invalid(
                    "user",
                    format!(
                        "must be {{\"external_id\", \"email\", \"name\"?}}: {}",
                        e.detail
                    ),
                )
            })?;
            let external_id = text(&u, "external_id", 200)
                .map_err(in_user)?
                .ok_or_else(|| InputError::missing("user.external_id"))?;
            PortalUser {
                external_id,
                email: u.email("email").map_err(in_user)?,
                name: text(&u, "name", 100).map_err(in_user)?,
            }
        }
    };
    let role = b.member_role("role")?;
    let hosts: &[&str] = if allow_dev_urls { &DEV_HOSTS } else { &[] };
    let return_url = text(&b, "return_url", super::branding::MAX_URL_LEN)?
        .ok_or_else(|| InputError::missing("return_url"))?;
    let return_url = web_url(&return_url, hosts).ok_or_else(|| {
        InputError::invalid(
            "return_url",
            if allow_dev_urls {
                "must be an https:// URL (or http://localhost, http://127.0.0.1)"
            } else {
                "must be an https:// URL"
            },
        )
    })?;
    Ok(PortalInput {
        team_id,
        user,
        role,
        return_url,
    })
}

/// The link's address: on the origin the request came to, under `/v1/` so the worker answers
/// it before the dashboard's static assets.
pub fn portal_url(origin: &str, token: &PortalToken) -> String {
    format!(
        "{}/v1/portal/{}",
        origin.trim_end_matches('/'),
        token.expose_secret()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::input::InputErrorKind;
    use crate::core::random::FixedRandom;

    #[test]
    fn tokens_name_their_team_and_hide_their_secret() {
        let mut rng = FixedRandom((0..=255).collect(), 0);
        let team = "team_AAAAAAAAAAAAAAAAAAAA";
        let t = PortalToken::generate(team, &mut rng);
        let (parsed, named) = PortalToken::parse(t.expose_secret()).unwrap();
        assert_eq!(named.as_str(), team);
        assert_eq!(parsed.hash(), t.hash());
        assert_eq!(t.hash().len(), 64);
        assert_eq!(format!("{t:?}"), "PortalToken(<redacted>)");
        // 43 base62 characters: ~256 bits, well over the 128 asked.
        assert!(43.0 * 62f64.log2() >= 128.0);
        let secret = t.expose_secret().rsplit_once('_').unwrap().1.to_owned();
        for bad in [
            format!("kgs_{team}_{secret}"),
            format!("kgp_{team}_{}", &secret[1..]),
            format!("kgp_team_x_{secret}"),
            format!("kgp_{team}_{}!", &secret[1..]),
            "sessions".to_owned(),
        ] {
            assert!(PortalToken::parse(&bad).is_none(), "{bad}");
        }
        assert_eq!(
            portal_url("https://keys.acme.test/", &t),
            format!("https://keys.acme.test/v1/portal/{}", t.expose_secret())
        );
    }

    fn grant(now: i64) -> PortalGrant {
        PortalGrant {
            id: "ps_1".into(),
            token_hash: "h".into(),
            user: PortalUser {
                external_id: "u1".into(),
                email: Email::parse("a@acme.test").unwrap(),
                name: None,
            },
            role: MemberRole::Developer,
            return_url: "https://acme.test".into(),
            opened_by: Opener::Operator,
            created_at: Timestamp::from_millis(now),
            expires_at: Timestamp::from_millis(now + PORTAL_TTL_MS),
            used_at: None,
        }
    }

    #[test]
    fn a_link_works_once_within_five_minutes() {
        let g = grant(1_000);
        let at = Timestamp::from_millis;
        assert_eq!(g.state(at(1_000)), GrantState::Usable);
        assert_eq!(g.state(at(1_000 + PORTAL_TTL_MS - 1)), GrantState::Usable);
        assert_eq!(g.state(at(1_000 + PORTAL_TTL_MS)), GrantState::Spent);
        let used = PortalGrant {
            used_at: Some(at(2_000)),
            ..g
        };
        assert_eq!(used.state(at(2_001)), GrantState::Spent);
    }

    #[test]
    fn the_body_is_parsed_whole() {
        let ok = br#"{"user":{"external_id":"u_42","email":"Ada@Acme.test","name":"Ada"},
            "role":"developer","return_url":"https://app.acme.test/settings"}"#;
        let p = parse_portal_input(ok, false).unwrap();
        assert_eq!(p.team_id, None);
        assert_eq!(p.user.external_id, "u_42");
        assert_eq!(p.user.name.as_deref(), Some("Ada"));
        assert_eq!(p.role, MemberRole::Developer);
        let dev = br#"{"user":{"external_id":"u","email":"a@acme.test"},"role":"viewer",
            "return_url":"http://localhost:3000/back"}"#;
        assert_eq!(
            parse_portal_input(dev, false).unwrap_err().kind,
            InputErrorKind::InvalidField
        );
        assert!(parse_portal_input(dev, true).is_ok());
        let bad = |body: &str| {
            let e = parse_portal_input(body.as_bytes(), true).unwrap_err();
            e.detail
        };
        let u = r#""user":{"external_id":"u","email":"a@acme.test"}"#;
        assert!(bad(&format!(
            r#"{{{u},"role":"viewer","return_url":"http://acme.test/"}}"#
        ))
        .contains("return_url"));
        assert!(bad(&format!(
            r#"{{{u},"role":"viewer","return_url":"javascript:alert(1)"}}"#
        ))
        .contains("return_url"));
        assert!(bad(&format!(
            r#"{{{u},"role":"boss","return_url":"https://a.test"}}"#
        ))
        .contains("role"));
        assert!(bad(r#"{"role":"viewer","return_url":"https://a.test"}"#).contains("user"));
        assert!(bad(
            r#"{"user":{"email":"a@acme.test"},"role":"viewer","return_url":"https://a.test"}"#
        )
        .contains("user.external_id"));
        assert!(bad(
            r#"{"user":{"external_id":"u","email":"nope"},"role":"viewer","return_url":"https://a.test"}"#
        )
        .contains("user.email"));
        assert!(bad(
            r#"{"user":{"external_id":"u","email":"a@acme.test","x":1},"role":"viewer","return_url":"https://a.test"}"#
        )
        .contains("user"));
        assert!(bad(&format!(
            r#"{{{u},"role":"viewer","return_url":"https://a.test","team_id":"nope"}}"#
        ))
        .contains("team_id"));
        assert!(bad(&format!(r#"{{{u},"role":"viewer"}}"#)).contains("return_url"));
    }
}
