//! Events: what happened, as the team's webhooks receive it. An event is made where its change
//! happens (a key's object, the team's object) and stored with that change, so it is never lost
//! and never made for a change that did not happen; delivery (`core::webhooks`, the team object)
//! comes after.
//!
//! The body is rendered once, when the event is made: `{"id", "type", "created_at", "team_id",
//! "data"}`, the exact bytes every endpoint receives and every signature covers.

use super::base62;
use super::model::KeyRecord;
use super::random::Random;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// One event, ready to deliver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `evt_…`: also the `webhook-id` header, the receivers' idempotency key.
    pub id: String,
    /// `api_key.created`, … (`core::webhooks::EVENTS`).
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: Timestamp,
    /// The JSON body, as delivered.
    pub body: String,
}

const ID_LEN: usize = 20;

/// A random event id (for events made once, by a request: `webhook.test`, members).
pub fn random_event_id(rng: &mut impl Random) -> String {
    format!("evt_{}", base62::random_string(rng, ID_LEN))
}

/// An event id derived from what makes the event unique (`seed`): an alarm that runs twice, or a
/// change whose hand-off is retried, makes the same id, which the team object keeps only once.
pub fn derived_event_id(seed: &str) -> String {
    derived_id("evt_", seed)
}

/// `prefix` and 20 base62 characters derived from `seed` (SHA-256, chained as needed).
pub fn derived_id(prefix: &str, seed: &str) -> String {
    struct Digested([u8; 32], usize);
    impl Random for Digested {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                if self.1 == self.0.len() {
                    self.0 = Sha256::digest(self.0).into();
                    self.1 = 0;
                }
                *b = self.0[self.1];
                self.1 += 1;
            }
        }
    }
    let mut bytes = Digested(Sha256::digest(seed.as_bytes()).into(), 0);
    format!("{prefix}{}", base62::random_string(&mut bytes, ID_LEN))
}

/// Renders an event: `data` is its JSON object.
pub fn event(id: String, kind: &str, team_id: &str, data: &Value, now: Timestamp) -> Event {
    #[derive(Serialize)]
    struct Envelope<'a> {
        id: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        created_at: Timestamp,
        team_id: &'a str,
        data: &'a Value,
    }
    let body = serde_json::to_string(&Envelope {
        id: &id,
        kind,
        created_at: now,
        team_id,
        data,
    })
    .expect("an event serializes");
    Event {
        id,
        kind: kind.to_owned(),
        created_at: now,
        body,
    }
}

/// A key event: `data` is the key as the API shows it (never its secret or hash), with `extra`
/// fields beside it (e.g. `previous_expires_at`). `seed` makes the id (see [`derived_event_id`]).
pub fn key_event(
    kind: &str,
    record: &KeyRecord,
    extra: &[(&str, Value)],
    seed: &str,
    now: Timestamp,
) -> Event {
    let mut data = match serde_json::to_value(record.view(now)) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in extra {
        data.insert((*k).to_owned(), v.clone());
    }
    let id = derived_event_id(&format!("{}:{seed}", record.id));
    event(id, kind, &record.team_id, &Value::Object(data), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::sample_record;

    #[test]
    fn derived_ids_are_stable_distinct_and_look_like_ids() {
        let a = derived_event_id("key_1:created:1");
        assert_eq!(a, derived_event_id("key_1:created:1"));
        assert_ne!(a, derived_event_id("key_1:created:2"));
        assert!(a.starts_with("evt_") && a.len() == 24);
        assert!(a[4..].bytes().all(base62::is_base62));
    }

    #[test]
    fn a_key_event_carries_the_key_view_and_never_its_secret() {
        let now = Timestamp::from_millis(1_700_000_000_000);
        let r = sample_record("key_1", now);
        let e = key_event(
            "api_key.renewed",
            &r,
            &[("previous_expires_at", Value::Null)],
            "s",
            now,
        );
        let body: Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(body["type"], "api_key.renewed");
        assert_eq!(body["id"], e.id.as_str());
        assert_eq!(body["team_id"], "team_1");
        assert_eq!(body["data"]["id"], "key_1");
        assert_eq!(body["data"]["status"], "active");
        assert!(body["data"].get("previous_expires_at").is_some());
        assert!(body["data"].get("hash").is_none() && body["data"].get("key").is_none());
        assert_eq!(e.kind, "api_key.renewed");
    }
}
