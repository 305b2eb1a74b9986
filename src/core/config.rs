//! Deployment settings, read once per isolate at the edge into this typed struct.

use std::fmt;

/// The first part of every key this deployment issues (`KEY_PREFIX`, default `sk`).
///
/// Invariant: 1–16 ASCII letters or digits, so that `_` always ends it. Never change the prefix of
/// a deployment that has issued keys: keys with the old prefix would stop parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPrefix(String);

pub const DEFAULT_KEY_PREFIX: &str = "sk";

impl KeyPrefix {
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        if (1..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(KeyPrefix(s.to_owned()))
        } else {
            Err(ConfigError::InvalidKeyPrefix)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for KeyPrefix {
    fn default() -> Self {
        KeyPrefix(DEFAULT_KEY_PREFIX.to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    InvalidKeyPrefix,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidKeyPrefix => {
                f.write_str("KEY_PREFIX must be 1 to 16 ASCII letters or digits")
            }
        }
    }
}

/// Everything the service reads from its environment, parsed once.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub key_prefix: KeyPrefix,
}

impl Config {
    /// `key_prefix` is the `KEY_PREFIX` variable as set, or `None` when unset.
    pub fn from_vars(key_prefix: Option<&str>) -> Result<Self, ConfigError> {
        Ok(Config {
            key_prefix: match key_prefix {
                Some(p) => KeyPrefix::parse(p)?,
                None => KeyPrefix::default(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_rules() {
        assert_eq!(KeyPrefix::parse("sk").unwrap().as_str(), "sk");
        assert!(KeyPrefix::parse("acme2").is_ok());
        for bad in ["", "s_k", "sk-", "ünï", "abcdefghijklmnopq"] {
            assert_eq!(
                KeyPrefix::parse(bad),
                Err(ConfigError::InvalidKeyPrefix),
                "{bad}"
            );
        }
        assert_eq!(Config::from_vars(None).unwrap().key_prefix.as_str(), "sk");
    }
}
