//! The sled-backed event log: opening, appending through the writer, reading, subscribing.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::stream::BoxStream;
use futures::StreamExt;
use sled::IVec;
use tokio::sync::{mpsc, oneshot, watch};

use crate::clock::{Clock, SystemClock};
use crate::codec::{self, BatchReader, Hash, GENESIS_HASH};
use crate::error::{LogError, LogResult};
use crate::index::{Index, IndexEntry};
use crate::limits::{
    CACHE_BYTES_DEFAULT, INDEX_CATCH_UP_CHUNK_EVENTS, READ_EVENTS_MAX, SUBSCRIPTION_CHUNK_EVENTS,
    WRITER_QUEUE_DEPTH_MAX,
};
use crate::scan::{EvictingScan, NUDGE_BEHIND_HEAD_EVENTS};
use crate::types::{
    AppendOutcome, AppendRequest, ChainPage, ChainRecord, Position, RecordedEvent, StreamVersion,
    VerifyReport,
};
use crate::validate::prepare;
use crate::verify::verify_tree;
use crate::writer::{AppendJob, Writer, WriterMessage};

const LOCK_FILE: &str = "LOCK";
pub(crate) const LOG_DIR: &str = "log";
const INDEX_DIR: &str = "index";
const LOG_TREE: &str = "log";
const CHECKPOINT_TREE: &str = "checkpoints";

/// Options for [`EventLog::open`].
#[derive(Clone)]
pub struct LogOptions {
    /// sled page cache per database (the log and the index each get one), in bytes.
    pub cache_bytes: u64,
    /// Source of `recorded_at`.
    pub clock: Arc<dyn Clock>,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            cache_bytes: CACHE_BYTES_DEFAULT,
            clock: Arc::new(SystemClock),
        }
    }
}

/// State shared by the handle, the writer thread and the readers.
pub(crate) struct Shared {
    log_db: sled::Db,
    log: sled::Tree,
    checkpoints: sled::Tree,
    pub index: Index,
    durable_head: AtomicU64,
    head_watch: watch::Sender<Position>,
    pub poisoned: AtomicBool,
}

impl Shared {
    /// Stores one commit's batches, in position order, and flushes.
    ///
    /// One insert each, not a `sled::Batch`: sled 0.34 makes a batch atomic with a lock for the
    /// whole process, which every other sled operation then waits on (ARCHITECTURE.md, "Commits
    /// without `sled::Batch`"); with this writer's batches out of it, `http-bench` took 8,990 against
    /// 8,481 orders/s on average over 6 alternated pairs (2026-11-27 20:0x UTC). Nothing needs
    /// the commit's batches to survive a crash together: sled recovers a prefix of its log, each
    /// batch holds whole appends, and no append of the commit is acknowledged before the flush.
    /// A crash therefore keeps whole appends up to some position, dense and chained, none of
    /// them acknowledged, as it would keep or lose the whole commit.
    pub fn persist_batches(&self, batches: Vec<(Position, Vec<u8>)>) -> LogResult<()> {
        for (first_position, batch) in batches {
            self.log
                .insert(codec::position_key(first_position), batch)?;
        }
        self.log_db.flush()?;
        Ok(())
    }

    pub fn publish_head(&self, head: Position) {
        self.durable_head.store(head, Ordering::Release);
        self.head_watch.send_replace(head);
    }

    fn head(&self) -> Position {
        self.durable_head.load(Ordering::Acquire)
    }

    /// Events from `from_position` up to `until` (inclusive), at most `max_count`.
    fn read_range(
        &self,
        from_position: Position,
        until: Position,
        max_count: usize,
    ) -> LogResult<Vec<RecordedEvent>> {
        let from_position = from_position.max(1);
        if from_position > until || max_count == 0 {
            return Ok(Vec::new());
        }
        let last = until.min(from_position.saturating_add(max_count as u64 - 1));
        let mut events = Vec::with_capacity((last - from_position + 1) as usize);
        let start_key = self.batch_key_starting_or_containing(from_position)?;
        for item in self.scan_from(start_key) {
            let (_, value) = item?;
            if !decode_batch_into(&value, from_position, last, &mut events)? {
                break;
            }
        }
        Ok(events)
    }

    /// The events from `from_position` up to `until` (inclusive), one vector per stored batch
    /// (whole appends; the first may be the end of one), whole batches until at least
    /// `min_events` were read.
    fn read_batches(
        &self,
        from_position: Position,
        until: Position,
        min_events: usize,
    ) -> LogResult<Vec<Vec<RecordedEvent>>> {
        let from_position = from_position.max(1);
        let mut batches = Vec::new();
        if from_position > until {
            return Ok(batches);
        }
        let mut read = 0;
        let start_key = self.batch_key_starting_or_containing(from_position)?;
        for item in self.scan_from(start_key) {
            let (_, value) = item?;
            let mut events = Vec::new();
            let whole = decode_batch_into(&value, from_position, until, &mut events)?;
            read += events.len();
            if !events.is_empty() {
                batches.push(events);
            }
            if !whole || read >= min_events {
                break;
            }
        }
        Ok(batches)
    }

    /// The stored batches from the one keyed `start_key` on, read so that sled may evict them.
    fn scan_from(&self, start_key: Position) -> EvictingScan {
        let far_behind = self.head().saturating_sub(start_key) >= NUDGE_BEHIND_HEAD_EVENTS;
        let values = self.log.range(codec::position_key(start_key)..);
        EvictingScan::new(&self.log, values, far_behind)
    }

    /// The key of the batch holding `position`. A subscription reads up to the head, which is
    /// always the end of a batch, so its next read starts a batch: a point lookup finds that key
    /// without sled's reverse range scan, the costlier part of following the log live.
    fn batch_key_starting_or_containing(&self, position: Position) -> LogResult<Position> {
        if self.log.contains_key(codec::position_key(position))? {
            return Ok(position);
        }
        Ok(self.batch_key_containing(position)?.unwrap_or(position))
    }

    fn batch_key_containing(&self, position: Position) -> LogResult<Option<Position>> {
        match self.log.range(..=codec::position_key(position)).next_back() {
            Some(item) => {
                let (key, _) = item?;
                Ok(Some(codec::key_position(&key).map_err(|reason| {
                    LogError::Corrupt { position, reason }
                })?))
            }
            None => Ok(None),
        }
    }

    pub fn read_one(
        &self,
        position: Position,
        cached: &mut Option<(Position, sled::IVec)>,
    ) -> LogResult<RecordedEvent> {
        let fresh = match cached {
            Some((first, value)) => {
                let count = BatchReader::new(value)
                    .map(|r| r.count() as u64)
                    .unwrap_or(0);
                !(position >= *first && position < *first + count)
            }
            None => true,
        };
        if fresh {
            let key = self
                .batch_key_containing(position)?
                .ok_or_else(|| LogError::Corrupt {
                    position,
                    reason: "no batch holds this position".into(),
                })?;
            let value =
                self.log
                    .get(codec::position_key(key))?
                    .ok_or_else(|| LogError::Corrupt {
                        position,
                        reason: "batch vanished".into(),
                    })?;
            *cached = Some((key, value));
        }
        let (_, value) = cached.as_ref().expect("filled above");
        let mut reader =
            BatchReader::new(value).map_err(|reason| LogError::Corrupt { position, reason })?;
        while let Some(record) = reader.next_record() {
            let record =
                record.map_err(|(position, reason)| LogError::Corrupt { position, reason })?;
            if record.position == position {
                return codec::decode_envelope(record.envelope)
                    .map_err(|reason| LogError::Corrupt { position, reason });
            }
        }
        Err(LogError::Corrupt {
            position,
            reason: "position missing from its batch".into(),
        })
    }
}

/// Decodes the records of one batch that fall in `[from, last]`; false once past `last`.
fn decode_batch_into(
    value: &[u8],
    from: Position,
    last: Position,
    out: &mut Vec<RecordedEvent>,
) -> LogResult<bool> {
    let mut reader = BatchReader::new(value).map_err(|reason| LogError::Corrupt {
        position: from,
        reason,
    })?;
    while let Some(record) = reader.next_record() {
        let record = record.map_err(|(position, reason)| LogError::Corrupt { position, reason })?;
        if record.position < from {
            continue;
        }
        if record.position > last {
            return Ok(false);
        }
        let position = record.position;
        out.push(
            codec::decode_envelope(record.envelope)
                .map_err(|reason| LogError::Corrupt { position, reason })?,
        );
    }
    Ok(true)
}

/// The sled-backed event log. Cheap to share behind an `Arc`; one per data directory per process,
/// and one process per data directory (enforced by a lock file).
pub struct EventLog {
    shared: Arc<Shared>,
    sender: Mutex<Option<mpsc::Sender<WriterMessage>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    data_dir: PathBuf,
    _lock: File,
}

fn open_error(path: &Path, reason: impl ToString) -> LogError {
    LogError::Open {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Takes the data directory's lock file; a second process gets `DataDirLocked`.
pub(crate) fn lock_data_dir(dir: &Path) -> LogResult<File> {
    std::fs::create_dir_all(dir).map_err(|e| open_error(dir, e))?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(|e| open_error(dir, e))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(LogError::DataDirLocked {
            path: dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(open_error(dir, e)),
    }
}

/// How long an open waits for sled to let go of a database this process has just closed. sled's
/// background threads release its file lock a moment after the last handle is dropped, so an
/// open right after a close (a restart in tests, `comptoir verify` after a serve in one process)
/// failed now and then. No other process can hold it: the data dir's own lock is taken first.
const SLED_RELEASE_WAIT: Duration = Duration::from_secs(10);
const SLED_RELEASE_POLL: Duration = Duration::from_millis(10);
/// What an operator can do when the log's storage does not open.
const OPEN_HINT: &str =
    "run `comptoir verify` on this data dir; if the log cannot be opened, restore it from a backup";

fn open_sled(path: &Path, cache_bytes: u64, flush_every_ms: Option<u64>) -> LogResult<sled::Db> {
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(cache_bytes)
        .flush_every_ms(flush_every_ms)
        .mode(sled::Mode::HighThroughput);
    open_sled_when_released(&config).map_err(|e| open_error(path, format!("{e} ({OPEN_HINT})")))
}

/// Opens `config`'s database, waiting up to `SLED_RELEASE_WAIT` while this process still holds
/// it (see there). For every sled database of a data dir: the log's here, the projections' too.
pub fn open_sled_when_released(config: &sled::Config) -> sled::Result<sled::Db> {
    let deadline = Instant::now() + SLED_RELEASE_WAIT;
    loop {
        match config.open() {
            Err(error) if held_by_this_process(&error) && Instant::now() < deadline => {
                std::thread::sleep(SLED_RELEASE_POLL);
            }
            opened => return opened,
        }
    }
}

/// sled says so only in the message of an `Other` I/O error.
fn held_by_this_process(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

pub(crate) fn open_log_tree(dir: &Path, cache_bytes: u64) -> LogResult<(sled::Db, sled::Tree)> {
    let db = open_sled(&dir.join(LOG_DIR), cache_bytes, None)?;
    let tree = db.open_tree(LOG_TREE)?;
    Ok((db, tree))
}

/// The head position and hash, after checking the last batch's own chain: a torn or damaged last
/// write must stop the writer from extending the chain from a wrong hash.
pub(crate) fn recover_head(log: &sled::Tree) -> LogResult<(Position, Hash)> {
    let Some(last) = log.last()? else {
        return Ok((0, GENESIS_HASH));
    };
    let first = codec::key_position(&last.0).map_err(|reason| LogError::Corrupt {
        position: 0,
        reason,
    })?;
    let previous_hash = match log.range(..codec::position_key(first)).next_back() {
        Some(item) => {
            codec::batch_tail(&item?.1)
                .map_err(|(position, reason)| LogError::Corrupt { position, reason })?
                .1
        }
        None => GENESIS_HASH,
    };
    let mut hash = previous_hash;
    let mut reader = BatchReader::new(&last.1).map_err(|reason| LogError::Corrupt {
        position: first,
        reason,
    })?;
    let mut head = first.saturating_sub(1);
    while let Some(record) = reader.next_record() {
        let record = record.map_err(|(position, reason)| LogError::Corrupt { position, reason })?;
        hash = codec::chain_hash(&hash, record.envelope);
        if hash != record.hash || record.position != head + 1 {
            return Err(LogError::Corrupt {
                position: record.position,
                reason: "hash chain broken in the last batch".into(),
            });
        }
        head = record.position;
    }
    Ok((head, hash))
}

/// Refills the index tail from the log after `indexed_up_to`, writing runs as they fall due, so
/// that the indexes are exact before the writer starts.
fn catch_up_index(shared: &Shared, head: Position) -> LogResult<()> {
    if shared.index.indexed_up_to() > head {
        tracing::warn!(
            indexed = shared.index.indexed_up_to(),
            head,
            "index is ahead of the log; rebuilding it"
        );
        shared.index.clear()?;
    }
    let from = shared.index.indexed_up_to();
    let mut next = from + 1;
    while next <= head {
        let events = shared.read_range(next, head, INDEX_CATCH_UP_CHUNK_EVENTS)?;
        if events.is_empty() {
            return Err(LogError::Corrupt {
                position: next,
                reason: "log ends before its head".into(),
            });
        }
        next += events.len() as u64;
        shared
            .index
            .publish(events.iter().map(IndexEntry::of_recorded).collect());
        while shared.index.write_run_if_due()? {}
    }
    if head > from {
        tracing::info!(events = head - from, "index caught up with the log");
    }
    Ok(())
}

impl EventLog {
    /// Opens (or creates) the log in `dir`, recovers its head, catches up the indexes, and starts
    /// the writer and indexer threads.
    pub fn open(dir: impl AsRef<Path>, options: LogOptions) -> LogResult<Self> {
        let dir = dir.as_ref().to_path_buf();
        let lock = lock_data_dir(&dir)?;
        let (log_db, log) = open_log_tree(&dir, options.cache_bytes)?;
        let checkpoints = log_db.open_tree(CHECKPOINT_TREE)?;
        let index_db = open_sled(&dir.join(INDEX_DIR), options.cache_bytes / 2, Some(1_000))?;
        let (head, head_hash) = recover_head(&log)?;
        let (head_watch, _) = watch::channel(head);
        let shared = Arc::new(Shared {
            log_db,
            log,
            checkpoints,
            index: Index::open(index_db)?,
            durable_head: AtomicU64::new(head),
            head_watch,
            poisoned: AtomicBool::new(false),
        });
        catch_up_index(&shared, head)?;
        let (sender, receiver) = mpsc::channel(WRITER_QUEUE_DEPTH_MAX);
        let writer = Writer {
            shared: shared.clone(),
            receiver,
            clock: options.clock.clone(),
            next_position: head + 1,
            last_hash: head_hash,
        };
        let indexer_shared = shared.clone();
        let threads = vec![
            spawn_named("comptoir-log-writer", move || writer.run())?,
            spawn_named("comptoir-log-indexer", move || {
                indexer_shared.index.run_indexer()
            })?,
        ];
        Ok(EventLog {
            shared,
            sender: Mutex::new(Some(sender)),
            threads: Mutex::new(threads),
            data_dir: dir,
            _lock: lock,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Appends atomically; returns once the events are flushed to disk.
    pub async fn append(&self, request: AppendRequest) -> LogResult<AppendOutcome> {
        let (streams, event_count, byte_count) = prepare(request)?;
        let (reply, answer) = oneshot::channel();
        let job = AppendJob {
            streams,
            event_count,
            byte_count,
            reply,
        };
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(LogError::Unavailable)?;
        sender
            .send(WriterMessage::Append(job))
            .await
            .map_err(|_| LogError::Unavailable)?;
        answer.await.map_err(|_| LogError::Unavailable)?
    }

    /// The last durable position (0 for an empty log).
    pub fn head_position(&self) -> Position {
        self.shared.head()
    }

    /// Events from `from_position` (inclusive), at most `max_count` (capped at `READ_EVENTS_MAX`).
    pub fn read_all(
        &self,
        from_position: Position,
        max_count: usize,
    ) -> LogResult<Vec<RecordedEvent>> {
        self.shared.read_range(
            from_position,
            self.shared.head(),
            max_count.min(READ_EVENTS_MAX),
        )
    }

    /// Every event from `from_position` to the head as of now, decoded lazily batch by batch: the
    /// fast path for rebuilds and benchmarks.
    pub fn iter_all(&self, from_position: Position) -> LogResult<AllEvents> {
        let next = from_position.max(1);
        let start = self.shared.batch_key_containing(next)?.unwrap_or(next);
        let values: fn(sled::Result<(IVec, IVec)>) -> LogResult<IVec> = |item| Ok(item?.1);
        Ok(DecodedBatches::new(
            self.shared.scan_from(start).map(values),
            next,
            self.shared.head(),
        ))
    }

    /// Up to `max_count` records after `after` (capped at `READ_EVENTS_MAX`), as stored: their
    /// hashes and envelopes are not checked here, so that an auditor recomputing the chain sees
    /// what is on disk, altered or not.
    pub fn chain_page(&self, after: Position, max_count: usize) -> LogResult<ChainPage> {
        let head = self.shared.head();
        let last = head.min(after.saturating_add(max_count.min(READ_EVENTS_MAX) as u64));
        let mut page = ChainPage {
            previous_hash: GENESIS_HASH,
            records: Vec::new(),
        };
        if after > head {
            return Ok(page);
        }
        let start = self.shared.batch_key_containing(after.max(1))?.unwrap_or(1);
        for item in self.shared.scan_from(start) {
            let (_, value) = item?;
            let mut reader = BatchReader::new(&value).map_err(|reason| LogError::Corrupt {
                position: start,
                reason,
            })?;
            while let Some(record) = reader.next_record() {
                let record =
                    record.map_err(|(position, reason)| LogError::Corrupt { position, reason })?;
                if record.position == after {
                    page.previous_hash = record.hash;
                } else if record.position > last {
                    return Ok(page);
                } else if record.position > after {
                    page.records.push(ChainRecord {
                        position: record.position,
                        hash: record.hash,
                        envelope: record.envelope.to_vec(),
                    });
                }
            }
        }
        Ok(page)
    }

    /// The last durable position and the chain hash stored with it: an anchor to keep outside
    /// the shop (the genesis hash for an empty log).
    pub fn head_hash(&self) -> LogResult<(Position, [u8; 32])> {
        let head = self.shared.head();
        Ok((head, self.hash_at(head)?))
    }

    /// The chain hash stored with the record at `position` (the genesis hash at 0), which must
    /// be durable.
    pub fn hash_at(&self, position: Position) -> LogResult<[u8; 32]> {
        if position == 0 {
            return Ok(GENESIS_HASH);
        }
        let page = self.chain_page(position - 1, 1)?;
        match page.records.first() {
            Some(record) if record.position == position => Ok(record.hash),
            _ => Err(LogError::Corrupt {
                position,
                reason: "no durable record at this position".into(),
            }),
        }
    }

    /// Events of one stream from `from_version` (inclusive), at most `max_count`.
    pub fn read_stream(
        &self,
        stream: &str,
        from_version: StreamVersion,
        max_count: usize,
    ) -> LogResult<Vec<RecordedEvent>> {
        let head = self.shared.head();
        let positions = self.shared.index.stream_positions(
            stream,
            from_version.max(1),
            max_count.min(READ_EVENTS_MAX),
        )?;
        let mut cached = None;
        positions
            .into_iter()
            .filter(|(_, position)| *position <= head)
            .map(|(_, position)| self.shared.read_one(position, &mut cached))
            .collect()
    }

    /// The stream's current version; 0 when it does not exist.
    pub fn stream_version(&self, stream: &str) -> LogResult<StreamVersion> {
        self.shared.index.stream_head(stream)
    }

    /// Catches up from `from_position` (inclusive) and then follows live appends, in order, with
    /// no gap and no duplicate at the hand-over: it only ever reads up to the published durable
    /// head, and it registers for the next head before reading the current one.
    pub fn subscribe(
        &self,
        from_position: Position,
    ) -> BoxStream<'static, LogResult<RecordedEvent>> {
        self.subscribe_batches(from_position)
            .flat_map(|batch| match batch {
                Ok(events) => futures::stream::iter(events.into_iter().map(Ok)).left_stream(),
                Err(error) => futures::stream::once(async { Err(error) }).right_stream(),
            })
            .boxed()
    }

    /// Like `subscribe`, one item per stored batch: events the writer stored together, which
    /// always hold whole appends (the first item may be the end of one when `from_position` is
    /// not a batch's first). For consumers that must never act on part of an append.
    pub fn subscribe_batches(
        &self,
        from_position: Position,
    ) -> BoxStream<'static, LogResult<Vec<RecordedEvent>>> {
        let state = BatchSubscriptionState {
            shared: self.shared.clone(),
            head: self.shared.head_watch.subscribe(),
            next: from_position.max(1),
            ready: VecDeque::new(),
        };
        futures::stream::unfold(state, next_subscribed_batch).boxed()
    }

    /// Stores a consumer's position durably.
    pub async fn save_checkpoint(&self, name: &str, position: Position) -> LogResult<()> {
        self.shared
            .checkpoints
            .insert(name.as_bytes(), &position.to_be_bytes()[..])?;
        self.shared.log_db.flush_async().await?;
        Ok(())
    }

    pub fn load_checkpoint(&self, name: &str) -> LogResult<Option<Position>> {
        match self.shared.checkpoints.get(name.as_bytes())? {
            Some(bytes) => {
                let array: [u8; 8] = bytes
                    .as_ref()
                    .try_into()
                    .map_err(|_| LogError::Storage(format!("checkpoint {name} is not 8 bytes")))?;
                Ok(Some(u64::from_be_bytes(array)))
            }
            None => Ok(None),
        }
    }

    /// Walks the whole hash chain.
    pub fn verify(&self) -> LogResult<VerifyReport> {
        verify_tree(&self.shared.log)
    }

    /// Stops accepting appends, lets the writer commit what is queued, drains the indexer and
    /// flushes both databases. Called by `Drop` too; safe to call twice.
    pub fn shutdown(&self) {
        // Dropping the last sender ends the writer once its queue is empty.
        drop(self.sender.lock().unwrap_or_else(|p| p.into_inner()).take());
        let handles: Vec<JoinHandle<()>> = self
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        let mut handles = handles.into_iter();
        if let Some(writer) = handles.next() {
            let _ = writer.join();
        }
        self.shared.index.stop();
        for handle in handles {
            let _ = handle.join();
        }
        if let Err(error) = self.shared.log_db.flush() {
            tracing::error!(%error, "final log flush failed");
        }
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn spawn_named(name: &str, body: impl FnOnce() + Send + 'static) -> LogResult<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .map_err(|e| LogError::Storage(format!("cannot start thread {name}: {e}")))
}

/// The values of the log's batches, in key order, from one opening of the tree.
pub type TreeBatches =
    std::iter::Map<EvictingScan, fn(sled::Result<(IVec, IVec)>) -> LogResult<IVec>>;

/// Iterator over a range of the log, one decoded batch at a time.
pub type AllEvents = DecodedBatches<TreeBatches>;

/// The events `next..=until` of the batches `batches` yields (the values of the log's
/// batches, in order, the first holding `next`), decoded one batch at a time.
pub struct DecodedBatches<B> {
    batches: B,
    next: Position,
    until: Position,
    buffer: VecDeque<RecordedEvent>,
}

impl<B> DecodedBatches<B> {
    pub(crate) fn new(batches: B, next: Position, until: Position) -> Self {
        DecodedBatches {
            batches,
            next,
            until,
            buffer: VecDeque::new(),
        }
    }

    fn fail(&mut self, error: LogError) -> Option<LogResult<RecordedEvent>> {
        self.next = self.until + 1;
        Some(Err(error))
    }
}

impl<B: Iterator<Item = LogResult<IVec>>> Iterator for DecodedBatches<B> {
    type Item = LogResult<RecordedEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                return Some(Ok(event));
            }
            if self.next > self.until {
                return None;
            }
            let value = match self.batches.next() {
                Some(Ok(value)) => value,
                Some(Err(error)) => return self.fail(error),
                None => {
                    let position = self.next;
                    return self.fail(LogError::Corrupt {
                        position,
                        reason: "log ends before its head".into(),
                    });
                }
            };
            let mut events = Vec::new();
            if let Err(error) = decode_batch_into(&value, self.next, self.until, &mut events) {
                return self.fail(error);
            }
            self.next += events.len() as u64;
            self.buffer.extend(events);
        }
    }
}

struct BatchSubscriptionState {
    shared: Arc<Shared>,
    head: watch::Receiver<Position>,
    next: Position,
    ready: VecDeque<Vec<RecordedEvent>>,
}

async fn next_subscribed_batch(
    mut state: BatchSubscriptionState,
) -> Option<(LogResult<Vec<RecordedEvent>>, BatchSubscriptionState)> {
    loop {
        if let Some(batch) = state.ready.pop_front() {
            return Some((Ok(batch), state));
        }
        let head = *state.head.borrow_and_update();
        if state.next <= head {
            match state
                .shared
                .read_batches(state.next, head, SUBSCRIPTION_CHUNK_EVENTS)
            {
                Ok(batches) => {
                    state.next += batches.iter().map(Vec::len).sum::<usize>() as u64;
                    state.ready.extend(batches);
                    continue;
                }
                Err(error) => return Some((Err(error), state)),
            }
        }
        if state.head.changed().await.is_err() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_still_held_is_opened_once_released() {
        let dir = tempfile::tempdir().expect("dir");
        let held = open_sled(dir.path(), 1024 * 1024, None).expect("open");
        let at_once = sled::Config::new().path(dir.path()).open();
        assert!(
            matches!(&at_once, Err(error) if held_by_this_process(error)),
            "sled's lock is held: {:?}",
            at_once.map(|_| ())
        );
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(held);
        });
        open_sled(dir.path(), 1024 * 1024, None).expect("opened once released");
        release.join().expect("released");
    }
}
