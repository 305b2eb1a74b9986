//! The team's rules for signing in and sessions: the throttle on password guessing
//! (`core::throttle`: counted before the password is checked, in the same call that checks the
//! bounds), sessions (at most 50 live per member), and the per-member rate of
//! session-authenticated requests. Passwords are compared at the edge; this side hands out the
//! stored hash only to an attempt that was counted.

use super::membership::member;
use super::{refuse, MemberStore, TeamError, TeamRefusal, TeamResult, TeamStore};
use crate::core::audit::{as_event, entry, Origin, Target};
use crate::core::events::derived_id;
use crate::core::ids::MemberId;
use crate::core::members::{
    session_id, Member, MemberView, Session, SessionMeta, SessionState, SessionView,
    MAX_SESSIONS_PER_MEMBER, SESSION_ABSOLUTE_MS,
};
use crate::core::model::Team;
use crate::core::throttle::{member_request, MemberWindow, Throttle, FAILURE_WINDOW_MS};
use crate::core::time::Timestamp;
use crate::core::totp::{SealKey, TotpStatus};
use serde::{Deserialize, Serialize};

/// A member and their team, as a sign-in answers them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    pub member: MemberView,
    pub team: Team,
    /// The team requires two factors and the member has none: the session may only enrol
    /// (`core::totp::enrolment_allows`) until they confirm.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub totp_enrolment_required: bool,
}

/// A session-authenticated request: the member, and their request window after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Authenticated {
    #[serde(flatten)]
    pub signed_in: SignedIn,
    pub window: MemberWindow,
    /// For a session a portal link opened: where the dashboard's "Back to …" leads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    /// The member's second factor and the team's requirement (`GET /v1/me`).
    #[serde(default)]
    pub totp: TotpStatus,
}

/// Opens a session for `m` (a sign-in, an accepted invitation or a portal link: every session
/// begins here); sessions past their absolute timeout go at the same time, and past
/// [`MAX_SESSIONS_PER_MEMBER`] the member's oldest. `meta`: the client it began from.
pub(super) fn open_session(
    s: &impl MemberStore,
    team: Team,
    m: &Member,
    session_hash: &str,
    meta: SessionMeta,
    now: Timestamp,
) -> TeamResult<SignedIn> {
    s.prune_sessions(Timestamp::from_millis(now.millis() - SESSION_ABSOLUTE_MS))?;
    let mut live = s.sessions_of(&m.id)?;
    if live.len() >= MAX_SESSIONS_PER_MEMBER {
        live.sort_by_key(|(_, x)| x.created_at);
        let excess = live.len() + 1 - MAX_SESSIONS_PER_MEMBER;
        for (hash, _) in live.iter().take(excess) {
            s.delete_session(hash)?;
        }
    }
    s.put_session(
        session_hash,
        &Session {
            member_id: m.id.to_string(),
            created_at: now,
            last_seen_at: now,
            meta,
        },
    )?;
    let totp_enrolment_required = team.require_totp && !m.totp.is_enabled();
    Ok(SignedIn {
        member: m.view(),
        team,
        totp_enrolment_required,
    })
}

/// The first half of a sign-in: the attempt is judged by its counts and counted, then the
/// stored hash to compare against is handed out (none for an unknown email: the edge then
/// derives against a decoy, so both cost the same).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub member_id: Option<MemberId>,
    /// The encoded password hash (internal: the edge compares, nobody else sees it).
    pub password: Option<String>,
}

/// Judges and counts one guess of `email_key`'s password from `client`, in one step: `429`
/// past a bound, else the attempt holds its place in the counts until a success gives it back.
/// Counts past their window are pruned here.
pub fn count_attempt(
    s: &impl MemberStore,
    email_key: &str,
    client: Option<&str>,
    now: Timestamp,
) -> TeamResult<()> {
    s.prune_failures(now.millis() - FAILURE_WINDOW_MS)?;
    let t = Throttle::new(email_key, client);
    let read = |k: &str| s.failures(k).unwrap_or_default();
    let writes = t.admit(read, now).map_err(|x| {
        TeamError::Refused(TeamRefusal::SignInThrottled {
            retry_after: x.retry_after,
        })
    })?;
    for (k, f) in writes {
        s.put_failures(&k, &f)?;
    }
    Ok(())
}

/// A guess that proved right gives its place back.
fn release_attempt(s: &impl MemberStore, email_key: &str, client: Option<&str>) -> TeamResult<()> {
    let t = Throttle::new(email_key, client);
    let read = |k: &str| s.failures(k).unwrap_or_default();
    for (k, f) in t.release(read) {
        s.put_failures(&k, &f)?;
    }
    Ok(())
}

pub fn sign_in_start(
    s: &(impl TeamStore + MemberStore),
    email_key: &str,
    client: Option<&str>,
    now: Timestamp,
) -> TeamResult<Credentials> {
    let none = Credentials {
        member_id: None,
        password: None,
    };
    if s.team()?.is_none() {
        return Ok(none);
    }
    count_attempt(s, email_key, client, now)?;
    Ok(match s.member_by_email(email_key)? {
        Some(m) => Credentials {
            member_id: Some(m.id),
            password: Some(m.password),
        },
        None => none,
    })
}

/// A sign-in without a team whose password matched in several teams: the attempt's place is
/// given back (it was no wrong guess), no session is opened, and the team is named for the
/// person to choose from.
pub fn sign_in_release(
    s: &(impl TeamStore + MemberStore),
    email_key: &str,
    client: Option<&str>,
) -> TeamResult<Team> {
    let Some(team) = s.team()? else {
        return refuse(TeamRefusal::InvalidCredentials);
    };
    release_attempt(s, email_key, client)?;
    Ok(team)
}

/// A refused sign-in, for the audit log: at most one entry a minute per (email, client), with
/// the count of refusals it stands for.
fn audit_refusal(
    s: &impl MemberStore,
    email_key: &str,
    client: Option<&str>,
    origin: Option<&Origin>,
    now: Timestamp,
) -> TeamResult<()> {
    let t = Throttle::new(email_key, client);
    let (f, due) = s.failures(&t.pair)?.refused(now);
    s.put_failures(&t.pair, &f)?;
    if let (Some(count), Some(origin)) = (due, origin) {
        let seed = format!("session.refused:{}:{}", t.pair, now.millis());
        let target = Target {
            kind: "email".into(),
            id: email_key.to_owned(),
        };
        let changes = Some(serde_json::json!({ "count": count }));
        let e = entry(
            derived_id("aud_", &seed),
            origin,
            "session.refused",
            target,
            changes,
            now,
        );
        s.hold_event(&as_event(&e))?;
    }
    Ok(())
}

/// What a sign-in brings for the second factor: the code typed (if any) and the key that opens
/// the sealed secrets.
#[derive(Clone, Copy, Default)]
pub struct SecondFactor<'a> {
    pub code: Option<&'a str>,
    pub key: Option<&'a SealKey>,
}

/// The second half: on success (`session_hash` given, for the member the first half found),
/// gives the attempt's place back, opens the session and notes the sign-in; on failure (already
/// counted by the first half) records the refusal for the audit log (`origin`), at most once a
/// minute per (email, client).
// Eight arguments since the second factor (issue-23-signin) and the session's client
// (issue-23-portal) met in one merge; as `core::team::portal` does, allowed rather than
// bundled at the last minute.
#[allow(clippy::too_many_arguments)]
pub fn sign_in_finish(
    s: &(impl TeamStore + MemberStore),
    email_key: &str,
    client: Option<&str>,
    success: Option<(&str, &str)>,
    second: SecondFactor<'_>,
    origin: Option<&Origin>,
    meta: SessionMeta,
    now: Timestamp,
) -> TeamResult<SignedIn> {
    let Some(team) = s.team()? else {
        return refuse(TeamRefusal::InvalidCredentials);
    };
    let signed_in = match success {
        Some((member_id, session_hash)) => s.member(member_id)?.map(|m| (m, session_hash)),
        None => None,
    };
    let Some((mut m, session_hash)) = signed_in else {
        // Only a member's refusals reach the audit log: an email no member has names nothing
        // of the team's, and auditing it would let an outsider fill the log with made-up
        // emails (one entry per email and client a minute). The throttle still counts it.
        let member = s.member_by_email(email_key)?.is_some();
        audit_refusal(s, email_key, client, origin.filter(|_| member), now)?;
        return refuse(TeamRefusal::InvalidCredentials);
    };
    // The second factor, for a member who has one: the attempt stays counted (a missing or
    // wrong code is a failed sign-in) unless a current code or a recovery code proves it.
    if m.totp.is_enabled() {
        let checked = match second.key {
            Some(key) => m.totp.check(&key.0, second.code, now).ok(),
            None => None,
        };
        let Some(next) = checked else {
            audit_refusal(s, email_key, client, origin, now)?;
            return refuse(TeamRefusal::TotpRequired);
        };
        m.totp = next;
    }
    release_attempt(s, email_key, client)?;
    m.last_login_at = Some(now);
    s.update_member(&m)?;
    open_session(s, team, &m, session_hash, meta, now)
}

/// The member a session token (its hash) stands for, with their role as it is now; moves the
/// session's idle deadline and counts the request in the member's minute (`429` past 600).
/// An ended session is removed.
pub fn authenticate(
    s: &(impl TeamStore + MemberStore),
    session_hash: &str,
    now: Timestamp,
) -> TeamResult<Authenticated> {
    let invalid = || TeamError::Refused(TeamRefusal::InvalidSession);
    let team = s.team()?.ok_or_else(invalid)?;
    let session = s.session(session_hash)?.ok_or_else(invalid)?;
    let m = match session.state(now) {
        SessionState::Ended => None,
        SessionState::Alive { touch } => {
            if touch {
                s.put_session(
                    session_hash,
                    &Session {
                        last_seen_at: now,
                        ..session.clone()
                    },
                )?;
            }
            s.member(&session.member_id)?
        }
    };
    let return_url = session.meta.return_url.clone();
    let Some(m) = m else {
        s.delete_session(session_hash)?;
        return Err(invalid());
    };
    let key = format!("requests:{}", m.id);
    let window = member_request(s.failures(&key)?, now).map_err(|x| {
        TeamError::Refused(TeamRefusal::MemberRateLimited {
            retry_after: x.retry_after,
        })
    })?;
    s.put_failures(&key, &window)?;
    let totp = TotpStatus {
        enabled: m.totp.is_enabled(),
        required: team.require_totp,
    };
    Ok(Authenticated {
        signed_in: SignedIn {
            member: m.view(),
            team,
            totp_enrolment_required: totp.enrolment_required(),
        },
        window: MemberWindow::of(&window, now),
        return_url,
        totp,
    })
}

/// A member's live sessions, newest first; `current` marks the one with this token hash.
/// Ids only: no token and no hash leaves the team object.
pub fn list_sessions(
    s: &impl MemberStore,
    member_id: &str,
    current_hash: &str,
    now: Timestamp,
) -> TeamResult<Vec<SessionView>> {
    let mut live: Vec<SessionView> = s
        .sessions_of(member_id)?
        .into_iter()
        .filter(|(_, x)| x.state(now) != SessionState::Ended)
        .map(|(hash, x)| SessionView {
            id: session_id(&hash),
            created_at: x.created_at,
            last_seen_at: x.last_seen_at,
            user_agent: x.meta.user_agent,
            country: x.meta.country,
            current: super::super::members::hashes_equal(&hash, current_hash),
        })
        .collect();
    live.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    Ok(live)
}

/// Ends one of the member's own sessions by its id (its next request answers `401`). Another
/// member's session, or none: `404`.
pub fn end_own_session(s: &impl MemberStore, member_id: &str, id: &str) -> TeamResult<()> {
    let found = s
        .sessions_of(member_id)?
        .into_iter()
        .find(|(hash, _)| session_id(hash) == id);
    match found {
        Some((hash, _)) => Ok(s.delete_session(&hash)?),
        None => refuse(TeamRefusal::SessionNotFound),
    }
}

pub fn end_session(s: &impl MemberStore, session_hash: &str) -> TeamResult<()> {
    Ok(s.delete_session(session_hash)?)
}

/// The stored hash of a member's password, for the edge to check the current password: a
/// guess like a sign-in's, counted first for the member's email and the client.
pub fn password_of(
    s: &impl MemberStore,
    member_id: &str,
    client: Option<&str>,
    now: Timestamp,
) -> TeamResult<String> {
    let m = member(s, member_id)?;
    count_attempt(s, &m.email.key(), client, now)?;
    Ok(m.password)
}

/// A new password (the current one was right: its attempt is given back); ends every other
/// session of the member.
pub fn set_password(
    s: &impl MemberStore,
    member_id: &str,
    password: String,
    keep_session: &str,
    client: Option<&str>,
) -> TeamResult<()> {
    let mut m = member(s, member_id)?;
    release_attempt(s, &m.email.key(), client)?;
    m.password = password;
    s.update_member(&m)?;
    Ok(s.delete_sessions_of(member_id, Some(keep_session))?)
}
