//! The API key itself: `{prefix}_{environment}_{body}`, where `body` is 32 random base62
//! characters (190 bits) followed by a 6-character base62 CRC32 of everything before it.
//!
//! The checksum lets the edge reject a mistyped or made-up key without any storage lookup.
//! Only the SHA-256 of the whole key ([`KeyHash`]) is ever stored; the plaintext
//! ([`PlainKey`]) lives in one response and nowhere else, and its `Debug` prints no secret.
//!
//! Invariant: never change the alphabet, the lengths or the checksum of existing keys.

use super::base62;
use super::config::KeyPrefix;
use super::random::Random;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// Random characters in a key body.
pub const RANDOM_LEN: usize = 32;
/// Checksum characters at the end of a key body.
pub const CHECKSUM_LEN: usize = 6;
/// Characters of a key shown in listings to identify it (`sk_live_AbC1`).
pub const DISPLAY_PREFIX_LEN: usize = 12;

/// Where a key may be used: real traffic or tests. Fixed for a key's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Live,
    Test,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "live" => Some(Environment::Live),
            "test" => Some(Environment::Test),
            _ => None,
        }
    }
}

/// Why a string is not a key of this deployment. Each is decided without storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFormatError {
    /// It does not start with `{prefix}_`.
    MissingPrefix,
    /// The part after the prefix is not `live_` or `test_`.
    UnknownEnvironment,
    /// The body is not exactly 38 characters.
    InvalidLength,
    /// The body has a character outside base62.
    InvalidCharacter,
    /// The last six characters are not the checksum of the rest.
    InvalidChecksum,
}

impl fmt::Display for KeyFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyFormatError::MissingPrefix => "the key does not start with this service's prefix",
            KeyFormatError::UnknownEnvironment => "the key's environment is not `live` or `test`",
            KeyFormatError::InvalidLength => "the key has the wrong length",
            KeyFormatError::InvalidCharacter => "the key contains a character that is not base62",
            KeyFormatError::InvalidChecksum => {
                "the key's checksum does not match (is it mistyped?)"
            }
        })
    }
}

/// A full API key in clear. Exists only between parsing or generation and hashing, and in the
/// one response that creates it. `Debug` and `Display` show the display prefix only.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainKey {
    text: String,
    environment: Environment,
}

impl PlainKey {
    /// A new key from the platform's randomness.
    pub fn generate(prefix: &KeyPrefix, environment: Environment, rng: &mut impl Random) -> Self {
        let random = base62::random_string(rng, RANDOM_LEN);
        Self::assemble(prefix, environment, &random)
    }

    fn assemble(prefix: &KeyPrefix, environment: Environment, random: &str) -> Self {
        let mut text = String::with_capacity(prefix.as_str().len() + 6 + RANDOM_LEN + CHECKSUM_LEN);
        text.push_str(prefix.as_str());
        text.push('_');
        text.push_str(environment.as_str());
        text.push('_');
        text.push_str(random);
        let checksum = checksum(&text);
        text.push_str(&checksum);
        PlainKey { text, environment }
    }

    /// Checks the format and the checksum; touches no storage.
    pub fn parse(prefix: &KeyPrefix, s: &str) -> Result<Self, KeyFormatError> {
        let rest = s
            .strip_prefix(prefix.as_str())
            .and_then(|r| r.strip_prefix('_'))
            .ok_or(KeyFormatError::MissingPrefix)?;
        let (env, body) = rest
            .split_once('_')
            .ok_or(KeyFormatError::UnknownEnvironment)?;
        let environment = Environment::parse(env).ok_or(KeyFormatError::UnknownEnvironment)?;
        if body.len() != RANDOM_LEN + CHECKSUM_LEN {
            return Err(KeyFormatError::InvalidLength);
        }
        if !body.bytes().all(base62::is_base62) {
            return Err(KeyFormatError::InvalidCharacter);
        }
        let (signed, sum) = s.split_at(s.len() - CHECKSUM_LEN);
        if checksum(signed) != sum {
            return Err(KeyFormatError::InvalidChecksum);
        }
        Ok(PlainKey {
            text: s.to_owned(),
            environment,
        })
    }

    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The first twelve characters, safe to show and store (`sk_live_AbC1`).
    pub fn display_prefix(&self) -> &str {
        &self.text[..DISPLAY_PREFIX_LEN.min(self.text.len())]
    }

    pub fn hash(&self) -> KeyHash {
        KeyHash(Sha256::digest(self.text.as_bytes()).into())
    }

    /// The secret itself, for the one response that returns it.
    pub fn expose_secret(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for PlainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlainKey({}…)", self.display_prefix())
    }
}

/// CRC-32 (IEEE 802.3, as zlib's `crc32`), computed bit by bit: for 40 bytes a lookup table
/// would save nothing worth its kilobytes in the wasm.
const CRC32: crc::Crc<u32, crc::NoTable> =
    crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// The CRC-32 of `signed`, as six base62 characters.
fn checksum(signed: &str) -> String {
    base62::encode_fixed(u64::from(CRC32.checksum(signed.as_bytes())), CHECKSUM_LEN)
}

/// SHA-256 of a full key: what storage knows a key by.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(KeyHash(out))
    }

    /// Compares in constant time, so that timing says nothing about how much of a hash matched.
    pub fn ct_eq(&self, other: &KeyHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(…)")
    }
}

impl Serialize for KeyHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for KeyHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        KeyHash::from_hex(&s).ok_or_else(|| serde::de::Error::custom("not a SHA-256 hex digest"))
    }
}

/// Compares two secrets of any length in constant time (by comparing their SHA-256 digests, so
/// not even the length leaks). For the operator token.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    let ha: [u8; 32] = Sha256::digest(a.as_bytes()).into();
    let hb: [u8; 32] = Sha256::digest(b.as_bytes()).into();
    ha.ct_eq(&hb).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::random::FixedRandom;

    fn sk() -> KeyPrefix {
        KeyPrefix::default()
    }

    // Golden vectors (checksum computed independently with Python's zlib.crc32): these exact
    // strings must keep parsing for as long as keys exist.
    const GOLDEN_RANDOM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

    #[test]
    fn golden_vector_live() {
        let key = PlainKey::assemble(&sk(), Environment::Live, GOLDEN_RANDOM);
        let text = key.expose_secret();
        assert_eq!(text.len(), "sk_live_".len() + 38);
        assert!(text.starts_with("sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUV"));
        let crc = CRC32.checksum(b"sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUV");
        assert_eq!(
            &text[text.len() - 6..],
            base62::encode_fixed(u64::from(crc), 6)
        );
        assert_eq!(text, GOLDEN_LIVE);
        assert_eq!(key.display_prefix(), "sk_live_0123");
        assert_eq!(PlainKey::parse(&sk(), GOLDEN_LIVE).unwrap(), key);
    }

    const GOLDEN_LIVE: &str = "sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUV28hqg7";

    #[test]
    fn golden_hash_is_sha256_of_the_whole_key() {
        let key = PlainKey::parse(&sk(), GOLDEN_LIVE).unwrap();
        let expected = hex::encode(Sha256::digest(GOLDEN_LIVE.as_bytes()));
        assert_eq!(key.hash().to_hex(), expected);
        assert_eq!(KeyHash::from_hex(&expected), Some(key.hash()));
    }

    #[test]
    fn generated_keys_parse_and_carry_their_environment() {
        let mut rng = FixedRandom((0..=255).collect(), 7);
        for env in [Environment::Live, Environment::Test] {
            let key = PlainKey::generate(&sk(), env, &mut rng);
            let parsed = PlainKey::parse(&sk(), key.expose_secret()).unwrap();
            assert_eq!(parsed.environment(), env);
            assert_eq!(key.expose_secret().len(), 8 + 38);
        }
    }

    #[test]
    fn every_single_character_typo_is_caught() {
        let body_start = "sk_live_".len();
        for i in body_start..GOLDEN_LIVE.len() {
            for c in ['a', 'Z', '7'] {
                let mut chars: Vec<char> = GOLDEN_LIVE.chars().collect();
                if chars[i] == c {
                    continue;
                }
                chars[i] = c;
                let typo: String = chars.into_iter().collect();
                assert_eq!(
                    PlainKey::parse(&sk(), &typo),
                    Err(KeyFormatError::InvalidChecksum),
                    "{typo}"
                );
            }
        }
    }

    #[test]
    fn format_errors_are_precise() {
        let p = sk();
        assert_eq!(
            PlainKey::parse(&p, "pk_live_x"),
            Err(KeyFormatError::MissingPrefix)
        );
        assert_eq!(
            PlainKey::parse(&p, "sklive"),
            Err(KeyFormatError::MissingPrefix)
        );
        assert_eq!(
            PlainKey::parse(&p, "sk_prod_abc"),
            Err(KeyFormatError::UnknownEnvironment)
        );
        assert_eq!(
            PlainKey::parse(&p, "sk_live"),
            Err(KeyFormatError::UnknownEnvironment)
        );
        assert_eq!(
            PlainKey::parse(&p, "sk_live_short"),
            Err(KeyFormatError::InvalidLength)
        );
        let long = format!("{GOLDEN_LIVE}0");
        assert_eq!(
            PlainKey::parse(&p, &long),
            Err(KeyFormatError::InvalidLength)
        );
        let bad_char = GOLDEN_LIVE.replacen('A', "-", 1);
        assert_eq!(
            PlainKey::parse(&p, &bad_char),
            Err(KeyFormatError::InvalidCharacter)
        );
        // A multi-byte character of the right byte length is still not base62.
        let unicode = GOLDEN_LIVE.replacen("AB", "é", 1);
        assert_eq!(
            PlainKey::parse(&p, &unicode),
            Err(KeyFormatError::InvalidCharacter)
        );
    }

    #[test]
    fn custom_prefix() {
        let acme = KeyPrefix::parse("acme").unwrap();
        let mut rng = FixedRandom(vec![1, 2, 3], 0);
        let key = PlainKey::generate(&acme, Environment::Test, &mut rng);
        assert!(key.expose_secret().starts_with("acme_test_"));
        assert!(PlainKey::parse(&acme, key.expose_secret()).is_ok());
        assert_eq!(
            PlainKey::parse(&sk(), key.expose_secret()),
            Err(KeyFormatError::MissingPrefix)
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = PlainKey::parse(&sk(), GOLDEN_LIVE).unwrap();
        let shown = format!("{key:?} {:?}", key.hash());
        assert!(!shown.contains(&GOLDEN_LIVE[12..]), "{shown}");
        assert!(!shown.contains(&key.hash().to_hex()), "{shown}");
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal("operator-token", "operator-token"));
        assert!(!secrets_equal("operator-token", "operator-tokeN"));
        assert!(!secrets_equal("operator-token", ""));
    }
}
