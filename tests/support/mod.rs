//! End-to-end support: runs the built worker in workerd through Miniflare (real KV, real
//! SQLite-backed Durable Objects; nothing mocked) and talks HTTP to it as a client would.
#![allow(dead_code)]

pub mod receiver;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub const ADMIN: &str = "test-admin-token";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    pub url: String,
}

impl Server {
    /// Starts a server; with `persist`, KV and Durable Object state live in that folder.
    pub fn start(persist: Option<&Path>) -> Server {
        Server::start_with(persist, &[])
    }

    /// Starts a server with flags for tests/support/server.mjs (e.g. `--without ADMIN_TOKEN`,
    /// `--secure-webhooks`).
    pub fn start_with(persist: Option<&Path>, flags: &[&str]) -> Server {
        Server::start_full(persist, flags, &[])
    }

    /// [`Server::start`] with environment variables for server.mjs (`GITHUB_SCANNING_KEYS`).
    pub fn start_with_env(persist: Option<&Path>, env: &[(&str, &str)]) -> Server {
        Server::start_full(persist, &[], env)
    }

    fn start_full(persist: Option<&Path>, flags: &[&str], env: &[(&str, &str)]) -> Server {
        let root = root();
        assert!(
            root.join("build/worker/index_bg.wasm").exists(),
            "build/ is missing: run `npm test` (or `sh scripts/build.sh`) first"
        );
        let node = root.join("node_modules/.bin/node");
        let mut cmd = Command::new(if node.exists() {
            node
        } else {
            PathBuf::from("node")
        });
        cmd.arg(root.join("tests/support/server.mjs"))
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(dir) = persist {
            cmd.arg("--persist").arg(dir);
        }
        cmd.args(flags);
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().expect("start node");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("server URL");
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "server did not start: {url:?}"
        );
        Server {
            child,
            stdin: Some(stdin),
            url,
        }
    }

    /// One server per test binary, shared by its tests (each test makes its own team).
    pub fn shared() -> &'static Server {
        static S: OnceLock<Server> = OnceLock::new();
        S.get_or_init(|| Server::start(None))
    }

    /// Stops the runtime gracefully (closing its stdin), so persisted state is flushed.
    pub fn stop(mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The problem+json `code`, asserting the error shape on the way.
    pub fn code(&self) -> &str {
        if self.status >= 400 {
            assert_eq!(
                self.header("content-type"),
                Some("application/problem+json"),
                "{self:?}"
            );
            for f in ["type", "title", "status", "detail", "code"] {
                assert!(!self.body[f].is_null(), "problem without {f}: {self:?}");
            }
            assert_eq!(self.body["status"], self.status);
        }
        self.body["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "{} {}", self.status, self.text);
        self
    }

    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Self {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.text);
        self
    }
}

pub struct Client {
    pub base: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(server: &Server) -> Client {
        Client {
            base: server.url.clone(),
            // A new connection per request: ureq does not retry a POST on a pooled connection
            // the server has closed meanwhile, which made a test fail now and then on a
            // transport error that says nothing about keygate.
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .max_idle_connections(0)
                .build(),
        }
    }

    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let mut r = self
            .agent
            .request(method, &format!("{}{}", self.base, path));
        for (k, v) in headers {
            r = r.set(k, v);
        }
        let result = match body {
            Some(b) => r.send_bytes(b),
            None => r.call(),
        };
        answer(result, method, path)
    }

    /// A browser's GET of `url` (a whole URL, as a link names it), not following a redirect.
    pub fn visit(&self, url: &str, headers: &[(&str, &str)]) -> Resp {
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout(Duration::from_secs(30))
            .max_idle_connections(0)
            .build();
        let mut r = agent.get(url);
        for (k, v) in headers {
            r = r.set(k, v);
        }
        answer(r.call(), "GET", url)
    }

    /// The status of a request whose body the server may refuse before reading it (`413`), sent
    /// as a client that reads an early answer does: it writes what the server takes, then reads
    /// the status line. Local workerd closes such a connection without lingering, so a client
    /// still writing can be reset before it reads the answer; that is the transport, not the
    /// answer, and is tried again (a few times).
    pub fn early_status(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> u16 {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://");
        for _ in 0..5 {
            let Ok(mut s) = std::net::TcpStream::connect(addr) else {
                continue;
            };
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ));
            if s.write_all(head.as_bytes()).is_err() {
                continue;
            }
            let _ = s.write_all(body); // the server may stop reading at any point
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !got.windows(2).any(|w| w == b"\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&got);
            if let Some(code) = line.split(' ').nth(1).and_then(|c| c.parse().ok()) {
                return code;
            }
        }
        panic!("{method} {path}: no answer in 5 tries");
    }

    /// The status of a request that declares a `declared`-byte body and never sends it: `None`
    /// when no answer comes within 5 s (the server waits for the body, so it would read it).
    pub fn status_before_body(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        declared: usize,
    ) -> Option<u16> {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {declared}\r\n\r\n"));
        s.write_all(head.as_bytes()).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.windows(2).any(|w| w == b"\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let line = String::from_utf8_lossy(&got);
        line.split(' ').nth(1).and_then(|c| c.parse().ok())
    }

    pub fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        let bytes = body.map(|b| b.to_string().into_bytes());
        if bytes.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        self.raw(method, path, &headers, bytes.as_deref())
    }

    pub fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("POST", path, Some(token), Some(body))
    }

    pub fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("PATCH", path, Some(token), Some(body))
    }

    pub fn delete(&self, path: &str, token: &str) -> Resp {
        self.call("DELETE", path, Some(token), None)
    }

    /// A new team; returns (team id, its admin key).
    pub fn team(&self, name: &str) -> (String, String) {
        let r = self
            .post("/v1/teams", ADMIN, json!({ "name": name }))
            .expect(201);
        (
            r.body["team"]["id"].as_str().unwrap().to_string(),
            r.body["api_key"]["key"].as_str().unwrap().to_string(),
        )
    }

    /// A new key made by `token`; returns (key id, full key, body).
    pub fn key(&self, token: &str, body: Value) -> (String, String, Value) {
        let r = self.post("/v1/api-keys", token, body).expect(201);
        (
            r.body["id"].as_str().unwrap().to_string(),
            r.body["key"].as_str().unwrap().to_string(),
            r.body,
        )
    }

    pub fn verify(&self, body: Value) -> Value {
        self.call("POST", "/v1/verify", None, Some(body))
            .expect(200)
            .body
    }
}

/// An RFC 3339 time `secs` seconds from now.
pub fn in_secs(secs: i64) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + secs;
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A ureq answer as a [`Resp`] (an error status is an answer too).
fn answer(result: Result<ureq::Response, ureq::Error>, method: &str, path: &str) -> Resp {
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = resp.header(&n).unwrap_or("").to_string();
            (n, v)
        })
        .collect();
    let text = resp.into_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

/// A client of the server the test binary shares.
pub fn client() -> Client {
    Client::new(Server::shared())
}

/// The password of the owners [`team_with_owner`] makes.
pub const PASSWORD: &str = "correct horse battery staple";

/// Makes a team with an owner through the operator (`201`); answers the creation's answer.
pub fn new_team_with_owner(c: &Client, name: &str, email: &str, password: &str) -> Resp {
    let owner = json!({"email": email, "password": password});
    c.post("/v1/teams", ADMIN, json!({"name": name, "owner": owner}))
        .expect(201)
}

/// (team id, admin key) of a team's creation answer.
pub fn team_and_key(r: &Resp) -> (String, String) {
    (
        r.body["team"]["id"].as_str().unwrap().to_owned(),
        r.body["api_key"]["key"].as_str().unwrap().to_owned(),
    )
}

/// A team with an owner (`owner@<name>.test` / [`PASSWORD`]); answers (team id, admin key).
pub fn team_with_owner(c: &Client, name: &str) -> (String, String) {
    let email = format!("owner@{name}.test");
    team_and_key(&new_team_with_owner(c, name, &email, PASSWORD))
}

/// A team with a webhook endpoint for `events` at a new receiver: (team id, admin key, receiver).
pub fn team_with_receiver(
    c: &Client,
    name: &str,
    events: Value,
) -> (String, String, receiver::Receiver) {
    let (team, admin) = c.team(name);
    let rx = receiver::Receiver::start(&[]);
    c.post(
        "/v1/webhooks",
        &admin,
        json!({"url": rx.url, "events": events}),
    )
    .expect(201);
    (team, admin, rx)
}
