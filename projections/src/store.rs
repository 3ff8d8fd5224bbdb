//! Reading and writing the state tree: JSON values, the write set that batches one commit (over
//! the row cache of `rows.rs`), and the paged range scan behind every list.

use crate::commit_journal::{self, TreeUse};
use crate::error::{ProjectionError, ProjectionResult};
use crate::keys::{display_key, prefix_end, CHECKPOINT_KEY, FORMAT_KEY, READ_MODELS_FORMAT};
use crate::keys::{instant_id_suffix, key, Table};
use crate::limits::PAGE_SCAN_ROWS_MAX;
use crate::loyalty::LoyaltyOrder;
use crate::packed::{self, PackedItem};
use crate::paging::{decode_cursor, encode_cursor, Page, PageRequest};
use crate::row_bytes;
use crate::rows::{CachedRow, RowCache, Typed};
use crate::views::{ApiKeyView, OrderSummary, OrderView};
use comptoir_eventlog::Position;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Bound;

/// The stored bytes of a row: its JSON, compressed by `row_bytes`.
pub(crate) fn encode_value<T: Serialize>(key: &[u8], value: &T) -> ProjectionResult<Vec<u8>> {
    let json = json_of(key, value)?;
    Ok(match row_bytes::stored(key, &json)? {
        Cow::Owned(compressed) => compressed,
        Cow::Borrowed(_) => json,
    })
}

/// The JSON of a row (what a reader decodes, before `row_bytes` stores it).
pub(crate) fn json_of<T: Serialize>(key: &[u8], value: &T) -> ProjectionResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|error| ProjectionError::Corrupt {
        key: display_key(key),
        reason: format!("cannot encode: {error}"),
    })
}

pub(crate) fn decode_value<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> ProjectionResult<T> {
    let json = row_bytes::logical(key, bytes)?;
    serde_json::from_slice(&json).map_err(|error| ProjectionError::Corrupt {
        key: display_key(key),
        reason: error.to_string(),
    })
}

pub(crate) fn get<T: DeserializeOwned>(
    tree: &sled::Tree,
    key: &[u8],
) -> ProjectionResult<Option<T>> {
    match tree.get(key)? {
        Some(bytes) => Ok(Some(decode_value(key, &bytes)?)),
        None => Ok(None),
    }
}

/// Every value under `prefix`, in key order. Only for tables the domain bounds per shop (the
/// catalog, API keys), where a full list is what callers want.
pub(crate) fn list_prefix<T: DeserializeOwned>(
    tree: &sled::Tree,
    prefix: &[u8],
) -> ProjectionResult<Vec<T>> {
    tree.scan_prefix(prefix)
        .map(|entry| {
            let (key, value) = entry?;
            decode_value(&key, &value)
        })
        .collect()
}

/// The checkpoint stored in the tree; 0 when nothing was applied yet.
pub(crate) fn load_checkpoint(tree: &sled::Tree) -> ProjectionResult<Position> {
    match tree.get(CHECKPOINT_KEY)? {
        Some(bytes) => {
            let array: [u8; 8] =
                bytes
                    .as_ref()
                    .try_into()
                    .map_err(|_| ProjectionError::Corrupt {
                        key: display_key(CHECKPOINT_KEY),
                        reason: "the checkpoint is not 8 bytes".into(),
                    })?;
            Ok(Position::from_be_bytes(array))
        }
        None => Ok(0),
    }
}

/// A change to the in-memory API key table, applied once its batch has committed.
#[derive(Debug, Clone)]
pub(crate) struct ApiKeyChange {
    pub hash: [u8; 32],
    pub view: ApiKeyView,
}

/// The writes of one commit, read back by later events of the same commit, so that applying
/// events in one batch or one by one gives the same state.
///
/// Rows live in a `RowCache` that outlives the commit: a write marks its row dirty, the commit
/// stores each dirty row once in the batch that stores the checkpoint, and later chunks read the
/// rows they share (an order whose events span two chunks, a day of usage, a credit note)
/// without a sled lookup. Orders, the hottest rows (several events each), stay decoded; the
/// commit encodes each changed order once together with its list row.
pub(crate) struct WriteSet<'a> {
    tree: &'a sled::Tree,
    rows: RefCell<&'a mut RowCache>,
    committed: bool,
    pub api_key_changes: Vec<ApiKeyChange>,
}

impl<'a> WriteSet<'a> {
    /// A write set over `tree`, whose decoded rows `rows` holds (it must only ever have cached
    /// this tree's rows).
    pub fn new(tree: &'a sled::Tree, rows: &'a mut RowCache) -> Self {
        WriteSet {
            tree,
            rows: RefCell::new(rows),
            committed: false,
            api_key_changes: Vec::new(),
        }
    }

    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> ProjectionResult<Option<T>> {
        cached_get(self.tree, &mut self.rows.borrow_mut(), key)
    }

    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> ProjectionResult<()> {
        let json = json_of(&key, value)?;
        self.rows.get_mut().put_json(key, json);
        Ok(())
    }

    /// Deletes the row under `key` at the commit (a row whose key changed, e.g. a customer's
    /// email).
    pub fn remove(&mut self, key: Vec<u8>) {
        self.rows.get_mut().remove(key);
    }

    /// The order stored under `key` (an `Order` table key), as changed so far; the caller puts
    /// it back with `put_order`.
    pub fn take_order(&mut self, key: &[u8]) -> ProjectionResult<Option<StoredOrder>> {
        let rows = self.rows.get_mut();
        if let Some(order) = rows.take::<StoredOrder>(key) {
            return Ok(Some(order));
        }
        // Read as the view (what every query decodes), then its loyalty member alone.
        let Some(view) = cached_get::<OrderView>(self.tree, rows, key)? else {
            return Ok(None);
        };
        let loyalty = cached_get::<LoyaltyMember>(self.tree, rows, key)?.and_then(|m| m.loyalty);
        Ok(Some(StoredOrder { view, loyalty }))
    }

    /// The row under `key` as changed so far, taken out of the cache without a copy or a decode
    /// when it is kept decoded; the caller puts it back with `put_decoded`. For rows that many
    /// events of a commit change (decoding their JSON for each would cost more than the change).
    pub fn take_decoded<T: DeserializeOwned + 'static>(
        &mut self,
        key: &[u8],
    ) -> ProjectionResult<Option<T>> {
        take_cached(self.tree, self.rows.get_mut(), key)
    }

    /// Adds `item` to the packed list under `prefix` (`crate::packed`).
    pub fn add_packed<T: PackedItem>(&mut self, prefix: &[u8], item: T) -> ProjectionResult<()> {
        packed::add(self.tree, self.rows.get_mut(), prefix, item)
    }

    /// Keeps `row` decoded for the commit, which stores it as its JSON.
    pub fn put_decoded<T: Serialize + Send + 'static>(&mut self, key: Vec<u8>, row: T) {
        self.rows.get_mut().insert(key, Box::new(Typed(row)), true);
    }

    /// Changes the row under `key` (made by `absent` when there is none) and keeps it decoded for
    /// the commit: for rows that many events of a chunk change, such as a day's totals.
    pub fn update_decoded<T: DeserializeOwned + Serialize + Send + 'static>(
        &mut self,
        key: Vec<u8>,
        absent: impl FnOnce() -> T,
        change: impl FnOnce(&mut T),
    ) -> ProjectionResult<()> {
        let mut row = self.take_decoded::<T>(&key)?.unwrap_or_else(absent);
        change(&mut row);
        self.put_decoded(key, row);
        Ok(())
    }

    /// Reads the row under `key` through `read`, and keeps it decoded, unchanged, so that the
    /// next read decodes nothing: for rows many events read and few change (the shop's).
    pub fn read_decoded<T: DeserializeOwned + Serialize + Send + 'static, R>(
        &self,
        key: &[u8],
        read: impl FnOnce(Option<&T>) -> R,
    ) -> ProjectionResult<R> {
        let mut rows = self.rows.borrow_mut();
        if rows.peek::<T>(key).is_none() {
            let Some(row) = cached_get::<T>(self.tree, &mut rows, key)? else {
                return Ok(read(None));
            };
            rows.keep_decoded(key.to_vec(), row);
        }
        Ok(read(rows.peek::<T>(key)))
    }

    /// Keeps `order` for the commit, which stores it and its list row.
    pub fn put_order(&mut self, key: Vec<u8>, order: StoredOrder) {
        self.rows
            .get_mut()
            .insert(key, Box::new(OrderRow(order)), true);
    }

    /// Writes every change and the new checkpoint as one commit (`commit_journal`): after a
    /// crash a tree in use holds all of it or none of it, so no event is applied twice or
    /// skipped (a fresh tree is dropped instead, see `TreeUse`).
    pub fn commit(
        mut self,
        checkpoint: Position,
        tree_use: TreeUse,
    ) -> ProjectionResult<Vec<ApiKeyChange>> {
        // The format goes with every commit, so any tree holding state says which it is in.
        let bookkeeping: [(&[u8], &[u8]); 2] = [
            (CHECKPOINT_KEY, &checkpoint.to_be_bytes()),
            (FORMAT_KEY, &READ_MODELS_FORMAT.to_be_bytes()),
        ];
        commit_rows(self.tree, self.rows.get_mut(), &bookkeeping, tree_use)?;
        self.committed = true;
        Ok(std::mem::take(&mut self.api_key_changes))
    }
}

impl Drop for WriteSet<'_> {
    /// Rows written by a commit that did not happen must not be read as stored.
    fn drop(&mut self) {
        if !self.committed {
            self.rows.get_mut().clear();
        }
    }
}

/// True when `tree` holds read models in another stored format than this code's.
pub(crate) fn read_models_format_is_stale(tree: &sled::Tree) -> ProjectionResult<bool> {
    if load_checkpoint(tree)? == 0 {
        return Ok(false);
    }
    let stored = tree.get(FORMAT_KEY)?;
    Ok(stored.as_deref() != Some(&READ_MODELS_FORMAT.to_be_bytes()[..]))
}

/// The row under `key` taken out of the cache when it is kept decoded as a `T`, else read (from
/// the cache's JSON or the tree); the caller puts it back dirty.
pub(crate) fn take_cached<T: DeserializeOwned + 'static>(
    tree: &sled::Tree,
    rows: &mut RowCache,
    key: &[u8],
) -> ProjectionResult<Option<T>> {
    match rows.take::<T>(key) {
        Some(row) => Ok(Some(row)),
        None => cached_get(tree, rows, key),
    }
}

/// The row under `key`: from the cache, else from the tree (then cached, clean).
pub(crate) fn cached_get<T: DeserializeOwned>(
    tree: &sled::Tree,
    rows: &mut RowCache,
    key: &[u8],
) -> ProjectionResult<Option<T>> {
    if let Some(known) = rows.get::<T>(key)? {
        return Ok(known);
    }
    let Some(stored) = tree.get(key)? else {
        rows.insert_absent(key.to_vec());
        return Ok(None);
    };
    let json = row_bytes::logical(key, &stored)?.into_owned();
    let row = decode_value(key, &json)?;
    rows.insert_clean(key.to_vec(), json);
    Ok(Some(row))
}

/// Stores the dirty rows of `rows` and then the raw `bookkeeping` rows (checkpoint, format) as
/// one commit (`commit_journal`: atomic across a crash for a tree in use); a bookkeeping row
/// this cache already stored with the same value is left out.
pub(crate) fn commit_rows(
    tree: &sled::Tree,
    rows: &mut RowCache,
    bookkeeping: &[(&[u8], &[u8])],
    tree_use: TreeUse,
) -> ProjectionResult<()> {
    let mut writes = rows.dirty_writes()?;
    for (key, value) in bookkeeping {
        if !rows.bookkeeping_stored(key, value) {
            writes.push((key.to_vec(), Some(value.to_vec())));
        }
    }
    commit_journal::commit(tree, &writes, tree_use)?;
    rows.committed();
    rows.bookkeeping_committed(bookkeeping);
    Ok(())
}

/// An order as stored: its view, and what it earned on the loyalty card once invoiced. The
/// loyalty part lives in the order's row rather than a row of its own because the invoice and
/// every credit note that change it rewrite the order anyway: one row fewer per paid order.
/// Queries decode the row as an `OrderView`, which ignores the extra member, so they answer
/// the same JSON.
#[derive(Debug, Clone)]
pub(crate) struct StoredOrder {
    pub view: OrderView,
    pub loyalty: Option<LoyaltyOrder>,
}

/// The loyalty member of a stored order, decoded without the rest of it.
#[derive(Deserialize)]
struct LoyaltyMember {
    #[serde(default)]
    loyalty: Option<LoyaltyOrder>,
}

/// An order as cached: stored as its view (plus its loyalty member), with its summary row in
/// the placing-date list.
struct OrderRow(StoredOrder);

impl CachedRow for OrderRow {
    fn json(&self, key: &[u8]) -> ProjectionResult<Vec<u8>> {
        let mut json = json_of(key, &self.0.view)?;
        if let Some(loyalty) = &self.0.loyalty {
            // The view is a JSON object with members: `loyalty` joins it as its last member.
            debug_assert_eq!(json.last(), Some(&b'}'));
            json.pop();
            json.extend_from_slice(br#","loyalty":"#);
            json.extend_from_slice(&json_of(key, loyalty)?);
            json.push(b'}');
        }
        Ok(json)
    }

    fn extra_rows(&self) -> ProjectionResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let view = &self.0.view;
        let suffix = instant_id_suffix(view.placed_at, view.order_id);
        let row_key = key(Table::OrderPlaced, view.shop_id, &suffix);
        let row = encode_value(&row_key, &OrderSummary::of(view))?;
        Ok(vec![(row_key, row)])
    }

    fn as_any(&self) -> &dyn Any {
        &self.0
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        Box::new(self.0)
    }
}

/// The start and end of a key range.
type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// One key-ordered list: the rows under `prefix` whose suffix lies in `[lower, upper)`.
pub(crate) struct ListRange {
    /// The table tag, also the cursor's tag.
    pub list_tag: u8,
    pub prefix: Vec<u8>,
    pub lower: Option<Vec<u8>>,
    pub upper: Option<Vec<u8>>,
}

impl ListRange {
    fn bounds(&self, after: Option<&str>) -> ProjectionResult<KeyBounds> {
        let with_prefix = |suffix: &[u8]| [self.prefix.as_slice(), suffix].concat();
        let lower = with_prefix(self.lower.as_deref().unwrap_or_default());
        let start = match after {
            Some(cursor) => {
                let from_cursor = with_prefix(&decode_cursor(self.list_tag, cursor)?);
                if from_cursor < lower {
                    Bound::Included(lower)
                } else {
                    Bound::Excluded(from_cursor)
                }
            }
            None => Bound::Included(lower),
        };
        Ok((start, self.end()))
    }

    /// Where the list's keys end: before `upper`, else past every key under the prefix.
    pub(crate) fn end(&self) -> Bound<Vec<u8>> {
        match &self.upper {
            Some(upper) => Bound::Excluded([self.prefix.as_slice(), upper].concat()),
            None => prefix_end(&self.prefix).map_or(Bound::Unbounded, Bound::Excluded),
        }
    }
}

/// True when the range holds no key (sled must not be asked for a reversed range).
pub(crate) fn is_empty_range(start: &Bound<Vec<u8>>, end: &Bound<Vec<u8>>) -> bool {
    match (start, end) {
        (Bound::Included(start), Bound::Included(end)) => start > end,
        (Bound::Included(start), Bound::Excluded(end)) => start >= end,
        (Bound::Excluded(start), Bound::Excluded(end)) => start >= end,
        _ => false,
    }
}

/// A page being filled from a list read in order: items are kept when a `select` maps their
/// entry to one; at most `limit` are kept and `PAGE_SCAN_ROWS_MAX` entries examined, and the
/// entry offered past that gives the page a cursor to the last examined one (its key suffix).
pub(crate) struct PageFill<U> {
    list_tag: u8,
    limit: usize,
    scanned: usize,
    last: Option<Vec<u8>>,
    items: Vec<U>,
    next_cursor: Option<String>,
}

impl<U> PageFill<U> {
    pub fn new(list_tag: u8, request: &PageRequest) -> Self {
        PageFill {
            list_tag,
            limit: request.effective_limit(),
            scanned: 0,
            last: None,
            items: Vec::new(),
            next_cursor: None,
        }
    }

    /// Offers the next entry, under key suffix `suffix`; `item` decodes and selects it (only
    /// while the page has room). `false` once the page is full: stop reading.
    pub fn offer(
        &mut self,
        suffix: &[u8],
        item: impl FnOnce() -> ProjectionResult<Option<U>>,
    ) -> ProjectionResult<bool> {
        if self.items.len() == self.limit || self.scanned == PAGE_SCAN_ROWS_MAX {
            // An entry remains past this page: hand out a cursor to it.
            let at = self.last.as_deref().unwrap_or_default();
            self.next_cursor = Some(encode_cursor(self.list_tag, at));
            return Ok(false);
        }
        self.scanned += 1;
        if let Some(kept) = item()? {
            self.items.push(kept);
        }
        self.last = Some(suffix.to_vec());
        Ok(true)
    }

    pub fn finish(self) -> Page<U> {
        Page {
            items: self.items,
            next_cursor: self.next_cursor,
        }
    }
}

/// One page of `range`: rows are decoded as `T` and kept when `select` maps them to an item.
/// At most `PAGE_SCAN_ROWS_MAX` rows are examined; the cursor then points at the last one.
pub(crate) fn page<T: DeserializeOwned, U>(
    tree: &sled::Tree,
    range: &ListRange,
    request: &PageRequest,
    mut select: impl FnMut(T) -> Option<U>,
) -> ProjectionResult<Page<U>> {
    let (start, end) = range.bounds(request.after.as_deref())?;
    let mut fill = PageFill::new(range.list_tag, request);
    if is_empty_range(&start, &end) {
        return Ok(fill.finish());
    }
    for entry in tree.range((start, end)) {
        let (key, value) = entry?;
        let decoded = || Ok(select(decode_value(&key, &value)?));
        if !fill.offer(&key[range.prefix.len()..], decoded)? {
            break;
        }
    }
    Ok(fill.finish())
}
