use super::*;
use crate::core::audit::{Actor, ActorKind};
use crate::core::fixtures::{perms, record};
use crate::core::members::{session_id, Email, Session};
use crate::core::model::Team;
use crate::core::portal::{PortalUser, PORTAL_TTL_MS};
use crate::core::team::membership::{add_owner, end_own_session, list_sessions};
use crate::core::team::memory::MemoryTeam;

const T0: i64 = 1_800_000_000_000;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(T0 + ms)
}

fn team() -> MemoryTeam {
    let s = MemoryTeam::default();
    s.insert_team(&Team {
        id: "team_1".into(),
        name: "Acme".into(),
        created_at: at(0),
        limits: Default::default(),
        leak_policy: Default::default(),
        auto_disable_idle_days: None,
        branding: Default::default(),
        require_totp: false,
    })
    .unwrap();
    s
}

fn grant(token: &str, external: &str, email: &str, role: MemberRole, by: Opener) -> PortalGrant {
    PortalGrant {
        id: format!("ps_{token}"),
        token_hash: format!("hash-{token}"),
        user: PortalUser {
            external_id: external.into(),
            email: Email::parse(email).unwrap(),
            name: Some("Ada".into()),
        },
        role,
        return_url: "https://app.acme.test/settings".into(),
        opened_by: by,
        created_at: at(0),
        expires_at: at(PORTAL_TTL_MS),
        used_at: None,
    }
}

fn refusal<T: std::fmt::Debug>(r: TeamResult<T>) -> TeamRefusal {
    match r {
        Err(TeamError::Refused(x)) => x,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn origin() -> Origin {
    let actor = Actor {
        kind: ActorKind::Member,
        id: None,
    };
    Origin::new(actor, Some("203.0.113.9"), Some("DE"), Some("Firefox"))
}

fn arrive(s: &MemoryTeam, token: &str, new_member: &str, now: Timestamp) -> TeamResult<SignedIn> {
    let meta = SessionMeta::new(Some("Firefox"), Some("DE"));
    let session = format!("sess-{token}");
    use_portal(
        s,
        &format!("hash-{token}"),
        new_member.into(),
        &session,
        meta,
        Some(&origin()),
        now,
    )
}

/// A key of the team holding `permissions` (listed, as the team object sees keys).
fn key(s: &MemoryTeam, id: &str, permissions: &[&str]) -> Changer {
    let mut r = record(permissions);
    r.id = id.into();
    r.team_id = "team_1".into();
    s.insert_key(&r).unwrap();
    Changer::Key(perms(permissions))
}

#[test]
fn a_link_opens_one_session_once_within_five_minutes() {
    let s = team();
    let op = operator_changer();
    let g = grant(
        "t1",
        "u_1",
        "ada@acme.test",
        MemberRole::Developer,
        Opener::Operator,
    );
    let opened = open_portal(&s, g, op.clone(), at(0)).unwrap();
    assert_eq!(opened.expires_at, at(PORTAL_TTL_MS));
    let done = arrive(&s, "t1", "mem_new", at(1_000)).unwrap();
    assert_eq!(done.member.id.as_str(), "mem_new");
    assert_eq!(done.member.role, MemberRole::Developer);
    assert_eq!(done.member.external_id.as_deref(), Some("u_1"));
    // An ordinary session, which remembers its client and where "Back to …" leads.
    let session = s.session("sess-t1").unwrap().unwrap();
    assert_eq!(session.member_id, "mem_new");
    assert_eq!(session.meta.user_agent.as_deref(), Some("Firefox"));
    assert_eq!(
        session.meta.return_url.as_deref(),
        Some("https://app.acme.test/settings")
    );
    // Used once: the second use is refused, and opens nothing.
    assert_eq!(
        refusal(arrive(&s, "t1", "mem_2", at(2_000))),
        TeamRefusal::PortalSpent
    );
    assert!(s.session("sess-t1").unwrap().is_some());
    // Expired: refused at the fifth minute exactly.
    let g = grant(
        "t2",
        "u_1",
        "ada@acme.test",
        MemberRole::Developer,
        Opener::Operator,
    );
    open_portal(&s, g, op, at(0)).unwrap();
    assert_eq!(
        refusal(arrive(&s, "t2", "mem_3", at(PORTAL_TTL_MS))),
        TeamRefusal::PortalSpent
    );
    // Never issued: not found.
    assert_eq!(
        refusal(arrive(&s, "forged", "mem_4", at(1))),
        TeamRefusal::PortalNotFound
    );
    // A member, not a password: the stored hash matches no derivation.
    let m = s.member("mem_new").unwrap().unwrap();
    assert!(crate::core::members::PasswordHash::decode(&m.password).is_none());
}

#[test]
fn the_member_is_made_once_and_takes_each_links_role() {
    let s = team();
    let op = operator_changer();
    for (n, role) in [MemberRole::Viewer, MemberRole::Admin, MemberRole::Developer]
        .into_iter()
        .enumerate()
    {
        let token = format!("t{n}");
        let g = grant(&token, "u_9", "bo@acme.test", role, Opener::Operator);
        open_portal(&s, g, op.clone(), at(n as i64)).unwrap();
        let done = arrive(&s, &token, &format!("mem_{n}"), at(n as i64 + 1)).unwrap();
        assert_eq!(
            done.member.id.as_str(),
            "mem_0",
            "the same member each time"
        );
        assert_eq!(done.member.role, role);
    }
    assert_eq!(s.count_members().unwrap(), 1);
    // Each arrival is audited, naming the link and the member, never the token.
    let held = s.held_events().unwrap();
    let used: Vec<_> = held
        .iter()
        .filter(|e| e.body.contains("portal_session.used"))
        .collect();
    assert_eq!(used.len(), 3);
    assert!(used
        .iter()
        .all(|e| !e.body.contains("hash-t") && e.body.contains("ps_t")));
    assert_eq!(
        held.iter()
            .filter(|e| e.body.contains("member.added"))
            .count(),
        1
    );
}

#[test]
fn a_link_never_grants_above_its_opener() {
    let s = team();
    let writer = key(&s, "key_w", &["members:write"]);
    let dev_grant = grant(
        "t1",
        "u_1",
        "a@acme.test",
        MemberRole::Developer,
        Opener::Key("key_w".into()),
    );
    match refusal(open_portal(&s, dev_grant, writer, at(0))) {
        TeamRefusal::MissingPermission { .. } => {}
        other => panic!("{other:?}"),
    }
    let admin = key(&s, "key_a", &["admin:*"]);
    let by_a = || Opener::Key("key_a".into());
    // Only the operator gives `owner`.
    let owner = grant("t2", "u_2", "b@acme.test", MemberRole::Owner, by_a());
    assert_eq!(
        refusal(open_portal(&s, owner, admin.clone(), at(0))),
        TeamRefusal::Member(MemberDenial::OwnerOnly)
    );
    let g = grant(
        "t3",
        "u_3",
        "c@acme.test",
        MemberRole::Owner,
        Opener::Operator,
    );
    open_portal(&s, g, operator_changer(), at(0)).unwrap();
    arrive(&s, "t3", "mem_o", at(1)).unwrap();
    // Nor signs anyone in as an owner (that is acting as one), even with the owner's role.
    let as_owner = grant("t4", "u_3", "c@acme.test", MemberRole::Admin, by_a());
    assert_eq!(
        refusal(open_portal(&s, as_owner, admin.clone(), at(2))),
        TeamRefusal::Member(MemberDenial::OwnerOnly)
    );
    // The last owner stays one, even for the operator.
    let demote = grant(
        "t5",
        "u_3",
        "c@acme.test",
        MemberRole::Admin,
        Opener::Operator,
    );
    assert_eq!(
        refusal(open_portal(&s, demote, operator_changer(), at(2))),
        TeamRefusal::Member(MemberDenial::LastOwner)
    );
    // A new member's email must be free: a link never takes over a password member.
    add_owner(&s, member_with_password("mem_p", "pw@acme.test")).unwrap();
    let takeover = grant("t6", "u_6", "PW@acme.test", MemberRole::Viewer, by_a());
    assert_eq!(
        refusal(open_portal(&s, takeover, admin, at(3))),
        TeamRefusal::EmailTaken
    );
}

fn member_with_password(id: &str, email: &str) -> Member {
    Member {
        id: id.into(),
        email: Email::parse(email).unwrap(),
        role: MemberRole::Owner,
        password: "pbkdf2-sha256$1$00$00".into(),
        created_at: at(0),
        last_login_at: None,
        external_id: None,
        name: None,
        totp: Default::default(),
    }
}

#[test]
fn the_opener_is_judged_again_when_the_link_is_used() {
    let s = team();
    let admin = key(&s, "key_a", &["admin:*"]);
    let g = grant(
        "t1",
        "u_1",
        "a@acme.test",
        MemberRole::Admin,
        Opener::Key("key_a".into()),
    );
    open_portal(&s, g, admin.clone(), at(0)).unwrap();
    // The key is narrowed to members:write in between: the admin link opens nothing.
    let mut r = s.key("key_a").unwrap().unwrap();
    r.permissions = perms(&["members:write"]);
    s.touch_key(&r).unwrap();
    match refusal(arrive(&s, "t1", "mem_1", at(1))) {
        TeamRefusal::MissingPermission { .. } => {}
        other => panic!("{other:?}"),
    }
    assert!(s.member("mem_1").unwrap().is_none());
    assert_eq!(
        refusal(arrive(&s, "t1", "mem_1", at(2))),
        TeamRefusal::PortalSpent,
        "used up"
    );
    // A key gone from the listing: the link is spent.
    let g = grant(
        "t2",
        "u_2",
        "b@acme.test",
        MemberRole::Viewer,
        Opener::Key("key_a".into()),
    );
    let mut r = s.key("key_a").unwrap().unwrap();
    r.permissions = perms(&["admin:*"]);
    s.touch_key(&r).unwrap();
    open_portal(&s, g, admin, at(3)).unwrap();
    s.remove_key("key_a").unwrap();
    assert_eq!(
        refusal(arrive(&s, "t2", "mem_2", at(4))),
        TeamRefusal::PortalSpent
    );
    assert!(s.member("mem_2").unwrap().is_none());
}

#[test]
fn links_are_forgotten_an_hour_after_expiry_and_bounded() {
    let s = team();
    let op = operator_changer();
    for n in 0..MAX_PORTAL_SESSIONS {
        let g = grant(
            &format!("t{n}"),
            "u",
            "a@acme.test",
            MemberRole::Viewer,
            Opener::Operator,
        );
        open_portal(&s, g, op.clone(), at(0)).unwrap();
    }
    let one_more = grant(
        "x",
        "u",
        "a@acme.test",
        MemberRole::Viewer,
        Opener::Operator,
    );
    assert!(matches!(
        refusal(open_portal(&s, one_more.clone(), op.clone(), at(1))),
        TeamRefusal::LimitReached(_)
    ));
    let later = at(PORTAL_TTL_MS + PORTAL_KEPT_MS + 1);
    open_portal(&s, one_more, op, later).unwrap();
    assert_eq!(s.count_portals().unwrap(), 1);
    assert_eq!(
        refusal(arrive(&s, "t0", "mem_1", later)),
        TeamRefusal::PortalNotFound
    );
}

#[test]
fn a_member_lists_and_ends_their_own_sessions_by_id() {
    let s = team();
    let op = operator_changer();
    for t in ["a", "b"] {
        let g = grant(
            t,
            "u_1",
            "a@acme.test",
            MemberRole::Viewer,
            Opener::Operator,
        );
        open_portal(&s, g, op.clone(), at(0)).unwrap();
    }
    arrive(&s, "a", "mem_1", at(1)).unwrap();
    arrive(&s, "b", "mem_1", at(2)).unwrap();
    // Another member's session.
    let other = Session {
        member_id: "mem_other".into(),
        created_at: at(0),
        last_seen_at: at(0),
        meta: Default::default(),
    };
    s.put_session("sess-other", &other).unwrap();
    let list = list_sessions(&s, "mem_1", "sess-b", at(3)).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, session_id("sess-b"), "newest first");
    assert!(list[0].current && !list[1].current);
    assert_eq!(list[1].country.as_deref(), Some("DE"));
    let shown = serde_json::to_string(&list).unwrap();
    assert!(
        !shown.contains("sess-"),
        "ids are neither tokens nor hashes: {shown}"
    );
    assert_eq!(
        refusal(end_own_session(&s, "mem_1", &session_id("sess-other"))),
        TeamRefusal::SessionNotFound
    );
    assert!(s.session("sess-other").unwrap().is_some());
    end_own_session(&s, "mem_1", &session_id("sess-a")).unwrap();
    assert!(s.session("sess-a").unwrap().is_none());
    assert_eq!(
        list_sessions(&s, "mem_1", "sess-b", at(3)).unwrap().len(),
        1
    );
    // Old sessions (stored before the client was kept) still load.
    let old: Session = serde_json::from_str(
        r#"{"member_id":"mem_1","created_at":"2027-01-15T08:00:00Z","last_seen_at":"2027-01-15T08:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!(old.meta, SessionMeta::default());
}
