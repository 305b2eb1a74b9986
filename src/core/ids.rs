//! Object ids: a type prefix and 20 random base62 characters (`key_…`, `team_…`, `sa_…`,
//! `proj_…`, `role_…`). Ids are not secrets, but random ones say nothing about how many objects
//! a team has or when they were made.

use super::base62;
use super::random::Random;

const ID_RANDOM_LEN: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    Team,
    Key,
    ServiceAccount,
    Project,
    Role,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Team => "team_",
            IdKind::Key => "key_",
            IdKind::ServiceAccount => "sa_",
            IdKind::Project => "proj_",
            IdKind::Role => "role_",
        }
    }
}

pub fn new_id(kind: IdKind, rng: &mut impl Random) -> String {
    format!(
        "{}{}",
        kind.prefix(),
        base62::random_string(rng, ID_RANDOM_LEN)
    )
}

/// Could `s` be an id of this kind? Anything else is answered `404` without a lookup.
pub fn is_id(kind: IdKind, s: &str) -> bool {
    s.strip_prefix(kind.prefix())
        .is_some_and(|rest| rest.len() == ID_RANDOM_LEN && rest.bytes().all(base62::is_base62))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::random::FixedRandom;

    #[test]
    fn ids_have_their_prefix_and_check() {
        let mut rng = FixedRandom((0..200).collect(), 0);
        let id = new_id(IdKind::Key, &mut rng);
        assert!(id.starts_with("key_") && id.len() == 24);
        assert!(is_id(IdKind::Key, &id));
        assert!(!is_id(IdKind::Team, &id));
        assert!(!is_id(IdKind::Key, "key_short"));
        assert!(!is_id(IdKind::Key, "key_0123456789abcdefghi!"));
    }
}
