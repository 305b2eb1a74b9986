//! GitHub's side of secret scanning, the pure parts: its published public keys
//! (`{"public_keys": [{"key_identifier", "key" (PEM), "is_current"}]}`, at
//! `https://api.github.com/meta/public_keys/secret_scanning`, or pinned by the setting
//! `GITHUB_SCANNING_KEYS`) and its signature (`Github-Public-Key-Signature`: base64 of an ASN.1
//! DER ECDSA P-256 / SHA-256 signature of the raw body), turned into what WebCrypto takes: the
//! key's DER SubjectPublicKeyInfo (`importKey("spki")`) and the raw `r ‖ s` (64 bytes). The
//! verification itself is WebCrypto's, at the edge: no elliptic-curve code here.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

/// GitHub's published secret-scanning keys.
pub const GITHUB_KEYS_URL: &str = "https://api.github.com/meta/public_keys/secret_scanning";

/// How often an isolate may fetch GitHub's keys again on an unknown identifier.
pub const REFRESH_INTERVAL_MS: i64 = 60_000;

/// The regex a deployment gives GitHub for its keys (README, "When a key leaks"): the prefix,
/// the environment, then the 32 random and 6 checksum base62 characters (`core::key`).
pub fn token_regex(prefix: &crate::core::config::KeyPrefix) -> String {
    let body = crate::core::key::RANDOM_LEN + crate::core::key::CHECKSUM_LEN;
    format!(
        r"\b{}_(?:live|test)_[0-9A-Za-z]{{{body}}}\b",
        prefix.as_str()
    )
}

/// One of GitHub's public keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub id: String,
    /// DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    pub is_current: bool,
}

/// Parses the keys document. Entries whose `key` is not a PEM public key are skipped; a
/// document that is not the expected shape is `None`.
pub fn parse_public_keys(text: &str) -> Option<Vec<PublicKey>> {
    let doc: Value = serde_json::from_str(text).ok()?;
    let keys = doc.get("public_keys")?.as_array()?;
    Some(
        keys.iter()
            .filter_map(|k| {
                Some(PublicKey {
                    id: k.get("key_identifier")?.as_str()?.to_owned(),
                    spki: pem_to_der(k.get("key")?.as_str()?)?,
                    is_current: k.get("is_current").and_then(Value::as_bool) == Some(true),
                })
            })
            .collect(),
    )
}

/// The DER bytes of a `-----BEGIN PUBLIC KEY-----` PEM block.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN PUBLIC KEY-----")?
        .trim_end()
        .strip_suffix("-----END PUBLIC KEY-----")?;
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(b64).ok().filter(|d| !d.is_empty())
}

/// The key named `id`, if known.
pub fn find<'a>(keys: &'a [PublicKey], id: &str) -> Option<&'a PublicKey> {
    keys.iter().find(|k| k.id == id)
}

/// Should an isolate that does not know `id` fetch the keys again? At most once a minute.
pub fn may_refresh(last_fetch_ms: Option<i64>, now_ms: i64) -> bool {
    last_fetch_ms.is_none_or(|t| now_ms - t >= REFRESH_INTERVAL_MS)
}

/// How long an isolate trusts the keys it fetched: GitHub rotates and revokes keys, and an
/// isolate can live for days, so a key it no longer publishes must stop verifying.
pub const KEYS_TTL_MS: i64 = 60 * 60 * 1000;

/// GitHub's keys as one isolate last fetched them: when they were fetched, and when a fetch
/// was last tried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyCache {
    pub keys: Vec<PublicKey>,
    pub keys_at_ms: Option<i64>,
    pub tried_at_ms: Option<i64>,
}

/// What to do with a signature by the key `id`, given the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A key fetched within [`KEYS_TTL_MS`].
    Known(PublicKey),
    /// Fetch the keys again (none yet, expired, or an unknown id), then look again.
    Fetch,
    /// Not known, and a fetch was tried less than a minute ago: not one of GitHub's keys.
    Unknown,
}

impl KeyCache {
    pub fn lookup(&self, id: &str, now_ms: i64) -> Lookup {
        let fresh = self
            .keys_at_ms
            .is_some_and(|t| now_ms >= t && now_ms - t < KEYS_TTL_MS);
        match find(&self.keys, id) {
            Some(k) if fresh => Lookup::Known(k.clone()),
            _ if may_refresh(self.tried_at_ms, now_ms) => Lookup::Fetch,
            _ => Lookup::Unknown,
        }
    }

    /// A fetch was tried at `now_ms`: `keys` when it worked. A failed one keeps the old keys
    /// (still bounded by their own age) and is not tried again within the minute.
    pub fn fetched(&mut self, keys: Option<Vec<PublicKey>>, now_ms: i64) {
        self.tried_at_ms = Some(now_ms);
        if let Some(keys) = keys {
            self.keys = keys;
            self.keys_at_ms = Some(now_ms);
        }
    }
}

/// The raw `r ‖ s` (32 bytes each) of a base64 DER ECDSA P-256 signature, as WebCrypto's
/// `verify` takes it. DER integers are minimal and signed: a leading zero byte (when the high
/// bit is set) is dropped, a short integer is padded on the left. Anything else (not base64,
/// not a SEQUENCE of two positive INTEGERs of at most 32 bytes, trailing bytes) is `None`.
pub fn der_signature_to_raw(b64: &str) -> Option<[u8; 64]> {
    let der = STANDARD.decode(b64.trim()).ok()?;
    let (seq, rest) = tlv(&der, 0x30)?;
    if !rest.is_empty() {
        return None;
    }
    let (r, rest) = tlv(seq, 0x02)?;
    let (s, rest) = tlv(rest, 0x02)?;
    if !rest.is_empty() {
        return None;
    }
    let mut raw = [0u8; 64];
    put_integer(r, &mut raw[..32])?;
    put_integer(s, &mut raw[32..])?;
    Some(raw)
}

/// One DER element with tag `tag`: its contents and what follows. Lengths up to 255 bytes
/// (short form, or `0x81 n`), all a P-256 signature can need.
fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&len, rest) = rest.split_first()?;
    let (len, rest) = match len {
        0..=0x7f => (usize::from(len), rest),
        0x81 => {
            let (&l, rest) = rest.split_first()?;
            (usize::from(l), rest)
        }
        _ => return None,
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// A positive DER INTEGER, right-aligned into `out` (32 bytes).
fn put_integer(int: &[u8], out: &mut [u8]) -> Option<()> {
    let (&first, _) = int.split_first()?;
    if first & 0x80 != 0 {
        return None; // negative: never a signature component
    }
    let mut digits = int;
    while let [0, rest @ ..] = digits {
        digits = rest;
    }
    if digits.len() > out.len() {
        return None;
    }
    let start = out.len() - digits.len();
    out[start..].copy_from_slice(digits);
    Some(())
}
