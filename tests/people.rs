//! End to end, through workerd with real KV and Durable Objects: the rules of contract 1.2,
//! "Granting through members is granting" and "Sign-in and password guessing" (issue 17):
//! giving a role needs what it holds, a demoted inviter's invitations are withdrawn, the
//! sign-in throttle is burst-safe and locks nobody out, unknown teams store nothing, people are
//! bounded, a wrong current password is a guess, and members are rate-limited.

mod support;

use serde_json::{json, Value};
use support::{client, team_with_owner, Client, Resp, Server, ADMIN, PASSWORD};

/// A browser's session from one client address.
struct Session<'a> {
    c: &'a Client,
    cookie: String,
    ip: String,
}

impl Session<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let mut h = vec![
            ("Cookie", self.cookie.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", self.c.base.as_str()),
            ("CF-Connecting-IP", self.ip.as_str()),
        ];
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

fn try_sign_in(c: &Client, ip: &str, team: &str, email: &str, password: &str) -> Resp {
    let body = json!({"team_id": team, "email": email, "password": password}).to_string();
    c.raw(
        "POST",
        "/v1/session",
        &[
            ("Content-Type", "application/json"),
            ("CF-Connecting-IP", ip),
        ],
        Some(body.as_bytes()),
    )
}

fn sign_in<'a>(c: &'a Client, ip: &str, team: &str, email: &str) -> Session<'a> {
    let r = try_sign_in(c, ip, team, email, PASSWORD).expect(200);
    Session {
        c,
        cookie: cookie_of(&r),
        ip: ip.to_owned(),
    }
}

fn accept(c: &Client, token: &str) -> Resp {
    c.call(
        "POST",
        "/v1/invitations/accept",
        None,
        Some(json!({"token": token, "password": PASSWORD})),
    )
}

/// Invites `email` as `role` by `by` and accepts: the new member's id.
fn member(c: &Client, by: &Session, email: &str, role: &str) -> String {
    let inv = by
        .call(
            "POST",
            "/v1/invitations",
            Some(json!({"email": email, "role": role})),
        )
        .expect(201);
    let r = accept(c, inv.body["token"].as_str().unwrap()).expect(201);
    r.body["member"]["id"].as_str().unwrap().to_owned()
}

#[test]
fn rule_1_a_key_with_members_write_alone_can_neither_invite_nor_promote() {
    let c = client();
    let (team, admin) = team_with_owner(&c, "escalate");
    let owner = sign_in(&c, "198.51.100.1", &team, "owner@escalate.test");
    let viewer = member(&c, &owner, "viewer@escalate.test", "viewer");
    let (_, writer, _) = c.key(
        &admin,
        json!({"name": "members only", "permissions": ["members:write"]}),
    );
    let r = c
        .post(
            "/v1/invitations",
            &writer,
            json!({"email": "evil@escalate.test", "role": "admin"}),
        )
        .expect_problem(403, "insufficient_permissions");
    assert!(
        r.text.contains("admin:*"),
        "names what is missing: {}",
        r.text
    );
    c.patch(
        &format!("/v1/members/{viewer}"),
        &writer,
        json!({"role": "admin"}),
    )
    .expect_problem(403, "insufficient_permissions");
    let list = c.get("/v1/invitations", &admin).expect(200);
    assert_eq!(list.body["data"], json!([]), "nothing was stored");
    // The admin key holds everything an admin does: it may.
    c.patch(
        &format!("/v1/members/{viewer}"),
        &admin,
        json!({"role": "admin"}),
    )
    .expect(200);
}

#[test]
fn rule_2_a_demoted_admins_stashed_invitation_answers_410() {
    let c = client();
    let (team, _) = team_with_owner(&c, "stash");
    let owner = sign_in(&c, "198.51.100.2", &team, "owner@stash.test");
    let admin_id = member(&c, &owner, "admin@stash.test", "admin");
    let admin = sign_in(&c, "198.51.100.3", &team, "admin@stash.test");
    let stashed = admin
        .call(
            "POST",
            "/v1/invitations",
            Some(json!({"email": "accomplice@stash.test", "role": "admin"})),
        )
        .expect(201);
    owner
        .call(
            "PATCH",
            &format!("/v1/members/{admin_id}"),
            Some(json!({"role": "viewer"})),
        )
        .expect(200);
    let token = stashed.body["token"].as_str().unwrap();
    accept(&c, token).expect_problem(410, "invalid_invitation");
    let list = owner.call("GET", "/v1/members", None).expect(200);
    assert_eq!(
        list.body["data"].as_array().unwrap().len(),
        2,
        "no one added"
    );
}

#[test]
fn rule_3_a_burst_gets_ten_guesses_and_the_owner_still_signs_in_elsewhere() {
    let c = client();
    let (team, _) = team_with_owner(&c, "burst");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..40)
            .map(|_| {
                let (c, team) = (&c, &team);
                s.spawn(move || {
                    try_sign_in(c, "203.0.113.66", team, "owner@burst.test", "a wrong guess").status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(evaluated + refused, 40, "{statuses:?}");
    assert!(evaluated <= 10, "{evaluated} guesses were evaluated");
    let r = try_sign_in(&c, "203.0.113.66", &team, "owner@burst.test", PASSWORD)
        .expect_problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    // The same /64 is the same client; the owner, from elsewhere, is not locked out.
    try_sign_in(&c, "198.51.100.4", &team, "owner@burst.test", PASSWORD).expect(200);
    for _ in 0..10 {
        try_sign_in(&c, "2001:db8:5:6::1", &team, "owner@burst.test", "wrong").expect(401);
    }
    try_sign_in(
        &c,
        "2001:db8:5:6:ffff::2",
        &team,
        "owner@burst.test",
        PASSWORD,
    )
    .expect_problem(429, "rate_limited");
}

/// The team objects workerd keeps on disk (their SQLite files).
fn team_object_files(dir: &std::path::Path) -> usize {
    fn walk(p: &std::path::Path, n: &mut usize) {
        for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, n);
            } else if path.to_string_lossy().contains("TeamObject")
                && path.extension().is_some_and(|x| x == "sqlite")
            {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    walk(dir, &mut n);
    n
}

#[test]
fn rule_4_naming_a_team_that_does_not_exist_stores_nothing() {
    let dir = std::env::temp_dir().join(format!("keygate-people-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = Server::start(Some(&dir));
    let c = Client::new(&server);
    let (team, _) = team_with_owner(&c, "exists");
    try_sign_in(&c, "198.51.100.5", &team, "owner@exists.test", PASSWORD).expect(200);
    let before = team_object_files(&dir);
    assert!(before >= 1, "the real team's object is on disk");
    for i in 0..6 {
        let ghost = format!("team_ghost{i:015}");
        let r = try_sign_in(&c, "198.51.100.5", &ghost, "owner@exists.test", PASSWORD)
            .expect_problem(401, "invalid_credentials");
        assert!(r.header("set-cookie").is_none());
        let cookie = format!("__Host-keygate_session=kgs_{ghost}_{}", "a".repeat(43));
        c.raw(
            "GET",
            "/v1/me",
            &[
                ("Cookie", cookie.as_str()),
                ("Sec-Fetch-Site", "same-origin"),
            ],
            None,
        )
        .expect_problem(401, "invalid_session");
        let token = format!("kgi_{ghost}_{}", "b".repeat(43));
        accept(&c, &token).expect_problem(400, "invalid_invitation");
    }
    assert_eq!(team_object_files(&dir), before, "no team object was made");
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rule_5_members_invitations_and_sessions_are_bounded() {
    let c = client();
    let (team, admin) = team_with_owner(&c, "bounded");
    let r = c
        .patch(
            &format!("/v1/teams/{team}"),
            ADMIN,
            json!({"limits": {"max_members": 2}}),
        )
        .expect(200);
    assert_eq!(r.body["limits"]["max_members"], 2);
    let owner = sign_in(&c, "198.51.100.6", &team, "owner@bounded.test");
    member(&c, &owner, "second@bounded.test", "viewer");
    let r = c
        .post(
            "/v1/invitations",
            &admin,
            json!({"email": "third@bounded.test", "role": "viewer"}),
        )
        .expect_problem(409, "limit_reached");
    assert!(r.text.contains("max_members"), "{}", r.text);
    c.patch(
        &format!("/v1/teams/{team}"),
        ADMIN,
        json!({"limits": {"max_members": 1000}}),
    )
    .expect(200);
    // (By the owner's session: the admin key's own rate would refuse first.)
    for i in 0..100 {
        owner
            .call(
                "POST",
                "/v1/invitations",
                Some(json!({"email": format!("p{i}@bounded.test"), "role": "viewer"})),
            )
            .expect(201);
    }
    owner
        .call(
            "POST",
            "/v1/invitations",
            Some(json!({"email": "p100@bounded.test", "role": "viewer"})),
        )
        .expect_problem(409, "limit_reached");
    // 50 live sessions per member: the 51st sign-in ends the oldest.
    let first = sign_in(&c, "198.51.100.7", &team, "second@bounded.test");
    first.call("GET", "/v1/me", None).expect(200);
    for _ in 0..50 {
        sign_in(&c, "198.51.100.7", &team, "second@bounded.test");
    }
    first
        .call("GET", "/v1/me", None)
        .expect_problem(401, "invalid_session");
}

#[test]
fn rule_7_a_wrong_current_password_is_a_guess() {
    let c = client();
    let (team, _) = team_with_owner(&c, "guess");
    let s = sign_in(&c, "198.51.100.8", &team, "owner@guess.test");
    let change = |current: &str| {
        s.call(
            "POST",
            "/v1/me/password",
            Some(json!({"current_password": current, "new_password": "a brand new passphrase"})),
        )
    };
    for i in 0..10 {
        change(&format!("guess number {i}")).expect_problem(400, "wrong_password");
    }
    let r = change("guess number 10").expect_problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    // Even the right one waits, from this client.
    change(PASSWORD).expect_problem(429, "rate_limited");
}

#[test]
fn rule_8_members_are_rate_limited_and_refused_sign_ins_audited_with_a_count() {
    let c = client();
    let (team, admin) = team_with_owner(&c, "flood");
    for _ in 0..5 {
        try_sign_in(&c, "203.0.113.80", &team, "owner@flood.test", "nope nope").expect(401);
    }
    let s = sign_in(&c, "198.51.100.9", &team, "owner@flood.test");
    let mut limited = None;
    for i in 0..700 {
        let r = s.call("GET", "/v1/me", None);
        if r.status == 429 {
            limited = Some((i, r));
            break;
        }
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let (n, r) = limited.expect("no 429 within 700 requests");
    assert!(n <= 600, "refused only after {n}");
    let r = r.expect_problem(429, "rate_limited");
    assert_eq!(r.header("x-ratelimit-limit"), Some("600"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert!(r.header("retry-after").is_some() && r.header("ratelimit").is_some());
    // Five refusals from one client within a minute: one entry (the first), with its count.
    let mut entries = Vec::new();
    for _ in 0..50 {
        let log = c
            .get("/v1/audit-log?action=session.refused", &admin)
            .expect(200);
        entries = log.body["data"].as_array().unwrap().clone();
        if !entries.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["changes"]["count"], 1);
    assert_eq!(entries[0]["target"]["id"], "owner@flood.test");
}
