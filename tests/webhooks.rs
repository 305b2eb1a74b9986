//! End to end, through workerd with real KV and Durable Objects and a real HTTP receiver on
//! 127.0.0.1: signed webhook deliveries of key events, retries with the same id, `410`, a
//! receiver that hangs, expiry notices and renewal run by the keys' own alarms (a deadline
//! already past fires at once, so nothing here waits for days), and rolling keys.

mod support;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::{Duration, Instant};
use support::receiver::{status, Received, Receiver, Reply};
use support::{in_secs, Client, Server};

fn client() -> Client {
    Client::new(Server::shared())
}

const SOON: Duration = Duration::from_secs(10);

/// An event none of these tests makes: an endpoint for it receives only what a test sends it
/// (`webhook.test` goes to its endpoint whatever it subscribes to), never the team's first key's
/// `api_key.created`, which can reach the events object after the endpoint is made.
const QUIET: &str = "member.removed";

/// A team with an endpoint for `events` at a new receiver; returns (admin key, webhook id,
/// secret, receiver).
fn team_with_webhook(
    c: &Client,
    events: Value,
    script: &[Reply],
) -> (String, String, String, Receiver) {
    let (_, admin) = c.team("Hooked");
    let rx = Receiver::start(script);
    let r = c
        .post(
            "/v1/webhooks",
            &admin,
            json!({"url": rx.url, "events": events, "description": "test"}),
        )
        .expect(201);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(r.body["enabled"], true);
    let id = r.body["id"].as_str().unwrap().to_owned();
    // Never again: not in a read, not in a listing.
    let got = c.get(&format!("/v1/webhooks/{id}"), &admin).expect(200);
    assert!(got.body.get("secret").is_none() && !got.text.contains(&secret));
    assert!(!c
        .get("/v1/webhooks", &admin)
        .expect(200)
        .text
        .contains(&secret));
    (admin, id, secret, rx)
}

/// Checks a delivery's Standard Webhooks signature with `secret`, computed here with `hmac`
/// (not keygate's code): `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
fn signed_with(r: &Received, secret: &str) -> bool {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let id = &r.headers["webhook-id"];
    let ts = &r.headers["webhook-timestamp"];
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{}", r.body).as_bytes());
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    r.headers["webhook-signature"]
        .split(' ')
        .any(|s| s == expected)
}

fn kinds(got: &[Received]) -> Vec<String> {
    got.iter().map(Received::kind).collect()
}

#[test]
fn key_events_arrive_signed_and_never_carry_the_secret() {
    let c = client();
    let (admin, _, secret, rx) = team_with_webhook(&c, json!(["*"]), &[]);
    let (id, key, _) = c.key(&admin, json!({"name": "k", "permissions": ["tasks:read"]}));
    c.patch(
        &format!("/v1/api-keys/{id}"),
        &admin,
        json!({"name": "renamed"}),
    )
    .expect(200);
    let rolled = c
        .post(
            &format!("/v1/api-keys/{id}/roll"),
            &admin,
            json!({"expire_old_in": 60}),
        )
        .expect(201);
    let new_id = rolled.body["id"].as_str().unwrap().to_owned();
    c.post(&format!("/v1/api-keys/{new_id}/disable"), &admin, json!({}))
        .expect(200);
    c.delete(&format!("/v1/api-keys/{new_id}"), &admin)
        .expect(204);
    // Only the events of these two keys (the team's first key may be reported too, if its
    // creation reached the events object after the endpoint was made).
    let ours = |g: &[Received]| -> Vec<Received> {
        g.iter()
            .filter(|r| {
                [id.as_str(), new_id.as_str()]
                    .contains(&r.json()["data"]["id"].as_str().unwrap_or(""))
            })
            .cloned()
            .collect()
    };
    rx.wait(SOON, |g| ours(g).len() >= 7);
    std::thread::sleep(Duration::from_millis(500));
    let got = ours(&rx.received());
    let mut seen = kinds(&got);
    seen.sort();
    assert_eq!(
        seen,
        [
            "api_key.created",
            "api_key.created",
            "api_key.deleted",
            "api_key.disabled",
            // The rolled key has a minute left: its 1-day notice, at once.
            "api_key.expiring",
            "api_key.rolled",
            "api_key.updated"
        ],
        "each change once"
    );
    for r in &got {
        assert!(signed_with(r, &secret), "signature of {}", r.body);
        let body = r.json();
        assert_eq!(r.headers["webhook-id"], body["id"].as_str().unwrap());
        assert!(body["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(r.headers["content-type"], "application/json");
        let ts: i64 = r.headers["webhook-timestamp"].parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((now - ts).abs() < 60, "a current timestamp");
        assert!(!r.body.contains(&key), "never the secret");
        assert!(body["data"].get("hash").is_none() && body["data"].get("key").is_none());
        assert_eq!(body["team_id"].as_str().unwrap().len(), 25);
    }
    let by_kind = |k: &str| got.iter().find(|r| r.kind() == k).unwrap().json();
    assert_eq!(by_kind("api_key.updated")["data"]["name"], "renamed");
    assert_eq!(by_kind("api_key.rolled")["data"]["id"], id.as_str());
    assert_eq!(
        by_kind("api_key.rolled")["data"]["new_key_id"],
        new_id.as_str()
    );
    assert_eq!(by_kind("api_key.disabled")["data"]["status"], "disabled");
    assert_eq!(by_kind("api_key.deleted")["data"]["id"], new_id.as_str());
}

#[test]
fn a_failed_delivery_is_retried_with_the_same_id_and_logged() {
    let c = client();
    let (admin, hook, secret, rx) =
        team_with_webhook(&c, json!(["api_key.deleted"]), &[status(500)]);
    let t = c
        .post(&format!("/v1/webhooks/{hook}/test"), &admin, json!({}))
        .expect(202);
    let event = t.body["event_id"].as_str().unwrap().to_owned();
    let got = rx.wait_for(2, Duration::from_secs(15));
    assert_eq!(got.len(), 2, "the first attempt failed, the retry came");
    assert_eq!(got[0].headers["webhook-id"], event);
    assert_eq!(
        got[1].headers["webhook-id"], event,
        "the same id: receivers deduplicate by it"
    );
    assert_eq!(got[0].kind(), "webhook.test");
    assert!(got.iter().all(|r| signed_with(r, &secret)));
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_secs(4) && gap < Duration::from_secs(9),
        "about 5 s: {gap:?}"
    );
    let log = rx.wait(Duration::from_secs(2), |_| true);
    assert_eq!(log.len(), 2);
    let deliveries = c
        .get(&format!("/v1/webhooks/{hook}/deliveries"), &admin)
        .expect(200);
    let rows = deliveries.body["data"].as_array().unwrap();
    let summary: Vec<(i64, i64)> = rows
        .iter()
        .map(|d| {
            (
                d["attempt"].as_i64().unwrap(),
                d["status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [(2, 200), (1, 500)], "newest first");
    assert_eq!(rows[0]["event_id"], event.as_str());
    assert_eq!(rows[0]["type"], "webhook.test");
    // A manual retry sends it once more, with the same id.
    c.post(
        &format!("/v1/webhooks/{hook}/deliveries/{event}/retry"),
        &admin,
        json!({}),
    )
    .expect(202);
    let got = rx.wait_for(3, SOON);
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].headers["webhook-id"], event);
    c.post(
        &format!("/v1/webhooks/{hook}/deliveries/evt_00000000000000000000/retry"),
        &admin,
        json!({}),
    )
    .expect_problem(404, "not_found");
}

#[test]
fn gone_disables_the_endpoint_at_once() {
    let c = client();
    let (admin, hook, _, rx) = team_with_webhook(&c, json!([QUIET]), &[status(410)]);
    c.post(&format!("/v1/webhooks/{hook}/test"), &admin, json!({}))
        .expect(202);
    rx.wait_for(1, SOON);
    let start = Instant::now();
    let endpoint = loop {
        let e = c
            .get(&format!("/v1/webhooks/{hook}"), &admin)
            .expect(200)
            .body;
        if e["enabled"] == false || start.elapsed() > SOON {
            break e;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (
            endpoint["enabled"].clone(),
            endpoint["disabled_reason"].clone()
        ),
        (json!(false), json!("gone"))
    );
    // The 410 is not retried; enabling it again starts afresh.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(rx.received().len(), 1);
    let e = c
        .patch(
            &format!("/v1/webhooks/{hook}"),
            &admin,
            json!({"enabled": true}),
        )
        .expect(200);
    assert_eq!(
        (e.body["enabled"].clone(), e.body["disabled_reason"].clone()),
        (json!(true), Value::Null)
    );
}

#[test]
fn a_receiver_that_hangs_costs_ten_seconds_and_blocks_nothing() {
    let c = client();
    let hang = Reply {
        delay: Duration::from_secs(14),
        ..status(200)
    };
    let (admin, hook, _, rx) = team_with_webhook(&c, json!([QUIET]), &[hang]);
    let start = Instant::now();
    c.post(&format!("/v1/webhooks/{hook}/test"), &admin, json!({}))
        .expect(202);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "the request that made the event does not wait"
    );
    // The first attempt times out after 10 s and is retried ~5 s later.
    let got = rx.wait_for(2, Duration::from_secs(25));
    assert_eq!(got.len(), 2, "retried after the timeout");
    let log = c
        .get(&format!("/v1/webhooks/{hook}/deliveries"), &admin)
        .expect(200)
        .body;
    let first = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["attempt"] == 1)
        .unwrap()
        .clone();
    assert_eq!(first["status"], Value::Null);
    assert!(first["error"].as_str().unwrap().contains("10 s"), "{first}");
    let ms = first["duration_ms"].as_i64().unwrap();
    assert!((9_500..12_000).contains(&ms), "{ms} ms");
}

#[test]
fn expiry_notices_and_renewal_come_from_the_keys_own_alarms() {
    let c = client();
    let (admin, _, secret, rx) = team_with_webhook(
        &c,
        json!(["api_key.expiring", "api_key.renewed", "api_key.expired"]),
        &[],
    );
    // 10 days left: the 30-day notice at once, and only it.
    let (soon, _, _) = c.key(
        &admin,
        json!({"name": "soon", "expires_at": in_secs(10 * 86_400)}),
    );
    // auto_renew with 20 days left: renewed at once by its lifetime (20 days).
    let (renews, renew_key, created) = c.key(
        &admin,
        json!({"name": "renews", "expires_at": in_secs(20 * 86_400), "auto_renew": true}),
    );
    assert_eq!(created["auto_renew"], true);
    let got = rx.wait(SOON, |g| g.len() >= 2);
    std::thread::sleep(Duration::from_millis(1500));
    let got_after = rx.received();
    assert_eq!(got_after.len(), got.len(), "nothing more arrives");
    assert_eq!(got.len(), 2, "{:?}", kinds(&got));
    assert!(got.iter().all(|r| signed_with(r, &secret)));
    let expiring = got
        .iter()
        .find(|r| r.kind() == "api_key.expiring")
        .expect("expiring")
        .json();
    assert_eq!(expiring["data"]["id"], soon.as_str());
    assert_eq!(expiring["data"]["days_before_expiry"], 30);
    let renewed = got
        .iter()
        .find(|r| r.kind() == "api_key.renewed")
        .expect("renewed")
        .json();
    assert_eq!(renewed["data"]["id"], renews.as_str());
    assert_eq!(
        renewed["data"]["previous_expires_at"],
        created["expires_at"]
    );
    // The new expiry is in force in the key's object, and the same secret still works.
    let key = c
        .get(&format!("/v1/api-keys/{renews}"), &admin)
        .expect(200)
        .body;
    assert_eq!(key["expires_at"], renewed["data"]["expires_at"]);
    let old =
        chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
    let new = chrono::DateTime::parse_from_rfc3339(key["expires_at"].as_str().unwrap()).unwrap();
    let moved = (new - old).num_seconds();
    assert!(
        (20 * 86_400 - 5..=20 * 86_400 + 5).contains(&moved),
        "moved by its lifetime: {moved} s"
    );
    assert_eq!(c.verify(json!({"key": renew_key}))["valid"], true);
}

#[test]
fn roll_keeps_both_keys_working_for_the_overlap_or_revokes_at_once() {
    let c = client();
    let (_, admin) = c.team("Rolling");
    let (id, old_key, _) = c.key(
        &admin,
        json!({"name": "svc", "permissions": ["tasks:read"], "metadata": {"tier": "gold"}}),
    );
    let r = c
        .post(
            &format!("/v1/api-keys/{id}/roll"),
            &admin,
            json!({"expire_old_in": 3600}),
        )
        .expect(201);
    let new_key = r.body["key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, old_key);
    assert_eq!(r.body["rolled_from"], id.as_str());
    assert_eq!(r.body["name"], "svc");
    assert_eq!(r.body["metadata"], json!({"tier": "gold"}));
    assert_eq!(r.body["permissions"], json!(["tasks:read"]));
    for k in [&old_key, &new_key] {
        assert_eq!(
            c.verify(json!({"key": k}))["valid"],
            true,
            "both work during the overlap"
        );
    }
    let old = c
        .get(&format!("/v1/api-keys/{id}"), &admin)
        .expect(200)
        .body;
    let expires =
        chrono::DateTime::parse_from_rfc3339(old["expires_at"].as_str().unwrap()).unwrap();
    let left = (expires - chrono::Utc::now().fixed_offset()).num_seconds();
    assert!((3500..=3600).contains(&left), "{left}");
    // Overlap 0: the old key is refused on the very next request.
    let new_id = r.body["id"].as_str().unwrap().to_owned();
    let r2 = c
        .post(
            &format!("/v1/api-keys/{new_id}/roll"),
            &admin,
            json!({"expire_old_in": 0}),
        )
        .expect(201);
    let v = c.verify(json!({"key": new_key}));
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(false), json!("expired_key"))
    );
    assert_eq!(c.verify(json!({"key": r2.body["key"]}))["valid"], true);
    // An expired or disabled key cannot be rolled; bad overlaps are 400.
    c.post(&format!("/v1/api-keys/{new_id}/roll"), &admin, json!({}))
        .expect_problem(409, "key_inactive");
    let (d, _, _) = c.key(&admin, json!({"name": "d"}));
    c.post(&format!("/v1/api-keys/{d}/disable"), &admin, json!({}))
        .expect(200);
    c.post(&format!("/v1/api-keys/{d}/roll"), &admin, json!({}))
        .expect_problem(409, "key_inactive");
    for bad in [
        json!({"expire_old_in": -1}),
        json!({"expire_old_in": 2_592_001}),
        json!({"expire_old_in": "1h"}),
        json!({"overlap": 1}),
    ] {
        c.post(&format!("/v1/api-keys/{id}/roll"), &admin, bad)
            .expect(400);
    }
    // The default overlap is a day; an empty body is fine.
    let (e, _, _) = c.key(&admin, json!({"name": "e"}));
    c.call(
        "POST",
        &format!("/v1/api-keys/{e}/roll"),
        Some(&admin),
        None,
    )
    .expect(201);
    // A key that may not manage it cannot roll it (a read-only key).
    let (_, reader, _) = c.key(
        &admin,
        json!({"name": "r", "permissions": ["api_keys:read"]}),
    );
    c.post(&format!("/v1/api-keys/{e}/roll"), &reader, json!({}))
        .expect(403);
}

#[test]
fn webhook_input_is_checked_field_by_field() {
    let c = client();
    let (_, admin) = c.team("Inputs");
    let bad = [
        (
            json!({"url": "ftp://example.com/x", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://user:pw@example.com/x", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/x", "events": ["api_key.exploded"]}),
            "events[0]",
        ),
        (
            json!({"url": "https://example.com/x", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com/x", "events": ["*"], "description": "d".repeat(501)}),
            "description",
        ),
        (json!({"url": "https://example.com/x"}), "events"),
        (json!({"url": 5, "events": ["*"]}), "url"),
    ];
    for (body, field) in bad {
        let r = c.post("/v1/webhooks", &admin, body.clone()).expect(400);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("`{field}`")),
            "{body}: {}",
            r.text
        );
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    c.get("/v1/webhooks/wh_nope", &admin)
        .expect_problem(404, "not_found");
    // The team's limit (10 by default).
    for n in 0..10 {
        c.post(
            "/v1/webhooks",
            &admin,
            json!({"url": format!("https://example.com/{n}"), "events": ["*"]}),
        )
        .expect(201);
    }
    c.post(
        "/v1/webhooks",
        &admin,
        json!({"url": "https://example.com/x", "events": ["*"]}),
    )
    .expect_problem(409, "limit_reached");
    // Rotation: a new secret, once.
    let list = c.get("/v1/webhooks", &admin).expect(200).body;
    let hook = list["data"][0]["id"].as_str().unwrap().to_owned();
    let rotated = c
        .post(
            &format!("/v1/webhooks/{hook}/rotate-secret"),
            &admin,
            json!({}),
        )
        .expect(200);
    assert!(rotated.body["secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    c.delete(&format!("/v1/webhooks/{hook}"), &admin)
        .expect(204);
    c.get(&format!("/v1/webhooks/{hook}"), &admin)
        .expect_problem(404, "not_found");
}

#[test]
fn members_joining_and_leaving_are_events_too() {
    let c = client();
    let (admin, _, secret, rx) =
        team_with_webhook(&c, json!(["member.added", "member.removed"]), &[]);
    let inv = c
        .post(
            "/v1/invitations",
            &admin,
            json!({"email": "new@acme.test", "role": "viewer"}),
        )
        .expect(201);
    let accepted = c
        .call(
            "POST",
            "/v1/invitations/accept",
            None,
            Some(json!({"token": inv.body["token"], "password": "a long password"})),
        )
        .expect(201);
    let member = accepted.body["member"]["id"].as_str().unwrap().to_owned();
    c.delete(&format!("/v1/members/{member}"), &admin)
        .expect(204);
    let got = rx.wait_for(2, SOON);
    assert_eq!(kinds(&got), ["member.added", "member.removed"]);
    for r in &got {
        assert!(signed_with(r, &secret));
        assert_eq!(r.json()["data"]["id"], member.as_str());
        assert_eq!(r.json()["data"]["email"], "new@acme.test");
        assert!(!r.body.contains("pbkdf2") && !r.body.contains("password"));
    }
}

#[test]
fn a_redirect_is_a_failure_and_a_huge_body_is_never_read() {
    let c = client();
    let redirect = Reply {
        location: Some("http://127.0.0.1:9/elsewhere"),
        ..status(302)
    };
    let huge = Reply {
        body_bytes: 1 << 30,
        ..status(200)
    };
    let (admin, hook, _, rx) = team_with_webhook(&c, json!([QUIET]), &[redirect]);
    c.post(&format!("/v1/webhooks/{hook}/test"), &admin, json!({}))
        .expect(202);
    let got = rx.wait_for(2, Duration::from_secs(15));
    assert_eq!(
        got.len(),
        2,
        "the redirect was a failure, retried here, not followed"
    );
    assert!(got.iter().all(|r| r.path == "/hook"));
    let log = c
        .get(&format!("/v1/webhooks/{hook}/deliveries"), &admin)
        .expect(200)
        .body;
    let statuses: Vec<Value> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(200), json!(302)]);

    // A 1 GiB body, written a chunk a second: the delivery counts as done on its status alone.
    let (admin, hook, _, rx) = team_with_webhook(&c, json!([QUIET]), &[huge]);
    c.post(&format!("/v1/webhooks/{hook}/test"), &admin, json!({}))
        .expect(202);
    rx.wait_for(1, SOON);
    let start = Instant::now();
    let row = loop {
        let log = c
            .get(&format!("/v1/webhooks/{hook}/deliveries"), &admin)
            .expect(200)
            .body;
        if let Some(row) = log["data"].get(0) {
            break row.clone();
        }
        assert!(start.elapsed() < SOON, "no delivery recorded");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(row["status"], 200);
    assert!(row["duration_ms"].as_i64().unwrap() < 5_000, "{row}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.received().len(), 1, "delivered once, not retried");
}
