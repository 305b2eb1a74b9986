//! Leaked keys, the pure side: a report of tokens found somewhere public (GitHub's secret
//! scanning partner request, or a team's own scanner), what each token is, what a team's
//! `leak_policy` does to a key of its own that leaked, and the feedback array the reporter gets.
//!
//! The flow (docs/architecture.md, "Leaked keys"): the edge parses the report ([`parse_report`]),
//! keeps the tokens that pass the key format and checksum ([`Reported::candidate`]: a bad one is a
//! `false_positive` with no lookup), reads their index entries from KV in bulk (unknown tokens
//! touch no Durable Object), and sends each known one to its key object with its team's policy
//! (`KeyCall::Leak`), where [`KeyState::report_leak`] decides, once: the key remembers that it
//! leaked (`KeyRecord::leaked`), so a repeated report changes nothing and sends nothing twice.
//!
//! A reported token is a secret: it is only ever hashed. [`Reported`] prints no token in `Debug`,
//! and neither the feedback, the events nor the audit entries carry it.

pub mod github;

use super::audit::{key_entry, Actor, ActorKind, Origin};
use super::config::KeyPrefix;
use super::events::key_event;
use super::key::{KeyHash, PlainKey};
use super::key_state::{disable, KeyState};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fmt;

/// The largest report accepted (`413` past it), for both endpoints. GitHub batches what it finds:
/// 1,000 tokens with GitHub's `type`, a long blob URL and `source` take about 250 KB, so 1 MiB
/// leaves room; the API's general bound (16 KiB) would hold fewer than 70.
pub const MAX_REPORT_BYTES: usize = 1024 * 1024;

/// Index entries read from KV in one bulk read (the binding's maximum). A bulk read counts as one
/// operation against the platform's per-request limits, so 1,000 tokens cost 10.
pub const KV_BULK_READ: usize = 100;

/// What a team does with a key of its own that is reported leaked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeakPolicy {
    /// Disable it at once, as `POST /v1/api-keys/{id}/disable` does (reason `leaked`).
    #[default]
    Disable,
    /// Keep it working; only tell the team (`api_key.leaked`, the audit log, the key's page).
    Notify,
}

impl LeakPolicy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "disable" => Some(LeakPolicy::Disable),
            "notify" => Some(LeakPolicy::Notify),
            _ => None,
        }
    }
}

/// Who reported a leak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reporter {
    /// GitHub's secret scanning (`POST /v1/leaks/github`, signed by GitHub).
    Github,
    /// The team's own scanner (`POST /v1/leaks`, with a key or session of the team).
    Team,
}

/// What a key remembers of its (first) leak: when, where, and who said so. Never the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leak {
    pub at: Timestamp,
    /// Where it was found (GitHub's `url`), as reported.
    pub url: Option<String>,
    /// GitHub's `source` (`content`, `commit`, `npm`, …), as reported.
    pub source: Option<String>,
    pub reporter: Reporter,
}

/// Longest `url`, `source` or `type` kept from a report (longer ones are cut): a report is
/// untrusted text that ends up in events, the audit log and the key's record.
const MAX_FIELD_CHARS: usize = 2048;

/// One entry of a report. The token itself is private to this module's callers through
/// [`Reported::candidate`] and [`Reported::token_hash`]; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Reported {
    /// The token, if it was a string (anything else is a `false_positive`).
    token: Option<String>,
    token_hash: String,
    pub token_type: String,
    pub url: Option<String>,
    pub source: Option<String>,
}

impl fmt::Debug for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reported")
            .field("token_hash", &self.token_hash)
            .field("token_type", &self.token_type)
            .field("url", &self.url)
            .field("source", &self.source)
            .finish()
    }
}

impl Reported {
    /// SHA-256 hex of the token as sent (of its JSON text if it was not a string), as GitHub's
    /// feedback names tokens.
    pub fn token_hash(&self) -> &str {
        &self.token_hash
    }

    /// The token's hash, if it is a well-formed key of this deployment (prefix, environment,
    /// length, alphabet, checksum): only those are looked up. Touches no storage.
    pub fn candidate(&self, prefix: &KeyPrefix) -> Option<KeyHash> {
        let token = self.token.as_deref()?;
        PlainKey::parse(prefix, token).ok().map(|k| k.hash())
    }

    /// What a key's record and events keep of this report.
    pub fn leak(&self, reporter: Reporter, now: Timestamp) -> Leak {
        Leak {
            at: now,
            url: self.url.clone(),
            source: self.source.clone(),
            reporter,
        }
    }
}

/// Why a report is refused (`400`), checked only once the request is authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportError {
    /// Not JSON, or not a JSON array.
    NotAnArray,
    /// Entry `n` (from 0) is not an object with a `token`.
    NoToken(usize),
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::NotAnArray => f.write_str(
                "the body must be a JSON array of {\"token\", \"type\", \"url\", \"source\"}",
            ),
            ReportError::NoToken(n) => write!(f, "entry {n} is not an object with a `token`"),
        }
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(|s| s.chars().take(MAX_FIELD_CHARS).collect())
}

/// Parses a report: a JSON array of objects, each with a `token` (a string, or anything else,
/// which is then a `false_positive`), and optionally `type`, `url` and `source` (strings; other
/// types are ignored). Unknown fields are ignored: this is GitHub's format, not ours.
pub fn parse_report(bytes: &[u8]) -> Result<Vec<Reported>, ReportError> {
    let text_body = std::str::from_utf8(bytes).map_err(|_| ReportError::NotAnArray)?;
    let value: Value = serde_json::from_str(text_body).map_err(|_| ReportError::NotAnArray)?;
    let Value::Array(entries) = value else {
        return Err(ReportError::NotAnArray);
    };
    entries
        .iter()
        .enumerate()
        .map(|(n, e)| {
            let token = e.get("token").ok_or(ReportError::NoToken(n))?;
            let (token, hashed) = match token {
                Value::String(s) => (Some(s.clone()), s.clone()),
                other => (None, other.to_string()),
            };
            Ok(Reported {
                token,
                token_hash: hex::encode(Sha256::digest(hashed.as_bytes())),
                token_type: text(e.get("type")).unwrap_or_default(),
                url: text(e.get("url")),
                source: text(e.get("source")),
            })
        })
        .collect()
}

/// GitHub's feedback label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// A key of this deployment (for `POST /v1/leaks`: of the caller's team).
    TruePositive,
    /// Anything else: a bad checksum, an unknown or deleted key, another team's key.
    FalsePositive,
}

/// One entry of the answer: never the token, only its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Feedback {
    pub token_hash: String,
    pub token_type: String,
    pub label: Label,
}

/// The answer, in the report's order: `true_positive` where `known(i)` says entry `i` is a key.
pub fn feedback(report: &[Reported], known: impl Fn(usize) -> bool) -> Vec<Feedback> {
    report
        .iter()
        .enumerate()
        .map(|(i, r)| Feedback {
            token_hash: r.token_hash.clone(),
            token_type: r.token_type.clone(),
            label: if known(i) {
                Label::TruePositive
            } else {
                Label::FalsePositive
            },
        })
        .collect()
}

/// What a reported leak did to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeakOutcome {
    /// The hash is not this key's: as if it were unknown.
    NotThisKey,
    /// Already known to have leaked, and nothing more to do: nothing changes, nothing is sent.
    Unchanged,
    /// Recorded (and disabled, if `disabled`): the events are in `KeyState::alerts`.
    Changed { disabled: bool },
}

fn system() -> Origin {
    let actor = Actor {
        kind: ActorKind::System,
        id: None,
    };
    Origin::new(actor, None, None, None)
}

impl KeyState {
    /// A report that this key leaked, under its team's `policy`.
    ///
    /// The first report records the leak on the record (`leaked`) and raises `api_key.leaked`
    /// (the key view, `url`, `source`, `reporter`, `policy`) with its audit entry by `system`.
    /// Under `disable`, a key not already disabled is disabled at once, exactly as
    /// `POST …/disable` does (`disabled_at`, a new revision, `api_key.disabled` with
    /// `reason: "leaked"` and its audit entry). A later report changes nothing, unless the
    /// policy is now `disable` and the key still works: then it is disabled (once). The events'
    /// ids derive from what they are about, so a retried hand-over keeps each once.
    pub fn report_leak(
        &mut self,
        hash: &KeyHash,
        leak: Leak,
        policy: LeakPolicy,
        now: Timestamp,
    ) -> LeakOutcome {
        if !self.hash.ct_eq(hash) {
            return LeakOutcome::NotThisKey;
        }
        let first = self.record.leaked.is_none();
        let disabling = policy == LeakPolicy::Disable && self.record.disabled_at.is_none();
        if !first && !disabling {
            return LeakOutcome::Unchanged;
        }
        if first {
            // At the key's own clock, the one `disabled_at` is written with.
            self.record.leaked = Some(Leak { at: now, ..leak });
            self.record.updated_at = now;
        }
        if disabling {
            disable(&mut self.record, now);
        }
        self.revision += 1;
        let origin = system();
        if disabling {
            let seed = "disabled:leaked";
            let extra = [("reason", Value::from("leaked"))];
            let e = key_event("api_key.disabled", &self.record, &extra, seed, now);
            self.alerts.push(e);
            let changes = Some(json!({"reason": "leaked"}));
            let entry = key_entry(
                "api_key.disabled",
                &self.record,
                &origin,
                changes,
                seed,
                now,
            );
            self.alerts.push(entry);
        }
        if first {
            let seed = "leaked";
            let leak = self.record.leaked.as_ref();
            let about = json!({
                "url": leak.and_then(|l| l.url.as_deref()),
                "source": leak.and_then(|l| l.source.as_deref()),
                "reporter": leak.map(|l| l.reporter),
                "policy": policy,
            });
            let extra: Vec<(&str, Value)> = about
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            let e = key_event("api_key.leaked", &self.record, &extra, seed, now);
            self.alerts.push(e);
            let entry = key_entry(
                "api_key.leaked",
                &self.record,
                &origin,
                Some(about),
                seed,
                now,
            );
            self.alerts.push(entry);
        }
        LeakOutcome::Changed {
            disabled: disabling,
        }
    }
}

#[cfg(test)]
mod tests;
