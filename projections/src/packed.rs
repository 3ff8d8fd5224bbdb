//! Append-only lists stored `ITEMS_PER_PACKED_ROW` items to a row: the ledger's entries and the
//! loyalty cards' histories.
//!
//! Why: sled 0.34's cost is per row more than per byte (every insert clones its leaf, every
//! split its parent), and these lists are a third of the rows a paid order leaves (2.2 ledger
//! entries and 1.1 loyalty entries per order). Stored 32 to a row, a rebuild stores about one
//! row where it stored 32.
//!
//! Each item keeps the key suffix it would have as a row of its own (what the list sorts by and
//! what a cursor holds), which ends with a big-endian counter; its row is that suffix with the
//! counter divided by `ITEMS_PER_PACKED_ROW`. Which row holds an item is therefore a function of
//! the item alone, and a row holds its items sorted by suffix: the stored rows do not depend on
//! how the events were cut into commits, so live projections and rebuilds store the same bytes
//! (and digests). Items are only added, never changed in place (the lists are histories).

use crate::error::{ProjectionError, ProjectionResult};
use crate::keys::display_key;
use crate::paging::{decode_cursor, Page, PageRequest};
use crate::rows::{CachedRow, RowCache};
use crate::store::{decode_value, is_empty_range, json_of, take_cached, ListRange, PageFill};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::Any;
use std::ops::Bound;

/// Items per stored row: a full row of ledger entries stays a few KB once compressed (the
/// rebuild bench's journal rows, about 12 entries each since its days hold about 86, store 702
/// bytes on average), far below the size sled writes as a blob of its own (see `eventlog`'s
/// stored batches), and the lists' rows are cut up to 32 times.
pub(crate) const ITEMS_PER_PACKED_ROW: u64 = 32;

/// An item of a packed list.
pub(crate) trait PackedItem: Serialize + DeserializeOwned + Send + 'static {
    /// Bytes of an item's suffix: a counter of `COUNTER_BYTES` ends it.
    const SUFFIX_BYTES: usize;
    /// The big-endian counter ending the suffix (4 or 8 bytes).
    const COUNTER_BYTES: usize;
    /// The item's key suffix in its list.
    fn suffix(&self) -> Vec<u8>;
}

/// The suffix of the row holding the item whose suffix is `item` (`SUFFIX_BYTES` long).
fn row_suffix<T: PackedItem>(item: &[u8]) -> Vec<u8> {
    let (head, counter) = item.split_at(item.len() - T::COUNTER_BYTES);
    let mut wide = [0u8; 8];
    wide[8 - T::COUNTER_BYTES..].copy_from_slice(counter);
    let packed = (u64::from_be_bytes(wide) / ITEMS_PER_PACKED_ROW).to_be_bytes();
    [head, &packed[8 - T::COUNTER_BYTES..]].concat()
}

/// Where the rows of a range start or end, in row suffixes, for a bound in item suffixes: a
/// whole item suffix becomes its row's; a shorter one (a day, with no counter) already sorts
/// rows as it sorts their items.
fn row_bound<T: PackedItem>(item_bound: &[u8]) -> Vec<u8> {
    if item_bound.len() == T::SUFFIX_BYTES {
        row_suffix::<T>(item_bound)
    } else {
        item_bound.to_vec()
    }
}

/// Adds `item` to the list under `prefix` (replacing an item with the same suffix), in the
/// cache's next commit. The row stays decoded in the cache: the next items go to it too.
pub(crate) fn add<T: PackedItem>(
    tree: &sled::Tree,
    rows: &mut RowCache,
    prefix: &[u8],
    item: T,
) -> ProjectionResult<()> {
    let suffix = item.suffix();
    let key = [prefix, &row_suffix::<T>(&suffix)].concat();
    let mut items: Vec<T> = take_cached(tree, rows, &key)?.unwrap_or_default();
    match items.binary_search_by(|held| held.suffix().cmp(&suffix)) {
        Ok(index) => items[index] = item,
        Err(index) => items.insert(index, item),
    }
    rows.insert(key, Box::new(PackedRow(items)), true);
    Ok(())
}

/// A packed row kept decoded in the row cache: stored as its JSON, and complete (dropped from
/// the cache once stored) when it holds `ITEMS_PER_PACKED_ROW` items, since lists only grow at
/// their end. A decoded row of 32 ledger entries takes tens of KB, where the cache's bound
/// counts rows.
struct PackedRow<T>(Vec<T>);

impl<T: PackedItem> CachedRow for PackedRow<T> {
    fn json(&self, key: &[u8]) -> ProjectionResult<Vec<u8>> {
        json_of(key, &self.0)
    }
    fn as_any(&self) -> &dyn Any {
        &self.0
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        Box::new(self.0)
    }
    fn is_complete(&self) -> bool {
        self.0.len() as u64 >= ITEMS_PER_PACKED_ROW
    }
}

/// The rows of `range` that may hold its items after the item suffix `after`; `None` when
/// there are none.
fn packed_rows<T: PackedItem>(
    tree: &sled::Tree,
    range: &ListRange,
    after: Option<&[u8]>,
) -> Option<sled::Iter> {
    let lower = range.lower.as_deref().unwrap_or_default();
    let from = match after {
        Some(after) if after > lower => row_bound::<T>(after),
        _ => row_bound::<T>(lower),
    };
    let start = Bound::Included([range.prefix.as_slice(), &from].concat());
    let end = match &range.upper {
        Some(upper) if upper.len() == T::SUFFIX_BYTES => {
            Bound::Included([range.prefix.as_slice(), &row_suffix::<T>(upper)].concat())
        }
        _ => range.end(),
    };
    (!is_empty_range(&start, &end)).then(|| tree.range((start, end)))
}

/// True when the item with `suffix` lies in `range` after `after`.
fn admits(range: &ListRange, after: Option<&[u8]>, suffix: &[u8]) -> bool {
    let lower = range.lower.as_deref().unwrap_or_default();
    suffix >= lower
        && after.is_none_or(|after| suffix > after)
        && range.upper.as_deref().is_none_or(|upper| suffix < upper)
}

/// Calls `visit` with each item of `range` after the item suffix `after`, in list order, until
/// it returns `false`.
fn visit_items<T: PackedItem>(
    tree: &sled::Tree,
    range: &ListRange,
    after: Option<&[u8]>,
    mut visit: impl FnMut(Vec<u8>, T) -> ProjectionResult<bool>,
) -> ProjectionResult<()> {
    let Some(rows) = packed_rows::<T>(tree, range, after) else {
        return Ok(());
    };
    for row in rows {
        let (key, value) = row?;
        let items: Vec<T> = decode_value(&key, &value)?;
        for item in items {
            let suffix = item.suffix();
            if suffix.len() != T::SUFFIX_BYTES {
                return Err(ProjectionError::Corrupt {
                    key: display_key(&key),
                    reason: "a packed item's key is not its list's length".into(),
                });
            }
            if admits(range, after, &suffix) && !visit(suffix, item)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Calls `visit` with each item of `range`, in list order.
pub(crate) fn scan<T: PackedItem>(
    tree: &sled::Tree,
    range: &ListRange,
    mut visit: impl FnMut(T) -> ProjectionResult<()>,
) -> ProjectionResult<()> {
    visit_items(tree, range, None, |_, item| visit(item).map(|()| true))
}

/// The first item of `range`.
pub(crate) fn first<T: PackedItem>(
    tree: &sled::Tree,
    range: &ListRange,
) -> ProjectionResult<Option<T>> {
    let mut first = None;
    visit_items(tree, range, None, |_, item| {
        first = Some(item);
        Ok(false)
    })?;
    Ok(first)
}

/// One page of `range`, filled as `store::page` fills one of a list stored a row per item
/// (`PageFill`): the cursor is the last examined item's suffix, the key it had as a row of its
/// own, so cursors read the same either way.
pub(crate) fn page<T: PackedItem, U>(
    tree: &sled::Tree,
    range: &ListRange,
    request: &PageRequest,
    mut select: impl FnMut(T) -> Option<U>,
) -> ProjectionResult<Page<U>> {
    let after = match request.after.as_deref() {
        // A cursor is an item's whole suffix: any other length was not handed out here.
        Some(cursor) => match decode_cursor(range.list_tag, cursor)? {
            suffix if suffix.len() == T::SUFFIX_BYTES => Some(suffix),
            _ => return Err(ProjectionError::InvalidCursor),
        },
        None => None,
    };
    let mut fill = PageFill::new(range.list_tag, request);
    visit_items(tree, range, after.as_deref(), |suffix, item: T| {
        fill.offer(&suffix, || Ok(select(item)))
    })?;
    Ok(fill.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit_journal::TreeUse;
    use crate::paging::encode_cursor;
    use crate::store::commit_rows;
    use serde::Deserialize;

    /// A test item: a day and a number within it, as a ledger entry's key.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    struct Item {
        day: u32,
        number: u64,
    }

    impl PackedItem for Item {
        const SUFFIX_BYTES: usize = 12;
        const COUNTER_BYTES: usize = 8;

        fn suffix(&self) -> Vec<u8> {
            [&self.day.to_be_bytes()[..], &self.number.to_be_bytes()].concat()
        }
    }

    const PREFIX: &[u8] = b"\x42list";

    fn tree() -> sled::Tree {
        let db = sled::Config::new().temporary(true).open().expect("db");
        db.open_tree("t").expect("tree")
    }

    /// Adds `items`, committing after each `commit_every` of them.
    fn store(tree: &sled::Tree, items: &[Item], commit_every: usize) {
        let mut rows = RowCache::new(1_000);
        for chunk in items.chunks(commit_every) {
            for item in chunk {
                add(tree, &mut rows, PREFIX, item.clone()).expect("add");
            }
            commit_rows(tree, &mut rows, &[], TreeUse::Current).expect("commit");
        }
    }

    fn items() -> Vec<Item> {
        (1..=3)
            .flat_map(|day| {
                (0..70).map(move |n| Item {
                    day,
                    number: day as u64 * 1_000 + n,
                })
            })
            .collect()
    }

    fn range(lower: Option<Vec<u8>>, upper: Option<Vec<u8>>) -> ListRange {
        ListRange {
            list_tag: 0x42,
            prefix: PREFIX.to_vec(),
            lower,
            upper,
        }
    }

    fn all_rows(tree: &sled::Tree) -> Vec<(sled::IVec, sled::IVec)> {
        tree.iter().collect::<Result<_, _>>().expect("rows")
    }

    // Proves a row holds the items whose counters differ only below 32, so the rows stored are
    // the same whatever order the items came in and however they were committed.
    #[test]
    fn the_rows_stored_depend_on_the_items_alone() {
        let in_order = tree();
        store(&in_order, &items(), 1_000);
        let mut shuffled_items = items();
        shuffled_items.reverse();
        shuffled_items.swap(3, 150);
        let shuffled = tree();
        store(&shuffled, &shuffled_items, 7);
        assert_eq!(all_rows(&in_order), all_rows(&shuffled));
        // Numbers d000..d069 of each day: rows of d000–d031, d032–d063 and d064–d069 (the
        // day's first number is a multiple of 32 only by chance: 1000 = 31 × 32 + 8).
        let per_row: Vec<usize> = all_rows(&in_order)
            .iter()
            .map(|(key, value)| decode_value::<Vec<Item>>(key, value).expect("row").len())
            .collect();
        assert_eq!(per_row.iter().sum::<usize>(), 210);
        assert!(per_row.iter().all(|n| *n <= 32), "{per_row:?}");
        assert_eq!(per_row.len(), 3 * 3, "{per_row:?}");
    }

    // Proves a commit drops the rows it completed from the cache and keeps the open one, which
    // still reads back whole.
    #[test]
    fn complete_rows_leave_the_cache_once_stored() {
        let tree = tree();
        let mut rows = RowCache::new(1_000);
        let day_items: Vec<Item> = (0..70).map(|number| Item { day: 9, number }).collect();
        for item in &day_items {
            add(&tree, &mut rows, PREFIX, item.clone()).expect("add");
        }
        assert_eq!(rows.len(), 3);
        commit_rows(&tree, &mut rows, &[], TreeUse::Current).expect("commit");
        assert_eq!(rows.len(), 1, "only the row of 64..=69 stays");
        add(&tree, &mut rows, PREFIX, Item { day: 9, number: 70 }).expect("add");
        commit_rows(&tree, &mut rows, &[], TreeUse::Current).expect("commit");
        let mut seen = Vec::new();
        scan(&tree, &range(None, None), |item: Item| {
            seen.push(item.number);
            Ok(())
        })
        .expect("scan");
        assert_eq!(seen, (0..=70).collect::<Vec<_>>());
    }

    // Proves an item added again under its suffix replaces the one stored.
    #[test]
    fn an_item_with_the_same_key_replaces_the_stored_one() {
        let tree = tree();
        store(&tree, &items(), 50);
        store(
            &tree,
            &[Item {
                day: 2,
                number: 2_005,
            }],
            1,
        );
        let mut seen = Vec::new();
        scan(&tree, &range(None, None), |item: Item| {
            seen.push(item);
            Ok(())
        })
        .expect("scan");
        assert_eq!(seen, items());
    }

    // Proves pages of any size walk every item of a range once, in order, across rows, with
    // bounds given as days (a partial suffix) or as whole item suffixes.
    #[test]
    fn pages_walk_a_range_once_in_order() {
        let tree = tree();
        store(&tree, &items(), 64);
        let day = |d: u32| d.to_be_bytes().to_vec();
        let item_key = |d: u32, n: u64| Item { day: d, number: n }.suffix();
        let cases = [
            (None, None),
            (Some(day(2)), Some(day(3))),
            (Some(item_key(1, 1_033)), Some(item_key(3, 3_002))),
            (Some(day(4)), None),
        ];
        for (lower, upper) in cases {
            let range = range(lower, upper);
            let expected: Vec<Item> = items()
                .into_iter()
                .filter(|item| admits(&range, None, &item.suffix()))
                .collect();
            for limit in [1, 5, 32, 33, 500] {
                let mut request = PageRequest::first(limit);
                let mut seen = Vec::new();
                loop {
                    let page =
                        page(&tree, &range, &request, |item: Item| Some(item)).expect("page");
                    assert!(page.items.len() <= limit);
                    seen.extend(page.items);
                    match page.next_cursor {
                        Some(cursor) => request.after = Some(cursor),
                        None => break,
                    }
                }
                assert_eq!(seen, expected, "limit {limit}");
            }
            let first_item: Option<Item> = first(&tree, &range).expect("first");
            assert_eq!(first_item.as_ref(), expected.first());
        }
    }

    // Proves a cursor of another list, or not an item's whole key, is refused.
    #[test]
    fn a_cursor_of_another_list_or_length_is_refused() {
        let tree = tree();
        store(&tree, &items(), 64);
        let request = PageRequest {
            after: Some(encode_cursor(0x43, &Item { day: 1, number: 1 }.suffix())),
            limit: 10,
        };
        let refused = page(&tree, &range(None, None), &request, |item: Item| Some(item));
        assert!(
            matches!(refused, Err(ProjectionError::InvalidCursor)),
            "{refused:?}"
        );
        let truncated = PageRequest {
            after: Some(encode_cursor(0x42, &[0, 0, 0, 1, 0, 0])),
            limit: 10,
        };
        let refused = page(&tree, &range(None, None), &truncated, |item: Item| {
            Some(item)
        });
        assert!(
            matches!(refused, Err(ProjectionError::InvalidCursor)),
            "{refused:?}"
        );
    }

    // Proves the row of a 4-byte counter keeps the bytes before it and divides the counter.
    #[test]
    fn a_row_suffix_divides_the_counter_only() {
        #[derive(Serialize, Deserialize)]
        struct Short(u32);
        impl PackedItem for Short {
            const SUFFIX_BYTES: usize = 6;
            const COUNTER_BYTES: usize = 4;
            fn suffix(&self) -> Vec<u8> {
                [&[7u8, 9][..], &self.0.to_be_bytes()].concat()
            }
        }
        assert_eq!(
            row_suffix::<Short>(&Short(65).suffix()),
            vec![7, 9, 0, 0, 0, 2]
        );
        assert_eq!(
            row_suffix::<Short>(&Short(31).suffix()),
            vec![7, 9, 0, 0, 0, 0]
        );
        assert_eq!(row_bound::<Short>(&[7, 9]), vec![7, 9]);
    }
}
