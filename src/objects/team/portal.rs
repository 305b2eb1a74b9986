//! The team's portal links (by token hash) and the members linked to an external id, as a
//! `core::team::portal::PortalStore`. Every call runs synchronously.

use crate::core::members::Member;
use crate::core::portal::PortalGrant;
use crate::core::store::StoreResult;
use crate::core::team::portal::PortalStore;
use crate::core::time::Timestamp;
use crate::objects::sql::{json, Sql};
use worker::SqlStorageValue as V;

impl PortalStore for Sql {
    fn portal(&self, token_hash: &str) -> StoreResult<Option<PortalGrant>> {
        self.one(
            "SELECT 0 AS seq, body FROM portal_sessions WHERE token_hash = ?",
            vec![token_hash.into()],
        )
    }

    fn put_portal(&self, g: &PortalGrant) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO portal_sessions (token_hash, expires_ms, body) VALUES (?, ?, ?)",
            vec![
                g.token_hash.as_str().into(),
                V::from(g.expires_at.millis()),
                json(g)?.into(),
            ],
        )
    }

    fn prune_portals(&self, expired_before: Timestamp) -> StoreResult<()> {
        self.exec(
            "DELETE FROM portal_sessions WHERE expires_ms < ?",
            vec![V::from(expired_before.millis())],
        )
    }

    fn count_portals(&self) -> StoreResult<u64> {
        let n = self.count_of("SELECT COUNT(*) AS n FROM portal_sessions", vec![])?;
        Ok(n.max(0) as u64)
    }

    fn member_by_external_id(&self, external_id: &str) -> StoreResult<Option<Member>> {
        self.one(
            "SELECT seq, body FROM members WHERE json_extract(body, '$.external_id') = ?",
            vec![external_id.into()],
        )
    }
}
