//! End to end, through workerd with real KV and Durable Objects: the rules that protect the
//! service and its tenants from the outside (contract 1.1): project scope on every route, the
//! streaming body limit, team limits and the rate ceiling, the permission cap of service-account
//! keys, `405` for methods a path does not define, and the headers every response carries.

mod support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::{Client, Resp, Server, ADMIN};

fn client() -> Client {
    Client::new(Server::shared())
}

fn id(r: &Resp) -> String {
    r.body["id"].as_str().unwrap().to_string()
}

fn ids(r: &Resp) -> Vec<String> {
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_string())
        .collect()
}

/// A team with projects A and B, a key scoped to A with `admin:*`, and one key in each of A,
/// B and no project (made by the team's admin key).
struct Scoped {
    admin: String,
    a: String,
    b: String,
    scoped: String,
    key_a: String,
    key_b: String,
    key_all: String,
}

fn scoped_team(c: &Client, name: &str) -> Scoped {
    let (_, admin) = c.team(name);
    let a = id(&c
        .post("/v1/projects", &admin, json!({"name": "A"}))
        .expect(201));
    let b = id(&c
        .post("/v1/projects", &admin, json!({"name": "B"}))
        .expect(201));
    let (_, scoped, body) = c.key(
        &admin,
        json!({"name": "scoped admin", "permissions": ["admin:*"], "project_id": a}),
    );
    assert_eq!(body["project_id"], a.as_str());
    let (key_a, _, _) = c.key(&admin, json!({"name": "in A", "project_id": a}));
    let (key_b, _, _) = c.key(&admin, json!({"name": "in B", "project_id": b}));
    let (key_all, _, _) = c.key(&admin, json!({"name": "every project"}));
    Scoped {
        admin,
        a,
        b,
        scoped,
        key_a,
        key_b,
        key_all,
    }
}

#[test]
fn a_scoped_key_creates_keys_only_in_its_project() {
    let c = client();
    let t = scoped_team(&c, "Scope create");
    // Absent: the caller's project. A service-account key too.
    let (_, _, k) = c.key(&t.scoped, json!({"name": "child"}));
    assert_eq!(k["project_id"], t.a.as_str());
    let (_, _, k) = c.key(&t.scoped, json!({"name": "same", "project_id": t.a}));
    assert_eq!(k["project_id"], t.a.as_str());
    c.post(
        "/v1/roles",
        &t.admin,
        json!({"name": "reader", "permissions": ["tasks:read"]}),
    )
    .expect(201);
    let sa = id(&c
        .post(
            "/v1/service-accounts",
            &t.admin,
            json!({"name": "svc", "roles": ["reader"]}),
        )
        .expect(201));
    let (_, sa_key, k) = c.key(
        &t.scoped,
        json!({"name": "svc key", "service_account_id": sa}),
    );
    assert_eq!(
        k["project_id"],
        t.a.as_str(),
        "a service-account key takes the project"
    );
    // Anything else is refused, and nothing is created.
    let before = ids(&c.get("/v1/api-keys?limit=100", &t.admin).expect(200)).len();
    c.post(
        "/v1/api-keys",
        &t.scoped,
        json!({"name": "x", "project_id": null}),
    )
    .expect_problem(403, "project_mismatch");
    c.post(
        "/v1/api-keys",
        &t.scoped,
        json!({"name": "x", "project_id": t.b}),
    )
    .expect_problem(403, "project_mismatch");
    let after = ids(&c.get("/v1/api-keys?limit=100", &t.admin).expect(200)).len();
    assert_eq!(before, after);
    // And what it made is confined: verify for project B is a mismatch.
    let v = c.verify(json!({"key": sa_key, "project_id": t.b}));
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(false), json!("project_mismatch"))
    );
}

#[test]
fn a_scoped_key_sees_and_manages_only_its_project() {
    let c = client();
    let t = scoped_team(&c, "Scope manage");
    let listed = ids(&c.get("/v1/api-keys?limit=100", &t.scoped).expect(200));
    assert!(listed.contains(&t.key_a));
    assert!(!listed.contains(&t.key_b) && !listed.contains(&t.key_all));
    let other = c
        .get(&format!("/v1/api-keys?project_id={}", t.b), &t.scoped)
        .expect(200);
    assert!(ids(&other).is_empty(), "another project lists nothing");
    // Outside the project: 404 on every key route, exactly as for another team.
    for outside in [&t.key_b, &t.key_all] {
        let path = format!("/v1/api-keys/{outside}");
        c.get(&path, &t.scoped).expect_problem(404, "not_found");
        c.patch(&path, &t.scoped, json!({"name": "taken over"}))
            .expect_problem(404, "not_found");
        c.post(&format!("{path}/disable"), &t.scoped, json!({}))
            .expect_problem(404, "not_found");
        c.delete(&path, &t.scoped).expect_problem(404, "not_found");
        let still = c.get(&path, &t.admin).expect(200);
        assert_eq!(
            (still.body["name"].as_str(), still.body["status"].as_str()),
            (
                Some(if outside == &t.key_b {
                    "in B"
                } else {
                    "every project"
                }),
                Some("active")
            ),
            "untouched"
        );
    }
    // Inside: every route works.
    let path = format!("/v1/api-keys/{}", t.key_a);
    c.get(&path, &t.scoped).expect(200);
    c.patch(&path, &t.scoped, json!({"name": "renamed"}))
        .expect(200);
    c.post(&format!("{path}/disable"), &t.scoped, json!({}))
        .expect(200);
    c.delete(&path, &t.scoped).expect(204);
}

#[test]
fn team_wide_objects_are_read_only_to_a_scoped_key() {
    let c = client();
    let t = scoped_team(&c, "Scope team-wide");
    let role = id(&c
        .post(
            "/v1/roles",
            &t.admin,
            json!({"name": "r", "permissions": ["tasks:read"]}),
        )
        .expect(201));
    let sa = id(&c
        .post(
            "/v1/service-accounts",
            &t.admin,
            json!({"name": "s", "roles": ["r"]}),
        )
        .expect(201));
    let invitation = id(&c
        .post(
            "/v1/invitations",
            &t.admin,
            json!({"email": "i@scope.test", "role": "viewer"}),
        )
        .expect(201));
    let writes: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", "/v1/projects".into(), Some(json!({"name": "C"}))),
        ("DELETE", format!("/v1/projects/{}", t.b), None),
        (
            "POST",
            "/v1/roles".into(),
            Some(json!({"name": "r2", "permissions": []})),
        ),
        (
            "PATCH",
            format!("/v1/roles/{role}"),
            Some(json!({"name": "r3"})),
        ),
        ("DELETE", format!("/v1/roles/{role}"), None),
        (
            "POST",
            "/v1/service-accounts".into(),
            Some(json!({"name": "s2", "roles": []})),
        ),
        (
            "PATCH",
            format!("/v1/service-accounts/{sa}"),
            Some(json!({"name": "s3"})),
        ),
        ("DELETE", format!("/v1/service-accounts/{sa}"), None),
        // Members and invitations are team-wide too.
        (
            "POST",
            "/v1/invitations".into(),
            Some(json!({"email": "x@scope.test", "role": "viewer"})),
        ),
        ("DELETE", format!("/v1/invitations/{invitation}"), None),
        (
            "PATCH",
            "/v1/members/mem_00000000000000000000".into(),
            Some(json!({"role": "viewer"})),
        ),
        (
            "DELETE",
            "/v1/members/mem_00000000000000000000".into(),
            None,
        ),
    ];
    for (method, path, body) in &writes {
        c.call(method, path, Some(&t.scoped), body.clone())
            .expect_problem(403, "project_mismatch");
    }
    for path in [
        "/v1/projects",
        "/v1/roles",
        "/v1/service-accounts",
        "/v1/members",
        "/v1/invitations",
    ] {
        c.get(path, &t.scoped).expect(200);
    }
    // Nothing changed.
    assert_eq!(ids(&c.get("/v1/projects", &t.admin).expect(200)).len(), 2);
    let r = c.get(&format!("/v1/roles/{role}"), &t.admin).expect(200);
    assert_eq!(r.body["name"], "r");
}

/// Sends a request with a chunked body that it never finishes, and reads the answer.
fn chunked_without_end(base: &str, path: &str, chunks: usize) -> (String, Duration) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let start = Instant::now();
    let chunk = vec![b' '; 4096];
    for _ in 0..chunks {
        // The server may stop reading (and answer) at any point: a failed write is fine.
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if s.write_all(&frame).is_err() {
            break;
        }
    }
    // The terminating zero-length chunk is never sent.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

/// Sends `body` chunked, in pieces of `piece` bytes, to its end; the answer's status line and body.
fn chunked(base: &str, path: &str, body: &[u8], piece: usize) -> (String, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let mut out = head.into_bytes();
    for c in body.chunks(piece) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    let _ = s.write_all(&out);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    (status, text)
}

#[test]
fn a_chunked_body_is_read_whole_up_to_the_bound() {
    let c = client();
    // In several pieces, to its end: judged as the same body with a declared length would be.
    let (status, text) = chunked(&c.base, "/v1/verify", br#"{"key": "sk_live_nope"}"#, 5);
    assert!(status.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("malformed_key"), "{text}");
    // Exactly 16 KiB fits; one byte more is 413, whatever the pieces.
    let mut fits = b"{\"key\":\"x\"}".to_vec();
    fits.resize(16 * 1024, b' ');
    let (status, text) = chunked(&c.base, "/v1/verify", &fits, 3000);
    assert!(text.contains("malformed_key"), "{status} {text}");
    fits.push(b' ');
    let (status, _) = chunked(&c.base, "/v1/verify", &fits, 3000);
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let (status, text) = chunked(&c.base, "/v1/verify", b"", 1);
    assert!(status.starts_with("HTTP/1.1 400"), "{status} {text}");
}

#[test]
fn a_large_chunked_body_is_refused_before_it_ends() {
    let c = client();
    // 64 KiB sent of a body that never ends: the answer must still come.
    let (head, took) = chunked_without_end(&c.base, "/v1/verify", 16);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    // With a declared length, refused on the header alone; an API key's route likewise, before
    // any authentication.
    let big = vec![b' '; 16 * 1024 + 1];
    let ct = [("Content-Type", "application/json")];
    assert_eq!(c.early_status("POST", "/v1/api-keys", &ct, &big), 413);
    // Exactly 16 KiB is read and judged as JSON.
    let mut fits = b"{\"key\":\"x\"}".to_vec();
    fits.resize(16 * 1024, b' ');
    let r = c.raw(
        "POST",
        "/v1/verify",
        &[("Content-Type", "application/json")],
        Some(&fits),
    );
    assert_eq!(r.expect(200).body["code"], "malformed_key");
}

#[test]
fn team_limits_are_enforced_and_set_by_the_operator() {
    let c = client();
    let limits = json!({"max_keys": 2, "max_projects": 1, "max_roles": 1,
                        "max_service_accounts": 1, "max_per_minute": 200, "max_per_hour": 2000});
    let r = c
        .post(
            "/v1/teams",
            ADMIN,
            json!({"name": "Limited", "limits": limits}),
        )
        .expect(201);
    assert_eq!(r.body["team"]["limits"]["max_keys"], 2);
    assert_eq!(
        r.body["team"]["limits"]["max_webhooks"], 10,
        "defaults fill the rest"
    );
    let team = r.body["team"]["id"].as_str().unwrap().to_string();
    let admin = r.body["api_key"]["key"].as_str().unwrap().to_string();
    // Counts: the admin key is one of the two.
    let (second, _, _) = c.key(&admin, json!({"name": "second"}));
    c.post("/v1/api-keys", &admin, json!({"name": "third"}))
        .expect_problem(409, "limit_reached");
    c.delete(&format!("/v1/api-keys/{second}"), &admin)
        .expect(204);
    c.key(&admin, json!({"name": "third, after a delete"}));
    c.post("/v1/projects", &admin, json!({"name": "p1"}))
        .expect(201);
    c.post("/v1/projects", &admin, json!({"name": "p2"}))
        .expect_problem(409, "limit_reached");
    c.post(
        "/v1/roles",
        &admin,
        json!({"name": "r1", "permissions": []}),
    )
    .expect(201);
    c.post(
        "/v1/roles",
        &admin,
        json!({"name": "r2", "permissions": []}),
    )
    .expect_problem(409, "limit_reached");
    c.post("/v1/service-accounts", &admin, json!({"name": "s1"}))
        .expect(201);
    c.post("/v1/service-accounts", &admin, json!({"name": "s2"}))
        .expect_problem(409, "limit_reached");
    // The rate ceiling, on create and on update (the admin key cannot lift itself).
    let me = c.get("/v1/api-keys/current", &admin).expect(200);
    let me = me.body["id"].as_str().unwrap().to_string();
    let huge = json!({"rate_limit": {"plan": "enterprise", "per_minute": 1000000000, "per_hour": 1000000000}});
    c.patch(&format!("/v1/api-keys/{me}"), &admin, huge)
        .expect_problem(403, "rate_limit_ceiling");
    c.patch(
        &format!("/v1/api-keys/{me}"),
        &admin,
        json!({"rate_limit": {"per_hour": 2001}}),
    )
    .expect_problem(403, "rate_limit_ceiling");
    let ok = c
        .patch(
            &format!("/v1/api-keys/{me}"),
            &admin,
            json!({"rate_limit": {"plan": "enterprise", "per_minute": 200, "per_hour": 2000}}),
        )
        .expect(200);
    assert_eq!(ok.body["rate_limit"]["per_minute"], 200);
    // The operator raises the limits; a team key may not.
    c.patch(
        &format!("/v1/teams/{team}"),
        &admin,
        json!({"limits": {"max_keys": 5}}),
    )
    .expect_problem(403, "insufficient_permissions");
    let t = c
        .patch(
            &format!("/v1/teams/{team}"),
            ADMIN,
            json!({"name": "Limited, less", "limits": {"max_keys": 5}}),
        )
        .expect(200);
    assert_eq!(t.body["limits"]["max_keys"], 5);
    assert_eq!(t.body["limits"]["max_projects"], 1, "others unchanged");
    assert_eq!(t.body["name"], "Limited, less");
    let got = c.get(&format!("/v1/teams/{team}"), ADMIN).expect(200);
    assert_eq!(got.body["limits"], t.body["limits"]);
    c.key(&admin, json!({"name": "fourth"}));
    // Bad limits are a 400 naming the field, and change nothing.
    for (bad, code) in [
        (json!({"limits": {"max_keys": -1}}), "invalid_field"),
        (json!({"limits": {"max_per_minute": 0}}), "invalid_field"),
        (json!({"limits": {"max_things": 1}}), "unknown_field"),
        (json!({"limits": null}), "invalid_field"),
        (json!({"owner": 1}), "unknown_field"),
    ] {
        c.patch(&format!("/v1/teams/{team}"), ADMIN, bad)
            .expect_problem(400, code);
    }
    c.patch(
        "/v1/teams/team_00000000000000000000",
        ADMIN,
        json!({"name": "x"}),
    )
    .expect_problem(404, "not_found");
    let got = c.get(&format!("/v1/teams/{team}"), ADMIN).expect(200);
    assert_eq!(got.body["limits"], t.body["limits"]);
}

#[test]
fn a_service_account_key_holds_at_most_100_permissions() {
    let c = client();
    let (_, admin) = c.team("Cap");
    let perms =
        |from: usize| -> Vec<String> { (from..from + 60).map(|i| format!("r{i}:read")).collect() };
    c.post(
        "/v1/roles",
        &admin,
        json!({"name": "a", "permissions": perms(0)}),
    )
    .expect(201);
    c.post(
        "/v1/roles",
        &admin,
        json!({"name": "b", "permissions": perms(100)}),
    )
    .expect(201);
    let small = id(&c
        .post(
            "/v1/roles",
            &admin,
            json!({"name": "c", "permissions": ["x:read"]}),
        )
        .expect(201));
    let r = c
        .post(
            "/v1/service-accounts",
            &admin,
            json!({"name": "both", "roles": ["a", "b"]}),
        )
        .expect_problem(400, "invalid_field");
    assert!(
        r.body["detail"].as_str().unwrap().contains("at most 100"),
        "{}",
        r.text
    );
    let sa = id(&c
        .post(
            "/v1/service-accounts",
            &admin,
            json!({"name": "one", "roles": ["a", "c"]}),
        )
        .expect(201));
    c.patch(
        &format!("/v1/service-accounts/{sa}"),
        &admin,
        json!({"roles": ["a", "b"]}),
    )
    .expect_problem(400, "invalid_field");
    // A role edit that would push an account past the cap is refused too.
    c.patch(
        &format!("/v1/roles/{small}"),
        &admin,
        json!({"permissions": perms(200)}),
    )
    .expect_problem(400, "invalid_field");
    let (_, _, k) = c.key(&admin, json!({"name": "k", "service_account_id": sa}));
    assert_eq!(k["permissions"].as_array().unwrap().len(), 61);
}

#[test]
fn undefined_methods_are_405_and_every_response_says_no_store() {
    let c = client();
    let (_, admin) = c.team("Methods");
    for (method, path, allow) in [
        ("QUERY", "/v1/api-keys/current", "GET, HEAD"),
        ("PATCH", "/v1/api-keys/current", "GET, HEAD"),
        ("OPTIONS", "/healthz", "GET, HEAD"),
        (
            "PUT",
            "/v1/teams/team_00000000000000000000",
            "GET, HEAD, PATCH",
        ),
        ("GET", "/v1/verify", "POST"),
    ] {
        let r = c
            .call(method, path, Some(&admin), None)
            .expect_problem(405, "method_not_allowed");
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
    }
    let head = c.raw("HEAD", "/healthz", &[], None).expect(200);
    assert_eq!(head.text, "", "HEAD has no body");
    // An empty cursor is the first page.
    c.get("/v1/api-keys?cursor=", &admin).expect(200);
    let (_, key, _) = c.key(&admin, json!({"name": "shown once"}));
    let responses = [
        c.raw("GET", "/healthz", &[], None),
        c.raw("GET", "/openapi.json", &[], None),
        c.raw("GET", "/nothing", &[], None),
        c.post("/v1/api-keys", &admin, json!({"name": "created"})),
        c.get("/v1/api-keys", &admin),
        c.call("POST", "/v1/verify", None, Some(json!({"key": key}))),
        c.get("/v1/api-keys/current", "sk_live_bad"),
    ];
    for r in responses {
        assert_eq!(r.header("cache-control"), Some("no-store"), "{r:?}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{r:?}");
    }
}
