//! The key object: holds one key's [`KeyState`] and runs [`key_dispatch`] on it.
//!
//! The state is cached in memory for the object's life and written back after every change, so a
//! check costs no storage read once the object is warm, and a restart loses no count. Workers
//! deliver one event at a time to an object while its storage calls are in flight (input
//! gates), and the decision is made synchronously in memory, so no two requests can both take
//! the last slot of a window.

use crate::core::access::KeyState;
use crate::core::time::Timestamp;
use crate::storage::protocol::{key_dispatch, Effect, KeyCall, TeamCall};
use crate::storage::Stores;
use std::cell::RefCell;
use worker::{
    console_error, durable_object, Date, DurableObject, Env, Request, Response, Result, State,
};

const STATE_KEY: &str = "state";

#[durable_object]
pub struct KeyObject {
    state: State,
    env: Env,
    /// `None` until loaded; then what storage holds (`Some(None)` for an empty object).
    slot: RefCell<Option<Option<KeyState>>>,
}

impl DurableObject for KeyObject {
    fn new(state: State, env: Env) -> Self {
        KeyObject {
            state,
            env,
            slot: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let call: KeyCall = req.json().await?;
        if self.slot.borrow().is_none() {
            let loaded: Option<KeyState> = self.state.storage().get(STATE_KEY).await?;
            let mut slot = self.slot.borrow_mut();
            if slot.is_none() {
                *slot = Some(loaded);
            }
        }
        let now = Timestamp::from_millis(Date::now().as_millis() as i64);
        let (reply, effect, to_save, publish) = {
            let mut slot = self.slot.borrow_mut();
            let held = slot.as_mut().expect("loaded above");
            let (reply, effect) = key_dispatch(held, call, now);
            let publish = held.as_mut().and_then(|s| {
                s.take_last_used_publish(now)
                    .map(|t| (s.record.team_id.clone(), s.record.id.clone(), t))
            });
            let to_save = (effect == Effect::Save).then(|| held.clone()).flatten();
            (reply, effect, to_save, publish)
        };
        match effect {
            Effect::Save => {
                if let Some(s) = to_save {
                    self.state.storage().put(STATE_KEY, s).await?;
                }
            }
            Effect::Erase => self.state.storage().delete_all().await?,
            Effect::None => {}
        }
        if let Some((team_id, id, last_used)) = publish {
            // Off the request's path: the listing's `last_used` may lag, the answer may not.
            let env = self.env.clone();
            self.state.wait_until(async move {
                let touch = TeamCall::TouchKey { id, last_used };
                let result = match Stores::from_env(&env) {
                    Ok(stores) => stores.team(&team_id, &touch).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    console_error!("publishing last_used failed: {}", e.0);
                }
            });
        }
        Response::from_json(&reply)
    }
}
