//! Indexes derived from the log: event id → position, and stream → positions.
//!
//! They are kept off the acknowledgement path, because every extra sled key in the writer's flush
//! costs as much as an event. The writer flushes only the log, then publishes what it committed
//! into an in-memory *tail* (ids and stream positions, ~70 bytes per event, at most
//! `INDEX_TAIL_EVENTS_MAX` events: the writer waits beyond that). Whenever the tail holds
//! `INDEX_RUN_EVENTS` events, the indexer thread writes the oldest of them as one immutable
//! *run*: the sorted ids and each stream's positions (`run.rs`), stored as pages of
//! `RUN_PAGE_BYTES`, then one small value with two Bloom filters (ids, stream names) and
//! `indexed_up_to`, in one atomic sled batch. Lookups check the tail, then the runs from newest
//! to oldest, reading a run (in place, by binary search, a page at a time) only when its filter
//! says it may hold the key.
//!
//! Why pages: a run is ~2.8 MB, and sled 0.34 keeps a value that large in memory for good once
//! it has been read (a blob), so every run a lookup ever read stayed resident (~42 bytes per
//! indexed event). Pages are evicted like any sled page. The runs after the last complete group
//! are the exception, kept whole in memory (`loose_runs`, fewer than `INDEX_RUNS_PER_GROUP`):
//! every lookup probes their filters, their false positives are frequent, and reading them page
//! by page cost ~15% of the server's throughput under http-bench. Runs written whole by older
//! code are still read (`RUN_PREFIX`).
//!
//! Group filters: every `INDEX_RUNS_PER_GROUP` consecutive runs also get one filter pair over all
//! their ids and stream names, which the indexer thread builds (reading the runs back) once the
//! group is complete. A lookup probes a group's filter first and its runs' filters only when the
//! group may hold the key. Why: every append looks up each of its event ids and the head of each
//! new stream, so with one probe per run a log's appends grew slower as it grew (a run falls due
//! every ~1.2 s at 10,000 orders/s; `Bloom::may_contain` was 2.1% of the server's CPU samples 45 s
//! into a 400,000-order http-bench, 0.3% in its first seconds); with groups, the probes grow 16
//! times slower. A complete group whose filter is missing (written by older code, or lost in a
//! crash) is probed run by run until the indexer has rebuilt it.
//!
//! Crash safety: the index database is never flushed on the ack path. After a crash it holds some
//! prefix of its runs; `open` checks that the runs are contiguous (else it rebuilds them) and
//! refills the tail from the log after `indexed_up_to`, so the indexes are exact again before the
//! first append is accepted.
//!
//! Memory: tail ≤ `INDEX_TAIL_EVENTS_MAX` × ~70 B; run filters ~1.3 B per indexed event (kept in
//! memory, 1.3 MB per million events) and group filters as much again; the loose runs kept whole,
//! at most `INDEX_RUNS_PER_GROUP` × ~2.8 MB; building a group holds 8 bytes per id and per stream
//! entry of its runs (about 10 MB); sled's own cache is bounded by `cache_capacity`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use uuid::Uuid;

use crate::bloom::{stable_hash, Bloom};
use crate::error::{LogError, LogResult};
use crate::limits::{INDEX_RUNS_PER_GROUP, INDEX_RUN_EVENTS, INDEX_TAIL_EVENTS_MAX};
use crate::run::{encode_run, Contiguous, RunSource, RunStreamInput, RunStreamView, RunView};
use crate::types::{Position, RecordedEvent, StreamVersion};

/// A whole run as one value: how runs were stored before pages; still read.
const RUN_PREFIX: u8 = b'R';
/// A page of a run: the prefix, the run's first position, the page's number (u32 BE).
const PAGE_PREFIX: u8 = b'P';
/// Bytes of a run per page. sled 0.34 writes a leaf of more than ~128 KiB (a quarter of its
/// segment) to a blob file, and keeps in memory every blob it has read, whatever its cache size;
/// a leaf holds up to 16 values, so 16 pages of this size stay under that and are evicted like
/// any page. A whole run of 65,536 events is about 2.8 MB: stored as one value, every run a
/// lookup ever read stayed in memory.
const RUN_PAGE_BYTES: usize = 6 * 1024;
const FILTER_PREFIX: u8 = b'F';
const GROUP_PREFIX: u8 = b'G';
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

/// The filters of a run, or of a group of runs (`first_position` of its first run,
/// `last_position` of its last).
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
    /// `groups[i]` summarises `filters[i * runs_per_group..(i + 1) * runs_per_group]`.
    groups: Vec<RunFilter>,
    indexed_up_to: Position,
}

/// How many events make a run, how many runs a group and how many bytes a page of a run: the
/// limits in production, small ones in tests so that they can fill many runs and pages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndexShape {
    pub run_events: usize,
    pub runs_per_group: usize,
    pub page_bytes: usize,
}

impl Default for IndexShape {
    fn default() -> Self {
        IndexShape {
            run_events: INDEX_RUN_EVENTS,
            runs_per_group: INDEX_RUNS_PER_GROUP,
            page_bytes: RUN_PAGE_BYTES,
        }
    }
}

pub(crate) struct Index {
    db: sled::Db,
    tree: sled::Tree,
    state: Mutex<State>,
    /// The runs not yet in a complete group, whole: they are the ones lookups read (each of their
    /// filters is probed on every lookup, so their false positives are frequent), and reading
    /// them page by page cost more CPU than the memory this bounded set holds (at most
    /// `runs_per_group` runs, ~45 MB).
    loose_runs: Mutex<VecDeque<(Position, sled::IVec)>>,
    shape: IndexShape,
    tail_has_space: Condvar,
    run_is_due: Condvar,
    stopping: AtomicBool,
}

fn prefixed_key(prefix: u8, position: Position) -> [u8; 9] {
    let mut key = [prefix; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

fn page_key(first_position: Position, number: usize) -> [u8; 13] {
    let mut key = [PAGE_PREFIX; 13];
    key[1..9].copy_from_slice(&first_position.to_be_bytes());
    // A run has at most ~2.8 MB / 6 KiB pages; u32 is far beyond any run.
    key[9..].copy_from_slice(&(number as u32).to_be_bytes());
    key
}

/// A run's pages as one byte range, read a page at a time (the last one kept for the next read,
/// which is usually on the same page).
struct StoredPages<'t> {
    tree: &'t sled::Tree,
    first_position: Position,
    page_bytes: usize,
    last_page: std::cell::RefCell<Option<(usize, sled::IVec)>>,
    error: std::cell::RefCell<Option<sled::Error>>,
}

impl<'t> StoredPages<'t> {
    fn new(tree: &'t sled::Tree, first_position: Position, page_bytes: usize) -> Self {
        StoredPages {
            tree,
            first_position,
            page_bytes,
            last_page: Default::default(),
            error: Default::default(),
        }
    }

    fn page(&self, number: usize) -> Option<sled::IVec> {
        if let Some((cached, page)) = self.last_page.borrow().as_ref() {
            if *cached == number {
                return Some(page.clone());
            }
        }
        match self.tree.get(page_key(self.first_position, number)) {
            Ok(Some(page)) => {
                *self.last_page.borrow_mut() = Some((number, page.clone()));
                Some(page)
            }
            Ok(None) => None,
            Err(error) => {
                self.error.borrow_mut().get_or_insert(error);
                None
            }
        }
    }

    fn take_error(&self) -> LogResult<()> {
        match self.error.borrow_mut().take() {
            Some(error) => Err(error.into()),
            None => Ok(()),
        }
    }
}

impl RunSource for StoredPages<'_> {
    fn bytes(&self, at: usize, len: usize) -> Option<std::borrow::Cow<'_, [u8]>> {
        let mut out = Vec::with_capacity(len);
        let mut at = at;
        while out.len() < len {
            let page = self.page(at / self.page_bytes)?;
            let offset = at % self.page_bytes;
            let wanted = (len - out.len()).min(self.page_bytes - offset);
            out.extend_from_slice(page.get(offset..offset + wanted)?);
            at += wanted;
        }
        Some(std::borrow::Cow::Owned(out))
    }
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
        Self::open_shaped(db, IndexShape::default())
    }

    pub(crate) fn open_shaped(db: sled::Db, shape: IndexShape) -> LogResult<Self> {
        let tree = db.open_tree("index")?;
        let index = Index {
            db,
            tree,
            state: Mutex::new(State::default()),
            loose_runs: Mutex::default(),
            shape,
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
            let groups = matching_groups(&filters, index.load_groups(), shape.runs_per_group);
            let mut state = index.lock_state();
            state.filters = filters;
            state.groups = groups;
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

    /// The stored group filters, in order, up to the first that does not decode (the indexer
    /// builds that one and the next again).
    fn load_groups(&self) -> Vec<RunFilter> {
        let mut groups = Vec::new();
        for item in self.tree.scan_prefix([GROUP_PREFIX]) {
            let decoded = item
                .map_err(LogError::from)
                .and_then(|(key, value)| decode_filter(decode_u64(&key[1..])?, &value));
            match decoded {
                Ok(group) => groups.push(group),
                Err(error) => {
                    tracing::warn!(%error, "an index group filter is unreadable; rebuilding it");
                    break;
                }
            }
        }
        groups
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
            self.candidate_runs(&state, |filter| filter.ids.may_contain(hash))
        };
        for first_position in candidates.into_iter().rev() {
            if let Some(position) =
                self.with_run(first_position, |run| run.position_of(event_id))?
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
            self.candidate_runs(&state, |filter| filter.streams.may_contain(hash))
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
            let candidates = self.candidate_runs(&state, |filter| filter.streams.may_contain(hash));
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

    /// Reads a run in place: from its pages, a page at a time, or from the one value that runs
    /// written before pages are.
    fn with_run<T>(
        &self,
        first_position: Position,
        read: impl FnOnce(&RunView<'_>) -> Result<T, String>,
    ) -> LogResult<T> {
        if let Some(bytes) = self.whole_run(first_position)? {
            return read_whole(first_position, &bytes, read);
        }
        let pages = StoredPages::new(&self.tree, first_position, self.shape.page_bytes);
        let outcome = RunView::new(&pages).and_then(|run| read(&run));
        // A page sled could not read shows as damaged bytes to the reader; report sled's error.
        pages.take_error()?;
        outcome.map_err(|reason| damaged_run(first_position, reason))
    }

    /// The run's bytes in one piece, when memory holds them or should: a run kept whole, a run
    /// outside every complete group (assembled from its pages on first use, then kept), or a run
    /// stored whole before pages. `None`: read its pages.
    fn whole_run(&self, first_position: Position) -> LogResult<Option<sled::IVec>> {
        let kept = self
            .lock_loose_runs()
            .iter()
            .find(|(first, _)| *first == first_position)
            .map(|(_, bytes)| bytes.clone());
        if kept.is_some() {
            return Ok(kept);
        }
        if self.is_outside_complete_groups(first_position) {
            // Read without the lock, so that lookups of other runs do not wait on this scan; two
            // lookups joining the same run at once keep it once (`remember`).
            let bytes = sled::IVec::from(self.pages_joined(first_position)?);
            remember(
                &mut self.lock_loose_runs(),
                first_position,
                bytes.clone(),
                self.shape.runs_per_group,
            );
            return Ok(Some(bytes));
        }
        Ok(self.tree.get(prefixed_key(RUN_PREFIX, first_position))?)
    }

    /// True for the runs after the last complete group (fewer than `runs_per_group`), whether or
    /// not the group filters before them are built yet.
    fn is_outside_complete_groups(&self, first_position: Position) -> bool {
        let state = self.lock_state();
        let runs_per_group = self.shape.runs_per_group;
        let complete = state.filters.len() / runs_per_group * runs_per_group;
        state.filters[complete..]
            .iter()
            .any(|run| run.first_position == first_position)
    }

    /// A run's pages end to end; an error unless they are numbered from 0 without a gap and
    /// only the last is short (anything else would shift every byte after it).
    fn pages_joined(&self, first_position: Position) -> LogResult<Vec<u8>> {
        let mut bytes = Vec::new();
        for (expected, page) in self
            .tree
            .scan_prefix(&page_key(first_position, 0)[..9])
            .enumerate()
        {
            let (key, page) = page?;
            let follows_a_full_page = bytes.len() == expected * self.shape.page_bytes;
            if key[..] != page_key(first_position, expected)[..] || !follows_a_full_page {
                return Err(damaged_run(
                    first_position,
                    format!("page {expected} is missing"),
                ));
            }
            bytes.extend_from_slice(&page);
        }
        Ok(bytes)
    }

    fn lock_loose_runs(&self) -> MutexGuard<'_, VecDeque<(Position, sled::IVec)>> {
        // Entries are whole or absent: a panic while the lock is held leaves nothing half-made.
        self.loose_runs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
        if tail.order.len() >= self.shape.run_events {
            self.run_is_due.notify_one();
        }
    }

    /// Writes the oldest `run_events` tail events as a run, if the tail holds that many.
    pub fn write_run_if_due(&self) -> LogResult<bool> {
        let run_events = self.shape.run_events;
        let (run_bytes, filter) = {
            let state = self.lock_state();
            if state.tail.order.len() < run_events {
                return Ok(false);
            }
            build_run(&state.tail, state.indexed_up_to + 1, run_events)
        };
        let (first_position, last_position) = (filter.first_position, filter.last_position);
        // The pages go in one by one, outside the batch: sled 0.34 applies a batch under a lock
        // that stops every sled operation of the process. Until the filter and `indexed_up_to`
        // land, nothing reads them; after a crash, the same run is written again over them.
        for (number, page) in run_bytes.chunks(self.shape.page_bytes).enumerate() {
            self.tree.insert(page_key(first_position, number), page)?;
        }
        remember(
            &mut self.lock_loose_runs(),
            first_position,
            sled::IVec::from(run_bytes),
            self.shape.runs_per_group,
        );
        let mut batch = sled::Batch::default();
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

    /// Files the oldest complete group of runs that has no group filter yet, if any: reads its
    /// runs back and puts every id and stream name of them in one filter pair. Off every lookup's
    /// path (the indexer thread); until it is done, lookups probe those runs one by one.
    pub fn write_group_if_due(&self) -> LogResult<bool> {
        let runs_per_group = self.shape.runs_per_group;
        let runs: Vec<Position> = {
            let state = self.lock_state();
            let start = state.groups.len() * runs_per_group;
            match state.filters.get(start..start + runs_per_group) {
                Some(runs) => runs.iter().map(|run| run.first_position).collect(),
                None => return Ok(false),
            }
        };
        let group = self.build_group(&runs)?;
        self.tree.insert(
            prefixed_key(GROUP_PREFIX, group.first_position),
            encode_filter(&group),
        )?;
        let mut state = self.lock_state();
        let start = state.groups.len() * runs_per_group;
        let still_due = state
            .filters
            .get(start..start + runs_per_group)
            .is_some_and(|due| covers(&group, due));
        if still_due {
            let grouped_up_to = group.last_position;
            state.groups.push(group);
            drop(state);
            self.lock_loose_runs()
                .retain(|(first, _)| *first > grouped_up_to);
        }
        Ok(true)
    }

    /// The filters of the runs starting at `runs` (consecutive), over all their items.
    fn build_group(&self, runs: &[Position]) -> LogResult<RunFilter> {
        let mut id_hashes = Vec::new();
        let mut stream_hashes = Vec::new();
        let mut last_position = 0;
        for first_position in runs {
            // Every byte of the run is read, so its pages are joined in one scan rather than
            // read a few bytes at a time as a lookup's binary search does.
            let bytes = match self.whole_run(*first_position)? {
                Some(bytes) => bytes,
                None => sled::IVec::from(self.pages_joined(*first_position)?),
            };
            read_whole(*first_position, &bytes, |run| {
                for id in run.ids() {
                    id_hashes.push(stable_hash(&id?));
                }
                for name in run.stream_names() {
                    stream_hashes.push(stable_hash(&name?));
                }
                last_position = run.last_position();
                Ok(())
            })?;
        }
        let filled = |hashes: &[u64]| {
            let mut bloom = Bloom::with_capacity(hashes.len());
            hashes.iter().for_each(|hash| bloom.insert(*hash));
            bloom
        };
        Ok(RunFilter {
            first_position: runs.first().copied().unwrap_or_default(),
            last_position,
            ids: filled(&id_hashes),
            streams: filled(&stream_hashes),
        })
    }

    /// Runs whose filters may hold a key, oldest first: a group's filter answers for all its runs
    /// at once, and only the runs of a group that may hold the key are probed one by one.
    fn candidate_runs(
        &self,
        state: &State,
        may_contain: impl Fn(&RunFilter) -> bool,
    ) -> Vec<Position> {
        let runs_per_group = self.shape.runs_per_group;
        let grouped = (state.groups.len() * runs_per_group).min(state.filters.len());
        state
            .groups
            .iter()
            .zip(state.filters.chunks(runs_per_group))
            .filter(|(group, _)| may_contain(group))
            .flat_map(|(_, runs)| runs)
            .chain(&state.filters[grouped..])
            .filter(|run| may_contain(run))
            .map(|run| run.first_position)
            .collect()
    }

    /// The indexer thread: writes runs and then group filters as they fall due, until asked to
    /// stop. What is left in the tail at shutdown is rebuilt from the log at the next open.
    pub fn run_indexer(&self) {
        while !self.stopping.load(Ordering::Acquire) {
            match self.write_run_if_due() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::error!(%error, "writing an index run failed; retrying"),
            }
            match self.write_group_if_due() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => {
                    tracing::error!(%error, "writing an index group filter failed; retrying")
                }
            }
            let state = self.lock_state();
            if state.tail.order.len() < self.shape.run_events {
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

/// Reads the run at `first_position` from its whole `bytes`.
fn read_whole<T>(
    first_position: Position,
    bytes: &[u8],
    read: impl FnOnce(&RunView<'_>) -> Result<T, String>,
) -> LogResult<T> {
    let whole = Contiguous(bytes);
    let run = RunView::new(&whole).map_err(|reason| damaged_run(first_position, reason))?;
    read(&run).map_err(|reason| damaged_run(first_position, reason))
}

fn damaged_run(first_position: Position, reason: String) -> LogError {
    storage_error("run", format!("run {first_position}: {reason}"))
}

/// Keeps `bytes` as the whole run at `first_position`, forgetting the oldest beyond `max`.
fn remember(
    loose: &mut VecDeque<(Position, sled::IVec)>,
    first_position: Position,
    bytes: sled::IVec,
    max: usize,
) {
    loose.retain(|(first, _)| *first != first_position);
    loose.push_back((first_position, bytes));
    while loose.len() > max {
        loose.pop_front();
    }
}

/// The stored groups that summarise exactly the runs they should, in order; the first that does
/// not (and every later one) is left for the indexer to build again.
fn matching_groups(
    filters: &[RunFilter],
    groups: Vec<RunFilter>,
    runs_per_group: usize,
) -> Vec<RunFilter> {
    groups
        .into_iter()
        .zip(filters.chunks_exact(runs_per_group))
        .take_while(|(group, runs)| covers(group, runs))
        .map(|(group, _)| group)
        .collect()
}

/// True when `group` summarises exactly `runs`: from the first one's first event to the last
/// one's last.
fn covers(group: &RunFilter, runs: &[RunFilter]) -> bool {
    runs.first().map(|run| run.first_position) == Some(group.first_position)
        && runs.last().map(|run| run.last_position) == Some(group.last_position)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Runs of 8 events, groups of 4 runs: 117 events make 3 groups, 2 loose runs and a tail of 5.
    /// Pages of 40 bytes: a run takes about 10, and ids and stream entries straddle them.
    const SHAPE: IndexShape = IndexShape {
        run_events: 8,
        runs_per_group: 4,
        page_bytes: 40,
    };
    const EVENTS: u64 = 117;
    /// Each stream holds 3 events, so streams straddle runs and groups.
    const EVENTS_PER_STREAM: u64 = 3;

    fn id_at(position: Position) -> Uuid {
        Uuid::from_u128(u128::from(position) * 7_919)
    }

    fn stream_of(position: Position) -> String {
        format!("stream-{}", (position - 1) / EVENTS_PER_STREAM)
    }

    fn entries(count: u64) -> Vec<IndexEntry> {
        (1..=count)
            .map(|position| IndexEntry {
                event_id: id_at(position),
                stream: Arc::from(stream_of(position)),
                position,
                stream_version: (position - 1) % EVENTS_PER_STREAM + 1,
            })
            .collect()
    }

    fn write_due(index: &Index) {
        while index.write_run_if_due().unwrap() || index.write_group_if_due().unwrap() {}
    }

    fn filled_index() -> (sled::Db, Index) {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let index = Index::open_shaped(db.clone(), SHAPE).unwrap();
        index.publish(entries(EVENTS));
        write_due(&index);
        (db, index)
    }

    fn assert_answers_every_lookup(index: &Index) {
        for position in 1..=EVENTS {
            assert_eq!(index.lookup_id(&id_at(position)).unwrap(), Some(position));
        }
        for stream in 0..EVENTS / EVENTS_PER_STREAM {
            let name = format!("stream-{stream}");
            let first = stream * EVENTS_PER_STREAM + 1;
            assert_eq!(index.stream_head(&name).unwrap(), EVENTS_PER_STREAM);
            assert_eq!(
                index.stream_positions(&name, 1, 10).unwrap(),
                vec![(1, first), (2, first + 1), (3, first + 2)]
            );
        }
        assert_eq!(index.lookup_id(&Uuid::from_u128(1)).unwrap(), None);
        assert_eq!(index.stream_head("stream-absent").unwrap(), 0);
    }

    fn group_count(index: &Index) -> usize {
        index.lock_state().groups.len()
    }

    // Proves lookups through group filters find what the runs hold (ids, heads, and streams
    // split across runs and groups) and nothing else.
    #[test]
    fn lookups_through_group_filters_find_what_the_runs_hold() {
        let (_db, index) = filled_index();
        assert_eq!(index.lock_state().filters.len(), 14);
        assert_eq!(group_count(&index), 3);
        assert_answers_every_lookup(&index);
    }

    // Proves a key in no run costs about one probe per group plus one per loose run, not one per
    // run: 1,000 absent ids among 14 runs (3 groups of 4, 2 loose) take at most 6 probes on
    // average (5, plus the filters' false positives); probing each run would take 14.
    #[test]
    fn an_absent_key_is_probed_once_per_group_not_once_per_run() {
        let (_db, index) = filled_index();
        let probes = Cell::new(0usize);
        let state = index.lock_state();
        for absent in 0..1_000u128 {
            let hash = stable_hash(Uuid::from_u128((absent << 64) | 1).as_bytes());
            index.candidate_runs(&state, |filter| {
                probes.set(probes.get() + 1);
                filter.ids.may_contain(hash)
            });
        }
        assert!(probes.get() <= 6_000, "{} probes", probes.get());
    }

    // Proves group filters are loaded back with the runs, and that a missing one is probed run
    // by run until the indexer has built it again.
    #[test]
    fn a_reopened_index_keeps_its_groups_and_rebuilds_a_missing_one() {
        let (db, index) = filled_index();
        drop(index);
        let reopened = Index::open_shaped(db.clone(), SHAPE).unwrap();
        assert_eq!(group_count(&reopened), 3);
        let last_group = reopened.lock_state().groups[2].first_position;
        drop(reopened);

        db.open_tree("index")
            .unwrap()
            .remove(prefixed_key(GROUP_PREFIX, last_group))
            .unwrap();
        let reopened = Index::open_shaped(db.clone(), SHAPE).unwrap();
        assert_eq!(group_count(&reopened), 2);
        reopened.publish(entries(EVENTS).split_off(14 * 8));
        assert_answers_every_lookup(&reopened);
        assert!(reopened.write_group_if_due().unwrap());
        assert_eq!(group_count(&reopened), 3);
        assert!(!reopened.write_group_if_due().unwrap());
        assert_answers_every_lookup(&reopened);
    }

    // Proves an unreadable group filter is not trusted: it and the later ones are built again.
    #[test]
    fn an_unreadable_group_filter_is_built_again() {
        let (db, index) = filled_index();
        let second_group = index.lock_state().groups[1].first_position;
        drop(index);
        db.open_tree("index")
            .unwrap()
            .insert(prefixed_key(GROUP_PREFIX, second_group), &b"damaged"[..])
            .unwrap();
        let reopened = Index::open_shaped(db.clone(), SHAPE).unwrap();
        assert_eq!(group_count(&reopened), 1);
        write_due(&reopened);
        assert_eq!(group_count(&reopened), 3);
    }

    // Proves runs are stored as pages of at most `page_bytes` (no whole-run value), that a
    // lookup reads them across page boundaries, and that a run stored whole, as runs were before
    // pages, is still read.
    #[test]
    fn runs_are_stored_in_pages_and_runs_stored_whole_still_read() {
        let (db, index) = filled_index();
        let tree = db.open_tree("index").unwrap();
        assert_eq!(tree.scan_prefix([RUN_PREFIX]).count(), 0);
        let pages: Vec<(sled::IVec, sled::IVec)> = tree
            .scan_prefix([PAGE_PREFIX])
            .map(Result::unwrap)
            .collect();
        assert!(pages.len() > 14 * 5, "{} pages for 14 runs", pages.len());
        assert!(pages.iter().all(|(_, page)| page.len() <= SHAPE.page_bytes));
        assert_answers_every_lookup(&index);

        let first_run = &page_key(1, 0)[..9];
        let whole: Vec<u8> = tree
            .scan_prefix(first_run)
            .flat_map(|item| item.unwrap().1.to_vec())
            .collect();
        for item in tree.scan_prefix(first_run) {
            tree.remove(item.unwrap().0).unwrap();
        }
        tree.insert(prefixed_key(RUN_PREFIX, 1), whole).unwrap();
        assert_answers_every_lookup(&index);
    }

    // Proves a run with a page missing is reported as damaged, not read as absent keys.
    #[test]
    fn a_run_with_a_missing_page_is_an_error() {
        let (db, index) = filled_index();
        db.open_tree("index")
            .unwrap()
            .remove(page_key(1, 2))
            .unwrap();
        let error = (1..=8)
            .map(|position| index.lookup_id(&id_at(position)))
            .find_map(Result::err);
        assert!(error.is_some(), "every lookup of the first run succeeded");
    }

    // Proves a loose run (not in a group yet) with a page missing is refused when it is first
    // read whole, not read with its later bytes shifted.
    #[test]
    fn a_loose_run_with_a_missing_page_is_an_error() {
        let (db, index) = filled_index();
        let first_loose = 12 * 8 + 1;
        index.lock_loose_runs().clear();
        db.open_tree("index")
            .unwrap()
            .remove(page_key(first_loose, 2))
            .unwrap();
        let error = index.lookup_id(&id_at(first_loose)).unwrap_err();
        assert!(error.to_string().contains("page 2 is missing"), "{error}");
    }

    // Proves the runs not yet in a group are kept whole, and only they: the ones of a completed
    // group are let go.
    #[test]
    fn only_runs_outside_complete_groups_are_kept_whole() {
        let (_db, index) = filled_index();
        let kept: Vec<Position> = index
            .lock_loose_runs()
            .iter()
            .map(|(first, _)| *first)
            .collect();
        assert_eq!(kept, vec![12 * 8 + 1, 13 * 8 + 1]);
        assert_answers_every_lookup(&index);
    }
}
