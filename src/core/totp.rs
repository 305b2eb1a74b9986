//! Two-factor sign-in, RFC 6238: TOTP with HMAC-SHA1, 6 digits, 30-second steps, a code of the
//! step before or after accepted, each step usable once (the last used step is remembered);
//! recovery codes (10, single use, stored as SHA-256: each carries 50 random bits, so no slow
//! hash is needed). Secrets are sealed with ChaCha20-Poly1305 under a key derived from the
//! pepper (`core::email_index::derive_key`, `TOTP_SEAL_INFO`). Pure: time and randomness are
//! arguments.

use crate::core::random::Random;
use crate::core::time::Timestamp;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Mac, SimpleHmac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
pub const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODES: usize = 10;

/// HOTP (RFC 4226) of `counter`, truncated to [`DIGITS`].
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = <SimpleHmac<sha1::Sha1> as Mac>::new_from_slice(secret)
        .expect("HMAC takes a key of any length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[h.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    bin % 10u32.pow(digits)
}

/// The step `now` falls in.
pub fn step_of(now: Timestamp) -> u64 {
    (now.millis().div_euclid(1000) / STEP_SECONDS).max(0) as u64
}

/// The code of `step`, as a person types it.
pub fn code_at(secret: &[u8], step: u64) -> String {
    format!("{:06}", hotp(secret, step, DIGITS))
}

/// The step a code proves (now, the step before or the step after), if it is later than the
/// last step used (`last_used`): each code works once. Compared in constant time.
pub fn verify(secret: &[u8], code: &str, now: Timestamp, last_used: Option<u64>) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(now);
    let mut found = None;
    for step in [now.saturating_sub(1), now, now + 1] {
        let ok: bool = code_at(secret, step)
            .as_bytes()
            .ct_eq(code.as_bytes())
            .into();
        if ok && last_used.is_none_or(|l| step > l) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// A new random secret.
pub fn new_secret(rng: &mut impl Random) -> [u8; SECRET_BYTES] {
    let mut s = [0u8; SECRET_BYTES];
    rng.fill(&mut s);
    s
}

/// The secret as authenticator apps take it (RFC 4648 base32, no padding).
pub fn base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The `otpauth://` URL authenticator apps read (Key Uri Format): issuer `keygate`, the
/// account the member's email in their team.
pub fn otpauth_url(team_name: &str, email: &str, secret: &[u8]) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let label = enc(&format!("keygate ({team_name}):{email}")).replace('+', "%20");
    format!(
        "otpauth://totp/{label}?secret={}&issuer=keygate&algorithm=SHA1&digits=6&period=30",
        base32(secret)
    )
}

/// Seals a secret: `<nonce hex>.<ciphertext hex>` (12 random bytes of nonce).
pub fn seal(key: &[u8; 32], secret: &[u8], rng: &mut impl Random) -> String {
    let mut nonce = [0u8; 12];
    rng.fill(&mut nonce);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), secret)
        .expect("sealing a short secret cannot fail");
    format!("{}.{}", hex::encode(nonce), hex::encode(sealed))
}

/// Opens a sealed secret (`None`: not ours, or sealed under another pepper).
pub fn open(key: &[u8; 32], sealed: &str) -> Option<Vec<u8>> {
    let (nonce, body) = sealed.split_once('.')?;
    let nonce = hex::decode(nonce).ok().filter(|n| n.len() == 12)?;
    let body = hex::decode(body).ok()?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    cipher.decrypt(Nonce::from_slice(&nonce), &body[..]).ok()
}

/// Ten recovery codes, `xxxxx-xxxxx` (base32, lower case: 50 bits each).
pub fn new_recovery_codes(rng: &mut impl Random) -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut b = [0u8; 7];
            rng.fill(&mut b);
            let s = data_encoding::BASE32_NOPAD.encode(&b).to_ascii_lowercase();
            format!("{}-{}", &s[..5], &s[5..10])
        })
        .collect()
}

/// The stored form of a recovery code (case, spaces and dashes do not matter).
pub fn recovery_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(format!("keygate-recovery:{norm}")))
}

/// A member's second factor, as stored with them. The secret only sealed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totp {
    /// Enrolled, not yet confirmed (a new enrolment replaces it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// Confirmed: sign-ins need a code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<String>,
    /// The last step a code was used for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_step: Option<u64>,
    /// Hashes of the recovery codes not used yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery: Vec<String>,
}

/// Why a second factor was refused (`401 totp_required` either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No code given.
    Missing,
    /// A wrong, stale or already used code (a failed sign-in).
    Wrong,
}

impl Totp {
    /// Nothing enrolled (not stored).
    pub fn is_off(&self) -> bool {
        *self == Totp::default()
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.is_some()
    }

    /// Judges `code` for a sign-in: a current code (its step then remembered) or a recovery
    /// code (then used up). The state to store on success.
    pub fn check(
        &self,
        key: &[u8; 32],
        code: Option<&str>,
        now: Timestamp,
    ) -> Result<Totp, Refusal> {
        let Some(sealed) = &self.enabled else {
            return Ok(self.clone());
        };
        let code = code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or(Refusal::Missing)?;
        // A secret sealed under another pepper no longer opens: recovery codes still work.
        let step = open(key, sealed).and_then(|s| verify(&s, code, now, self.last_step));
        if let Some(step) = step {
            return Ok(Totp {
                last_step: Some(step),
                ..self.clone()
            });
        }
        let h = recovery_hash(code);
        let at = self
            .recovery
            .iter()
            .position(|r| bool::from(r.as_bytes().ct_eq(h.as_bytes())))
            .ok_or(Refusal::Wrong)?;
        let mut next = self.clone();
        next.recovery.remove(at);
        Ok(next)
    }
}

/// What a member's session may do while the team requires two factors and the member has
/// none: read who they are, enrol and confirm, sign out. Everything else is
/// `403 totp_enrolment_required`.
pub fn enrolment_allows(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("GET", "/v1/me")
            | ("POST", "/v1/me/totp")
            | ("POST", "/v1/me/totp/confirm")
            | ("DELETE", "/v1/session")
    )
}

/// A member's two-factor state as `GET /v1/me` shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpStatus {
    pub enabled: bool,
    pub required: bool,
}

impl TotpStatus {
    /// The member must enrol before anything else.
    pub fn enrolment_required(&self) -> bool {
        self.required && !self.enabled
    }
}

/// The key sealing TOTP secrets, handed by the edge to the team object's call that needs it
/// (internal; never printed: its `Debug` is redacted).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealKey(pub [u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(…)")
    }
}

#[cfg(test)]
#[path = "totp_tests.rs"]
mod tests;
