//! The values that cross the log's boundary: what callers append and what readers get back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Global, dense position of an event in the log, from 1.
pub type Position = u64;
/// Version of an event inside its stream, from 1; 0 means the stream does not exist.
pub type StreamVersion = u64;

/// What the caller believes the stream's current version to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have exactly this version.
    Exact(StreamVersion),
}

impl ExpectedVersion {
    pub(crate) fn accepts(self, current: StreamVersion) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(version) => current == version,
        }
    }
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(version) => write!(f, "{version}"),
        }
    }
}

/// Who and what caused an event; stored beside the payload, never interpreted by the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventMetadata {
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    pub actor: Option<String>,
    pub idempotency_key: Option<String>,
}

/// An event to append. `event_id` is chosen by the client and makes retries safe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u16,
    pub payload: Vec<u8>,
    pub metadata: EventMetadata,
}

/// Events for one stream, appended only if the stream is at the expected version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamAppend {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// One atomic append: every stream's events are stored, or none.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AppendRequest {
    pub streams: Vec<StreamAppend>,
}

impl AppendRequest {
    pub fn single(
        stream: impl Into<String>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Self {
        AppendRequest {
            streams: vec![StreamAppend {
                stream: stream.into(),
                expected,
                events,
            }],
        }
    }

    pub fn event_count(&self) -> usize {
        self.streams.iter().map(|s| s.events.len()).sum()
    }
}

/// Where one stream ended up after an append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamAppendOutcome {
    pub stream: String,
    pub first_version: StreamVersion,
    pub last_version: StreamVersion,
}

/// The result of an append. A retried append of stored events returns the original figures with
/// `already_stored` set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    pub first_position: Position,
    pub last_position: Position,
    pub streams: Vec<StreamAppendOutcome>,
    pub already_stored: bool,
}

/// An event as stored in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    pub position: Position,
    pub stream: String,
    pub stream_version: StreamVersion,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u16,
    pub recorded_at: DateTime<Utc>,
    pub metadata: EventMetadata,
    pub payload: Vec<u8>,
}

/// One stored record as the hash chain covers it: its position, the chain hash stored with it
/// (SHA-256 of the previous record's hash and `envelope`) and the envelope's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainRecord {
    pub position: Position,
    pub hash: [u8; 32],
    pub envelope: Vec<u8>,
}

impl ChainRecord {
    /// Checks that this record can follow the record at `previous` whose stored hash is
    /// `previous_hash`: it is the next position and its envelope gives its hash. The reason when
    /// it cannot, for whoever reads records from outside the log (a backup, a restore).
    pub fn check_follows(
        &self,
        previous: Position,
        previous_hash: &[u8; 32],
    ) -> Result<(), String> {
        if self.position != previous + 1 {
            return Err(format!("it comes after {previous}"));
        }
        if crate::codec::chain_hash(previous_hash, &self.envelope) != self.hash {
            return Err("its bytes do not give its hash".into());
        }
        Ok(())
    }
}

/// Consecutive records of the chain and the hash they follow: what an auditor needs to
/// recompute the chain from an anchor of their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainPage {
    /// The stored hash of the record before the first one (the genesis hash before position 1).
    pub previous_hash: [u8; 32],
    pub records: Vec<ChainRecord>,
}

/// What `verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub events_checked: u64,
    pub head_position: Position,
    pub head_hash: [u8; 32],
    /// The first position whose record does not check out, and why.
    pub first_bad: Option<(Position, String)>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none()
    }
}
