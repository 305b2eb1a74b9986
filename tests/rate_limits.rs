//! End to end, through workerd with real Durable Objects: rate limits are exact under
//! concurrency, survive a restart of the runtime, and are reported in headers and endpoints.

mod support;

use serde_json::json;
use support::{Client, Server};

fn client() -> Client {
    Client::new(Server::shared())
}

#[test]
fn headers_on_every_key_authenticated_response_and_429_with_retry_after() {
    let c = client();
    let (_, admin) = c.team("Limits");
    let (_, key, _) = c.key(
        &admin,
        json!({"name": "tight", "permissions": ["api_keys:read"],
               "rate_limit": {"plan": "enterprise", "per_minute": 3, "per_hour": 50}}),
    );
    for left in [2, 1, 0] {
        let r = c.get("/v1/api-keys/current", &key).expect(200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some(left.to_string().as_str())
        );
        let reset: i64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
        assert_eq!(reset % 60, 0, "the minute window is aligned to the clock");
        assert_eq!(
            r.header("ratelimit-policy"),
            Some("\"minute\";q=3;w=60, \"hour\";q=50;w=3600")
        );
        assert!(r
            .header("ratelimit")
            .unwrap()
            .starts_with(&format!("\"minute\";r={left};t=")));
    }
    let r = c
        .get("/v1/api-keys/current", &key)
        .expect_problem(429, "rate_limited");
    let retry: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    // Errors after authentication carry the headers too (a 403 here), and are not counted.
    let forbidden = c
        .get("/v1/projects", &key)
        .expect_problem(403, "insufficient_permissions");
    assert_eq!(forbidden.header("x-ratelimit-limit"), Some("3"));
    // GET /v1/rate-limit answers while limited, and never counts.
    for _ in 0..3 {
        let rl = c.get("/v1/rate-limit", &key).expect(200);
        assert_eq!(rl.body["limit"], 3);
        assert_eq!(rl.body["remaining"], 0);
        assert_eq!(rl.body["windows"][0]["name"], "minute");
        assert_eq!(rl.body["windows"][1]["name"], "hour");
        assert_eq!(rl.body["windows"][1]["remaining"], 47);
        assert!(rl.body["reset_at"].as_str().unwrap().ends_with(":00Z"));
    }
    // /v1/verify says rate_limited too, with the windows.
    let v = c.verify(json!({"key": key}));
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(false), json!("rate_limited"))
    );
    assert_eq!(v["rate_limit"]["remaining"], 0);
}

#[test]
fn raising_the_limit_applies_to_the_current_window_at_once() {
    let c = client();
    let (_, admin) = c.team("Raise");
    let (id, key, _) = c.key(
        &admin,
        json!({"name": "k", "rate_limit": {"plan": "enterprise", "per_minute": 1, "per_hour": 100}}),
    );
    c.get("/v1/api-keys/current", &key).expect(200);
    c.get("/v1/api-keys/current", &key)
        .expect_problem(429, "rate_limited");
    c.patch(
        &format!("/v1/api-keys/{id}"),
        &admin,
        json!({"rate_limit": {"per_minute": 3}}),
    )
    .expect(200);
    let r = c.get("/v1/api-keys/current", &key).expect(200);
    assert_eq!(
        r.header("x-ratelimit-remaining"),
        Some("1"),
        "1 used of 3, this one is the 2nd"
    );
}

#[test]
fn usage_counts_only_admitted_requests() {
    let c = client();
    let (_, admin) = c.team("Usage");
    let (id, key, _) = c.key(
        &admin,
        json!({"name": "counted", "permissions": ["tasks:read"],
               "rate_limit": {"plan": "enterprise", "per_minute": 4, "per_hour": 100}}),
    );
    c.get("/v1/api-keys", &key).expect(403); // not counted
    c.get("/v1/rate-limit", &key).expect(200); // not counted
    for _ in 0..3 {
        assert_eq!(
            c.verify(json!({"key": key, "permissions": ["tasks:read"]}))["valid"],
            true
        );
    }
    assert_eq!(
        c.verify(json!({"key": key, "permissions": ["tasks:write"]}))["valid"],
        false
    ); // 403: not counted
    c.get("/v1/api-keys/current", &key).expect(200); // the 4th admitted
    c.get("/v1/api-keys/current", &key).expect(429); // not counted
    let got = c.get(&format!("/v1/api-keys/{id}"), &admin).expect(200);
    assert_eq!(
        got.body["usage"],
        json!({"requests_today": 4, "requests_this_month": 4})
    );
    assert!(got.body["last_used"].is_string());
}

#[test]
fn exactly_the_limit_is_admitted_under_concurrency() {
    let c = client();
    let (_, admin) = c.team("Concurrency");
    let limit = 7;
    let (id, key, _) = c.key(
        &admin,
        json!({"name": "contended",
               "rate_limit": {"plan": "enterprise", "per_minute": limit, "per_hour": 1000}}),
    );
    // Start in a fresh minute if this one is nearly over, so all requests share one window.
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if s % 60 > 50 {
        std::thread::sleep(std::time::Duration::from_secs(61 - s % 60));
    }
    let threads: Vec<_> = (0..40)
        .map(|i| {
            let key = key.clone();
            std::thread::spawn(move || {
                let c = client();
                if i % 2 == 0 {
                    let r = c.get("/v1/api-keys/current", &key);
                    if r.status == 429 {
                        assert!(r.header("retry-after").is_some());
                    }
                    r.status
                } else {
                    match c.verify(json!({"key": key}))["code"].as_str().unwrap() {
                        "valid" => 200,
                        "rate_limited" => 429,
                        other => panic!("{other}"),
                    }
                }
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let admitted = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (admitted, refused),
        (limit as usize, 40 - limit as usize),
        "{statuses:?}"
    );
    let usage = c
        .get(&format!("/v1/api-keys/{id}"), &admin)
        .expect(200)
        .body["usage"]
        .clone();
    assert_eq!(usage["requests_today"], limit);
}

#[test]
fn counts_survive_a_restart_of_the_runtime() {
    let dir = std::env::temp_dir().join(format!("keygate-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = Server::start(Some(&dir));
    let c = Client::new(&server);
    let (_, admin) = c.team("Restart");
    let (id, key, _) = c.key(
        &admin,
        json!({"name": "durable", "rate_limit": {"plan": "enterprise", "per_minute": 1000, "per_hour": 5}}),
    );
    for _ in 0..3 {
        c.get("/v1/api-keys/current", &key).expect(200);
    }
    server.stop();

    let server = Server::start(Some(&dir));
    let c = Client::new(&server);
    // The key, its index entry and its counters all survived.
    let r = c.get("/v1/api-keys/current", &key).expect(200);
    assert_eq!(
        r.header("x-ratelimit-remaining"),
        Some("1"),
        "3 before the restart + this one, of 5"
    );
    c.get("/v1/api-keys/current", &key).expect(200);
    c.get("/v1/api-keys/current", &key)
        .expect_problem(429, "rate_limited");
    let got = c.get(&format!("/v1/api-keys/{id}"), &admin).expect(200);
    assert_eq!(got.body["usage"]["requests_today"], 5);
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
