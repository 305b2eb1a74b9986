use super::*;
use crate::core::random::FixedRandom;

fn p(s: &str) -> Permission {
    Permission::parse(s).unwrap()
}

#[test]
fn each_role_holds_what_the_contract_says() {
    let viewer = MemberRole::Viewer.permissions();
    assert!(viewer.covers(&p("api_keys:read")) && viewer.covers(&p("audit_log:read")));
    assert!(!viewer.covers(&p("api_keys:write")) && !viewer.covers(&p("tasks:read")));

    let dev = MemberRole::Developer.permissions();
    for ok in [
        "api_keys:read",
        "api_keys:write",
        "members:read",
        "tasks:read",
        "events:*",
    ] {
        assert!(dev.covers(&p(ok)), "developer should hold {ok}");
    }
    for no in [
        "admin:*",
        "members:write",
        "webhooks:write",
        "roles:write",
        "projects:*",
    ] {
        assert!(!dev.covers(&p(no)), "developer must not hold {no}");
    }
    for role in [MemberRole::Admin, MemberRole::Owner] {
        assert!(role.permissions().covers(&p("admin:*")));
    }
}

#[test]
fn roles_parse_and_print_the_same() {
    for r in MemberRole::ALL {
        assert_eq!(MemberRole::parse(r.as_str()), Some(r));
    }
    assert_eq!(MemberRole::parse("Owner"), None);
    assert_eq!(MemberRole::parse("root"), None);
}

#[test]
fn only_an_owner_makes_demotes_or_removes_an_owner() {
    use MemberRole::*;
    let admin = Changer::Member(Admin);
    let owner = Changer::Member(Owner);
    assert_eq!(
        may_change_role(&admin, Developer, Owner, 1),
        Err(MemberDenial::OwnerOnly)
    );
    assert_eq!(
        may_change_role(&admin, Owner, Admin, 2),
        Err(MemberDenial::OwnerOnly)
    );
    assert_eq!(
        may_change_role(&Changer::Key(PermissionSet::default()), Viewer, Owner, 1),
        Err(MemberDenial::OwnerOnly)
    );
    assert_eq!(may_remove(&admin, Owner, 2), Err(MemberDenial::OwnerOnly));
    assert_eq!(may_invite(&admin, Owner), Err(MemberDenial::OwnerOnly));
    assert_eq!(may_change_role(&admin, Viewer, Developer, 1), Ok(()));
    assert_eq!(may_change_role(&admin, Developer, Admin, 1), Ok(()));
    assert_eq!(may_remove(&admin, Admin, 1), Ok(()));
    assert_eq!(may_change_role(&owner, Developer, Owner, 1), Ok(()));
    assert_eq!(may_remove(&owner, Owner, 2), Ok(()));
    assert_eq!(may_invite(&owner, Owner), Ok(()));
    // Setting the role a member already has changes nothing, so it needs nothing.
    assert_eq!(may_change_role(&admin, Owner, Owner, 1), Ok(()));
}

#[test]
fn the_last_owner_can_be_neither_demoted_nor_removed() {
    let owner = Changer::Member(MemberRole::Owner);
    assert_eq!(
        may_change_role(&owner, MemberRole::Owner, MemberRole::Admin, 1),
        Err(MemberDenial::LastOwner)
    );
    assert_eq!(
        may_remove(&owner, MemberRole::Owner, 1),
        Err(MemberDenial::LastOwner)
    );
    assert_eq!(
        may_change_role(&owner, MemberRole::Owner, MemberRole::Admin, 2),
        Ok(())
    );
}

#[test]
fn emails_are_checked_and_compared_without_case() {
    let e = Email::parse("  Ada@Example.COM ").unwrap();
    assert_eq!(e.as_str(), "Ada@Example.COM");
    assert_eq!(e.key(), "ada@example.com");
    for bad in [
        "",
        "ada",
        "@example.com",
        "ada@",
        "ada@example",
        "ada@.com",
        "a da@x.com",
        "a@b@c.com",
    ] {
        assert!(Email::parse(bad).is_none(), "{bad:?}");
    }
    assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_none());
}

#[test]
fn passwords_are_12_to_128_characters_and_never_printed() {
    assert!(Password::parse("short").is_err());
    assert!(Password::parse(&"x".repeat(11)).is_err());
    assert!(Password::parse(&"x".repeat(12)).is_ok());
    assert!(
        Password::parse(&"é".repeat(128)).is_ok(),
        "characters, not bytes"
    );
    assert!(Password::parse(&"x".repeat(129)).is_err());
    let pw = Password::parse("correct horse battery").unwrap();
    assert!(!format!("{pw:?}").contains("horse"));
}

#[test]
fn the_derivation_stays_within_what_production_workerd_accepts() {
    // Local workerd accepts more; production refuses PBKDF2 above 100,000 iterations.
    const { assert!(PBKDF2_ITERATIONS <= PRODUCTION_PBKDF2_CAP) };
    assert!(PasswordHash::decoy().iterations <= PRODUCTION_PBKDF2_CAP);
}

#[test]
fn the_pepper_changes_the_derivation_input() {
    let pw = Password::parse("correct horse battery").unwrap();
    // HMAC-SHA256("pepper-1", "correct horse battery"), computed independently with Python's hmac.
    assert_eq!(
        hex::encode(peppered("pepper-1", &pw)),
        "afafb4b57b34baa1b16abca6ac98f581f74148fc1688a33e0069cd9444912ecd"
    );
    assert_ne!(peppered("pepper-1", &pw), peppered("pepper-2", &pw));
}

#[test]
fn stored_hashes_round_trip_and_never_print() {
    let h = PasswordHash {
        iterations: 100_000,
        salt: [7; 16],
        hash: [9; 32],
    };
    let text = h.encode();
    assert!(text.starts_with("pbkdf2-sha256$100000$0707"));
    assert_eq!(PasswordHash::decode(&text), Some(h.clone()));
    assert!(h.matches(&[9; 32]) && !h.matches(&[8; 32]));
    assert!(!format!("{h:?}").contains("0909"));
    for bad in [
        "",
        "bcrypt$1$00$00",
        "pbkdf2-sha256$x$00$00",
        &format!("{text}$extra"),
    ] {
        assert!(PasswordHash::decode(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn session_tokens_name_their_team_and_are_stored_hashed() {
    let mut rng = FixedRandom((0..=255).collect(), 0);
    let t = SessionToken::generate("team_abc", &mut rng);
    let (back, team) = SessionToken::parse(t.expose_secret()).unwrap();
    assert_eq!(team, "team_abc");
    assert_eq!(back.hash(), t.hash());
    assert_eq!(t.hash().len(), 64);
    assert!(!format!("{t:?}").contains("kgs_"));
    for bad in [
        "",
        "kgs_team_abc_short",
        "kgi_team_abc_0123456789012345678901234567890123456789012",
    ] {
        assert!(SessionToken::parse(bad).is_none(), "{bad:?}");
    }
    let tampered = format!("{}!", &t.expose_secret()[..t.expose_secret().len() - 1]);
    assert!(SessionToken::parse(&tampered).is_none());
}

#[test]
fn sessions_end_after_12_hours_idle_or_7_days_in_all() {
    let h = 3_600_000;
    let s = Session {
        member_id: "mem_1".into(),
        created_at: Timestamp::from_millis(0),
        last_seen_at: Timestamp::from_millis(0),
        meta: Default::default(),
    };
    assert_eq!(
        s.state(Timestamp::from_millis(30_000)),
        SessionState::Alive { touch: false }
    );
    assert_eq!(
        s.state(Timestamp::from_millis(61_000)),
        SessionState::Alive { touch: true }
    );
    assert_eq!(
        s.state(Timestamp::from_millis(12 * h - 1)),
        SessionState::Alive { touch: true }
    );
    assert_eq!(s.state(Timestamp::from_millis(12 * h)), SessionState::Ended);
    let busy = Session {
        last_seen_at: Timestamp::from_millis(7 * 24 * h - 10),
        ..s
    };
    assert!(matches!(
        busy.state(Timestamp::from_millis(7 * 24 * h - 1)),
        SessionState::Alive { .. }
    ));
    assert_eq!(
        busy.state(Timestamp::from_millis(7 * 24 * h)),
        SessionState::Ended
    );
}

#[test]
fn invitation_tokens_name_their_team() {
    let mut rng = FixedRandom((0..=255).collect(), 0);
    let t = invitation_token("team_abc", &mut rng);
    assert_eq!(invitation_team(&t), Some("team_abc"));
    assert_eq!(invitation_team("kgi_team_abc_x"), None);
    assert_eq!(token_hash(&t).len(), 64);
}

#[test]
fn giving_a_role_needs_everything_the_role_holds() {
    use crate::core::permission::PermissionSet;
    use MemberRole::*;
    let key = |perms: &[&str]| Changer::Key(PermissionSet::new(perms.iter().map(|s| p(s))));
    // The finding: a key holding only `members:write` could invite an admin.
    let writer = key(&["members:write"]);
    assert_eq!(missing_for(&writer, Admin), Some(p("admin:*")));
    assert!(missing_for(&writer, Viewer).is_some(), "a viewer reads");
    let reader = key(&[
        "members:write",
        "api_keys:read",
        "projects:read",
        "roles:read",
        "service_accounts:read",
        "webhooks:read",
        "members:read",
        "audit_log:read",
    ]);
    assert_eq!(missing_for(&reader, Viewer), None);
    assert_eq!(missing_for(&reader, Developer), Some(p("api_keys:write")));
    assert_eq!(missing_for(&key(&["admin:*"]), Admin), None);
    // Members: admins and owners hold everything; the rest cannot write members anyway.
    assert_eq!(missing_for(&Changer::Member(Admin), Admin), None);
    assert_eq!(
        missing_for(&Changer::Member(Developer), Admin),
        Some(p("admin:*"))
    );
    assert!(could_invite(Admin, Developer));
    assert!(!could_invite(Admin, Owner));
    assert!(!could_invite(Viewer, Admin));
    assert!(
        !could_invite(Developer, Viewer),
        "a developer invites nobody"
    );
    assert!(could_invite(Owner, Owner));
}

#[test]
fn members_are_decided_by_the_same_rules_as_keys() {
    use crate::core::access::{create_requirement, Denial, Manager, ProjectChoice};
    use crate::core::permission::PermissionSet;
    let write = p("api_keys:write");
    let create = |perms: &[&str]| {
        create_requirement(
            &write,
            &PermissionSet::new(perms.iter().map(|s| p(s))),
            None,
            &ProjectChoice::default(),
        )
    };
    let dev = Manager::member(MemberRole::Developer);
    assert_eq!(dev.decide(&create(&["tasks:read", "events:*"])), None);
    assert_eq!(
        dev.decide(&create(&["admin:*"])),
        Some(Denial::MissingPermission(p("admin:*")))
    );
    assert_eq!(
        dev.decide(&create(&["webhooks:write"])),
        Some(Denial::MissingPermission(p("webhooks:write")))
    );
    let viewer = Manager::member(MemberRole::Viewer);
    assert_eq!(
        viewer.decide(&create(&[])),
        Some(Denial::MissingPermission(p("api_keys:write")))
    );
    // Members act team-wide and in both environments.
    assert_eq!(
        Manager::member(MemberRole::Admin).decide(&create(&["admin:*"])),
        None
    );
    assert_eq!(dev.project_id, None);
}
