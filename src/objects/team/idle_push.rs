//! The push of a changed `auto_disable_idle_days` to the team's keys (`core::idle::Push`): off
//! the request's path, by the team object's own alarm, a batch of keys per run in the listing's
//! `seq` order, the last key done written after each one, so that a restart resumes where it
//! stopped and no key is skipped. A newer change starts the push over (a new generation); a key
//! call that fails is tried again after `PUSH_RETRY_MS`, up to `PUSH_TRIES` calls in a row, then
//! that key is passed over (logged), so one broken key object does not hold the setting back
//! from the rest; a walk that passed over a key is made again later (`Push::finished`). A key
//! made while a push runs gets the setting at its creation (`storage::service::issue_key`).

use crate::core::idle::{AfterFailure, Push, PUSH_BATCH, PUSH_RETRY_MS, PUSH_TRIES};
use crate::core::ids::KeyId;
use crate::core::store::StoreResult;
use crate::objects::sql::{int, json, parse, text, Sql};
use crate::storage::key_protocol::KeyCall;
use crate::storage::{Backend, Stores};
use worker::{console_error, Env};

const TABLE: &str = "CREATE TABLE IF NOT EXISTS idle_push (
  id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)";

fn get(db: &Sql) -> StoreResult<Option<Push>> {
    db.exec(TABLE, vec![])?;
    let rows = db.rows("SELECT body FROM idle_push WHERE id = 1", vec![])?;
    rows.first().map(|r| parse(text(r, 0)?)).transpose()
}

fn put(db: &Sql, p: &Push) -> StoreResult<()> {
    db.exec(TABLE, vec![])?;
    db.exec(
        "INSERT OR REPLACE INTO idle_push (id, body) VALUES (1, ?)",
        vec![json(p)?.into()],
    )
}

/// Starts a push of `days` (replacing one under way), in the same event as the team's change.
pub fn start(db: &Sql, days: Option<u32>) -> StoreResult<()> {
    let previous = get(db)?;
    put(db, &Push::start(days, previous.as_ref()))
}

/// Is the push still the one `p` is of? (A change while a key call was out starts another.)
fn current(db: &Sql, p: &Push) -> StoreResult<bool> {
    Ok(get(db)?.is_some_and(|now| now.generation == p.generation))
}

/// Runs one batch of the push under way, if any. Returns when the alarm must run next: at once
/// for the next batch, later after a failure, `None` when there is nothing (left) to push.
pub async fn run(db: &Sql, env: &Env) -> StoreResult<Option<i64>> {
    let Some(mut push) = get(db)? else {
        return Ok(None);
    };
    let rows = db.rows(
        "SELECT seq, id FROM keys WHERE seq > ? ORDER BY seq LIMIT ?",
        vec![push.after_seq.into(), (PUSH_BATCH as i64).into()],
    )?;
    let stores = Stores::from_env(env)?;
    let call = KeyCall::SetIdle { days: push.days };
    let mut last = None;
    for row in &rows {
        let seq = int(row, 0)?;
        // Any answer will do: a key deleted meanwhile has nothing to take.
        let sent = match KeyId::parse(text(row, 1)?) {
            Some(id) => stores.key(&id, &call).await.map(|_| ()),
            None => Ok(()),
        };
        if let Err(e) = sent {
            // A newer change meanwhile: its push, not this one's count, goes on.
            if !current(db, &push)? {
                return Ok(Some(0));
            }
            match push.failed_at(seq) {
                AfterFailure::Retry(next) => {
                    console_error!(
                        "pushing the idle setting to a key failed {} time(s) (retried): {}",
                        next.failures,
                        e.0
                    );
                    put(db, &next)?;
                    return Ok(Some(PUSH_RETRY_MS));
                }
                AfterFailure::PassOver(next) => {
                    console_error!(
                        "the idle setting was not given to a key after {} tries, passed over: {}",
                        PUSH_TRIES,
                        e.0
                    );
                    push = next;
                    put(db, &push)?;
                    last = Some(seq);
                    continue;
                }
            }
        }
        if !current(db, &push)? {
            return Ok(Some(0));
        }
        push = push.through(seq);
        put(db, &push)?;
        last = Some(seq);
    }
    if !current(db, &push)? {
        return Ok(Some(0));
    }
    match push.advanced(rows.len(), last) {
        Some(next) => {
            put(db, &next)?;
            Ok(Some(0))
        }
        None => match push.finished() {
            Some((again, delay)) => {
                put(db, &again)?;
                Ok(Some(delay))
            }
            None => {
                db.exec("DELETE FROM idle_push WHERE id = 1", vec![])?;
                Ok(None)
            }
        },
    }
}
