//! Reading a whole log in bounded memory, for offline work on a data dir (rebuilds, verify).
//!
//! Why not one scan of the open log: sled 0.34 keeps every page a scan touches. Its LRU has 256
//! shards and a shard only looks at its accesses once 64 of them are queued; a scan touches each
//! leaf once, and a log written before batches were kept small has few, large leaves (up to 16
//! group commits each, stored as blob files, which the cache never evicts), so a full scan held
//! about the log's size in memory whatever `cache_capacity` said (a 683 MB log: about 540 MB).
//! Dropping the database is what frees those pages, so this reader reads in passes: it reopens
//! the log after each `pass_bytes` of batches and resumes after the last batch it read. A reopen
//! costs a few milliseconds. (The open log's own scans nudge the LRU instead, `scan.rs`, which
//! works on logs of small batches only.)

use crate::codec;
use crate::error::LogResult;
use crate::limits::{OFFLINE_CACHE_BYTES, OFFLINE_PASS_BYTES};
use crate::store::{lock_data_dir, open_log_tree, recover_head, DecodedBatches};
use crate::types::Position;
use sled::IVec;
use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};

/// The log of a data dir opened for reading only, by a process that holds no `EventLog` on it.
/// Holds the data dir's lock, so no server appends meanwhile and the head stays the head.
pub struct OfflineLog {
    dir: PathBuf,
    head: Position,
    pass_bytes: u64,
    _lock: File,
}

impl OfflineLog {
    /// Takes the data dir's lock and finds the head, checking the last batch's chain as
    /// `EventLog::open` does.
    pub fn open(dir: impl AsRef<Path>) -> LogResult<Self> {
        Self::open_with_pass_bytes(dir, OFFLINE_PASS_BYTES)
    }

    /// As `open`, reopening the log after every `pass_bytes` of batches read (at least one batch
    /// per pass, whatever its size).
    pub fn open_with_pass_bytes(dir: impl AsRef<Path>, pass_bytes: u64) -> LogResult<Self> {
        let dir = dir.as_ref().to_path_buf();
        let lock = lock_data_dir(&dir)?;
        let (_db, tree) = open_log_tree(&dir, OFFLINE_CACHE_BYTES)?;
        let (head, _) = recover_head(&tree)?;
        Ok(OfflineLog {
            dir,
            head,
            pass_bytes,
            _lock: lock,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    pub fn head_position(&self) -> Position {
        self.head
    }

    /// Every event from `from_position` to the head, decoded batch by batch.
    pub fn iter_all(&self, from_position: Position) -> OfflineEvents {
        let next = from_position.max(1);
        let batches = Batches::new(self.dir.clone(), self.pass_bytes, Start::Holding(next));
        let values: fn(LogResult<(IVec, IVec)>) -> LogResult<IVec> = |item| Ok(item?.1);
        DecodedBatches::new(batches.map(values), next, self.head)
    }
}

/// Where a `Batches` starts: at the batch holding a position, or after a batch's key.
enum Start {
    Holding(Position),
    After(IVec),
}

/// One opening of the log: the iterator goes first so that it is dropped before its database.
struct Pass {
    batches: sled::Iter,
    bytes_read: u64,
    _db: sled::Db,
}

impl Pass {
    fn open(dir: &Path, start: &Start) -> LogResult<Pass> {
        let (db, tree) = open_log_tree(dir, OFFLINE_CACHE_BYTES)?;
        let batches = match start {
            Start::Holding(position) => {
                let key = match tree.range(..=codec::position_key(*position)).next_back() {
                    Some(item) => item?.0,
                    None => codec::position_key(*position).to_vec().into(),
                };
                tree.range(key..)
            }
            Start::After(key) => tree.range((Bound::Excluded(key.clone()), Bound::Unbounded)),
        };
        Ok(Pass {
            batches,
            bytes_read: 0,
            _db: db,
        })
    }
}

/// The log's batches (key, value) in order, one pass of the log at a time.
pub struct Batches {
    dir: PathBuf,
    pass: Option<Pass>,
    pass_bytes: u64,
    start: Start,
}

impl Batches {
    fn new(dir: PathBuf, pass_bytes: u64, start: Start) -> Self {
        Batches {
            dir,
            pass: None,
            pass_bytes,
            start,
        }
    }

    /// Every batch of the log in `dir`, from the first (the caller holds the data dir's lock).
    pub(crate) fn all(dir: &Path) -> Self {
        Self::new(
            dir.to_path_buf(),
            OFFLINE_PASS_BYTES,
            Start::Holding(Position::MIN),
        )
    }

    fn next_batch(&mut self) -> LogResult<Option<(IVec, IVec)>> {
        if self
            .pass
            .as_ref()
            .is_some_and(|pass| pass.bytes_read >= self.pass_bytes)
        {
            // Dropping the database is what frees the pages the pass read.
            self.pass = None;
        }
        let pass = match &mut self.pass {
            Some(pass) => pass,
            None => self.pass.insert(Pass::open(&self.dir, &self.start)?),
        };
        let Some(item) = pass.batches.next() else {
            self.pass = None;
            return Ok(None);
        };
        let (key, value) = item?;
        pass.bytes_read += value.len() as u64;
        self.start = Start::After(key.clone());
        Ok(Some((key, value)))
    }
}

impl Iterator for Batches {
    type Item = LogResult<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

/// Iterator over an `OfflineLog`'s events, decoded one batch at a time.
pub type OfflineEvents = DecodedBatches<BatchValues>;

/// The values of `Batches`.
pub type BatchValues = std::iter::Map<Batches, fn(LogResult<(IVec, IVec)>) -> LogResult<IVec>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{EventLog, LogOptions};
    use crate::types::{AppendRequest, ExpectedVersion, NewEvent};

    fn batch_of(id: u128, count: usize) -> AppendRequest {
        let events = (0..count)
            .map(|n| NewEvent {
                event_id: uuid::Uuid::from_u128(id * 100 + n as u128),
                event_type: "ThingHappened".into(),
                schema_version: 1,
                payload: vec![b'x'; 64],
                metadata: Default::default(),
            })
            .collect();
        AppendRequest::single("s", ExpectedVersion::Any, events)
    }

    // Proves reading in passes, down to one batch per pass, yields every batch once and in
    // order, as one scan of the tree does.
    #[tokio::test]
    async fn passes_yield_the_batches_of_one_scan() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
            for id in 1..=12 {
                log.append(batch_of(id, id as usize % 4 + 1)).await.unwrap();
            }
        }
        let scanned: Vec<(IVec, IVec)> = {
            let (_db, tree) = open_log_tree(dir.path(), OFFLINE_CACHE_BYTES).unwrap();
            tree.iter().map(Result::unwrap).collect()
        };
        assert_eq!(scanned.len(), 12);
        for pass_bytes in [1, 500, u64::MAX] {
            let batches = Batches::new(dir.path().to_path_buf(), pass_bytes, Start::Holding(0));
            let read: Vec<_> = batches.map(Result::unwrap).collect();
            assert_eq!(read, scanned, "passes of {pass_bytes} bytes");
        }
    }
}
