//! Object ids: a type prefix and 20 random base62 characters (`key_…`, `team_…`, `sa_…`,
//! `proj_…`, `role_…`, `mem_…`, `inv_…`, `wh_…`). Ids are not secrets, but random ones say nothing about how many objects
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
    Member,
    Invitation,
    Webhook,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Team => "team_",
            IdKind::Key => "key_",
            IdKind::ServiceAccount => "sa_",
            IdKind::Project => "proj_",
            IdKind::Role => "role_",
            IdKind::Member => "mem_",
            IdKind::Invitation => "inv_",
            IdKind::Webhook => "wh_",
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

/// An id type: what [`crate::core::input`] parses an id field into.
pub trait TypedId: Sized {
    const KIND: IdKind;
    fn parse(s: &str) -> Option<Self>;
}

macro_rules! id_types {
    ($($(#[$doc:meta])* $name:ident = $kind:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// Made by [`Self::generate`] or [`Self::parse`] (which checks the prefix and the
        /// shape), so a value of this type is an id of this kind: nothing checks it again, and
        /// ids of two kinds cannot be swapped. Stored and sent as the plain string.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn generate(rng: &mut impl Random) -> Self {
                $name(new_id(IdKind::$kind, rng))
            }

            /// `None` unless `s` has this kind's prefix and shape.
            pub fn parse(s: &str) -> Option<Self> {
                is_id(IdKind::$kind, s).then(|| $name(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TypedId for $name {
            const KIND: IdKind = IdKind::$kind;
            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        #[cfg(test)]
        impl From<&str> for $name {
            /// Tests name objects `key_1`, `team_1`, …: readable, and never parsed.
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }
    )*};
}

id_types! {
    /// A team's id (`team_…`).
    TeamId = Team;
    /// An API key's id (`key_…`), never the key itself.
    KeyId = Key;
    /// A project's id (`proj_…`).
    ProjectId = Project;
    /// A role's id (`role_…`).
    RoleId = Role;
    /// A service account's id (`sa_…`).
    ServiceAccountId = ServiceAccount;
    /// A team member's id (`mem_…`).
    MemberId = Member;
    /// An invitation's id (`inv_…`), never its token.
    InvitationId = Invitation;
    /// A webhook endpoint's id (`wh_…`).
    WebhookId = Webhook;
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

    #[test]
    fn typed_ids_parse_only_their_kind() {
        let mut rng = FixedRandom((0..200).collect(), 0);
        let key = KeyId::generate(&mut rng);
        assert_eq!(KeyId::parse(key.as_str()), Some(key.clone()));
        assert_eq!(TeamId::parse(key.as_str()), None);
        assert_eq!(KeyId::parse("key_short"), None);
        assert_eq!(serde_json::to_string(&key).unwrap(), format!("\"{key}\""));
    }
}
