use std::path::PathBuf;

use uuid::Uuid;

/// The one error type of the event log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("data directory {path} is locked by another process")]
    DataDirLocked { path: PathBuf },
    #[error("cannot open the event log in {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("stream {stream} is at version {current}, expected {expected}")]
    VersionConflict {
        stream: String,
        expected: String,
        current: u64,
    },
    #[error("event {event_id} was already stored with different content")]
    IdempotencyMismatch { event_id: Uuid },
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    #[error("limit exceeded: {what} is {actual}, at most {max}")]
    LimitExceeded {
        what: &'static str,
        actual: usize,
        max: usize,
    },
    #[error("corrupt record at position {position}: {reason}")]
    Corrupt { position: u64, reason: String },
    #[error("storage failure: {0}")]
    Storage(String),
    #[error("the event log is shutting down or failed earlier and accepts no more appends")]
    Unavailable,
}

impl From<sled::Error> for LogError {
    fn from(error: sled::Error) -> Self {
        LogError::Storage(error.to_string())
    }
}

pub type LogResult<T> = Result<T, LogError>;
