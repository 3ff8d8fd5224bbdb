//! The command glue: load an aggregate from its stream, decide, append with the expected version,
//! retry on conflict. `domain` knows no storage, so this lives here, in `api`.
//!
//! Idempotency: every command carries a client-chosen `command_id`. Event ids are derived from it
//! (UUID v5 of the command id and the event's index) and every event records the command id as its
//! `causation_id`. Loading a stream therefore reveals whether a command was already applied, and a
//! retried command returns the original outcome instead of deciding again, even after a restart.

use std::ops::RangeInclusive;

use chrono::{DateTime, Utc};
use comptoir_domain::{Aggregate, DomainError, Environment};
use comptoir_eventlog::{
    AppendOutcome, AppendRequest, EventMetadata, EventStore, ExpectedVersion, LogError, Position,
    StreamVersion,
};
use uuid::Uuid;

use comptoir_projections::codec::{decode_event, encode_event, CodecError};

/// Attempts one command makes before giving up on a stream that keeps changing under it. Each
/// conflict means another writer made progress, so `n` concurrent writers on one stream all
/// succeed when `n` is at most this.
pub const COMMAND_ATTEMPTS_MAX: u32 = 16;
/// Events read per call while loading a stream; the fold keeps memory at one page.
pub const STREAM_PAGE_EVENTS: usize = 1_000;

const _: () = assert!(STREAM_PAGE_EVENTS <= comptoir_eventlog::limits::READ_EVENTS_MAX);

/// The production environment: the system clock and time-ordered UUID v7 ids.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemEnvironment;

impl Environment for SystemEnvironment {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A read model a decision consults (e.g. a closure's totals) could not be read.
    #[error(transparent)]
    Projection(#[from] comptoir_projections::ProjectionError),
    #[error("stream {stream} kept changing; gave up after {attempts} attempts")]
    Contended { stream: String, attempts: u32 },
    /// Internal to decisions: the command id was applied before (see `session`); never returned
    /// by `execute_many`, which answers with a replay instead.
    #[error("command already applied at position {}", .0.first_position)]
    AlreadyApplied(cache::AppliedCommand),
    #[error("stream {stream} replays version {found} where {expected} was expected")]
    Replay {
        stream: String,
        expected: StreamVersion,
        found: StreamVersion,
    },
}

/// What a command did.
#[derive(Debug)]
pub struct CommandOutcome<A: Aggregate> {
    pub stream: String,
    /// The aggregate after the command (after everything in its stream, for a replayed command).
    pub state: A,
    /// The version of the command's last event, or the stream's version when it recorded none.
    pub version: StreamVersion,
    /// The events this command recorded, in order.
    pub events: Vec<A::Event>,
    /// Their global positions; `None` when the command recorded nothing.
    pub positions: Option<RangeInclusive<Position>>,
    /// True when the command id had been applied before and this call changed nothing.
    pub already_applied: bool,
}

/// The stream that holds aggregate `id` of kind `A`.
pub fn stream_name<A: Aggregate>(id: &str) -> String {
    format!("{}-{id}", A::STREAM_KIND)
}

/// The id of the `index`th event of a command: the same on every retry of that command.
pub fn event_id(command_id: Uuid, index: usize) -> Uuid {
    Uuid::new_v5(&command_id, &(index as u64).to_be_bytes())
}

/// An aggregate folded from its stream, plus what one command already recorded in it.
struct Loaded<A: Aggregate> {
    state: A,
    version: StreamVersion,
    applied: Vec<(Position, StreamVersion, A::Event)>,
}

/// Folds the stream of aggregate `id`; returns the state and the stream's version (0 if none).
pub fn load<A: Aggregate, S: EventStore + ?Sized>(
    store: &S,
    id: &str,
) -> Result<(A, StreamVersion), CommandError> {
    let loaded = load_stream::<A, S>(store, &stream_name::<A>(id), None)?;
    Ok((loaded.state, loaded.version))
}

fn load_stream<A: Aggregate, S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    command_id: Option<Uuid>,
) -> Result<Loaded<A>, CommandError> {
    let mut loaded = Loaded {
        state: A::default(),
        version: 0,
        applied: Vec::new(),
    };
    loop {
        let page = store.read_stream(stream, loaded.version + 1, STREAM_PAGE_EVENTS)?;
        let page_len = page.len();
        for recorded in page {
            // The pair of the log's check on append: versions replay densely from 1.
            if recorded.stream_version != loaded.version + 1 {
                return Err(CommandError::Replay {
                    stream: stream.to_string(),
                    expected: loaded.version + 1,
                    found: recorded.stream_version,
                });
            }
            let event: A::Event = decode_event(&recorded)?;
            loaded.state = loaded.state.evolve(&event);
            loaded.version = recorded.stream_version;
            if command_id.is_some() && recorded.metadata.causation_id == command_id {
                loaded
                    .applied
                    .push((recorded.position, recorded.stream_version, event));
            }
        }
        if page_len < STREAM_PAGE_EVENTS {
            return Ok(loaded);
        }
    }
}

/// Runs `command` (identified by `command_id`) against aggregate `id`: decides on the current
/// state and appends the events at the version it was decided on, retrying on conflict up to
/// [`COMMAND_ATTEMPTS_MAX`] times. `metadata.causation_id` is set to `command_id`.
pub async fn execute<A: Aggregate, S: EventStore + ?Sized>(
    store: &S,
    env: &dyn Environment,
    id: &str,
    command_id: Uuid,
    command: &A::Command,
    metadata: EventMetadata,
) -> Result<CommandOutcome<A>, CommandError> {
    let stream = stream_name::<A>(id);
    let metadata = EventMetadata {
        causation_id: Some(command_id),
        ..metadata
    };
    for _attempt in 0..COMMAND_ATTEMPTS_MAX {
        let loaded = load_stream::<A, S>(store, &stream, Some(command_id))?;
        if !loaded.applied.is_empty() {
            return Ok(replayed_outcome(stream, loaded));
        }
        let events = loaded.state.decide(command, env)?;
        if events.is_empty() {
            return Ok(CommandOutcome {
                stream,
                version: loaded.version,
                state: loaded.state,
                events,
                positions: None,
                already_applied: false,
            });
        }
        let request = append_request(&stream, loaded.version, command_id, &events, &metadata)?;
        match store.append(request).await {
            Ok(appended) if !appended.already_stored => {
                return Ok(appended_outcome(stream, loaded, events, appended));
            }
            // A concurrent retry of this very command won the race: report what it recorded.
            Ok(_) | Err(LogError::IdempotencyMismatch { .. }) => {
                return outcome_after_race::<A, S>(store, stream, command_id);
            }
            // Another command appended since we loaded: decide again on the new state.
            Err(LogError::VersionConflict { .. }) => tokio::task::yield_now().await,
            Err(error) => return Err(error.into()),
        }
    }
    Err(CommandError::Contended {
        stream,
        attempts: COMMAND_ATTEMPTS_MAX,
    })
}

fn append_request<E: comptoir_domain::DomainEvent>(
    stream: &str,
    loaded_version: StreamVersion,
    command_id: Uuid,
    events: &[E],
    metadata: &EventMetadata,
) -> Result<AppendRequest, CodecError> {
    let new_events = events
        .iter()
        .enumerate()
        .map(|(index, event)| encode_event(event, event_id(command_id, index), metadata.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let expected = match loaded_version {
        0 => ExpectedVersion::NoStream,
        version => ExpectedVersion::Exact(version),
    };
    Ok(AppendRequest::single(stream, expected, new_events))
}

fn appended_outcome<A: Aggregate>(
    stream: String,
    loaded: Loaded<A>,
    events: Vec<A::Event>,
    appended: AppendOutcome,
) -> CommandOutcome<A> {
    let event_count = events.len() as u64;
    debug_assert_eq!(
        appended.last_position - appended.first_position + 1,
        event_count
    );
    let state = events
        .iter()
        .fold(loaded.state, |state, event| state.evolve(event));
    CommandOutcome {
        stream,
        state,
        version: loaded.version + event_count,
        events,
        positions: Some(appended.first_position..=appended.last_position),
        already_applied: false,
    }
}

fn replayed_outcome<A: Aggregate>(stream: String, loaded: Loaded<A>) -> CommandOutcome<A> {
    let first_position = loaded.applied.first().map(|(position, _, _)| *position);
    let last = loaded
        .applied
        .last()
        .map(|(position, version, _)| (*position, *version));
    CommandOutcome {
        stream,
        state: loaded.state,
        version: last.map_or(loaded.version, |(_, version)| version),
        positions: first_position
            .zip(last)
            .map(|(first, (last, _))| first..=last),
        events: loaded
            .applied
            .into_iter()
            .map(|(_, _, event)| event)
            .collect(),
        already_applied: true,
    }
}

/// After the log reported this command's event ids as stored: reload and return what was
/// recorded. If nothing was, the ids were reused by another command, which is the caller's error.
fn outcome_after_race<A: Aggregate, S: EventStore + ?Sized>(
    store: &S,
    stream: String,
    command_id: Uuid,
) -> Result<CommandOutcome<A>, CommandError> {
    let loaded = load_stream::<A, S>(store, &stream, Some(command_id))?;
    if loaded.applied.is_empty() {
        return Err(CommandError::Log(LogError::IdempotencyMismatch {
            event_id: event_id(command_id, 0),
        }));
    }
    Ok(replayed_outcome(stream, loaded))
}

pub mod cache;
pub mod session;

pub use cache::StateCache;
pub use session::{execute_many, CommandInput, Executed, Executor, Session};

#[cfg(test)]
mod tests;
