//! The global email index: which teams an email is a member of, so that `POST /v1/session`
//! without a `team_id` finds the teams to try without touching any other team's object.
//!
//! One KV entry per (email, team), `e:<hmac>:<team id>`, written with the membership and
//! removed with it; the teams of an email are listed by the prefix `e:<hmac>:`, so no entry is
//! ever read, changed and written back (no lost update between two teams adding one person).
//! `<hmac>` is HMAC-SHA256 of the normalised email under a key derived from the pepper (HKDF,
//! [`derive_key`]): the index never holds an email, and without the pepper its names say
//! nothing about who is a member.

use crate::core::ids::TeamId;
use hmac::{Mac, SimpleHmac};
use sha2::Sha256;

/// The most teams one email is tried in by a sign-in without a `team_id` (each costs a
/// password derivation); past it, the person names the team.
pub const MAX_TEAMS_PER_EMAIL: usize = 20;

/// HKDF-SHA256 info strings: one key per use, all from the pepper.
pub const EMAIL_INDEX_INFO: &[u8] = b"keygate/email-index/v1";
pub const TOTP_SEAL_INFO: &[u8] = b"keygate/totp-seal/v1";

/// A 32-byte key for `info`, derived from the pepper with HKDF-SHA256.
pub fn derive_key(pepper: &str, info: &[u8]) -> [u8; 32] {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"keygate"), pepper.as_bytes());
    let mut out = [0u8; 32];
    hk.expand(info, &mut out)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    out
}

/// The prefix every entry of `email_key` (a normalised email, `Email::key`) starts with.
pub fn email_prefix(index_key: &[u8; 32], email_key: &str) -> String {
    let mut mac = <SimpleHmac<Sha256> as Mac>::new_from_slice(index_key)
        .expect("HMAC takes a key of any length");
    mac.update(email_key.as_bytes());
    format!("e:{}:", hex::encode(mac.finalize().into_bytes()))
}

/// The entry saying that `email_key` is a member of `team`.
pub fn email_entry(index_key: &[u8; 32], email_key: &str, team: &TeamId) -> String {
    format!("{}{}", email_prefix(index_key, email_key), team)
}

/// The team an entry listed under `prefix` names (`None`: not one of ours).
pub fn team_of_entry(prefix: &str, name: &str) -> Option<TeamId> {
    TeamId::parse(name.strip_prefix(prefix)?)
}

/// The time a refused sign-in by email takes, so that an email in no team is answered after
/// about as long as a wrong password in some team (which asks team objects, where an unknown
/// email asks none): a moving average of the refusals this isolate measured, and the wait that
/// brings an unknown email's answer up to it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RefusalTime {
    average_ms: f64,
}

impl RefusalTime {
    /// Notes a wrong password's refusal that took `elapsed_ms`.
    pub fn record(&mut self, elapsed_ms: f64) {
        let e = elapsed_ms.clamp(0.0, 5_000.0);
        self.average_ms = if self.average_ms == 0.0 {
            e
        } else {
            0.8 * self.average_ms + 0.2 * e
        };
    }

    /// How much longer an unknown email's answer should wait, having taken `elapsed_ms` of
    /// which `derivation_ms` was the decoy derivation. Before any refusal was measured, twice
    /// the derivation (a wrong password's derivation and its two object calls); never more
    /// than a second.
    pub fn wait_ms(&self, elapsed_ms: f64, derivation_ms: f64) -> f64 {
        let target = if self.average_ms > 0.0 {
            self.average_ms
        } else {
            2.0 * derivation_ms
        };
        (target - elapsed_ms).clamp(0.0, 1_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_email_waits_as_long_as_a_wrong_password_takes() {
        let mut t = RefusalTime::default();
        assert_eq!(t.wait_ms(20.0, 16.0), 12.0, "twice the derivation at first");
        t.record(100.0);
        assert_eq!(t.wait_ms(30.0, 16.0), 70.0);
        t.record(50.0);
        assert_eq!(t.wait_ms(30.0, 16.0), 60.0, "a moving average");
        assert_eq!(t.wait_ms(200.0, 16.0), 0.0, "never negative");
        t.record(1e9);
        assert_eq!(t.wait_ms(0.0, 16.0), 1_000.0, "never more than a second");
    }

    #[test]
    fn entries_name_the_team_under_a_keyed_hash_of_the_email_never_the_email() {
        let key = derive_key("pepper", EMAIL_INDEX_INFO);
        let team = TeamId::parse("team_0123456789ABCDEFGHIJ").unwrap();
        let name = email_entry(&key, "ada@acme.test", &team);
        assert!(!name.contains("ada") && !name.contains("acme"), "{name}");
        let prefix = email_prefix(&key, "ada@acme.test");
        assert!(name.starts_with(&prefix) && prefix.len() == 2 + 64 + 1);
        assert_eq!(team_of_entry(&prefix, &name), Some(team.clone()));
        // Another email, or the same under another pepper, lists nothing of it.
        assert_ne!(prefix, email_prefix(&key, "bob@acme.test"));
        let other = derive_key("another pepper", EMAIL_INDEX_INFO);
        assert_ne!(prefix, email_prefix(&other, "ada@acme.test"));
        assert_eq!(
            team_of_entry(&prefix, "e:zz:team_0123456789ABCDEFGHIJ"),
            None
        );
        assert_eq!(team_of_entry(&prefix, &format!("{prefix}nope")), None);
    }

    #[test]
    fn each_use_of_the_pepper_has_its_own_key() {
        assert_ne!(
            derive_key("p", EMAIL_INDEX_INFO),
            derive_key("p", TOTP_SEAL_INFO)
        );
        assert_eq!(
            derive_key("p", EMAIL_INDEX_INFO),
            derive_key("p", EMAIL_INDEX_INFO)
        );
    }
}
