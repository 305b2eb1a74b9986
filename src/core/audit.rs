//! The audit log, the pure side: who did what, to what, with which changes, from where. An entry
//! is made where its change happens and stored with it (like an event, and through the same
//! outboxes: `as_event`), then kept by the team's events object for at least 90 days.
//!
//! Nothing secret goes in: `changes` names the fields a change set, with their new values only
//! for fields that are never secret (a key's secret, hash, a password, a session or webhook
//! secret are never among them); `user_agent` is cut to 256 characters.
//!
//! Key changes are recorded by the key object (`KeyCall::Audited`), team changes and sign-ins by
//! the team object (`AuditedTeamCall`), webhook changes by the events object
//! (`AuditedEventsCall`): docs/architecture.md, "The audit log".
//!
//! An entry about a key carries the key's project; every other entry is team-wide. A
//! project-scoped caller sees only its project's entries ([`visible`], the rule of
//! `core::access::sees`), never a team-wide one.
//!
//! Ids are unique: an entry about a key derives its id from the key's revision (the change it
//! records), so the key object's alarm re-sending it keeps it once; any other entry is made once,
//! in its change's transaction, with a random id ([`random_entry_id`]), and travels with that id.

use super::access::sees;
use super::base62;
use super::events::{derived_id, Event};
use super::ids::ProjectId;
use super::input::InputError;
use super::model::KeyRecord;
use super::page::{page_param, unknown_param, Page, DEFAULT_PAGE_LIMIT};
use super::random::Random;
use super::store::{StoreError, StoreResult};
use super::team::TeamResult;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Entries are kept at least this long, and never evicted before it to make room.
pub const RETENTION_MS: i64 = 90 * 86_400_000;
/// The alert mark: a team's log holding more than this many entries is reported (an error in
/// the Worker's logs on each hand-over) rather than trimmed. What writes entries is rate-limited
/// (keys by their limits, members 600 requests a minute, refused sign-ins once a minute per
/// email and client), which bounds the growth.
pub const MAX_ENTRIES: i64 = 200_000;
/// The kind an entry travels under through the events outboxes (never delivered to webhooks).
pub const AUDIT_EVENT: &str = "audit";
const MAX_USER_AGENT_CHARS: usize = 256;

type Result<T> = std::result::Result<T, InputError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Key,
    Member,
    Operator,
    System,
}

/// Who acted: a key (its id), a member (their id), the operator, or keygate itself (a renewal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: Option<String>,
}

/// What was acted on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// Where a change came from: the actor and the request's origin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub actor: Actor,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    pub fn new(actor: Actor, ip: Option<&str>, country: Option<&str>, ua: Option<&str>) -> Self {
        Origin {
            actor,
            ip: ip.map(|s| s.chars().take(64).collect()),
            country: country.map(str::to_owned),
            user_agent: ua.map(|s| s.chars().take(MAX_USER_AGENT_CHARS).collect()),
        }
    }
}

/// One entry of `GET /v1/audit-log`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub action: String,
    pub actor: Actor,
    pub target: Target,
    /// The project of the key the entry is about; `None` (and every entry stored before
    /// entries had it): team-wide.
    #[serde(default)]
    pub project_id: Option<ProjectId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Value>,
    pub at: Timestamp,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub user_agent: Option<String>,
}

pub fn entry(
    id: String,
    origin: &Origin,
    action: &str,
    target: Target,
    changes: Option<Value>,
    now: Timestamp,
) -> Entry {
    Entry {
        id,
        action: action.to_owned(),
        actor: origin.actor.clone(),
        target,
        project_id: None,
        changes,
        at: now,
        ip: origin.ip.clone(),
        country: origin.country.clone(),
        user_agent: origin.user_agent.clone(),
    }
}

/// The entry as it travels through an outbox to the events object.
pub fn as_event(e: &Entry) -> Event {
    Event {
        id: e.id.clone(),
        kind: AUDIT_EVENT.to_owned(),
        created_at: e.at,
        body: serde_json::to_string(e).expect("an entry serializes"),
    }
}

/// The audit entry of a change to a key, as it travels (`as_event`), in the key's project. Its
/// id derives from the same seed as the change's event (the key's revision, or what an alert is
/// about), so it is unique per change and a retried hand-over keeps it once.
pub fn key_entry(
    action: &str,
    record: &KeyRecord,
    origin: &Origin,
    changes: Option<Value>,
    seed: &str,
    now: Timestamp,
) -> Event {
    let id = derived_id("aud_", &format!("{}:{seed}", record.id));
    let target = Target {
        kind: "api_key".into(),
        id: record.id.to_string(),
    };
    let mut e = entry(id, origin, action, target, changes, now);
    e.project_id = record.project_id.clone();
    as_event(&e)
}

/// The id of an entry made once, in the transaction of its change, and kept with it: random, so
/// two changes of one target in the same millisecond are two entries.
pub fn random_entry_id(rng: &mut impl Random) -> String {
    format!("aud_{}", base62::random_string(rng, 20))
}

/// Does a caller of project `viewer` (`None`: team-wide) see an entry of project `entry`? A
/// team-wide caller sees every entry; a scoped one only its project's, never a team-wide one.
pub fn visible(viewer: Option<&str>, entry: Option<&str>) -> bool {
    sees(viewer, entry)
}

/// The fields a change set, from the JSON it was given (a patch): names and values, except
/// any field not in `shown`, which is named with no value.
pub fn changes(given: &Value, shown: &[&str]) -> Option<Value> {
    let Value::Object(fields) = given else {
        return None;
    };
    let out: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(k, v)| {
            let v = if shown.contains(&k.as_str()) {
                v.clone()
            } else {
                Value::String("(changed)".into())
            };
            (k.clone(), v)
        })
        .collect();
    (!out.is_empty()).then_some(Value::Object(out))
}

/// The events object's audit log. Same contract as the other stores: every call answers at once.
pub trait AuditStore {
    /// Stores an entry (an id already stored is ignored).
    fn insert_entry(&self, e: &Entry) -> StoreResult<()>;
    /// One page, newest first, with the query's filters; with `q.project_id`, only the entries
    /// of that project (see [`visible`]).
    fn entries(&self, q: &AuditQuery) -> StoreResult<Page<Entry>>;
    /// Removes entries made before `before` (and only those: nothing younger goes to make room).
    fn prune_entries(&self, before: Timestamp) -> StoreResult<()>;
    /// About how many entries are kept (the span of their positions: cheap to read).
    fn entry_span(&self) -> StoreResult<i64>;
}

/// Keeps the audit entries among handed-over events (kind [`AUDIT_EVENT`]), and prunes.
pub fn record_entries(s: &impl AuditStore, events: &[Event], now: Timestamp) -> TeamResult<()> {
    let mut any = false;
    for e in events.iter().filter(|e| e.kind == AUDIT_EVENT) {
        let entry: Entry = serde_json::from_str(&e.body)
            .map_err(|err| StoreError(format!("an audit entry: {err}")))?;
        s.insert_entry(&entry)?;
        any = true;
    }
    if any {
        let before = Timestamp::from_millis(now.millis() - RETENTION_MS);
        s.prune_entries(before)?;
    }
    Ok(())
}

/// Is the log past its alert mark ([`MAX_ENTRIES`])? Then the events object reports it.
pub fn past_alert_mark(s: &impl AuditStore) -> StoreResult<bool> {
    Ok(s.entry_span()? > MAX_ENTRIES)
}

/// A page of the log as a caller of project `viewer` (`None`: team-wide) sees it: a scoped
/// caller's query is confined to its project, whatever it asked.
pub fn list(
    s: &impl AuditStore,
    q: &AuditQuery,
    viewer: Option<&ProjectId>,
) -> TeamResult<Page<Entry>> {
    let q = AuditQuery {
        project_id: viewer.cloned(),
        ..q.clone()
    };
    Ok(s.entries(&q)?)
}

/// `GET /v1/audit-log` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub limit: usize,
    pub cursor: Option<i64>,
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    /// Only this project's entries: set by [`list`] from the caller, never from the request.
    #[serde(default)]
    pub project_id: Option<ProjectId>,
}

pub fn parse_audit_query(pairs: &[(String, String)]) -> Result<AuditQuery> {
    let mut q = AuditQuery {
        limit: DEFAULT_PAGE_LIMIT,
        ..AuditQuery::default()
    };
    let text = |k: &str, v: &str| -> Result<Option<String>> {
        // Compared as given with what is stored (a bound parameter): any text will do.
        if v.is_empty() || v.chars().count() > 100 {
            return Err(InputError::invalid(k, "must be 1 to 100 characters"));
        }
        Ok(Some(v.to_owned()))
    };
    for (k, v) in pairs {
        if page_param(k, v, &mut q.limit, &mut q.cursor)? {
            continue;
        }
        match k.as_str() {
            "action" => q.action = text(k, v)?,
            "actor_id" => q.actor_id = text(k, v)?,
            "target_id" => q.target_id = text(k, v)?,
            other => return Err(unknown_param(other)),
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> Origin {
        let ua = "x".repeat(1000);
        Origin::new(
            Actor {
                kind: ActorKind::Member,
                id: Some("mem_1".into()),
            },
            Some("203.0.113.7"),
            Some("DE"),
            Some(&ua),
        )
    }

    #[test]
    fn an_entry_says_who_what_and_where_and_travels_as_an_event() {
        let t = Timestamp::from_millis(1_800_000_000_000);
        let target = Target {
            kind: "api_key".into(),
            id: "key_1".into(),
        };
        let e = entry(
            "aud_1".into(),
            &origin(),
            "api_key.updated",
            target,
            None,
            t,
        );
        assert_eq!(e.user_agent.as_ref().unwrap().len(), 256);
        let ev = as_event(&e);
        assert_eq!((ev.kind.as_str(), ev.id.as_str()), (AUDIT_EVENT, "aud_1"));
        let body: Value = serde_json::from_str(&ev.body).unwrap();
        assert_eq!(body["actor"], json!({"type": "member", "id": "mem_1"}));
        assert_eq!(body["target"], json!({"type": "api_key", "id": "key_1"}));
        assert!(body.get("changes").is_none());
    }

    #[test]
    fn changes_show_only_what_may_be_shown() {
        let given = json!({"name": "new", "password": "hunter2 hunter2", "permissions": ["a:b"]});
        let c = changes(&given, &["name", "permissions"]).unwrap();
        assert_eq!(c["name"], "new");
        assert_eq!(c["password"], "(changed)");
        assert!(!c.to_string().contains("hunter2"));
        assert_eq!(changes(&json!({}), &[]), None);
    }

    #[test]
    fn entries_are_kept_once_pruned_by_age_and_never_evicted_younger() {
        use crate::core::team::memory::MemoryTeam;
        let s = MemoryTeam::default();
        let day = 86_400_000;
        let at = |d: i64| Timestamp::from_millis(1_800_000_000_000 + d * day);
        let target = |id: &str| Target {
            kind: "api_key".into(),
            id: id.into(),
        };
        let ev = |id: &str, d: i64| {
            as_event(&entry(
                id.into(),
                &origin(),
                "api_key.updated",
                target("key_1"),
                None,
                at(d),
            ))
        };
        record_entries(
            &s,
            &[ev("aud_1", 0), ev("aud_1", 0), ev("aud_2", 50)],
            at(50),
        )
        .unwrap();
        let q = AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        };
        assert_eq!(list(&s, &q, None).unwrap().items.len(), 2, "an id once");
        // 91 days after the first: it goes, the second stays.
        record_entries(&s, &[ev("aud_3", 91)], at(91)).unwrap();
        let ids: Vec<String> = list(&s, &q, None)
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, ["aud_3", "aud_2"], "newest first, the 90-day window");
        // Entries younger than 90 days are never evicted to make room: the log reports
        // itself past the alert mark instead.
        for i in 0..5 {
            record_entries(&s, &[ev(&format!("aud_x{i}"), 91)], at(91)).unwrap();
        }
        assert_eq!(list(&s, &q, None).unwrap().items.len(), 7, "none evicted");
        assert!(!past_alert_mark(&s).unwrap());
        // Non-audit events are not entries.
        let other = Event {
            id: "evt_1".into(),
            kind: "api_key.created".into(),
            created_at: at(91),
            body: "{}".into(),
        };
        record_entries(&s, &[other], at(91)).unwrap();
        assert_eq!(list(&s, &q, None).unwrap().items.len(), 7);
    }

    /// Issue 17, rule 6: a key scoped to project A read B's `api_key.created` entries.
    #[test]
    fn a_scoped_caller_sees_its_projects_entries_and_no_team_wide_one() {
        use crate::core::model::sample_record;
        use crate::core::team::memory::MemoryTeam;
        let s = MemoryTeam::default();
        let now = Timestamp::from_millis(1_800_000_000_000);
        let key = |id: &str, project: Option<&str>| {
            let mut r = sample_record(id, now);
            r.project_id = project.map(Into::into);
            key_entry("api_key.created", &r, &origin(), None, "created:1", now)
        };
        let team_wide = as_event(&entry(
            "aud_team".into(),
            &origin(),
            "project.created",
            Target {
                kind: "project".into(),
                id: "proj_a".into(),
            },
            None,
            now,
        ));
        let events = [
            key("key_a", Some("proj_a")),
            key("key_b", Some("proj_b")),
            key("key_all", None),
            team_wide,
        ];
        record_entries(&s, &events, now).unwrap();
        let targets = |viewer: Option<&str>, q: AuditQuery| -> Vec<String> {
            let viewer = viewer.map(ProjectId::from);
            list(&s, &q, viewer.as_ref())
                .unwrap()
                .items
                .into_iter()
                .map(|e| e.target.id)
                .collect()
        };
        let all = AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        };
        assert_eq!(
            targets(Some("proj_a"), all.clone()),
            ["key_a"],
            "neither B's key, an unscoped key's nor a team-wide entry"
        );
        assert_eq!(targets(Some("proj_b"), all.clone()), ["key_b"]);
        assert_eq!(
            targets(None, all.clone()),
            ["proj_a", "key_all", "key_b", "key_a"],
            "a team-wide caller sees everything"
        );
        // A filter cannot reach past the scope, and a query cannot widen it.
        let of_b = AuditQuery {
            target_id: Some("key_b".into()),
            project_id: Some("proj_b".into()),
            ..all.clone()
        };
        assert!(targets(Some("proj_a"), of_b).is_empty());
        // The entry says its project; one stored before entries had it is team-wide.
        let shown = list(&s, &all, Some(&"proj_a".into())).unwrap().items;
        assert_eq!(shown[0].project_id.as_deref(), Some("proj_a"));
        let mut old: Value = serde_json::from_str(&events[1].body).unwrap();
        old.as_object_mut().unwrap().remove("project_id");
        let old: Entry = serde_json::from_value(old).unwrap();
        assert_eq!(old.project_id, None);
        assert!(visible(None, None) && !visible(Some("proj_a"), None));
        assert!(
            !visible(Some("proj_a"), Some("proj_b")) && visible(Some("proj_a"), Some("proj_a"))
        );
    }

    /// Issue 17: ids derived from action + target + millisecond collided. A key's entries derive
    /// theirs from the change (the key's revision), so two changes in one millisecond are two
    /// entries and the same change handed over twice is one.
    #[test]
    fn a_keys_entries_are_one_per_change_and_kept_once() {
        use crate::core::model::sample_record;
        use crate::core::team::memory::MemoryTeam;
        let s = MemoryTeam::default();
        let now = Timestamp::from_millis(1_800_000_000_000);
        let r = sample_record("key_1", now);
        let change = |revision: u64| {
            let seed = format!("api_key.updated:{revision}");
            key_entry("api_key.updated", &r, &origin(), None, &seed, now)
        };
        let (first, second) = (change(2), change(3));
        assert_ne!(first.id, second.id, "same action, target and millisecond");
        assert_eq!(first, change(2), "the same change makes the same entry");
        // The key's alarm hands the outbox over again (its answer was lost): once each.
        record_entries(&s, &[first.clone(), second], now).unwrap();
        record_entries(&s, &[first], now).unwrap();
        let q = AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        };
        assert_eq!(list(&s, &q, None).unwrap().items.len(), 2);
    }

    #[test]
    fn random_entry_ids_look_like_ids() {
        let mut rng = crate::core::random::FixedRandom((0..=255).collect(), 0);
        let (a, b) = (random_entry_id(&mut rng), random_entry_id(&mut rng));
        assert!(a.starts_with("aud_") && a.len() == 24 && a != b);
        assert!(a[4..].bytes().all(base62::is_base62));
    }

    #[test]
    fn the_query_takes_its_filters_and_refuses_others() {
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
        };
        let q =
            parse_audit_query(&pairs(&[("action", "api_key.created"), ("limit", "5")])).unwrap();
        assert_eq!((q.action.as_deref(), q.limit), (Some("api_key.created"), 5));
        assert!(parse_audit_query(&pairs(&[("limit", "0")])).is_err());
        assert!(parse_audit_query(&pairs(&[("actor", "x")])).is_err());
        assert!(parse_audit_query(&pairs(&[("cursor", "nope")])).is_err());
        assert!(parse_audit_query(&pairs(&[("target_id", "")])).is_err());
    }
}
