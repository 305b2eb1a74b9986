//! What the team rules' unit tests share (people, portal): a clock, a team, a refusal. Test-only.

use super::memory::MemoryTeam;
use super::{TeamError, TeamRefusal, TeamResult, TeamStore};
use crate::core::model::Team;
use crate::core::time::Timestamp;

const T0: i64 = 1_800_000_000_000;

/// `ms` after the tests' start of the clock.
pub fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(T0 + ms)
}

/// An empty team `team_1` ("Acme"), made at the start of the clock.
pub fn team() -> MemoryTeam {
    team_requiring_totp(false)
}

/// [`team`], whose members must (or need not) sign in with two factors.
pub fn team_requiring_totp(require_totp: bool) -> MemoryTeam {
    let s = MemoryTeam::default();
    s.insert_team(&Team {
        id: "team_1".into(),
        name: "Acme".into(),
        created_at: at(0),
        limits: Default::default(),
        leak_policy: Default::default(),
        auto_disable_idle_days: None,
        branding: Default::default(),
        require_totp,
    })
    .unwrap();
    s
}

/// The refusal `r` must be.
pub fn refusal<T: std::fmt::Debug>(r: TeamResult<T>) -> TeamRefusal {
    match r {
        Err(TeamError::Refused(x)) => x,
        other => panic!("expected a refusal, got {other:?}"),
    }
}
