use super::github::{
    self, der_signature_to_raw, find, may_refresh, parse_public_keys, pem_to_der, KeyCache, Lookup,
    KEYS_TTL_MS,
};
use super::*;
use crate::core::config::Config;
use crate::core::fixtures::{at, NOW};
use crate::core::key::Environment;
use crate::core::model::{sample_record, KeyStatus};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

fn prefix() -> KeyPrefix {
    Config::from_vars(None).unwrap().key_prefix
}

/// A well-formed key of the default prefix (from fixed bytes).
fn a_key(seed: u8) -> PlainKey {
    struct Fixed(u8);
    impl crate::core::random::Random for Fixed {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                self.0 = self.0.wrapping_mul(31).wrapping_add(7);
                *b = self.0;
            }
        }
    }
    PlainKey::generate(&prefix(), Environment::Live, &mut Fixed(seed))
}

#[test]
fn a_report_parses_and_never_prints_its_tokens() {
    let key = a_key(1);
    let body = format!(
        r#"[{{"token":"{}","type":"keygate_api_key","url":"https://github.com/o/r/blob/x/a.txt","source":"content"}},
            {{"token":12345,"type":"keygate_api_key"}},
            {{"token":"sk_live_nope","extra":true}}]"#,
        key.expose_secret()
    );
    let report = parse_report(body.as_bytes()).unwrap();
    assert_eq!(report.len(), 3);
    assert_eq!(report[0].token_hash(), key.hash().to_hex());
    assert_eq!(report[0].token_type, "keygate_api_key");
    assert_eq!(report[0].source.as_deref(), Some("content"));
    assert_eq!(report[2].token_type, "", "no type: an empty one");
    let shown = format!("{report:?}");
    assert!(!shown.contains(key.expose_secret()) && !shown.contains("sk_live_nope"));
    // Only a well-formed key of this deployment is a candidate for a lookup.
    assert_eq!(report[0].candidate(&prefix()), Some(key.hash()));
    assert_eq!(report[1].candidate(&prefix()), None, "not a string");
    assert_eq!(report[2].candidate(&prefix()), None, "bad format");
    let mut typo = key.expose_secret().to_owned();
    let last = typo.pop().unwrap();
    typo.push(if last == 'a' { 'b' } else { 'a' });
    let r = parse_report(format!(r#"[{{"token":"{typo}"}}]"#).as_bytes()).unwrap();
    assert_eq!(
        r[0].candidate(&prefix()),
        None,
        "a bad checksum is never looked up"
    );
}

#[test]
fn bad_reports_are_refused() {
    for bad in ["", "{}", r#"{"token":"x"}"#, "nope", "\"x\"", "[1,2"] {
        assert_eq!(
            parse_report(bad.as_bytes()),
            Err(ReportError::NotAnArray),
            "{bad}"
        );
    }
    assert_eq!(parse_report(b"[]"), Ok(Vec::new()));
    assert_eq!(
        parse_report(br#"[{"token":"a"},{"type":"x"}]"#),
        Err(ReportError::NoToken(1))
    );
    assert_eq!(parse_report(br#"["a"]"#), Err(ReportError::NoToken(0)));
    assert_eq!(parse_report(&[0xff, 0xfe]), Err(ReportError::NotAnArray));
}

#[test]
fn long_fields_are_cut() {
    let url = "u".repeat(5000);
    let r = parse_report(format!(r#"[{{"token":"t","url":"{url}"}}]"#).as_bytes()).unwrap();
    assert_eq!(r[0].url.as_ref().map(|u| u.len()), Some(2048));
}

#[test]
fn feedback_names_tokens_by_hash_only() {
    let report = parse_report(br#"[{"token":"a","type":"t1"},{"token":"b","type":"t2"}]"#).unwrap();
    let f = feedback(&report, |i| i == 1);
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"token_hash": hex::encode(Sha256::digest(b"a")), "token_type": "t1", "label": "false_positive"},
            {"token_hash": hex::encode(Sha256::digest(b"b")), "token_type": "t2", "label": "true_positive"},
        ])
    );
}

fn state() -> KeyState {
    let key = a_key(2);
    KeyState::new(
        sample_record("key_1", at("2026-10-01T00:00:00Z")),
        key.hash(),
    )
}

fn leak() -> Leak {
    Leak {
        at: at(NOW),
        url: Some("https://github.com/o/r/blob/x/a.txt".into()),
        source: Some("content".into()),
        reporter: Reporter::Github,
    }
}

fn kinds(s: &KeyState) -> Vec<String> {
    s.alerts
        .iter()
        .map(|e| match e.kind.as_str() {
            "audit" => {
                let v: serde_json::Value = serde_json::from_str(&e.body).unwrap();
                format!(
                    "audit:{}:{}",
                    v["action"].as_str().unwrap(),
                    v["actor"]["type"]
                )
            }
            k => k.to_owned(),
        })
        .collect()
}

#[test]
fn disable_policy_disables_at_once_and_says_why() {
    let mut s = state();
    let hash = s.hash;
    let now = at(NOW);
    let out = s.report_leak(&hash, leak(), LeakPolicy::Disable, now);
    assert_eq!(out, LeakOutcome::Changed { disabled: true });
    assert_eq!(s.record.status(now), KeyStatus::Disabled);
    assert_eq!(s.record.disabled_at, Some(now));
    assert_eq!(s.record.leaked, Some(leak()));
    assert_eq!(s.revision, 2);
    assert_eq!(
        kinds(&s),
        [
            "api_key.disabled",
            "audit:api_key.disabled:\"system\"",
            "api_key.leaked",
            "audit:api_key.leaked:\"system\""
        ]
    );
    let disabled: serde_json::Value = serde_json::from_str(&s.alerts[0].body).unwrap();
    assert_eq!(disabled["data"]["reason"], "leaked");
    let leaked: serde_json::Value = serde_json::from_str(&s.alerts[2].body).unwrap();
    assert_eq!(leaked["data"]["status"], "disabled");
    assert_eq!(leaked["data"]["url"], "https://github.com/o/r/blob/x/a.txt");
    assert_eq!(leaked["data"]["source"], "content");
    assert_eq!(leaked["data"]["reporter"], "github");
    assert_eq!(leaked["data"]["policy"], "disable");
    assert_eq!(
        leaked["data"]["leaked"]["url"],
        "https://github.com/o/r/blob/x/a.txt"
    );
}

#[test]
fn a_repeated_report_changes_nothing_and_sends_nothing() {
    for policy in [LeakPolicy::Disable, LeakPolicy::Notify] {
        let mut s = state();
        let hash = s.hash;
        s.report_leak(&hash, leak(), policy, at(NOW));
        let before = s.record.clone();
        s.alerts.clear();
        let later = at("2026-10-15T00:00:00Z");
        let mut again = leak();
        again.url = Some("https://github.com/elsewhere".into());
        assert_eq!(
            s.report_leak(&hash, again, policy, later),
            LeakOutcome::Unchanged
        );
        assert_eq!(s.record, before, "{policy:?}");
        assert_eq!(s.revision, 2);
        assert!(s.alerts.is_empty());
    }
}

#[test]
fn notify_keeps_the_key_working() {
    let mut s = state();
    let hash = s.hash;
    let now = at(NOW);
    let out = s.report_leak(&hash, leak(), LeakPolicy::Notify, now);
    assert_eq!(out, LeakOutcome::Changed { disabled: false });
    assert_eq!(s.record.status(now), KeyStatus::Active);
    assert!(s.record.leaked.is_some());
    assert_eq!(
        kinds(&s),
        ["api_key.leaked", "audit:api_key.leaked:\"system\""]
    );
    // The team turns to `disable` later: a new report of the same leak disables it, once.
    s.alerts.clear();
    let later = at("2026-10-15T00:00:00Z");
    let out = s.report_leak(&hash, leak(), LeakPolicy::Disable, later);
    assert_eq!(out, LeakOutcome::Changed { disabled: true });
    assert_eq!(
        kinds(&s),
        ["api_key.disabled", "audit:api_key.disabled:\"system\""]
    );
    assert_eq!(
        s.record.leaked.as_ref().map(|l| l.at),
        Some(now),
        "the first leak stays"
    );
    s.alerts.clear();
    assert_eq!(
        s.report_leak(&hash, leak(), LeakPolicy::Disable, later),
        LeakOutcome::Unchanged
    );
}

#[test]
fn an_already_disabled_key_is_recorded_not_disabled_again() {
    let mut s = state();
    let hash = s.hash;
    let earlier = at("2026-10-02T00:00:00Z");
    s.record.disabled_at = Some(earlier);
    let out = s.report_leak(&hash, leak(), LeakPolicy::Disable, at(NOW));
    assert_eq!(out, LeakOutcome::Changed { disabled: false });
    assert_eq!(s.record.disabled_at, Some(earlier));
    assert_eq!(
        kinds(&s),
        ["api_key.leaked", "audit:api_key.leaked:\"system\""]
    );
}

#[test]
fn another_hash_is_not_this_key() {
    let mut s = state();
    let other = a_key(9).hash();
    assert_eq!(
        s.report_leak(&other, leak(), LeakPolicy::Disable, at(NOW)),
        LeakOutcome::NotThisKey
    );
    assert!(s.record.leaked.is_none() && s.alerts.is_empty() && s.revision == 1);
}

#[test]
fn event_ids_are_stable_for_the_same_leak() {
    let run = || {
        let mut s = state();
        let hash = s.hash;
        s.report_leak(&hash, leak(), LeakPolicy::Disable, at(NOW));
        s.alerts.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    };
    let ids = run();
    assert_eq!(ids, run());
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4);
}

#[test]
fn policy_parses_and_defaults_to_disable() {
    assert_eq!(LeakPolicy::default(), LeakPolicy::Disable);
    assert_eq!(LeakPolicy::parse("notify"), Some(LeakPolicy::Notify));
    assert_eq!(LeakPolicy::parse("Disable"), None);
    let team: crate::core::model::Team =
        serde_json::from_str(r#"{"id":"team_1","name":"A","created_at":"2026-10-01T00:00:00Z"}"#)
            .unwrap();
    assert_eq!(
        team.leak_policy,
        LeakPolicy::Disable,
        "teams stored before it"
    );
}

// --- GitHub's keys and signatures ---

const PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6CbBoorPwythCpiFXDGD+bETyaoK\nF5DcCTjCeOCHBmEK1+XEpXs98AV1zmIltLued0jJZoKJD2Tznw0Z7BRBvA==\n-----END PUBLIC KEY-----\n";
const DER_HEX: &str = "3059301306072a8648ce3d020106082a8648ce3d03010703420004e826c1a28acfc32b610a98855c3183f9b113c9aa0a1790dc0938c278e08706610ad7e5c4a57b3df00575ce6225b4bb9e7748c96682890f64f39f0d19ec1441bc";

#[test]
fn the_regex_for_github_follows_the_prefix() {
    let acme = KeyPrefix::parse("acme").unwrap();
    assert_eq!(
        github::token_regex(&acme),
        r"\bacme_(?:live|test)_[0-9A-Za-z]{38}\b"
    );
    let k = a_key(3);
    let body = k.expose_secret().rsplit('_').next().unwrap();
    assert_eq!(body.len(), 38, "the regex's length is the key's");
}

#[test]
fn pem_becomes_spki_der() {
    assert_eq!(pem_to_der(PEM).map(hex::encode).as_deref(), Some(DER_HEX));
    assert_eq!(
        pem_to_der("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----"),
        None
    );
    assert_eq!(pem_to_der("MFkw"), None);
}

#[test]
fn the_keys_document_parses() {
    let doc = serde_json::json!({"public_keys": [
        {"key_identifier": "abc", "key": PEM, "is_current": true},
        {"key_identifier": "old", "key": PEM, "is_current": false},
        {"key_identifier": "broken", "key": "not pem", "is_current": false},
    ]})
    .to_string();
    let keys = parse_public_keys(&doc).unwrap();
    assert_eq!(keys.len(), 2, "a key that is not PEM is skipped");
    assert!(keys[0].is_current && !keys[1].is_current);
    assert_eq!(hex::encode(&find(&keys, "old").unwrap().spki), DER_HEX);
    assert!(find(&keys, "nope").is_none());
    assert_eq!(parse_public_keys("[]"), None);
    assert_eq!(parse_public_keys(r#"{"public_keys":{}}"#), None);
}

#[test]
fn refresh_at_most_once_a_minute() {
    assert!(may_refresh(None, 0));
    assert!(!may_refresh(Some(1_000), 60_999));
    assert!(may_refresh(Some(1_000), 61_000));
}

fn der(r: &[u8], s: &[u8]) -> String {
    let mut body = vec![0x02, r.len() as u8];
    body.extend_from_slice(r);
    body.extend_from_slice(&[0x02, s.len() as u8]);
    body.extend_from_slice(s);
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    STANDARD.encode(out)
}

#[test]
fn der_signatures_become_raw_r_s() {
    // r with its high bit set (a leading zero byte in DER), s short (31 bytes: padded).
    let mut r = vec![0x00];
    r.extend([0x80u8; 32]);
    let s = [0x11u8; 31];
    let raw = der_signature_to_raw(&der(&r, &s)).unwrap();
    assert_eq!(&raw[..32], &[0x80u8; 32]);
    assert_eq!(raw[32], 0);
    assert_eq!(&raw[33..], &[0x11u8; 31]);
    // Both full 32 bytes without a high bit.
    let raw = der_signature_to_raw(&der(&[0x7f; 32], &[0x01; 32])).unwrap();
    assert_eq!(
        (&raw[..32], &raw[32..]),
        (&[0x7fu8; 32][..], &[0x01u8; 32][..])
    );
    // GitHub's published example signature: a 72-byte DER (r with a leading zero).
    let example = "MEUCIQDfLvT8/zM8F1aB3cM0ZwyeWF1m5YR6IhcUIv1OKQYL0wIgBZ5lVXB3gHK+dT8+xt0WgRVLqvsTPFiDO9QP/7eJ4yE=";
    let raw = der_signature_to_raw(example).unwrap();
    assert_eq!(raw[0], 0xdf);
}

#[test]
fn bad_signatures_are_none() {
    let mut too_long = vec![0x01];
    too_long.extend([0x22u8; 32]);
    for bad in [
        String::new(),
        "%%%".into(),
        STANDARD.encode([0x30, 0x00]),
        der(&[0x80; 32], &[0x01; 32]), // negative r
        der(&too_long, &[0x01; 32]),   // 33 significant bytes
        der(&[], &[0x01; 32]),         // empty integer
        {
            let mut d = STANDARD.decode(der(&[1; 32], &[1; 32])).unwrap();
            d.push(0);
            STANDARD.encode(d) // trailing bytes
        },
    ] {
        assert_eq!(der_signature_to_raw(&bad), None, "{bad}");
    }
}

#[test]
fn github_keys_are_trusted_for_an_hour_and_an_unknown_id_refetches_once_a_minute() {
    let key = |id: &str| github::PublicKey {
        id: id.into(),
        spki: vec![1],
        is_current: true,
    };
    let mut cache = KeyCache::default();
    assert_eq!(cache.lookup("a", 0), Lookup::Fetch);
    cache.fetched(Some(vec![key("a")]), 1_000);
    assert_eq!(
        cache.lookup("a", 1_000 + KEYS_TTL_MS - 1),
        Lookup::Known(key("a"))
    );
    // An hour on, a key GitHub may have revoked is not trusted until fetched again.
    assert_eq!(cache.lookup("a", 1_000 + KEYS_TTL_MS), Lookup::Fetch);
    // An unknown id: not again within the minute, again after it.
    assert_eq!(cache.lookup("b", 60_999), Lookup::Unknown);
    assert_eq!(cache.lookup("b", 61_000), Lookup::Fetch);
    // A failed fetch counts as an attempt (no fetch per request while GitHub is down) and keeps
    // the keys, still bounded by their own age.
    cache.fetched(None, 61_000);
    assert_eq!(cache.lookup("b", 61_001), Lookup::Unknown);
    assert_eq!(cache.lookup("a", 61_001), Lookup::Known(key("a")));
    assert_eq!(cache.lookup("a", 1_000 + KEYS_TTL_MS), Lookup::Fetch);
    cache.fetched(Some(vec![key("b")]), 1_000 + KEYS_TTL_MS);
    assert_eq!(
        cache.lookup("b", 2_000 + KEYS_TTL_MS),
        Lookup::Known(key("b"))
    );
    // A key GitHub no longer publishes is gone with the fetch.
    assert_eq!(cache.lookup("a", 2_000 + KEYS_TTL_MS), Lookup::Unknown);
    // A clock that went back does not make the keys fresh.
    assert!(!matches!(cache.lookup("b", 0), Lookup::Known(_)));
}
