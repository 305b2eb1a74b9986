//! End to end, through workerd with real KV and Durable Objects: the usage policy of issue 21
//! (contract "Usage policy per key" and "`X-API-Key`").

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{team_with_receiver, Client, Server, ADMIN};

fn client() -> Client {
    Client::new(Server::shared())
}

#[test]
fn x_api_key_is_taken_wherever_bearer_is() {
    let c = client();
    let (team, admin) = c.team("X-API-Key");
    let (_, other, _) = c.key(
        &admin,
        json!({"name": "other", "permissions": ["api_keys:read"]}),
    );
    let r = c
        .raw(
            "GET",
            "/v1/api-keys/current",
            &[("X-API-Key", &admin)],
            None,
        )
        .expect(200);
    assert_eq!(r.body["permissions"], json!(["admin:*"]));
    assert!(
        r.header("x-ratelimit-limit").is_some(),
        "counted like a bearer request"
    );
    // The same key in both headers is one credential.
    let bearer = format!("Bearer {admin}");
    c.raw(
        "GET",
        "/v1/api-keys/current",
        &[("Authorization", &bearer), ("X-API-Key", &admin)],
        None,
    )
    .expect(200);
    // Two different keys: which one acts would be a guess.
    c.raw(
        "GET",
        "/v1/api-keys/current",
        &[("Authorization", &bearer), ("X-API-Key", &other)],
        None,
    )
    .expect_problem(400, "ambiguous_credentials");
    // Refusals read the same as with bearer: an unknown key, a malformed one, none at all.
    c.raw("GET", "/v1/api-keys", &[("X-API-Key", "nope nope")], None)
        .expect_problem(401, "malformed_key");
    c.raw("GET", "/v1/projects", &[("X-API-Key", &other)], None)
        .expect_problem(403, "insufficient_permissions");
    // The operator's endpoints take it too.
    c.raw(
        "GET",
        &format!("/v1/teams/{team}"),
        &[("X-API-Key", ADMIN)],
        None,
    )
    .expect(200);
}

/// The key's audit entries by keygate itself (`system`), once at least `n` are there (≤ 10 s).
fn system_entries(c: &Client, admin: &str, key_id: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let page = c
            .get(&format!("/v1/audit-log?target_id={key_id}"), admin)
            .expect(200)
            .body;
        let found: Vec<Value> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["actor"]["type"] == "system")
            .cloned()
            .collect();
        if found.len() >= n || start.elapsed() > Duration::from_secs(10) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Seconds from now to the start of the next UTC month.
fn to_month_end() -> i64 {
    use chrono::{Datelike, TimeZone, Utc};
    let now = Utc::now();
    let (y, m) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).unwrap().timestamp() - now.timestamp()
}

#[test]
fn past_the_monthly_quota_verify_says_quota_exceeded_and_bearer_429_once_alerted() {
    let c = client();
    let (_, admin, rx) = team_with_receiver(&c, "Quota", json!(["api_key.quota_exceeded"]));
    let (id, key, created) = c.key(
        &admin,
        json!({"name": "metered", "permissions": ["api_keys:read"],
               "rate_limit": {"plan": "enterprise", "per_minute": 100, "per_hour": 1000, "per_month": 3}}),
    );
    assert_eq!(created["rate_limit"]["per_month"], 3);
    for _ in 0..2 {
        assert_eq!(c.verify(json!({"key": key}))["code"], "valid");
    }
    // GET /v1/rate-limit shows the month beside minute and hour, and counts nothing.
    let r = c.get("/v1/rate-limit", &key).expect(200);
    let windows: Vec<&str> = r.body["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(windows, ["minute", "hour", "month"]);
    assert_eq!(r.body["windows"][2]["remaining"], 1);
    assert!(r.body["windows"][2]["reset_at"]
        .as_str()
        .unwrap()
        .contains("-01T00:00:00"));
    // The third request, a bearer one (sent as X-API-Key), carries the month in RateLimit.
    let third = c
        .raw("GET", "/v1/api-keys/current", &[("X-API-Key", &key)], None)
        .expect(200);
    let policy = third.header("ratelimit-policy").unwrap();
    assert!(policy.contains("\"month\";q=3;w="), "{policy}");
    assert!(third
        .header("ratelimit")
        .unwrap()
        .contains("\"month\";r=0;t="));
    // Spent: verify says quota_exceeded, a bearer request 429 with Retry-After to the month's end.
    let v = c.verify(json!({"key": key}));
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(false), json!("quota_exceeded"))
    );
    assert_eq!(v["rate_limit"]["remaining"], 0);
    let limited = c
        .get("/v1/api-keys/current", &key)
        .expect_problem(429, "quota_exceeded");
    let retry: i64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (retry - to_month_end()).abs() <= 5,
        "{retry} vs {}",
        to_month_end()
    );
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    // The usage history counts the refusals among denied.
    let usage = c
        .get(&format!("/v1/api-keys/{id}/usage?days=1"), &admin)
        .expect(200)
        .body;
    let today = &usage["days"][0];
    assert_eq!(
        (today["admitted"].clone(), today["denied"].clone()),
        (json!(3), json!(2))
    );
    // One alert for the month (webhook and audit, by keygate itself), however often refused.
    let got = rx.wait(Duration::from_secs(10), |g| !g.is_empty());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.received().len(), 1, "once per key and month");
    let event = got[0].json();
    assert_eq!(event["type"], "api_key.quota_exceeded");
    assert_eq!(
        (
            event["data"]["id"].as_str(),
            event["data"]["limit"].as_i64()
        ),
        (Some(id.as_str()), Some(3))
    );
    let audit = system_entries(&c, &admin, &id, 1);
    let actions: Vec<&str> = audit
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["api_key.quota_exceeded"]);
}

#[test]
fn credits_are_spent_exactly_under_50_parallel_verifications() {
    let c = client();
    let (_, admin, rx) = team_with_receiver(&c, "Credits", json!(["api_key.credits_low"]));
    let (id, key, created) = c.key(
        &admin,
        json!({"name": "prepaid", "credits": {"remaining": 40, "refill": {"amount": 500, "interval": "monthly"}},
               "rate_limit": {"plan": "enterprise", "per_minute": 1000, "per_hour": 10000}}),
    );
    assert_eq!(
        created["credits"],
        json!({"remaining": 40, "refill": {"amount": 500, "interval": "monthly"}})
    );
    // 50 at once, one credit each: exactly 40 admitted, 10 refused, nothing overspent.
    let base = c.base.clone();
    let workers: Vec<_> = (0..50)
        .map(|_| {
            let (base, key) = (base.clone(), key.clone());
            std::thread::spawn(move || {
                let r = ureq::post(&format!("{base}/v1/verify"))
                    .set("Content-Type", "application/json")
                    .send_string(&json!({"key": key}).to_string())
                    .unwrap();
                let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
                v["code"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let codes: Vec<String> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let valid = codes.iter().filter(|c| *c == "valid").count();
    let refused = codes.iter().filter(|c| *c == "usage_exceeded").count();
    assert_eq!((valid, refused), (40, 10), "{codes:?}");
    let k = c.get(&format!("/v1/api-keys/{id}"), &admin).expect(200);
    assert_eq!(k.body["credits"]["remaining"], 0);
    // Cost 0 still passes; a cost above 1000 is a bad request.
    assert_eq!(c.verify(json!({"key": key, "cost": 0}))["code"], "valid");
    c.call(
        "POST",
        "/v1/verify",
        None,
        Some(json!({"key": key, "cost": 1001})),
    )
    .expect_problem(400, "invalid_field");
    // A PATCH sets a new balance; a cost spends that many, too few spends nothing.
    c.patch(
        &format!("/v1/api-keys/{id}"),
        &admin,
        json!({"credits": {"remaining": 10}}),
    )
    .expect(200);
    assert_eq!(c.verify(json!({"key": key, "cost": 7}))["code"], "valid");
    assert_eq!(
        c.verify(json!({"key": key, "cost": 4}))["code"],
        "usage_exceeded"
    );
    let k = c.get(&format!("/v1/api-keys/{id}"), &admin).expect(200);
    assert_eq!(k.body["credits"], json!({"remaining": 3}));
    assert_eq!(c.verify(json!({"key": key, "cost": 3}))["code"], "valid");
    // Bearer requests of a key with credits spend none.
    let r = c.get("/v1/rate-limit", &key).expect(200);
    assert!(r.body["limit"].is_number());
    // credits_low: once for the first grant (below 4 of 40), once for the new one (at 0 of 10).
    let got = rx.wait(Duration::from_secs(10), |g| g.len() >= 2);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.received().len(), 2, "once per grant");
    assert!(got.iter().all(|r| r.kind() == "api_key.credits_low"));
    let usage = c
        .get(&format!("/v1/api-keys/{id}/usage?days=1"), &admin)
        .expect(200)
        .body;
    assert_eq!(usage["days"][0]["admitted"], 43);
    assert_eq!(usage["days"][0]["denied"], 11);
}

#[test]
fn an_allow_listed_key_refuses_other_addresses_in_verify_and_bearer_alerting_once() {
    let c = client();
    let (_, admin, rx) = team_with_receiver(&c, "Allow-list", json!(["api_key.blocked_ip"]));
    // A bad entry is a 400 that names it; nothing is created.
    let bad = c
        .post(
            "/v1/api-keys",
            &admin,
            json!({"name": "office", "allowed_ips": ["203.0.113.0/24", "10.0.0.1/8"]}),
        )
        .expect_problem(400, "invalid_field");
    assert!(bad.text.contains("allowed_ips[1]"), "{}", bad.text);
    assert!(bad.text.contains("10.0.0.1/8"), "{}", bad.text);
    let (id, key, created) = c.key(
        &admin,
        json!({"name": "office", "permissions": ["api_keys:read"],
               "allowed_ips": ["203.0.113.0/24", "2001:DB8::/32", "198.51.100.7"]}),
    );
    assert_eq!(
        created["allowed_ips"],
        json!(["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"])
    );
    assert_eq!(created["idle_days"], 0, "a new key: no idle day yet");
    let verify = |ip: Option<&str>| {
        let mut body = json!({"key": key});
        if let Some(ip) = ip {
            body["ip"] = json!(ip);
        }
        let v = c.verify(body);
        (
            v["valid"].as_bool().unwrap(),
            v["code"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(verify(Some("203.0.113.50")), (true, "valid".into()));
    assert_eq!(verify(Some("2001:db8::1")), (true, "valid".into()));
    assert_eq!(verify(Some("192.0.2.1")), (false, "ip_not_allowed".into()));
    assert_eq!(verify(None), (false, "ip_not_allowed".into()));
    // Bearer: the connection's address (CF-Connecting-IP).
    let bearer = format!("Bearer {key}");
    let from = |ip: &str| {
        c.raw(
            "GET",
            "/v1/api-keys/current",
            &[("Authorization", &bearer), ("CF-Connecting-IP", ip)],
            None,
        )
    };
    from("198.51.100.7").expect(200);
    from("198.51.100.8").expect_problem(403, "ip_not_allowed");
    // PATCH replaces the list; null removes it.
    let patched = c
        .patch(
            &format!("/v1/api-keys/{id}"),
            &admin,
            json!({"allowed_ips": ["192.0.2.0/24"]}),
        )
        .expect(200)
        .body;
    assert_eq!(patched["allowed_ips"], json!(["192.0.2.0/24"]));
    assert_eq!(verify(Some("192.0.2.1")), (true, "valid".into()));
    c.patch(
        &format!("/v1/api-keys/{id}"),
        &admin,
        json!({"allowed_ips": null}),
    )
    .expect(200);
    assert_eq!(verify(None), (true, "valid".into()));
    // Refusals count among denied; one alert within the hour, with the address.
    let usage = c
        .get(&format!("/v1/api-keys/{id}/usage?days=1"), &admin)
        .expect(200)
        .body;
    assert_eq!(usage["days"][0]["denied"], 3);
    let got = rx.wait(Duration::from_secs(10), |g| !g.is_empty());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.received().len(), 1, "at most once per key per hour");
    let event = got[0].json();
    assert_eq!(event["type"], "api_key.blocked_ip");
    assert_eq!(event["data"]["ip"], "192.0.2.1");
    let audit = system_entries(&c, &admin, &id, 1);
    assert_eq!(audit[0]["action"], "api_key.blocked_ip");
    assert_eq!(audit[0]["changes"]["ip"], "192.0.2.1");
}

#[test]
fn the_listing_filters_idle_keys_with_its_paging_and_filters() {
    let c = client();
    let (_, admin) = c.team("Idle listing");
    let (used, used_key, _) = c.key(
        &admin,
        json!({"name": "used", "permissions": [], "environment": "test"}),
    );
    for name in ["a", "b"] {
        c.key(&admin, json!({"name": name, "permissions": []}));
    }
    assert_eq!(c.verify(json!({"key": used_key}))["valid"], true);
    let ids = |q: &str| -> (Vec<String>, Value) {
        let r = c.get(&format!("/v1/api-keys?{q}"), &admin).expect(200);
        let ids = r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                assert_eq!(k["idle_days"], 0);
                k["id"].as_str().unwrap().to_string()
            })
            .collect();
        (ids, r.body["next_cursor"].clone())
    };
    // Every key here was made (or used) today: idle 0 days, none idle 1.
    let (all, _) = ids("idle_days=0");
    assert_eq!(all.len(), 4, "the three keys and the admin key");
    assert!(ids("idle_days=1").0.is_empty());
    assert!(ids("idle_days=90&environment=test").0.is_empty());
    assert_eq!(ids("idle_days=0&environment=test").0, [used]);
    // Paging as without the filter.
    let (first, next) = ids("idle_days=0&limit=3");
    assert_eq!(first, all[..3]);
    let (rest, end) = ids(&format!(
        "idle_days=0&limit=3&cursor={}",
        next.as_str().unwrap()
    ));
    assert_eq!(rest, all[3..]);
    assert_eq!(end, Value::Null);
    for bad in ["-1", "1.5", "x", "", "100001"] {
        let r = c
            .get(&format!("/v1/api-keys?idle_days={bad}"), &admin)
            .expect_problem(400, "invalid_field");
        assert!(r.text.contains("idle_days"), "{}", r.text);
    }
}
