//! Indexes derived from the log: event id → (position, version, digest) and stream → positions.
//!
//! They live in a sled database of their own, written off the acknowledgement path: the writer
//! flushes only the log, and publishes what it committed into a bounded in-memory *tail*; a
//! background indexer moves the tail into the index database in large batches, each batch
//! carrying the highest position it covers (`indexed_up_to`). After a crash the index database
//! holds some prefix of those batches, and `open` re-indexes the log from `indexed_up_to + 1`,
//! so the indexes are exact again before the first append is accepted.
//!
//! Memory: the tail holds at most `INDEX_TAIL_EVENTS_MAX` events (the writer waits beyond that),
//! and the index database's cache is bounded by its sled `cache_capacity`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use uuid::Uuid;

use crate::codec::{self, Hash};
use crate::error::{LogError, LogResult};
use crate::limits::{INDEX_BATCH_EVENTS_MAX, INDEX_TAIL_EVENTS_MAX};
use crate::types::{Position, RecordedEvent, StreamVersion};

const ID_PREFIX: u8 = b'I';
const STREAM_PREFIX: u8 = b'S';
const INDEXED_UP_TO_KEY: &[u8] = b"M:indexed_up_to";
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// What the log remembers of an event id, to answer retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IdEntry {
    pub position: Position,
    pub stream_version: StreamVersion,
    pub digest: Hash,
}

/// One committed event, as the indexes need it.
#[derive(Clone, Debug)]
pub(crate) struct IndexEntry {
    pub event_id: Uuid,
    pub stream: Arc<str>,
    pub id: IdEntry,
}

impl IndexEntry {
    pub fn of_recorded(event: &RecordedEvent) -> Self {
        IndexEntry {
            event_id: event.event_id,
            stream: Arc::from(event.stream.as_str()),
            id: IdEntry {
                position: event.position,
                stream_version: event.stream_version,
                digest: codec::recorded_digest(event),
            },
        }
    }
}

#[derive(Default)]
struct Tail {
    ids: HashMap<Uuid, IdEntry>,
    streams: HashMap<Arc<str>, BTreeMap<StreamVersion, Position>>,
    queue: VecDeque<IndexEntry>,
}

pub(crate) struct Index {
    db: sled::Db,
    tree: sled::Tree,
    tail: Mutex<Tail>,
    tail_has_space: Condvar,
    tail_has_entries: Condvar,
    stopping: AtomicBool,
}

fn stream_key_prefix(stream: &str) -> Vec<u8> {
    let length =
        u16::try_from(stream.len()).expect("stream names are bounded by STREAM_NAME_BYTES_MAX");
    let mut key = Vec::with_capacity(3 + stream.len() + 8);
    key.push(STREAM_PREFIX);
    key.extend_from_slice(&length.to_be_bytes());
    key.extend_from_slice(stream.as_bytes());
    key
}

fn stream_key(stream: &str, version: StreamVersion) -> Vec<u8> {
    let mut key = stream_key_prefix(stream);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

fn id_key(event_id: &Uuid) -> [u8; 17] {
    let mut key = [0u8; 17];
    key[0] = ID_PREFIX;
    key[1..].copy_from_slice(event_id.as_bytes());
    key
}

fn encode_id_entry(entry: &IdEntry) -> [u8; 48] {
    let mut bytes = [0u8; 48];
    bytes[..8].copy_from_slice(&entry.position.to_be_bytes());
    bytes[8..16].copy_from_slice(&entry.stream_version.to_be_bytes());
    bytes[16..].copy_from_slice(&entry.digest);
    bytes
}

fn decode_u64(bytes: &[u8]) -> LogResult<u64> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| LogError::Storage("index value is not 8 bytes".into()))?;
    Ok(u64::from_be_bytes(array))
}

fn decode_id_entry(bytes: &[u8]) -> LogResult<IdEntry> {
    if bytes.len() != 48 {
        return Err(LogError::Storage("id index value is not 48 bytes".into()));
    }
    Ok(IdEntry {
        position: decode_u64(&bytes[..8])?,
        stream_version: decode_u64(&bytes[8..16])?,
        digest: bytes[16..].try_into().expect("32 bytes"),
    })
}

impl Index {
    pub fn open(db: sled::Db) -> LogResult<Self> {
        let tree = db.open_tree("index")?;
        Ok(Index {
            db,
            tree,
            tail: Mutex::new(Tail::default()),
            tail_has_space: Condvar::new(),
            tail_has_entries: Condvar::new(),
            stopping: AtomicBool::new(false),
        })
    }

    fn lock_tail(&self) -> MutexGuard<'_, Tail> {
        // A panic while holding the lock leaves the maps consistent (every mutation is a single
        // insert or remove), so a poisoned lock is still safe to use.
        self.tail
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn indexed_up_to(&self) -> LogResult<Position> {
        match self.tree.get(INDEXED_UP_TO_KEY)? {
            Some(bytes) => decode_u64(&bytes),
            None => Ok(0),
        }
    }

    /// Forgets everything, for when the index claims positions the log does not have.
    pub fn clear(&self) -> LogResult<()> {
        self.tree.clear()?;
        self.db.flush()?;
        Ok(())
    }

    /// Writes entries straight to the index database (used while catching up, before the writer runs).
    pub fn write_batch(&self, entries: &[IndexEntry]) -> LogResult<()> {
        let Some(last) = entries.last() else {
            return Ok(());
        };
        let mut batch = sled::Batch::default();
        for entry in entries {
            batch.insert(
                &id_key(&entry.event_id)[..],
                &encode_id_entry(&entry.id)[..],
            );
            batch.insert(
                stream_key(&entry.stream, entry.id.stream_version),
                &entry.id.position.to_be_bytes()[..],
            );
        }
        batch.insert(INDEXED_UP_TO_KEY, &last.id.position.to_be_bytes()[..]);
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    pub fn flush(&self) -> LogResult<()> {
        self.db.flush()?;
        Ok(())
    }

    pub fn lookup_id(&self, event_id: &Uuid) -> LogResult<Option<IdEntry>> {
        if let Some(entry) = self.lock_tail().ids.get(event_id) {
            return Ok(Some(*entry));
        }
        // The indexer writes an entry to the tree before it leaves the tail, so missing the tail
        // here means the tree already has it.
        match self.tree.get(id_key(event_id))? {
            Some(bytes) => decode_id_entry(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The version of the stream's last event; 0 when the stream does not exist.
    pub fn stream_head(&self, stream: &str) -> LogResult<StreamVersion> {
        let tail_head = self
            .lock_tail()
            .streams
            .get(stream)
            .and_then(|versions| versions.keys().next_back().copied());
        if let Some(version) = tail_head {
            return Ok(version);
        }
        let prefix = stream_key_prefix(stream);
        match self.tree.scan_prefix(&prefix).keys().next_back() {
            Some(key) => decode_u64(&key?[prefix.len()..]),
            None => Ok(0),
        }
    }

    /// Positions of the stream's events from `from_version`, in version order.
    pub fn stream_positions(
        &self,
        stream: &str,
        from_version: StreamVersion,
        max_count: usize,
    ) -> LogResult<Vec<(StreamVersion, Position)>> {
        let mut found = BTreeMap::new();
        let prefix = stream_key_prefix(stream);
        let start = stream_key(stream, from_version);
        for item in self.tree.range(start..).take(max_count) {
            let (key, value) = item?;
            if !key.starts_with(&prefix) {
                break;
            }
            found.insert(decode_u64(&key[prefix.len()..])?, decode_u64(&value)?);
        }
        if let Some(versions) = self.lock_tail().streams.get(stream) {
            for (version, position) in versions.range(from_version..).take(max_count) {
                found.insert(*version, *position);
            }
        }
        Ok(found.into_iter().take(max_count).collect())
    }

    /// Makes committed events visible to lookups; waits while the tail is full.
    pub fn publish(&self, entries: Vec<IndexEntry>) {
        let mut tail = self.lock_tail();
        while tail.queue.len() + entries.len() > INDEX_TAIL_EVENTS_MAX
            && !self.stopping.load(Ordering::Acquire)
        {
            tail = self
                .tail_has_space
                .wait_timeout(tail, WAIT_SLICE)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        for entry in entries {
            tail.ids.insert(entry.event_id, entry.id);
            tail.streams
                .entry(entry.stream.clone())
                .or_default()
                .insert(entry.id.stream_version, entry.id.position);
            tail.queue.push_back(entry);
        }
        self.tail_has_entries.notify_one();
    }

    fn take_pending(&self) -> Option<Vec<IndexEntry>> {
        let mut tail = self.lock_tail();
        loop {
            if !tail.queue.is_empty() {
                let count = tail.queue.len().min(INDEX_BATCH_EVENTS_MAX);
                return Some(tail.queue.iter().take(count).cloned().collect());
            }
            if self.stopping.load(Ordering::Acquire) {
                return None;
            }
            tail = self
                .tail_has_entries
                .wait_timeout(tail, WAIT_SLICE)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    fn release(&self, written: &[IndexEntry]) {
        let mut tail = self.lock_tail();
        for entry in written {
            tail.queue.pop_front();
            tail.ids.remove(&entry.event_id);
            if let Some(versions) = tail.streams.get_mut(&entry.stream) {
                versions.remove(&entry.id.stream_version);
                if versions.is_empty() {
                    tail.streams.remove(&entry.stream);
                }
            }
        }
        self.tail_has_space.notify_all();
    }

    /// The indexer thread: moves the tail into the index database until asked to stop, then
    /// drains what is left and flushes.
    pub fn run_indexer(&self) {
        while let Some(pending) = self.take_pending() {
            if let Err(error) = self.write_batch(&pending) {
                // Entries stay in the tail (still answering lookups); the next start re-indexes.
                tracing::error!(%error, "index write failed; retrying");
                std::thread::sleep(WAIT_SLICE);
                continue;
            }
            self.release(&pending);
        }
        if let Err(error) = self.flush() {
            tracing::error!(%error, "index flush at shutdown failed; the next start re-indexes");
        }
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.tail_has_entries.notify_all();
        self.tail_has_space.notify_all();
    }
}
