//! End to end, through workerd with real KV and Durable Objects: idle keys (contract "Usage
//! policy per key": `auto_disable_idle_days` and `api_key.idle`), run by each key's own alarm.
//! A day cannot be waited for: this file serves its own server with `IDLE_DAY_MS=50` (the
//! policy's day is 50 ms, so 40 days are 2 s and 90 days 4.5 s; docs/architecture.md, "Idle
//! keys"), shared by its tests. Key views' `idle_days` still count real days.

mod support;

use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::receiver::Receiver;
use support::{team_with_receiver, Client, Server, ADMIN};

const DAY_MS: u64 = 50;

fn client() -> Client {
    static S: OnceLock<Server> = OnceLock::new();
    let server =
        S.get_or_init(|| Server::start_with_env(None, &[("IDLE_DAY_MS", &DAY_MS.to_string())]));
    Client::new(server)
}

fn about(rx: &Receiver, kind: &str, id: &str) -> Vec<Value> {
    rx.received()
        .iter()
        .filter(|r| r.kind() == kind)
        .map(|r| r.json())
        .filter(|b| b["data"]["id"] == id)
        .collect()
}

#[test]
fn the_setting_is_the_teams_validated_and_shown() {
    let c = client();
    let (team, admin) = c.team("Idle setting");
    let path = format!("/v1/teams/{team}");
    assert_eq!(
        c.get(&path, ADMIN).expect(200).body["auto_disable_idle_days"],
        Value::Null,
        "off by default"
    );
    for bad in [json!(0), json!(3651), json!("30"), json!(1.5)] {
        let r = c
            .patch(&path, &admin, json!({ "auto_disable_idle_days": bad }))
            .expect_problem(400, "invalid_field");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("auto_disable_idle_days"), "{detail}");
    }
    // The team's own admin:* key sets it (3650 days: no key of this test is disabled).
    let r = c
        .patch(&path, &admin, json!({"auto_disable_idle_days": 3650}))
        .expect(200);
    assert_eq!(r.body["auto_disable_idle_days"], 3650);
    // A key without admin:* may not.
    let (_, writer, _) = c.key(
        &admin,
        json!({"name": "writer", "permissions": ["api_keys:write"]}),
    );
    c.patch(&path, &writer, json!({"auto_disable_idle_days": 1}))
        .expect_problem(403, "insufficient_permissions");
    // The operator turns it off.
    let r = c
        .patch(&path, ADMIN, json!({"auto_disable_idle_days": null}))
        .expect(200);
    assert_eq!(r.body["auto_disable_idle_days"], Value::Null);
    assert_eq!(
        c.get(&path, ADMIN).expect(200).body["auto_disable_idle_days"],
        Value::Null
    );
}

#[test]
fn idle_keys_are_disabled_by_their_own_alarms_and_a_used_key_is_not() {
    let c = client();
    let (team, admin, rx) = team_with_receiver(&c, "Idle disable", json!(["api_key.disabled"]));
    let (before, _, _) = c.key(&admin, json!({"name": "before", "permissions": []}));
    // 40 days (2 s here): pushed by the team's object to the key made before...
    c.patch(
        &format!("/v1/teams/{team}"),
        ADMIN,
        json!({"auto_disable_idle_days": 40}),
    )
    .expect(200);
    // ...and taken at creation by a key made after.
    let (after, _, _) = c.key(&admin, json!({"name": "after", "permissions": []}));
    // The admin key is used every 200 ms (each request a use): never idle 40 days.
    let start = Instant::now();
    let status = |id: &str| {
        c.get(&format!("/v1/api-keys/{id}"), &admin)
            .expect(200)
            .body["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    loop {
        let both = [status(&before), status(&after)];
        if both.iter().all(|s| s == "disabled") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{both:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        start.elapsed() >= Duration::from_millis(40 * DAY_MS - 500),
        "not before 40 days"
    );
    c.get("/v1/api-keys/current", &admin).expect(200);
    // As `POST …/disable`: the event (reason idle) and an audit entry by keygate itself.
    let got = rx.wait(Duration::from_secs(10), |_| {
        !about(&rx, "api_key.disabled", &before).is_empty()
            && !about(&rx, "api_key.disabled", &after).is_empty()
    });
    assert!(!got.is_empty());
    for id in [&before, &after] {
        let e = about(&rx, "api_key.disabled", id);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0]["data"]["reason"], "idle");
        assert_eq!(e[0]["data"]["status"], "disabled");
    }
    let audit = c
        .get("/v1/audit-log?action=api_key.disabled", &admin)
        .expect(200)
        .body;
    let entries = audit["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert!(entries.iter().all(|e| e["actor"]["type"] == "system"));
    // The listing follows (through the key's outbox); the admin key, used all along, is active.
    let start = Instant::now();
    loop {
        let listed = c.get("/v1/api-keys?limit=100", &admin).expect(200).body;
        let status = |id: &str| {
            listed["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["id"] == id)
                .map(|k| k["status"].clone())
        };
        assert_eq!(status(&admin_id(&c, &admin)), Some(json!("active")));
        if status(&before) == Some(json!("disabled")) && status(&after) == Some(json!("disabled")) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{listed}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Off again: the admin key may rest.
    c.patch(
        &format!("/v1/teams/{team}"),
        ADMIN,
        json!({"auto_disable_idle_days": null}),
    )
    .expect(200);
}

fn admin_id(c: &Client, admin: &str) -> String {
    c.get("/v1/api-keys/current", admin).expect(200).body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn api_key_idle_goes_once_at_90_idle_days() {
    let c = client();
    let (_, admin, rx) = team_with_receiver(&c, "Idle event", json!(["api_key.idle"]));
    let (id, _, _) = c.key(&admin, json!({"name": "unused", "permissions": []}));
    let within = Duration::from_millis(90 * DAY_MS) + Duration::from_secs(10);
    rx.wait(within, |_| !about(&rx, "api_key.idle", &id).is_empty());
    std::thread::sleep(Duration::from_millis(20 * DAY_MS));
    let e = about(&rx, "api_key.idle", &id);
    assert_eq!(e.len(), 1, "once per idle stretch: {e:?}");
    // 90, or a little more if the alarm ran late (a day here is 50 ms).
    assert!(e[0]["data"]["idle_days"].as_i64().unwrap() >= 90, "{e:?}");
    assert_eq!(e[0]["data"]["status"], "active", "an event, not a disable");
    let audit = c
        .get("/v1/audit-log?action=api_key.idle", &admin)
        .expect(200)
        .body;
    let mine: Vec<&Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"]["id"] == id.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{audit}");
    assert_eq!(mine[0]["actor"]["type"], "system");
}
