//! Who may change what of a team (`PATCH /v1/teams/{id}`): the operator anything; a credential of
//! the team itself holding `admin:*` (a key or a member's session) only the team's own settings,
//! never its name or the limits the operator sells it.

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

#[cfg(test)]
mod tests {
    use super::*;

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
