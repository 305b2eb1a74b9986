//! The one storage failure type, shared by every store the core's rules run on and by the
//! adapters that implement them.

/// A storage failure, with its cause for the log (never for the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

pub type StoreResult<T> = Result<T, StoreError>;
