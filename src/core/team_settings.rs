//! Who may change what of a team (`PATCH /v1/teams/{id}`): the operator anything; a credential of
//! the team itself holding `admin:*` (a key or a member's session) only the team's own settings,
//! never its name or the limits the operator sells it.

use crate::core::key::Environment;

/// Who asks to change a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeamChanger {
    /// The `ADMIN_TOKEN`.
    Operator,
    /// A credential of the team holding `admin:*`.
    TeamAdmin,
}

/// The fields a team change touches, as the input parser found them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TeamChange {
    pub name: bool,
    pub limits: bool,
}

/// `Err(field)`: the first field `changer` may not set (the answer is `403`).
pub fn may_change(changer: TeamChanger, change: TeamChange) -> Result<(), &'static str> {
    match changer {
        TeamChanger::Operator => Ok(()),
        TeamChanger::TeamAdmin if change.name => Err("name"),
        TeamChanger::TeamAdmin if change.limits => Err("limits"),
        TeamChanger::TeamAdmin => Ok(()),
    }
}

/// A team's settings reach its live keys too (`leak_policy` disables them, `auto_disable_idle_days`
/// disables the idle ones), so a credential of the `test` environment, which manages only test
/// keys, changes none of them (`403`, as a test key touching a live key).
pub fn may_change_settings(environment: Environment) -> bool {
    environment == Environment::Live
}

/// `require_totp` (issue 23): the operator, or an owner's session of the team; an `admin:*`
/// key or an `admin` member is no owner (as for making owners, `403 owner_required`).
pub fn may_require_totp(changer: TeamChanger, owner_session: bool) -> bool {
    changer == TeamChanger::Operator || owner_session
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_operator_or_an_owner_requires_two_factors() {
        assert!(may_require_totp(TeamChanger::Operator, false));
        assert!(may_require_totp(TeamChanger::TeamAdmin, true));
        assert!(!may_require_totp(TeamChanger::TeamAdmin, false));
    }

    #[test]
    fn a_test_credential_changes_no_setting() {
        assert!(may_change_settings(Environment::Live));
        assert!(!may_change_settings(Environment::Test));
    }

    #[test]
    fn the_operator_changes_anything() {
        let all = TeamChange {
            name: true,
            limits: true,
        };
        assert_eq!(may_change(TeamChanger::Operator, all), Ok(()));
    }

    #[test]
    fn a_team_admin_changes_only_the_teams_settings() {
        let settings_only = TeamChange::default();
        assert_eq!(may_change(TeamChanger::TeamAdmin, settings_only), Ok(()));
        let name = TeamChange {
            name: true,
            limits: false,
        };
        assert_eq!(may_change(TeamChanger::TeamAdmin, name), Err("name"));
        let limits = TeamChange {
            name: false,
            limits: true,
        };
        assert_eq!(may_change(TeamChanger::TeamAdmin, limits), Err("limits"));
    }
}
