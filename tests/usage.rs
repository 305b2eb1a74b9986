//! End to end, through workerd: a key's usage history per UTC day (admitted, rate limited and
//! denied counted apart), the countries it was used from (Miniflare takes a request's `cf` from
//! its `MF-CF-Blob` header), and the alerts they raise through the team's webhooks.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::receiver::Receiver;
use support::{Client, Server};

fn client() -> Client {
    Client::new(Server::shared())
}

/// `POST /v1/verify` as a request from `country` would reach it.
fn verify_from(c: &Client, country: &str, body: Value) -> Value {
    let cf = json!({ "country": country }).to_string();
    let r = c.raw(
        "POST",
        "/v1/verify",
        &[("Content-Type", "application/json"), ("MF-CF-Blob", &cf)],
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[test]
fn usage_is_counted_per_day_by_outcome_and_new_countries_raise_one_alert() {
    let c = client();
    let (_, admin) = c.team("Usage");
    let rx = Receiver::start(&[]);
    c.post(
        "/v1/webhooks",
        &admin,
        json!({"url": rx.url, "events": ["api_key.new_location", "api_key.rate_limited"]}),
    )
    .expect(201);
    let (id, key, _) = c.key(
        &admin,
        json!({"name": "metered", "permissions": ["tasks:read"],
               "rate_limit": {"per_minute": 3, "per_hour": 100}}),
    );
    let codes: Vec<Value> = [
        ("DE", "tasks:read"),
        ("DE", "tasks:read"),
        ("FR", "tasks:read"),  // a new country, after DE: one alert
        ("FR", "tasks:read"),  // past 3 a minute: rate limited (one alert for the window)
        ("FR", "tasks:read"),  // rate limited again: no second alert
        ("DE", "tasks:write"), // not its permission: denied
    ]
    .iter()
    .map(|(country, perm)| {
        verify_from(&c, country, json!({"key": key, "permissions": [perm]}))["code"].clone()
    })
    .collect();
    assert_eq!(
        codes,
        [
            json!("valid"),
            json!("valid"),
            json!("valid"),
            json!("rate_limited"),
            json!("rate_limited"),
            json!("insufficient_permissions")
        ]
    );
    // A wrong key says nothing about this one.
    verify_from(
        &c,
        "US",
        json!({"key": format!("{}{}", &key[..key.len() - 1], if key.ends_with('x') { 'y' } else { 'x' })}),
    );

    let usage = c
        .get(&format!("/v1/api-keys/{id}/usage"), &admin)
        .expect(200)
        .body;
    let days = usage["days"].as_array().unwrap();
    assert_eq!(days.len(), 30, "the default: 30 days, oldest first");
    let today = days.last().unwrap();
    let utc_today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(today["date"], utc_today.as_str());
    assert_eq!(
        (
            today["admitted"].clone(),
            today["rate_limited"].clone(),
            today["denied"].clone()
        ),
        (json!(3), json!(2), json!(1))
    );
    assert!(days[..29]
        .iter()
        .all(|d| d["admitted"] == 0 && d["denied"] == 0));
    let one = c
        .get(&format!("/v1/api-keys/{id}/usage?days=1"), &admin)
        .expect(200)
        .body;
    assert_eq!(one["days"].as_array().unwrap().len(), 1);
    for bad in ["days=0", "days=91", "days=x"] {
        c.get(&format!("/v1/api-keys/{id}/usage?{bad}"), &admin)
            .expect_problem(400, "invalid_field");
    }
    c.get(&format!("/v1/api-keys/{id}/usage?limit=5"), &admin)
        .expect_problem(400, "unknown_field");

    let key_view = c
        .get(&format!("/v1/api-keys/{id}"), &admin)
        .expect(200)
        .body;
    let countries: Vec<&str> = key_view["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["country"].as_str().unwrap())
        .collect();
    assert_eq!(countries, ["DE", "FR"]);
    assert!(key_view["locations"][0]["first_seen"].is_string());

    let got = rx.wait(Duration::from_secs(10), |g| g.len() >= 2);
    std::thread::sleep(Duration::from_millis(800));
    let mut kinds: Vec<String> = rx.received().iter().map(|r| r.kind()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["api_key.new_location", "api_key.rate_limited"],
        "once each"
    );
    let location = got
        .iter()
        .find(|r| r.kind() == "api_key.new_location")
        .unwrap()
        .json();
    assert_eq!(location["data"]["country"], "FR");
    assert_eq!(location["data"]["id"], id.as_str());

    // Both alerts are in the audit log too, by keygate itself.
    let start = std::time::Instant::now();
    let alerts = loop {
        let page = c
            .get(&format!("/v1/audit-log?target_id={id}"), &admin)
            .expect(200)
            .body;
        let alerts: Vec<Value> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["actor"]["type"] == "system")
            .cloned()
            .collect();
        if alerts.len() >= 2 || start.elapsed() > Duration::from_secs(10) {
            break alerts;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut actions: Vec<&str> = alerts
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    actions.sort();
    assert_eq!(actions, ["api_key.new_location", "api_key.rate_limited"]);

    // Another team sees neither.
    let (_, other) = c.team("Other");
    c.get(&format!("/v1/api-keys/{id}/usage"), &other)
        .expect_problem(404, "not_found");
}

#[test]
fn monitoring_sums_the_teams_last_day_from_its_keys_reports() {
    let c = client();
    let (_, admin) = c.team("Watched");
    let (_, busy, _) = c.key(
        &admin,
        json!({"name": "busy", "permissions": ["tasks:read"]}),
    );
    let (_, quiet, _) = c.key(&admin, json!({"name": "quiet"}));
    let (_, expired, _) = c.key(
        &admin,
        json!({"name": "soon", "expires_at": support::in_secs(10 * 86_400)}),
    );
    // Each key's first request is reported at once (later ones at most once a minute).
    assert_eq!(
        verify_from(
            &c,
            "DE",
            json!({"key": busy, "permissions": ["tasks:read"]})
        )["valid"],
        true
    );
    assert_eq!(
        verify_from(
            &c,
            "DE",
            json!({"key": quiet, "permissions": ["tasks:read"]})
        )["code"],
        "insufficient_permissions"
    );
    assert_eq!(
        verify_from(&c, "DE", json!({"key": expired}))["valid"],
        true
    );
    let start = std::time::Instant::now();
    let m = loop {
        let m = c.get("/v1/monitoring", &admin).expect(200).body;
        let keys = m["top_keys"].as_array().map_or(0, Vec::len);
        if keys >= 4 || start.elapsed() > Duration::from_secs(10) {
            break m;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // The admin key's own requests (it made the keys) count too.
    assert!(m["requests"].as_u64().unwrap() >= 4, "{m}");
    assert_eq!(
        m["denied_by_reason"],
        json!({"insufficient_permissions": 1})
    );
    assert_eq!(m["keys_expiring_30d"], 1);
    let requests_of = |name: &str| {
        m["top_keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .map(|k| k["requests"].clone())
    };
    for name in ["busy", "quiet", "soon"] {
        assert_eq!(requests_of(name), Some(json!(1)), "{name}: {m}");
    }
    c.get("/v1/monitoring?days=7", &admin)
        .expect_problem(400, "unknown_field");
    // Another team's view is its own (its admin key's own request, at most).
    let (_, other) = c.team("Elsewhere");
    let theirs = c.get("/v1/monitoring", &other).expect(200).body;
    assert_eq!(theirs["keys_expiring_30d"], 0);
    assert!(theirs["requests"].as_u64().unwrap() <= 1, "{theirs}");
    assert!(theirs["top_keys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["name"] == "Admin key"));
}
