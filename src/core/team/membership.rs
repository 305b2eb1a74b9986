//! The team's rules for its people: members and their roles, invitations, sign-in, sessions.
//! Each runs in the team object, synchronously over its tables, so "is this the last owner",
//! "is this email taken" and "is this invitation still unused" cannot interleave with another
//! call. The policy (who may change whom, timeouts, the throttle) is `core::members`; passwords
//! are derived at the edge and arrive here only as encoded hashes.

use super::{found, refuse, MemberStore, TeamError, TeamRefusal, TeamResult, TeamStore};
use crate::core::events::{derived_event_id, event, Event};
use crate::core::ids::MemberId;
use crate::core::members::{
    may_change_role, may_invite, may_remove, Changer, Failures, Invitation, InvitationView, Member,
    MemberRole, MemberView, Session, SessionState, SESSION_ABSOLUTE_MS,
};
use crate::core::model::Team;
use crate::core::page::{ListQuery, Page};
use crate::core::time::Timestamp;
use serde::{Deserialize, Serialize};

fn denied(d: crate::core::members::MemberDenial) -> TeamError {
    TeamError::Refused(TeamRefusal::Member(d))
}

fn member(s: &impl MemberStore, id: &str) -> TeamResult<Member> {
    s.member(id)?
        .ok_or(TeamError::Refused(TeamRefusal::MemberNotFound))
}

/// A new team, with its first owner if one is given: both or neither.
pub fn create_team(
    s: &(impl TeamStore + MemberStore),
    team: Team,
    owner: Option<Member>,
) -> TeamResult<Team> {
    let team = super::init(s, team)?;
    if let Some(owner) = owner {
        if let Err(e) = add_owner(s, owner) {
            // The team is new (init refuses an existing one): undo it whole.
            s.destroy()?;
            return Err(e);
        }
    }
    Ok(team)
}

/// The team's first owner, made with the team (`POST /v1/teams` with `owner`).
pub fn add_owner(s: &(impl TeamStore + MemberStore), owner: Member) -> TeamResult<MemberView> {
    found(s.team()?)?;
    if s.member_by_email(&owner.email.key())?.is_some() {
        return refuse(TeamRefusal::EmailTaken);
    }
    let owner = Member {
        role: MemberRole::Owner,
        ..owner
    };
    s.insert_member(&owner)?;
    Ok(owner.view())
}

pub fn list_members(s: &impl MemberStore, query: &ListQuery) -> TeamResult<Page<MemberView>> {
    let page = s.list_members(query)?;
    Ok(Page {
        items: page.items.iter().map(Member::view).collect(),
        next_cursor: page.next_cursor,
    })
}

pub fn get_member(s: &impl MemberStore, id: &str) -> TeamResult<MemberView> {
    Ok(member(s, id)?.view())
}

/// A new role. Takes effect on the member's very next request: sessions read the role each time.
pub fn change_role(
    s: &impl MemberStore,
    id: &str,
    role: MemberRole,
    by: Changer,
) -> TeamResult<MemberView> {
    let mut m = member(s, id)?;
    may_change_role(by, m.role, role, s.count_owners()?).map_err(denied)?;
    if m.role != role {
        m.role = role;
        s.update_member(&m)?;
    }
    Ok(m.view())
}

/// A member event (`member.added`, `member.removed`): `data` is the member as the API shows it.
fn member_event(kind: &str, team_id: &str, m: &Member, now: Timestamp) -> Event {
    let data = serde_json::to_value(m.view()).unwrap_or_default();
    let id = derived_event_id(&format!("{kind}:{}:{}", m.id, now.millis()));
    event(id, kind, team_id, &data, now)
}

/// Removes a member and ends their sessions; `member.removed` is held with the change.
pub fn remove_member(
    s: &(impl TeamStore + MemberStore),
    id: &str,
    by: Changer,
    now: Timestamp,
) -> TeamResult<()> {
    let m = member(s, id)?;
    may_remove(by, m.role, s.count_owners()?).map_err(denied)?;
    s.delete_member(id)?;
    if let Some(team) = s.team()? {
        s.hold_event(&member_event("member.removed", &team.id, &m, now))?;
    }
    Ok(())
}

/// A new invitation (its token's hash inside). A member with the email already: `409`. A
/// pending invitation for the same email is replaced: its token stops working.
pub fn invite(
    s: &impl MemberStore,
    invitation: Invitation,
    by: Changer,
) -> TeamResult<InvitationView> {
    may_invite(by, invitation.role).map_err(denied)?;
    let key = invitation.email.key();
    if s.member_by_email(&key)?.is_some() {
        return refuse(TeamRefusal::EmailTaken);
    }
    if let Some(old) = s.invitation_by_email(&key)? {
        s.delete_invitation(&old.id)?;
    }
    s.insert_invitation(&invitation)?;
    Ok(invitation.view())
}

pub fn list_invitations(
    s: &impl MemberStore,
    query: &ListQuery,
) -> TeamResult<Page<InvitationView>> {
    let page = s.list_invitations(query)?;
    Ok(Page {
        items: page.items.iter().map(Invitation::view).collect(),
        next_cursor: page.next_cursor,
    })
}

pub fn withdraw_invitation(s: &impl MemberStore, id: &str) -> TeamResult<()> {
    if s.invitation(id)?.is_none() {
        return refuse(TeamRefusal::InvitationNotFound);
    }
    Ok(s.delete_invitation(id)?)
}

/// A member and their team, as a sign-in answers them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    pub member: MemberView,
    pub team: Team,
}

/// Accepting an invitation: makes the member (with the invitation's email and role), uses the
/// invitation up, and opens their first session — all or nothing.
pub fn accept(
    s: &(impl TeamStore + MemberStore),
    token_hash: &str,
    id: MemberId,
    password: String,
    session_hash: &str,
    now: Timestamp,
) -> TeamResult<SignedIn> {
    let team = s
        .team()?
        .ok_or(TeamError::Refused(TeamRefusal::InvalidInvitation))?;
    let inv = s
        .invitation_by_token(token_hash)?
        .ok_or(TeamError::Refused(TeamRefusal::InvalidInvitation))?;
    if inv.expires_at <= now {
        return refuse(TeamRefusal::InvitationExpired);
    }
    if s.member_by_email(&inv.email.key())?.is_some() {
        return refuse(TeamRefusal::EmailTaken);
    }
    let m = Member {
        id,
        email: inv.email.clone(),
        role: inv.role,
        password,
        created_at: now,
        last_login_at: Some(now),
    };
    s.insert_member(&m)?;
    s.delete_invitation(&inv.id)?;
    s.hold_event(&member_event("member.added", &team.id, &m, now))?;
    open_session(s, team, &m, session_hash, now)
}

/// Opens a session for `m` (a sign-in or an accepted invitation); sessions past their absolute
/// timeout go at the same time, so the table stays bounded by sign-ins.
fn open_session(
    s: &impl MemberStore,
    team: Team,
    m: &Member,
    session_hash: &str,
    now: Timestamp,
) -> TeamResult<SignedIn> {
    s.prune_sessions(Timestamp::from_millis(now.millis() - SESSION_ABSOLUTE_MS))?;
    s.put_session(
        session_hash,
        &Session {
            member_id: m.id.to_string(),
            created_at: now,
            last_seen_at: now,
        },
    )?;
    Ok(SignedIn {
        member: m.view(),
        team,
    })
}

fn email_failures(email_key: &str) -> String {
    format!("email:{email_key}")
}

/// The failure counts a sign-in attempt is judged by: its email's, and its client's if known.
fn failure_keys(email_key: &str, client: Option<&str>) -> Vec<String> {
    let mut keys = vec![email_failures(email_key)];
    keys.extend(client.map(client_failures));
    keys
}

fn client_failures(client: &str) -> String {
    format!("client:{client}")
}

/// The first half of a sign-in: the stored hash to compare against (none for an unknown email
/// or team: the edge then derives against a decoy, so both cost the same), unless this email or
/// client is throttled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub member_id: Option<MemberId>,
    /// The encoded password hash (internal: the edge compares, nobody else sees it).
    pub password: Option<String>,
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
    for k in &failure_keys(email_key, client) {
        if let Some(retry_after) = s.failures(k)?.retry_after(now) {
            return refuse(TeamRefusal::SignInThrottled { retry_after });
        }
    }
    Ok(match s.member_by_email(email_key)? {
        Some(m) => Credentials {
            member_id: Some(m.id),
            password: Some(m.password),
        },
        None => none,
    })
}

/// The second half: on success (`session_hash` given, for the member the first half found),
/// opens the session and notes the sign-in; on failure counts it for the email and the client.
pub fn sign_in_finish(
    s: &(impl TeamStore + MemberStore),
    email_key: &str,
    client: Option<&str>,
    success: Option<(&str, &str)>,
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
        for k in failure_keys(email_key, client) {
            let f: Failures = s.failures(&k)?.failed(now);
            s.put_failures(&k, &f)?;
        }
        return refuse(TeamRefusal::InvalidCredentials);
    };
    s.put_failures(&email_failures(email_key), &Failures::default())?;
    m.last_login_at = Some(now);
    s.update_member(&m)?;
    open_session(s, team, &m, session_hash, now)
}

/// The member a session token (its hash) stands for, with their role as it is now; moves the
/// session's idle deadline. An ended session is removed.
pub fn authenticate(
    s: &(impl TeamStore + MemberStore),
    session_hash: &str,
    now: Timestamp,
) -> TeamResult<SignedIn> {
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
    let Some(m) = m else {
        s.delete_session(session_hash)?;
        return Err(invalid());
    };
    Ok(SignedIn {
        member: m.view(),
        team,
    })
}

pub fn end_session(s: &impl MemberStore, session_hash: &str) -> TeamResult<()> {
    Ok(s.delete_session(session_hash)?)
}

/// The stored hash of a member's password, for the edge to check the current password.
pub fn password_of(s: &impl MemberStore, member_id: &str) -> TeamResult<String> {
    Ok(member(s, member_id)?.password)
}

/// A new password: ends every other session of the member.
pub fn set_password(
    s: &impl MemberStore,
    member_id: &str,
    password: String,
    keep_session: &str,
) -> TeamResult<()> {
    let mut m = member(s, member_id)?;
    m.password = password;
    s.update_member(&m)?;
    Ok(s.delete_sessions_of(member_id, Some(keep_session))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::members::{Email, MemberDenial, SESSION_IDLE_MS};
    use crate::core::team::memory::MemoryTeam;

    const T0: i64 = 1_800_000_000_000;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(T0 + ms)
    }

    fn team() -> MemoryTeam {
        let s = MemoryTeam::default();
        s.insert_team(&Team {
            id: "team_1".into(),
            name: "Acme".into(),
            created_at: at(0),
            limits: Default::default(),
            leak_policy: Default::default(),
        })
        .unwrap();
        s
    }

    fn person(id: &str, email: &str, role: MemberRole) -> Member {
        Member {
            id: id.into(),
            email: Email::parse(email).unwrap(),
            role,
            password: format!("hash-of-{id}"),
            created_at: at(0),
            last_login_at: None,
        }
    }

    fn refusal<T: std::fmt::Debug>(r: TeamResult<T>) -> TeamRefusal {
        match r {
            Err(TeamError::Refused(x)) => x,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn with_owner() -> MemoryTeam {
        let s = team();
        add_owner(&s, person("mem_o", "Owner@Acme.test", MemberRole::Viewer)).unwrap();
        s
    }

    /// A session of `member` under the token hash `hash`, opened at the start of the clock.
    fn open_session(s: &MemoryTeam, member: &str, hash: &str) {
        let session = Session {
            member_id: member.into(),
            created_at: at(0),
            last_seen_at: at(0),
        };
        s.put_session(hash, &session).unwrap();
    }

    #[test]
    fn the_first_member_is_an_owner_and_emails_are_unique_without_case() {
        let s = with_owner();
        assert_eq!(s.member("mem_o").unwrap().unwrap().role, MemberRole::Owner);
        let dup = person("mem_x", "owner@acme.TEST", MemberRole::Viewer);
        assert_eq!(refusal(add_owner(&s, dup)), TeamRefusal::EmailTaken);
        let inv = Invitation {
            id: "inv_1".into(),
            email: Email::parse("OWNER@acme.test").unwrap(),
            role: MemberRole::Viewer,
            created_at: at(0),
            expires_at: at(1000),
            token_hash: "h1".into(),
        };
        assert_eq!(
            refusal(invite(&s, inv, Changer::Member(MemberRole::Owner))),
            TeamRefusal::EmailTaken
        );
    }

    #[test]
    fn the_last_owner_stays_and_only_owners_touch_owners() {
        let s = with_owner();
        let owner = Changer::Member(MemberRole::Owner);
        assert_eq!(
            refusal(change_role(&s, "mem_o", MemberRole::Admin, owner)),
            TeamRefusal::Member(MemberDenial::LastOwner)
        );
        assert_eq!(
            refusal(remove_member(&s, "mem_o", owner, at(1))),
            TeamRefusal::Member(MemberDenial::LastOwner)
        );
        s.insert_member(&person("mem_a", "admin@acme.test", MemberRole::Admin))
            .unwrap();
        let admin = Changer::Member(MemberRole::Admin);
        assert_eq!(
            refusal(change_role(&s, "mem_a", MemberRole::Owner, admin)),
            TeamRefusal::Member(MemberDenial::OwnerOnly)
        );
        assert_eq!(
            refusal(remove_member(&s, "mem_o", admin, at(1))),
            TeamRefusal::Member(MemberDenial::OwnerOnly)
        );
        // An owner makes a second owner; then the first may step down.
        change_role(&s, "mem_a", MemberRole::Owner, owner).unwrap();
        assert_eq!(
            change_role(&s, "mem_o", MemberRole::Viewer, owner)
                .unwrap()
                .role,
            MemberRole::Viewer
        );
        assert_eq!(
            refusal(get_member(&s, "mem_nope")),
            TeamRefusal::MemberNotFound
        );
    }

    #[test]
    fn removing_a_member_ends_their_sessions() {
        let s = with_owner();
        s.insert_member(&person("mem_d", "dev@acme.test", MemberRole::Developer))
            .unwrap();
        open_session(&s, "mem_d", "sess-d");
        assert_eq!(
            authenticate(&s, "sess-d", at(1)).unwrap().member.role,
            MemberRole::Developer
        );
        remove_member(&s, "mem_d", Changer::Member(MemberRole::Admin), at(1)).unwrap();
        assert_eq!(
            refusal(authenticate(&s, "sess-d", at(2))),
            TeamRefusal::InvalidSession
        );
        // `member.removed`, held with the change for the team's events object.
        let held = s.held_events().unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].kind, "member.removed");
        let body: serde_json::Value = serde_json::from_str(&held[0].body).unwrap();
        assert_eq!(body["data"]["id"], "mem_d");
        assert!(!held[0].body.contains("password"), "never a password hash");
    }

    #[test]
    fn a_role_change_is_seen_by_the_next_authentication() {
        let s = with_owner();
        s.insert_member(&person("mem_d", "dev@acme.test", MemberRole::Developer))
            .unwrap();
        open_session(&s, "mem_d", "sess-d");
        change_role(&s, "mem_d", MemberRole::Viewer, Changer::Key).unwrap();
        assert_eq!(
            authenticate(&s, "sess-d", at(1)).unwrap().member.role,
            MemberRole::Viewer
        );
    }

    #[test]
    fn sessions_expire_when_idle_and_requests_keep_them_alive() {
        let s = with_owner();
        open_session(&s, "mem_o", "sess");
        // A request after 11 hours moves the idle deadline.
        authenticate(&s, "sess", at(11 * 3_600_000)).unwrap();
        authenticate(&s, "sess", at(22 * 3_600_000)).unwrap();
        assert_eq!(
            refusal(authenticate(
                &s,
                "sess",
                at(22 * 3_600_000 + SESSION_IDLE_MS)
            )),
            TeamRefusal::InvalidSession
        );
        assert!(
            s.session("sess").unwrap().is_none(),
            "an ended session is removed"
        );
    }

    #[test]
    fn invitations_are_used_once_and_expire() {
        let s = with_owner();
        let inv = |id: &str, hash: &str, email: &str| Invitation {
            id: id.into(),
            email: Email::parse(email).unwrap(),
            role: MemberRole::Developer,
            created_at: at(0),
            expires_at: at(1000),
            token_hash: hash.into(),
        };
        invite(&s, inv("inv_1", "tok1", "new@acme.test"), Changer::Key).unwrap();
        let done = accept(&s, "tok1", "mem_n".into(), "pw".into(), "sess-n", at(10)).unwrap();
        assert_eq!(done.member.role, MemberRole::Developer);
        assert_eq!(done.member.email.as_str(), "new@acme.test");
        assert_eq!(
            authenticate(&s, "sess-n", at(11)).unwrap().member.id,
            "mem_n"
        );
        assert_eq!(
            refusal(accept(
                &s,
                "tok1",
                "mem_m".into(),
                "pw".into(),
                "sess-m",
                at(12)
            )),
            TeamRefusal::InvalidInvitation
        );
        invite(&s, inv("inv_2", "tok2", "late@acme.test"), Changer::Key).unwrap();
        assert_eq!(
            refusal(accept(
                &s,
                "tok2",
                "mem_l".into(),
                "pw".into(),
                "sess-l",
                at(1000)
            )),
            TeamRefusal::InvitationExpired
        );
        assert!(s.member("mem_l").unwrap().is_none(), "nothing half-made");
        // A new invitation for the same email replaces the pending one.
        invite(&s, inv("inv_3", "tok3", "late@acme.test"), Changer::Key).unwrap();
        assert!(s.invitation("inv_2").unwrap().is_none());
        assert_eq!(
            refusal(
                invite(
                    &s,
                    inv("inv_4", "tok4", "x@acme.test").clone(),
                    Changer::Member(MemberRole::Admin)
                )
                .and_then(|_| {
                    invite(
                        &s,
                        Invitation {
                            role: MemberRole::Owner,
                            ..inv("inv_5", "tok5", "y@acme.test")
                        },
                        Changer::Member(MemberRole::Admin),
                    )
                })
            ),
            TeamRefusal::Member(MemberDenial::OwnerOnly)
        );
    }

    #[test]
    fn sign_in_counts_failures_and_throttles_after_ten() {
        let s = with_owner();
        let key = "owner@acme.test";
        let creds = sign_in_start(&s, key, Some("10.0.0.1"), at(0)).unwrap();
        assert_eq!(creds.member_id.as_deref(), Some("mem_o"));
        assert_eq!(creds.password.as_deref(), Some("hash-of-mem_o"));
        for i in 0..10 {
            sign_in_start(&s, key, None, at(i)).unwrap();
            assert_eq!(
                refusal(sign_in_finish(&s, key, None, None, at(i))),
                TeamRefusal::InvalidCredentials
            );
        }
        assert!(matches!(
            refusal(sign_in_start(&s, key, None, at(20))),
            TeamRefusal::SignInThrottled { retry_after: 900 }
        ));
        // Another email is not throttled by these; after the window, this one is free again.
        assert!(sign_in_start(&s, "other@acme.test", None, at(20)).is_ok());
        assert!(sign_in_start(&s, key, None, at(15 * 60_000)).is_ok());
    }

    #[test]
    fn unknown_emails_and_teams_get_no_hash_and_a_success_opens_a_session() {
        let s = with_owner();
        let none = sign_in_start(&s, "ghost@acme.test", None, at(0)).unwrap();
        assert_eq!(
            none,
            Credentials {
                member_id: None,
                password: None
            }
        );
        let empty = MemoryTeam::default();
        assert_eq!(
            sign_in_start(&empty, "owner@acme.test", None, at(0))
                .unwrap()
                .password,
            None
        );
        let done = sign_in_finish(
            &s,
            "owner@acme.test",
            None,
            Some(("mem_o", "sess-o")),
            at(5),
        )
        .unwrap();
        assert_eq!(done.team.name, "Acme");
        assert_eq!(done.member.last_login_at, Some(at(5)));
        assert!(authenticate(&s, "sess-o", at(6)).is_ok());
        end_session(&s, "sess-o").unwrap();
        assert_eq!(
            refusal(authenticate(&s, "sess-o", at(7))),
            TeamRefusal::InvalidSession
        );
    }

    #[test]
    fn a_new_password_ends_every_other_session() {
        let s = with_owner();
        for h in ["a", "b", "c"] {
            open_session(&s, "mem_o", h);
        }
        set_password(&s, "mem_o", "new-hash".into(), "b").unwrap();
        assert_eq!(password_of(&s, "mem_o").unwrap(), "new-hash");
        assert!(authenticate(&s, "b", at(1)).is_ok());
        for h in ["a", "c"] {
            assert_eq!(
                refusal(authenticate(&s, h, at(1))),
                TeamRefusal::InvalidSession
            );
        }
    }
}
