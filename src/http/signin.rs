//! Signing in with an email alone (`POST /v1/session` without `team_id`) and the global email
//! index it reads (`core::email_index`): one KV entry per (email, team), written at the edge
//! with the membership (a team made with its owner, an invitation accepted, a sign-in naming
//! its team) and removed with it.

use super::ctx::{json, ApiResult, Ctx};
use super::org::ask;
use super::password;
use super::problem::ApiError;
use crate::core::email_index::{
    derive_key, email_entry, email_prefix, team_of_entry, RefusalTime, EMAIL_INDEX_INFO,
    MAX_TEAMS_PER_EMAIL,
};
use crate::core::ids::{MemberId, TeamId};
use crate::core::members::Password;
use crate::core::page::{decode_cursor, ListQuery, MAX_PAGE_LIMIT};
use crate::storage::team_protocol::{ListMembers, SignInFinish, SignInRelease, SignInStart};
use crate::storage::Backend;
use serde::Serialize;
use worker::console_error;

thread_local! {
    /// How long this isolate's wrong passwords by email took (`RefusalTime`).
    static REFUSAL_TIME: std::cell::Cell<RefusalTime> = std::cell::Cell::new(RefusalTime::default());
}

fn clock_ms() -> f64 {
    worker::Date::now().as_millis() as f64
}

fn index_key(ctx: &Ctx) -> Result<[u8; 32], ApiError> {
    Ok(derive_key(&password::pepper(ctx)?, EMAIL_INDEX_INFO))
}

/// Notes that `email_key` is a member of `team`. A failure is logged (never the email) and
/// not answered: the membership stands, and a sign-in naming the team writes the entry again.
pub async fn index(ctx: &Ctx, email_key: &str, team: &TeamId) {
    let written = match index_key(ctx) {
        Ok(k) => {
            ctx.stores
                .index_email(&email_entry(&k, email_key, team))
                .await
        }
        Err(_) => return,
    };
    if let Err(e) = written {
        console_error!(
            "writing an email index entry of team {team} failed: {}",
            e.0
        );
    }
}

/// The membership of `email_key` in `team` ended.
pub async fn unindex(ctx: &Ctx, email_key: &str, team: &TeamId) {
    let removed = match index_key(ctx) {
        Ok(k) => {
            ctx.stores
                .unindex_email(&email_entry(&k, email_key, team))
                .await
        }
        Err(_) => return,
    };
    if let Err(e) = removed {
        console_error!(
            "removing an email index entry of team {team} failed: {}",
            e.0
        );
    }
}

/// Writes the entries of every member of `team` (the upgrade path for members made before the
/// index: README, "Upgrading"); entries are idempotent, so writing one again changes nothing.
pub async fn index_team(ctx: &Ctx, team: &TeamId) -> Result<(), ApiError> {
    let mut cursor = None;
    loop {
        let query = ListQuery {
            limit: MAX_PAGE_LIMIT,
            cursor,
            environment: None,
            project_id: None,
            idle_cutoff: None,
        };
        let page = ask(ctx, team, ListMembers { query }, "team", "").await?;
        for m in &page.items {
            index(ctx, &m.email.key(), team).await;
        }
        cursor = page.next_cursor.as_deref().and_then(decode_cursor);
        if cursor.is_none() {
            return Ok(());
        }
    }
}

/// The teams the index names for `email_key` that still exist (a team's marker, no object).
async fn teams_of(ctx: &Ctx, email_key: &str) -> Result<Vec<TeamId>, ApiError> {
    let prefix = email_prefix(&index_key(ctx)?, email_key);
    let names = ctx
        .stores
        .email_entries(&prefix, MAX_TEAMS_PER_EMAIL)
        .await?;
    let mut teams = Vec::new();
    for team in names.iter().filter_map(|n| team_of_entry(&prefix, n)) {
        if ctx.stores.team_exists(&team).await? {
            teams.push(team);
        }
    }
    Ok(teams)
}

#[derive(Serialize)]
struct TeamChoice {
    id: TeamId,
    name: String,
}

#[derive(Serialize)]
struct Choose {
    teams: Vec<TeamChoice>,
}

/// What a sign-in without a team comes to: one team to sign in to, or several to choose from.
pub enum ByEmail {
    One { team: TeamId, member: MemberId },
    Choose(ApiResult),
}

/// A sign-in without `team_id`: every team the index names for the email is tried as a
/// sign-in naming it would be (the attempt counted there first, then the password compared);
/// an email the index does not know touches no object and costs one derivation against a
/// decoy, like a wrong password. A wrong password in a team is a refused sign-in there.
pub async fn by_email(
    ctx: &Ctx,
    email_key: &str,
    pass: &Password,
    client: Option<String>,
    origin: &crate::core::audit::Origin,
) -> Result<ByEmail, ApiError> {
    let started = clock_ms();
    let teams = teams_of(ctx, email_key).await?;
    if teams.is_empty() {
        // One decoy derivation, then a wait up to what a wrong password takes here: the
        // answer says nothing about whether the email is anyone's.
        let before = clock_ms();
        password::matches(ctx, pass, None).await?;
        let (now, derivation) = (clock_ms(), clock_ms() - before);
        let wait = REFUSAL_TIME.with(|t| t.get().wait_ms(now - started, derivation));
        if wait > 0.0 {
            worker::Delay::from(std::time::Duration::from_millis(wait as u64)).await;
        }
        return Err(ApiError::invalid_credentials());
    }
    let mut matched = Vec::new();
    for team in teams {
        let start = SignInStart {
            email_key: email_key.to_owned(),
            client: client.clone(),
            now: ctx.now,
        };
        let found = ask(ctx, &team, start, "team", "").await?;
        let ok = password::matches(ctx, pass, found.password.as_deref()).await?;
        match (ok, found.member_id) {
            (true, Some(member)) => matched.push((team, member)),
            _ => {
                // Counted already; recorded as refused (at most once a minute, by the rule).
                let finish = SignInFinish {
                    email_key: email_key.to_owned(),
                    client: client.clone(),
                    session: None,
                    code: None,
                    totp_key: None,
                    origin: Some(origin.clone()),
                    // No session opens here, so nothing of the client is kept.
                    meta: Default::default(),
                    now: ctx.now,
                };
                let _ = ctx.stores.team(&team, finish).await;
            }
        }
    }
    match matched.len() {
        0 => {
            let elapsed = clock_ms() - started;
            REFUSAL_TIME.with(|t| {
                let mut r = t.get();
                r.record(elapsed);
                t.set(r);
            });
            Err(ApiError::invalid_credentials())
        }
        1 => {
            let (team, member) = matched.remove(0);
            Ok(ByEmail::One { team, member })
        }
        _ => {
            let mut choices = Vec::new();
            for (team, _) in matched {
                let release = SignInRelease {
                    email_key: email_key.to_owned(),
                    client: client.clone(),
                };
                let t = ask(ctx, &team, release, "team", "").await?;
                choices.push(TeamChoice {
                    id: t.id,
                    name: t.name,
                });
            }
            Ok(ByEmail::Choose(json(200, &Choose { teams: choices })))
        }
    }
}
