use super::*;
use crate::core::config::KeyPrefix;
use crate::core::fixtures::{at, hash, need, record, NOW};
use crate::core::ids::{new_id, IdKind, KeyId, TeamId};
use crate::core::key::Environment;
use crate::core::key::PlainKey;
use crate::core::key_state::KeyState;
use crate::core::random::FixedRandom;
use crate::http::front::{Constant, Front};

fn key() -> PlainKey {
    PlainKey::generate(
        &KeyPrefix::default(),
        Environment::Live,
        &mut FixedRandom(vec![7, 11, 13], 0),
    )
}

fn input(key: &PlainKey) -> VerifyRequest {
    let body = format!(
        r#"{{"key":"{}","permissions":["tasks:read"],"cost":3,"ip":"10.0.0.1"}}"#,
        key.expose_secret()
    );
    crate::core::input::parse_verify(body.as_bytes()).unwrap()
}

fn entry() -> IndexEntry {
    let mut rng = FixedRandom(vec![1, 2, 3], 0);
    IndexEntry {
        key_id: KeyId::parse(&new_id(IdKind::Key, &mut rng)).unwrap(),
        team_id: TeamId::parse(&new_id(IdKind::Team, &mut rng)).unwrap(),
    }
}

/// The parts of a framed answer (`Answer::encode`), tag removed.
fn unframe(step: &str) -> (u16, Vec<(String, String)>, String) {
    let framed = step.strip_prefix(ANSWER).expect("an answer's tag");
    let (head, body) = framed.split_once("\n\n").unwrap();
    let mut lines = head.split('\n');
    let status = lines.next().unwrap().parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(": ").unwrap();
            (n.to_owned(), v.to_owned())
        })
        .collect();
    (status, headers, body.to_owned())
}

fn has(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n == name)
}

#[test]
fn a_cached_key_goes_to_its_object_with_the_check_of_the_body() {
    let key = key();
    let e = entry();
    let step = begin(&input(&key), key.hash(), |h| {
        assert_eq!(*h, key.hash());
        Some(e.clone())
    });
    let Step::Object {
        key_id,
        hash: h,
        call,
    } = &step
    else {
        panic!("expected the object's call, got {step:?}");
    };
    assert_eq!(key_id, e.key_id.as_str());
    assert_eq!(*h, key.hash());
    let KeyCall::Check { hash, requirement } = serde_json::from_str(call).unwrap() else {
        panic!("not a check: {call}");
    };
    assert_eq!(hash, key.hash());
    assert!(requirement.count, "a verification is counted");
    assert_eq!(requirement.cost, 3);
    assert_eq!(requirement.ip, Some("10.0.0.1".parse().unwrap()));
    assert_eq!(requirement.country, None, "the object adds the country");
    assert_eq!(requirement.permissions.len(), 1);
    // One line per field, the tag first: what the entry splits.
    let encoded = step.encode();
    let lines: Vec<&str> = encoded.split('\n').collect();
    assert_eq!(
        lines,
        [
            format!("O{}", e.key_id).as_str(),
            key.hash().to_hex().as_str(),
            call.as_str()
        ]
    );
}

#[test]
fn an_uncached_key_reads_the_index_first() {
    let key = key();
    let step = begin(&input(&key), key.hash(), |_| None);
    let Step::Index { name, hash, .. } = &step else {
        panic!("expected the index read, got {step:?}");
    };
    assert_eq!(name, &index_name(&key.hash()));
    assert_eq!(*hash, key.hash());
    assert!(step
        .encode()
        .starts_with(&format!("Kh:{}\n", key.hash().to_hex())));
}

#[test]
fn a_key_the_index_does_not_hold_is_invalid() {
    let e = entry();
    assert_eq!(indexed(Some(&e.encode())), Some(e));
    assert_eq!(unknown(), format!("C{}", Constant::InvalidKey as u32));
    // The constant is the full path's answer, whole.
    assert_eq!(
        Constant::InvalidKey.answer(),
        Verdict::Refused("invalid_key").answer(Timestamp::from_millis(0))
    );
    let answer = Step::Answer(Constant::InvalidKey.answer().encode()).encode();
    let (status, headers, body) = unframe(&answer);
    assert_eq!(status, 200);
    assert!(body.starts_with(r#"{"valid":false,"code":"invalid_key","#));
    assert_eq!(body, Verdict::Refused("invalid_key").to_json().unwrap());
    assert!(has(&headers, "Cache-Control") && has(&headers, "X-Content-Type-Options"));
    assert!(!has(&headers, "RateLimit"), "no key, no windows");
    for text in [None, Some(""), Some("nonsense"), Some("key_1/")] {
        assert_eq!(
            indexed(text),
            None,
            "{text:?}: no such key, answered unknown()"
        );
    }
}

#[test]
fn the_object_answers_with_the_full_paths_body_and_the_keys_windows() {
    let now = at(NOW);
    let mut state = KeyState::new(record(&["tasks:read"]), hash(1));
    let admitted = state.check(&hash(1), &need(&["tasks:read"]), now);
    let expected = Verdict::of(state.check(&hash(1), &need(&[]), now));
    let (status, headers, body) = unframe(&object_answer(admitted, now));
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["code"], "valid");
    assert_eq!(json["key_id"], "key_1");
    // The same fields, in the same order, as the full path's (`Verdict::to_json`).
    let full: serde_json::Value = serde_json::from_str(&expected.to_json().unwrap()).unwrap();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&json), keys(&full));
    for name in [
        "Content-Type",
        "Cache-Control",
        "X-Content-Type-Options",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "RateLimit-Policy",
        "RateLimit",
    ] {
        assert!(has(&headers, name), "{name} in {headers:?}");
    }
}

#[test]
fn a_refusal_is_answered_with_its_code_and_no_key_is_empty() {
    let now = at(NOW);
    let mut state = KeyState::new(record(&["tasks:read"]), hash(1));
    let denied = state.check(&hash(1), &need(&["tasks:write"]), now);
    let (status, headers, body) = unframe(&object_answer(denied, now));
    assert_eq!(status, 200);
    assert!(
        body.starts_with(r#"{"valid":false,"code":"insufficient_permissions","key_id":"key_1""#)
    );
    assert!(
        has(&headers, "RateLimit"),
        "a refused key still shows its windows"
    );
    let wrong = state.check(&hash(2), &need(&[]), now);
    assert_eq!(
        object_answer(wrong, now),
        "",
        "the worker forgets and answers invalid_key"
    );
}

#[test]
fn the_fronts_malformed_answer_is_the_verdicts() {
    let Front::Constant(c) = crate::http::front::front(
        &crate::http::front::Head::parse("POST\nhttps://x/v1/verify\napplication/json\n"),
        Ok(&crate::core::config::Config::default()),
        Some(br#"{"key":"sk_live_nope"}"#),
    ) else {
        panic!("a malformed key is a constant answer");
    };
    assert_eq!(c, Constant::MalformedKey);
    assert_eq!(
        c.answer().body,
        Verdict::Refused("malformed_key").to_json().unwrap()
    );
}
