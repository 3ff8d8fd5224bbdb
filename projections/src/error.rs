//! The one error type of the projections.

use crate::codec::CodecError;
use comptoir_eventlog::{LogError, Position};
use std::path::PathBuf;

/// Everything that can go wrong while building or reading the read models.
///
/// For the API: `InvalidCursor` and `InvalidQuery` are the client's fault (400);
/// `WaitTimeout` means the read models are behind (504); `RunnerStopped` means they will not
/// catch up until restarted (503); everything else is internal (500).
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("cannot open the projections at {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("projection storage failed: {0}")]
    Storage(String),
    #[error("stored projection value under key {key} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("the log delivered position {got} where {expected} was due")]
    Gap { expected: Position, got: Position },
    #[error("the paging cursor is malformed or belongs to another list")]
    InvalidCursor,
    #[error("invalid query: {reason}")]
    InvalidQuery { reason: String },
    #[error(
        "projections reached position {reached}, not {position}, within {waited_ms} ms; retry later"
    )]
    WaitTimeout {
        position: Position,
        reached: Position,
        waited_ms: u64,
    },
    #[error("the projection runner stopped: {reason}")]
    RunnerStopped { reason: String },
    #[error("the ledger does not balance at position {position}: debit {debit}, credit {credit}")]
    Unbalanced {
        position: Position,
        debit: String,
        credit: String,
    },
    #[error("cannot render the document: {reason}")]
    Render { reason: String },
    #[error("unknown projection {name:?} (known: read_models, ledger)")]
    UnknownProjection { name: String },
    #[error("a projection runner is already running over these projections")]
    RunnerAlreadyStarted,
    #[error("an online rebuild is already running; wait for it to finish")]
    RebuildRunning,
    #[error("the online rebuild stopped: {reason}; the previous projections stay in force")]
    RebuildStopped { reason: String },
    /// A read or export would exceed one of its bounds; the caller should narrow it.
    #[error("too many {what}: at most {limit}; narrow the period or the search")]
    TooLarge { what: String, limit: usize },
}

impl From<sled::Error> for ProjectionError {
    fn from(error: sled::Error) -> Self {
        ProjectionError::Storage(error.to_string())
    }
}

pub type ProjectionResult<T> = Result<T, ProjectionError>;
