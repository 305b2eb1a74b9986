//! The team's rules, natively, over the in-memory store: one test per rule, and property tests
//! that no sequence of calls escalates through roles or passes the permission cap.

use super::memory::MemoryTeam;
use super::*;
use crate::core::fixtures::{at, perms};
use crate::core::limits::TeamLimits;
use crate::core::model::sample_record;
use crate::core::page::ListQuery;

fn now() -> Timestamp {
    at("2026-10-14T00:00:00Z")
}

fn admin() -> PermissionSet {
    perms(&["admin:*"])
}

fn team(limits: TeamLimits) -> MemoryTeam {
    let s = MemoryTeam::default();
    let t = Team {
        id: "team_1".into(),
        name: "Acme".into(),
        created_at: now(),
        limits,
        leak_policy: Default::default(),
        auto_disable_idle_days: None,
        branding: Default::default(),
        require_totp: false,
    };
    init(&s, t).unwrap();
    s
}

fn role(id: &str, name: &str, p: &[&str]) -> Role {
    Role {
        id: id.into(),
        name: name.into(),
        permissions: perms(p),
        created_at: now(),
        updated_at: now(),
    }
}

fn account(id: &str, name: &str, roles: &[&str]) -> ServiceAccount {
    ServiceAccount {
        id: id.into(),
        name: name.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        created_at: now(),
        updated_at: now(),
    }
}

fn project(id: &str, name: &str) -> Project {
    Project {
        id: id.into(),
        name: name.into(),
        created_at: now(),
    }
}

fn refusal<T: std::fmt::Debug>(r: TeamResult<T>) -> TeamRefusal {
    match r {
        Err(TeamError::Refused(x)) => x,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn query() -> ListQuery {
    ListQuery {
        limit: 100,
        cursor: None,
        environment: None,
        project_id: None,
        idle_cutoff: None,
    }
}

#[test]
fn a_team_is_made_once_and_its_limits_change_by_field() {
    let s = team(TeamLimits::default());
    let again = Team {
        id: "team_1".into(),
        name: "Again".into(),
        created_at: now(),
        limits: TeamLimits::default(),
        leak_policy: Default::default(),
        auto_disable_idle_days: None,
        branding: Default::default(),
        require_totp: false,
    };
    assert_eq!(refusal(init(&s, again)), TeamRefusal::Exists);
    let patch = LimitsPatch {
        max_roles: Some(3),
        ..Default::default()
    };
    let notify = Some(crate::core::leaks::LeakPolicy::Notify);
    let t = update(&s, Some("Acme 2".into()), patch, notify, None, None).unwrap();
    assert_eq!((t.name.as_str(), t.limits.max_roles), ("Acme 2", 3));
    assert_eq!(t.leak_policy, crate::core::leaks::LeakPolicy::Notify);
    assert_eq!(t.limits.max_keys, TeamLimits::default().max_keys);
    assert_eq!(get(&s).unwrap(), t);
    destroy(&s).unwrap();
    assert_eq!(refusal(get(&s)), TeamRefusal::NotFound);
    assert_eq!(
        refusal(update(&s, None, LimitsPatch::default(), None, None, None)),
        TeamRefusal::NotFound
    );
}

#[test]
fn names_are_unique_per_kind() {
    let s = team(TeamLimits::default());
    create_project(&s, project("proj_1", "web")).unwrap();
    assert_eq!(
        refusal(create_project(&s, project("proj_2", "web"))),
        TeamRefusal::NameTaken { name: "web".into() }
    );
    // Another kind may use it.
    create_role(&s, role("role_1", "web", &[])).unwrap();
    create_role(&s, role("role_2", "ops", &[])).unwrap();
    assert_eq!(
        refusal(update_role(&s, "role_2", Some("web".into()), None, now())),
        TeamRefusal::NameTaken { name: "web".into() }
    );
    // Renaming to its own name is no conflict.
    update_role(&s, "role_1", Some("web".into()), None, now()).unwrap();
    create_account(&s, account("sa_1", "svc", &[]), &admin()).unwrap();
    assert_eq!(
        refusal(create_account(&s, account("sa_2", "svc", &[]), &admin())),
        TeamRefusal::NameTaken { name: "svc".into() }
    );
}

#[test]
fn in_use_objects_cannot_be_deleted() {
    let s = team(TeamLimits::default());
    create_project(&s, project("proj_1", "web")).unwrap();
    let mut k = sample_record("key_1", now());
    k.project_id = Some("proj_1".into());
    insert_key(&s, k, &admin()).unwrap();
    assert_eq!(
        refusal(delete_project(&s, "proj_1")),
        TeamRefusal::InUse(InUse::ProjectHasKeys)
    );
    remove_key(&s, "key_1").unwrap();
    remove_key(&s, "key_1").unwrap();
    delete_project(&s, "proj_1").unwrap();
    assert_eq!(refusal(delete_project(&s, "proj_1")), TeamRefusal::NotFound);

    create_role(&s, role("role_1", "r", &["tasks:read"])).unwrap();
    create_account(&s, account("sa_1", "svc", &["r"]), &admin()).unwrap();
    assert_eq!(
        refusal(delete_role(&s, "role_1")),
        TeamRefusal::InUse(InUse::RoleGiven)
    );
    update_account(&s, "sa_1", None, Some(vec![]), &admin(), now()).unwrap();
    delete_role(&s, "role_1").unwrap();
}

#[test]
fn a_key_needs_its_project_and_account_to_exist() {
    let s = team(TeamLimits::default());
    let mut k = sample_record("key_1", now());
    k.project_id = Some("proj_x".into());
    assert_eq!(
        refusal(insert_key(&s, k, &admin())),
        TeamRefusal::ProjectNotFound
    );
    let mut k = sample_record("key_1", now());
    k.service_account_id = Some("sa_x".into());
    assert_eq!(
        refusal(insert_key(&s, k, &admin())),
        TeamRefusal::ServiceAccountNotFound
    );
    assert_eq!(s.count(Counted::Keys).unwrap(), 0, "nothing written");
}

#[test]
fn a_service_account_key_snapshots_its_roles() {
    let s = team(TeamLimits::default());
    create_role(&s, role("role_1", "reader", &["tasks:read"])).unwrap();
    create_role(&s, role("role_2", "writer", &["tasks:write", "tasks:read"])).unwrap();
    create_account(&s, account("sa_1", "svc", &["writer", "reader"]), &admin()).unwrap();
    let mut k = sample_record("key_1", now());
    k.service_account_id = Some("sa_1".into());
    k.permissions = perms(&["admin:*"]);
    let stored = insert_key(&s, k, &admin()).unwrap();
    assert_eq!(
        stored.permissions,
        perms(&["tasks:write", "tasks:read"]),
        "the union, in the order the roles were given"
    );
    assert_eq!(stored.roles, ["writer", "reader"]);
    // Later changes to the role do not touch the key.
    update_role(&s, "role_2", None, Some(perms(&["events:read"])), now()).unwrap();
    assert_eq!(
        s.key("key_1").unwrap().unwrap().permissions,
        perms(&["tasks:write", "tasks:read"])
    );
    // The account's view names its roles as they are now.
    update_role(&s, "role_1", Some("readers".into()), None, now()).unwrap();
    assert_eq!(
        get_account(&s, "sa_1").unwrap().roles,
        ["writer", "readers"]
    );
}

#[test]
fn nothing_escalates_through_an_account() {
    let s = team(TeamLimits::default());
    create_role(&s, role("role_1", "strong", &["tasks:*"])).unwrap();
    let weak = perms(&["tasks:read", "service_accounts:write"]);
    assert_eq!(
        refusal(create_account(
            &s,
            account("sa_1", "svc", &["strong"]),
            &weak
        )),
        TeamRefusal::MissingPermission {
            permission: Permission::parse("tasks:*").unwrap()
        }
    );
    create_account(&s, account("sa_1", "svc", &["strong"]), &admin()).unwrap();
    let mut k = sample_record("key_1", now());
    k.service_account_id = Some("sa_1".into());
    assert!(matches!(
        refusal(insert_key(&s, k, &weak)),
        TeamRefusal::MissingPermission { .. }
    ));
    assert_eq!(
        refusal(update_account(
            &s,
            "sa_1",
            None,
            Some(vec!["nope".into()]),
            &admin(),
            now()
        )),
        TeamRefusal::UnknownRole {
            name: "nope".into()
        }
    );
}

fn many(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}:read")).collect()
}

fn role_of(id: &str, name: &str, list: &[String]) -> Role {
    let refs: Vec<&str> = list.iter().map(String::as_str).collect();
    role(id, name, &refs)
}

#[test]
fn no_account_passes_the_permission_cap() {
    let s = team(TeamLimits::default());
    create_role(&s, role_of("role_a", "a", &many("a", 60))).unwrap();
    create_role(&s, role_of("role_b", "b", &many("b", 60))).unwrap();
    create_role(&s, role("role_c", "c", &["c:read"])).unwrap();
    assert_eq!(
        refusal(create_account(
            &s,
            account("sa_1", "both", &["a", "b"]),
            &admin()
        )),
        TeamRefusal::TooManyPermissions { count: 120 }
    );
    create_account(&s, account("sa_1", "ac", &["a", "c"]), &admin()).unwrap();
    assert_eq!(
        refusal(update_account(
            &s,
            "sa_1",
            None,
            Some(vec!["a".into(), "b".into()]),
            &admin(),
            now()
        )),
        TeamRefusal::TooManyPermissions { count: 120 }
    );
    let forty_one: Vec<String> = many("c", 41);
    assert_eq!(
        refusal(update_role(
            &s,
            "role_c",
            None,
            Some(role_of("x", "x", &forty_one).permissions),
            now()
        )),
        TeamRefusal::TooManyPermissions { count: 101 }
    );
    let forty: Vec<String> = many("c", 40);
    update_role(
        &s,
        "role_c",
        None,
        Some(role_of("x", "x", &forty).permissions),
        now(),
    )
    .unwrap();
}

#[test]
fn counts_and_the_rate_ceiling_hold() {
    let limits = TeamLimits {
        max_keys: 1,
        max_projects: 1,
        max_roles: 1,
        max_service_accounts: 1,
        max_per_minute: 100,
        ..Default::default()
    };
    let s = team(limits);
    insert_key(&s, sample_record("key_1", now()), &admin()).unwrap();
    assert!(matches!(
        refusal(insert_key(&s, sample_record("key_2", now()), &admin())),
        TeamRefusal::LimitReached(LimitReached {
            what: Counted::Keys,
            limit: 1
        })
    ));
    remove_key(&s, "key_1").unwrap();
    let mut fast = sample_record("key_2", now());
    fast.rate_limit.per_minute = 101;
    assert!(matches!(
        refusal(insert_key(&s, fast, &admin())),
        TeamRefusal::AboveCeiling(_)
    ));
    create_project(&s, project("proj_1", "a")).unwrap();
    assert!(matches!(
        refusal(create_project(&s, project("proj_2", "b"))),
        TeamRefusal::LimitReached(_)
    ));
    create_role(&s, role("role_1", "a", &[])).unwrap();
    assert!(matches!(
        refusal(create_role(&s, role("role_2", "b", &[]))),
        TeamRefusal::LimitReached(_)
    ));
    create_account(&s, account("sa_1", "a", &[]), &admin()).unwrap();
    assert!(matches!(
        refusal(create_account(&s, account("sa_2", "b", &[]), &admin())),
        TeamRefusal::LimitReached(_)
    ));
}

#[test]
fn the_listing_keeps_the_newest_copy_and_last_used_moves_forward() {
    let s = team(TeamLimits::default());
    insert_key(&s, sample_record("key_1", now()), &admin()).unwrap();
    let mut v3 = sample_record("key_1", now());
    v3.name = "three".into();
    let mut v2 = sample_record("key_1", now());
    v2.name = "two".into();
    put_key(&s, &v3, 3).unwrap();
    put_key(&s, &v2, 2).unwrap();
    assert_eq!(s.key("key_1").unwrap().unwrap().name, "three");
    touch_key(&s, "key_1", at("2026-10-14T00:05:00Z")).unwrap();
    touch_key(&s, "key_1", at("2026-10-14T00:01:00Z")).unwrap();
    let k = s.key("key_1").unwrap().unwrap();
    assert_eq!(k.last_used, Some(at("2026-10-14T00:05:00Z")));
    assert_eq!(k.name, "three", "touching keeps the record");
    touch_key(&s, "key_gone", now()).unwrap();
}

#[test]
fn pages_are_newest_first_and_filtered() {
    let s = team(TeamLimits::default());
    create_project(&s, project("proj_1", "p")).unwrap();
    for i in 0..5 {
        let mut k = sample_record(&format!("key_{i}"), now());
        if i % 2 == 0 {
            k.project_id = Some("proj_1".into());
        }
        insert_key(&s, k, &admin()).unwrap();
    }
    let mut q = query();
    q.limit = 2;
    let p1 = list_keys(&s, &q).unwrap();
    let ids: Vec<&str> = p1.items.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, ["key_4", "key_3"]);
    q.cursor = p1.next_cursor.as_deref().map(|c| c[1..].parse().unwrap());
    let p2 = list_keys(&s, &q).unwrap();
    let ids: Vec<&str> = p2.items.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, ["key_2", "key_1"]);
    let mut scoped = query();
    scoped.project_id = Some("proj_1".into());
    let ids: Vec<String> = list_keys(&s, &scoped)
        .unwrap()
        .items
        .into_iter()
        .map(|k| k.id.to_string())
        .collect();
    assert_eq!(ids, ["key_4", "key_2", "key_0"]);
}

#[test]
fn a_failing_store_is_a_store_error_not_a_refusal() {
    let s = team(TeamLimits::default());
    s.fail.set(true);
    assert!(matches!(
        create_project(&s, project("proj_1", "p")),
        Err(TeamError::Store(_))
    ));
}

/// One step of the property test: create a role, or create or re-role an account, or edit a
/// role, as a caller holding `caller` permissions.
#[derive(Clone, Debug)]
enum Op {
    Role {
        perms: Vec<usize>,
    },
    Account {
        roles: Vec<usize>,
        caller: Vec<usize>,
    },
    Rerole {
        account: usize,
        roles: Vec<usize>,
        caller: Vec<usize>,
    },
    EditRole {
        role: usize,
        perms: Vec<usize>,
    },
    Key {
        account: usize,
        caller: Vec<usize>,
    },
}

const POOL: [&str; 7] = [
    "tasks:read",
    "tasks:write",
    "tasks:*",
    "events:read",
    "events:*",
    "admin:*",
    "users:read",
];

fn pick(ix: &[usize]) -> PermissionSet {
    perms(&ix.iter().map(|i| POOL[i % POOL.len()]).collect::<Vec<_>>())
}

fn arb_op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    let ix = || proptest::collection::vec(0usize..POOL.len(), 0..4);
    prop_oneof![
        ix().prop_map(|perms| Op::Role { perms }),
        (ix(), ix()).prop_map(|(roles, caller)| Op::Account { roles, caller }),
        (0usize..8, ix(), ix()).prop_map(|(account, roles, caller)| Op::Rerole {
            account,
            roles,
            caller
        }),
        (0usize..8, ix()).prop_map(|(role, perms)| Op::EditRole { role, perms }),
        (0usize..8, ix()).prop_map(|(account, caller)| Op::Key { account, caller }),
    ]
}

proptest::proptest! {
    /// Whatever the order of calls: an account is only ever given roles its granter covers, and
    /// a key made for an account holds exactly the union of the account's roles at that moment,
    /// all of it covered by the key's creator.
    #[test]
    fn no_sequence_of_calls_escalates_through_roles(ops in proptest::collection::vec(arb_op(), 1..30)) {
        let s = team(TeamLimits::default());
        let mut roles: Vec<String> = Vec::new();
        let mut accounts: Vec<String> = Vec::new();
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Role { perms: p } => {
                    let r = role(&format!("role_{n}"), &format!("r{n}"), &[]);
                    let r = Role { permissions: pick(&p), ..r };
                    create_role(&s, r).unwrap();
                    roles.push(format!("r{n}"));
                }
                Op::Account { roles: ix, caller } => {
                    let names: Vec<String> = ix.iter().filter_map(|i| roles.get(i % roles.len().max(1)).cloned()).collect();
                    let caller = pick(&caller);
                    let a = ServiceAccount { roles: names.clone(), ..account(&format!("sa_{n}"), &format!("a{n}"), &[]) };
                    if create_account(&s, a, &caller).is_ok() {
                        for name in &names {
                            let r = s.role_by_name(name).unwrap().unwrap();
                            for p in r.permissions.iter() {
                                proptest::prop_assert!(caller.covers(p), "{p} given by {caller:?}");
                            }
                        }
                        accounts.push(format!("sa_{n}"));
                    }
                }
                Op::Rerole { account: a, roles: ix, caller } => {
                    let Some(id) = accounts.get(a % accounts.len().max(1)).cloned() else { continue };
                    let names: Vec<String> = ix.iter().filter_map(|i| roles.get(i % roles.len().max(1)).cloned()).collect();
                    let caller = pick(&caller);
                    if update_account(&s, &id, None, Some(names.clone()), &caller, now()).is_ok() {
                        for name in &names {
                            for p in s.role_by_name(name).unwrap().unwrap().permissions.iter() {
                                proptest::prop_assert!(caller.covers(p));
                            }
                        }
                    }
                }
                Op::EditRole { role: r, perms: p } => {
                    let Some(name) = roles.get(r % roles.len().max(1)).cloned() else { continue };
                    let id = s.role_by_name(&name).unwrap().unwrap().id;
                    update_role(&s, &id, None, Some(pick(&p)), now()).unwrap();
                }
                Op::Key { account: a, caller } => {
                    let Some(id) = accounts.get(a % accounts.len().max(1)).cloned() else { continue };
                    let caller = pick(&caller);
                    let mut k = sample_record(&format!("key_{n}"), now());
                    k.service_account_id = Some(id.as_str().into());
                    let expected = PermissionSet::union(
                        s.account_role_ids(&id).unwrap().iter()
                            .map(|r| s.role(r).unwrap().unwrap().permissions)
                            .collect::<Vec<_>>().iter(),
                    );
                    if let Ok(stored) = insert_key(&s, k, &caller) {
                        proptest::prop_assert_eq!(&stored.permissions, &expected);
                        for p in stored.permissions.iter() {
                            proptest::prop_assert!(caller.covers(p));
                        }
                    }
                }
            }
        }
    }
}
