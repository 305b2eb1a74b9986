//! The in-memory [`MemberStore`]: members, invitations, sessions and sign-in failures.

use super::*;

impl MemberStore for MemoryTeam {
    fn member(&self, id: &str) -> StoreResult<Option<Member>> {
        self.with(|s| s.members.find(|m| m.id == id).cloned())
    }

    fn member_by_email(&self, email_key: &str) -> StoreResult<Option<Member>> {
        self.with(|s| s.members.find(|m| m.email.key() == email_key).cloned())
    }

    fn insert_member(&self, member: &Member) -> StoreResult<()> {
        self.with(|s| s.members.insert(member.clone()))
    }

    fn update_member(&self, member: &Member) -> StoreResult<()> {
        self.with(|s| s.members.replace(|m| m.id == member.id, member.clone()))
    }

    fn delete_member(&self, id: &str) -> StoreResult<()> {
        self.with(|s| {
            s.members.remove(|m| m.id == id);
            s.sessions.retain(|(_, x)| x.member_id != id);
        })
    }

    fn list_members(&self, q: &ListQuery) -> StoreResult<Page<Member>> {
        self.with(|s| s.members.page(q, |_| true))
    }

    fn count_owners(&self) -> StoreResult<usize> {
        self.with(|s| {
            s.members
                .rows
                .iter()
                .filter(|(_, m)| m.role == MemberRole::Owner)
                .count()
        })
    }

    fn count_members(&self) -> StoreResult<u64> {
        self.with(|s| s.members.rows.len() as u64)
    }

    fn invitation(&self, id: &str) -> StoreResult<Option<Invitation>> {
        self.with(|s| s.invitations.find(|i| i.id == id).cloned())
    }

    fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        self.with(|s| s.invitations.find(|i| i.token_hash == token_hash).cloned())
    }

    fn invitation_by_email(&self, email_key: &str) -> StoreResult<Option<Invitation>> {
        self.with(|s| s.invitations.find(|i| i.email.key() == email_key).cloned())
    }

    fn insert_invitation(&self, invitation: &Invitation) -> StoreResult<()> {
        self.with(|s| s.invitations.insert(invitation.clone()))
    }

    fn delete_invitation(&self, id: &str) -> StoreResult<()> {
        self.with(|s| s.invitations.remove(|i| i.id == id))
    }

    fn list_invitations(&self, q: &ListQuery) -> StoreResult<Page<Invitation>> {
        self.with(|s| s.invitations.page(q, |_| true))
    }

    fn invitations(&self) -> StoreResult<Vec<Invitation>> {
        self.with(|s| s.invitations.rows.iter().map(|(_, i)| i.clone()).collect())
    }

    fn prune_invitations(&self, now: Timestamp) -> StoreResult<()> {
        self.with(|s| {
            s.invitations.remove(|i| i.expires_at <= now);
            s.withdrawn.retain(|(_, e)| *e > now);
        })
    }

    fn mark_withdrawn(&self, token_hash: &str, expires_at: Timestamp) -> StoreResult<()> {
        self.with(|s| s.withdrawn.push((token_hash.to_owned(), expires_at)))
    }

    fn is_withdrawn(&self, token_hash: &str) -> StoreResult<bool> {
        self.with(|s| s.withdrawn.iter().any(|(h, _)| h == token_hash))
    }

    fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        self.with(|s| {
            s.sessions
                .iter()
                .find(|(h, _)| h == token_hash)
                .map(|(_, x)| x.clone())
        })
    }

    fn put_session(&self, token_hash: &str, session: &Session) -> StoreResult<()> {
        self.with(|s| {
            s.sessions.retain(|(h, _)| h != token_hash);
            s.sessions.push((token_hash.to_owned(), session.clone()));
        })
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.with(|s| s.sessions.retain(|(h, _)| h != token_hash))
    }

    fn delete_sessions_of(&self, member_id: &str, except: Option<&str>) -> StoreResult<()> {
        self.with(|s| {
            s.sessions
                .retain(|(h, x)| x.member_id != member_id || Some(h.as_str()) == except)
        })
    }

    fn prune_sessions(&self, created_before: Timestamp) -> StoreResult<()> {
        self.with(|s| s.sessions.retain(|(_, x)| x.created_at >= created_before))
    }

    fn sessions_of(&self, member_id: &str) -> StoreResult<Vec<(String, Session)>> {
        self.with(|s| {
            s.sessions
                .iter()
                .filter(|(_, x)| x.member_id == member_id)
                .cloned()
                .collect()
        })
    }

    fn failures(&self, key: &str) -> StoreResult<Failures> {
        self.with(|s| {
            s.failures
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, f)| *f)
                .unwrap_or_default()
        })
    }

    fn put_failures(&self, key: &str, failures: &Failures) -> StoreResult<()> {
        self.with(|s| {
            s.failures.retain(|(k, _)| k != key);
            s.failures.push((key.to_owned(), *failures));
        })
    }

    fn prune_failures(&self, window_start_before: i64) -> StoreResult<()> {
        self.with(|s| {
            s.failures
                .retain(|(_, f)| f.window_start >= window_start_before)
        })
    }

    fn hold_event(&self, event: &Event) -> StoreResult<()> {
        self.with(|s| s.held.push(event.clone()))
    }

    fn held_events(&self) -> StoreResult<Vec<Event>> {
        self.with(|s| s.held.clone())
    }

    fn release_events(&self, ids: &[String]) -> StoreResult<()> {
        self.with(|s| s.held.retain(|e| !ids.contains(&e.id)))
    }
}
