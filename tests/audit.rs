//! End to end, through workerd: the audit log of key changes. Each change made through the API
//! writes its entry in the key's own object with the change, which reaches the team's events
//! object off the request's path; `GET /v1/audit-log` reads it.

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{Client, Server};

fn client() -> Client {
    Client::new(Server::shared())
}

/// The team's entries once at least `n` are there (up to 10 s).
fn entries(c: &Client, token: &str, query: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let page = c
            .get(&format!("/v1/audit-log{query}"), token)
            .expect(200)
            .body;
        let data = page["data"].as_array().unwrap().clone();
        if data.len() >= n || start.elapsed() > Duration::from_secs(10) {
            return data;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn every_key_change_is_audited_once_with_its_actor_and_no_secret() {
    let c = client();
    let (_, admin) = c.team("Audited");
    let me = c.get("/v1/api-keys/current", &admin).expect(200).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (id, key, _) = c.key(
        &admin,
        json!({"name": "svc", "permissions": ["tasks:read"]}),
    );
    c.patch(
        &format!("/v1/api-keys/{id}"),
        &admin,
        json!({"name": "renamed"}),
    )
    .expect(200);
    // A refused change writes nothing.
    c.patch(&format!("/v1/api-keys/{id}"), &admin, json!({"name": ""}))
        .expect(400);
    let rolled = c
        .post(
            &format!("/v1/api-keys/{id}/roll"),
            &admin,
            json!({"expire_old_in": 60}),
        )
        .expect(201)
        .body;
    let new_id = rolled["id"].as_str().unwrap().to_owned();
    c.post(&format!("/v1/api-keys/{new_id}/disable"), &admin, json!({}))
        .expect(200);
    c.delete(&format!("/v1/api-keys/{id}"), &admin).expect(204);

    // The team's first key (by the operator) and six changes by the admin key.
    let all = entries(&c, &admin, "?limit=100", 7);
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains(&key) && !text.contains(rolled["key"].as_str().unwrap()));
    let mut seen: Vec<(String, String)> = all
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["target"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut want: Vec<(String, String)> = [
        ("api_key.created", id.as_str()),
        ("api_key.created", new_id.as_str()),
        ("api_key.created", me.as_str()),
        ("api_key.deleted", id.as_str()),
        ("api_key.disabled", new_id.as_str()),
        ("api_key.rolled", id.as_str()),
        ("api_key.updated", id.as_str()),
    ]
    .iter()
    .map(|(a, t)| ((*a).to_owned(), (*t).to_owned()))
    .collect();
    want.sort();
    assert_eq!(seen, want, "each once; the refused change left nothing");
    for e in &all {
        assert!(e["id"].as_str().unwrap().starts_with("aud_"));
        assert_eq!(e["target"]["type"], "api_key");
        assert!(e["at"].is_string());
        let by_operator = e["target"]["id"] == me.as_str();
        let want_actor = if by_operator {
            json!({"type": "operator", "id": null})
        } else {
            json!({"type": "key", "id": me})
        };
        assert_eq!(e["actor"], want_actor, "{e}");
        assert!(
            e["user_agent"]
                .as_str()
                .is_some_and(|ua| ua.starts_with("ureq")),
            "{e}"
        );
    }
    let updated = all
        .iter()
        .find(|e| e["action"] == "api_key.updated")
        .unwrap();
    assert_eq!(updated["changes"], json!({"name": "renamed"}));
    let roll = all
        .iter()
        .find(|e| e["action"] == "api_key.rolled")
        .unwrap();
    assert_eq!(roll["changes"]["new_key_id"], new_id.as_str());

    // Newest first; filters; pages.
    assert_eq!(all[0]["action"], "api_key.deleted");
    let deleted = entries(&c, &admin, "?action=api_key.deleted", 1);
    assert_eq!(deleted.len(), 1);
    let about_new = entries(&c, &admin, &format!("?target_id={new_id}"), 2);
    assert_eq!(about_new.len(), 2);
    let by_me = entries(&c, &admin, &format!("?actor_id={me}"), 6);
    assert_eq!(by_me.len(), 6);
    let first = c.get("/v1/audit-log?limit=2", &admin).expect(200).body;
    assert_eq!(first["has_more"], true);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = c
        .get(&format!("/v1/audit-log?limit=2&cursor={cursor}"), &admin)
        .expect(200)
        .body;
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);
    for bad in ["limit=0", "cursor=nope", "action="] {
        c.get(&format!("/v1/audit-log?{bad}"), &admin)
            .expect_problem(400, "invalid_field");
    }
    c.get("/v1/audit-log?actor=x", &admin)
        .expect_problem(400, "unknown_field");

    // Another team sees none of it; a key without audit_log:read is refused.
    let (_, other) = c.team("Other");
    let theirs = c.get("/v1/audit-log", &other).expect(200).text;
    assert!(!theirs.contains(&id));
    let (_, reader, _) = c.key(
        &admin,
        json!({"name": "r", "permissions": ["api_keys:read"]}),
    );
    c.get("/v1/audit-log", &reader)
        .expect_problem(403, "insufficient_permissions");
}

#[test]
fn team_changes_and_sign_ins_are_audited_in_their_own_transactions() {
    let c = client();
    let operator = support::ADMIN;
    let created = c
        .post(
            "/v1/teams",
            operator,
            json!({"name": "People", "owner": {"email": "owner@people.test", "password": "a long password"}}),
        )
        .expect(201)
        .body;
    let team = created["team"]["id"].as_str().unwrap().to_owned();
    let admin = created["api_key"]["key"].as_str().unwrap().to_owned();
    let project = c
        .post("/v1/projects", &admin, json!({"name": "web"}))
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.delete(&format!("/v1/projects/{project}"), &admin)
        .expect(204);
    c.post(
        "/v1/roles",
        &admin,
        json!({"name": "r", "permissions": ["tasks:read"]}),
    )
    .expect(201);
    // A refused change (a duplicate name) writes nothing.
    c.post("/v1/roles", &admin, json!({"name": "r", "permissions": []}))
        .expect(409);
    let sign_in = |password: &str| {
        c.call(
            "POST",
            "/v1/session",
            None,
            Some(json!({"team_id": team, "email": "owner@people.test", "password": password})),
        )
    };
    sign_in("the wrong password").expect(401);
    sign_in("a long password").expect(200);
    c.patch(
        &format!("/v1/teams/{team}"),
        operator,
        json!({"name": "People Inc"}),
    )
    .expect(200);

    let all = entries(&c, &admin, "?limit=100", 7);
    let actions: Vec<&str> = all.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for want in [
        "project.created",
        "project.deleted",
        "role.created",
        "session.refused",
        "session.created",
        "team.updated",
        "api_key.created",
    ] {
        assert_eq!(
            actions.iter().filter(|a| **a == want).count(),
            1,
            "{want}: {actions:?}"
        );
    }
    assert_eq!(all.len(), 7, "the refused role wrote nothing: {actions:?}");
    let find = |a: &str| all.iter().find(|e| e["action"] == a).unwrap();
    assert_eq!(
        find("project.created")["target"],
        json!({"type": "project", "id": project})
    );
    assert_eq!(find("project.created")["changes"], json!({"name": "web"}));
    assert_eq!(find("role.created")["actor"]["type"], "key");
    assert_eq!(
        find("team.updated")["actor"],
        json!({"type": "operator", "id": null})
    );
    assert_eq!(find("team.updated")["target"]["id"], team.as_str());
    let refused = find("session.refused");
    assert_eq!(
        refused["target"],
        json!({"type": "email", "id": "owner@people.test"})
    );
    let signed = find("session.created");
    assert_eq!(signed["actor"]["type"], "member");
    assert_eq!(signed["actor"]["id"], signed["target"]["id"]);
    let text = serde_json::to_string(&all).unwrap();
    assert!(
        !text.contains("a long password") && !text.contains("pbkdf2") && !text.contains("kgs_")
    );
}

#[test]
fn webhook_changes_are_audited_and_never_their_secret() {
    let c = client();
    let (_, admin) = c.team("Hooks audited");
    let created = c
        .post(
            "/v1/webhooks",
            &admin,
            json!({"url": "https://hooks.example.com/a", "events": ["api_key.created"]}),
        )
        .expect(201)
        .body;
    let hook = created["id"].as_str().unwrap().to_owned();
    c.patch(
        &format!("/v1/webhooks/{hook}"),
        &admin,
        json!({"enabled": false}),
    )
    .expect(200);
    let rotated = c
        .post(
            &format!("/v1/webhooks/{hook}/rotate-secret"),
            &admin,
            json!({}),
        )
        .expect(200)
        .body;
    c.delete(&format!("/v1/webhooks/{hook}"), &admin)
        .expect(204);
    let all = entries(&c, &admin, &format!("?target_id={hook}"), 4);
    let actions: Vec<&str> = all.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "webhook.deleted",
            "webhook.secret_rotated",
            "webhook.updated",
            "webhook.created"
        ]
    );
    assert_eq!(all[2]["changes"], json!({"enabled": false}));
    assert_eq!(all[3]["changes"]["url"], "https://hooks.example.com/a");
    let text = serde_json::to_string(&all).unwrap();
    for secret in [&created["secret"], &rotated["secret"]] {
        assert!(!text.contains(secret.as_str().unwrap()));
    }
    assert!(!text.contains("whsec_"));
}
