//! What the Durable Objects' protocols share: a call is one request type with its own reply
//! type, sent as JSON and answered with `Result<Reply, TeamRefusal>` (a refusal is an answer,
//! not a failure); a storage failure inside the object travels as a transport error. The
//! [`object_calls!`] list of each protocol is the only place that pairs a call with its reply
//! and its rule, so a caller cannot read the wrong reply and the object cannot forget a call.

use crate::core::store::{StoreError, StoreResult};
use crate::core::team::{TeamError, TeamRefusal};
use serde::Serialize;

/// What an object call answers.
pub type TeamAnswer<T> = Result<T, TeamRefusal>;

/// Serializes a rule's outcome as the object's answer; a storage failure stays an error.
pub fn answer<T: Serialize>(outcome: Result<T, TeamError>) -> StoreResult<String> {
    let reply: TeamAnswer<T> = match outcome {
        Ok(v) => Ok(v),
        Err(TeamError::Refused(r)) => Err(r),
        Err(TeamError::Store(e)) => return Err(e),
    };
    serde_json::to_string(&reply).map_err(|e| StoreError(format!("serializing a reply: {e}")))
}

/// Declares a protocol: `trait` (a request, with its reply type), `enum` (every call, as it
/// travels), `fn` (the object's dispatch onto its store), then one line per call.
macro_rules! object_calls {
    (
        trait $Trait:ident; enum $Call:ident; fn $dispatch:ident(store: $Store:ty);
        $(
            $(#[$doc:meta])*
            $name:ident { $($field:ident : $ty:ty),* $(,)? } -> $reply:ty = |$s:ident, $q:ident| $rule:expr;
        )*
    ) => {
        /// A call to this kind of object.
        pub trait $Trait: serde::Serialize {
            /// What the call answers when it is not refused.
            type Reply: serde::Serialize + serde::de::DeserializeOwned;
            fn into_call(self) -> $Call;
        }

        $(
            $(#[$doc])*
            #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
            pub struct $name { $(pub $field: $ty),* }

            impl $Trait for $name {
                type Reply = $reply;
                fn into_call(self) -> $Call {
                    $Call::$name(self)
                }
            }
        )*

        /// Every call, as it travels.
        #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $Call {
            $($name($name)),*
        }

        /// The object's logic: runs the call's rule on the store and serializes its answer.
        pub fn $dispatch(store: $Store, call: $Call) -> crate::core::store::StoreResult<String> {
            match call {
                $($Call::$name($q) => {
                    let $s = store;
                    let outcome: Result<$reply, crate::core::team::TeamError> = $rule;
                    $crate::storage::calls::answer(outcome)
                })*
            }
        }
    };
}
pub(crate) use object_calls;
