//! End to end, through workerd with real KV and Durable Objects: two-factor sign-in (contract
//! 1.2, "Embedding and accounts"; issue 23). The codes are computed here from the secret the
//! API showed (RFC 6238 with the RustCrypto HMAC-SHA1, not keygate's code): enrol, confirm,
//! sign in with a code, a used code refused, recovery codes once, wrong codes counted by the
//! throttle, disable; and a team's requirement limiting members without it to enrolling.

mod support;

use hmac::{Mac, SimpleHmac};
use serde_json::{json, Value};
use support::{Client, Resp, Server, ADMIN};

const PASSWORD: &str = "correct horse battery staple";

/// The RFC 6238 code of `secret` (base32) at 30-second step `step`.
fn code(secret: &str, step: u64) -> String {
    let key = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    let mut mac = <SimpleHmac<sha1::Sha1> as Mac>::new_from_slice(&key).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 0x0f) as usize;
    let n = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]) % 1_000_000;
    format!("{n:06}")
}

fn step_now() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.unwrap().as_secs() / 30
}

fn team(c: &Client, name: &str, email: &str) -> (String, String) {
    let r = c
        .post(
            "/v1/teams",
            ADMIN,
            json!({"name": name, "owner": {"email": email, "password": PASSWORD}}),
        )
        .expect(201);
    (
        r.body["team"]["id"].as_str().unwrap().to_owned(),
        r.body["api_key"]["key"].as_str().unwrap().to_owned(),
    )
}

fn sign_in(c: &Client, ip: &str, email: &str, code: Option<&str>) -> Resp {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
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

/// A browser's session (the dashboard's origin).
struct Session<'a> {
    c: &'a Client,
    cookie: String,
}

impl<'a> Session<'a> {
    fn of(c: &'a Client, r: &Resp) -> Self {
        let set = r.header("set-cookie").expect("a Set-Cookie header");
        Session {
            c,
            cookie: set.split(';').next().unwrap().to_owned(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let mut h = vec![
            ("Cookie", self.cookie.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", self.c.base.as_str()),
        ];
        if bytes.is_some() {
            h.push(("Content-Type", "application/json"));
        }
        self.c.raw(method, path, &h, bytes.as_deref())
    }
}

/// Enrols and confirms the session's member: (secret, the step confirmed, recovery codes).
fn turn_on(s: &Session) -> (String, u64, Vec<String>) {
    let e = s.call("POST", "/v1/me/totp", None).expect(200);
    let secret = e.body["secret"].as_str().unwrap().to_owned();
    let url = e.body["otpauth_url"].as_str().unwrap();
    assert!(url.starts_with("otpauth://totp/") && url.contains(&format!("secret={secret}")));
    s.call(
        "POST",
        "/v1/me/totp/confirm",
        Some(json!({"code": "000000"})),
    )
    .expect_problem(400, "invalid_code");
    let step = step_now();
    let r = s
        .call(
            "POST",
            "/v1/me/totp/confirm",
            Some(json!({"code": code(&secret, step)})),
        )
        .expect(200);
    let codes: Vec<String> = r.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, step, codes)
}

#[test]
fn two_factor_sign_in_each_code_once_wrong_codes_counted_then_disabled() {
    let c = Client::new(Server::shared());
    let email = "two@totp.test";
    let (_, key) = team(&c, "Two factors", email);
    let s = Session::of(&c, &sign_in(&c, "198.51.100.60", email, None).expect(200));
    let (secret, step, codes) = turn_on(&s);
    let me = s.call("GET", "/v1/me", None).expect(200);
    assert_eq!(me.body["totp"], json!({"enabled": true, "required": false}));
    s.call("POST", "/v1/me/totp", None)
        .expect_problem(409, "totp_enabled");

    let ip = "198.51.100.61";
    sign_in(&c, ip, email, None).expect_problem(401, "totp_required");
    // The confirming code is used already.
    let used = code(&secret, step);
    sign_in(&c, ip, email, Some(&used)).expect_problem(401, "totp_required");
    // A recovery code signs in, once.
    let r = sign_in(&c, ip, email, Some(&codes[0].to_uppercase())).expect(200);
    assert!(r.header("set-cookie").is_some());
    sign_in(&c, ip, email, Some(&codes[0])).expect_problem(401, "totp_required");
    // The next step's code signs in (±1 step), once.
    let next = code(&secret, step_now().max(step) + 1);
    sign_in(&c, ip, email, Some(&next)).expect(200);
    sign_in(&c, ip, email, Some(&next)).expect_problem(401, "totp_required");

    // Wrong codes are failed sign-ins: 10 from one client, then 429 even with a right one.
    let guesser = "203.0.113.61";
    for _ in 0..10 {
        sign_in(&c, guesser, email, Some("123456")).expect_problem(401, "totp_required");
    }
    sign_in(&c, guesser, email, Some(&codes[1])).expect_problem(429, "rate_limited");

    // Nothing of a secret or a code in the audit log.
    let mut log = c.get("/v1/audit-log?limit=100", &key).expect(200);
    for _ in 0..20 {
        if log.text.contains("member.totp_enabled") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        log = c.get("/v1/audit-log?limit=100", &key).expect(200);
    }
    assert!(log.text.contains("member.totp_enabled"), "{}", log.text);
    for secretish in [
        secret.as_str(),
        used.as_str(),
        codes[0].as_str(),
        next.as_str(),
    ] {
        assert!(!log.text.contains(secretish));
    }

    // Off with a recovery code (a wrong code first); then the password alone signs in.
    s.call(
        "POST",
        "/v1/me/totp/disable",
        Some(json!({"code": "999999"})),
    )
    .expect_problem(400, "invalid_code");
    s.call(
        "POST",
        "/v1/me/totp/disable",
        Some(json!({"code": codes[2]})),
    )
    .expect(204);
    let me = s.call("GET", "/v1/me", None).expect(200);
    assert_eq!(me.body["totp"]["enabled"], false);
    sign_in(&c, ip, email, None).expect(200);
}

#[test]
fn a_team_requirement_limits_members_without_two_factors_to_enrolling() {
    let c = Client::new(Server::shared());
    let (t, key) = team(&c, "Required", "owner@required.test");
    let owner = Session::of(
        &c,
        &sign_in(&c, "198.51.100.62", "owner@required.test", None).expect(200),
    );
    let inv = c
        .post(
            "/v1/invitations",
            &key,
            json!({"email": "dev@required.test", "role": "developer"}),
        )
        .expect(201);
    c.call(
        "POST",
        "/v1/invitations/accept",
        None,
        Some(json!({"token": inv.body["token"], "password": PASSWORD})),
    )
    .expect(201);
    let dev = Session::of(
        &c,
        &sign_in(&c, "198.51.100.63", "dev@required.test", None).expect(200),
    );
    // Only an owner (or the operator) sets it, only for its own team, and only that field.
    let path = format!("/v1/teams/{t}");
    dev.call("PATCH", &path, Some(json!({"require_totp": true})))
        .expect_problem(403, "insufficient_permissions");
    c.patch(&path, &key, json!({"require_totp": true}))
        .expect_problem(403, "owner_required");
    owner
        .call("PATCH", &path, Some(json!({"name": "Renamed"})))
        .expect_problem(403, "insufficient_permissions");
    let (other, _) = team(&c, "Other", "owner@other-required.test");
    owner
        .call(
            "PATCH",
            &format!("/v1/teams/{other}"),
            Some(json!({"require_totp": true})),
        )
        .expect_problem(404, "not_found");
    let r = owner
        .call("PATCH", &path, Some(json!({"require_totp": true})))
        .expect(200);
    assert_eq!(r.body["require_totp"], true);

    // Existing sessions without two factors are limited at once; a new sign-in says so.
    dev.call("GET", "/v1/api-keys", None)
        .expect_problem(403, "totp_enrolment_required");
    let r = sign_in(&c, "198.51.100.63", "dev@required.test", None).expect(200);
    assert_eq!(r.body["totp_enrolment_required"], true);
    let fresh = Session::of(&c, &r);
    let me = fresh.call("GET", "/v1/me", None).expect(200);
    assert_eq!(me.body["totp"], json!({"enabled": false, "required": true}));
    fresh
        .call(
            "POST",
            "/v1/invitations",
            Some(json!({"email": "x@required.test", "role": "viewer"})),
        )
        .expect_problem(403, "totp_enrolment_required");
    turn_on(&fresh);
    fresh.call("GET", "/v1/api-keys", None).expect(200);
    // The operator turns it off.
    let r = c
        .patch(&path, ADMIN, json!({"require_totp": false}))
        .expect(200);
    assert!(r.body.get("require_totp").is_none());
    owner.call("GET", "/v1/api-keys", None).expect(200);
}
