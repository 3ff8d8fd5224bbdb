//! Cursor paging over key-ordered lists.
//!
//! A list is a range of keys in the state tree. A cursor is the key suffix of the last item a page
//! returned, tagged with the list it belongs to and hex-encoded: the next page starts strictly
//! after that key. Keys never change once written (dates, ids, numbers, emails), so an item
//! appended concurrently appears in a later page if it sorts after the cursor and never causes a
//! duplicate or a gap.

use crate::error::{ProjectionError, ProjectionResult};
use crate::limits::{CURSOR_BYTES_MAX, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which page of a list to return.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// The `next_cursor` of the previous page; `None` for the first page.
    pub after: Option<String>,
    /// Items wanted: 0 means [`PAGE_LIMIT_DEFAULT`]; capped at [`PAGE_LIMIT_MAX`].
    pub limit: usize,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: usize) -> Self {
        PageRequest { after: None, limit }
    }

    pub(crate) fn effective_limit(&self) -> usize {
        match self.limit {
            0 => PAGE_LIMIT_DEFAULT,
            limit => limit.min(PAGE_LIMIT_MAX),
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass it as `after` to get the next page; `None` when the list is exhausted. A filtered
    /// page may hold fewer than `limit` items and still have a cursor (see `PAGE_SCAN_ROWS_MAX`).
    pub next_cursor: Option<String>,
}

/// A half-open range of instants `[from, until)`; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl DateRange {
    pub(crate) fn validate(&self) -> ProjectionResult<()> {
        if let (Some(from), Some(until)) = (self.from, self.until) {
            if from > until {
                return Err(ProjectionError::InvalidQuery {
                    reason: "the date range ends before it starts".into(),
                });
            }
        }
        Ok(())
    }
}

/// Encodes the key suffix of the last item of a page for list `list_tag`.
pub(crate) fn encode_cursor(list_tag: u8, suffix: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(suffix.len() + 1);
    bytes.push(list_tag);
    bytes.extend_from_slice(suffix);
    hex::encode(bytes)
}

/// The key suffix a cursor of list `list_tag` stands for.
pub(crate) fn decode_cursor(list_tag: u8, cursor: &str) -> ProjectionResult<Vec<u8>> {
    if cursor.len() > 2 * (CURSOR_BYTES_MAX + 1) {
        return Err(ProjectionError::InvalidCursor);
    }
    let bytes = hex::decode(cursor).map_err(|_| ProjectionError::InvalidCursor)?;
    match bytes.split_first() {
        Some((tag, suffix)) if *tag == list_tag && !suffix.is_empty() => Ok(suffix.to_vec()),
        _ => Err(ProjectionError::InvalidCursor),
    }
}
