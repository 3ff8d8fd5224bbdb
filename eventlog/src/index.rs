//! Indexes derived from the log: event id → position, and stream → positions.
//!
//! They are kept off the acknowledgement path, because every extra sled key in the writer's flush
//! costs as much as an event. The writer flushes only the log, then publishes what it committed
//! into an in-memory *tail* (ids and stream positions, ~70 bytes per event, at most
//! `INDEX_TAIL_EVENTS_MAX` events: the writer waits beyond that). Whenever the tail holds
//! `INDEX_RUN_EVENTS` events, the indexer thread writes the oldest of them as one immutable
//! *run*: ONE sled value holding the sorted ids and each stream's positions, plus one small value
//! with two Bloom filters (ids, stream names), plus `indexed_up_to`, in one atomic sled batch.
//! Lookups check the tail, then the runs from newest to oldest, reading a run (in place, by
//! binary search, see `run.rs`) only when its filter says it may hold the key.
//!
//! Crash safety: the index database is never flushed on the ack path. After a crash it holds some
//! prefix of its runs; `open` checks that the runs are contiguous (else it rebuilds them) and
//! refills the tail from the log after `indexed_up_to`, so the indexes are exact again before the
//! first append is accepted.
//!
//! Memory: tail ≤ `INDEX_TAIL_EVENTS_MAX` × ~70 B; run filters ~1.3 B per indexed event (kept in
//! memory, 1.3 MB per million events); sled's own cache is bounded by `cache_capacity`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use uuid::Uuid;

use crate::bloom::{stable_hash, Bloom};
use crate::error::{LogError, LogResult};
use crate::limits::{INDEX_RUN_EVENTS, INDEX_TAIL_EVENTS_MAX};
use crate::run::{encode_run, RunStreamInput, RunStreamView, RunView};
use crate::types::{Position, RecordedEvent, StreamVersion};

const RUN_PREFIX: u8 = b'R';
const FILTER_PREFIX: u8 = b'F';
const INDEXED_UP_TO_KEY: &[u8] = b"M:indexed_up_to";
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// One committed event, as the indexes need it.
#[derive(Clone, Debug)]
pub(crate) struct IndexEntry {
    pub event_id: Uuid,
    pub stream: Arc<str>,
    pub position: Position,
    pub stream_version: StreamVersion,
}

impl IndexEntry {
    pub fn of_recorded(event: &RecordedEvent) -> Self {
        IndexEntry {
            event_id: event.event_id,
            stream: Arc::from(event.stream.as_str()),
            position: event.position,
            stream_version: event.stream_version,
        }
    }
}

struct RunFilter {
    first_position: Position,
    last_position: Position,
    ids: Bloom,
    streams: Bloom,
}

#[derive(Default)]
struct StreamTail {
    first_version: StreamVersion,
    positions: VecDeque<Position>,
}

impl StreamTail {
    fn last_version(&self) -> StreamVersion {
        self.first_version + self.positions.len() as u64 - 1
    }
}

/// Events after `indexed_up_to`, in memory.
#[derive(Default)]
struct Tail {
    ids: HashMap<Uuid, Position>,
    /// Ids in position order: `order[i]` is at `indexed_up_to + 1 + i`.
    order: VecDeque<Uuid>,
    streams: HashMap<Arc<str>, StreamTail>,
}

#[derive(Default)]
struct State {
    tail: Tail,
    filters: Vec<RunFilter>,
    indexed_up_to: Position,
}

pub(crate) struct Index {
    db: sled::Db,
    tree: sled::Tree,
    state: Mutex<State>,
    tail_has_space: Condvar,
    run_is_due: Condvar,
    stopping: AtomicBool,
}

fn prefixed_key(prefix: u8, position: Position) -> [u8; 9] {
    let mut key = [prefix; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

fn storage_error(what: &str, detail: impl std::fmt::Display) -> LogError {
    LogError::Storage(format!("index {what}: {detail}"))
}

fn encode_filter(filter: &RunFilter) -> Vec<u8> {
    let ids = filter.ids.to_bytes();
    let mut bytes = Vec::with_capacity(20 + ids.len() + filter.streams.heap_bytes() + 1);
    bytes.extend_from_slice(&filter.last_position.to_be_bytes());
    bytes.extend_from_slice(&(ids.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&ids);
    bytes.extend_from_slice(&filter.streams.to_bytes());
    bytes
}

fn decode_filter(first_position: Position, bytes: &[u8]) -> LogResult<RunFilter> {
    let malformed = || {
        storage_error(
            "filter",
            format!("malformed filter of run {first_position}"),
        )
    };
    if bytes.len() < 12 {
        return Err(malformed());
    }
    let last_position = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
    let ids_len = u32::from_be_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    let rest = &bytes[12..];
    if rest.len() < ids_len {
        return Err(malformed());
    }
    Ok(RunFilter {
        first_position,
        last_position,
        ids: Bloom::from_bytes(&rest[..ids_len]).map_err(|_| malformed())?,
        streams: Bloom::from_bytes(&rest[ids_len..]).map_err(|_| malformed())?,
    })
}

fn decode_u64(bytes: &[u8]) -> LogResult<u64> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| storage_error("value", "not 8 bytes"))?;
    Ok(u64::from_be_bytes(array))
}

/// Runs must tile `1..=indexed_up_to` exactly; anything else means a damaged index.
fn runs_are_contiguous(filters: &[RunFilter], indexed_up_to: Position) -> bool {
    let mut next = 1;
    for filter in filters {
        if filter.first_position != next || filter.last_position < filter.first_position {
            return false;
        }
        next = filter.last_position + 1;
    }
    next == indexed_up_to + 1
}

impl Index {
    /// Opens the index database and loads the run filters. A damaged index is cleared (it is
    /// rebuilt from the log by the caller's catch-up).
    pub fn open(db: sled::Db) -> LogResult<Self> {
        let tree = db.open_tree("index")?;
        let index = Index {
            db,
            tree,
            state: Mutex::new(State::default()),
            tail_has_space: Condvar::new(),
            run_is_due: Condvar::new(),
            stopping: AtomicBool::new(false),
        };
        let indexed_up_to = match index.tree.get(INDEXED_UP_TO_KEY)? {
            Some(bytes) => decode_u64(&bytes)?,
            None => 0,
        };
        let filters = index.load_filters()?;
        if runs_are_contiguous(&filters, indexed_up_to) {
            let mut state = index.lock_state();
            state.filters = filters;
            state.indexed_up_to = indexed_up_to;
        } else {
            tracing::warn!(
                indexed_up_to,
                runs = filters.len(),
                "index runs are not contiguous; rebuilding the index from the log"
            );
            index.clear()?;
        }
        Ok(index)
    }

    fn load_filters(&self) -> LogResult<Vec<RunFilter>> {
        self.tree
            .scan_prefix([FILTER_PREFIX])
            .map(|item| {
                let (key, value) = item?;
                decode_filter(decode_u64(&key[1..])?, &value)
            })
            .collect()
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // Every mutation under this lock leaves the state consistent before any call that could
        // panic, so a poisoned lock is still safe to use.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn indexed_up_to(&self) -> Position {
        self.lock_state().indexed_up_to
    }

    /// Forgets everything, for when the index does not match the log.
    pub fn clear(&self) -> LogResult<()> {
        self.tree.clear()?;
        self.db.flush()?;
        *self.lock_state() = State::default();
        Ok(())
    }

    pub fn flush(&self) -> LogResult<()> {
        self.db.flush()?;
        Ok(())
    }

    /// The position of the event with this id, if it is stored.
    pub fn lookup_id(&self, event_id: &Uuid) -> LogResult<Option<Position>> {
        let candidates = {
            let state = self.lock_state();
            if let Some(position) = state.tail.ids.get(event_id) {
                return Ok(Some(*position));
            }
            let hash = stable_hash(event_id.as_bytes());
            candidate_runs(&state.filters, |filter| filter.ids.may_contain(hash))
        };
        for first_position in candidates.into_iter().rev() {
            if let Some(position) =
                self.with_run(first_position, |run| Ok(run.position_of(event_id)))?
            {
                return Ok(Some(position));
            }
        }
        Ok(None)
    }

    /// The version of the stream's last event; 0 when the stream does not exist.
    pub fn stream_head(&self, stream: &str) -> LogResult<StreamVersion> {
        let candidates = {
            let state = self.lock_state();
            if let Some(tail) = state.tail.streams.get(stream) {
                return Ok(tail.last_version());
            }
            let hash = stable_hash(stream.as_bytes());
            candidate_runs(&state.filters, |filter| filter.streams.may_contain(hash))
        };
        for first_position in candidates.into_iter().rev() {
            let head = self.with_run(first_position, |run| {
                Ok(run.stream(stream)?.map(|found| found.last_version()))
            })?;
            if let Some(version) = head {
                return Ok(version);
            }
        }
        Ok(0)
    }

    /// Positions of the stream's events from `from_version`, in version order.
    pub fn stream_positions(
        &self,
        stream: &str,
        from_version: StreamVersion,
        max_count: usize,
    ) -> LogResult<Vec<(StreamVersion, Position)>> {
        let (candidates, tail) = {
            let state = self.lock_state();
            let hash = stable_hash(stream.as_bytes());
            let candidates =
                candidate_runs(&state.filters, |filter| filter.streams.may_contain(hash));
            let tail: Vec<(StreamVersion, Position)> = state
                .tail
                .streams
                .get(stream)
                .map(|t| {
                    versioned(
                        t.first_version,
                        t.positions.iter().copied(),
                        from_version,
                        max_count,
                    )
                })
                .unwrap_or_default();
            (candidates, tail)
        };
        let mut found = Vec::new();
        for first_position in candidates {
            if found.len() >= max_count {
                break;
            }
            let wanted = max_count - found.len();
            let part = self.with_run(first_position, |run| {
                Ok(run.stream(stream)?.map(|part: RunStreamView<'_>| {
                    versioned(part.first_version, part.positions(), from_version, wanted)
                }))
            })?;
            found.extend(part.unwrap_or_default());
        }
        // A run written while we read may repeat tail entries; versions are unique, keep one.
        let last_found = found.last().map(|(version, _)| *version).unwrap_or(0);
        found.extend(
            tail.into_iter()
                .filter(|(version, _)| *version > last_found),
        );
        found.truncate(max_count);
        Ok(found)
    }

    /// Reads a run in place: sled hands out the stored value without copying it.
    fn with_run<T>(
        &self,
        first_position: Position,
        read: impl FnOnce(&RunView<'_>) -> Result<T, String>,
    ) -> LogResult<T> {
        let bytes = self
            .tree
            .get(prefixed_key(RUN_PREFIX, first_position))?
            .ok_or_else(|| storage_error("run", format!("run {first_position} is missing")))?;
        let run = RunView::new(&bytes).map_err(|e| storage_error("run", e))?;
        read(&run).map_err(|e| storage_error("run", e))
    }

    /// Makes committed events visible to lookups; waits while the tail is full.
    pub fn publish(&self, entries: Vec<IndexEntry>) {
        let mut state = self.lock_state();
        while state.tail.order.len() + entries.len() > INDEX_TAIL_EVENTS_MAX
            && !self.stopping.load(Ordering::Acquire)
        {
            state = self
                .tail_has_space
                .wait_timeout(state, WAIT_SLICE)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let tail = &mut state.tail;
        for entry in entries {
            tail.ids.insert(entry.event_id, entry.position);
            tail.order.push_back(entry.event_id);
            let stream = tail.streams.entry(entry.stream).or_default();
            if stream.positions.is_empty() {
                stream.first_version = entry.stream_version;
            }
            stream.positions.push_back(entry.position);
        }
        if tail.order.len() >= INDEX_RUN_EVENTS {
            self.run_is_due.notify_one();
        }
    }

    /// Writes the oldest `INDEX_RUN_EVENTS` tail events as a run, if the tail holds that many.
    pub fn write_run_if_due(&self) -> LogResult<bool> {
        let (run_bytes, filter) = {
            let state = self.lock_state();
            if state.tail.order.len() < INDEX_RUN_EVENTS {
                return Ok(false);
            }
            build_run(&state.tail, state.indexed_up_to + 1, INDEX_RUN_EVENTS)
        };
        let (first_position, last_position) = (filter.first_position, filter.last_position);
        let mut batch = sled::Batch::default();
        batch.insert(&prefixed_key(RUN_PREFIX, first_position)[..], run_bytes);
        batch.insert(
            &prefixed_key(FILTER_PREFIX, first_position)[..],
            encode_filter(&filter),
        );
        batch.insert(INDEXED_UP_TO_KEY, &last_position.to_be_bytes()[..]);
        self.tree.apply_batch(batch)?;
        let mut state = self.lock_state();
        release_from_tail(&mut state.tail, last_position);
        state.indexed_up_to = last_position;
        state.filters.push(filter);
        self.tail_has_space.notify_all();
        Ok(true)
    }

    /// The indexer thread: writes runs as they fall due, until asked to stop. What is left in the
    /// tail at shutdown is rebuilt from the log at the next open.
    pub fn run_indexer(&self) {
        while !self.stopping.load(Ordering::Acquire) {
            match self.write_run_if_due() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::error!(%error, "writing an index run failed; retrying"),
            }
            let state = self.lock_state();
            if state.tail.order.len() < INDEX_RUN_EVENTS {
                let _ = self.run_is_due.wait_timeout(state, WAIT_SLICE);
            }
        }
        if let Err(error) = self.flush() {
            tracing::error!(%error, "index flush at shutdown failed; the next start re-indexes");
        }
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.run_is_due.notify_all();
        self.tail_has_space.notify_all();
    }
}

fn candidate_runs(
    filters: &[RunFilter],
    may_contain: impl Fn(&RunFilter) -> bool,
) -> Vec<Position> {
    filters
        .iter()
        .filter(|f| may_contain(f))
        .map(|f| f.first_position)
        .collect()
}

fn versioned(
    first_version: StreamVersion,
    positions: impl Iterator<Item = Position>,
    from_version: StreamVersion,
    max_count: usize,
) -> Vec<(StreamVersion, Position)> {
    positions
        .enumerate()
        .map(|(offset, position)| (first_version + offset as u64, position))
        .filter(|(version, _)| *version >= from_version)
        .take(max_count)
        .collect()
}

/// The encoded run of the oldest `count` tail events, and its filters.
fn build_run(tail: &Tail, first_position: Position, count: usize) -> (Vec<u8>, RunFilter) {
    let last_position = first_position + count as u64 - 1;
    let mut ids: Vec<(Uuid, Position)> = tail
        .order
        .iter()
        .take(count)
        .enumerate()
        .map(|(offset, id)| (*id, first_position + offset as u64))
        .collect();
    ids.sort_unstable_by_key(|(id, _)| *id);
    let mut streams: Vec<RunStreamInput<'_>> = tail
        .streams
        .iter()
        .filter(|(_, t)| t.positions.front().is_some_and(|p| *p <= last_position))
        .map(|(name, t)| RunStreamInput {
            name,
            first_version: t.first_version,
            positions: t
                .positions
                .iter()
                .copied()
                .take_while(|p| *p <= last_position)
                .collect(),
        })
        .collect();
    streams.sort_unstable_by(|a, b| a.name.cmp(b.name));
    let mut id_filter = Bloom::with_capacity(ids.len());
    ids.iter()
        .for_each(|(id, _)| id_filter.insert(stable_hash(id.as_bytes())));
    let mut stream_filter = Bloom::with_capacity(streams.len());
    streams
        .iter()
        .for_each(|s| stream_filter.insert(stable_hash(s.name.as_bytes())));
    let filter = RunFilter {
        first_position,
        last_position,
        ids: id_filter,
        streams: stream_filter,
    };
    (
        encode_run(first_position, last_position, &ids, &streams),
        filter,
    )
}

fn release_from_tail(tail: &mut Tail, last_position: Position) {
    while let Some(id) = tail.order.front() {
        match tail.ids.get(id) {
            Some(position) if *position > last_position => break,
            _ => {}
        }
        let id = tail.order.pop_front().expect("front exists");
        tail.ids.remove(&id);
    }
    tail.streams.retain(|_, stream| {
        while stream
            .positions
            .front()
            .is_some_and(|p| *p <= last_position)
        {
            stream.positions.pop_front();
            stream.first_version += 1;
        }
        !stream.positions.is_empty()
    });
}
