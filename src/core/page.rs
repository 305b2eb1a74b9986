//! Pages of a listing: the query (`limit`, `cursor`, filters) and opaque cursors. Every list
//! endpoint answers `{"data", "has_more", "next_cursor"}`, newest first.

use super::ids::ProjectId;
use super::input::{truncate, InputError, InputErrorKind};
use super::key::Environment;
use serde::{Deserialize, Serialize};

type Result<T> = std::result::Result<T, InputError>;

pub const DEFAULT_PAGE_LIMIT: usize = 20;
pub const MAX_PAGE_LIMIT: usize = 100;

/// One page of a listing, newest first; `next_cursor` when there is more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `GET /v1/api-keys` query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    pub limit: usize,
    /// Opaque to clients: the position after which the next page starts.
    pub cursor: Option<i64>,
    pub environment: Option<Environment>,
    pub project_id: Option<ProjectId>,
    /// `GET /v1/api-keys?idle_days=N`: only keys last used (or, never used, made) at or before
    /// this instant (`core::idle_filter`); `None`: every key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_cutoff: Option<super::time::Timestamp>,
}

/// Parses `limit`, `cursor`, and the filters named in `filters` out of decoded query pairs.
pub fn parse_list_query(pairs: &[(String, String)], filters: &[&str]) -> Result<ListQuery> {
    let mut q = ListQuery {
        limit: DEFAULT_PAGE_LIMIT,
        cursor: None,
        environment: None,
        project_id: None,
        idle_cutoff: None,
    };
    for (k, v) in pairs {
        if page_param(k, v, &mut q.limit, &mut q.cursor)? {
            continue;
        }
        match k.as_str() {
            "environment" if filters.contains(&"environment") => {
                q.environment = Some(Environment::parse(v).ok_or_else(|| {
                    InputError::invalid("environment", "must be `live` or `test`")
                })?);
            }
            "project_id" if filters.contains(&"project_id") => {
                q.project_id = Some(ProjectId::parse(v).ok_or_else(|| {
                    InputError::invalid("project_id", "must be an id starting with `proj_`")
                })?);
            }
            other => return Err(unknown_param(other)),
        }
    }
    Ok(q)
}

/// `limit` (1–100) and `cursor` (empty: the first page), the paging parameters of every list;
/// `true` when `k` was one of them.
pub fn page_param(k: &str, v: &str, limit: &mut usize, cursor: &mut Option<i64>) -> Result<bool> {
    match k {
        "limit" => {
            *limit = v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_LIMIT).contains(n))
                .ok_or_else(|| {
                    InputError::invalid(
                        "limit",
                        format!("must be an integer from 1 to {MAX_PAGE_LIMIT}"),
                    )
                })?;
        }
        // An empty cursor is the first page (what a client holding no cursor may send).
        "cursor" if v.is_empty() => *cursor = None,
        "cursor" => {
            *cursor = Some(decode_cursor(v).ok_or_else(|| {
                InputError::invalid("cursor", "is not a cursor this API returned")
            })?);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A query parameter the endpoint does not take.
pub fn unknown_param(k: &str) -> InputError {
    InputError {
        kind: InputErrorKind::UnknownField,
        detail: format!("unknown query parameter `{}`", truncate(k, 64)),
    }
}

/// Cursors are `c` + a decimal position: opaque to clients, cheap to check.
pub fn encode_cursor(position: i64) -> String {
    format!("c{position}")
}

pub fn decode_cursor(s: &str) -> Option<i64> {
    s.strip_prefix('c')?.parse::<i64>().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_query() {
        let pairs = |s: &[(&str, &str)]| -> Vec<(String, String)> {
            s.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let q = parse_list_query(
            &pairs(&[("limit", "5"), ("cursor", "c42"), ("environment", "test")]),
            &["environment", "project_id"],
        )
        .unwrap();
        assert_eq!(
            (q.limit, q.cursor, q.environment),
            (5, Some(42), Some(Environment::Test))
        );
        for bad in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "x"),
            ("cursor", "42"),
            ("environment", "prod"),
            ("sort", "asc"),
        ] {
            assert!(
                parse_list_query(&pairs(&[bad]), &["environment"]).is_err(),
                "{bad:?}"
            );
        }
        assert!(
            parse_list_query(&pairs(&[("environment", "live")]), &[]).is_err(),
            "filter not offered"
        );
    }
}
