//! End to end, through workerd with real KV and Durable Objects: members, sessions and
//! invitations (contract 1.1, "Team members, sessions and the dashboard"), as a browser and an
//! API client see them: the cookie's attributes, one path of authentication for keys and
//! sessions (no escalation, project scope and 404 across teams hold for members), logout and
//! role changes seen by the very next request, the cross-site check, throttled sign-in.

mod support;

use serde_json::{json, Value};
use support::{client, Client, Resp, PASSWORD};

/// A team with an owner (`Owner@<name>.test` / PASSWORD: the email as typed, in any case);
/// answers (team id, admin key).
fn team_with_owner(c: &Client, name: &str) -> (String, String) {
    let email = format!("Owner@{name}.test");
    let r = support::new_team_with_owner(c, name, &email, PASSWORD);
    assert_eq!(r.body["owner"]["role"], "owner");
    assert_eq!(r.body["owner"]["email"], email);
    assert!(
        !r.text.contains(PASSWORD) && !r.text.contains("pbkdf2"),
        "{}",
        r.text
    );
    support::team_and_key(&r)
}

/// A browser's session: the cookie, sent as a same-origin page would send it.
struct Session<'a> {
    c: &'a Client,
    cookie: String,
}

impl Session<'_> {
    fn headers<'h>(&'h self, extra: &[(&'h str, &'h str)]) -> Vec<(&'h str, &'h str)> {
        let mut h = vec![
            ("Cookie", self.cookie.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
        ];
        h.extend_from_slice(extra);
        h
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let mut h = self.headers(&[("Origin", self.c.base.as_str())]);
        if bytes.is_some() {
            h.push(("Content-Type", "application/json"));
        }
        self.c.raw(method, path, &h, bytes.as_deref())
    }
}

fn cookie_of(r: &Resp) -> String {
    let set = r.header("set-cookie").expect("a Set-Cookie header");
    set.split(';').next().unwrap().to_owned()
}

fn sign_in<'a>(c: &'a Client, team: &str, email: &str, password: &str) -> Session<'a> {
    let r = c
        .call(
            "POST",
            "/v1/session",
            None,
            Some(json!({"team_id": team, "email": email, "password": password})),
        )
        .expect(200);
    Session {
        c,
        cookie: cookie_of(&r),
    }
}

fn invite_and_accept<'a>(c: &'a Client, owner: &Session, email: &str, role: &str) -> Session<'a> {
    let inv = owner
        .call(
            "POST",
            "/v1/invitations",
            Some(json!({"email": email, "role": role})),
        )
        .expect(201);
    let token = inv.body["token"].as_str().unwrap();
    let r = c
        .call(
            "POST",
            "/v1/invitations/accept",
            None,
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .expect(201);
    assert_eq!(r.body["member"]["role"], role);
    Session {
        c,
        cookie: cookie_of(&r),
    }
}

#[test]
fn sign_in_sets_a_host_cookie_and_me_answers_the_member() {
    let c = client();
    let (team, _) = team_with_owner(&c, "cookies");
    let r = c
        .call(
            "POST",
            "/v1/session",
            None,
            Some(json!({"team_id": team, "email": "owner@COOKIES.test", "password": PASSWORD})),
        )
        .expect(200);
    let set = r.header("set-cookie").unwrap().to_owned();
    assert!(set.starts_with("__Host-keygate_session=kgs_"), "{set}");
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.split("; ").any(|a| a == attr), "{attr} missing: {set}");
    }
    assert_eq!(r.body["member"]["role"], "owner");
    assert_eq!(r.body["team"]["id"], team);
    let s = Session {
        c: &c,
        cookie: cookie_of(&r),
    };
    let me = s.call("GET", "/v1/me", None).expect(200);
    assert_eq!(me.body["member"]["email"], "Owner@cookies.test");
    assert_eq!(me.body["permissions"], json!(["admin:*"]));
    assert!(me.body["member"]["last_login_at"].is_string());
    // A member's requests carry no key windows.
    assert!(me.header("x-ratelimit-limit").is_none());
    // Sign out: 204, the cookie cleared, and the old cookie dead at once.
    let out = s.call("DELETE", "/v1/session", None).expect(204);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    s.call("GET", "/v1/me", None)
        .expect_problem(401, "invalid_session");
}

#[test]
fn wrong_email_and_wrong_password_get_the_same_answer_and_then_a_429() {
    let c = client();
    let (team, _) = team_with_owner(&c, "wrongpw");
    let try_in = |email: &str, pw: &str| {
        c.call(
            "POST",
            "/v1/session",
            None,
            Some(json!({"team_id": team, "email": email, "password": pw})),
        )
    };
    let a = try_in("nobody@wrongpw.test", PASSWORD).expect_problem(401, "invalid_credentials");
    let b =
        try_in("owner@wrongpw.test", "not the password").expect_problem(401, "invalid_credentials");
    assert_eq!(a.body["detail"], b.body["detail"]);
    assert!(!b.text.contains("not the password"));
    // Another team's id, or one that does not exist: the same answer, no hint.
    try_in("owner@wrongpw.test", PASSWORD).expect(200);
    c.call(
        "POST",
        "/v1/session",
        None,
        Some(json!({"team_id": "team_00000000000000000000", "email": "owner@wrongpw.test", "password": PASSWORD})),
    )
    .expect_problem(401, "invalid_credentials");
    // At most ten failures (counted per email and per client: the ones above from this client
    // count too), then even the right password waits.
    let mut failures = 0;
    loop {
        let r = try_in("owner@wrongpw.test", "still wrong, again");
        if r.status == 429 {
            break;
        }
        r.expect_problem(401, "invalid_credentials");
        failures += 1;
        assert!(failures <= 10, "not throttled after {failures} failures");
    }
    assert!(failures >= 8, "throttled after only {failures} failures");
    let r = try_in("owner@wrongpw.test", PASSWORD).expect_problem(429, "rate_limited");
    assert!(r.header("retry-after").unwrap().parse::<u32>().unwrap() > 0);
    // Bad input is a 400 with words, never a 500.
    c.call(
        "POST",
        "/v1/session",
        None,
        Some(json!({"team_id": team, "email": "x"})),
    )
    .expect_problem(400, "invalid_field");
}

#[test]
fn roles_decide_what_members_do_through_the_same_rules_as_keys() {
    let c = client();
    let (team, admin_key) = team_with_owner(&c, "roles");
    let owner = sign_in(&c, &team, "owner@roles.test", PASSWORD);
    let dev = invite_and_accept(&c, &owner, "dev@roles.test", "developer");
    let viewer = invite_and_accept(&c, &owner, "viewer@roles.test", "viewer");

    // A developer makes keys with the product's permissions, never admin:* nor keygate's writes.
    let made = dev
        .call(
            "POST",
            "/v1/api-keys",
            Some(json!({"name": "worker", "permissions": ["tasks:read", "events:*"]})),
        )
        .expect(201);
    let key = made.body["key"].as_str().unwrap().to_owned();
    c.post(
        "/v1/verify",
        &admin_key,
        json!({"key": key, "permissions": ["tasks:read"]}),
    )
    .expect(200);
    dev.call(
        "POST",
        "/v1/api-keys",
        Some(json!({"name": "x", "permissions": ["admin:*"]})),
    )
    .expect_problem(403, "insufficient_permissions");
    dev.call("POST", "/v1/projects", Some(json!({"name": "p"})))
        .expect_problem(403, "insufficient_permissions");
    dev.call(
        "PATCH",
        "/v1/members/mem_00000000000000000000",
        Some(json!({"role": "viewer"})),
    )
    .expect_problem(403, "insufficient_permissions");
    // ...and cannot manage a key stronger than what the role holds.
    let admin_key_id = c.get("/v1/api-keys/current", &admin_key).expect(200).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    dev.call(
        "POST",
        &format!("/v1/api-keys/{admin_key_id}/disable"),
        None,
    )
    .expect_problem(403, "insufficient_permissions");
    let me = dev.call("GET", "/v1/me", None).expect(200);
    assert!(me.body["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("*:*")));

    // A viewer reads and writes nothing.
    viewer.call("GET", "/v1/api-keys", None).expect(200);
    viewer
        .call("POST", "/v1/api-keys", Some(json!({"name": "nope"})))
        .expect_problem(403, "insufficient_permissions");

    // Another team's key is a 404 to a member, as to a key.
    let (_, other_admin) = team_with_owner(&c, "roles-other");
    let other_key = c
        .post("/v1/api-keys", &other_admin, json!({"name": "theirs"}))
        .expect(201);
    let other_id = other_key.body["id"].as_str().unwrap();
    owner
        .call("GET", &format!("/v1/api-keys/{other_id}"), None)
        .expect_problem(404, "not_found");

    // A role change is seen by the very next request.
    let dev_id = me.body["member"]["id"].as_str().unwrap().to_owned();
    owner
        .call(
            "PATCH",
            &format!("/v1/members/{dev_id}"),
            Some(json!({"role": "viewer"})),
        )
        .expect(200);
    dev.call(
        "POST",
        "/v1/api-keys",
        Some(json!({"name": "after demotion"})),
    )
    .expect_problem(403, "insufficient_permissions");
    // Removal ends their session at once.
    owner
        .call("DELETE", &format!("/v1/members/{dev_id}"), None)
        .expect(204);
    dev.call("GET", "/v1/api-keys", None)
        .expect_problem(401, "invalid_session");
}

#[test]
fn owners_are_managed_only_by_owners_and_the_last_one_stays() {
    let c = client();
    let (team, admin_key) = team_with_owner(&c, "owners");
    let owner = sign_in(&c, &team, "owner@owners.test", PASSWORD);
    let admin = invite_and_accept(&c, &owner, "admin@owners.test", "admin");
    let owner_id = owner.call("GET", "/v1/me", None).body["member"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin
        .call(
            "PATCH",
            &format!("/v1/members/{owner_id}"),
            Some(json!({"role": "viewer"})),
        )
        .expect_problem(403, "owner_required");
    admin
        .call(
            "POST",
            "/v1/invitations",
            Some(json!({"email": "o2@owners.test", "role": "owner"})),
        )
        .expect_problem(403, "owner_required");
    // An admin:* key is no owner either.
    c.patch(
        &format!("/v1/members/{owner_id}"),
        &admin_key,
        json!({"role": "viewer"}),
    )
    .expect_problem(403, "owner_required");
    owner
        .call(
            "PATCH",
            &format!("/v1/members/{owner_id}"),
            Some(json!({"role": "admin"})),
        )
        .expect_problem(409, "last_owner");
    owner
        .call("DELETE", &format!("/v1/members/{owner_id}"), None)
        .expect_problem(409, "last_owner");
    let list = c.get("/v1/members", &admin_key).expect(200);
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2);
    assert!(!list.text.contains("pbkdf2") && !list.text.contains("password"));
    // Duplicate emails, in any case.
    owner
        .call(
            "POST",
            "/v1/invitations",
            Some(json!({"email": "ADMIN@owners.test", "role": "viewer"})),
        )
        .expect_problem(409, "email_taken");
}

#[test]
fn invitations_are_single_use_and_never_listed_with_their_token() {
    let c = client();
    let (team, admin_key) = team_with_owner(&c, "invites");
    let inv = c
        .post(
            "/v1/invitations",
            &admin_key,
            json!({"email": "new@invites.test", "role": "developer"}),
        )
        .expect(201);
    let token = inv.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with(&format!("kgi_{team}_")));
    let listed = c.get("/v1/invitations", &admin_key).expect(200);
    assert_eq!(listed.body["data"][0]["email"], "new@invites.test");
    assert!(!listed.text.contains(&token));
    let accept = |pw: &str| {
        c.call(
            "POST",
            "/v1/invitations/accept",
            None,
            Some(json!({"token": token, "password": pw})),
        )
    };
    accept("short").expect_problem(400, "invalid_field");
    accept(PASSWORD).expect(201);
    accept(PASSWORD).expect_problem(400, "invalid_invitation");
    c.call(
        "POST",
        "/v1/invitations/accept",
        None,
        Some(json!({"token": "kgi_nope", "password": PASSWORD})),
    )
    .expect_problem(400, "invalid_invitation");
    // A withdrawn invitation's token is dead.
    let inv2 = c
        .post(
            "/v1/invitations",
            &admin_key,
            json!({"email": "late@invites.test", "role": "viewer"}),
        )
        .expect(201);
    let id2 = inv2.body["id"].as_str().unwrap();
    c.call(
        "DELETE",
        &format!("/v1/invitations/{id2}"),
        Some(&admin_key),
        None,
    )
    .expect(204);
    c.call(
        "POST",
        "/v1/invitations/accept",
        None,
        Some(json!({"token": inv2.body["token"], "password": PASSWORD})),
    )
    .expect_problem(400, "invalid_invitation");
}

#[test]
fn sessions_refuse_cross_site_changes_tampered_cookies_and_two_credentials() {
    let c = client();
    let (team, admin_key) = team_with_owner(&c, "csrf");
    let s = sign_in(&c, &team, "owner@csrf.test", PASSWORD);
    let body = json!({"name": "from evil"}).to_string();
    for headers in [
        vec![("Origin", "https://evil.example")],
        vec![("Sec-Fetch-Site", "cross-site")],
    ] {
        let mut h = vec![
            ("Cookie", s.cookie.as_str()),
            ("Content-Type", "application/json"),
        ];
        h.extend(headers);
        c.raw("POST", "/v1/api-keys", &h, Some(body.as_bytes()))
            .expect_problem(403, "csrf_rejected");
    }
    // Reads are not changes.
    c.raw(
        "GET",
        "/v1/api-keys",
        &[
            ("Cookie", s.cookie.as_str()),
            ("Sec-Fetch-Site", "cross-site"),
        ],
        None,
    )
    .expect(200);
    let keys = c.get("/v1/api-keys", &admin_key).expect(200);
    assert!(!keys.text.contains("from evil"));
    // A tampered cookie, or one of the right shape that no session has.
    // (Its last character changed: to `y` if it was an `x`, so that it always differs.)
    let last = if s.cookie.ends_with('x') { 'y' } else { 'x' };
    let tampered = format!("{}{last}", &s.cookie[..s.cookie.len() - 1]);
    c.raw("GET", "/v1/me", &[("Cookie", tampered.as_str())], None)
        .expect_problem(401, "invalid_session");
    c.raw(
        "GET",
        "/v1/me",
        &[("Cookie", "__Host-keygate_session=garbage")],
        None,
    )
    .expect_problem(401, "invalid_session");
    // A key and a session at once: which acts would be a guess.
    let auth = format!("Bearer {admin_key}");
    c.raw(
        "GET",
        "/v1/api-keys",
        &[
            ("Cookie", s.cookie.as_str()),
            ("Authorization", auth.as_str()),
        ],
        None,
    )
    .expect_problem(400, "ambiguous_credentials");
    // Endpoints about the calling key or member say which credential they need.
    s.call("GET", "/v1/api-keys/current", None)
        .expect_problem(400, "key_required");
    c.get("/v1/me", &admin_key)
        .expect_problem(401, "session_required");
}

#[test]
fn a_password_change_ends_every_other_session() {
    let c = client();
    let (team, _) = team_with_owner(&c, "pwchange");
    let a = sign_in(&c, &team, "owner@pwchange.test", PASSWORD);
    let b = sign_in(&c, &team, "owner@pwchange.test", PASSWORD);
    a.call(
        "POST",
        "/v1/me/password",
        Some(json!({"current_password": "wrong one", "new_password": "a brand new password"})),
    )
    .expect_problem(400, "wrong_password");
    a.call(
        "POST",
        "/v1/me/password",
        Some(json!({"current_password": PASSWORD, "new_password": "a brand new password"})),
    )
    .expect(204);
    a.call("GET", "/v1/me", None).expect(200);
    b.call("GET", "/v1/me", None)
        .expect_problem(401, "invalid_session");
    sign_in(&c, &team, "owner@pwchange.test", "a brand new password");
}
