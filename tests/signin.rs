//! End to end, through workerd with real KV and Durable Objects: signing in with an email alone
//! (contract 1.2, "Embedding and accounts"; issue 23). The global email index finds the teams:
//! one match signs in, several answer the choice, an unknown email answers as a wrong password
//! and touches no team object, a removed member is found no more, and every attempt is counted
//! by the throttle before the password is compared.

mod support;

use serde_json::{json, Value};
use support::{Client, Resp, Server, PASSWORD};

fn team(c: &Client, name: &str, email: &str, password: &str) -> (String, String) {
    support::team_and_key(&support::new_team_with_owner(c, name, email, password))
}

fn sign_in(c: &Client, ip: &str, body: Value) -> Resp {
    c.raw(
        "POST",
        "/v1/session",
        &[
            ("Content-Type", "application/json"),
            ("CF-Connecting-IP", ip),
        ],
        Some(body.to_string().as_bytes()),
    )
}

fn by_email(c: &Client, ip: &str, email: &str, password: &str) -> Resp {
    sign_in(c, ip, json!({"email": email, "password": password}))
}

/// The team object files workerd keeps on disk (as tests/people.rs counts them).
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

/// The team's refused sign-ins in its audit log, once `want` have arrived (entries reach the
/// log a moment after the refusal) or after two seconds.
fn refused_entries(c: &Client, key: &str, want: usize) -> usize {
    let mut n = 0;
    for _ in 0..20 {
        let log = c
            .get("/v1/audit-log?action=session.refused", key)
            .expect(200);
        n = log.body["data"].as_array().unwrap().len();
        if n >= want {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    n
}

#[test]
fn email_alone_signs_in_to_the_one_team_and_offers_the_choice_of_several() {
    let c = Client::new(Server::shared());
    let (solo, _) = team(&c, "Solo", "solo@signin.test", PASSWORD);
    let r = by_email(&c, "198.51.100.40", "SOLO@signin.test", PASSWORD).expect(200);
    assert_eq!(r.body["team"]["id"], solo.as_str());
    assert!(r
        .header("set-cookie")
        .unwrap()
        .contains("__Host-keygate_session="));

    // The same email in three teams; the password matches in two of them.
    let (a, _) = team(&c, "Alpha", "many@signin.test", PASSWORD);
    let (b, _) = team(&c, "Beta", "many@signin.test", PASSWORD);
    let (other, other_key) = team(&c, "Gamma", "many@signin.test", "another long password");
    let r = by_email(&c, "198.51.100.41", "many@signin.test", PASSWORD).expect(200);
    assert!(r.header("set-cookie").is_none(), "no session yet");
    let mut teams: Vec<(String, String)> = r.body["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().into(),
                t["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    teams.sort_by(|x, y| x.1.cmp(&y.1));
    assert_eq!(
        teams,
        vec![(a.clone(), "Alpha".into()), (b.clone(), "Beta".into())]
    );
    assert!(!r.text.contains(&other));
    // The team where the password did not match saw a refused sign-in.
    assert_eq!(refused_entries(&c, &other_key, 1), 1);
    // Naming one of them signs in to it.
    let body = json!({"team_id": b, "email": "many@signin.test", "password": PASSWORD});
    let r = sign_in(&c, "198.51.100.41", body).expect(200);
    assert_eq!(r.body["team"]["id"], b.as_str());
    // The other password signs in to its one team.
    let r = by_email(
        &c,
        "198.51.100.41",
        "many@signin.test",
        "another long password",
    );
    assert_eq!(r.expect(200).body["team"]["id"], other.as_str());
}

#[test]
fn an_invited_member_is_found_by_email_until_removed() {
    let c = Client::new(Server::shared());
    let (t, key) = team(&c, "Invites", "owner@invites.test", PASSWORD);
    let inv = c
        .post(
            "/v1/invitations",
            &key,
            json!({"email": "guest@invites.test", "role": "viewer"}),
        )
        .expect(201);
    let r = c
        .call(
            "POST",
            "/v1/invitations/accept",
            None,
            Some(json!({"token": inv.body["token"], "password": PASSWORD})),
        )
        .expect(201);
    let id = r.body["member"]["id"].as_str().unwrap().to_owned();
    let r = by_email(&c, "198.51.100.42", "guest@invites.test", PASSWORD).expect(200);
    assert_eq!(r.body["team"]["id"], t.as_str());
    c.delete(&format!("/v1/members/{id}"), &key).expect(204);
    by_email(&c, "198.51.100.42", "guest@invites.test", PASSWORD)
        .expect_problem(401, "invalid_credentials");
}

#[test]
fn wrong_passwords_by_email_are_counted_by_the_throttle() {
    let c = Client::new(Server::shared());
    team(&c, "Guessed", "guessed@signin.test", PASSWORD);
    for _ in 0..10 {
        by_email(&c, "203.0.113.77", "guessed@signin.test", "a wrong guess")
            .expect_problem(401, "invalid_credentials");
    }
    let r = by_email(&c, "203.0.113.77", "guessed@signin.test", PASSWORD);
    r.expect_problem(429, "rate_limited");
}

#[test]
fn an_unknown_email_answers_as_a_wrong_password_and_touches_no_team() {
    let dir = std::env::temp_dir().join(format!("keygate-signin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = Server::start(Some(&dir));
    let c = Client::new(&server);
    let (_, key) = team(&c, "Known", "known@signin.test", PASSWORD);
    let wrong = by_email(&c, "198.51.100.43", "known@signin.test", "a wrong guess");
    let wrong = wrong.expect_problem(401, "invalid_credentials");
    assert_eq!(refused_entries(&c, &key, 1), 1);
    let before = team_object_files(&dir);
    assert!(before >= 1, "the real team's object is on disk");
    for i in 0..3 {
        let r = by_email(
            &c,
            "198.51.100.43",
            &format!("nobody{i}@signin.test"),
            PASSWORD,
        )
        .expect_problem(401, "invalid_credentials");
        assert!(r.header("set-cookie").is_none());
        assert_eq!(r.body["detail"], wrong.body["detail"], "the same answer");
    }
    assert_eq!(team_object_files(&dir), before, "no team object was made");
    assert_eq!(
        refused_entries(&c, &key, 1),
        1,
        "the known team saw nothing"
    );
    // The same time, roughly: each costs one password derivation (an unknown email's against
    // a decoy). Medians of five, printed for the record.
    let median = |email: &str, password: &str| {
        let mut t: Vec<f64> = (0..5)
            .map(|i| {
                let start = std::time::Instant::now();
                let ip = format!("198.51.100.{}", 100 + i);
                by_email(&c, &ip, email, password).expect_problem(401, "invalid_credentials");
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        t.sort_by(|a, b| a.total_cmp(b));
        t[2]
    };
    let wrong_ms = median("known@signin.test", "another wrong guess");
    let unknown_ms = median("nobody@signin.test", PASSWORD);
    eprintln!(
        "sign-in by email: wrong password {wrong_ms:.1} ms, unknown email {unknown_ms:.1} ms"
    );
    assert!(
        unknown_ms > wrong_ms / 3.0,
        "an unknown email is answered too fast: {unknown_ms:.1} ms against {wrong_ms:.1} ms"
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
