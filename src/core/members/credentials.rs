//! A member's credentials: the email they are known by, the password (policy, the peppered
//! PBKDF2 parameters and the stored form) and the dashboard session (token, timeouts, what is
//! kept of the client). Pure: the key derivation itself runs at the edge (WebCrypto).

use crate::core::base62;
use crate::core::random::Random;
use crate::core::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// An email address as members are known by: trimmed, at most 254 bytes, one `@` with text on
/// both sides and a dot in the domain. Compared case-insensitively (`key()`), shown as given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (local, domain) = s.split_once('@')?;
        let ok = s.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && s.chars().all(|c| !c.is_whitespace() && !c.is_control());
        ok.then(|| Email(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form emails are unique and looked up by: ASCII letters lowercased (what mail
    /// providers treat as one address; full Unicode case folding would cost its tables in the
    /// wasm and buys nothing for real addresses).
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A password as typed: 12 to 128 characters. Never printed.
pub struct Password(String);

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

impl Password {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let n = s.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err("must be at least 12 characters long");
        }
        if n > MAX_PASSWORD_CHARS {
            return Err("must be at most 128 characters long");
        }
        Ok(Password(s.to_owned()))
    }

    /// A password as typed at sign-in: not judged (a wrong one is a wrong password).
    pub fn unchecked(s: &str) -> Self {
        Password(s.to_owned())
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// PBKDF2-HMAC-SHA256 iterations. Production workerd refuses WebCrypto PBKDF2 above 100,000
/// (a test holds this bound), so it is exactly that: ~16 ms of CPU per derivation.
pub const PBKDF2_ITERATIONS: u32 = 100_000;
/// The most iterations production workerd accepts.
pub const PRODUCTION_PBKDF2_CAP: u32 = 100_000;

/// The derivation's input: HMAC-SHA256 of the password under the pepper (a Workers secret), so
/// a copy of the stored hashes alone cannot be attacked offline.
pub fn peppered(pepper: &str, password: &Password) -> [u8; 32] {
    use hmac::{Mac, SimpleHmac};
    let mut mac = <SimpleHmac<Sha256> as Mac>::new_from_slice(pepper.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(password.expose_secret().as_bytes());
    mac.finalize().into_bytes().into()
}

/// A stored password: `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    pub iterations: u32,
    pub salt: [u8; 16],
    pub hash: [u8; 32],
}

impl PasswordHash {
    pub fn new_salt(rng: &mut impl Random) -> [u8; 16] {
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        salt
    }

    /// The hash compared against for an email no member has, so that a wrong email costs what a
    /// wrong password does (one derivation, one comparison).
    pub fn decoy() -> Self {
        PasswordHash {
            iterations: PBKDF2_ITERATIONS,
            salt: [0x5a; 16],
            hash: [0; 32],
        }
    }

    pub fn encode(&self) -> String {
        format!(
            "pbkdf2-sha256${}${}${}",
            self.iterations,
            hex::encode(self.salt),
            hex::encode(self.hash)
        )
    }

    pub fn decode(s: &str) -> Option<Self> {
        let mut parts = s.split('$');
        if parts.next()? != "pbkdf2-sha256" {
            return None;
        }
        let iterations = parts.next()?.parse().ok()?;
        let salt = hex::decode(parts.next()?).ok()?.try_into().ok()?;
        let hash = hex::decode(parts.next()?).ok()?.try_into().ok()?;
        parts.next().is_none().then_some(PasswordHash {
            iterations,
            salt,
            hash,
        })
    }

    /// Does a derivation (with this hash's salt and iterations) match? In constant time.
    pub fn matches(&self, derived: &[u8; 32]) -> bool {
        use subtle::ConstantTimeEq;
        self.hash.ct_eq(derived).into()
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// The session cookie's name (`__Host-`: Secure, no Domain, Path=/, so no subdomain can set it).
pub const SESSION_COOKIE: &str = "__Host-keygate_session";
/// A session ends after this long without a request...
pub const SESSION_IDLE_MS: i64 = 12 * 3_600_000;
/// ...or this long after sign-in, whichever comes first.
pub const SESSION_ABSOLUTE_MS: i64 = 7 * 24 * 3_600_000;
/// How stale `last_seen_at` may get before a request writes it again.
pub const SESSION_TOUCH_MS: i64 = 60_000;

/// A session token as the cookie carries it: `kgs_<team id>_<43 base62>` (~256 random bits).
/// The team id tells the edge which team object holds the session; only the SHA-256 of the whole
/// token is stored. Never printed.
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate(team_id: &str, rng: &mut impl Random) -> Self {
        SessionToken(format!("kgs_{team_id}_{}", base62::random_string(rng, 43)))
    }

    /// A cookie value of the right shape, and the team it names.
    pub fn parse(s: &str) -> Option<(Self, String)> {
        let rest = s.strip_prefix("kgs_")?;
        let (team, secret) = rest.rsplit_once('_')?;
        let ok = secret.len() == 43
            && secret.bytes().all(|b| b.is_ascii_alphanumeric())
            && team.starts_with("team_")
            && team.len() <= 40
            && team.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        ok.then(|| (SessionToken(s.to_owned()), team.to_owned()))
    }

    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// A session as stored (by token hash) in the team object. Sessions stored before the client
/// was kept load with none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub member_id: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    #[serde(flatten)]
    pub meta: SessionMeta,
}

/// What a session remembers of how it began: the client (`User-Agent`, at most
/// [`MAX_USER_AGENT_CHARS`], and country) and, for a portal session, where "Back to …" leads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

pub const MAX_USER_AGENT_CHARS: usize = 256;

impl SessionMeta {
    pub fn new(user_agent: Option<&str>, country: Option<&str>) -> Self {
        SessionMeta {
            user_agent: user_agent.map(|u| u.chars().take(MAX_USER_AGENT_CHARS).collect()),
            country: country.map(|c| c.chars().take(8).collect()),
            return_url: None,
        }
    }
}

/// A session's public id (`ses_…`): derived one way from its token's hash, so it names the
/// session in `/v1/me/sessions` without being, or giving, the token or its hash. Sessions
/// stored before ids existed have one too.
pub fn session_id(token_hash: &str) -> String {
    let d = Sha256::digest(format!("keygate session id:{token_hash}").as_bytes());
    format!("ses_{}", hex::encode(&d[..12]))
}

/// A session as its member sees it (`GET /v1/me/sessions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub user_agent: Option<String>,
    pub country: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

/// Where a session stands at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    Ended,
    /// Alive; `touch` when `last_seen_at` should be written again.
    Alive {
        touch: bool,
    },
}

impl Session {
    pub fn state(&self, now: Timestamp) -> SessionState {
        let (now, created, seen) = (
            now.millis(),
            self.created_at.millis(),
            self.last_seen_at.millis(),
        );
        if now - seen >= SESSION_IDLE_MS || now - created >= SESSION_ABSOLUTE_MS {
            SessionState::Ended
        } else {
            SessionState::Alive {
                touch: now - seen >= SESSION_TOUCH_MS,
            }
        }
    }
}
