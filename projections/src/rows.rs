//! A bounded cache of rows that outlives one commit.
//!
//! Applying an event reads a few rows (an order, the ledger's shop, an entry counter, a day of
//! usage) and writes some back. Without a cache every read is a sled lookup, and the rows shared
//! by consecutive commits (an order whose events span two chunks, the day's usage, the ledger's
//! shop and counter, the month's balances) are read from the tree again by each commit. The cache
//! keeps every row a commit read or wrote: most as their stored JSON (what `WriteSet::put` takes
//! is any `Serialize`, so its bytes are what it can keep), and the hottest ones decoded (orders,
//! balances), which a commit then encodes once however many events changed them. Dirty rows are
//! written by the commit, in the same commit as the checkpoint (`commit_journal`), so the stored
//! bytes and the crash guarantees are exactly those of writing each change directly.
//!
//! The cache mirrors committed state plus the writes of the commit being built. A write set that
//! is dropped without committing (an error stopped it) leaves rows that were never stored, so it
//! empties the cache. Only the one writer of a tree (the runner, or a rebuild) holds a cache over
//! it.

use crate::commit_journal::Write;
use crate::error::ProjectionResult;
use crate::row_bytes;
use crate::store::{decode_value, json_of};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::Any;
use std::collections::{HashMap, HashSet};

/// The cache's hasher: aHash, several times cheaper than the default SipHash on our 30–70 byte
/// keys (every event hashes a few of them), and still keyed at random per process, since keys
/// carry client-chosen text (emails, numbers) that must not be able to force collisions.
type KeyHasher = ahash::RandomState;

/// A cached row with its type erased: `json` gives its JSON (what the commit compresses and
/// stores under its key, see `row_bytes`) and `extra_rows` the rows derived from it that are
/// stored with it (an order's list row), already in their stored form.
pub(crate) trait CachedRow: Send {
    fn json(&self, key: &[u8]) -> ProjectionResult<Vec<u8>>;
    /// The JSON when the row is kept encoded (no copy, no encode).
    fn bytes(&self) -> Option<&[u8]> {
        None
    }
    fn extra_rows(&self) -> ProjectionResult<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(Vec::new())
    }
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    /// True for the mark of a missing or deleted row: the tree must not be asked for it.
    fn is_absent(&self) -> bool {
        false
    }
    /// True for a row no later event changes (a packed row holding all the items it can): the
    /// commit that stores it drops it from the cache, whose bound counts rows, not bytes.
    fn is_complete(&self) -> bool {
        false
    }
}

/// No row under the key: deleted by the commit being built (dirty), or known to be missing from
/// the tree (clean), so that a row many events look for and few create (a customer's alias, a
/// shop's loyalty rule) costs one tree lookup per cache lifetime, not one per event.
struct Absent;

impl CachedRow for Absent {
    fn json(&self, _key: &[u8]) -> ProjectionResult<Vec<u8>> {
        Ok(Vec::new())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn is_absent(&self) -> bool {
        true
    }
}

/// A row kept as its JSON: what `WriteSet::put` writes with any `Serialize` type. Kept plain,
/// not as stored: a hot row is read far more often than it is stored.
struct Encoded(Vec<u8>);

impl CachedRow for Encoded {
    fn json(&self, _key: &[u8]) -> ProjectionResult<Vec<u8>> {
        Ok(self.0.clone())
    }
    fn bytes(&self) -> Option<&[u8]> {
        Some(&self.0)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// A row kept decoded, stored as its own JSON.
pub(crate) struct Typed<T>(pub T);

impl<T: Serialize + Send + 'static> CachedRow for Typed<T> {
    fn json(&self, key: &[u8]) -> ProjectionResult<Vec<u8>> {
        json_of(key, &self.0)
    }
    fn as_any(&self) -> &dyn Any {
        &self.0
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        Box::new(self.0)
    }
}

struct Slot {
    row: Box<dyn CachedRow>,
    /// Changed since the last commit: the next commit encodes and stores it.
    dirty: bool,
    /// The commit (`RowCache::commits`) that last read or wrote it.
    touched: u64,
}

/// Decoded rows by key; see the module doc.
pub(crate) struct RowCache {
    rows: HashMap<Vec<u8>, Slot, KeyHasher>,
    /// The keys of the dirty rows: a commit visits these, not the whole cache, so its cost
    /// follows what it wrote rather than what the cache holds.
    dirty: HashSet<Vec<u8>, KeyHasher>,
    /// Commits so far; stamps the rows each one touches.
    commits: u64,
    /// Rows kept past a commit; beyond it, only the rows the last commit touched stay.
    rows_max: usize,
    /// The raw bookkeeping rows (checkpoint, format mark) as this cache's commits last stored
    /// them: a commit skips one it would store unchanged, so the format mark is written once per
    /// writer, not by each of the live runner's small commits (where it was one row in five).
    bookkeeping: Vec<(Vec<u8>, Vec<u8>)>,
}

impl RowCache {
    pub fn new(rows_max: usize) -> Self {
        RowCache {
            rows: HashMap::default(),
            dirty: HashSet::default(),
            commits: 0,
            rows_max,
            bookkeeping: Vec::new(),
        }
    }

    /// The row under `key` decoded as `T` if the cache knows it: `None` when the cache does not
    /// hold it (ask the tree), `Some(None)` when it is deleted or known to be missing.
    pub fn get<T: DeserializeOwned>(&mut self, key: &[u8]) -> ProjectionResult<Option<Option<T>>> {
        let commits = self.commits;
        let Some(slot) = self.rows.get_mut(key) else {
            return Ok(None);
        };
        slot.touched = commits;
        if slot.row.is_absent() {
            return Ok(Some(None));
        }
        match slot.row.bytes() {
            Some(bytes) => Ok(Some(Some(decode_value(key, bytes)?))),
            None => Ok(Some(Some(decode_value(key, &slot.row.json(key)?)?))),
        }
    }

    /// Records the deletion of the row under `key`, done by the next commit.
    pub fn remove(&mut self, key: Vec<u8>) {
        self.insert(key, Box::new(Absent), true);
    }

    /// Remembers that the tree has no row under `key` (clean: nothing to store).
    pub fn insert_absent(&mut self, key: Vec<u8>) {
        self.insert(key, Box::new(Absent), false);
    }

    /// Takes the row under `key` out of the cache when it is kept decoded as a `T` (no copy, no
    /// decode); the caller puts it back. `None` when it is absent or kept otherwise (then it
    /// stays).
    pub fn take<T: 'static>(&mut self, key: &[u8]) -> Option<T> {
        if !self.rows.get(key)?.row.as_any().is::<T>() {
            return None;
        }
        let slot = self.rows.remove(key)?;
        slot.row.into_any().downcast::<T>().ok().map(|row| *row)
    }

    /// Keeps the JSON of a row read from the tree (clean: the tree already holds it).
    pub fn insert_clean(&mut self, key: Vec<u8>, json: Vec<u8>) {
        self.insert(key, Box::new(Encoded(json)), false);
    }

    /// Records a write of the JSON `json` under `key`, stored by the next commit.
    pub fn put_json(&mut self, key: Vec<u8>, json: Vec<u8>) {
        self.insert(key, Box::new(Encoded(json)), true);
    }

    /// Records `row` under `key`, dirty or not, as a type-erased row with its own encoding.
    /// The row under `key` when it is kept decoded as a `T`.
    pub fn peek<T: 'static>(&self, key: &[u8]) -> Option<&T> {
        self.rows.get(key)?.row.as_any().downcast_ref::<T>()
    }

    /// Keeps `row` decoded in place of what is cached under `key`, which it must equal: the
    /// slot stays dirty or clean as it was.
    pub fn keep_decoded<T: Serialize + Send + 'static>(&mut self, key: Vec<u8>, row: T) {
        let dirty = self.rows.get(&key).is_some_and(|slot| slot.dirty);
        self.insert(key, Box::new(Typed(row)), dirty);
    }

    pub fn insert(&mut self, key: Vec<u8>, row: Box<dyn CachedRow>, dirty: bool) {
        let touched = self.commits;
        if dirty && !self.dirty.contains(&key) {
            self.dirty.insert(key.clone());
        }
        self.rows.insert(
            key,
            Slot {
                row,
                dirty,
                touched,
            },
        );
    }

    /// Encodes every dirty row (and the rows derived from it) as the writes of a commit, in key
    /// order (a commit's writes are then stored as sled is quickest to take them, and in the
    /// same order whatever the hash set's). A dirty row marked absent is removed from the tree; a
    /// dirty row taken out and not put back (its applier failed) is not in the cache: nothing to
    /// store.
    pub fn dirty_writes(&self) -> ProjectionResult<Vec<Write>> {
        let mut writes = Vec::with_capacity(self.dirty.len());
        for key in &self.dirty {
            let Some(slot) = self.rows.get(key).filter(|slot| slot.dirty) else {
                continue;
            };
            if slot.row.is_absent() {
                writes.push((key.clone(), None));
                continue;
            }
            // A row kept as its JSON is compressed from the cache's own bytes, not a copy.
            let stored = match slot.row.bytes() {
                Some(json) => row_bytes::stored(key, json)?.into_owned(),
                None => row_bytes::stored(key, &slot.row.json(key)?)?.into_owned(),
            };
            writes.push((key.clone(), Some(stored)));
            for (extra_key, bytes) in slot.row.extra_rows()? {
                writes.push((extra_key, Some(bytes)));
            }
        }
        writes.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        Ok(writes)
    }

    /// After the writes of `dirty_writes` are stored: every row is clean, and the cache is trimmed
    /// to its bound, keeping the rows this commit touched (the likeliest to be touched again).
    pub fn committed(&mut self) {
        let commits = self.commits;
        for key in self.dirty.drain() {
            let Some(slot) = self.rows.get_mut(&key) else {
                continue;
            };
            if slot.row.is_complete() {
                self.rows.remove(&key);
                continue;
            }
            // A removed row stays known as absent: the tree now lacks it too.
            slot.dirty = false;
        }
        if self.rows.len() > self.rows_max {
            self.rows.retain(|_, slot| slot.touched == commits);
        }
        if self.rows.len() > self.rows_max {
            self.rows.clear();
        }
        self.commits += 1;
    }

    /// True when a commit through this cache already stored `value` under the bookkeeping key
    /// `key`, so the tree holds it.
    pub fn bookkeeping_stored(&self, key: &[u8], value: &[u8]) -> bool {
        self.bookkeeping
            .iter()
            .any(|(stored_key, stored)| stored_key == key && stored == value)
    }

    /// After a commit stored the bookkeeping rows `stored`.
    pub fn bookkeeping_committed(&mut self, stored: &[(&[u8], &[u8])]) {
        self.bookkeeping = stored
            .iter()
            .map(|(key, value)| (key.to_vec(), value.to_vec()))
            .collect();
    }

    /// Forgets everything, dirty rows included (their commit did not happen).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.dirty.clear();
        self.bookkeeping.clear();
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.rows.len()
    }
}
