//! The query string every paged list of a read model takes: the cursor of the previous page, the
//! page size, and the log position the read must reflect. One type for all of them, so every list
//! pages, bounds and documents its page alike.
//!
//! A list with filters of its own takes them as a second query extractor next to this one (both
//! read the same query string, each its own fields), and names both in its `params(..)`, filters
//! first, so the OpenAPI document lists the filters, then `after`, `limit`, `min_position`.

use comptoir_projections::limits::{PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX};
use comptoir_projections::PageRequest;
use serde::Deserialize;
use utoipa::IntoParams;

// The description of `limit` below names these figures; change it with them.
const _: () = assert!(PAGE_LIMIT_DEFAULT == 50 && PAGE_LIMIT_MAX == 200);

/// Cursor paging over a read model, read at a position.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Items per page (default 50, at most 200).
    pub limit: Option<usize>,
    pub min_position: Option<u64>,
}

impl PageQuery {
    /// The page to ask the read model for. No `limit` (or 0) asks for the default size and a
    /// larger one is capped at the bound: `PageRequest` applies both, so every list has them.
    pub fn page(&self) -> PageRequest {
        PageRequest {
            after: self.after.clone(),
            limit: self.limit.unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_query_passes_its_cursor_and_leaves_the_size_to_the_bound() {
        // Proves a missing limit asks for the read model's default (0) and the cursor and a
        // given limit reach the read model as sent (it caps the limit at `PAGE_LIMIT_MAX`).
        assert_eq!(PageQuery::default().page(), PageRequest::first(0));
        let query = PageQuery {
            after: Some("cursor".into()),
            limit: Some(PAGE_LIMIT_MAX + 1),
            min_position: Some(7),
        };
        let page = query.page();
        assert_eq!(page.after.as_deref(), Some("cursor"));
        assert_eq!(page.limit, PAGE_LIMIT_MAX + 1);
    }
}
