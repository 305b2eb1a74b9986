//! End to end, through workerd with real KV and Durable Objects: teams, the key lifecycle,
//! authentication errors, validation, no-escalation, isolation and verification.

mod support;

use serde_json::{json, Value};
use support::{in_secs, Client, Server, ADMIN};

fn client() -> Client {
    Client::new(Server::shared())
}

#[test]
fn health_and_openapi_need_no_auth() {
    let c = client();
    let h = c.call("GET", "/healthz", None, None).expect(200);
    assert_eq!(h.body, json!({"status": "ok"}));
    let doc = c.call("GET", "/openapi.json", None, None).expect(200);
    assert_eq!(doc.header("content-type"), Some("application/json"));
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc.body["paths"]["/v1/api-keys"]["post"].is_object());
}

#[test]
fn operator_endpoints_take_only_the_operator_token() {
    let c = client();
    c.call("POST", "/v1/teams", None, Some(json!({"name": "x"})))
        .expect_problem(401, "missing_key");
    c.post("/v1/teams", "wrong-token", json!({"name": "x"}))
        .expect_problem(401, "invalid_key");
    let (team_id, admin_key) = c.team("Acme");
    // A team key, even an admin one, is a real credential but not for this: 403.
    c.post("/v1/teams", &admin_key, json!({"name": "x"}))
        .expect_problem(403, "insufficient_permissions");
    c.get(&format!("/v1/teams/{team_id}"), &admin_key)
        .expect_problem(403, "insufficient_permissions");
    let t = c.get(&format!("/v1/teams/{team_id}"), ADMIN).expect(200);
    assert_eq!(t.body["name"], "Acme");
    assert_eq!(t.body["id"], team_id.as_str());
    c.get("/v1/teams/team_00000000000000000000", ADMIN)
        .expect_problem(404, "not_found");
    c.get("/v1/teams/nope", ADMIN)
        .expect_problem(404, "not_found");
    // The operator token is not an API key anywhere else.
    c.get("/v1/api-keys", ADMIN)
        .expect_problem(401, "malformed_key");
    c.post("/v1/teams", ADMIN, json!({"name": ""}))
        .expect_problem(400, "invalid_field");
}

#[test]
fn a_new_team_gets_a_live_admin_key_shown_once() {
    let c = client();
    let r = c
        .post("/v1/teams", ADMIN, json!({"name": "Shown Once"}))
        .expect(201);
    let key = r.body["api_key"]["key"].as_str().unwrap();
    assert!(key.starts_with("sk_live_") && key.len() == 8 + 38, "{key}");
    assert_eq!(r.body["api_key"]["permissions"], json!(["admin:*"]));
    assert_eq!(r.body["api_key"]["environment"], "live");
    assert_eq!(r.body["api_key"]["prefix"], &key[..12]);
    let listed = c.get("/v1/api-keys", key).expect(200);
    assert!(
        !listed.text.contains(&key[12..]),
        "the listing must not contain the key"
    );
    let current = c.get("/v1/api-keys/current", key).expect(200);
    assert!(!current.text.contains(&key[12..]));
    assert!(current.body.get("key").is_none());
}

/// The customer flow from the product docs, step by step.
#[test]
fn the_customer_flow() {
    let c = client();
    let (_, admin) = c.team("Flow");
    // Create a key with a name and an expiry date; see the full key exactly once.
    let expires = in_secs(86_400 * 30);
    let created = c
        .post(
            "/v1/api-keys",
            &admin,
            json!({"name": "Production App", "description": "Main backend",
                   "permissions": ["tasks:read", "tasks:write"], "expires_at": expires}),
        )
        .expect(201);
    let id = created.body["id"].as_str().unwrap().to_string();
    let key = created.body["key"].as_str().unwrap().to_string();
    assert!(id.starts_with("key_"));
    for f in [
        "id",
        "name",
        "description",
        "prefix",
        "environment",
        "permissions",
        "roles",
        "status",
        "rate_limit",
        "project_id",
        "service_account_id",
        "metadata",
        "created_at",
        "updated_at",
        "expires_at",
        "disabled_at",
        "last_used",
    ] {
        assert!(created.body.get(f).is_some(), "CreatedKey lacks {f}");
    }
    assert_eq!(created.body["expires_at"], expires.as_str());
    assert_eq!(created.body["status"], "active");
    assert_eq!(
        created.body["environment"], "live",
        "defaults to the caller's environment"
    );
    assert_eq!(
        created.body["rate_limit"],
        json!({"plan": "free", "per_minute": 100, "per_hour": 1000, "per_month": 10000})
    );

    // Find it later in the list by its prefix; the list never shows the key.
    let list = c.get("/v1/api-keys", &admin).expect(200);
    let found: Vec<&Value> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["prefix"] == key[..12])
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], id.as_str());
    assert!(found[0].get("key").is_none());
    assert!(!list.text.contains(&key));

    // Use it as a bearer token. It has no api_keys:read, so reading keys is a 403 that names it;
    // its own record is always readable.
    c.get("/v1/api-keys", &key)
        .expect_problem(403, "insufficient_permissions");
    let e = c.get("/v1/api-keys", &key);
    assert!(e.body["detail"].as_str().unwrap().contains("api_keys:read"));
    let me = c.get("/v1/api-keys/current", &key).expect(200);
    assert_eq!(me.body["id"], id.as_str());
    assert!(me.body["usage"]["requests_today"].as_u64().unwrap() >= 1);

    // Update its name, permissions and expiry.
    let later = in_secs(86_400 * 60);
    let updated = c
        .patch(
            &format!("/v1/api-keys/{id}"),
            &admin,
            json!({"name": "Production App (updated)", "permissions": ["tasks:read"], "expires_at": later}),
        )
        .expect(200);
    assert_eq!(updated.body["name"], "Production App (updated)");
    assert_eq!(updated.body["permissions"], json!(["tasks:read"]));
    assert_eq!(updated.body["expires_at"], later.as_str());
    assert!(updated.body.get("key").is_none());
    // The permission change applies to the very next request.
    let v = c.verify(json!({"key": key, "permissions": ["tasks:write"]}));
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(false), json!("insufficient_permissions"))
    );
    let v = c.verify(json!({"key": key, "permissions": ["tasks:read"]}));
    assert_eq!(v["valid"], true);

    // Disable it: it stays listed as disabled and can never be enabled again.
    let d = c
        .post(&format!("/v1/api-keys/{id}/disable"), &admin, json!({}))
        .expect(200);
    assert_eq!(d.body["status"], "disabled");
    assert!(d.body["disabled_at"].is_string());
    c.get("/v1/api-keys/current", &key)
        .expect_problem(401, "disabled_key");
    let again = c
        .call(
            "POST",
            &format!("/v1/api-keys/{id}/disable"),
            Some(&admin),
            None,
        )
        .expect(200);
    assert_eq!(
        again.body["disabled_at"], d.body["disabled_at"],
        "disabling twice is a no-op"
    );
    let list = c.get("/v1/api-keys", &admin).expect(200);
    let listed = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["status"], "disabled");
    c.patch(
        &format!("/v1/api-keys/{id}"),
        &admin,
        json!({"status": "active"}),
    )
    .expect_problem(400, "unknown_field");
    assert_eq!(c.verify(json!({"key": key}))["code"], "disabled_key");

    // Delete it: the next request is 401 invalid_key, and its id is 404.
    c.delete(&format!("/v1/api-keys/{id}"), &admin).expect(204);
    c.get("/v1/api-keys/current", &key)
        .expect_problem(401, "invalid_key");
    c.get(&format!("/v1/api-keys/{id}"), &admin)
        .expect_problem(404, "not_found");
    c.delete(&format!("/v1/api-keys/{id}"), &admin)
        .expect_problem(404, "not_found");
    let v = c.verify(json!({"key": key}));
    assert_eq!(
        v,
        json!({"valid": false, "code": "invalid_key", "key_id": null, "team_id": null,
        "name": null, "environment": null, "permissions": null, "project_id": null,
        "expires_at": null, "rate_limit": null})
    );
    let list = c.get("/v1/api-keys", &admin).expect(200);
    assert!(list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["id"] != id.as_str()));
}

#[test]
fn deleting_a_key_revokes_it_on_the_very_next_request() {
    let c = client();
    let (_, admin) = c.team("Revoke");
    let (id, key, _) = c.key(
        &admin,
        json!({"name": "to revoke", "permissions": ["api_keys:read"]}),
    );
    c.get("/v1/api-keys", &key).expect(200);
    c.delete(&format!("/v1/api-keys/{id}"), &admin).expect(204);
    c.get("/v1/api-keys", &key)
        .expect_problem(401, "invalid_key");
}

#[test]
fn a_key_expires_on_time() {
    let c = client();
    let (_, admin) = c.team("Expiry");
    let (id, key, body) = c.key(
        &admin,
        json!({"name": "short-lived", "expires_at": in_secs(2)}),
    );
    assert_eq!(body["status"], "active");
    c.get("/v1/api-keys/current", &key).expect(200);
    std::thread::sleep(std::time::Duration::from_millis(3_100));
    c.get("/v1/api-keys/current", &key)
        .expect_problem(401, "expired_key");
    assert_eq!(c.verify(json!({"key": key}))["code"], "expired_key");
    let got = c.get(&format!("/v1/api-keys/{id}"), &admin).expect(200);
    assert_eq!(got.body["status"], "expired");
    // Extending the expiry brings it back.
    c.patch(
        &format!("/v1/api-keys/{id}"),
        &admin,
        json!({"expires_at": in_secs(3600)}),
    )
    .expect(200);
    c.get("/v1/api-keys/current", &key).expect(200);
    // A past time is refused.
    c.patch(
        &format!("/v1/api-keys/{id}"),
        &admin,
        json!({"expires_at": "2020-01-01T00:00:00Z"}),
    )
    .expect_problem(400, "invalid_field");
}

#[test]
fn authentication_errors_each_have_their_code() {
    let c = client();
    let (_, admin) = c.team("Auth");
    let h = |v: &str| c.raw("GET", "/v1/api-keys", &[("Authorization", v)], None);
    let missing = c
        .call("GET", "/v1/api-keys", None, None)
        .expect_problem(401, "missing_key");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    h(&format!("Bearer {admin}")).expect(200);
    h(&format!("bearer {admin}")).expect(200);
    h(&format!("Token {admin}")).expect_problem(401, "malformed_key");
    h(&admin).expect_problem(401, "malformed_key");
    h("Bearer").expect_problem(401, "malformed_key");
    h("Bearer sk_live_short").expect_problem(401, "malformed_key");
    // One character changed: the checksum catches it without any lookup.
    let mut typo: Vec<char> = admin.chars().collect();
    typo[20] = if typo[20] == 'a' { 'b' } else { 'a' };
    let typo: String = typo.into_iter().collect();
    let r = h(&format!("Bearer {typo}")).expect_problem(401, "malformed_key");
    assert!(r.body["detail"].as_str().unwrap().contains("checksum"));
    assert!(!r.text.contains(&typo), "errors never echo a key");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    h("Bearer pk_live_0123456789ABCDEFGHIJKLMNOPQRSTUV28hqg7").expect_problem(401, "malformed_key");
    // Well-formed with a valid checksum, but never issued.
    h("Bearer sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUV28hqg7").expect_problem(401, "invalid_key");
}

#[test]
fn bad_input_gets_a_precise_4xx_and_changes_nothing() {
    let c = client();
    let (_, admin) = c.team("Validation");
    let before = c.get("/v1/api-keys", &admin).expect(200).body["data"]
        .as_array()
        .unwrap()
        .len();
    let auth = format!("Bearer {admin}");
    let post = |body: &[u8], ct: &str| {
        c.raw(
            "POST",
            "/v1/api-keys",
            &[("Authorization", &auth), ("Content-Type", ct)],
            Some(body),
        )
    };
    post(b"{not json", "application/json").expect_problem(400, "invalid_json");
    post(b"[]", "application/json").expect_problem(400, "invalid_json");
    post(br#"{"name":"x"}"#, "text/plain").expect_problem(415, "unsupported_media_type");
    c.raw(
        "POST",
        "/v1/api-keys",
        &[("Authorization", &auth)],
        Some(br#"{"name":"x"}"#),
    )
    .expect_problem(415, "unsupported_media_type");
    let big = format!(
        r#"{{"name":"x","description":"{}"}}"#,
        "a".repeat(17 * 1024)
    );
    let ct = ("Content-Type", "application/json");
    let h = [("Authorization", auth.as_str()), ct];
    assert_eq!(
        c.early_status("POST", "/v1/api-keys", &h, big.as_bytes()),
        413
    );
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), "missing_field", "name"),
        (json!({"name": 42}), "invalid_field", "name"),
        (json!({"name": "x".repeat(101)}), "invalid_field", "100"),
        (
            json!({"name": "bad\u{0001}name"}),
            "invalid_field",
            "control",
        ),
        (
            json!({"name": "x", "colour": "red"}),
            "unknown_field",
            "colour",
        ),
        (
            json!({"name": "x", "permissions": ["Tasks:Read"]}),
            "invalid_field",
            "permissions[0]",
        ),
        (
            json!({"name": "x", "permissions": "tasks:read"}),
            "invalid_field",
            "permissions",
        ),
        (
            json!({"name": "x", "expires_at": "2020-01-01T00:00:00Z"}),
            "invalid_field",
            "future",
        ),
        (
            json!({"name": "x", "expires_at": "tomorrow"}),
            "invalid_field",
            "RFC 3339",
        ),
        (
            json!({"name": "x", "environment": "prod"}),
            "invalid_field",
            "environment",
        ),
        (
            json!({"name": "x", "rate_limit": {"plan": "enterprise"}}),
            "invalid_field",
            "per_minute",
        ),
        (
            json!({"name": "x", "metadata": "str"}),
            "invalid_field",
            "metadata",
        ),
        (
            json!({"name": "x", "metadata": {"k": "v".repeat(1100)}}),
            "invalid_field",
            "1024",
        ),
    ];
    for (body, code, needle) in cases {
        let r = c
            .post("/v1/api-keys", &admin, body.clone())
            .expect_problem(400, code);
        assert!(
            r.body["detail"].as_str().unwrap().contains(needle),
            "{body}: {}",
            r.text
        );
    }
    let after = c.get("/v1/api-keys", &admin).expect(200).body["data"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "no failed request left a key behind");
    // Unknown ids, malformed ids, wrong query parameters.
    c.get("/v1/api-keys/key_00000000000000000000", &admin)
        .expect_problem(404, "not_found");
    c.get("/v1/api-keys/whatever", &admin)
        .expect_problem(404, "not_found");
    c.patch(
        "/v1/api-keys/key_00000000000000000000",
        &admin,
        json!({"name": "x"}),
    )
    .expect_problem(404, "not_found");
    c.get("/v1/api-keys?limit=0", &admin)
        .expect_problem(400, "invalid_field");
    c.get("/v1/api-keys?cursor=zzz", &admin)
        .expect_problem(400, "invalid_field");
    c.get("/v1/api-keys?sort=asc", &admin)
        .expect_problem(400, "unknown_field");
    // Unknown routes and methods.
    c.get("/v1/nothing", &admin)
        .expect_problem(404, "not_found");
    let r = c
        .call("PUT", "/v1/api-keys", Some(&admin), None)
        .expect_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST"));
}

#[test]
fn no_key_can_grant_or_manage_more_than_it_holds() {
    let c = client();
    let (_, admin) = c.team("Escalation");
    let (_, limited, _) = c.key(
        &admin,
        json!({"name": "limited", "permissions": ["api_keys:write", "api_keys:read", "tasks:read"]}),
    );
    let r = c
        .post(
            "/v1/api-keys",
            &limited,
            json!({"name": "x", "permissions": ["tasks:write"]}),
        )
        .expect_problem(403, "insufficient_permissions");
    assert!(r.body["detail"].as_str().unwrap().contains("tasks:write"));
    c.post(
        "/v1/api-keys",
        &limited,
        json!({"name": "x", "permissions": ["tasks:*"]}),
    )
    .expect_problem(403, "insufficient_permissions");
    c.post(
        "/v1/api-keys",
        &limited,
        json!({"name": "x", "permissions": ["admin:*"]}),
    )
    .expect_problem(403, "insufficient_permissions");
    let (child, _, _) = c.key(
        &limited,
        json!({"name": "child", "permissions": ["tasks:read"]}),
    );
    // It may manage what it covers, but not a key holding more than it does.
    c.patch(
        &format!("/v1/api-keys/{child}"),
        &limited,
        json!({"name": "renamed"}),
    )
    .expect(200);
    c.patch(
        &format!("/v1/api-keys/{child}"),
        &limited,
        json!({"permissions": ["tasks:write"]}),
    )
    .expect_problem(403, "insufficient_permissions");
    let (strong, _, _) = c.key(
        &admin,
        json!({"name": "strong", "permissions": ["events:write"]}),
    );
    for (m, path) in [
        ("PATCH", format!("/v1/api-keys/{strong}")),
        ("POST", format!("/v1/api-keys/{strong}/disable")),
        ("DELETE", format!("/v1/api-keys/{strong}")),
    ] {
        let body = (m != "DELETE").then(|| json!({"name": "mine now"}));
        let r = c
            .call(m, &path, Some(&limited), body)
            .expect_problem(403, "insufficient_permissions");
        assert!(
            r.body["detail"].as_str().unwrap().contains("events:write"),
            "{m} {path}"
        );
    }
    // The 403s did not change the strong key.
    let s = c.get(&format!("/v1/api-keys/{strong}"), &admin).expect(200);
    assert_eq!(
        (s.body["name"].clone(), s.body["status"].clone()),
        (json!("strong"), json!("active"))
    );
    // A key without api_keys:write cannot create at all.
    let (_, reader, _) = c.key(
        &admin,
        json!({"name": "reader", "permissions": ["api_keys:read"]}),
    );
    c.post("/v1/api-keys", &reader, json!({"name": "x"}))
        .expect_problem(403, "insufficient_permissions");
}

#[test]
fn test_keys_create_and_manage_only_test_keys() {
    let c = client();
    let (_, admin) = c.team("Environments");
    let (live_id, _, _) = c.key(&admin, json!({"name": "live one"}));
    let (_, test_key, body) = c.key(
        &admin,
        json!({"name": "test admin", "environment": "test", "permissions": ["admin:*"]}),
    );
    assert!(test_key.starts_with("sk_test_"));
    assert_eq!(body["environment"], "test");
    let (_, child, child_body) = c.key(&test_key, json!({"name": "test child"}));
    assert!(
        child.starts_with("sk_test_"),
        "a test key's keys default to test"
    );
    assert_eq!(child_body["environment"], "test");
    c.post(
        "/v1/api-keys",
        &test_key,
        json!({"name": "x", "environment": "live"}),
    )
    .expect_problem(403, "insufficient_permissions");
    c.post(
        &format!("/v1/api-keys/{live_id}/disable"),
        &test_key,
        json!({}),
    )
    .expect_problem(403, "insufficient_permissions");
    c.delete(&format!("/v1/api-keys/{live_id}"), &test_key)
        .expect_problem(403, "insufficient_permissions");
    let list = c.get("/v1/api-keys?environment=test", &admin).expect(200);
    assert!(list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["environment"] == "test"));
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2);
}

#[test]
fn another_teams_keys_are_invisible() {
    let c = client();
    let (_, a) = c.team("Team A");
    let (_, b) = c.team("Team B");
    let (a_key_id, _, _) = c.key(&a, json!({"name": "a's key"}));
    for (m, path) in [
        ("GET", format!("/v1/api-keys/{a_key_id}")),
        ("PATCH", format!("/v1/api-keys/{a_key_id}")),
        ("POST", format!("/v1/api-keys/{a_key_id}/disable")),
        ("DELETE", format!("/v1/api-keys/{a_key_id}")),
    ] {
        let body = (m == "PATCH" || m == "POST").then(|| json!({"name": "stolen"}));
        c.call(m, &path, Some(&b), body)
            .expect_problem(404, "not_found");
    }
    let list = c.get("/v1/api-keys", &b).expect(200);
    assert!(list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["id"] != a_key_id.as_str()));
    c.get(&format!("/v1/api-keys/{a_key_id}"), &a).expect(200);
}

#[test]
fn listing_is_newest_first_with_cursors() {
    let c = client();
    let (_, admin) = c.team("Paging");
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(c.key(&admin, json!({"name": format!("k{i}")})).0);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/api-keys?limit=2".to_string();
    loop {
        let page = c.get(&path, &admin).expect(200);
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|k| k["id"].as_str().unwrap().to_string()));
        if !page.body["has_more"].as_bool().unwrap() {
            assert!(page.body["next_cursor"].is_null());
            break;
        }
        path = format!(
            "/v1/api-keys?limit=2&cursor={}",
            page.body["next_cursor"].as_str().unwrap()
        );
    }
    // Query values are percent-decoded: `%32` is `2`.
    let encoded = c
        .get("/v1/api-keys?limit=%32&environment=li%76e", &admin)
        .expect(200);
    assert_eq!(encoded.body["data"].as_array().unwrap().len(), 2);
    // Five new keys and the admin key, newest first.
    assert_eq!(seen.len(), 6);
    ids.reverse();
    assert_eq!(&seen[..5], &ids[..]);
}

#[test]
fn verify_answers_200_with_a_code_for_every_case() {
    let c = client();
    let (team, admin) = c.team("Verify");
    let (id, key, _) = c.key(
        &admin,
        json!({"name": "backend", "permissions": ["events:write", "tasks:*"]}),
    );
    let v = c.verify(json!({"key": key, "permissions": ["events:write", "tasks:read"]}));
    assert_eq!(v["valid"], true);
    assert_eq!(v["code"], "valid");
    assert_eq!(v["key_id"], id.as_str());
    assert_eq!(v["team_id"], team.as_str());
    assert_eq!(v["name"], "backend");
    assert_eq!(v["environment"], "live");
    assert_eq!(v["permissions"], json!(["events:write", "tasks:*"]));
    assert_eq!(v["rate_limit"]["limit"], 100);
    assert!(v["rate_limit"]["remaining"].as_u64().unwrap() < 100);
    assert!(v["rate_limit"]["reset"].as_i64().unwrap() > 1_700_000_000);
    let v = c.verify(json!({"key": key, "permissions": ["events:read"]}));
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(false), json!("insufficient_permissions"))
    );
    assert_eq!(
        v["key_id"],
        id.as_str(),
        "the key exists, so its fields are filled"
    );
    let v = c.verify(json!({"key": "sk_live_nope"}));
    assert_eq!(
        (v["code"].clone(), v["key_id"].clone()),
        (json!("malformed_key"), Value::Null)
    );
    let v = c.verify(json!({"key": "sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUV28hqg7"}));
    assert_eq!(v["code"], "invalid_key");
    // A malformed request (not a malformed key) is a 400.
    c.call("POST", "/v1/verify", None, Some(json!({"permissions": []})))
        .expect_problem(400, "missing_field");
    c.call(
        "POST",
        "/v1/verify",
        None,
        Some(json!({"key": key, "extra": 1})),
    )
    .expect_problem(400, "unknown_field");
}

#[test]
fn updates_validate_and_keep_what_was_not_given() {
    let c = client();
    let (_, admin) = c.team("Patch");
    let (id, _, _) = c.key(
        &admin,
        json!({"name": "n", "description": "d", "metadata": {"customer": "c_1"},
               "rate_limit": {"plan": "professional"}}),
    );
    let r = c
        .patch(
            &format!("/v1/api-keys/{id}"),
            &admin,
            json!({"description": null}),
        )
        .expect(200);
    assert_eq!(r.body["description"], Value::Null);
    assert_eq!(r.body["name"], "n");
    assert_eq!(r.body["metadata"], json!({"customer": "c_1"}));
    assert_eq!(
        r.body["rate_limit"],
        json!({"plan": "professional", "per_minute": 500, "per_hour": 10000, "per_month": 1000000})
    );
    let r = c
        .patch(
            &format!("/v1/api-keys/{id}"),
            &admin,
            json!({"rate_limit": {"per_minute": 42}}),
        )
        .expect(200);
    assert_eq!(
        r.body["rate_limit"],
        json!({"plan": "professional", "per_minute": 42, "per_hour": 10000, "per_month": 1000000})
    );
    c.patch(&format!("/v1/api-keys/{id}"), &admin, json!({"name": null}))
        .expect_problem(400, "invalid_field");
    c.patch(
        &format!("/v1/api-keys/{id}"),
        &admin,
        json!({"environment": "test"}),
    )
    .expect_problem(400, "unknown_field");
    assert!(r.body["updated_at"].as_str().unwrap() >= r.body["created_at"].as_str().unwrap());
}

/// Concurrent updates of one key: every one is applied in turn (compare-and-set), and the
/// listing ends up showing what the key's object holds, whatever order the copies arrive in.
#[test]
fn concurrent_updates_leave_the_listing_consistent() {
    let c = client();
    let (_, admin) = c.team("Concurrent updates");
    let (id, _, _) = c.key(&admin, json!({"name": "n0"}));
    let threads: Vec<_> = (1..=8)
        .map(|i| {
            let (admin, id) = (admin.clone(), id.clone());
            std::thread::spawn(move || {
                client()
                    .patch(
                        &format!("/v1/api-keys/{id}"),
                        &admin,
                        json!({"name": format!("n{i}")}),
                    )
                    .status
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    let held = c
        .get(&format!("/v1/api-keys/{id}"), &admin)
        .expect(200)
        .body;
    let list = c.get("/v1/api-keys", &admin).expect(200).body;
    let listed = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["name"], held["name"]);
    assert_eq!(listed["updated_at"], held["updated_at"]);
}
