//! Permissions: `resource:action`, `resource:*` or `admin:*`, and the one matcher that decides
//! whether a held permission covers a wanted one.
//!
//! | held          | covers                                   |
//! |---------------|------------------------------------------|
//! | `admin:*`     | everything, `admin:*` included            |
//! | `tasks:*`     | `tasks:*` and every `tasks:<action>`      |
//! | `tasks:read`  | `tasks:read` only (never `tasks:*`)       |
//! | `*:*`         | every permission on the product's own resources: none of keygate's resources (`api_keys`, `members`, …) nor `admin:*` |
//!
//! `*:*` is what a `developer` member holds beside keygate's permissions ("every permission on
//! the product's resources"). It is never accepted as input (no key or role can be given it);
//! it exists only in a member's permissions, computed from their role.
//! The no-escalation rule builds on it: a caller may grant, or manage a key holding, a permission
//! only if one of its own permissions covers it ([`PermissionSet::first_uncovered`]).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest permission accepted, in bytes.
pub const MAX_PERMISSION_LEN: usize = 100;
/// The most permissions one key, role or request may carry.
pub const MAX_PERMISSIONS: usize = 100;

/// keygate's own resources: every other resource is the product's.
pub const KEYGATE_RESOURCES: [&str; 7] = [
    "api_keys",
    "projects",
    "roles",
    "service_accounts",
    "webhooks",
    "members",
    "audit_log",
];

const PRODUCT_WIDE: &str = "*:*";

/// One parsed permission. Its text form is canonical (lowercase, no spaces).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission(String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermissionError {
    /// Not `resource:action`.
    Shape,
    /// Too long.
    TooLong,
    /// A part that is empty or has a character other than `a-z`, `0-9`, `_`, `-`, `.`.
    InvalidPart,
}

impl fmt::Display for PermissionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PermissionError::Shape => "must look like `resource:action`, `resource:*` or `admin:*`",
            PermissionError::TooLong => "is longer than 100 characters",
            PermissionError::InvalidPart => {
                "resource and action may only use lowercase letters, digits, `_`, `-` and `.`"
            }
        })
    }
}

fn valid_part(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        })
}

impl Permission {
    pub fn parse(s: &str) -> Result<Self, PermissionError> {
        if s.len() > MAX_PERMISSION_LEN {
            return Err(PermissionError::TooLong);
        }
        let (resource, action) = s.split_once(':').ok_or(PermissionError::Shape)?;
        if !valid_part(resource) {
            return Err(PermissionError::InvalidPart);
        }
        if action != "*" && !valid_part(action) {
            return Err(if action.contains(':') {
                PermissionError::Shape
            } else {
                PermissionError::InvalidPart
            });
        }
        Ok(Permission(s.to_owned()))
    }

    /// For constants known to be valid.
    pub fn new_static(s: &str) -> Self {
        Self::parse(s).expect("a valid permission literal")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn parts(&self) -> (&str, &str) {
        self.0
            .split_once(':')
            .expect("parsed permissions have a colon")
    }

    pub fn is_admin(&self) -> bool {
        self.0 == "admin:*"
    }

    /// `*:*`: every permission on the product's resources (see the module's table).
    pub fn product_wide() -> Self {
        Permission(PRODUCT_WIDE.to_owned())
    }

    /// The resource is keygate's own (or `admin`), not the product's.
    pub fn is_keygate_resource(&self) -> bool {
        let (resource, _) = self.parts();
        resource == "admin" || KEYGATE_RESOURCES.contains(&resource)
    }

    /// Does holding `self` allow what `wanted` names?
    pub fn covers(&self, wanted: &Permission) -> bool {
        // Rule 1: `admin:*` covers everything.
        if self.is_admin() {
            return true;
        }
        // Rule 1b: `*:*` covers every permission of the product's resources, none of keygate's.
        if self.0 == PRODUCT_WIDE {
            return !wanted.is_keygate_resource();
        }
        let (held_res, held_act) = self.parts();
        let (want_res, want_act) = wanted.parts();
        // Rule 2: nothing else crosses resources (`tasks:*` does not cover `events:read`).
        if held_res != want_res {
            return false;
        }
        // Rule 3: `resource:*` covers every action on its resource, its own wildcard included.
        if held_act == "*" {
            return true;
        }
        // Rule 4: a single action covers only itself; it never covers the wildcard.
        held_act == want_act
    }
}

impl fmt::Debug for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // Stored and internal calls only (request bodies go through `Permission::parse`): a
        // member's `*:*` travels to the key object it manages.
        if s == PRODUCT_WIDE {
            return Ok(Permission::product_wide());
        }
        Permission::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The permissions a key, role or request carries: deduplicated, in the order first given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PermissionSet(Vec<Permission>);

impl PermissionSet {
    pub fn new(perms: impl IntoIterator<Item = Permission>) -> Self {
        let mut out: Vec<Permission> = Vec::new();
        for p in perms {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        PermissionSet(out)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Permission> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Is `wanted` allowed by one of these? An empty set allows nothing.
    pub fn covers(&self, wanted: &Permission) -> bool {
        self.0.iter().any(|held| held.covers(wanted))
    }

    /// The first of `wanted` that these do not cover, if any: the permission a 403 names.
    pub fn first_uncovered<'a>(
        &self,
        wanted: impl IntoIterator<Item = &'a Permission>,
    ) -> Option<&'a Permission> {
        wanted.into_iter().find(|w| !self.covers(w))
    }

    /// The union of several sets, in order of first appearance.
    pub fn union<'a>(sets: impl IntoIterator<Item = &'a PermissionSet>) -> Self {
        PermissionSet::new(sets.into_iter().flat_map(|s| s.0.iter().cloned()))
    }
}

/// The permissions the service's own endpoints need.
pub mod needs {
    pub const API_KEYS_READ: &str = "api_keys:read";
    pub const API_KEYS_WRITE: &str = "api_keys:write";
    pub const PROJECTS_READ: &str = "projects:read";
    pub const PROJECTS_WRITE: &str = "projects:write";
    pub const ROLES_READ: &str = "roles:read";
    pub const ROLES_WRITE: &str = "roles:write";
    pub const SERVICE_ACCOUNTS_READ: &str = "service_accounts:read";
    pub const SERVICE_ACCOUNTS_WRITE: &str = "service_accounts:write";
    pub const MEMBERS_READ: &str = "members:read";
    pub const MEMBERS_WRITE: &str = "members:write";
    pub const WEBHOOKS_READ: &str = "webhooks:read";
    pub const WEBHOOKS_WRITE: &str = "webhooks:write";
    pub const AUDIT_LOG_READ: &str = "audit_log:read";
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn product_wide_covers_the_products_resources_and_nothing_of_keygates() {
        let held = Permission::product_wide();
        for wanted in ["tasks:read", "events:*", "billing.invoices:write"] {
            assert!(held.covers(&Permission::new_static(wanted)), "{wanted}");
        }
        for wanted in KEYGATE_RESOURCES
            .iter()
            .flat_map(|r| ["read", "write", "*"].map(|a| format!("{r}:{a}")))
            .chain(["admin:*".to_owned()])
        {
            assert!(
                !held.covers(&Permission::parse(&wanted).unwrap()),
                "{wanted}"
            );
        }
    }

    #[test]
    fn product_wide_is_never_accepted_as_input_but_travels_internally() {
        assert!(Permission::parse("*:*").is_err());
        let back: Permission = serde_json::from_str("\"*:*\"").unwrap();
        assert_eq!(back, Permission::product_wide());
        assert!(serde_json::from_str::<Permission>("\"*:read\"").is_err());
    }

    fn p(s: &str) -> Permission {
        Permission::parse(s).unwrap()
    }

    fn set(list: &[&str]) -> PermissionSet {
        PermissionSet::new(list.iter().map(|s| p(s)))
    }

    #[test]
    fn parses_the_three_shapes() {
        assert!(Permission::parse("tasks:read").is_ok());
        assert!(Permission::parse("tasks:*").is_ok());
        assert!(Permission::parse("admin:*").is_ok());
        assert!(Permission::parse("api_keys:write").is_ok());
        assert!(Permission::parse("billing.v2:export-csv").is_ok());
    }

    #[test]
    fn rejects_everything_else() {
        use PermissionError::*;
        let cases = [
            ("tasks", Shape),
            ("", Shape),
            ("tasks:", InvalidPart),
            (":read", InvalidPart),
            ("*:*", InvalidPart),
            ("*:read", InvalidPart),
            ("Tasks:read", InvalidPart),
            ("tasks:Read", InvalidPart),
            ("tasks: read", InvalidPart),
            ("tasks:read:all", Shape),
            ("tasks:re*", InvalidPart),
        ];
        for (s, want) in cases {
            assert_eq!(Permission::parse(s), Err(want), "{s:?}");
        }
        assert_eq!(
            Permission::parse(&format!("a:{}", "b".repeat(99))),
            Err(TooLong)
        );
    }

    #[test]
    fn rule_1_admin_covers_everything() {
        assert!(p("admin:*").covers(&p("tasks:read")));
        assert!(p("admin:*").covers(&p("tasks:*")));
        assert!(p("admin:*").covers(&p("admin:*")));
        assert!(
            !p("admin:read").covers(&p("tasks:read")),
            "only admin:* is special"
        );
    }

    #[test]
    fn rule_2_no_crossing_resources() {
        assert!(!p("tasks:*").covers(&p("events:read")));
        assert!(!p("tasks:read").covers(&p("events:read")));
        assert!(!p("tasks:*").covers(&p("admin:*")));
    }

    #[test]
    fn rule_3_resource_wildcard() {
        assert!(p("tasks:*").covers(&p("tasks:read")));
        assert!(p("tasks:*").covers(&p("tasks:write")));
        assert!(p("tasks:*").covers(&p("tasks:*")));
    }

    #[test]
    fn rule_4_single_action() {
        assert!(p("tasks:read").covers(&p("tasks:read")));
        assert!(!p("tasks:read").covers(&p("tasks:write")));
        assert!(!p("tasks:read").covers(&p("tasks:*")));
    }

    #[test]
    fn empty_set_allows_nothing() {
        assert!(!PermissionSet::default().covers(&p("tasks:read")));
    }

    #[test]
    fn first_uncovered_names_the_missing_one() {
        let held = set(&["tasks:*", "events:read"]);
        let wanted = [p("tasks:write"), p("events:write"), p("users:read")];
        assert_eq!(held.first_uncovered(&wanted), Some(&wanted[1]));
        assert_eq!(held.first_uncovered(&wanted[..1]), None);
    }

    #[test]
    fn dedupes_in_order() {
        let s = set(&["b:read", "a:read", "b:read"]);
        let v: Vec<&str> = s.iter().map(Permission::as_str).collect();
        assert_eq!(v, ["b:read", "a:read"]);
        let u = PermissionSet::union([&set(&["a:read"]), &set(&["b:read", "a:read"])]);
        assert_eq!(u, set(&["a:read", "b:read"]));
    }

    fn arb_perm() -> impl Strategy<Value = Permission> {
        let res = prop_oneof![Just("tasks"), Just("events"), Just("admin"), Just("users")];
        let act = prop_oneof![Just("read"), Just("write"), Just("*")];
        (res, act).prop_map(|(r, a)| p(&format!("{r}:{a}")))
    }

    proptest! {
        /// Covering is transitive: if A covers B and B covers C, A covers C. Without it, a key
        /// could hand on, through an intermediate key, more than it holds.
        #[test]
        fn covering_is_transitive(a in arb_perm(), b in arb_perm(), c in arb_perm()) {
            if a.covers(&b) && b.covers(&c) {
                prop_assert!(a.covers(&c));
            }
        }

        /// Every permission covers itself.
        #[test]
        fn covering_is_reflexive(a in arb_perm()) {
            prop_assert!(a.covers(&a));
        }

        /// A set covers every member of any subset it grants (what no-escalation relies on).
        #[test]
        fn granted_subsets_stay_covered(held in proptest::collection::vec(arb_perm(), 0..5),
                                        wanted in proptest::collection::vec(arb_perm(), 0..5)) {
            let held = PermissionSet::new(held);
            if held.first_uncovered(&wanted).is_none() {
                let granted = PermissionSet::new(wanted);
                for other in [p("tasks:read"), p("tasks:*"), p("events:write"), p("admin:*")] {
                    if granted.covers(&other) {
                        prop_assert!(held.covers(&other), "granting gave {other} beyond {held:?}");
                    }
                }
            }
        }
    }
}
