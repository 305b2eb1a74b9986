use super::*;
use crate::core::random::FixedRandom;

const RFC_SECRET: &[u8] = b"12345678901234567890";

fn at(secs: i64) -> Timestamp {
    Timestamp::from_millis(secs * 1000)
}

#[test]
fn rfc_6238_sha1_test_vectors() {
    // Appendix B, SHA-1 (8 digits there; the 6-digit code is its last six).
    for (t, code8) in [
        (59, 94287082),
        (1111111109, 7081804),
        (1111111111, 14050471),
        (1234567890, 89005924),
        (2000000000, 69279037),
        (20000000000, 65353130),
    ] {
        let step = step_of(at(t));
        assert_eq!(hotp(RFC_SECRET, step, 8), code8, "t={t}");
        assert_eq!(
            code_at(RFC_SECRET, step),
            format!("{:06}", code8 % 1_000_000)
        );
    }
}

#[test]
fn a_code_of_the_step_before_or_after_is_accepted_once() {
    let now = at(1111111111);
    let s = step_of(now);
    let code = code_at(RFC_SECRET, s);
    assert_eq!(verify(RFC_SECRET, &code, now, None), Some(s));
    assert_eq!(verify(RFC_SECRET, &code, now, Some(s)), None, "used once");
    let before = code_at(RFC_SECRET, s - 1);
    assert_eq!(verify(RFC_SECRET, &before, now, None), Some(s - 1));
    let after = code_at(RFC_SECRET, s + 1);
    assert_eq!(verify(RFC_SECRET, &after, now, Some(s)), Some(s + 1));
    for far in [s - 2, s + 2] {
        assert_eq!(
            verify(RFC_SECRET, &code_at(RFC_SECRET, far), now, None),
            None
        );
    }
    for bad in ["", "12345", "1234567", "abcdef", "05047 "] {
        assert_eq!(verify(RFC_SECRET, bad, now, None), None, "{bad:?}");
    }
}

#[test]
fn a_sealed_secret_opens_only_under_its_key() {
    let key =
        crate::core::email_index::derive_key("pepper", crate::core::email_index::TOTP_SEAL_INFO);
    let mut rng = FixedRandom(vec![7, 1, 9], 0);
    let secret = new_secret(&mut rng);
    let sealed = seal(&key, &secret, &mut rng);
    assert!(!sealed.contains(&hex::encode(secret)));
    assert_eq!(open(&key, &sealed).as_deref(), Some(&secret[..]));
    let other =
        crate::core::email_index::derive_key("other", crate::core::email_index::TOTP_SEAL_INFO);
    assert_eq!(open(&other, &sealed), None);
    assert_eq!(open(&key, "00.00"), None);
    assert_eq!(open(&key, "nonsense"), None);
}

#[test]
fn the_otpauth_url_names_the_secret_in_base32() {
    let url = otpauth_url("Acme", "ada@acme.test", RFC_SECRET);
    assert!(
        url.starts_with("otpauth://totp/keygate%20%28Acme%29%3Aada%40acme.test?"),
        "{url}"
    );
    assert!(
        url.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"),
        "{url}"
    );
    assert!(
        url.contains("issuer=keygate") && url.contains("period=30") && url.contains("digits=6")
    );
}

#[test]
fn sign_in_needs_a_code_then_each_code_works_once() {
    let key = [3u8; 32];
    let mut rng = FixedRandom((0..=255).collect(), 0);
    let codes = new_recovery_codes(&mut rng);
    assert_eq!(codes.len(), 10);
    let t = Totp {
        pending: None,
        enabled: Some(seal(&key, RFC_SECRET, &mut rng)),
        last_step: None,
        recovery: codes.iter().map(|c| recovery_hash(c)).collect(),
    };
    let now = at(1234567890);
    assert_eq!(t.check(&key, None, now), Err(Refusal::Missing));
    assert_eq!(t.check(&key, Some("000000"), now), Err(Refusal::Wrong));
    let code = code_at(RFC_SECRET, step_of(now));
    let after = t.check(&key, Some(&code), now).unwrap();
    assert_eq!(after.last_step, Some(step_of(now)));
    assert_eq!(
        after.check(&key, Some(&code), now),
        Err(Refusal::Wrong),
        "replay"
    );
    // A recovery code, in any case and with spaces, once.
    let typed = format!(" {} ", codes[3].to_uppercase());
    let used = after.check(&key, Some(&typed), now).unwrap();
    assert_eq!(used.recovery.len(), 9);
    assert_eq!(used.check(&key, Some(&codes[3]), now), Err(Refusal::Wrong));
    // Under another key (the pepper changed) codes fail, recovery codes still work.
    let other = [4u8; 32];
    assert_eq!(
        used.check(&other, Some(&code_at(RFC_SECRET, step_of(now) + 1)), now),
        Err(Refusal::Wrong)
    );
    assert!(used.check(&other, Some(&codes[4]), now).is_ok());
    // Without two-factor, nothing is asked.
    let off = Totp::default();
    assert_eq!(off.check(&key, None, now), Ok(off.clone()));
}
