//! End to end, through workerd with real KV and Durable Objects: portal links (contract 1.2,
//! "Embedding and accounts"), a member's own sessions, and team branding. A link's expiry
//! cannot be reached here without sleeping five minutes: it is held natively
//! (`core::team::portal` tests, with the time passed in), as are the opener judged again at
//! use and the bound on links.

mod support;

use serde_json::{json, Value};
use support::{client, team_with_owner, Client, Resp, ADMIN, PASSWORD};

/// The browser a link is opened in.
const BROWSER: &[(&str, &str)] = &[("User-Agent", "PortalTest/1.0")];

fn link_body(external: &str, email: &str, role: &str) -> Value {
    json!({
        "user": {"external_id": external, "email": email, "name": "Ada"},
        "role": role,
        "return_url": "https://app.product.test/settings"
    })
}

/// Opens a link with `token`; answers its URL.
fn open_link(c: &Client, token: &str, body: Value) -> String {
    let r = c.post("/v1/portal/sessions", token, body).expect(201);
    r.body["url"].as_str().unwrap().to_owned()
}

fn cookie_of(r: &Resp) -> String {
    let set = r.header("set-cookie").expect("a Set-Cookie header");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

/// A request with a session cookie, from the dashboard's own origin.
fn as_member(c: &Client, cookie: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
    let bytes = body.map(|b| b.to_string().into_bytes());
    let mut h = vec![
        ("Cookie", cookie),
        ("Sec-Fetch-Site", "same-origin"),
        ("Origin", c.base.as_str()),
    ];
    if bytes.is_some() {
        h.push(("Content-Type", "application/json"));
    }
    c.raw(method, path, &h, bytes.as_deref())
}

#[test]
fn a_portal_link_signs_in_once_and_leaves_the_address_bar() {
    let c = client();
    let (team, key) = team_with_owner(&c, "portal-once");
    let r = c
        .post(
            "/v1/portal/sessions",
            &key,
            link_body("u_1", "ada@product.test", "developer"),
        )
        .expect(201);
    let url = r.body["url"].as_str().unwrap().to_owned();
    let prefix = format!("{}/v1/portal/kgp_{team}_", c.base);
    assert!(url.starts_with(&prefix), "{url}");
    assert!(r.body["expires_at"].is_string());
    let arrived = c.visit(&url, BROWSER);
    assert_eq!(arrived.status, 303, "{}", arrived.text);
    assert_eq!(arrived.header("location"), Some("/"));
    assert_eq!(arrived.header("cache-control"), Some("no-store"));
    let cookie = cookie_of(&arrived);
    assert!(cookie.starts_with("__Host-keygate_session="));
    let me = as_member(&c, &cookie, "GET", "/v1/me", None).expect(200);
    assert_eq!(me.body["member"]["role"], "developer");
    assert_eq!(me.body["member"]["external_id"], "u_1");
    assert_eq!(me.body["member"]["email"], "ada@product.test");
    assert_eq!(
        me.body["portal"],
        json!({"return_url": "https://app.product.test/settings", "name": "portal-once"})
    );
    // The session is an ordinary one: the developer's rights, no more.
    as_member(&c, &cookie, "GET", "/v1/api-keys", None).expect(200);
    as_member(&c, &cookie, "GET", "/v1/members", None).expect(200);
    as_member(
        &c,
        &cookie,
        "POST",
        "/v1/invitations",
        Some(json!({"email": "x@p.test", "role": "viewer"})),
    )
    .expect_problem(403, "insufficient_permissions");
    // Once: the second visit opens nothing.
    let again = c.visit(&url, BROWSER);
    assert_eq!(again.status, 410);
    assert_eq!(again.code(), "invalid_portal_token");
    assert!(again.header("set-cookie").is_none());
    // Forged: one character changed, a token of no team, or no token at all.
    let last = url.chars().last().unwrap();
    let forged = format!(
        "{}{}",
        &url[..url.len() - 1],
        if last == 'a' { 'b' } else { 'a' }
    );
    for bad in [
        forged,
        format!(
            "{}/v1/portal/kgp_team_00000000000000000000_{}",
            c.base,
            "a".repeat(43)
        ),
        format!("{}/v1/portal/nope", c.base),
    ] {
        let r = c.visit(&bad, BROWSER);
        assert_eq!((r.status, r.code()), (404, "not_found"), "{bad}");
    }
    // Neither the token nor its hash is in the audit log; the link's making and use are.
    let log = c.get("/v1/audit-log?limit=100", &key).expect(200);
    let token = url.rsplit('/').next().unwrap();
    assert!(!log.text.contains(token));
    let actions: Vec<&str> = log.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"portal_session.created"), "{actions:?}");
    assert!(actions.contains(&"portal_session.used"), "{actions:?}");
}

#[test]
fn a_link_never_grants_above_its_opener() {
    let c = client();
    let (team, admin) = team_with_owner(&c, "portal-rights");
    let (_, narrow, _) = c.key(
        &admin,
        json!({"name": "people", "permissions": ["members:write"]}),
    );
    let (_, reader, _) = c.key(
        &admin,
        json!({"name": "reader", "permissions": ["members:read"]}),
    );
    let dev = link_body("u_1", "a@product.test", "developer");
    c.post("/v1/portal/sessions", &narrow, dev.clone())
        .expect_problem(403, "insufficient_permissions");
    c.post("/v1/portal/sessions", &reader, dev.clone())
        .expect_problem(403, "insufficient_permissions");
    // Even a viewer holds more than `members:write` alone (the reads of keygate's resources).
    c.post(
        "/v1/portal/sessions",
        &narrow,
        link_body("u_1", "a@product.test", "viewer"),
    )
    .expect_problem(403, "insufficient_permissions");
    // Only the operator gives `owner`.
    c.post(
        "/v1/portal/sessions",
        &admin,
        link_body("u_2", "o@product.test", "owner"),
    )
    .expect_problem(403, "owner_required");
    let mut as_operator = link_body("u_2", "o@product.test", "owner");
    as_operator["team_id"] = json!(team);
    let url = open_link(&c, ADMIN, as_operator);
    let cookie = cookie_of(&c.visit(&url, BROWSER));
    let me = as_member(&c, &cookie, "GET", "/v1/me", None).expect(200);
    assert_eq!(me.body["member"]["role"], "owner");
    // The operator names the team; a key's `team_id` is its own (another team's is a 404).
    c.post("/v1/portal/sessions", ADMIN, dev.clone())
        .expect_problem(400, "missing_field");
    let (other, _) = team_with_owner(&c, "portal-rights-other");
    let mut elsewhere = dev.clone();
    elsewhere["team_id"] = json!(other);
    c.post("/v1/portal/sessions", &admin, elsewhere)
        .expect_problem(404, "not_found");
    let mut nowhere = dev.clone();
    nowhere["team_id"] = json!("team_00000000000000000000");
    c.post("/v1/portal/sessions", ADMIN, nowhere)
        .expect_problem(404, "not_found");
    // A link never takes over a member who signs in with a password.
    c.post(
        "/v1/portal/sessions",
        &admin,
        link_body("u_3", "owner@portal-rights.test", "viewer"),
    )
    .expect_problem(409, "email_taken");
    // `return_url` is https (http only for localhost in development).
    for bad in [
        "http://app.product.test/",
        "javascript:alert(1)",
        "/relative",
    ] {
        let mut b = dev.clone();
        b["return_url"] = json!(bad);
        c.post("/v1/portal/sessions", &admin, b).expect(400);
    }
    let mut local = link_body("u_4", "l@product.test", "viewer");
    local["return_url"] = json!("http://localhost:3000/back");
    open_link(&c, &admin, local);
    // No credential, or a session: refused.
    c.call("POST", "/v1/portal/sessions", None, Some(dev.clone()))
        .expect_problem(401, "missing_key");
}

#[test]
fn the_member_is_made_once_and_takes_each_links_role() {
    let c = client();
    let (team, admin) = team_with_owner(&c, "portal-member");
    for role in ["viewer", "admin", "developer"] {
        let url = open_link(&c, &admin, link_body("u_7", "bo@product.test", role));
        let cookie = cookie_of(&c.visit(&url, BROWSER));
        let me = as_member(&c, &cookie, "GET", "/v1/me", None).expect(200);
        assert_eq!(me.body["member"]["role"], role);
    }
    let members = c.get("/v1/members", &admin).expect(200);
    let linked: Vec<&Value> = members.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["external_id"] == "u_7")
        .collect();
    assert_eq!(linked.len(), 1, "{}", members.text);
    assert_eq!(linked[0]["role"], "developer");
    assert_eq!(linked[0]["name"], "Ada");
    // Made by a link, the member has no password: signing in with one fails.
    let body = json!({"team_id": team, "email": "bo@product.test", "password": PASSWORD});
    c.call("POST", "/v1/session", None, Some(body))
        .expect_problem(401, "invalid_credentials");
}

fn sign_in(c: &Client, team: &str, email: &str, agent: &str) -> String {
    let body = json!({"team_id": team, "email": email, "password": PASSWORD}).to_string();
    let r = c
        .raw(
            "POST",
            "/v1/session",
            &[("Content-Type", "application/json"), ("User-Agent", agent)],
            Some(body.as_bytes()),
        )
        .expect(200);
    cookie_of(&r)
}

#[test]
fn a_member_lists_and_ends_their_own_sessions() {
    let c = client();
    let (team, admin) = team_with_owner(&c, "portal-sessions");
    let email = "owner@portal-sessions.test";
    let laptop = sign_in(&c, &team, email, "Laptop/1.0");
    let phone = sign_in(&c, &team, email, "Phone/2.0");
    let list = as_member(&c, &laptop, "GET", "/v1/me/sessions", None).expect(200);
    let data = list.body["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 2, "{}", list.text);
    let current: Vec<&Value> = data.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "Laptop/1.0");
    for s in &data {
        assert!(s["id"].as_str().unwrap().starts_with("ses_"));
        assert!(s["created_at"].is_string() && s["last_seen_at"].is_string());
    }
    // Neither a token nor its hash is shown.
    for cookie in [&laptop, &phone] {
        let token = cookie.split_once('=').unwrap().1;
        assert!(!list.text.contains(token));
        assert!(!list.text.contains(&sha256_hex(token)));
    }
    let phone_id = data.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another member's session is not theirs to end.
    let url = open_link(&c, &admin, link_body("u_9", "p@product.test", "viewer"));
    let portal = cookie_of(&c.visit(&url, BROWSER));
    as_member(
        &c,
        &portal,
        "DELETE",
        &format!("/v1/me/sessions/{phone_id}"),
        None,
    )
    .expect_problem(404, "not_found");
    as_member(&c, &phone, "GET", "/v1/me", None).expect(200);
    // Their own: ended, its next request refused; the others go on.
    as_member(
        &c,
        &laptop,
        "DELETE",
        &format!("/v1/me/sessions/{phone_id}"),
        None,
    )
    .expect(204);
    as_member(&c, &phone, "GET", "/v1/me", None).expect_problem(401, "invalid_session");
    as_member(&c, &laptop, "GET", "/v1/me", None).expect(200);
    as_member(
        &c,
        &laptop,
        "DELETE",
        &format!("/v1/me/sessions/{phone_id}"),
        None,
    )
    .expect_problem(404, "not_found");
    let list = as_member(&c, &laptop, "GET", "/v1/me/sessions", None).expect(200);
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
    // With a key: these describe a member.
    c.get("/v1/me/sessions", &admin)
        .expect_problem(401, "session_required");
}

fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[test]
fn branding_is_a_team_setting_shown_to_its_members() {
    let c = client();
    let (team, team_key) = team_with_owner(&c, "portal-brand");
    let branding = json!({"name": "Acme Cloud", "logo_url": "https://cdn.acme.test/logo.svg", "accent_color": "#0A7CFF"});
    let r = c
        .patch(
            &format!("/v1/teams/{team}"),
            ADMIN,
            json!({"branding": branding}),
        )
        .expect(200);
    assert_eq!(
        r.body["branding"],
        json!({"name": "Acme Cloud", "logo_url": "https://cdn.acme.test/logo.svg", "accent_color": "#0a7cff"})
    );
    let owner = sign_in(&c, &team, "owner@portal-brand.test", "Laptop/1.0");
    let me = as_member(&c, &owner, "GET", "/v1/me", None).expect(200);
    assert_eq!(me.body["team"]["branding"]["name"], "Acme Cloud");
    assert_eq!(me.body["team"]["id"], team.as_str());
    assert_eq!(
        me.body["portal"],
        Value::Null,
        "a password session has no way back"
    );
    for bad in [
        json!({"logo_url": "http://cdn.acme.test/logo.svg"}),
        json!({"logo_url": "data:image/png;base64,AAAA"}),
        json!({"accent_color": "blue"}),
        json!({"unknown": 1}),
        json!("Acme"),
    ] {
        c.patch(
            &format!("/v1/teams/{team}"),
            ADMIN,
            json!({"branding": bad}),
        )
        .expect(400);
    }
    let r = c.get(&format!("/v1/teams/{team}"), ADMIN).expect(200);
    assert_eq!(r.body["branding"]["accent_color"], "#0a7cff");
    // A portal session's "Back to …" shows the branding's name.
    c.patch(
        &format!("/v1/teams/{team}"),
        &admin_key_of_other(&c),
        json!({"branding": {}}),
    )
    .expect_problem(404, "not_found");
    let admin_key = {
        let r = c
            .post("/v1/teams", ADMIN, json!({"name": "portal-brand-3"}))
            .expect(201);
        let id = r.body["team"]["id"].as_str().unwrap().to_owned();
        c.patch(
            &format!("/v1/teams/{id}"),
            ADMIN,
            json!({"branding": {"name": "Brand Three"}}),
        )
        .expect(200);
        r.body["api_key"]["key"].as_str().unwrap().to_owned()
    };
    let url = open_link(&c, &admin_key, link_body("u_1", "a@product.test", "viewer"));
    let cookie = cookie_of(&c.visit(&url, BROWSER));
    let me = as_member(&c, &cookie, "GET", "/v1/me", None).expect(200);
    assert_eq!(me.body["portal"]["name"], "Brand Three");
    // A setting of the team's own: its admin:* key may set it (not another team's).
    let r = c
        .patch(
            &format!("/v1/teams/{team}"),
            &team_key,
            json!({"branding": {"accent_color": "#112233"}}),
        )
        .expect(200);
    assert_eq!(r.body["branding"], json!({"accent_color": "#112233"}));
    // Cleared whole with `{}`.
    let r = c
        .patch(&format!("/v1/teams/{team}"), ADMIN, json!({"branding": {}}))
        .expect(200);
    assert_eq!(r.body["branding"], json!({}));
}

/// The admin:* key of a new, other team.
fn admin_key_of_other(c: &Client) -> String {
    team_with_owner(c, "portal-brand-other").1
}
