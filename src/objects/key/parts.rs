//! The key object's stored parts: JSON text in one SQLite table, `parts (name, body)`, written
//! synchronously (durable before the answer leaves, by the output gate). Objects written before
//! the table existed kept their parts in the key-value API; [`read_legacy`] reads those.

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Result, SqlStorage, SqlStorageValue, Storage};

pub const RECORD: &str = "record";
pub const COUNTERS: &str = "counters";
pub const OUTBOX: &str = "outbox";
pub const EVENTS: &str = "events";
pub const HISTORY: &str = "history";

pub const TABLE: &str =
    "CREATE TABLE IF NOT EXISTS parts (name TEXT PRIMARY KEY, body TEXT NOT NULL)";

fn json_error(key: &str, e: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(format!("stored {key}: {e}"))
}

/// A part from the key-value API (objects written before the table).
pub async fn read_legacy<T: DeserializeOwned>(storage: &Storage, key: &str) -> Result<Option<T>> {
    match storage.get::<String>(key).await? {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| json_error(key, e)),
        None => Ok(None),
    }
}

/// Writes a part, synchronously.
pub fn put<T: Serialize>(sql: &SqlStorage, name: &str, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| json_error(name, e))?;
    sql.exec(
        "INSERT OR REPLACE INTO parts (name, body) VALUES (?, ?)",
        vec![name.into(), text.into()],
    )?;
    Ok(())
}

pub fn get<T: DeserializeOwned>(sql: &SqlStorage, name: &str) -> Result<Option<T>> {
    // Read positionally (`raw`), as the team object's tables are: no second deserializer.
    let row = sql
        .exec("SELECT body FROM parts WHERE name = ?", vec![name.into()])?
        .raw()
        .next()
        .transpose()?;
    match row.as_deref() {
        None => Ok(None),
        Some([SqlStorageValue::String(body)]) => serde_json::from_str(body)
            .map(Some)
            .map_err(|e| json_error(name, e)),
        Some(_) => Err(json_error(name, "a row without one text column")),
    }
}

pub fn delete(sql: &SqlStorage, name: &str) -> Result<()> {
    sql.exec("DELETE FROM parts WHERE name = ?", vec![name.into()])?;
    Ok(())
}
