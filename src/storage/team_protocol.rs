//! The team object's protocol (see `storage::calls`): one request type per call, with its reply
//! type and its rule in `core::team`. Pure: no Workers type.

use crate::core::audit::{as_event, entry, random_entry_id, Origin, Target};
use crate::core::branding::Branding;
use crate::core::events::Event;
use crate::core::ids::{InvitationId, KeyId, MemberId, ProjectId, RoleId, ServiceAccountId};
use crate::core::limits::LimitsPatch;
use crate::core::members::{
    Changer, Invitation, InvitationView, Member, MemberRole, MemberView, SessionMeta, SessionView,
};
use crate::core::model::{KeyRecord, Project, Role, ServiceAccount, Team};
use crate::core::page::{ListQuery, Page};
use crate::core::permission::PermissionSet;
use crate::core::portal::PortalGrant;
use crate::core::random::Random;
use crate::core::team::membership::{self as people, Authenticated, Credentials, SignedIn};
use crate::core::team::portal::{self, PortalOpened, PortalStore};
use crate::core::team::{self as rules, MemberStore, TeamStore};
use crate::core::time::Timestamp;
use crate::core::totp::SealKey;
use crate::storage::calls::object_calls;
pub use crate::storage::calls::TeamAnswer;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

object_calls! {
    trait TeamRequest; enum TeamCall; fn team_dispatch(store: &(impl TeamStore + MemberStore + PortalStore));

    /// Creates the team (refused if it exists), with its first owner if one is given.
    Init { team: Team, owner: Option<Member> } -> Team =
        |s, q| people::create_team(s, q.team, q.owner);
    GetTeam {} -> Team = |s, _q| rules::get(s);
    /// The operator's change of name or limits.
    UpdateTeam {
        name: Option<String>,
        limits: LimitsPatch,
        leak_policy: Option<crate::core::leaks::LeakPolicy>,
        branding: Option<Branding>,
        require_totp: Option<bool>,
        auto_disable_idle_days: Option<crate::core::idle::Setting>,
    } -> Team = |s, q| {
        rules::update(s, q.name, q.limits, q.leak_policy, q.branding, q.require_totp)
            .and_then(|t| crate::core::idle::set_team_setting(s, t, q.auto_disable_idle_days))
    };
    /// Removes the team (only to undo a team whose first key could not be made).
    Destroy {} -> () = |s, _q| rules::destroy(s);
    /// Adds a key to the listing, with the team's atomic checks (see `core::team::insert_key`).
    InsertKey { record: Box<KeyRecord>, caller_permissions: PermissionSet } -> KeyRecord =
        |s, q| rules::insert_key(s, *q.record, &q.caller_permissions);
    /// A newer copy of a key (older revisions are ignored: copies can arrive out of order).
    PutKey { record: Box<KeyRecord>, revision: u64 } -> () =
        |s, q| rules::put_key(s, &q.record, q.revision);
    RemoveKey { id: KeyId } -> () = |s, q| rules::remove_key(s, &q.id);
    TouchKey { id: KeyId, last_used: Timestamp } -> () =
        |s, q| rules::touch_key(s, &q.id, q.last_used);
    ListKeys { query: ListQuery } -> Page<KeyRecord> = |s, q| rules::list_keys(s, &q.query);
    /// Keys (not disabled) expiring in `[from, to)`: the monitoring's `keys_expiring_30d`, of
    /// the caller's project (`project_id`; `None`: a team-wide caller, every project).
    CountExpiring { from: Timestamp, to: Timestamp, project_id: Option<ProjectId> } -> u64 =
        |s, q| Ok(s.count_expiring(q.from, q.to, q.project_id.as_deref())?);
    CreateProject { project: Project } -> Project = |s, q| rules::create_project(s, q.project);
    ListProjects { query: ListQuery } -> Page<Project> = |s, q| rules::list_projects(s, &q.query);
    GetProject { id: ProjectId } -> Project = |s, q| rules::get_project(s, &q.id);
    DeleteProject { id: ProjectId } -> () = |s, q| rules::delete_project(s, &q.id);
    CreateRole { role: Role } -> Role = |s, q| rules::create_role(s, q.role);
    ListRoles { query: ListQuery } -> Page<Role> = |s, q| rules::list_roles(s, &q.query);
    GetRole { id: RoleId } -> Role = |s, q| rules::get_role(s, &q.id);
    UpdateRole {
        id: RoleId,
        name: Option<String>,
        permissions: Option<PermissionSet>,
        now: Timestamp,
    } -> Role = |s, q| rules::update_role(s, &q.id, q.name, q.permissions, q.now);
    DeleteRole { id: RoleId } -> () = |s, q| rules::delete_role(s, &q.id);
    /// Creates an account; `roles` are names, whose permissions the caller must hold.
    CreateServiceAccount { account: ServiceAccount, caller_permissions: PermissionSet } ->
        ServiceAccount = |s, q| rules::create_account(s, q.account, &q.caller_permissions);
    ListServiceAccounts { query: ListQuery } -> Page<ServiceAccount> =
        |s, q| rules::list_accounts(s, &q.query);
    GetServiceAccount { id: ServiceAccountId } -> ServiceAccount = |s, q| rules::get_account(s, &q.id);
    UpdateServiceAccount {
        id: ServiceAccountId,
        name: Option<String>,
        roles: Option<Vec<String>>,
        caller_permissions: PermissionSet,
        now: Timestamp,
    } -> ServiceAccount = |s, q| {
        rules::update_account(s, &q.id, q.name, q.roles, &q.caller_permissions, q.now)
    };
    DeleteServiceAccount { id: ServiceAccountId } -> () = |s, q| rules::delete_account(s, &q.id);

    ListMembers { query: ListQuery } -> Page<MemberView> = |s, q| people::list_members(s, &q.query);
    ChangeMemberRole { id: MemberId, role: MemberRole, by: Changer } -> MemberView =
        |s, q| people::change_role(s, &q.id, q.role, q.by);
    /// Answers the member removed (their email leaves the email index at the edge).
    RemoveMember { id: MemberId, by: Changer, now: Timestamp } -> MemberView =
        |s, q| people::remove_member(s, &q.id, q.by, q.now);
    Invite { invitation: Invitation, by: Changer } -> InvitationView =
        |s, q| people::invite(s, q.invitation, q.by);
    ListInvitations { query: ListQuery } -> Page<InvitationView> =
        |s, q| people::list_invitations(s, &q.query);
    WithdrawInvitation { id: InvitationId } -> () = |s, q| people::withdraw_invitation(s, &q.id);
    /// Whether the invitation can still be accepted (asked before the password is derived).
    CheckInvitation { token_hash: String, now: Timestamp } -> () =
        |s, q| people::usable_invitation(s, &q.token_hash, q.now).map(|_| ());
    /// Makes the invited member and their first session, using the invitation up.
    AcceptInvitation {
        token_hash: String,
        id: MemberId,
        password: String,
        session_hash: String,
        meta: SessionMeta,
        now: Timestamp,
    } -> SignedIn = |s, q| {
        people::accept(s, &q.token_hash, q.id, q.password, &q.session_hash, q.meta, q.now)
    };
    SignInStart { email_key: String, client: Option<String>, now: Timestamp } -> Credentials =
        |s, q| people::sign_in_start(s, &q.email_key, q.client.as_deref(), q.now);
    /// `session`: (member id, session token hash) when the password matched. `origin`: for the
    /// audit entry of a refusal (at most one a minute per email and client, with a count).
    SignInFinish {
        email_key: String,
        client: Option<String>,
        session: Option<(MemberId, String)>,
        // The second factor typed, if any, and the key that opens the sealed secrets (both
        // absent in an older caller's call: serde reads a missing Option as None).
        code: Option<String>,
        totp_key: Option<SealKey>,
        origin: Option<Origin>,
        meta: SessionMeta,
        now: Timestamp,
    } -> SignedIn = |s, q| {
        let success = q.session.as_ref().map(|(m, h)| (m.as_ref(), h.as_str()));
        let client = q.client.as_deref();
        let second = people::SecondFactor {
            code: q.code.as_deref(),
            key: q.totp_key.as_ref(),
        };
        let origin = q.origin.as_ref();
        people::sign_in_finish(s, &q.email_key, client, success, second, origin, q.meta, q.now)
    };
    /// Two-factor enrolment: the new secret, sealed at the edge, pending until confirmed.
    TotpEnrol { member_id: MemberId, sealed: String } -> () =
        |s, q| rules::totp::enrol(s, &q.member_id, q.sealed);
    /// Turns two factors on with a current code; `recovery`: the recovery codes' hashes.
    TotpConfirm {
        member_id: MemberId,
        code: String,
        recovery: Vec<String>,
        totp_key: SealKey,
        now: Timestamp,
    } -> () = |s, q| {
        rules::totp::confirm(s, &q.member_id, &q.totp_key, &q.code, q.recovery, q.now)
    };
    /// Turns two factors off with a current code or a recovery code.
    TotpDisable { member_id: MemberId, code: String, totp_key: SealKey, now: Timestamp } -> () =
        |s, q| rules::totp::disable(s, &q.member_id, &q.totp_key, &q.code, q.now);
    /// A sign-in without a `team_id` whose password matched here and in other teams: the
    /// attempt's place is given back and the team named, for the person to choose.
    SignInRelease { email_key: String, client: Option<String> } -> Team =
        |s, q| people::sign_in_release(s, &q.email_key, q.client.as_deref());
    /// The member of a session, counted in their minute of requests.
    Authenticate { session_hash: String, now: Timestamp } -> Authenticated =
        |s, q| people::authenticate(s, &q.session_hash, q.now);
    EndSession { session_hash: String } -> () = |s, q| people::end_session(s, &q.session_hash);
    /// A member's live sessions (`current`: the one with this hash), by id only.
    ListSessions { member_id: MemberId, current_hash: String, now: Timestamp } -> Vec<SessionView> =
        |s, q| people::list_sessions(s, &q.member_id, &q.current_hash, q.now);
    /// Ends one of the member's own sessions by its id.
    EndOwnSession { member_id: MemberId, id: String } -> () =
        |s, q| people::end_own_session(s, &q.member_id, &q.id);
    /// Remembers a portal link (by its token's hash), judged against its opener now.
    OpenPortal { grant: Box<PortalGrant>, by: Changer, now: Timestamp } -> PortalOpened =
        |s, q| portal::open_portal(s, *q.grant, q.by, q.now);
    /// Uses a portal link once: the member made or updated, and their session opened.
    UsePortal {
        token_hash: String,
        new_member: MemberId,
        session_hash: String,
        meta: SessionMeta,
        origin: Option<Origin>,
        now: Timestamp,
    } -> SignedIn = |s, q| {
        let origin = q.origin.as_ref();
        portal::use_portal(s, &q.token_hash, q.new_member, &q.session_hash, q.meta, origin, q.now)
    };
    /// The stored hash, for checking the current password: counted as a sign-in attempt.
    PasswordOf { member_id: MemberId, client: Option<String>, now: Timestamp } -> String =
        |s, q| people::password_of(s, &q.member_id, q.client.as_deref(), q.now);
    SetPassword {
        member_id: MemberId,
        password: String,
        keep_session: String,
        client: Option<String>,
    } -> () = |s, q| {
        let client = q.client.as_deref();
        people::set_password(s, &q.member_id, q.password, &q.keep_session, client)
    };
}

/// A team call that changes something, made through the API: its audit entry is written in
/// the same transaction (`audit_spec`, then the team object holds the entry with its events).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditedTeamCall {
    pub origin: Origin,
    pub call: TeamCall,
}

/// What an audited team call records: its action, its target, what it set.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditSpec {
    pub action: &'static str,
    /// When the call is refused (a failed sign-in), this action is recorded instead.
    pub refused_action: Option<&'static str>,
    pub target: Target,
    pub changes: Option<Value>,
}

fn target(kind: &str, id: &str) -> Target {
    Target {
        kind: kind.to_owned(),
        id: id.to_owned(),
    }
}

/// The audit entry a change records, if it is one. Reads record nothing.
pub fn audit_spec(call: &TeamCall) -> Option<AuditSpec> {
    let spec = |action, t: Target, changes| AuditSpec {
        action,
        refused_action: None,
        target: t,
        changes,
    };
    Some(match call {
        TeamCall::UpdateTeam(q) => spec(
            "team.updated",
            target("team", ""),
            Some(
                json!({"name": q.name, "limits": q.limits, "leak_policy": q.leak_policy,
                "branding": q.branding,
                "auto_disable_idle_days": q.auto_disable_idle_days.map(|s| s.days)}),
            ),
        ),
        TeamCall::OpenPortal(q) => spec(
            "portal_session.created",
            target("portal_session", &q.grant.id),
            Some(
                json!({"external_id": q.grant.user.external_id, "email": q.grant.user.email,
                "role": q.grant.role, "return_url": q.grant.return_url}),
            ),
        ),
        TeamCall::EndOwnSession(q) => spec("session.ended", target("session", &q.id), None),
        TeamCall::CreateProject(q) => spec(
            "project.created",
            target("project", &q.project.id),
            Some(json!({"name": q.project.name})),
        ),
        TeamCall::DeleteProject(q) => spec("project.deleted", target("project", &q.id), None),
        TeamCall::CreateRole(q) => spec(
            "role.created",
            target("role", &q.role.id),
            Some(json!({"name": q.role.name, "permissions": q.role.permissions})),
        ),
        TeamCall::UpdateRole(q) => spec(
            "role.updated",
            target("role", &q.id),
            Some(json!({"name": q.name, "permissions": q.permissions})),
        ),
        TeamCall::DeleteRole(q) => spec("role.deleted", target("role", &q.id), None),
        TeamCall::CreateServiceAccount(q) => spec(
            "service_account.created",
            target("service_account", &q.account.id),
            Some(json!({"name": q.account.name, "roles": q.account.roles})),
        ),
        TeamCall::UpdateServiceAccount(q) => spec(
            "service_account.updated",
            target("service_account", &q.id),
            Some(json!({"name": q.name, "roles": q.roles})),
        ),
        TeamCall::DeleteServiceAccount(q) => spec(
            "service_account.deleted",
            target("service_account", &q.id),
            None,
        ),
        TeamCall::ChangeMemberRole(q) => spec(
            "member.role_changed",
            target("member", &q.id),
            Some(json!({"role": q.role})),
        ),
        TeamCall::RemoveMember(q) => spec("member.removed", target("member", &q.id), None),
        TeamCall::Invite(q) => spec(
            "invitation.created",
            target("invitation", &q.invitation.id),
            Some(json!({"email": q.invitation.email, "role": q.invitation.role})),
        ),
        TeamCall::WithdrawInvitation(q) => {
            spec("invitation.withdrawn", target("invitation", &q.id), None)
        }
        TeamCall::AcceptInvitation(q) => spec("member.added", target("member", &q.id), None),
        TeamCall::SetPassword(q) => spec(
            "member.password_changed",
            target("member", &q.member_id),
            None,
        ),
        // Never the secret, a code or a recovery code: only that it happened.
        TeamCall::TotpConfirm(q) => {
            spec("member.totp_enabled", target("member", &q.member_id), None)
        }
        TeamCall::TotpDisable(q) => {
            spec("member.totp_disabled", target("member", &q.member_id), None)
        }
        TeamCall::SignInFinish(q) => AuditSpec {
            action: "session.created",
            // A refusal is recorded by the rule itself, at most once a minute per email and
            // client (`core::team::signin`).
            refused_action: None,
            // The member when the password matched; the address tried otherwise (not secret).
            target: match &q.session {
                Some((member, _)) => target("member", member),
                None => target("email", &q.email_key),
            },
            changes: None,
        },
        _ => return None,
    })
}

impl AuditSpec {
    /// The entry, as it travels; `accepted`: the call was answered, not refused. A refused
    /// change records nothing, except where the refusal is what is audited (a failed sign-in).
    ///
    /// Made once, in the transaction of its change, and kept with its id from there on (the
    /// team object's outbox hands the same event over until it is taken; the events object
    /// stores it at once): so the id is random, and two changes of one target in the same
    /// millisecond are two entries.
    pub fn entry(
        self,
        origin: &Origin,
        accepted: bool,
        now: Timestamp,
        rng: &mut impl Random,
    ) -> Option<Event> {
        let action = if accepted {
            self.action
        } else {
            self.refused_action?
        };
        let id = random_entry_id(rng);
        let mut origin = origin.clone();
        if origin.actor.id.is_none() && self.target.kind == "member" && accepted {
            // A sign-in or an accepted invitation: the actor is the member it concerns.
            origin.actor.id = Some(self.target.id.clone());
        }
        Some(as_event(&entry(
            id,
            &origin,
            action,
            self.target,
            self.changes,
            now,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::team::memory::MemoryTeam;
    use crate::core::team::TeamRefusal;

    fn send<Q: TeamRequest>(s: &MemoryTeam, q: Q) -> TeamAnswer<Q::Reply> {
        let wire = serde_json::to_string(&q.into_call()).unwrap();
        let call: TeamCall = serde_json::from_str(&wire).unwrap();
        serde_json::from_str(&team_dispatch(s, call).unwrap()).unwrap()
    }

    #[test]
    fn calls_and_answers_round_trip_through_json() {
        let s = MemoryTeam::default();
        assert_eq!(send(&s, GetTeam {}), Err(TeamRefusal::NotFound));
        let team = Team {
            id: "team_1".into(),
            name: "Acme".into(),
            created_at: Timestamp::from_millis(0),
            limits: Default::default(),
            leak_policy: Default::default(),
            auto_disable_idle_days: None,
            branding: Default::default(),
            require_totp: false,
        };
        assert_eq!(
            send(
                &s,
                Init {
                    team: team.clone(),
                    owner: None
                }
            ),
            Ok(team.clone())
        );
        assert_eq!(send(&s, GetTeam {}), Ok(team));
        assert_eq!(send(&s, RemoveKey { id: "key_x".into() }), Ok(()));
    }

    #[test]
    fn changes_are_audited_reads_are_not_and_a_failed_sign_in_is() {
        use crate::core::audit::{Actor, ActorKind};
        let origin = Origin::new(
            Actor {
                kind: ActorKind::Member,
                id: None,
            },
            None,
            None,
            None,
        );
        let now = Timestamp::from_millis(0);
        let mut rng = crate::core::random::FixedRandom((0..=255).collect(), 0);
        assert!(audit_spec(&GetTeam {}.into_call()).is_none());
        let del = audit_spec(&RemoveKey { id: "key_1".into() }.into_call());
        assert!(
            del.is_none(),
            "a key's listing row is not a change of the API"
        );
        let removed = audit_spec(
            &RemoveMember {
                id: "mem_1".into(),
                by: Changer::Key(PermissionSet::default()),
                now,
            }
            .into_call(),
        )
        .unwrap();
        assert!(
            removed
                .clone()
                .entry(&origin, false, now, &mut rng)
                .is_none(),
            "refused: nothing"
        );
        let e = removed.entry(&origin, true, now, &mut rng).unwrap();
        assert!(e.body.contains("member.removed"));
        let failed = SignInFinish {
            email_key: "who@acme.test".into(),
            client: None,
            session: None,
            code: None,
            totp_key: None,
            origin: None,
            meta: Default::default(),
            now,
        };
        let e = audit_spec(&failed.into_call())
            .unwrap()
            .entry(&origin, true, now, &mut rng)
            .unwrap();
        let body: serde_json::Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(body["action"], "session.created");
        assert!(
            audit_spec(
                &SignInFinish {
                    email_key: "who@acme.test".into(),
                    client: None,
                    session: None,
                    code: None,
                    totp_key: None,
                    origin: None,
                    meta: Default::default(),
                    now,
                }
                .into_call(),
            )
            .unwrap()
            .entry(&origin, false, now, &mut rng)
            .is_none(),
            "a refusal is recorded by the rule, not per call"
        );
    }

    /// Issue 17: an id derived from action + target + millisecond made two changes of one
    /// target in one millisecond one entry (the second was dropped as a repeat). The id is now
    /// made once, with the entry, and the entry travels with it: a repeated hand-over of the
    /// outbox still keeps it once.
    #[test]
    fn two_changes_in_one_millisecond_are_two_entries_and_a_repeat_is_one() {
        use crate::core::audit::{list, record_entries, Actor, ActorKind, AuditQuery};
        let origin = Origin::new(
            Actor {
                kind: ActorKind::Key,
                id: Some("key_1".into()),
            },
            None,
            None,
            None,
        );
        let now = Timestamp::from_millis(1_800_000_000_000);
        let mut rng = crate::core::random::FixedRandom((0..=255).collect(), 0);
        let rename = |name: &str| {
            audit_spec(
                &UpdateTeam {
                    name: Some(name.into()),
                    limits: LimitsPatch::default(),
                    leak_policy: None,
                    auto_disable_idle_days: None,
                    branding: None,
                    require_totp: None,
                }
                .into_call(),
            )
            .unwrap()
        };
        let first = rename("a").entry(&origin, true, now, &mut rng).unwrap();
        let second = rename("b").entry(&origin, true, now, &mut rng).unwrap();
        assert_ne!(first.id, second.id, "same action, target and millisecond");
        let s = MemoryTeam::default();
        record_entries(&s, &[first.clone(), second], now).unwrap();
        record_entries(&s, &[first], now).unwrap();
        let q = AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        };
        let kept = list(&s, &q, None).unwrap().items;
        assert_eq!(kept.len(), 2, "both changes, and the repeat once");
    }

    #[test]
    fn a_storage_failure_is_not_an_answer() {
        let s = MemoryTeam::default();
        s.fail.set(true);
        assert!(team_dispatch(&s, GetTeam {}.into_call()).is_err());
    }

    #[test]
    fn the_wire_names_are_the_calls_in_snake_case() {
        let wire = serde_json::to_value(RemoveKey { id: "key_1".into() }.into_call()).unwrap();
        assert_eq!(wire, serde_json::json!({"remove_key": {"id": "key_1"}}));
    }
}
