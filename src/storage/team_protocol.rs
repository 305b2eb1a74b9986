//! The team object's protocol (see `storage::calls`): one request type per call, with its reply
//! type and its rule in `core::team`. Pure: no Workers type.

use crate::core::ids::{InvitationId, KeyId, MemberId, ProjectId, RoleId, ServiceAccountId};
use crate::core::limits::LimitsPatch;
use crate::core::members::{Changer, Invitation, InvitationView, Member, MemberRole, MemberView};
use crate::core::model::{KeyRecord, Project, Role, ServiceAccount, Team};
use crate::core::page::{ListQuery, Page};
use crate::core::permission::PermissionSet;
use crate::core::team::membership::{self as people, Credentials, SignedIn};
use crate::core::team::{self as rules, MemberStore, TeamStore};
use crate::core::time::Timestamp;
use crate::storage::calls::object_calls;
pub use crate::storage::calls::TeamAnswer;

object_calls! {
    trait TeamRequest; enum TeamCall; fn team_dispatch(store: &(impl TeamStore + MemberStore));

    /// Creates the team (refused if it exists), with its first owner if one is given.
    Init { team: Team, owner: Option<Member> } -> Team =
        |s, q| people::create_team(s, q.team, q.owner);
    GetTeam {} -> Team = |s, _q| rules::get(s);
    /// The operator's change of name or limits.
    UpdateTeam { name: Option<String>, limits: LimitsPatch } -> Team =
        |s, q| rules::update(s, q.name, q.limits);
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
    /// Keys (not disabled) expiring in `[from, to)`: the monitoring's `keys_expiring_30d`.
    CountExpiring { from: Timestamp, to: Timestamp } -> u64 =
        |s, q| Ok(s.count_expiring(q.from, q.to)?);
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
    RemoveMember { id: MemberId, by: Changer, now: Timestamp } -> () =
        |s, q| people::remove_member(s, &q.id, q.by, q.now);
    Invite { invitation: Invitation, by: Changer } -> InvitationView =
        |s, q| people::invite(s, q.invitation, q.by);
    ListInvitations { query: ListQuery } -> Page<InvitationView> =
        |s, q| people::list_invitations(s, &q.query);
    WithdrawInvitation { id: InvitationId } -> () = |s, q| people::withdraw_invitation(s, &q.id);
    /// Makes the invited member and their first session, using the invitation up.
    AcceptInvitation {
        token_hash: String,
        id: MemberId,
        password: String,
        session_hash: String,
        now: Timestamp,
    } -> SignedIn = |s, q| {
        people::accept(s, &q.token_hash, q.id, q.password, &q.session_hash, q.now)
    };
    SignInStart { email_key: String, client: Option<String>, now: Timestamp } -> Credentials =
        |s, q| people::sign_in_start(s, &q.email_key, q.client.as_deref(), q.now);
    /// `session`: (member id, session token hash) when the password matched.
    SignInFinish {
        email_key: String,
        client: Option<String>,
        session: Option<(MemberId, String)>,
        now: Timestamp,
    } -> SignedIn = |s, q| {
        let success = q.session.as_ref().map(|(m, h)| (m.as_ref(), h.as_str()));
        people::sign_in_finish(s, &q.email_key, q.client.as_deref(), success, q.now)
    };
    Authenticate { session_hash: String, now: Timestamp } -> SignedIn =
        |s, q| people::authenticate(s, &q.session_hash, q.now);
    EndSession { session_hash: String } -> () = |s, q| people::end_session(s, &q.session_hash);
    PasswordOf { member_id: MemberId } -> String = |s, q| people::password_of(s, &q.member_id);
    SetPassword { member_id: MemberId, password: String, keep_session: String } -> () =
        |s, q| people::set_password(s, &q.member_id, q.password, &q.keep_session);
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
