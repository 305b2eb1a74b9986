use super::*;
use crate::core::random::FixedRandom;

#[test]
fn the_standard_webhooks_test_vector() {
    // From the Standard Webhooks specification's README (and recomputed with Python's hmac):
    // secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, id msg_p5jXN8AQM9LWM0D4loKWxJek,
    // timestamp 1614265330, body {"test": 2432232314}.
    let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert_eq!(
        signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[test]
fn a_rotation_signs_with_both_secrets() {
    let a = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let b = vec![7u8; 32];
    let h = signature_header(&[a.clone(), b.clone()], "evt_1", 1, "{}");
    let parts: Vec<&str> = h.split(' ').collect();
    assert_eq!(
        parts,
        vec![
            signature(&a, "evt_1", 1, "{}"),
            signature(&b, "evt_1", 1, "{}")
        ]
    );
}

#[test]
fn secrets_are_whsec_and_32_random_bytes() {
    let s = new_secret(&mut FixedRandom(vec![1, 2, 3], 0));
    assert!(s.starts_with("whsec_"));
    assert_eq!(secret_key(&s).unwrap().len(), 32);
    assert_eq!(secret_key("nope"), None);
}

#[test]
fn only_https_urls_of_public_hosts() {
    for ok in [
        "https://hooks.example.com/keygate",
        "https://hooks.example.com:8443/a?b=c",
        "HTTPS://Example.COM",
        "https://93.184.216.34/x",
        "https://[2606:4700::1111]/x",
    ] {
        assert!(parse_endpoint_url(ok, false).is_ok(), "{ok}");
    }
    let refused = [
        ("http://hooks.example.com", UrlError::NotHttps),
        ("ftp://example.com", UrlError::NotHttps),
        ("https://user:pass@example.com/", UrlError::UserInfo),
        ("https://example.com/#frag", UrlError::Fragment),
        ("https://example.com:0/", UrlError::BadPort),
        ("https://example.com:65536/", UrlError::BadPort),
        ("https://example.com:x/", UrlError::BadPort),
        ("https://localhost/", UrlError::NotPublic),
        ("https://api.localhost/", UrlError::NotPublic),
        ("https://printer.local/", UrlError::NotPublic),
        ("https://intranet/", UrlError::NotPublic),
        ("https://127.0.0.1/", UrlError::NotPublic),
        ("https://127.1/", UrlError::NotPublic),
        ("https://10.1.2.3/", UrlError::NotPublic),
        ("https://172.16.0.1/", UrlError::NotPublic),
        ("https://192.168.1.1/", UrlError::NotPublic),
        (
            "https://169.254.169.254/latest/meta-data",
            UrlError::NotPublic,
        ),
        ("https://100.64.0.1/", UrlError::NotPublic),
        ("https://0.0.0.0/", UrlError::NotPublic),
        ("https://[::1]/", UrlError::NotPublic),
        ("https://[fd00::1]/", UrlError::NotPublic),
        ("https://[fe80::1]/", UrlError::NotPublic),
        ("https://[::ffff:10.0.0.1]/", UrlError::NotPublic),
        ("https://exa mple.com/", UrlError::Malformed),
        ("https://exämple.com/", UrlError::Malformed),
        ("https:///path", UrlError::Malformed),
        ("https://[::1/", UrlError::Malformed),
    ];
    for (url, why) in refused {
        assert_eq!(parse_endpoint_url(url, false), Err(why), "{url}");
    }
    assert_eq!(
        parse_endpoint_url(&format!("https://example.com/{}", "a".repeat(2100)), false),
        Err(UrlError::TooLong)
    );
}

/// Issue 17, rule 9: every host the outside review got through, and its neighbours, each in a
/// URL; and the public hosts that must still pass. (`core::host` has the full tables.)
#[test]
fn numeric_and_embedded_forms_of_local_addresses_are_refused() {
    for url in [
        "https://0x7f.0.0.1/h",
        "https://0x7f.1/h",
        "https://0177.0.0.1/h",
        "https://0177.1/h",
        "https://2130706433/h",
        "https://0x7f000001/h",
        "https://127.0.1/h",
        "https://0xa.0.0.1/h",
        "https://012.0.0.1/h",
        "https://10.1/h",
        "https://0xA9FEA9FE/latest/meta-data",
        "https://[::127.0.0.1]/h",
        "https://[::ffff:7f00:1]/h",
        "https://[::ffff:0:7f00:1]/h",
        "https://[::ffff:0:10.0.0.1]:8443/h",
        "https://[64:ff9b::7f00:1]/h",
        "https://[2002:7f00:1::]/h",
        "https://[2002:a00:1::]/h",
        "https://[2001:0:7f00:1::]/h",
        "https://[2001:0:5db8:d822::f5ff:fffe]/h",
        "https://[fec0::1]/h",
        "https://[FEC0::1]/h",
    ] {
        assert_eq!(
            parse_endpoint_url(url, false),
            Err(UrlError::NotPublic),
            "{url}"
        );
    }
    for url in [
        "https://1.2.3.4.5/h",
        "https://256.0.0.1/h",
        "https://09.0.0.1/h",
        "https://hooks.example.123/h",
        "https://1:2::3:443/h",
    ] {
        assert_eq!(
            parse_endpoint_url(url, false),
            Err(UrlError::Malformed),
            "{url}"
        );
    }
    for url in [
        "https://hooks.example.com/h",
        "https://0x7f.example.com/h",
        "https://93.184.216.34:8443/h",
        "https://0x5db8d822/h",
        "https://[2606:4700:4700::1111]/h",
        "https://[2002:5db8:d822::1]/h",
        "https://[64:ff9b::93.184.216.34]/h",
    ] {
        assert!(parse_endpoint_url(url, false).is_ok(), "{url}");
    }
}

#[test]
fn insecure_urls_only_when_the_deployment_allows_them() {
    let local = parse_endpoint_url("http://127.0.0.1:9000/hook", true).unwrap();
    assert_eq!(
        (local.host.to_string().as_str(), local.port),
        ("127.0.0.1", Some(9000))
    );
    assert!(parse_endpoint_url("http://127.0.0.1:9000/hook", false).is_err());
    assert_eq!(
        parse_endpoint_url("https://u@127.0.0.1/", true),
        Err(UrlError::UserInfo)
    );
}

#[test]
fn events_and_subscriptions() {
    assert!(is_event_filter("*") && is_event_filter("api_key.rolled"));
    assert!(!is_event_filter("api_key.*") && !is_event_filter("key.created"));
    let subs = vec!["api_key.created".to_owned()];
    assert!(subscribed(&subs, "api_key.created"));
    assert!(!subscribed(&subs, "api_key.deleted"));
    assert!(subscribed(&subs, "webhook.test"));
    assert!(subscribed(&["*".to_owned()], "member.added"));
}

#[test]
fn the_retry_schedule_and_its_jitter() {
    assert_eq!(retry_delay(0, 0.5), None);
    assert_eq!(retry_delay(1, 0.5), Some(5_000));
    assert_eq!(retry_delay(2, 0.0), Some(270_000));
    assert_eq!(retry_delay(2, 1.0), Some(330_000));
    assert_eq!(retry_delay(9, 0.5), Some(86_400_000));
    assert_eq!(retry_delay(10, 0.5), None);
    let total: i64 = RETRY_DELAYS_MS.iter().sum();
    assert!(
        total > 3 * 86_400_000 && total < 4 * 86_400_000,
        "about 3.3 days of retries"
    );
}

#[test]
fn outcomes_and_disabling() {
    assert_eq!(outcome(Some(200)), Outcome::Delivered);
    assert_eq!(outcome(Some(204)), Outcome::Delivered);
    assert_eq!(outcome(Some(410)), Outcome::Gone);
    for s in [Some(301), Some(404), Some(500), None] {
        assert_eq!(outcome(s), Outcome::Retry, "{s:?}");
    }
    assert!(!failing_too_long(None, 10 * 86_400_000));
    assert!(!failing_too_long(Some(0), 5 * 86_400_000 - 1));
    assert!(failing_too_long(Some(0), 5 * 86_400_000));
}
