//! `POST /v1/verify`'s answer, and the verification's own path as steps.
//!
//! [`Verdict`] is what a verification found; both ways in (the endpoint and the service
//! binding's `verify`) answer its JSON. The endpoint's usual request, a well-formed key, takes
//! its own path (docs/architecture.md, "The verification's own path"): the entry module
//! (src/entry/worker.mjs) makes the I/O, and Rust decides each step synchronously, so no
//! future, promise or microtask of Rust's is made on the worker's side:
//!
//! 1. [`begin`]: the key's hash, its index entry if this isolate holds it, and the key
//!    object's call; the step is [`Step::Object`], or [`Step::Index`] (read the KV entry first,
//!    then [`indexed`]).
//! 2. The entry calls the key's object (`verify`, `objects::key`), which decides, counts and
//!    answers the framed answer itself ([`object_answer`]): the object holds the record and the
//!    windows, so they never cross as JSON to be parsed and written again here.
//! 3. An empty answer (no such key) makes the worker forget the cached entry ([`unknown`]).
//!
//! A step crosses to the entry as one string: a tag (`A`nswer, `C`onstant answer, read the `K`V
//! index, call the `O`bject) and its fields, one per line (none holds a newline: ids, a hex
//! hash, compact JSON).
//!
//! Pure: no `worker` import, tested natively.

use super::front::{Answer, Constant, Limit, Verification};
use super::headers::rate_limit_headers;
use super::problem::ApiError;
use crate::core::access::{Denial, Requirement, Scope};
use crate::core::input::VerifyRequest;
use crate::core::key::KeyHash;
use crate::core::key_state::CheckResult;
use crate::core::model::KeyRecord;
use crate::core::ratelimit::LimitState;
use crate::core::time::Timestamp;
use crate::storage::index::{index_name, IndexEntry};
use crate::storage::key_protocol::KeyCall;

/// What a verification found: refused before any object was asked (`malformed_key`,
/// `invalid_key`), or the key's object's decision with the key as it stands. One value for both
/// ways in: `POST /v1/verify` serializes it as its body, the `Verifier` entrypoint (`rpc`) hands
/// the same JSON object to the calling Worker.
pub enum Verdict {
    Refused(&'static str),
    Checked {
        denial: Option<Denial>,
        record: Box<KeyRecord>,
        limit: LimitState,
    },
}

impl Verdict {
    /// The key object's decision as a verdict.
    pub fn of(result: CheckResult) -> Verdict {
        match result {
            CheckResult::Invalid => Verdict::Refused(Denial::InvalidKey.code()),
            CheckResult::Denied {
                denial,
                record,
                limit,
            } => Verdict::Checked {
                denial: Some(denial),
                record,
                limit,
            },
            CheckResult::Admitted { record, limit, .. } => Verdict::Checked {
                denial: None,
                record,
                limit,
            },
        }
    }

    fn body(&self) -> Verification<'_> {
        match self {
            Verdict::Refused(code) => Verification {
                code,
                ..Default::default()
            },
            Verdict::Checked {
                denial,
                record,
                limit,
            } => {
                let b = limit.binding();
                Verification {
                    valid: denial.is_none(),
                    code: denial.as_ref().map_or("valid", Denial::code),
                    key_id: Some(&record.id),
                    team_id: Some(&record.team_id),
                    name: Some(&record.name),
                    environment: Some(record.environment),
                    permissions: Some(&record.permissions),
                    project_id: record.project_id.as_deref(),
                    expires_at: record.expires_at,
                    rate_limit: Some(Limit {
                        limit: b.limit,
                        remaining: b.remaining,
                        reset: b.reset,
                    }),
                }
            }
        }
    }

    /// The answer's JSON text, as `POST /v1/verify` sends it.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&self.body())
    }

    /// The whole answer of `POST /v1/verify`: `200` with the JSON, and the key's rate-limit
    /// headers when the key exists (as the full path's `Ctx::finish` adds them).
    pub fn answer(&self, now: Timestamp) -> Answer {
        let mut a = match self.to_json() {
            Ok(json) => Answer::new(200, "application/json", json),
            // Never in practice (no map with other than text keys): the full path's 503.
            Err(_) => Answer::problem(&ApiError::unavailable()),
        };
        if let Verdict::Checked { limit, .. } = self {
            a.headers.extend(rate_limit_headers(limit, now));
        }
        a
    }
}

/// The tag of an answer ([`Step::Answer`]), then the framed answer (`Answer::encode`).
pub const ANSWER: char = 'A';
/// The tag of a constant answer ([`Step::Constant`]), then its id.
pub const CONSTANT: char = 'C';
/// The tag of a KV read ([`Step::Index`]).
pub const INDEX: char = 'K';
/// The tag of the key object's call ([`Step::Object`]), then its id.
pub const OBJECT: char = 'O';

/// One step of the verification's own path, for the entry to take.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// The answer, framed: respond with it.
    Answer(String),
    /// A constant answer (`invalid_key`), which the entry frames once per isolate.
    Constant(Constant),
    /// Read the index entry `name` from KV, then ask [`indexed`] with what was read.
    Index {
        name: String,
        hash: KeyHash,
        call: String,
    },
    /// Call the key object named `key_id` with `call` (its `verify`).
    Object {
        key_id: String,
        hash: KeyHash,
        call: String,
    },
}

impl Step {
    /// `A{framed}`, `C{constant's id}`, `K{name}\n{hash}\n{call}` or
    /// `O{key id}\n{hash}\n{call}`.
    pub fn encode(&self) -> String {
        match self {
            Step::Answer(framed) => format!("{ANSWER}{framed}"),
            Step::Constant(c) => format!("{CONSTANT}{}", *c as u32),
            Step::Index { name, hash, call } => {
                format!("{INDEX}{name}\n{}\n{call}", hash.to_hex())
            }
            Step::Object { key_id, hash, call } => {
                format!("{OBJECT}{key_id}\n{}\n{call}", hash.to_hex())
            }
        }
    }
}

/// What a verify body asks of the key: its permissions and project, counted, its cost and
/// client address. The country is the key object's to add (the entry hands it over with the
/// call: `request.cf` is read only for a key that is in the index).
pub fn requirement(input: &VerifyRequest) -> Requirement {
    Requirement {
        permissions: input.permissions.iter().cloned().collect(),
        scope: input.project_id.clone().map_or(Scope::Any, Scope::Project),
        count: true,
        cost: input.cost,
        ip: input.ip,
        ..Default::default()
    }
}

/// The first step of a verification whose body the front parsed and whose key it found
/// well-formed (`hash`): `cached` looks the hash up in this isolate's index cache.
pub fn begin(
    input: &VerifyRequest,
    hash: KeyHash,
    cached: impl FnOnce(&KeyHash) -> Option<IndexEntry>,
) -> Step {
    let check = KeyCall::Check {
        hash,
        requirement: requirement(input),
    };
    let call = match serde_json::to_string(&check) {
        Ok(c) => c,
        Err(_) => return Step::Answer(Answer::problem(&ApiError::unavailable()).encode()),
    };
    match cached(&hash) {
        Some(entry) => Step::Object {
            key_id: entry.key_id.to_string(),
            hash,
            call,
        },
        None => Step::Index {
            name: index_name(&hash),
            hash,
            call,
        },
    }
}

/// After the KV read of [`Step::Index`]: the entry decoded (to be kept in the isolate's cache,
/// and its key's object called), or none for a key the index does not hold ([`unknown`]).
pub fn indexed(text: Option<&str>) -> Option<IndexEntry> {
    text.and_then(IndexEntry::decode)
}

/// The answer for a key nobody holds (as [`Step::encode`] writes it): a constant, framed by
/// the entry once per isolate (`Verdict::Refused` of `invalid_key`, a test holds them equal).
pub fn unknown() -> String {
    Step::Constant(Constant::InvalidKey).encode()
}

/// What the key object answers the entry's `verify`: the framed answer (tag included), or
/// empty when the object holds no such key (the worker then forgets the index entry it cached
/// and answers [`unknown`]).
pub fn object_answer(result: CheckResult, now: Timestamp) -> String {
    match result {
        CheckResult::Invalid => String::new(),
        result => Step::Answer(Verdict::of(result).answer(now).encode()).encode(),
    }
}

#[cfg(test)]
#[path = "verification_tests.rs"]
mod tests;
