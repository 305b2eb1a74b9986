use super::*;
use crate::core::audit::Origin;
use crate::core::members::{Email, Inviter, MemberDenial, Session, SESSION_IDLE_MS};
use crate::core::permission::{Permission, PermissionSet};
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

fn person(id: &str, email: &str, role: MemberRole) -> Member {
    Member {
        id: id.into(),
        email: Email::parse(email).unwrap(),
        role,
        password: format!("hash-of-{id}"),
        created_at: at(0),
        last_login_at: None,
        external_id: None,
        name: None,
        totp: Default::default(),
    }
}

/// An API key holding `admin:*`.
fn admin_key() -> Changer {
    Changer::Key(PermissionSet::new([Permission::new_static("admin:*")]))
}

fn refusal<T: std::fmt::Debug>(r: TeamResult<T>) -> TeamRefusal {
    match r {
        Err(TeamError::Refused(x)) => x,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn with_owner() -> MemoryTeam {
    let s = team();
    add_owner(&s, person("mem_o", "Owner@Acme.test", MemberRole::Viewer)).unwrap();
    s
}

/// A session of `member` under the token hash `hash`, opened at the start of the clock.
fn open_session(s: &MemoryTeam, member: &str, hash: &str) {
    let session = Session {
        member_id: member.into(),
        created_at: at(0),
        last_seen_at: at(0),
        meta: Default::default(),
    };
    s.put_session(hash, &session).unwrap();
}

#[test]
fn the_first_member_is_an_owner_and_emails_are_unique_without_case() {
    let s = with_owner();
    assert_eq!(s.member("mem_o").unwrap().unwrap().role, MemberRole::Owner);
    let dup = person("mem_x", "owner@acme.TEST", MemberRole::Viewer);
    assert_eq!(refusal(add_owner(&s, dup)), TeamRefusal::EmailTaken);
    let inv = Invitation {
        id: "inv_1".into(),
        email: Email::parse("OWNER@acme.test").unwrap(),
        role: MemberRole::Viewer,
        created_at: at(0),
        expires_at: at(1000),
        token_hash: "h1".into(),
        invited_by: None,
    };
    assert_eq!(
        refusal(invite(&s, inv, Changer::Member(MemberRole::Owner))),
        TeamRefusal::EmailTaken
    );
}

#[test]
fn the_last_owner_stays_and_only_owners_touch_owners() {
    let s = with_owner();
    let owner = Changer::Member(MemberRole::Owner);
    assert_eq!(
        refusal(change_role(&s, "mem_o", MemberRole::Admin, owner.clone())),
        TeamRefusal::Member(MemberDenial::LastOwner)
    );
    assert_eq!(
        refusal(remove_member(&s, "mem_o", owner.clone(), at(1))),
        TeamRefusal::Member(MemberDenial::LastOwner)
    );
    s.insert_member(&person("mem_a", "admin@acme.test", MemberRole::Admin))
        .unwrap();
    let admin = Changer::Member(MemberRole::Admin);
    assert_eq!(
        refusal(change_role(&s, "mem_a", MemberRole::Owner, admin.clone())),
        TeamRefusal::Member(MemberDenial::OwnerOnly)
    );
    assert_eq!(
        refusal(remove_member(&s, "mem_o", admin.clone(), at(1))),
        TeamRefusal::Member(MemberDenial::OwnerOnly)
    );
    // An owner makes a second owner; then the first may step down.
    change_role(&s, "mem_a", MemberRole::Owner, owner.clone()).unwrap();
    assert_eq!(
        change_role(&s, "mem_o", MemberRole::Viewer, owner.clone())
            .unwrap()
            .role,
        MemberRole::Viewer
    );
    assert_eq!(
        refusal(get_member(&s, "mem_nope")),
        TeamRefusal::MemberNotFound
    );
}

#[test]
fn removing_a_member_ends_their_sessions() {
    let s = with_owner();
    s.insert_member(&person("mem_d", "dev@acme.test", MemberRole::Developer))
        .unwrap();
    open_session(&s, "mem_d", "sess-d");
    assert_eq!(
        authenticate(&s, "sess-d", at(1))
            .unwrap()
            .signed_in
            .member
            .role,
        MemberRole::Developer
    );
    remove_member(&s, "mem_d", Changer::Member(MemberRole::Admin), at(1)).unwrap();
    assert_eq!(
        refusal(authenticate(&s, "sess-d", at(2))),
        TeamRefusal::InvalidSession
    );
    // `member.removed`, held with the change for the team's events object.
    let held = s.held_events().unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].kind, "member.removed");
    let body: serde_json::Value = serde_json::from_str(&held[0].body).unwrap();
    assert_eq!(body["data"]["id"], "mem_d");
    assert!(!held[0].body.contains("password"), "never a password hash");
}

#[test]
fn a_role_change_is_seen_by_the_next_authentication() {
    let s = with_owner();
    s.insert_member(&person("mem_d", "dev@acme.test", MemberRole::Developer))
        .unwrap();
    open_session(&s, "mem_d", "sess-d");
    change_role(&s, "mem_d", MemberRole::Viewer, admin_key()).unwrap();
    assert_eq!(
        authenticate(&s, "sess-d", at(1))
            .unwrap()
            .signed_in
            .member
            .role,
        MemberRole::Viewer
    );
}

#[test]
fn sessions_expire_when_idle_and_requests_keep_them_alive() {
    let s = with_owner();
    open_session(&s, "mem_o", "sess");
    // A request after 11 hours moves the idle deadline.
    authenticate(&s, "sess", at(11 * 3_600_000)).unwrap();
    authenticate(&s, "sess", at(22 * 3_600_000)).unwrap();
    assert_eq!(
        refusal(authenticate(
            &s,
            "sess",
            at(22 * 3_600_000 + SESSION_IDLE_MS)
        )),
        TeamRefusal::InvalidSession
    );
    assert!(
        s.session("sess").unwrap().is_none(),
        "an ended session is removed"
    );
}

#[test]
fn invitations_are_used_once_and_expire() {
    let s = with_owner();
    let inv = |id: &str, hash: &str, email: &str| Invitation {
        id: id.into(),
        email: Email::parse(email).unwrap(),
        role: MemberRole::Developer,
        created_at: at(0),
        expires_at: at(1000),
        token_hash: hash.into(),
        invited_by: Some(Inviter::Member("mem_o".into())),
    };
    invite(&s, inv("inv_1", "tok1", "new@acme.test"), admin_key()).unwrap();
    let done = accept(
        &s,
        "tok1",
        "mem_n".into(),
        "pw".into(),
        "sess-n",
        Default::default(),
        at(10),
    )
    .unwrap();
    assert_eq!(done.member.role, MemberRole::Developer);
    assert_eq!(done.member.email.as_str(), "new@acme.test");
    assert_eq!(
        authenticate(&s, "sess-n", at(11))
            .unwrap()
            .signed_in
            .member
            .id,
        "mem_n"
    );
    assert_eq!(
        refusal(accept(
            &s,
            "tok1",
            "mem_m".into(),
            "pw".into(),
            "sess-m",
            Default::default(),
            at(12)
        )),
        TeamRefusal::InvalidInvitation
    );
    invite(&s, inv("inv_2", "tok2", "late@acme.test"), admin_key()).unwrap();
    assert_eq!(
        refusal(accept(
            &s,
            "tok2",
            "mem_l".into(),
            "pw".into(),
            "sess-l",
            Default::default(),
            at(1000)
        )),
        TeamRefusal::InvitationExpired
    );
    assert!(s.member("mem_l").unwrap().is_none(), "nothing half-made");
    // A new invitation for the same email replaces the pending one.
    invite(&s, inv("inv_3", "tok3", "late@acme.test"), admin_key()).unwrap();
    assert!(s.invitation("inv_2").unwrap().is_none());
    assert_eq!(
        refusal(
            invite(
                &s,
                inv("inv_4", "tok4", "x@acme.test").clone(),
                Changer::Member(MemberRole::Admin)
            )
            .and_then(|_| {
                invite(
                    &s,
                    Invitation {
                        role: MemberRole::Owner,
                        ..inv("inv_5", "tok5", "y@acme.test")
                    },
                    Changer::Member(MemberRole::Admin),
                )
            })
        ),
        TeamRefusal::Member(MemberDenial::OwnerOnly)
    );
}

#[test]
fn sign_in_counts_failures_and_throttles_after_ten() {
    let s = with_owner();
    let key = "owner@acme.test";
    let creds = sign_in_start(&s, key, Some("10.0.0.1"), at(0)).unwrap();
    assert_eq!(creds.member_id.as_deref(), Some("mem_o"));
    assert_eq!(creds.password.as_deref(), Some("hash-of-mem_o"));
    for i in 0..10 {
        sign_in_start(&s, key, None, at(i)).unwrap();
        assert_eq!(
            refusal(sign_in_finish(
                &s,
                key,
                None,
                None,
                Default::default(),
                None,
                Default::default(),
                at(i)
            )),
            TeamRefusal::InvalidCredentials
        );
    }
    assert!(matches!(
        refusal(sign_in_start(&s, key, None, at(20))),
        TeamRefusal::SignInThrottled { retry_after: 900 }
    ));
    // Another email is not throttled by these; after the window, this one is free again.
    assert!(sign_in_start(&s, "other@acme.test", None, at(20)).is_ok());
    assert!(sign_in_start(&s, key, None, at(15 * 60_000)).is_ok());
}

#[test]
fn unknown_emails_and_teams_get_no_hash_and_a_success_opens_a_session() {
    let s = with_owner();
    let none = sign_in_start(&s, "ghost@acme.test", None, at(0)).unwrap();
    assert_eq!(
        none,
        Credentials {
            member_id: None,
            password: None
        }
    );
    let empty = MemoryTeam::default();
    assert_eq!(
        sign_in_start(&empty, "owner@acme.test", None, at(0))
            .unwrap()
            .password,
        None
    );
    let done = sign_in_finish(
        &s,
        "owner@acme.test",
        None,
        Some(("mem_o", "sess-o")),
        Default::default(),
        None,
        Default::default(),
        at(5),
    )
    .unwrap();
    assert_eq!(done.team.name, "Acme");
    assert_eq!(done.member.last_login_at, Some(at(5)));
    assert!(authenticate(&s, "sess-o", at(6)).is_ok());
    end_session(&s, "sess-o").unwrap();
    assert_eq!(
        refusal(authenticate(&s, "sess-o", at(7))),
        TeamRefusal::InvalidSession
    );
}

#[test]
fn a_new_password_ends_every_other_session() {
    let s = with_owner();
    for h in ["a", "b", "c"] {
        open_session(&s, "mem_o", h);
    }
    set_password(&s, "mem_o", "new-hash".into(), "b", None).unwrap();
    assert_eq!(password_of(&s, "mem_o", None, at(0)).unwrap(), "new-hash");
    assert!(authenticate(&s, "b", at(1)).is_ok());
    for h in ["a", "c"] {
        assert_eq!(
            refusal(authenticate(&s, h, at(1))),
            TeamRefusal::InvalidSession
        );
    }
}

// Issue 17: granting through members is granting; sign-in and password guessing.

fn key_holding(perms: &[&str]) -> Changer {
    Changer::Key(PermissionSet::new(
        perms.iter().map(|p| Permission::new_static(p)),
    ))
}

fn invitation(id: &str, email: &str, role: MemberRole, by: Option<Inviter>) -> Invitation {
    Invitation {
        id: id.into(),
        email: Email::parse(email).unwrap(),
        role,
        created_at: at(0),
        expires_at: at(7 * 86_400_000),
        token_hash: format!("tok-{id}"),
        invited_by: by,
    }
}

fn missing(r: TeamRefusal) -> String {
    match r {
        TeamRefusal::MissingPermission { permission } => permission.to_string(),
        other => panic!("expected a missing permission, got {other:?}"),
    }
}

#[test]
fn rule_1_a_key_holding_only_members_write_can_neither_invite_nor_promote() {
    let s = with_owner();
    let writer = key_holding(&["members:write"]);
    let inv = invitation("inv_1", "evil@acme.test", MemberRole::Admin, None);
    assert_eq!(missing(refusal(invite(&s, inv, writer.clone()))), "admin:*");
    assert!(s.invitations().unwrap().is_empty(), "nothing stored");
    s.insert_member(&person("mem_v", "v@acme.test", MemberRole::Viewer))
        .unwrap();
    let promote = change_role(&s, "mem_v", MemberRole::Admin, writer.clone());
    assert_eq!(missing(refusal(promote)), "admin:*");
    assert_eq!(s.member("mem_v").unwrap().unwrap().role, MemberRole::Viewer);
    // Even a viewer needs every read a viewer holds.
    let inv = invitation("inv_2", "v2@acme.test", MemberRole::Viewer, None);
    assert_eq!(missing(refusal(invite(&s, inv, writer))), "api_keys:read");
    // An admin key may; an owner is still only made by an owner.
    let inv = invitation("inv_3", "a@acme.test", MemberRole::Admin, None);
    invite(&s, inv, admin_key()).unwrap();
    let inv = invitation("inv_4", "o@acme.test", MemberRole::Owner, None);
    assert_eq!(
        refusal(invite(&s, inv, admin_key())),
        TeamRefusal::Member(MemberDenial::OwnerOnly)
    );
}

#[test]
fn rule_2_a_demoted_or_removed_inviters_invitations_are_withdrawn_and_answer_410() {
    let s = with_owner();
    s.insert_member(&person("mem_a", "a@acme.test", MemberRole::Admin))
        .unwrap();
    let by_a = Some(Inviter::Member("mem_a".into()));
    let admin = Changer::Member(MemberRole::Admin);
    invite(
        &s,
        invitation("inv_1", "x@acme.test", MemberRole::Admin, by_a.clone()),
        admin.clone(),
    )
    .unwrap();
    invite(
        &s,
        invitation("inv_2", "y@acme.test", MemberRole::Viewer, by_a.clone()),
        admin.clone(),
    )
    .unwrap();
    let owner = Changer::Member(MemberRole::Owner);
    change_role(&s, "mem_a", MemberRole::Viewer, owner.clone()).unwrap();
    // A viewer invites nobody: both are withdrawn, and accepting answers 410.
    assert!(s.invitations().unwrap().is_empty());
    let acc = accept(
        &s,
        "tok-inv_1",
        "mem_x".into(),
        "pw".into(),
        "sx",
        Default::default(),
        at(1),
    );
    assert_eq!(refusal(acc), TeamRefusal::InvitationWithdrawn);
    assert!(s.member("mem_x").unwrap().is_none());
    // Removed: the same.
    s.insert_member(&person("mem_b", "b@acme.test", MemberRole::Admin))
        .unwrap();
    let by_b = Some(Inviter::Member("mem_b".into()));
    invite(
        &s,
        invitation("inv_3", "z@acme.test", MemberRole::Developer, by_b),
        admin,
    )
    .unwrap();
    remove_member(&s, "mem_b", owner, at(1)).unwrap();
    let acc = accept(
        &s,
        "tok-inv_3",
        "mem_z".into(),
        "pw".into(),
        "sz",
        Default::default(),
        at(2),
    );
    assert_eq!(refusal(acc), TeamRefusal::InvitationWithdrawn);
    // A key's invitation is judged again at acceptance: a key gone from the listing grants nothing.
    let by_key = Some(Inviter::Key("key_gone".into()));
    invite(
        &s,
        invitation("inv_4", "k@acme.test", MemberRole::Admin, by_key),
        admin_key(),
    )
    .unwrap();
    let acc = accept(
        &s,
        "tok-inv_4",
        "mem_k".into(),
        "pw".into(),
        "sk",
        Default::default(),
        at(3),
    );
    assert_eq!(refusal(acc), TeamRefusal::InvitationWithdrawn);
}

#[test]
fn rule_5_members_invitations_and_sessions_are_bounded() {
    use crate::core::limits::{Counted, LimitReached};
    use crate::core::members::{MAX_PENDING_INVITATIONS, MAX_SESSIONS_PER_MEMBER};
    let s = with_owner();
    let mut team = s.team().unwrap().unwrap();
    assert_eq!(team.limits.max_members, 1_000, "the default");
    team.limits.max_members = 2;
    s.update_team(&team).unwrap();
    s.insert_member(&person("mem_2", "two@acme.test", MemberRole::Viewer))
        .unwrap();
    let full = invite(
        &s,
        invitation("inv_f", "f@acme.test", MemberRole::Viewer, None),
        admin_key(),
    );
    assert_eq!(
        refusal(full),
        TeamRefusal::LimitReached(LimitReached {
            what: Counted::Members,
            limit: 2
        })
    );
    team.limits.max_members = 1_000;
    s.update_team(&team).unwrap();
    for i in 0..MAX_PENDING_INVITATIONS {
        let inv = invitation(
            &format!("inv_{i}"),
            &format!("p{i}@acme.test"),
            MemberRole::Viewer,
            None,
        );
        invite(&s, inv, admin_key()).unwrap();
    }
    let one_more = invitation("inv_x", "px@acme.test", MemberRole::Viewer, None);
    assert!(matches!(
        refusal(invite(&s, one_more.clone(), admin_key())),
        TeamRefusal::LimitReached(LimitReached {
            what: Counted::Invitations,
            limit: 100
        })
    ));
    // Expired invitations are deleted, which makes room.
    let later = Invitation {
        created_at: at(8 * 86_400_000),
        expires_at: at(15 * 86_400_000),
        ..one_more
    };
    invite(&s, later, admin_key()).unwrap();
    assert_eq!(s.invitations().unwrap().len(), 1);
    // 50 live sessions per member: the 51st ends the oldest.
    for i in 0..=MAX_SESSIONS_PER_MEMBER {
        let hash = format!("sess-{i}");
        sign_in_finish(
            &s,
            "owner@acme.test",
            None,
            Some(("mem_o", &hash)),
            Default::default(),
            None,
            Default::default(),
            at(i as i64),
        )
        .unwrap();
    }
    assert_eq!(
        s.sessions_of("mem_o").unwrap().len(),
        MAX_SESSIONS_PER_MEMBER
    );
    assert!(s.session("sess-0").unwrap().is_none(), "the oldest ended");
    assert!(s.session("sess-50").unwrap().is_some());
}

#[test]
fn rule_3_the_attempt_is_counted_before_the_password_and_no_client_locks_another_out() {
    let s = with_owner();
    let key = "owner@acme.test";
    // A burst: every start is counted before any finish; the 11th is refused.
    let started = (0..40)
        .filter(|_| sign_in_start(&s, key, Some("203.0.113.9"), at(0)).is_ok())
        .count();
    assert_eq!(started, 10);
    // The owner, from elsewhere, signs in.
    let creds = sign_in_start(&s, key, Some("198.51.100.1"), at(1)).unwrap();
    assert_eq!(creds.member_id.as_deref(), Some("mem_o"));
    // IPv6 by /64: another address of the same /64 is the same client.
    for _ in 0..10 {
        sign_in_start(&s, "x@acme.test", Some("2001:db8:1:2::1"), at(2)).unwrap();
    }
    assert!(sign_in_start(&s, "x@acme.test", Some("2001:db8:1:2::ffff"), at(2)).is_err());
    // Counts past their window are pruned.
    sign_in_start(&s, key, Some("192.0.2.1"), at(16 * 60_000)).unwrap();
    assert_eq!(
        s.failures("pair:owner@acme.test|203.0.113.9").unwrap(),
        Default::default()
    );
}

#[test]
fn rule_7_a_wrong_current_password_counts_as_a_failed_sign_in() {
    let s = with_owner();
    for i in 0..10 {
        assert_eq!(
            password_of(&s, "mem_o", Some("203.0.113.9"), at(i)).unwrap(),
            "hash-of-mem_o"
        );
    }
    assert!(matches!(
        refusal(password_of(&s, "mem_o", Some("203.0.113.9"), at(20))),
        TeamRefusal::SignInThrottled { .. }
    ));
    // The same pair is refused at sign-in too.
    assert!(sign_in_start(&s, "owner@acme.test", Some("203.0.113.9"), at(21)).is_err());
}

#[test]
fn rule_8_members_are_rate_limited_and_refusals_audited_once_a_minute() {
    use crate::core::audit::{Actor, ActorKind};
    let s = with_owner();
    open_session(&s, "mem_o", "sess");
    for _ in 0..600 {
        authenticate(&s, "sess", at(1)).unwrap();
    }
    assert!(matches!(
        refusal(authenticate(&s, "sess", at(2))),
        TeamRefusal::MemberRateLimited { retry_after: 60 }
    ));
    assert_eq!(
        authenticate(&s, "sess", at(60_001))
            .unwrap()
            .window
            .remaining,
        599
    );
    let origin = Origin::new(
        Actor {
            kind: ActorKind::Member,
            id: None,
        },
        Some("203.0.113.9"),
        None,
        None,
    );
    for i in 0..5 {
        let r = sign_in_finish(
            &s,
            "owner@acme.test",
            Some("203.0.113.9"),
            None,
            Default::default(),
            Some(&origin),
            Default::default(),
            at(i * 1_000),
        );
        assert_eq!(refusal(r), TeamRefusal::InvalidCredentials);
    }
    let r = sign_in_finish(
        &s,
        "owner@acme.test",
        Some("203.0.113.9"),
        None,
        Default::default(),
        Some(&origin),
        Default::default(),
        at(61_000),
    );
    assert_eq!(refusal(r), TeamRefusal::InvalidCredentials);
    let held: Vec<serde_json::Value> = s
        .held_events()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(&e.body).unwrap())
        .collect();
    let counts: Vec<_> = held.iter().map(|b| b["changes"]["count"].clone()).collect();
    assert_eq!(counts, [serde_json::json!(1), serde_json::json!(5)]);
    assert_eq!(held[0]["action"], "session.refused");
}

/// One step of the escalation property through people: `by` is the attacking key (`None`) or
/// a member it brought in (an index into them).
#[derive(Clone, Debug)]
enum PeopleOp {
    Invite {
        by: Option<usize>,
        role: usize,
    },
    Accept {
        invitation: usize,
    },
    ChangeRole {
        by: Option<usize>,
        target: usize,
        role: usize,
    },
    /// The owner demotes one of them (a legitimate change the attacker does not control).
    Demote {
        target: usize,
    },
}

const KEY_POOL: [&str; 11] = [
    "members:write",
    "members:read",
    "api_keys:read",
    "api_keys:write",
    "projects:read",
    "roles:read",
    "service_accounts:read",
    "webhooks:read",
    "audit_log:read",
    "admin:*",
    "tasks:*",
];

fn arb_people_op() -> impl proptest::strategy::Strategy<Value = PeopleOp> {
    use proptest::prelude::*;
    let by = || proptest::option::of(0usize..6);
    prop_oneof![
        (by(), 0usize..4).prop_map(|(by, role)| PeopleOp::Invite { by, role }),
        (0usize..12).prop_map(|invitation| PeopleOp::Accept { invitation }),
        (by(), 0usize..6, 0usize..4).prop_map(|(by, target, role)| PeopleOp::ChangeRole {
            by,
            target,
            role
        }),
        (0usize..6).prop_map(|target| PeopleOp::Demote { target }),
    ]
}

proptest::proptest! {
    /// Whatever a key does through invitations and role changes, itself or through the members
    /// it brings in: no member ends up holding a permission the key lacks, and an accepted
    /// invitation never grants more than its inviter holds at that moment.
    #[test]
    fn no_sequence_of_calls_escalates_through_members_or_invitations(
        held in proptest::collection::vec(0usize..KEY_POOL.len(), 0..8),
        ops in proptest::collection::vec(arb_people_op(), 1..25),
    ) {
        let s = with_owner();
        let attacker = key_holding(&held.iter().map(|i| KEY_POOL[*i]).collect::<Vec<_>>());
        let ceiling = attacker.permissions();
        let mut brought: Vec<String> = Vec::new();
        let mut tokens: Vec<(String, Option<Inviter>)> = Vec::new();
        let caller = |s: &MemoryTeam, brought: &[String], by: Option<usize>| -> Option<(Changer, Option<Inviter>)> {
            match by {
                None => Some((attacker.clone(), Some(Inviter::Key("key_attacker".into())))),
                Some(i) => {
                    let id = brought.get(i % brought.len().max(1))?;
                    let m = s.member(id).unwrap()?;
                    Some((Changer::Member(m.role), Some(Inviter::Member(m.id))))
                }
            }
        };
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                PeopleOp::Invite { by, role } => {
                    let Some((who, inviter)) = caller(&s, &brought, by) else { continue };
                    let role = MemberRole::ALL[role];
                    let inv = invitation(&format!("inv_{n}"), &format!("p{n}@acme.test"), role, inviter.clone());
                    if invite(&s, inv, who.clone()).is_ok() {
                        for p in role.permissions().iter() {
                            proptest::prop_assert!(who.permissions().covers(p));
                        }
                        tokens.push((format!("tok-inv_{n}"), inviter));
                    }
                }
                PeopleOp::Accept { invitation: i } => {
                    let Some((token, inviter)) = tokens.get(i % tokens.len().max(1)).cloned() else { continue };
                    let id = format!("mem_{n}");
                    if let Ok(done) = accept(&s, &token, id.as_str().into(), "pw".into(), &format!("s{n}"), Default::default(), at(n as i64)) {
                        // The inviter, as it is now, could make it.
                        if let Some(Inviter::Member(m)) = &inviter {
                            let now_role = s.member(m).unwrap().unwrap().role;
                            proptest::prop_assert!(crate::core::members::could_invite(now_role, done.member.role));
                        }
                        brought.push(id);
                    }
                }
                PeopleOp::ChangeRole { by, target, role } => {
                    let Some((who, _)) = caller(&s, &brought, by) else { continue };
                    let Some(id) = brought.get(target % brought.len().max(1)).cloned() else { continue };
                    let _ = change_role(&s, &id, MemberRole::ALL[role], who);
                }
                PeopleOp::Demote { target } => {
                    let Some(id) = brought.get(target % brought.len().max(1)).cloned() else { continue };
                    let owner = Changer::Member(MemberRole::Owner);
                    let _ = change_role(&s, &id, MemberRole::Viewer, owner);
                }
            }
            // Every member the key brought in holds only what the key holds.
            for id in &brought {
                if let Some(m) = s.member(id).unwrap() {
                    for p in m.role.permissions().iter() {
                        proptest::prop_assert!(ceiling.covers(p), "{} holds {p} beyond {ceiling:?}", m.role);
                    }
                }
            }
        }
    }
}
