//! End to end, through workerd, with the deployment's production rule for webhook URLs
//! (`ALLOW_INSECURE_WEBHOOKS` off, unlike the other tests' server): a host is read as `fetch`
//! reads it, so every numeric IPv4 form of a local address, and every IPv6 address carrying one,
//! is refused on create and on update; public hosts still pass (issue 17, rule 9).

mod support;

use serde_json::json;
use std::sync::OnceLock;
use support::{Client, Server};

fn client() -> Client {
    static SECURE: OnceLock<Server> = OnceLock::new();
    Client::new(SECURE.get_or_init(|| Server::start_with(None, &["--secure-webhooks"])))
}

/// An event none of these tests makes: nothing is ever sent to the hosts named here.
const QUIET: &str = "member.removed";

/// Hosts the outside review got through, and their neighbours: each names a loopback, private,
/// link-local or site-local address.
const LOCAL: [&str; 18] = [
    "https://0x7f.0.0.1/h",
    "https://0x7f.1/h",
    "https://0177.0.0.1/h",
    "https://2130706433/h",
    "https://127.1/h",
    "https://0xa.0.0.1/h",
    "https://012.1/h",
    "https://10.1/h",
    "https://0xa9fea9fe/latest/meta-data",
    "https://[::127.0.0.1]/h",
    "https://[::ffff:7f00:1]/h",
    "https://[::ffff:0:7f00:1]/h",
    "https://[64:ff9b::a00:1]/h",
    "https://[2002:7f00:1::]/h",
    "https://[2001:0:5db8:d822::f5ff:fffe]/h",
    "https://[fec0::1]/h",
    "https://[fd00::1]:8443/h",
    "http://hooks.example.com/h",
];

#[track_caller]
fn refused(r: support::Resp, url: &str) {
    let r = r.expect_problem(400, "invalid_field");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains("`url`"), "{url}: {detail}");
    if url.starts_with("https://") {
        assert!(detail.contains("public host"), "{url}: {detail}");
    }
}

#[test]
fn numeric_and_embedded_local_addresses_are_refused_on_create_and_update() {
    let c = client();
    let (_, admin) = c.team("Strict hooks");
    for url in LOCAL {
        let r = c.post(
            "/v1/webhooks",
            &admin,
            json!({"url": url, "events": [QUIET]}),
        );
        refused(r, url);
    }
    // A host ending in a number that is no address is no host.
    for url in ["https://1.2.3.4.5/h", "https://hooks.example.123/h"] {
        let r = c.post(
            "/v1/webhooks",
            &admin,
            json!({"url": url, "events": [QUIET]}),
        );
        let r = r.expect_problem(400, "invalid_field");
        assert!(r.text.contains("`url`"), "{url}: {}", r.text);
    }
    // An endpoint cannot be moved to one either.
    let hook = c
        .post(
            "/v1/webhooks",
            &admin,
            json!({"url": "https://hooks.example.com/h", "events": [QUIET]}),
        )
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for url in LOCAL {
        let r = c.patch(&format!("/v1/webhooks/{hook}"), &admin, json!({"url": url}));
        refused(r, url);
    }
    let kept = c.get(&format!("/v1/webhooks/{hook}"), &admin).expect(200);
    assert_eq!(kept.body["url"], "https://hooks.example.com/h");
    assert_eq!(
        c.get("/v1/webhooks", &admin).expect(200).body["data"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing refused was stored"
    );
}

#[test]
fn public_hosts_in_any_form_are_accepted() {
    let c = client();
    let (_, admin) = c.team("Public hooks");
    for url in [
        "https://hooks.example.com/keygate",
        "https://0x7f.example.com/h",
        "https://93.184.216.34:8443/h",
        "https://0x5db8d822/h",
        "https://[2606:4700:4700::1111]/h",
        "https://[::ffff:93.184.216.34]/h",
        "https://[2002:5db8:d822::1]/h",
    ] {
        let r = c
            .post(
                "/v1/webhooks",
                &admin,
                json!({"url": url, "events": [QUIET]}),
            )
            .expect(201);
        assert_eq!(r.body["url"], url, "stored as given");
    }
}
