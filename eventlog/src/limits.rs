//! Every bound the log enforces, in one place, with the relations between them checked at compile time.

/// Events one append may carry, across all its streams.
pub const EVENTS_PER_APPEND_MAX: usize = 1_000;
/// Streams one append may touch atomically.
pub const STREAMS_PER_APPEND_MAX: usize = 32;
/// Encoded size of one event (payload plus metadata and names).
pub const EVENT_BYTES_MAX: usize = 1024 * 1024;
/// Length of a stream name, in bytes.
pub const STREAM_NAME_BYTES_MAX: usize = 256;
/// Length of an event type name, in bytes.
pub const EVENT_TYPE_BYTES_MAX: usize = 128;
/// Length of the actor and idempotency-key metadata fields, in bytes.
pub const METADATA_TEXT_BYTES_MAX: usize = 256;

/// Events the writer commits in one flush.
pub const COMMIT_EVENTS_MAX: usize = 8_192;
/// Bytes the writer commits in one flush.
pub const COMMIT_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Size a stored batch (one sled value) grows to before the writer starts the next one of the
/// same commit; a batch always holds whole appends, so one larger append is stored alone. sled
/// 0.34 splits a leaf only past 16 keys and writes a leaf of more than ~128 KiB (a quarter of its
/// 512 KiB segment) to a blob file, which its cache counts as the pointer's few bytes and so
/// never evicts: a log stored in commit-sized values (hundreds of KiB under load) stayed in
/// memory whole. 17 batches of this size stay under that threshold.
pub const STORED_BATCH_BYTES_TARGET: usize = 6 * 1024;
/// What a record adds to its event's bytes in a batch (framing, hash, envelope fields): only an
/// estimate, to cut batches near `STORED_BATCH_BYTES_TARGET`.
pub const RECORD_FRAME_BYTES_ESTIMATE: usize = 120;
/// Append requests waiting for the writer; callers wait (backpressure) beyond this.
pub const WRITER_QUEUE_DEPTH_MAX: usize = 4_096;

/// Acknowledged events not yet written to an index run; the writer waits beyond this, which
/// bounds the memory of the in-memory index tail (~70 bytes per event).
pub const INDEX_TAIL_EVENTS_MAX: usize = 262_144;
/// Events per immutable index run (one sled value).
pub const INDEX_RUN_EVENTS: usize = 65_536;
/// Consecutive index runs summarised by one group filter: a lookup probes a group's filter once
/// instead of each of its runs' (see `index.rs`).
pub const INDEX_RUNS_PER_GROUP: usize = 16;
/// Events read at a time while refilling the index tail from the log at open.
pub const INDEX_CATCH_UP_CHUNK_EVENTS: usize = 16_384;

/// Events returned by one read call.
pub const READ_EVENTS_MAX: usize = 10_000;
/// Events a subscription reads from storage at a time while catching up.
pub const SUBSCRIPTION_CHUNK_EVENTS: usize = 1_024;

/// Default sled page cache, per database. sled's own default (1 GiB) is far too large.
pub const CACHE_BYTES_DEFAULT: u64 = 16 * 1024 * 1024;

/// Bytes of batches an offline reader (`OfflineLog`) reads before it reopens the log, which is
/// what frees the pages sled kept: about what such a reader holds of the log at once. Measured
/// on the rebuild bench (100k orders, 3 runs each): 16 MiB gave a peak RSS of 209–217 MB against
/// 247–261 MB with 32 MiB, at the same speed.
pub const OFFLINE_PASS_BYTES: u64 = 16 * 1024 * 1024;
/// sled page cache of an offline reader's openings of the log.
pub const OFFLINE_CACHE_BYTES: u64 = 8 * 1024 * 1024;

const _: () = assert!(EVENTS_PER_APPEND_MAX <= COMMIT_EVENTS_MAX);
const _: () = assert!(EVENT_BYTES_MAX * 2 <= COMMIT_BYTES_MAX);
// The tail must hold a due run plus a full commit batch plus a catch-up chunk, or publishing
// could wait for a run that can never be written.
const _: () = assert!(
    INDEX_RUN_EVENTS + COMMIT_EVENTS_MAX + INDEX_CATCH_UP_CHUNK_EVENTS <= INDEX_TAIL_EVENTS_MAX
);
const _: () = assert!(STREAMS_PER_APPEND_MAX <= EVENTS_PER_APPEND_MAX);
