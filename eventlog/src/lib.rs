//! comptoir's event log: the only ground truth of the system.
//!
//! Guarantees, by construction:
//! - an append is acknowledged only after sled flushed it (group commit: one flush per batch of
//!   concurrent appends);
//! - positions are dense, from 1, assigned by a single writer, and readers only see durable ones;
//! - appends are atomic across streams and checked against expected versions;
//! - event ids are idempotency keys: a retry returns the original outcome, a reuse with other
//!   content is refused; this holds across restarts because it is an index derived from the log;
//! - every record chains a SHA-256 of its predecessor, so `verify` finds any altered byte.
//!
//! Only this crate touches sled. It knows nothing of the domain, of HTTP or of JSON.

mod bloom;
mod clock;
pub mod codec;
mod error;
mod index;
pub mod limits;
mod offline;
mod restore;
mod run;
mod scan;
mod store;
mod types;
mod validate;
mod verify;
mod writer;

use async_trait::async_trait;
use futures::stream::BoxStream;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{LogError, LogResult};
pub use offline::{BatchValues, Batches, OfflineEvents, OfflineLog};
pub use restore::restore_data_dir;
pub use store::{
    open_sled_when_released, AllEvents, DecodedBatches, EventLog, LogOptions, TreeBatches,
};
pub use types::{
    AppendOutcome, AppendRequest, ChainPage, ChainRecord, EventMetadata, ExpectedVersion, NewEvent,
    Position, RecordedEvent, StreamAppend, StreamAppendOutcome, StreamVersion, VerifyReport,
};
pub use verify::verify_data_dir;

/// What the rest of comptoir needs from a log. `EventLog` (sled, one machine) implements it; a
/// replicated backend (NATS JetStream is the candidate) can implement it later without changes
/// to the domain or the projections.
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    async fn append(&self, request: AppendRequest) -> LogResult<AppendOutcome>;
    fn read_stream(
        &self,
        stream: &str,
        from_version: StreamVersion,
        max_count: usize,
    ) -> LogResult<Vec<RecordedEvent>>;
    fn read_all(&self, from_position: Position, max_count: usize) -> LogResult<Vec<RecordedEvent>>;
    fn subscribe(&self, from_position: Position) -> BoxStream<'static, LogResult<RecordedEvent>>;
    /// The events of each stored batch from `from_position` on, whole appends (see
    /// `EventLog::subscribe_batches`).
    fn subscribe_batches(
        &self,
        from_position: Position,
    ) -> BoxStream<'static, LogResult<Vec<RecordedEvent>>>;
    fn head_position(&self) -> Position;
    async fn save_checkpoint(&self, name: &str, position: Position) -> LogResult<()>;
    fn load_checkpoint(&self, name: &str) -> LogResult<Option<Position>>;
}

#[async_trait]
impl EventStore for EventLog {
    async fn append(&self, request: AppendRequest) -> LogResult<AppendOutcome> {
        EventLog::append(self, request).await
    }

    fn read_stream(
        &self,
        stream: &str,
        from_version: StreamVersion,
        max_count: usize,
    ) -> LogResult<Vec<RecordedEvent>> {
        EventLog::read_stream(self, stream, from_version, max_count)
    }

    fn read_all(&self, from_position: Position, max_count: usize) -> LogResult<Vec<RecordedEvent>> {
        EventLog::read_all(self, from_position, max_count)
    }

    fn subscribe(&self, from_position: Position) -> BoxStream<'static, LogResult<RecordedEvent>> {
        EventLog::subscribe(self, from_position)
    }

    fn subscribe_batches(
        &self,
        from_position: Position,
    ) -> BoxStream<'static, LogResult<Vec<RecordedEvent>>> {
        EventLog::subscribe_batches(self, from_position)
    }

    fn head_position(&self) -> Position {
        EventLog::head_position(self)
    }

    async fn save_checkpoint(&self, name: &str, position: Position) -> LogResult<()> {
        EventLog::save_checkpoint(self, name, position).await
    }

    fn load_checkpoint(&self, name: &str) -> LogResult<Option<Position>> {
        EventLog::load_checkpoint(self, name)
    }
}

/// Events read in order, boxed so that a replay can take any log.
pub type ReplayEvents<'a> = Box<dyn Iterator<Item = LogResult<RecordedEvent>> + Send + 'a>;

/// A log a replay reads whole: its head, and every event from a position to that head. The live
/// `EventLog` is one (online rebuilds); an `OfflineLog` is another, in bounded memory, for the
/// offline `rebuild` and `verify` commands.
pub trait ReplaySource: Sync {
    fn replay_head(&self) -> Position;
    fn replay_from(&self, from_position: Position) -> LogResult<ReplayEvents<'_>>;
}

impl ReplaySource for EventLog {
    fn replay_head(&self) -> Position {
        self.head_position()
    }

    fn replay_from(&self, from_position: Position) -> LogResult<ReplayEvents<'_>> {
        Ok(Box::new(self.iter_all(from_position)?))
    }
}

impl ReplaySource for OfflineLog {
    fn replay_head(&self) -> Position {
        self.head_position()
    }

    fn replay_from(&self, from_position: Position) -> LogResult<ReplayEvents<'_>> {
        Ok(Box::new(self.iter_all(from_position)))
    }
}
