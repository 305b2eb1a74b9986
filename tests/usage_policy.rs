//! End to end, through workerd with real KV and Durable Objects: the usage policy of issue 21
//! (contract "Usage policy per key" and "`X-API-Key`").

mod support;

use serde_json::json;
use support::{Client, Server, ADMIN};

fn client() -> Client {
    Client::new(Server::shared())
}

#[test]
fn x_api_key_is_taken_wherever_bearer_is() {
    let c = client();
    let (team, admin) = c.team("X-API-Key");
    let (_, other, _) = c.key(
        &admin,
        json!({"name": "other", "permissions": ["api_keys:read"]}),
    );
    let r = c
        .raw(
            "GET",
            "/v1/api-keys/current",
            &[("X-API-Key", &admin)],
            None,
        )
        .expect(200);
    assert_eq!(r.body["permissions"], json!(["admin:*"]));
    assert!(
        r.header("x-ratelimit-limit").is_some(),
        "counted like a bearer request"
    );
    // The same key in both headers is one credential.
    let bearer = format!("Bearer {admin}");
    c.raw(
        "GET",
        "/v1/api-keys/current",
        &[("Authorization", &bearer), ("X-API-Key", &admin)],
        None,
    )
    .expect(200);
    // Two different keys: which one acts would be a guess.
    c.raw(
        "GET",
        "/v1/api-keys/current",
        &[("Authorization", &bearer), ("X-API-Key", &other)],
        None,
    )
    .expect_problem(400, "ambiguous_credentials");
    // Refusals read the same as with bearer: an unknown key, a malformed one, none at all.
    c.raw("GET", "/v1/api-keys", &[("X-API-Key", "nope nope")], None)
        .expect_problem(401, "malformed_key");
    c.raw("GET", "/v1/projects", &[("X-API-Key", &other)], None)
        .expect_problem(403, "insufficient_permissions");
    // The operator's endpoints take it too.
    c.raw(
        "GET",
        &format!("/v1/teams/{team}"),
        &[("X-API-Key", ADMIN)],
        None,
    )
    .expect(200);
}
