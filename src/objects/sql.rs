//! The SQLite side shared by the objects with tables (team, events): a thin handle over the
//! object's `SqlStorage`, rows read positionally, bodies as JSON text.

use crate::core::page::{encode_cursor, ListQuery, Page};
use crate::core::store::{StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{SqlStorage, SqlStorageValue as V};

pub fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

pub fn json<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(err)
}

pub fn parse<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(err)
}

/// Column `i` of a row, as text.
pub fn text(row: &[V], i: usize) -> StoreResult<&str> {
    match row.get(i) {
        Some(V::String(s)) => Ok(s),
        other => Err(StoreError(format!(
            "column {i}: expected text, got {other:?}"
        ))),
    }
}

/// Column `i` of a row, as an integer.
pub fn int(row: &[V], i: usize) -> StoreResult<i64> {
    match row.get(i) {
        Some(V::Integer(n)) => Ok(*n),
        other => Err(StoreError(format!(
            "column {i}: expected an integer, got {other:?}"
        ))),
    }
}

pub fn opt(s: Option<&str>) -> V {
    s.map_or(V::Null, V::from)
}

/// An object's tables.
pub struct Sql(pub SqlStorage);

impl Sql {
    pub fn exec(&self, q: &str, binds: Vec<V>) -> StoreResult<()> {
        self.0.exec(q, binds).map(|_| ()).map_err(err)
    }

    /// The rows, each as its columns in order. Read positionally through the cursor's raw
    /// iterator, not deserialized into structs: that would compile a second JSON-like
    /// deserializer (serde-wasm-bindgen) into the wasm for a handful of columns.
    pub fn rows(&self, q: &str, binds: Vec<V>) -> StoreResult<Vec<Vec<V>>> {
        let cursor = self.0.exec(q, binds).map_err(err)?;
        cursor.raw().collect::<worker::Result<_>>().map_err(err)
    }

    /// `SELECT seq, body …`: the first row's body, parsed.
    pub fn one<T: DeserializeOwned>(&self, q: &str, binds: Vec<V>) -> StoreResult<Option<T>> {
        self.rows(q, binds)?
            .first()
            .map(|r| parse(text(r, 1)?))
            .transpose()
    }

    pub fn exists(&self, q: &str, binds: Vec<V>) -> StoreResult<bool> {
        Ok(!self.rows(q, binds)?.is_empty())
    }

    /// `SELECT COUNT(*) …`.
    pub fn count_of(&self, q: &str, binds: Vec<V>) -> StoreResult<i64> {
        let rows = self.rows(q, binds)?;
        rows.first().map_or(Ok(0), |r| int(r, 0))
    }

    pub fn by_id<T: DeserializeOwned>(&self, table: &str, id: &str) -> StoreResult<Option<T>> {
        self.one(
            &format!("SELECT seq, body FROM {table} WHERE id = ?"),
            vec![id.into()],
        )
    }

    /// One page, newest first: rows with `seq` below the cursor and the `filters` given
    /// (column, value). Only the filters given are in the query, so SQLite can use the index
    /// that matches them.
    pub fn page<T: DeserializeOwned>(
        &self,
        table: &str,
        filters: &[(&str, Option<&str>)],
        query: &ListQuery,
    ) -> StoreResult<Page<T>> {
        self.page_where(table, filters, &[], query)
    }

    /// [`Self::page`] with further conditions: each an SQL expression with one `?`, and the
    /// text bound to it.
    pub fn page_where<T: DeserializeOwned>(
        &self,
        table: &str,
        filters: &[(&str, Option<&str>)],
        conditions: &[(&str, String)],
        query: &ListQuery,
    ) -> StoreResult<Page<T>> {
        let mut clauses = Vec::new();
        let mut binds = Vec::new();
        if let Some(c) = query.cursor {
            clauses.push("seq < ?".to_owned());
            binds.push(V::from(c));
        }
        for (column, value) in filters {
            if let Some(v) = value {
                clauses.push(format!("{column} = ?"));
                binds.push(V::from(*v));
            }
        }
        for (clause, value) in conditions {
            clauses.push((*clause).to_owned());
            binds.push(V::from(value.as_str()));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        binds.push(V::from(query.limit as i64 + 1));
        let q = format!("SELECT seq, body FROM {table} {filter} ORDER BY seq DESC LIMIT ?");
        let mut rows = self.rows(&q, binds)?;
        let next_cursor = if rows.len() > query.limit {
            rows.truncate(query.limit);
            rows.last()
                .map(|r| int(r, 0))
                .transpose()?
                .map(encode_cursor)
        } else {
            None
        };
        let items = rows
            .iter()
            .map(|r| parse(text(r, 1)?))
            .collect::<StoreResult<Vec<T>>>()?;
        Ok(Page { items, next_cursor })
    }

    pub fn delete_by_id(&self, table: &str, id: &str) -> StoreResult<()> {
        self.exec(
            &format!("DELETE FROM {table} WHERE id = ?"),
            vec![id.into()],
        )
    }
}
