//! `GET /v1/api-keys?idle_days=N` over the team's listing copy (the memory store, which the
//! team object's SQL follows): last use as `TouchKey` records it, paging kept.

use super::memory::MemoryTeam;
use super::*;
use crate::core::fixtures::{at, perms};
use crate::core::idle_filter::idle_cutoff;
use crate::core::limits::TeamLimits;
use crate::core::model::sample_record;
use crate::core::page::ListQuery;

fn team() -> MemoryTeam {
    let s = MemoryTeam::default();
    let t = Team {
        id: "team_1".into(),
        name: "Acme".into(),
        created_at: at("2026-01-01T00:00:00Z"),
        limits: TeamLimits::default(),
        leak_policy: Default::default(),
        auto_disable_idle_days: None,
        branding: Default::default(),
        require_totp: false,
    };
    init(&s, t).unwrap();
    s
}

fn ids(
    s: &MemoryTeam,
    days: i64,
    limit: usize,
    cursor: Option<i64>,
) -> (Vec<String>, Option<String>) {
    let q = ListQuery {
        limit,
        cursor,
        environment: None,
        project_id: None,
        idle_cutoff: idle_cutoff(days, at("2026-10-31T12:00:00Z")),
    };
    let p = list_keys(s, &q).unwrap();
    (
        p.items.into_iter().map(|k| k.id.to_string()).collect(),
        p.next_cursor,
    )
}

#[test]
fn the_listing_filters_by_last_use_or_creation_at_the_boundary() {
    let s = team();
    let admin = perms(&["admin:*"]);
    // Made 31 days before `now`, exactly; made 30 days and 1 ms before; made just now.
    insert_key(
        &s,
        sample_record("key_a", at("2026-09-30T12:00:00Z")),
        &admin,
    )
    .unwrap();
    insert_key(
        &s,
        sample_record("key_b", at("2026-10-01T11:59:59.999Z")),
        &admin,
    )
    .unwrap();
    insert_key(
        &s,
        sample_record("key_c", at("2026-10-31T12:00:00Z")),
        &admin,
    )
    .unwrap();
    assert_eq!(ids(&s, 0, 10, None).0, ["key_c", "key_b", "key_a"]);
    assert_eq!(ids(&s, 30, 10, None).0, ["key_b", "key_a"]);
    assert_eq!(ids(&s, 31, 10, None).0, ["key_a"]);
    assert!(ids(&s, 32, 10, None).0.is_empty());
    // A use 2 days ago makes the oldest key idle 2 days, whatever its age.
    touch_key(&s, "key_a", at("2026-10-29T12:00:00Z")).unwrap();
    assert_eq!(ids(&s, 30, 10, None).0, ["key_b"]);
    assert_eq!(ids(&s, 2, 10, None).0, ["key_b", "key_a"]);
    assert_eq!(ids(&s, 3, 10, None).0, ["key_b"]);
}

#[test]
fn idle_pages_keep_the_cursor() {
    let s = team();
    let admin = perms(&["admin:*"]);
    for i in 0..5 {
        // Even keys are old, odd keys new.
        let made = if i % 2 == 0 {
            "2026-01-01T00:00:00Z"
        } else {
            "2026-10-31T00:00:00Z"
        };
        insert_key(&s, sample_record(&format!("key_{i}"), at(made)), &admin).unwrap();
    }
    let (first, next) = ids(&s, 90, 2, None);
    assert_eq!(first, ["key_4", "key_2"]);
    let cursor = crate::core::page::decode_cursor(&next.unwrap());
    let (second, next) = ids(&s, 90, 2, cursor);
    assert_eq!(second, ["key_0"]);
    assert_eq!(next, None);
}
