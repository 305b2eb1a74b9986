use super::*;
use crate::core::members::{Email, Member, MemberRole};
use crate::core::random::FixedRandom;
use crate::core::team::fixtures::{refusal, team_requiring_totp};
use crate::core::team::membership::{
    add_owner, authenticate, count_attempt, sign_in_finish, SecondFactor,
};
use crate::core::team::memory::MemoryTeam;
use crate::core::team::TeamRefusal;
use crate::core::totp::{code_at, new_recovery_codes, recovery_hash, seal, step_of};

const SECRET: &[u8] = b"12345678901234567890";
const KEY: SealKey = SealKey([9; 32]);
const T0: i64 = 1_800_000_000_000;

fn at(s: i64) -> Timestamp {
    Timestamp::from_millis(T0 + s * 1000)
}

fn team(require: bool) -> MemoryTeam {
    let s = team_requiring_totp(require);
    let owner = Member {
        id: "mem_o".into(),
        email: Email::parse("o@acme.test").unwrap(),
        role: MemberRole::Owner,
        password: "hash".into(),
        created_at: at(0),
        last_login_at: None,
        external_id: None,
        name: None,
        totp: Default::default(),
    };
    add_owner(&s, owner).unwrap();
    s
}

fn code(now: Timestamp) -> String {
    code_at(SECRET, step_of(now))
}

/// Enrolled and confirmed at `at(0)`: the recovery codes.
fn enabled(s: &MemoryTeam) -> Vec<String> {
    let mut rng = FixedRandom((1..=200).collect(), 0);
    enrol(s, "mem_o", seal(&KEY.0, SECRET, &mut rng)).unwrap();
    let codes = new_recovery_codes(&mut rng);
    let hashes = codes.iter().map(|c| recovery_hash(c)).collect();
    assert_eq!(
        refusal(confirm(s, "mem_o", &KEY, "000000", Vec::new(), at(0))),
        TeamRefusal::InvalidCode
    );
    confirm(s, "mem_o", &KEY, &code(at(0)), hashes, at(0)).unwrap();
    codes
}

fn sign_in(s: &MemoryTeam, code: Option<&str>, now: Timestamp) -> TeamResult<bool> {
    count_attempt(s, "o@acme.test", Some("198.51.100.7"), now)?;
    let second = SecondFactor {
        code,
        key: Some(&KEY),
    };
    let session = format!("sess-{}", now.millis());
    let r = sign_in_finish(
        s,
        "o@acme.test",
        Some("198.51.100.7"),
        Some(("mem_o", &session)),
        second,
        None,
        Default::default(),
        now,
    )?;
    Ok(r.totp_enrolment_required)
}

#[test]
fn confirming_needs_a_pending_secret_and_a_current_code() {
    let s = team(false);
    assert_eq!(
        refusal(confirm(&s, "mem_o", &KEY, "123456", Vec::new(), at(0))),
        TeamRefusal::TotpNotEnrolled
    );
    enabled(&s);
    let m = s.member("mem_o").unwrap().unwrap();
    assert!(m.totp.is_enabled() && m.totp.pending.is_none());
    assert_eq!(m.totp.recovery.len(), 10);
    assert_eq!(
        refusal(enrol(&s, "mem_o", "x".into())),
        TeamRefusal::TotpEnabled
    );
}

#[test]
fn sign_in_needs_a_fresh_code_or_a_recovery_code_once() {
    let s = team(false);
    let codes = enabled(&s);
    assert_eq!(
        refusal(sign_in(&s, None, at(60))),
        TeamRefusal::TotpRequired
    );
    assert_eq!(
        refusal(sign_in(&s, Some("000000"), at(60))),
        TeamRefusal::TotpRequired
    );
    // The confirming code's step is used already.
    assert_eq!(
        refusal(sign_in(&s, Some(&code(at(0))), at(10))),
        TeamRefusal::TotpRequired
    );
    assert_eq!(sign_in(&s, Some(&code(at(60))), at(60)), Ok(false));
    assert_eq!(
        refusal(sign_in(&s, Some(&code(at(60))), at(61))),
        TeamRefusal::TotpRequired,
        "a code works once"
    );
    assert_eq!(sign_in(&s, Some(&codes[0]), at(62)), Ok(false));
    assert_eq!(
        refusal(sign_in(&s, Some(&codes[0]), at(63))),
        TeamRefusal::TotpRequired
    );
    // Wrong codes are failed sign-ins: the throttle counts them (10 a pair; the reused
    // recovery code was the first since the last success).
    for i in 0..9 {
        let _ = sign_in(&s, Some("999999"), at(100 + i));
    }
    assert!(matches!(
        refusal(sign_in(&s, Some(&code(at(200))), at(200))),
        TeamRefusal::SignInThrottled { .. }
    ));
}

#[test]
fn disabling_needs_a_code_then_sign_in_needs_none() {
    let s = team(false);
    let codes = enabled(&s);
    assert_eq!(
        refusal(disable(&s, "mem_o", &KEY, "000000", at(90))),
        TeamRefusal::InvalidCode
    );
    disable(&s, "mem_o", &KEY, &codes[5], at(90)).unwrap();
    assert!(s.member("mem_o").unwrap().unwrap().totp.is_off());
    assert_eq!(sign_in(&s, None, at(120)), Ok(false));
    assert_eq!(
        refusal(disable(&s, "mem_o", &KEY, &codes[6], at(150))),
        TeamRefusal::TotpNotEnrolled
    );
}

#[test]
fn a_team_requiring_two_factors_limits_members_without_them_to_enrolling() {
    let s = team(true);
    assert_eq!(sign_in(&s, None, at(0)), Ok(true));
    let a = authenticate(&s, "sess-1800000000000", at(1)).unwrap();
    assert!(a.totp.enrolment_required() && a.signed_in.totp_enrolment_required);
    enabled(&s);
    let a = authenticate(&s, "sess-1800000000000", at(2)).unwrap();
    assert!(!a.totp.enrolment_required() && a.totp.enabled && a.totp.required);
    assert_eq!(sign_in(&s, Some(&code(at(60))), at(60)), Ok(false));
}

#[test]
fn only_enrolling_is_allowed_before_enrolment() {
    use crate::core::totp::enrolment_allows;
    for (m, p) in [
        ("GET", "/v1/me"),
        ("POST", "/v1/me/totp"),
        ("POST", "/v1/me/totp/confirm"),
        ("DELETE", "/v1/session"),
    ] {
        assert!(enrolment_allows(m, p), "{m} {p}");
    }
    for (m, p) in [
        ("GET", "/v1/api-keys"),
        ("POST", "/v1/api-keys"),
        ("POST", "/v1/me/password"),
        ("POST", "/v1/me/totp/disable"),
        ("GET", "/v1/members"),
    ] {
        assert!(!enrolment_allows(m, p), "{m} {p}");
    }
}
