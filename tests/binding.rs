//! End to end, through workerd with real KV and Durable Objects: keygate's `Verifier` entrypoint
//! called over a service binding by a second Worker in the same runtime (tests/support/product.mjs,
//! bound as a product binds it). Each answer is the object `POST /v1/verify` or
//! `GET /v1/rate-limit` answers, field for field; the binding's verifications are counted as the
//! HTTP ones are; a disable is seen by the very next call; bad input throws the problem.

mod support;

use serde_json::{json, Value};
use std::sync::OnceLock;
use support::{in_secs, Client, Server};

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| Server::start_with(None, &["--product"]))
}

fn client() -> Client {
    Client::new(server())
}

/// What the product's Worker got from `env.KEYGATE.<path>(body)`: `{"ok": answer}` or
/// `{"error": {name, message, code, status}}`.
fn product(c: &Client, path: &str, body: &str) -> Value {
    c.raw(
        "POST",
        path,
        &[
            ("Host", "product.test"),
            ("Content-Type", "application/json"),
        ],
        Some(body.as_bytes()),
    )
    .expect(200)
    .body
}

/// The binding's verification, which must be what it returned.
#[track_caller]
fn rpc_verify(c: &Client, body: Value) -> Value {
    let got = product(c, "/verify", &body.to_string());
    assert!(got["error"].is_null(), "verify threw: {got}");
    got["ok"].clone()
}

/// Every field but the windows' remaining count (each verification spends one).
fn without_remaining(mut v: Value) -> Value {
    if let Some(r) = v.get_mut("rate_limit").and_then(Value::as_object_mut) {
        r.remove("remaining");
    }
    v
}

#[test]
fn a_binding_verification_is_the_http_one_field_for_field_and_counts_alike() {
    let c = client();
    let (team, admin) = c.team("Binding");
    let (id, key, _) = c.key(
        &admin,
        json!({"name": "backend", "permissions": ["tasks:read"],
               "rate_limit": {"plan": "enterprise", "per_minute": 5, "per_hour": 100}}),
    );
    let by_rpc = rpc_verify(&c, json!({"key": key, "permissions": ["tasks:read"]}));
    assert_eq!(by_rpc["valid"], true, "{by_rpc}");
    assert_eq!(by_rpc["code"], "valid");
    assert_eq!(by_rpc["key_id"], id.as_str());
    assert_eq!(by_rpc["team_id"], team.as_str());
    assert_eq!(by_rpc["rate_limit"]["remaining"], 4);
    let by_http = c.verify(json!({"key": key, "permissions": ["tasks:read"]}));
    assert_eq!(
        by_http["rate_limit"]["remaining"], 3,
        "HTTP counts after RPC"
    );
    assert_eq!(
        without_remaining(by_rpc),
        without_remaining(by_http.clone())
    );
    // Every field the endpoint sends, null ones included, in the same order.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let rpc_again = rpc_verify(&c, json!({"key": key}));
    assert_eq!(keys(&rpc_again), keys(&by_http));
    assert_eq!(rpc_again["rate_limit"]["remaining"], 2);
    // rateLimit: the windows as GET /v1/rate-limit answers them, not counted.
    let windows = product(&c, "/rate-limit", &json!({"key": key}).to_string());
    let http = c.get("/v1/rate-limit", &key).expect(200).body;
    assert_eq!(windows["ok"], http, "{windows}");
    assert_eq!(http["remaining"], 2);
    // Spend the rest by RPC and by HTTP: the next is refused by both, with the key's fields.
    rpc_verify(&c, json!({"key": key}));
    c.verify(json!({"key": key}));
    let limited = rpc_verify(&c, json!({"key": key}));
    assert_eq!(
        (limited["valid"].clone(), limited["code"].clone()),
        (json!(false), json!("rate_limited"))
    );
    assert_eq!(limited["key_id"], id.as_str());
    assert_eq!(limited["rate_limit"]["remaining"], 0);
    assert_eq!(c.verify(json!({"key": key}))["code"], "rate_limited");
}

#[test]
fn each_refusal_code_through_the_binding() {
    let c = client();
    let (_, admin) = c.team("Refusals");
    let project = c
        .post("/v1/projects", &admin, json!({"name": "web"}))
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, key, _) = c.key(
        &admin,
        json!({"name": "reader", "permissions": ["tasks:read"]}),
    );
    let (_, scoped, _) = c.key(
        &admin,
        json!({"name": "web", "permissions": ["tasks:read"], "project_id": project}),
    );
    let code = |body: Value| {
        let v = rpc_verify(&c, body.clone());
        let http = c.verify(body);
        assert_eq!(v["code"], http["code"], "RPC and HTTP agree");
        assert_eq!(v["valid"], http["valid"]);
        v["code"].as_str().unwrap().to_string()
    };
    assert_eq!(code(json!({"key": "not-a-key"})), "malformed_key");
    // Well-formed (the prefix and checksum of a real one), but unknown: flip a secret character.
    let mut unknown = admin.clone().into_bytes();
    let at = unknown.len() - 10;
    unknown[at] = if unknown[at] == b'a' { b'b' } else { b'a' };
    let unknown = String::from_utf8(unknown).unwrap();
    let c2 = code(json!({"key": unknown}));
    assert!(c2 == "invalid_key" || c2 == "malformed_key", "{c2}");
    assert_eq!(
        code(json!({"key": key, "permissions": ["tasks:write"]})),
        "insufficient_permissions"
    );
    assert_eq!(code(json!({"key": scoped, "project_id": project})), "valid");
    let other = c
        .post("/v1/projects", &admin, json!({"name": "mobile"}))
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mismatch = code(json!({"key": scoped, "project_id": other}));
    assert_ne!(mismatch, "valid");
    let (_, short, _) = c.key(&admin, json!({"name": "short", "expires_at": in_secs(2)}));
    assert_eq!(code(json!({"key": short})), "valid");
    std::thread::sleep(std::time::Duration::from_millis(3_100));
    assert_eq!(code(json!({"key": short})), "expired_key");
}

#[test]
fn a_disable_is_seen_by_the_very_next_binding_call() {
    let c = client();
    let (_, admin) = c.team("Disable");
    let (id, key, _) = c.key(&admin, json!({"name": "soon off"}));
    assert_eq!(rpc_verify(&c, json!({"key": key}))["valid"], true);
    c.post(&format!("/v1/api-keys/{id}/disable"), &admin, json!({}))
        .expect(200);
    let v = rpc_verify(&c, json!({"key": key}));
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(false), json!("disabled_key"))
    );
    // rateLimit of a disabled key: the endpoint's 401, thrown.
    let e = product(&c, "/rate-limit", &json!({"key": key}).to_string())["error"].clone();
    let http = c.get("/v1/rate-limit", &key);
    assert_eq!(e["code"], http.body["code"], "{e}");
    assert_eq!(e["status"], http.status);
    assert_eq!(e["message"], http.body["detail"]);
}

#[test]
fn the_binding_takes_the_clients_ip_for_the_allow_list() {
    let c = client();
    let (_, admin) = c.team("Allow-list");
    let (_, key, _) = c.key(
        &admin,
        json!({"name": "office", "allowed_ips": ["203.0.113.0/24"]}),
    );
    let code = |body: Value| {
        let v = rpc_verify(&c, body);
        v["code"].as_str().unwrap().to_owned()
    };
    assert_eq!(code(json!({"key": key, "ip": "203.0.113.7"})), "valid");
    assert_eq!(
        code(json!({"key": key, "ip": "198.51.100.7"})),
        "ip_not_allowed"
    );
    // No address: a key with a list does not know where it comes from, so it refuses.
    assert_eq!(code(json!({"key": key})), "ip_not_allowed");
}

#[test]
fn bad_input_throws_the_problem_the_endpoint_answers() {
    let c = client();
    for body in [
        json!({}),
        json!({"key": 5}),
        json!({"key": "k", "permissions": "tasks:read"}),
        json!({"key": "k", "colour": "red"}),
        // An `ip` that is not an address, a `cost` out of 0..1000: refused alike.
        json!({"key": "k", "ip": "203.0.113.0/24"}),
        json!({"key": "k", "cost": 1001}),
        json!("sk_just_a_string"),
    ] {
        let e = product(&c, "/verify", &body.to_string())["error"].clone();
        let http = c.call("POST", "/v1/verify", None, Some(body.clone()));
        assert_eq!(http.status, 400, "{body}: {}", http.text);
        assert_eq!(e["name"], "Error", "{body}: {e}");
        assert_eq!(e["code"], http.body["code"], "{body}: {e}");
        assert_eq!(e["status"], 400);
        assert_eq!(e["message"], http.body["detail"], "{body}");
    }
    // rateLimit takes `{key}` only.
    let e = product(&c, "/rate-limit", r#"{"key":"k","permissions":[]}"#)["error"].clone();
    assert_eq!(
        (e["code"].clone(), e["status"].clone()),
        (json!("unknown_field"), json!(400))
    );
    let e = product(&c, "/rate-limit", r#"{"key":"not-a-key"}"#)["error"].clone();
    assert_eq!(
        (e["code"].clone(), e["status"].clone()),
        (json!("malformed_key"), json!(401))
    );
}
