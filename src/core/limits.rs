//! A team's limits: how many objects it may hold and the highest rate a key of it may be given.
//! The operator sets them (`POST /v1/teams`, `PATCH /v1/teams/{id}`); the team object enforces
//! them atomically with the insert they guard. They protect the service from one tenant: a key
//! that may create keys cannot create them without bound, nor give any key (itself included)
//! a rate the operator did not allow.

use super::permission::{PermissionSet, MAX_PERMISSIONS};
use super::ratelimit::{RateLimitPolicy, MAX_LIMIT};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The limits of one team. Teams stored before limits existed read as [`TeamLimits::default`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TeamLimits {
    /// Keys, live and test together, disabled and expired included, deleted not.
    pub max_keys: u32,
    pub max_projects: u32,
    pub max_roles: u32,
    pub max_service_accounts: u32,
    pub max_webhooks: u32,
    /// Members (pending invitations count against it when they are accepted).
    pub max_members: u32,
    /// The highest `rate_limit.per_minute` a key of the team may be given.
    pub max_per_minute: u32,
    /// The highest `rate_limit.per_hour` a key of the team may be given.
    pub max_per_hour: u32,
}

impl Default for TeamLimits {
    /// Room for a real product (10,000 keys, a professional plan twenty times over) and no more
    /// than one tenant should take of a shared deployment; the operator raises them per team.
    fn default() -> Self {
        TeamLimits {
            max_keys: 10_000,
            max_projects: 100,
            max_roles: 100,
            max_service_accounts: 100,
            max_webhooks: 10,
            max_members: 1_000,
            max_per_minute: 10_000,
            max_per_hour: 600_000,
        }
    }
}

/// What a count limit guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counted {
    Keys,
    Projects,
    Roles,
    ServiceAccounts,
    Webhooks,
    Members,
    /// Pending invitations: at most `MAX_PENDING_INVITATIONS`, not a team setting.
    Invitations,
    /// Portal links remembered: at most `core::portal::MAX_PORTAL_SESSIONS`, not a team setting.
    PortalSessions,
}

impl Counted {
    /// The limit's field name, as in the API.
    pub fn field(self) -> &'static str {
        match self {
            Counted::Keys => "max_keys",
            Counted::Projects => "max_projects",
            Counted::Roles => "max_roles",
            Counted::ServiceAccounts => "max_service_accounts",
            Counted::Webhooks => "max_webhooks",
            Counted::Members => "max_members",
            Counted::Invitations => "pending invitations",
            Counted::PortalSessions => "portal sessions",
        }
    }
}

/// A create refused because the team holds as many as its limit allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitReached {
    pub what: Counted,
    pub limit: u32,
}

impl LimitReached {
    pub fn detail(&self) -> String {
        if self.what == Counted::PortalSessions {
            return format!(
                "this team has {} portal links made within the last hour, the most it may have; try again later",
                self.limit
            );
        }
        if self.what == Counted::Invitations {
            return format!(
                "this team has {} pending invitations, the most it may have; withdraw some first",
                self.limit
            );
        }
        format!(
            "this team has reached its limit `{}` of {}; delete some or ask the operator to raise it",
            self.what.field(),
            self.limit
        )
    }
}

/// A rate above the team's ceiling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AboveCeiling {
    /// `per_minute` or `per_hour`.
    pub field: String,
    pub ceiling: u32,
}

impl AboveCeiling {
    pub fn detail(&self) -> String {
        format!(
            "`rate_limit.{0}` is above this team's ceiling of {1} (`max_{0}`); the operator can raise it",
            self.field, self.ceiling
        )
    }
}

impl TeamLimits {
    /// May a team holding `current` of `what` create one more?
    pub fn admit(&self, what: Counted, current: u64) -> Result<(), LimitReached> {
        let limit = match what {
            Counted::Keys => self.max_keys,
            Counted::Projects => self.max_projects,
            Counted::Roles => self.max_roles,
            Counted::ServiceAccounts => self.max_service_accounts,
            Counted::Webhooks => self.max_webhooks,
            Counted::Members => self.max_members,
            Counted::Invitations => crate::core::members::MAX_PENDING_INVITATIONS as u32,
            Counted::PortalSessions => crate::core::portal::MAX_PORTAL_SESSIONS,
        };
        if current < u64::from(limit) {
            Ok(())
        } else {
            Err(LimitReached { what, limit })
        }
    }

    /// Is this rate within the team's ceiling?
    pub fn allows_rate(&self, policy: &RateLimitPolicy) -> Result<(), AboveCeiling> {
        if policy.per_minute > self.max_per_minute {
            return Err(AboveCeiling {
                field: "per_minute".into(),
                ceiling: self.max_per_minute,
            });
        }
        if policy.per_hour > self.max_per_hour {
            return Err(AboveCeiling {
                field: "per_hour".into(),
                ceiling: self.max_per_hour,
            });
        }
        Ok(())
    }
}

impl TeamLimits {
    /// The rate of a team's first key: plan `free`, lowered to the team's ceilings if they are
    /// below it, so the key the operator hands out always fits its own team.
    pub fn first_key_rate(&self) -> RateLimitPolicy {
        let free = RateLimitPolicy::free();
        RateLimitPolicy {
            per_minute: free.per_minute.min(self.max_per_minute),
            per_hour: free.per_hour.min(self.max_per_hour),
            ..free
        }
    }
}

/// A service account's key takes the union of its roles' permissions; like any key's, it may
/// hold at most [`MAX_PERMISSIONS`]. `Err` carries the size the union would have.
pub fn within_permission_cap(perms: &PermissionSet) -> Result<(), usize> {
    if perms.len() <= MAX_PERMISSIONS {
        Ok(())
    } else {
        Err(perms.len())
    }
}

/// The message for a union past the cap.
pub fn too_many_permissions(count: usize) -> String {
    format!(
        "the roles together hold {count} permissions; a key holds at most {MAX_PERMISSIONS}, \
         so merge or narrow them"
    )
}

/// The highest value an operator may set for a count limit.
pub const MAX_COUNT_LIMIT: u32 = 1_000_000;

/// Why a `limits` object was refused; each carries the message for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitsError {
    /// A field that is not a limit.
    Unknown(String),
    /// A limit out of its range or not an integer.
    Invalid(String),
}

impl LimitsError {
    pub fn detail(&self) -> &str {
        match self {
            LimitsError::Unknown(d) | LimitsError::Invalid(d) => d,
        }
    }
}

/// The operator's `limits` object: each field given replaces the team's current value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitsPatch {
    pub max_keys: Option<u32>,
    pub max_projects: Option<u32>,
    pub max_roles: Option<u32>,
    pub max_service_accounts: Option<u32>,
    pub max_webhooks: Option<u32>,
    pub max_members: Option<u32>,
    pub max_per_minute: Option<u32>,
    pub max_per_hour: Option<u32>,
}

impl LimitsPatch {
    /// Counts are 0..=[`MAX_COUNT_LIMIT`] (0 forbids creating more), rates 1..=[`MAX_LIMIT`].
    pub fn parse(given: &Map<String, Value>) -> Result<Self, LimitsError> {
        let mut out = LimitsPatch::default();
        for (field, value) in given {
            let (slot, min, max) = match field.as_str() {
                "max_keys" => (&mut out.max_keys, 0, MAX_COUNT_LIMIT),
                "max_projects" => (&mut out.max_projects, 0, MAX_COUNT_LIMIT),
                "max_roles" => (&mut out.max_roles, 0, MAX_COUNT_LIMIT),
                "max_service_accounts" => (&mut out.max_service_accounts, 0, MAX_COUNT_LIMIT),
                "max_webhooks" => (&mut out.max_webhooks, 0, MAX_COUNT_LIMIT),
                "max_members" => (&mut out.max_members, 0, MAX_COUNT_LIMIT),
                "max_per_minute" => (&mut out.max_per_minute, 1, MAX_LIMIT),
                "max_per_hour" => (&mut out.max_per_hour, 1, MAX_LIMIT),
                other => {
                    let shown: String = other.chars().take(64).collect();
                    return Err(LimitsError::Unknown(format!(
                        "`limits.{shown}` is not a limit; the limits are max_keys, max_projects, \
                         max_roles, max_service_accounts, max_webhooks, max_members, max_per_minute, \
                         max_per_hour"
                    )));
                }
            };
            let n = value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    LimitsError::Invalid(format!(
                        "`limits.{field}` must be an integer from {min} to {max}"
                    ))
                })?;
            *slot = Some(n);
        }
        Ok(out)
    }

    /// For a new team: its first key counts, so `max_keys` may not be 0.
    pub fn check_new_team(&self) -> Result<(), String> {
        match self.max_keys {
            Some(0) => Err(
                "`limits.max_keys` must be at least 1 for a new team: its first key counts".into(),
            ),
            _ => Ok(()),
        }
    }

    pub fn apply(self, base: TeamLimits) -> TeamLimits {
        TeamLimits {
            max_keys: self.max_keys.unwrap_or(base.max_keys),
            max_projects: self.max_projects.unwrap_or(base.max_projects),
            max_roles: self.max_roles.unwrap_or(base.max_roles),
            max_service_accounts: self
                .max_service_accounts
                .unwrap_or(base.max_service_accounts),
            max_webhooks: self.max_webhooks.unwrap_or(base.max_webhooks),
            max_members: self.max_members.unwrap_or(base.max_members),
            max_per_minute: self.max_per_minute.unwrap_or(base.max_per_minute),
            max_per_hour: self.max_per_hour.unwrap_or(base.max_per_hour),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::permission::Permission;
    use crate::core::ratelimit::Plan;

    #[test]
    fn counts_admit_up_to_the_limit() {
        let l = TeamLimits {
            max_projects: 2,
            ..Default::default()
        };
        assert!(l.admit(Counted::Projects, 0).is_ok());
        assert!(l.admit(Counted::Projects, 1).is_ok());
        let e = l.admit(Counted::Projects, 2).unwrap_err();
        assert_eq!(
            e,
            LimitReached {
                what: Counted::Projects,
                limit: 2
            }
        );
        assert!(e.detail().contains("max_projects") && e.detail().contains('2'));
        let none = TeamLimits {
            max_keys: 0,
            ..Default::default()
        };
        assert!(none.admit(Counted::Keys, 0).is_err(), "0 forbids creating");
    }

    #[test]
    fn rates_above_the_ceiling_are_refused() {
        let l = TeamLimits::default();
        assert!(l.allows_rate(&RateLimitPolicy::free()).is_ok());
        let pro = RateLimitPolicy::build(Plan::Professional, None, None).unwrap();
        assert!(l.allows_rate(&pro).is_ok(), "the plans fit the defaults");
        let huge = RateLimitPolicy::build(Plan::Enterprise, Some(MAX_LIMIT), Some(MAX_LIMIT));
        let e = l.allows_rate(&huge.unwrap()).unwrap_err();
        assert_eq!(e.field, "per_minute");
        assert!(e.detail().contains("`max_per_minute`"));
        assert!(e.detail().contains("10000"));
        let hourly = RateLimitPolicy::build(Plan::Enterprise, Some(10_000), Some(600_001));
        assert_eq!(
            l.allows_rate(&hourly.unwrap()).unwrap_err().field,
            "per_hour"
        );
        let at = RateLimitPolicy::build(Plan::Enterprise, Some(10_000), Some(600_000));
        assert!(
            l.allows_rate(&at.unwrap()).is_ok(),
            "the ceiling itself is allowed"
        );
    }

    #[test]
    fn the_snapshot_cap_is_the_permission_cap() {
        let perms = |n: usize| {
            PermissionSet::new((0..n).map(|i| Permission::parse(&format!("r{i}:read")).unwrap()))
        };
        assert!(within_permission_cap(&perms(MAX_PERMISSIONS)).is_ok());
        assert_eq!(within_permission_cap(&perms(MAX_PERMISSIONS + 1)), Err(101));
        assert!(too_many_permissions(101).contains("at most 100"));
    }

    #[test]
    fn operator_limits_merge_onto_the_current_ones() {
        let given = |v: Value| v.as_object().unwrap().clone();
        let base = TeamLimits::default();
        let l = LimitsPatch::parse(&given(serde_json::json!({"max_keys": 5})))
            .unwrap()
            .apply(base);
        assert_eq!(l.max_keys, 5);
        assert_eq!(l.max_roles, base.max_roles, "others unchanged");
        for (bad, says) in [
            (serde_json::json!({"max_keys": -1}), "from 0 to 1000000"),
            (serde_json::json!({"max_keys": 1.5}), "integer"),
            (
                serde_json::json!({"max_per_minute": 0}),
                "from 1 to 1000000000",
            ),
            (serde_json::json!({"max_keys": "5"}), "integer"),
            (serde_json::json!({"max_things": 5}), "not a limit"),
        ] {
            let e = LimitsPatch::parse(&given(bad.clone())).unwrap_err();
            assert!(e.detail().contains(says), "{bad}: {e:?}");
            assert_eq!(
                matches!(e, LimitsError::Unknown(_)),
                says == "not a limit",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_new_teams_first_key_always_fits_it() {
        assert_eq!(
            TeamLimits::default().first_key_rate(),
            RateLimitPolicy::free()
        );
        let tight = TeamLimits {
            max_per_minute: 10,
            max_per_hour: 50,
            ..Default::default()
        };
        let r = tight.first_key_rate();
        assert_eq!((r.per_minute, r.per_hour), (10, 50));
        assert!(tight.allows_rate(&r).is_ok());
        let none = LimitsPatch {
            max_keys: Some(0),
            ..Default::default()
        };
        assert!(none.check_new_team().unwrap_err().contains("at least 1"));
        assert!(LimitsPatch::default().check_new_team().is_ok());
    }

    #[test]
    fn teams_stored_before_limits_read_the_defaults() {
        let l: TeamLimits = serde_json::from_str("{}").unwrap();
        assert_eq!(l, TeamLimits::default());
    }
}
