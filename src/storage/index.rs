//! The edge index in Workers KV: `h:<SHA-256 of the key>` → where the key lives (its id and its
//! team), and the per-isolate cache of entries already read. Pure: the KV calls are in `edge`.

use crate::core::ids::{KeyId, TeamId};
use crate::core::key::KeyHash;

/// What KV stores under a key's hash: where to find the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    pub key_id: KeyId,
    pub team_id: TeamId,
}

impl IndexEntry {
    /// `key_…/team_…`: ids never contain `/`.
    pub fn encode(&self) -> String {
        format!("{}/{}", self.key_id, self.team_id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (key_id, team_id) = s.split_once('/')?;
        Some(IndexEntry {
            key_id: KeyId::parse(key_id)?,
            team_id: TeamId::parse(team_id)?,
        })
    }
}

/// Index entries this isolate has already read, so a warm isolate verifies a key with no KV read.
///
/// Safe to cache without expiry: a key's hash and id never change for the key's life, ids are
/// never reused, and every entry found is confirmed by the key's object, so a deleted key's
/// cached entry leads to an empty object that answers `invalid_key`. Misses are never cached (a
/// key created a moment ago must verify). Bounded: when full, it starts over.
pub struct IndexCache {
    map: std::collections::HashMap<KeyHash, IndexEntry>,
    capacity: usize,
}

impl IndexCache {
    pub fn new(capacity: usize) -> Self {
        IndexCache {
            map: std::collections::HashMap::new(),
            capacity,
        }
    }

    pub fn get(&self, hash: &KeyHash) -> Option<&IndexEntry> {
        self.map.get(hash)
    }

    pub fn insert(&mut self, hash: KeyHash, entry: IndexEntry) {
        if self.map.len() >= self.capacity {
            self.map.clear();
        }
        self.map.insert(hash, entry);
    }

    pub fn remove(&mut self, hash: &KeyHash) {
        self.map.remove(hash);
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The KV name of a key's index entry.
pub fn index_name(hash: &KeyHash) -> String {
    format!("h:{}", hash.to_hex())
}

/// The KV name of a team's marker, `t:<team id>`: written when the team is made, so that a
/// sign-in, an invitation acceptance or a session cookie naming a team can be judged at the edge
/// without touching (and so creating) the team's object. A name with no marker is no team.
pub fn team_marker_name(team_id: &TeamId) -> String {
    format!("t:{team_id}")
}

/// Teams this isolate has found a marker for (a team's marker lives as long as the team).
/// Bounded like [`IndexCache`]; absences are never cached (a team made a moment ago must sign
/// in).
pub struct KnownTeams {
    set: std::collections::HashSet<TeamId>,
    capacity: usize,
}

impl KnownTeams {
    pub fn new(capacity: usize) -> Self {
        KnownTeams {
            set: std::collections::HashSet::new(),
            capacity,
        }
    }

    pub fn contains(&self, team: &TeamId) -> bool {
        self.set.contains(team)
    }

    pub fn insert(&mut self, team: TeamId) {
        if self.set.len() >= self.capacity {
            self.set.clear();
        }
        self.set.insert(team);
    }

    pub fn remove(&mut self, team: &TeamId) {
        self.set.remove(team);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_marker_is_named_by_the_team_and_known_teams_are_bounded() {
        let t: TeamId = "team_0123456789ABCDEFGHIJ".into();
        assert_eq!(team_marker_name(&t), "t:team_0123456789ABCDEFGHIJ");
        assert_ne!(
            team_marker_name(&t),
            index_name(&KeyHash::from_hex(&hex::encode([0; 32])).unwrap())
        );
        let mut k = KnownTeams::new(1);
        assert!(!k.contains(&t));
        k.insert(t.clone());
        assert!(k.contains(&t));
        k.insert("team_other".into());
        assert!(!k.contains(&t), "full: it started over");
        k.remove(&"team_other".into());
        assert!(!k.contains(&"team_other".into()));
    }

    #[test]
    fn index_entry_round_trip() {
        let e = IndexEntry {
            key_id: "key_0123456789abcdefghij".into(),
            team_id: "team_0123456789ABCDEFGHIJ".into(),
        };
        assert_eq!(IndexEntry::decode(&e.encode()), Some(e));
        assert_eq!(IndexEntry::decode("garbage"), None);
        assert_eq!(
            IndexEntry::decode("key_a/team_b"),
            None,
            "ids that are not ids are no entry"
        );
    }

    #[test]
    fn index_cache_is_bounded() {
        let mut c = IndexCache::new(2);
        let h = |n: u8| KeyHash::from_hex(&hex::encode([n; 32])).unwrap();
        let e = |n: u8| IndexEntry {
            key_id: format!("key_{n}").as_str().into(),
            team_id: "team_1".into(),
        };
        c.insert(h(1), e(1));
        c.insert(h(2), e(2));
        assert_eq!(c.get(&h(1)), Some(&e(1)));
        c.insert(h(3), e(3));
        assert_eq!(c.len(), 1, "full: it started over");
        assert_eq!(c.get(&h(3)), Some(&e(3)));
        c.remove(&h(3));
        assert!(c.is_empty());
    }
}
