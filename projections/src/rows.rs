//! A bounded cache of rows that outlives one commit.
//!
//! Applying an event reads a few rows (an order, the ledger's shop, an entry counter, a day of
//! usage) and writes some back. Without a cache every read is a sled lookup, and the rows shared
//! by consecutive commits (an order whose events span two chunks, the day's usage, the ledger's
//! shop and counter, the month's balances) are read from the tree again by each commit. The cache
//! keeps every row a commit read or wrote: most as their stored JSON (what `WriteSet::put` takes
//! is any `Serialize`, so its bytes are what it can keep), and the hottest ones decoded (orders,
//! balances), which a commit then encodes once however many events changed them. Dirty rows are
//! written by the commit, in the same sled batch as the checkpoint, so the stored bytes and the
//! crash guarantees are exactly those of writing each change directly.
//!
//! The cache mirrors committed state plus the writes of the commit being built. A write set that
//! is dropped without committing (an error stopped it) leaves rows that were never stored, so it
//! empties the cache. Only the one writer of a tree (the runner, or a rebuild) holds a cache over
//! it.

use crate::commit_thread::CommitThread;
use crate::error::ProjectionResult;
use crate::row_bytes;
use crate::store::{decode_value, json_of};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::Any;
use std::borrow::Cow;
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

/// A dirty row as `RowCache::visit_dirty` hands it over.
enum DirtyRow<'a> {
    Removed(&'a [u8]),
    /// The row's JSON, compressed when stored (`row_bytes`).
    Json(&'a [u8], Cow<'a, [u8]>),
    /// A derived row, already in its stored form.
    Stored(Vec<u8>, Vec<u8>),
}

impl DirtyRow<'_> {
    fn store_into(self, batch: &mut sled::Batch) -> ProjectionResult<()> {
        match self {
            DirtyRow::Removed(key) => batch.remove(key),
            DirtyRow::Json(key, json) => {
                batch.insert(key, row_bytes::stored(key, &json)?.as_ref());
            }
            DirtyRow::Stored(key, bytes) => batch.insert(key, bytes),
        }
        Ok(())
    }

    fn into_owned(self) -> PendingRow {
        match self {
            DirtyRow::Removed(key) => PendingRow::Removed(key.to_vec()),
            DirtyRow::Json(key, json) => PendingRow::Json(key.to_vec(), json.into_owned()),
            DirtyRow::Stored(key, bytes) => PendingRow::Stored(key, bytes),
        }
    }
}

/// A dirty row handed to another thread to store (`commits::CommitPipe`): it is compressed
/// there.
pub(crate) enum PendingRow {
    Removed(Vec<u8>),
    Json(Vec<u8>, Vec<u8>),
    Stored(Vec<u8>, Vec<u8>),
}

impl PendingRow {
    pub fn store_into(self, batch: &mut sled::Batch) -> ProjectionResult<()> {
        match self {
            PendingRow::Removed(key) => batch.remove(key),
            PendingRow::Json(key, json) => {
                let stored = row_bytes::stored(&key, &json)?.into_owned();
                batch.insert(key, stored);
            }
            PendingRow::Stored(key, bytes) => batch.insert(key, bytes),
        }
        Ok(())
    }
}

/// Decoded rows by key; see the module doc.
pub(crate) struct RowCache {
    rows: HashMap<Vec<u8>, Slot, KeyHasher>,
    /// The keys of the dirty rows: a commit visits these, not the whole cache, so its cost
    /// follows what it wrote rather than what the cache holds.
    dirty: HashSet<Vec<u8>, KeyHasher>,
    /// Commits so far; stamps the rows each one touches.
    commits: u64,
    /// Rows stored complete (`CachedRow::is_complete`), dropped at the next `evict`.
    complete: Vec<Vec<u8>>,
    /// The thread storing this cache's commits, for a replay (`commit_thread`); `None`: each
    /// commit is stored before it returns.
    commit_thread: Option<CommitThread>,
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
            complete: Vec::new(),
            commit_thread: None,
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

    /// Hands every dirty row (and the rows derived from it) to `write`. The keys are distinct,
    /// so the hash set's order does not change what a batch of them stores. A dirty row taken
    /// out and not put back (its applier failed) is not in the cache: nothing to store.
    fn visit_dirty(
        &self,
        mut write: impl FnMut(DirtyRow<'_>) -> ProjectionResult<()>,
    ) -> ProjectionResult<()> {
        for key in &self.dirty {
            let Some(slot) = self.rows.get(key).filter(|slot| slot.dirty) else {
                continue;
            };
            if slot.row.is_absent() {
                write(DirtyRow::Removed(key))?;
                continue;
            }
            // A row kept as its JSON is handed over as the cache's own bytes, not a copy.
            match slot.row.bytes() {
                Some(json) => write(DirtyRow::Json(key, Cow::Borrowed(json)))?,
                None => write(DirtyRow::Json(key, Cow::Owned(slot.row.json(key)?)))?,
            }
            for (extra_key, bytes) in slot.row.extra_rows()? {
                write(DirtyRow::Stored(extra_key, bytes))?;
            }
        }
        Ok(())
    }

    /// Encodes every dirty row into `batch`.
    pub fn write_dirty(&self, batch: &mut sled::Batch) -> ProjectionResult<()> {
        self.visit_dirty(|row| {
            row.store_into(batch)?;
            Ok(())
        })
    }

    /// Every dirty row as an owned `PendingRow`, for a commit stored by another thread.
    pub fn pending_dirty(&self) -> ProjectionResult<Vec<PendingRow>> {
        let mut pending = Vec::with_capacity(self.dirty.len());
        self.visit_dirty(|row| {
            pending.push(row.into_owned());
            Ok(())
        })?;
        Ok(pending)
    }

    /// After the batch of `write_dirty` is stored: every row is clean, and the cache is trimmed
    /// to its bound, keeping the rows this commit touched (the likeliest to be touched again).
    pub fn committed(&mut self) {
        self.mark_clean();
        self.evict();
        self.commits += 1;
    }

    /// After the rows of `pending_dirty` are handed to the thread that stores them: every row
    /// is clean, but nothing leaves the cache until that commit is stored (`evict`, called then):
    /// an evicted row is read from the tree again, which must hold it.
    pub fn handed_over(&mut self) {
        self.mark_clean();
        self.commits += 1;
    }

    fn mark_clean(&mut self) {
        for key in self.dirty.drain() {
            let Some(slot) = self.rows.get_mut(&key) else {
                continue;
            };
            // A removed row stays known as absent: the tree now lacks it too.
            slot.dirty = false;
            if slot.row.is_complete() {
                self.complete.push(key);
            }
        }
    }

    /// Trims the cache to its bound, keeping the rows the commit being built touched (the
    /// likeliest to be touched again), and drops the rows stored complete. Only rows every
    /// commit before the one being built has stored may go.
    pub fn evict(&mut self) {
        let commits = self.commits;
        for key in std::mem::take(&mut self.complete) {
            if self.rows.get(&key).is_some_and(|slot| !slot.dirty) {
                self.rows.remove(&key);
            }
        }
        if self.rows.len() > self.rows_max {
            self.rows
                .retain(|_, slot| slot.dirty || slot.touched == commits);
        }
        if self.rows.len() > self.rows_max {
            self.rows.retain(|_, slot| slot.dirty);
        }
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
        self.complete.clear();
        self.bookkeeping.clear();
    }

    /// A cache whose commits a thread of their own stores (`commit_thread`): for replays into
    /// fresh trees only. `finish_commits` must end it.
    pub fn with_commit_thread(rows_max: usize) -> ProjectionResult<Self> {
        let mut cache = RowCache::new(rows_max);
        cache.commit_thread = Some(CommitThread::start()?);
        Ok(cache)
    }

    /// True when the commit thread stores this cache's commits (`hand_over`).
    pub fn commits_in_background(&self) -> bool {
        self.commit_thread.is_some()
    }

    /// Hands the dirty rows and `bookkeeping` to the commit thread, once the commit before is
    /// stored (then the cache may drop what that one wrote).
    pub fn hand_over(
        &mut self,
        tree: &sled::Tree,
        bookkeeping: &[(&[u8], &[u8])],
    ) -> ProjectionResult<()> {
        let Some(mut thread) = self.commit_thread.take() else {
            return Err(crate::ProjectionError::Corrupt {
                key: String::new(),
                reason: "no commit thread to hand a commit to".into(),
            });
        };
        let outcome = self.hand_over_to(&mut thread, tree, bookkeeping);
        self.commit_thread = Some(thread);
        outcome
    }

    fn hand_over_to(
        &mut self,
        thread: &mut CommitThread,
        tree: &sled::Tree,
        bookkeeping: &[(&[u8], &[u8])],
    ) -> ProjectionResult<()> {
        thread.wait()?;
        self.evict();
        let rows = self.pending_dirty()?;
        let stored_bookkeeping = bookkeeping
            .iter()
            .filter(|(key, value)| !self.bookkeeping_stored(key, value))
            .map(|(key, value)| (key.to_vec(), value.to_vec()))
            .collect();
        thread.hand_over(tree, rows, stored_bookkeeping)?;
        self.handed_over();
        self.bookkeeping_committed(bookkeeping);
        Ok(())
    }

    /// Waits until the commit thread has stored every commit, and ends it.
    pub fn finish_commits(&mut self) -> ProjectionResult<()> {
        match self.commit_thread.take() {
            Some(mut thread) => thread.finish(),
            None => Ok(()),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.rows.len()
    }
}
