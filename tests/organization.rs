//! End to end, through workerd with real KV and Durable Objects: projects, roles, service
//! accounts, the management permissions on every route, isolation between teams on every
//! route, and the races that the team object must make atomic.

mod support;

use keygate::http::router::ROUTES;
use serde_json::{json, Value};
use support::{Client, Server};

fn client() -> Client {
    Client::new(Server::shared())
}

fn id(r: &support::Resp) -> String {
    r.body["id"].as_str().unwrap().to_string()
}

#[test]
fn projects_scope_keys() {
    let c = client();
    let (_, admin) = c.team("Projects");
    let p1 = id(&c
        .post("/v1/projects", &admin, json!({"name": "web"}))
        .expect(201));
    let p2 = id(&c
        .post("/v1/projects", &admin, json!({"name": "mobile"}))
        .expect(201));
    assert!(p1.starts_with("proj_"));
    c.post("/v1/projects", &admin, json!({"name": "web"}))
        .expect_problem(409, "name_taken");
    let list = c.get("/v1/projects", &admin).expect(200);
    assert_eq!(list.body["data"][0]["id"], p2.as_str(), "newest first");
    assert_eq!(
        c.get(&format!("/v1/projects/{p1}"), &admin)
            .expect(200)
            .body["name"],
        "web"
    );

    let (scoped_id, scoped, body) = c.key(&admin, json!({"name": "web key", "project_id": p1}));
    assert_eq!(body["project_id"], p1.as_str());
    let (_, global, _) = c.key(&admin, json!({"name": "all projects"}));
    let v = c.verify(json!({"key": scoped, "project_id": p2}));
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(false), json!("project_mismatch"))
    );
    assert_eq!(
        c.verify(json!({"key": scoped, "project_id": p1}))["code"],
        "valid"
    );
    assert_eq!(c.verify(json!({"key": scoped}))["project_id"], p1.as_str());
    assert_eq!(
        c.verify(json!({"key": global, "project_id": p2}))["code"],
        "valid",
        "null = every project"
    );

    let filtered = c
        .get(&format!("/v1/api-keys?project_id={p1}"), &admin)
        .expect(200);
    let ids: Vec<&str> = filtered.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [scoped_id.as_str()]);

    c.post(
        "/v1/api-keys",
        &admin,
        json!({"name": "x", "project_id": "proj_00000000000000000000"}),
    )
    .expect_problem(404, "not_found");
    c.delete(&format!("/v1/projects/{p1}"), &admin)
        .expect_problem(409, "project_in_use");
    c.delete(&format!("/v1/api-keys/{scoped_id}"), &admin)
        .expect(204);
    c.delete(&format!("/v1/projects/{p1}"), &admin).expect(204);
    c.get(&format!("/v1/projects/{p1}"), &admin)
        .expect_problem(404, "not_found");
}

#[test]
fn the_event_ingestor_service_account_flow() {
    let c = client();
    let (_, admin) = c.team("Ingest");
    let role = c
        .post(
            "/v1/roles",
            &admin,
            json!({"name": "event_ingestor", "permissions": ["events:write"]}),
        )
        .expect(201);
    let role_id = id(&role);
    assert_eq!(role.body["permissions"], json!(["events:write"]));
    let sa = c
        .post(
            "/v1/service-accounts",
            &admin,
            json!({"name": "ingest-service", "roles": ["event_ingestor"]}),
        )
        .expect(201);
    let sa_id = id(&sa);
    assert_eq!(sa.body["roles"], json!(["event_ingestor"]));
    let (key_id, key, body) = c.key(
        &admin,
        json!({"name": "ingest prod", "service_account_id": sa_id}),
    );
    assert_eq!(body["permissions"], json!(["events:write"]));
    assert_eq!(body["roles"], json!(["event_ingestor"]));
    assert_eq!(body["service_account_id"], sa_id.as_str());
    assert_eq!(
        c.verify(json!({"key": key, "permissions": ["events:write"]}))["code"],
        "valid"
    );
    let v = c.verify(json!({"key": key, "permissions": ["events:read"]}));
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(false), json!("insufficient_permissions"))
    );

    // Its permissions are fixed for life.
    c.patch(
        &format!("/v1/api-keys/{key_id}"),
        &admin,
        json!({"permissions": ["events:read"]}),
    )
    .expect_problem(409, "permissions_immutable");
    c.patch(
        &format!("/v1/api-keys/{key_id}"),
        &admin,
        json!({"name": "renamed"}),
    )
    .expect(200);
    // Editing the role changes only keys made afterwards.
    c.patch(
        &format!("/v1/roles/{role_id}"),
        &admin,
        json!({"permissions": ["events:write", "events:read"]}),
    )
    .expect(200);
    assert_eq!(
        c.verify(json!({"key": key, "permissions": ["events:read"]}))["valid"],
        false
    );
    let (_, newer, body) = c.key(
        &admin,
        json!({"name": "ingest v2", "service_account_id": sa_id}),
    );
    assert_eq!(body["permissions"], json!(["events:write", "events:read"]));
    assert_eq!(
        c.verify(json!({"key": newer, "permissions": ["events:read"]}))["valid"],
        true
    );

    // A role in use cannot be deleted; the account can, and its keys keep working.
    c.delete(&format!("/v1/roles/{role_id}"), &admin)
        .expect_problem(409, "role_in_use");
    c.delete(&format!("/v1/service-accounts/{sa_id}"), &admin)
        .expect(204);
    c.delete(&format!("/v1/roles/{role_id}"), &admin)
        .expect(204);
    assert_eq!(
        c.verify(json!({"key": key, "permissions": ["events:write"]}))["valid"],
        true
    );
    c.post(
        "/v1/api-keys",
        &admin,
        json!({"name": "x", "service_account_id": sa_id}),
    )
    .expect_problem(404, "not_found");
}

#[test]
fn roles_and_accounts_validate_and_never_escalate() {
    let c = client();
    let (_, admin) = c.team("Roles");
    c.post("/v1/roles", &admin, json!({"name": "r"}))
        .expect_problem(400, "missing_field");
    c.post(
        "/v1/roles",
        &admin,
        json!({"name": "r", "permissions": ["NOPE"]}),
    )
    .expect_problem(400, "invalid_field");
    c.post(
        "/v1/roles",
        &admin,
        json!({"name": "reader", "permissions": ["tasks:read"]}),
    )
    .expect(201);
    c.post(
        "/v1/roles",
        &admin,
        json!({"name": "reader", "permissions": []}),
    )
    .expect_problem(409, "name_taken");
    c.post(
        "/v1/roles",
        &admin,
        json!({"name": "power", "permissions": ["billing:*"]}),
    )
    .expect(201);
    c.post(
        "/v1/service-accounts",
        &admin,
        json!({"name": "sa", "roles": ["ghost"]}),
    )
    .expect_problem(404, "not_found");

    let (_, manager, _) = c.key(
        &admin,
        json!({"name": "manager", "permissions": ["roles:*", "service_accounts:*", "api_keys:write", "tasks:read"]}),
    );
    // A role, or an account through its roles, can only be given what the caller holds.
    let r = c
        .post(
            "/v1/roles",
            &manager,
            json!({"name": "x", "permissions": ["tasks:write"]}),
        )
        .expect_problem(403, "insufficient_permissions");
    assert!(r.body["detail"].as_str().unwrap().contains("tasks:write"));
    let r = c
        .post(
            "/v1/service-accounts",
            &manager,
            json!({"name": "big", "roles": ["power"]}),
        )
        .expect_problem(403, "insufficient_permissions");
    assert!(r.body["detail"].as_str().unwrap().contains("billing:*"));
    let ok = c
        .post(
            "/v1/service-accounts",
            &manager,
            json!({"name": "small", "roles": ["reader"]}),
        )
        .expect(201);
    let big = id(&c
        .post(
            "/v1/service-accounts",
            &admin,
            json!({"name": "big", "roles": ["power"]}),
        )
        .expect(201));
    // Nor a key for an account whose roles hold more than the caller.
    c.post(
        "/v1/api-keys",
        &manager,
        json!({"name": "k", "service_account_id": big}),
    )
    .expect_problem(403, "insufficient_permissions");
    c.post(
        "/v1/api-keys",
        &manager,
        json!({"name": "k", "service_account_id": id(&ok)}),
    )
    .expect(201);
    c.post(
        "/v1/api-keys",
        &admin,
        json!({"name": "k", "service_account_id": big, "permissions": []}),
    )
    .expect_problem(400, "invalid_field");
    let patched = c
        .patch(
            &format!("/v1/service-accounts/{}", id(&ok)),
            &manager,
            json!({"name": "small2", "roles": []}),
        )
        .expect(200);
    assert_eq!(
        (patched.body["name"].clone(), patched.body["roles"].clone()),
        (json!("small2"), json!([]))
    );
}

/// Every route that names an object answers 404 to another team's key, for every method.
#[test]
fn every_route_hides_other_teams_objects() {
    let c = client();
    let (_, a) = c.team("Owner");
    let (_, b) = c.team("Intruder");
    let key = c.key(&a, json!({"name": "a key"})).0;
    let project = id(&c.post("/v1/projects", &a, json!({"name": "p"})).expect(201));
    let role = id(&c
        .post("/v1/roles", &a, json!({"name": "r", "permissions": []}))
        .expect(201));
    let sa = id(&c
        .post(
            "/v1/service-accounts",
            &a,
            json!({"name": "s", "roles": []}),
        )
        .expect(201));
    // A member (through an invitation) and a pending invitation of team A.
    let accepted = c
        .post(
            "/v1/invitations",
            &a,
            json!({"email": "m@a.test", "role": "viewer"}),
        )
        .expect(201);
    let member = c
        .call(
            "POST",
            "/v1/invitations/accept",
            None,
            Some(json!({"token": accepted.body["token"], "password": "a long password"})),
        )
        .expect(201)
        .body["member"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invitation = id(&c
        .post(
            "/v1/invitations",
            &a,
            json!({"email": "i@a.test", "role": "viewer"}),
        )
        .expect(201));
    let webhook = id(&c
        .post(
            "/v1/webhooks",
            &a,
            json!({"url": "https://hooks.example.com/a", "events": ["*"]}),
        )
        .expect(201));
    let mut walked = 0;
    for &(method, pattern) in ROUTES {
        if !pattern.contains("{id}") || pattern.starts_with("/v1/teams") {
            continue; // /v1/teams/{id} is the operator's, and refuses every API key with 403
        }
        if pattern.starts_with("/v1/portal/") || pattern.starts_with("/v1/me/") {
            // A portal link is its own credential, and a member's sessions are their own:
            // tests/portal.rs holds both (a forged link and another member's session: 404).
            continue;
        }
        let target = match pattern.split('/').nth(2).unwrap() {
            "api-keys" => &key,
            "projects" => &project,
            "roles" => &role,
            "service-accounts" => &sa,
            "members" => &member,
            "invitations" => &invitation,
            "webhooks" => &webhook,
            other => panic!("no object for {other}"),
        };
        let path = pattern
            .replace("{id}", target)
            .replace("{event_id}", "evt_0000000000000000000a");
        // A body the route takes (a member's role is read before the member is looked up).
        let body = matches!(method, "POST" | "PATCH").then(|| {
            if pattern.starts_with("/v1/members") {
                json!({"role": "owner"})
            } else if pattern.starts_with("/v1/webhooks") {
                json!({"description": "taken over"})
            } else {
                json!({"name": "taken over"})
            }
        });
        c.call(method, &path, Some(&b), body)
            .expect_problem(404, "not_found");
        walked += 1;
    }
    assert_eq!(walked, 24, "every object route of the router was walked");
    let members = c.get("/v1/members", &a).expect(200);
    assert!(members.text.contains(&member), "the member is still there");
    let invitations = c.get("/v1/invitations", &a).expect(200);
    assert!(
        invitations.text.contains(&invitation),
        "the invitation is still there"
    );
    // And nothing was changed or removed.
    assert_eq!(
        c.get(&format!("/v1/api-keys/{key}"), &a).expect(200).body["name"],
        "a key"
    );
    for (kind, id) in [
        ("projects", &project),
        ("roles", &role),
        ("service-accounts", &sa),
    ] {
        c.get(&format!("/v1/{kind}/{id}"), &a).expect(200);
    }
    // Listings show only the caller's team.
    for kind in ["api-keys", "projects", "roles", "service-accounts"] {
        let list = c.get(&format!("/v1/{kind}"), &b).expect(200);
        assert!(
            !list.text.contains(&project)
                && !list.text.contains(&role)
                && !list.text.contains(&sa)
                && !list.text.contains(&key)
        );
    }
}

/// Every route's management permission, as the OpenAPI document states it (`x-permission`), is
/// enforced: a key without it gets a 403 naming it, a key with only it gets past the check.
#[test]
fn every_management_permission_is_enforced() {
    let c = client();
    let (_, admin) = c.team("Perms");
    let key = c.key(&admin, json!({"name": "target"})).0;
    let project = id(&c
        .post("/v1/projects", &admin, json!({"name": "p"}))
        .expect(201));
    let role = id(&c
        .post("/v1/roles", &admin, json!({"name": "r", "permissions": []}))
        .expect(201));
    let sa = id(&c
        .post(
            "/v1/service-accounts",
            &admin,
            json!({"name": "s", "roles": []}),
        )
        .expect(201));
    let (_, nothing, _) = c.key(&admin, json!({"name": "no permissions"}));
    let doc: Value = serde_json::from_str(include_str!("../docs/openapi.json")).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(needed) = op["x-permission"].as_str() else {
                continue;
            };
            let concrete = path
                .replace("/api-keys/{id}", &format!("/api-keys/{key}"))
                .replace("/projects/{id}", &format!("/projects/{project}"))
                .replace("/roles/{id}", &format!("/roles/{role}"))
                .replace("/service-accounts/{id}", &format!("/service-accounts/{sa}"))
                // Ids of nothing: past the permission check they answer 404, never 403.
                .replace("/members/{id}", "/members/mem_00000000000000000000")
                .replace("/invitations/{id}", "/invitations/inv_00000000000000000000")
                .replace("/webhooks/{id}", "/webhooks/wh_000000000000000000000")
                .replace("{event_id}", "evt_00000000000000000000");
            let m = method.to_uppercase();
            let body = matches!(m.as_str(), "POST" | "PATCH").then(|| json!({}));
            let r = c.call(&m, &concrete, Some(&nothing), body.clone());
            r.code();
            assert_eq!(r.status, 403, "{m} {path} without {needed}: {}", r.text);
            assert!(
                r.body["detail"].as_str().unwrap().contains(needed),
                "{m} {path}: {}",
                r.text
            );
            // With exactly that permission, the check passes (whatever the request's own fate).
            let (_, only, _) = c.key(&admin, json!({"name": "only", "permissions": [needed]}));
            let r = c.call(&m, &concrete, Some(&only), body);
            assert_ne!(r.status, 403, "{m} {path} with {needed}: {}", r.text);
            checked += 1;
        }
    }
    assert_eq!(checked, 41, "every permissioned operation was checked");
}

/// Deleting a project and scoping a new key to it race; the team object makes them atomic, so
/// never both succeed, and no key is ever left pointing at a deleted project.
#[test]
fn a_project_cannot_be_deleted_while_a_key_is_scoped_to_it() {
    let c = client();
    let (_, admin) = c.team("Race");
    for round in 0..8 {
        let project = id(&c
            .post("/v1/projects", &admin, json!({"name": format!("p{round}")}))
            .expect(201));
        let (a1, p1) = (admin.clone(), project.clone());
        let create = std::thread::spawn(move || {
            client()
                .post(
                    "/v1/api-keys",
                    &a1,
                    json!({"name": "scoped", "project_id": p1}),
                )
                .status
        });
        let (a2, p2) = (admin.clone(), project.clone());
        let delete =
            std::thread::spawn(move || client().delete(&format!("/v1/projects/{p2}"), &a2).status);
        let (created, deleted) = (create.join().unwrap(), delete.join().unwrap());
        match (created, deleted) {
            (201, 409) | (404, 204) => {}
            other => panic!("round {round}: create/delete answered {other:?}"),
        }
        let keys = c
            .get(
                &format!("/v1/api-keys?project_id={project}&limit=100"),
                &admin,
            )
            .expect(200);
        let scoped = keys.body["data"].as_array().unwrap().len();
        let exists = c.get(&format!("/v1/projects/{project}"), &admin).status == 200;
        assert!(
            exists || scoped == 0,
            "round {round}: a key points at a deleted project"
        );
    }
}

/// A key made for a service account while its role is edited gets the role as it was before or
/// after the edit, never half of each.
#[test]
fn a_key_never_takes_a_half_edited_role() {
    let c = client();
    let (_, admin) = c.team("Snapshot");
    let role = id(&c
        .post(
            "/v1/roles",
            &admin,
            json!({"name": "r", "permissions": ["a:read", "b:read"]}),
        )
        .expect(201));
    let sa = id(&c
        .post(
            "/v1/service-accounts",
            &admin,
            json!({"name": "s", "roles": ["r"]}),
        )
        .expect(201));
    let before = json!(["a:read", "b:read"]);
    let after = json!(["c:read", "d:read"]);
    let edit = {
        let (admin, role) = (admin.clone(), role.clone());
        std::thread::spawn(move || {
            let c = client();
            for i in 0..6 {
                let p = if i % 2 == 0 {
                    json!(["c:read", "d:read"])
                } else {
                    json!(["a:read", "b:read"])
                };
                c.patch(
                    &format!("/v1/roles/{role}"),
                    &admin,
                    json!({"permissions": p}),
                )
                .expect(200);
            }
        })
    };
    for _ in 0..6 {
        let (_, _, body) = c.key(&admin, json!({"name": "k", "service_account_id": sa}));
        assert!(
            body["permissions"] == before || body["permissions"] == after,
            "{}",
            body["permissions"]
        );
    }
    edit.join().unwrap();
}

/// `PATCH /v1/teams/{id}` by the team's own `admin:*` credential: its settings only.
#[test]
fn a_teams_admin_key_patches_its_own_settings_only() {
    let c = client();
    let (team, admin) = c.team("Self-service");
    let (other_team, _) = c.team("Someone else");
    let (_, reader, _) = c.key(
        &admin,
        json!({"name": "r", "permissions": ["api_keys:read"]}),
    );
    let path = format!("/v1/teams/{team}");
    let r = c
        .patch(&path, &admin, json!({"leak_policy": "notify"}))
        .expect(200);
    assert_eq!(r.body["leak_policy"], "notify");
    // Name and limits stay the operator's.
    c.patch(&path, &admin, json!({"name": "Renamed"}))
        .expect_problem(403, "insufficient_permissions");
    c.patch(&path, &admin, json!({"limits": {"max_keys": 1000}}))
        .expect_problem(403, "insufficient_permissions");
    // A test-environment admin:* key changes no setting: the settings reach the live keys.
    let (_, test_admin, _) = c.key(
        &admin,
        json!({"name": "t", "environment": "test", "permissions": ["admin:*"]}),
    );
    c.patch(&path, &test_admin, json!({"auto_disable_idle_days": 1}))
        .expect_problem(403, "insufficient_permissions");
    c.patch(&path, &test_admin, json!({"leak_policy": "disable"}))
        .expect_problem(403, "insufficient_permissions");
    // Without admin:*, nothing; another team's id is not there at all.
    c.patch(&path, &reader, json!({"leak_policy": "notify"}))
        .expect_problem(403, "insufficient_permissions");
    c.patch(
        &format!("/v1/teams/{other_team}"),
        &admin,
        json!({"leak_policy": "notify"}),
    )
    .expect_problem(404, "not_found");
    // The operator still changes everything, and reads back what the admin set.
    c.patch(&path, support::ADMIN, json!({"name": "Renamed"}))
        .expect(200);
    let t = c.get(&path, support::ADMIN).expect(200);
    assert_eq!(
        (t.body["name"].as_str(), t.body["leak_policy"].as_str()),
        (Some("Renamed"), Some("notify"))
    );
    // The change is audited as the key's.
    let log = c.get("/v1/audit-log?limit=100", &admin).expect(200);
    let by_key = log.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "team.updated" && e["actor"]["type"] == "key")
        .count();
    assert_eq!(by_key, 1, "{}", log.text);
}
