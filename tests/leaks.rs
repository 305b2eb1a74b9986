//! End to end, through workerd with real KV and Durable Objects: leaked keys. A P-256 key pair is
//! made here with `openssl` and pinned as GitHub's through `GITHUB_SCANNING_KEYS`; reports are
//! signed with it as GitHub signs them (ECDSA / SHA-256 over the raw body, base64 DER), so the
//! worker verifies real signatures with WebCrypto. Webhooks arrive at a real receiver.

mod support;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::receiver::Receiver;
use support::{Client, Server, ADMIN};

const KEY_ID: &str = "test-key-1";
const SOON: Duration = Duration::from_secs(10);

/// A key pair made once per run: (private key PEM file, public key PEM).
fn key_pair() -> &'static (PathBuf, String) {
    static PAIR: OnceLock<(PathBuf, String)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("keygate-leaks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let private = dir.join("github.pem");
        let ok = Command::new("openssl")
            .args([
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
            ])
            .arg(&private)
            .status()
            .expect("openssl is needed to make GitHub's test key pair");
        assert!(ok.success());
        let public = Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&private)
            .output()
            .unwrap();
        assert!(public.status.success());
        (private, String::from_utf8(public.stdout).unwrap())
    })
}

/// `body`'s signature by the test key, as GitHub sends it (base64 of the DER signature).
fn sign(body: &[u8]) -> String {
    let (private, _) = key_pair();
    let file = private.with_file_name(format!("body-{:x}", Sha256::digest(body)));
    std::fs::write(&file, body).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(private)
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(out.stdout)
}

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let (_, public) = key_pair();
        let keys = json!({"public_keys": [
            {"key_identifier": KEY_ID, "key": public, "is_current": true},
        ]})
        .to_string();
        Server::start_with_env(None, &[("GITHUB_SCANNING_KEYS", &keys)])
    })
}

fn client() -> Client {
    Client::new(server())
}

/// POSTs `body` to GitHub's endpoint, signed by `key_id` with `signature` (`None`: the right one).
fn github(c: &Client, body: &[u8], key_id: &str, signature: Option<&str>) -> support::Resp {
    let good = sign(body);
    let sig = signature.unwrap_or(&good);
    c.raw(
        "POST",
        "/v1/leaks/github",
        &[
            ("Content-Type", "application/json"),
            ("Github-Public-Key-Identifier", key_id),
            ("Github-Public-Key-Signature", sig),
        ],
        Some(body),
    )
}

fn report(tokens: &[Value]) -> Vec<u8> {
    let entries: Vec<Value> = tokens
        .iter()
        .map(|t| {
            json!({"token": t, "type": "keygate_api_key", "source": "content",
                   "url": "https://github.com/octo/repo/blob/abc/config.env"})
        })
        .collect();
    Value::Array(entries).to_string().into_bytes()
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A well-formed key of this deployment that no one holds (the checksum is right).
fn unknown_key(c: &Client, admin: &str) -> String {
    let (id, key, _) = c.key(admin, json!({"name": "gone"}));
    c.delete(&format!("/v1/api-keys/{id}"), admin).expect(204);
    key
}

fn labels(r: &support::Resp) -> Vec<String> {
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["label"].as_str().unwrap().to_owned())
        .collect()
}

/// The team's audit entries for `action`, once at least `n` are there (up to 10 s; `n = 0`
/// reads once). It polls every 250 ms: the admin key is on the free plan, and a faster poll
/// for the whole 10 s would run into its per-minute limit (a 429, not an answer).
fn audit(c: &Client, admin: &str, action: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let page = c
            .get(&format!("/v1/audit-log?action={action}"), admin)
            .expect(200);
        let data = page.body["data"].as_array().unwrap().clone();
        if data.len() >= n || start.elapsed() > SOON {
            return data;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn kinds(rx: &Receiver) -> Vec<String> {
    rx.received().iter().map(|r| r.kind()).collect()
}

#[test]
fn a_signed_report_disables_a_live_key_at_once_and_a_repeat_changes_nothing() {
    let c = client();
    let (_, admin) = c.team("Leaky");
    let rx = Receiver::start(&[]);
    let hook = c
        .post(
            "/v1/webhooks",
            &admin,
            json!({"url": rx.url, "events": ["api_key.leaked", "api_key.disabled"]}),
        )
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (id, key, _) = c.key(&admin, json!({"name": "pushed to GitHub"}));
    assert_eq!(c.verify(json!({"key": key}))["valid"], true);
    let mut typo = key.clone();
    let last = typo.pop().unwrap();
    typo.push(if last == 'A' { 'B' } else { 'A' });
    let unknown = unknown_key(&c, &admin);
    let body = report(&[json!(key), json!(typo), json!(unknown), json!(42)]);
    let r = github(&c, &body, KEY_ID, None).expect(200);
    assert_eq!(
        labels(&r),
        [
            "true_positive",
            "false_positive",
            "false_positive",
            "false_positive"
        ]
    );
    assert_eq!(r.body[0]["token_hash"], sha256_hex(&key));
    assert_eq!(r.body[0]["token_type"], "keygate_api_key");
    assert_eq!(r.body[3]["token_hash"], sha256_hex("42"));
    assert!(!r.text.contains(&key) && !r.text.contains(&unknown));
    // Disabled at once, everywhere: the very next verification.
    assert_eq!(c.verify(json!({"key": key}))["code"], "disabled_key");
    let k = c
        .get(&format!("/v1/api-keys/{id}"), &admin)
        .expect(200)
        .body;
    assert_eq!(k["status"], "disabled");
    assert_eq!(
        k["leaked"]["url"],
        "https://github.com/octo/repo/blob/abc/config.env"
    );
    assert_eq!(k["leaked"]["source"], "content");
    assert_eq!(k["leaked"]["reporter"], "github");
    assert_eq!(k["leaked"]["at"], k["disabled_at"]);
    // The listing follows.
    let list = c.get("/v1/api-keys", &admin).expect(200).body;
    let row = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .cloned();
    assert_eq!(row.unwrap()["status"], "disabled");
    // The alerts: api_key.disabled (reason leaked) and api_key.leaked, by `system` in the log.
    let got = rx.wait(SOON, |g| g.len() >= 2);
    let leaked = got
        .iter()
        .find(|r| r.kind() == "api_key.leaked")
        .unwrap_or_else(|| {
            let log = c.get(&format!("/v1/webhooks/{hook}/deliveries"), &admin);
            let audit = c.get("/v1/audit-log?limit=20", &admin);
            panic!(
                "api_key.leaked not among {:?}; deliveries {}; audit {}",
                kinds(&rx),
                log.text,
                audit.text
            )
        })
        .json();
    assert_eq!(leaked["data"]["id"], id.as_str());
    assert_eq!(
        leaked["data"]["url"],
        "https://github.com/octo/repo/blob/abc/config.env"
    );
    assert_eq!(leaked["data"]["source"], "content");
    assert_eq!(leaked["data"]["policy"], "disable");
    assert_eq!(leaked["data"]["status"], "disabled");
    let disabled = got
        .iter()
        .find(|r| r.kind() == "api_key.disabled")
        .expect("disabled")
        .json();
    assert_eq!(disabled["data"]["reason"], "leaked");
    assert!(got.iter().all(|r| !r.body.contains(&key)));
    let entries = audit(&c, &admin, "api_key.leaked", 1);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor"]["type"], "system");
    assert_eq!(entries[0]["target"]["id"], id.as_str());
    assert!(!entries[0].to_string().contains(&key));
    let entries = audit(&c, &admin, "api_key.disabled", 1);
    assert_eq!(entries[0]["changes"]["reason"], "leaked");
    // GitHub sends it again: the same answer, nothing changes, nothing is sent twice.
    let again = github(&c, &body, KEY_ID, None).expect(200);
    assert_eq!(again.body, r.body);
    let k2 = c
        .get(&format!("/v1/api-keys/{id}"), &admin)
        .expect(200)
        .body;
    assert_eq!(
        (&k2["updated_at"], &k2["leaked"]),
        (&k["updated_at"], &k["leaked"])
    );
    std::thread::sleep(Duration::from_secs(2));
    let mut seen = kinds(&rx);
    seen.sort();
    assert_eq!(seen, ["api_key.disabled", "api_key.leaked"]);
    // Read once, after the wait above: waiting for a second entry that must never come
    // would only spend the admin key's rate limit.
    assert_eq!(audit(&c, &admin, "api_key.leaked", 0).len(), 1);
}

#[test]
fn unsigned_badly_signed_or_unknown_key_is_401_and_reads_nothing() {
    let c = client();
    let (_, admin) = c.team("Careful");
    let (_, key, _) = c.key(&admin, json!({"name": "k"}));
    let body = report(&[json!(key)]);
    let unsigned = c.raw(
        "POST",
        "/v1/leaks/github",
        &[("Content-Type", "application/json")],
        Some(&body),
    );
    unsigned.expect_problem(401, "invalid_signature");
    let other = sign(b"[]");
    github(&c, &body, KEY_ID, Some(&other)).expect_problem(401, "invalid_signature");
    github(&c, &body, "not-a-github-key", None).expect_problem(401, "invalid_signature");
    github(&c, &body, KEY_ID, Some("bm90IGEgc2lnbmF0dXJl"))
        .expect_problem(401, "invalid_signature");
    // A signed body that is not a report: 400, after the signature. Unsigned: 401 first.
    github(&c, b"{\"token\":1}", KEY_ID, None).expect_problem(400, "invalid_report");
    github(&c, br#"[{"type":"x"}]"#, KEY_ID, None).expect_problem(400, "invalid_report");
    github(&c, b"{", "nope", None).expect_problem(401, "invalid_signature");
    // Nothing of it was acted on.
    assert_eq!(c.verify(json!({"key": key}))["valid"], true);
    // Over 1 MiB: 413 before anything else.
    let huge = vec![b' '; 1024 * 1024 + 1];
    let status = c.early_status(
        "POST",
        "/v1/leaks/github",
        &[("Content-Type", "application/json")],
        &huge,
    );
    assert_eq!(status, 413);
}

#[test]
fn an_outsiders_report_is_refused_before_its_body_is_read() {
    let c = client();
    let json = ("Content-Type", "application/json");
    // No credential, or one that is not a key: 401 while the body is still unsent.
    let early =
        |path: &str, headers: &[(&str, &str)]| c.status_before_body("POST", path, headers, 1000);
    assert_eq!(early("/v1/leaks", &[json]), Some(401));
    assert_eq!(
        early(
            "/v1/leaks",
            &[json, ("Authorization", "Bearer sk_live_nothing")]
        ),
        Some(401)
    );
    // GitHub's endpoint: unsigned, or signed by a key that is not GitHub's.
    assert_eq!(early("/v1/leaks/github", &[json]), Some(401));
    let unknown = [
        json,
        ("Github-Public-Key-Identifier", "not-a-github-key"),
        ("Github-Public-Key-Signature", "bm90IGEgc2lnbmF0dXJl"),
    ];
    assert_eq!(early("/v1/leaks/github", &unknown), Some(401));
    // Over 1 MiB declared: 413 before anything else, credential or not.
    let huge = 1024 * 1024 + 1;
    let status = c.status_before_body("POST", "/v1/leaks", &[json], huge);
    assert_eq!(status, Some(401));
    let status = c.status_before_body("POST", "/v1/leaks/github", &[json], huge);
    assert_eq!(status, Some(413));
}

#[test]
fn notify_keeps_the_key_working_and_tells_the_team() {
    let c = client();
    let (team, admin) = c.team("Notified");
    let t = c
        .patch(
            &format!("/v1/teams/{team}"),
            ADMIN,
            json!({"leak_policy": "notify"}),
        )
        .expect(200);
    assert_eq!(t.body["leak_policy"], "notify");
    c.patch(
        &format!("/v1/teams/{team}"),
        ADMIN,
        json!({"leak_policy": "revoke"}),
    )
    .expect_problem(400, "invalid_field");
    let rx = Receiver::start(&[]);
    c.post(
        "/v1/webhooks",
        &admin,
        json!({"url": rx.url, "events": ["api_key.leaked", "api_key.disabled"]}),
    )
    .expect(201);
    let (id, key, _) = c.key(&admin, json!({"name": "k"}));
    let r = github(&c, &report(&[json!(key)]), KEY_ID, None).expect(200);
    assert_eq!(labels(&r), ["true_positive"]);
    assert_eq!(c.verify(json!({"key": key}))["valid"], true);
    let k = c
        .get(&format!("/v1/api-keys/{id}"), &admin)
        .expect(200)
        .body;
    assert_eq!(
        (k["status"].as_str(), k["leaked"]["reporter"].as_str()),
        (Some("active"), Some("github"))
    );
    let got = rx.wait_for(1, SOON);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].kind(), "api_key.leaked");
    assert_eq!(got[0].json()["data"]["policy"], "notify");
    assert_eq!(
        audit(&c, &admin, "api_key.leaked", 1)[0]["actor"]["type"],
        "system"
    );
}

#[test]
fn a_teams_own_report_touches_only_its_own_keys() {
    let c = client();
    let (_, a_admin) = c.team("A");
    let (_, b_admin) = c.team("B");
    let (a_id, a_key, _) = c.key(&a_admin, json!({"name": "a"}));
    let (b_id, b_key, _) = c.key(&b_admin, json!({"name": "b"}));
    let body =
        json!([{"token": a_key, "type": "x", "url": "https://paste.example/1"}, {"token": b_key}]);
    // A reader may not report.
    let (_, reader, _) = c.key(
        &a_admin,
        json!({"name": "r", "permissions": ["api_keys:read"]}),
    );
    c.post("/v1/leaks", &reader, body.clone())
        .expect_problem(403, "insufficient_permissions");
    let r = c.post("/v1/leaks", &a_admin, body).expect(200);
    assert_eq!(labels(&r), ["true_positive", "false_positive"]);
    assert_eq!(c.verify(json!({"key": a_key}))["code"], "disabled_key");
    let a = c
        .get(&format!("/v1/api-keys/{a_id}"), &a_admin)
        .expect(200)
        .body;
    assert_eq!(a["leaked"]["reporter"], "team");
    assert_eq!(a["leaked"]["url"], "https://paste.example/1");
    // Team B's key was never touched.
    assert_eq!(c.verify(json!({"key": b_key}))["valid"], true);
    let b = c
        .get(&format!("/v1/api-keys/{b_id}"), &b_admin)
        .expect(200)
        .body;
    assert!(b.get("leaked").is_none(), "{b}");
    c.post("/v1/leaks", &a_admin, json!({"token": "x"}))
        .expect_problem(400, "invalid_report");
}

/// A key scoped to a project acts only inside it (contract 1.1), leak reports included: holding
/// another project's key's secret is not the right to disable it (found by the attacker review).
#[test]
fn a_project_scoped_reporter_touches_only_its_projects_keys() {
    let c = client();
    let (_, admin) = c.team("Scoped reporter");
    let project = |name: &str| -> String {
        let p = c
            .post("/v1/projects", &admin, json!({ "name": name }))
            .expect(201);
        p.body["id"].as_str().unwrap().to_owned()
    };
    let (pa, pb) = (project("a"), project("b"));
    let (_, reporter, _) = c.key(
        &admin,
        json!({"name": "scanner", "project_id": pa, "permissions": ["api_keys:write"]}),
    );
    let (_, in_a, _) = c.key(&admin, json!({"name": "in a", "project_id": pa}));
    let (b_id, in_b, _) = c.key(&admin, json!({"name": "in b", "project_id": pb}));
    let r = c
        .post(
            "/v1/leaks",
            &reporter,
            json!([{ "token": in_a }, { "token": in_b }]),
        )
        .expect(200);
    assert_eq!(labels(&r), ["true_positive", "false_positive"]);
    assert_eq!(c.verify(json!({"key": in_a}))["code"], "disabled_key");
    assert_eq!(
        c.verify(json!({"key": in_b}))["valid"],
        true,
        "B's key untouched"
    );
    let b = c
        .get(&format!("/v1/api-keys/{b_id}"), &admin)
        .expect(200)
        .body;
    assert!(b.get("leaked").is_none(), "{b}");
}

#[test]
fn a_thousand_tokens_in_one_report() {
    let c = client();
    let (_, admin) = c.team("Batched");
    let (_, key, _) = c.key(&admin, json!({"name": "among many"}));
    // 998 distinct well-formed keys no one holds (right checksums: each is looked up), the real
    // one, and one with a bad checksum.
    let prefix = keygate::core::config::Config::from_vars(None)
        .unwrap()
        .key_prefix;
    let mut tokens: Vec<Value> = (0..998)
        .map(|_| {
            let k = keygate::core::key::PlainKey::generate(
                &prefix,
                keygate::core::key::Environment::Live,
                &mut keygate::core::random::OsRandom,
            );
            json!(k.expose_secret())
        })
        .collect();
    tokens.push(json!(key));
    tokens.push(json!("sk_live_00000000000000000000000000000000AAAAAA"));
    let body = report(&tokens);
    assert!(body.len() < 1024 * 1024, "{} bytes", body.len());
    let start = Instant::now();
    let r = github(&c, &body, KEY_ID, None).expect(200);
    let took = start.elapsed();
    eprintln!("1,000 tokens ({} bytes): {took:?}", body.len());
    let labels = labels(&r);
    assert_eq!(labels.len(), 1000);
    assert_eq!(labels.iter().filter(|l| *l == "true_positive").count(), 1);
    assert_eq!(labels[998], "true_positive");
    assert_eq!(c.verify(json!({"key": key}))["code"], "disabled_key");
    assert!(took < Duration::from_secs(10), "{took:?}");
}
