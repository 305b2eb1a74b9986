//! End to end, through workerd: a deployment that forgot a secret (`wrangler secret put
//! ADMIN_TOKEN`, `PASSWORD_PEPPER`) answers what needs it with a clear `503 misconfigured`
//! problem naming the command that fixes it, never a crash, and serves everything else.

mod support;

use serde_json::json;
use support::{Client, Server};

#[test]
fn without_admin_token_the_operator_endpoints_answer_503_misconfigured() {
    let server = Server::start_with(None, &["--without", "ADMIN_TOKEN"]);
    let c = Client::new(&server);
    c.call("GET", "/healthz", None, None).expect(200);
    for token in ["anything", "test-admin-token"] {
        let r = c
            .call(
                "POST",
                "/v1/teams",
                Some(token),
                Some(json!({"name": "acme"})),
            )
            .expect_problem(503, "misconfigured");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("wrangler secret put ADMIN_TOKEN"),
            "{detail}"
        );
        c.get("/v1/teams/team_nothing", token)
            .expect_problem(503, "misconfigured");
    }
    // No credential at all is still the caller's to fix.
    c.call("POST", "/v1/teams", None, Some(json!({"name": "acme"})))
        .expect_problem(401, "missing_key");
    // Still answering: the isolate did not crash, and verification does not need the secret.
    c.call(
        "POST",
        "/v1/verify",
        None,
        Some(json!({"key": "sk_live_nothing"})),
    )
    .expect(200);
    server.stop();
}

#[test]
fn without_password_pepper_passwords_answer_503_misconfigured_and_keys_still_work() {
    let server = Server::start_with(None, &["--without", "PASSWORD_PEPPER"]);
    let c = Client::new(&server);
    let admin = support::ADMIN;
    // A team with an owner needs a password derived: refused, nothing made.
    let owner = json!({"name": "acme", "owner": {"email": "o@acme.test", "password": "correct horse battery"}});
    let r = c
        .call("POST", "/v1/teams", Some(admin), Some(owner))
        .expect_problem(503, "misconfigured");
    assert!(
        r.text.contains("wrangler secret put PASSWORD_PEPPER"),
        "{}",
        r.text
    );
    // A team without one works, and so do its keys.
    let team = c
        .call(
            "POST",
            "/v1/teams",
            Some(admin),
            Some(json!({"name": "acme"})),
        )
        .expect(201);
    let team_id = team.body["team"]["id"].as_str().unwrap().to_owned();
    let key = team.body["api_key"]["key"].as_str().unwrap().to_owned();
    let v = c
        .call("POST", "/v1/verify", None, Some(json!({"key": key})))
        .expect(200);
    assert_eq!(v.body["valid"], true, "{}", v.text);
    // Signing in needs the pepper: 503, the same for any email.
    for email in ["o@acme.test", "nobody@acme.test"] {
        c.call(
            "POST",
            "/v1/session",
            None,
            Some(json!({"team_id": team_id, "email": email, "password": "correct horse battery"})),
        )
        .expect_problem(503, "misconfigured");
    }
    // An invitation token that names no invitation is refused before any password is derived:
    // 400, not the 503 of a derivation.
    let token = format!("kgi_{team_id}_{}", "a".repeat(43));
    c.call(
        "POST",
        "/v1/invitations/accept",
        None,
        Some(json!({"token": token, "password": "correct horse battery"})),
    )
    .expect_problem(400, "invalid_invitation");
    server.stop();
}

#[test]
fn without_the_kv_binding_verification_answers_503_misconfigured_even_for_a_malformed_key() {
    let server = Server::start_with(None, &["--without", "KEY_INDEX"]);
    let c = Client::new(&server);
    c.call("GET", "/healthz", None, None).expect(200);
    c.call("GET", "/nope", None, None)
        .expect_problem(404, "not_found");
    // The entry's front answers malformed keys without storage, but not for an isolate that
    // could not serve a valid one: a client sees the deployment's fault, not `malformed_key`.
    for key in ["sk_live_this-is-not-a-key", "sk_live_nothing"] {
        let r = c
            .call("POST", "/v1/verify", None, Some(json!({"key": key})))
            .expect_problem(503, "misconfigured");
        assert!(r.text.contains("binding is missing"), "{}", r.text);
    }
    c.call("POST", "/v1/verify", None, Some(json!({"key": 1})))
        .expect_problem(503, "misconfigured");
    c.call(
        "POST",
        "/v1/teams",
        Some(support::ADMIN),
        Some(json!({"name": "acme"})),
    )
    .expect_problem(503, "misconfigured");
    server.stop();
}
