//! The team's people tables (members, invitations, sessions, the sign-in counts, withdrawn
//! invitations) as a `core::team::MemberStore`. Every call runs synchronously.

use crate::core::events::Event;
use crate::core::members::{Invitation, Member, MemberRole, Session};
use crate::core::page::{ListQuery, Page};
use crate::core::store::StoreResult;
use crate::core::team::MemberStore;
use crate::core::throttle::Failures;
use crate::core::time::Timestamp;
use crate::objects::sql::{json, parse, text, Sql};
use worker::SqlStorageValue as V;

impl MemberStore for Sql {
    fn member(&self, id: &str) -> StoreResult<Option<Member>> {
        self.by_id("members", id)
    }

    fn member_by_email(&self, email_key: &str) -> StoreResult<Option<Member>> {
        self.one(
            "SELECT seq, body FROM members WHERE email = ?",
            vec![email_key.into()],
        )
    }

    fn insert_member(&self, m: &Member) -> StoreResult<()> {
        self.exec(
            "INSERT INTO members (id, email, role, body) VALUES (?, ?, ?, ?)",
            vec![
                V::from(&*m.id),
                m.email.key().into(),
                m.role.as_str().into(),
                json(m)?.into(),
            ],
        )
    }

    fn update_member(&self, m: &Member) -> StoreResult<()> {
        self.exec(
            "UPDATE members SET role = ?, body = ? WHERE id = ?",
            vec![m.role.as_str().into(), json(m)?.into(), V::from(&*m.id)],
        )
    }

    fn delete_member(&self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM sessions WHERE member_id = ?", vec![id.into()])?;
        self.exec("DELETE FROM members WHERE id = ?", vec![id.into()])
    }

    fn list_members(&self, query: &ListQuery) -> StoreResult<Page<Member>> {
        self.page("members", &[], query)
    }

    fn count_owners(&self) -> StoreResult<usize> {
        let n = self.count_of(
            "SELECT COUNT(*) AS n FROM members WHERE role = ?",
            vec![MemberRole::Owner.as_str().into()],
        )?;
        Ok(n as usize)
    }

    fn count_members(&self) -> StoreResult<u64> {
        let n = self.count_of("SELECT COUNT(*) AS n FROM members", vec![])?;
        Ok(n.max(0) as u64)
    }

    fn invitations(&self) -> StoreResult<Vec<Invitation>> {
        self.rows("SELECT seq, body FROM invitations ORDER BY seq", vec![])?
            .iter()
            .map(|r| parse(text(r, 1)?))
            .collect()
    }

    fn prune_invitations(&self, now: Timestamp) -> StoreResult<()> {
        for inv in self.invitations()? {
            if inv.expires_at <= now {
                self.delete_invitation(&inv.id)?;
            }
        }
        self.exec(
            "DELETE FROM withdrawn_invitations WHERE expires_ms <= ?",
            vec![V::from(now.millis())],
        )
    }

    fn mark_withdrawn(&self, token_hash: &str, expires_at: Timestamp) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO withdrawn_invitations (token_hash, expires_ms) VALUES (?, ?)",
            vec![token_hash.into(), V::from(expires_at.millis())],
        )
    }

    fn is_withdrawn(&self, token_hash: &str) -> StoreResult<bool> {
        self.exists(
            "SELECT 1 FROM withdrawn_invitations WHERE token_hash = ?",
            vec![token_hash.into()],
        )
    }

    fn invitation(&self, id: &str) -> StoreResult<Option<Invitation>> {
        self.by_id("invitations", id)
    }

    fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        self.one(
            "SELECT seq, body FROM invitations WHERE token_hash = ?",
            vec![token_hash.into()],
        )
    }

    fn invitation_by_email(&self, email_key: &str) -> StoreResult<Option<Invitation>> {
        self.one(
            "SELECT seq, body FROM invitations WHERE email = ?",
            vec![email_key.into()],
        )
    }

    fn insert_invitation(&self, i: &Invitation) -> StoreResult<()> {
        self.exec(
            "INSERT INTO invitations (id, email, token_hash, body) VALUES (?, ?, ?, ?)",
            vec![
                V::from(&*i.id),
                i.email.key().into(),
                i.token_hash.as_str().into(),
                json(i)?.into(),
            ],
        )
    }

    fn delete_invitation(&self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM invitations WHERE id = ?", vec![id.into()])
    }

    fn list_invitations(&self, query: &ListQuery) -> StoreResult<Page<Invitation>> {
        self.page("invitations", &[], query)
    }

    fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        self.one(
            "SELECT 0 AS seq, body FROM sessions WHERE token_hash = ?",
            vec![token_hash.into()],
        )
    }

    fn put_session(&self, token_hash: &str, session: &Session) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO sessions (token_hash, member_id, created_ms, body)
             VALUES (?, ?, ?, ?)",
            vec![
                token_hash.into(),
                session.member_id.as_str().into(),
                V::from(session.created_at.millis()),
                json(session)?.into(),
            ],
        )
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM sessions WHERE token_hash = ?",
            vec![token_hash.into()],
        )
    }

    fn delete_sessions_of(&self, member_id: &str, except: Option<&str>) -> StoreResult<()> {
        self.exec(
            "DELETE FROM sessions WHERE member_id = ? AND token_hash != ?",
            vec![member_id.into(), except.unwrap_or("").into()],
        )
    }

    fn prune_sessions(&self, created_before: Timestamp) -> StoreResult<()> {
        self.exec(
            "DELETE FROM sessions WHERE created_ms < ?",
            vec![V::from(created_before.millis())],
        )
    }

    fn sessions_of(&self, member_id: &str) -> StoreResult<Vec<(String, Session)>> {
        self.rows(
            "SELECT token_hash, body FROM sessions WHERE member_id = ?",
            vec![member_id.into()],
        )?
        .iter()
        .map(|r| Ok((text(r, 0)?.to_owned(), parse(text(r, 1)?)?)))
        .collect()
    }

    fn prune_failures(&self, window_start_before: i64) -> StoreResult<()> {
        self.exec(
            "DELETE FROM sign_in_failures WHERE json_extract(body, '$.window_start') < ?",
            vec![V::from(window_start_before)],
        )
    }

    fn failures(&self, key: &str) -> StoreResult<Failures> {
        Ok(self
            .one(
                "SELECT 0 AS seq, body FROM sign_in_failures WHERE key = ?",
                vec![key.into()],
            )?
            .unwrap_or_default())
    }

    fn put_failures(&self, key: &str, f: &Failures) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO sign_in_failures (key, body) VALUES (?, ?)",
            vec![key.into(), json(f)?.into()],
        )
    }

    fn hold_event(&self, e: &Event) -> StoreResult<()> {
        self.exec(
            "INSERT OR IGNORE INTO event_outbox (id, body) VALUES (?, ?)",
            vec![e.id.as_str().into(), json(e)?.into()],
        )
    }

    fn held_events(&self) -> StoreResult<Vec<Event>> {
        self.rows(
            "SELECT id, body FROM event_outbox ORDER BY rowid LIMIT 100",
            vec![],
        )?
        .iter()
        .map(|r| parse(text(r, 1)?))
        .collect()
    }

    fn release_events(&self, ids: &[String]) -> StoreResult<()> {
        for id in ids {
            self.exec(
                "DELETE FROM event_outbox WHERE id = ?",
                vec![id.as_str().into()],
            )?;
        }
        Ok(())
    }
}
