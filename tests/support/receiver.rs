//! A webhook receiver for the end-to-end tests: a real HTTP server on 127.0.0.1 (one thread per
//! connection, so a slow answer holds up nothing else) that records every request and answers
//! each with the next scripted reply (`200` once the script is used up).

use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
    pub body: String,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    pub fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap_or("").to_owned()
    }
}

/// A scripted reply: a status, after a delay, with a `Location` and a body of `body_bytes`
/// (announced, then written slowly: a receiver that answers with an endless body).
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub location: Option<&'static str>,
    pub body_bytes: usize,
}

pub fn status(status: u16) -> Reply {
    Reply {
        status,
        delay: Duration::ZERO,
        location: None,
        body_bytes: 0,
    }
}

#[derive(Default)]
struct Shared {
    got: Vec<Received>,
    script: VecDeque<Reply>,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
}

impl Receiver {
    /// Starts a receiver that answers `script` in order, then `200`.
    pub fn start(script: &[Reply]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared {
            got: Vec::new(),
            script: script.iter().copied().collect(),
        }));
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Receiver { url, shared }
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().got.clone()
    }

    /// Waits (up to `within`) until `done` holds for what was received; returns it either way.
    pub fn wait(&self, within: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if done(&got) || start.elapsed() > within {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `n` requests arrived (up to `within`).
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        self.wait(within, |got| got.len() >= n)
    }
}

fn serve(stream: TcpStream, shared: &Mutex<Shared>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let path = first.split(' ').nth(1).unwrap_or("").to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let reply = {
        let mut s = shared.lock().unwrap();
        s.got.push(Received {
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
        });
        s.script.pop_front().unwrap_or(status(200))
    };
    std::thread::sleep(reply.delay);
    let mut stream = stream;
    let location = reply
        .location
        .map(|l| format!("Location: {l}\r\n"))
        .unwrap_or_default();
    let _ = write!(
        stream,
        "HTTP/1.1 {} Scripted\r\n{location}Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.status, reply.body_bytes
    );
    // A big body, a chunk a second: whoever reads it all waits a long time for it.
    let chunk = vec![b'x'; 64 * 1024];
    let mut left = reply.body_bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        if stream.write_all(&chunk[..n]).is_err() {
            return;
        }
        left -= n;
        std::thread::sleep(Duration::from_secs(1));
    }
}
