//! Decisions across several aggregates, appended once.
//!
//! A decision is a closure over a [`Session`]: it loads the aggregates it needs (from the
//! [`StateCache`]), asks each to decide, and the session stages the resulting events per stream
//! with the version each stream was read at. [`execute_many`] then appends every staged stream in
//! ONE atomic request, each with its exact expected version (or "no stream"), so that either all
//! effects are recorded or none. On a version conflict the whole decision runs again on fresh
//! state, at most [`COMMAND_ATTEMPTS_MAX`] times.
//!
//! Idempotency is the same as for single-aggregate commands: event ids are UUID v5 of the command
//! id and the event's index in the append, every event's `causation_id` is the command id, and the
//! first stream a decision decides on (its primary stream) tells whether the command was already
//! applied. A decision must therefore always decide on its primary stream first. The request's
//! fingerprint is stored in the events' `idempotency_key` metadata, so that a replay with another
//! request is detected even after a restart.
//!
//! Contended streams (a shop's document series) are **sequenced**: the decision holds the stream's
//! stripe mutex while it decides and while its append is queued at the log's writer, and records
//! the state it expects in the cache as "ahead". The next issuer decides on that state without
//! waiting for the flush, so numbers stay gap-free (the log checks every version) while many
//! documents share one group commit.

use std::any::Any;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use comptoir_domain::{Aggregate, Environment};
use comptoir_eventlog::{
    AppendOutcome, AppendRequest, EventMetadata, EventStore, ExpectedVersion, LogError, NewEvent,
    Position, StreamAppend, StreamVersion,
};
use uuid::Uuid;

use super::cache::{AppliedCommand, Loaded, StateCache};
use super::{event_id, CommandError, COMMAND_ATTEMPTS_MAX};
use comptoir_projections::codec::encode_event;
use comptoir_projections::hints::{DecodedHints, HintedEvent};

/// Events one decision may record, across all its streams.
pub const COMMAND_EVENTS_MAX: usize = 256;
/// Upper bound of the pause between two attempts after a conflict, per attempt made.
const CONFLICT_BACKOFF_MICROS_PER_ATTEMPT: u64 = 400;

const _: () = assert!(COMMAND_EVENTS_MAX <= comptoir_eventlog::limits::EVENTS_PER_APPEND_MAX);

/// Who runs decisions: the log, the hot state, where time and ids come from, and the
/// projections' hint table, which receives the appended events as values so that the runner
/// need not parse them back (`None` where no projections follow the log).
pub struct Executor<'a, S: EventStore + ?Sized> {
    pub store: &'a S,
    pub cache: &'a StateCache,
    pub env: &'a dyn Environment,
    pub hints: Option<&'a DecodedHints>,
}

/// One command as the client sent it.
#[derive(Clone, Debug, Default)]
pub struct CommandInput {
    pub command_id: Uuid,
    /// A digest of the request; a replay of the command id with another digest is refused.
    pub fingerprint: Option<String>,
    /// Who asked, recorded in the metadata.
    pub actor: Option<String>,
    /// Streams whose writers must be sequenced (see the module doc).
    pub sequenced: Vec<String>,
}

/// What a decision did.
#[derive(Debug)]
pub enum Executed<T> {
    /// Decided now; `positions` is `None` when nothing needed recording.
    Applied {
        output: T,
        positions: Option<RangeInclusive<Position>>,
    },
    /// The command id had been applied before; nothing changed.
    Replayed { first_position: Position },
}

impl<T> Executed<T> {
    /// The position a client waits for to read its write: the last event recorded, or the
    /// first one of a replayed command.
    pub fn position(&self) -> Option<Position> {
        match self {
            Executed::Applied { positions, .. } => positions.as_ref().map(|p| *p.end()),
            Executed::Replayed { first_position } => Some(*first_position),
        }
    }
}

/// Events decided for one stream.
struct Staged {
    stream: String,
    expected: StreamVersion,
    version: StreamVersion,
    state: Arc<dyn Any + Send + Sync>,
    events: Vec<NewEvent>,
    /// The events as values, in the order of `events`, when the executor takes hints.
    hinted: Vec<HintedEvent>,
    sequenced: bool,
}

/// A stream's state in a session: the state, its version, and how the cache loaded it (`None`
/// when this session staged it).
type Current<A> = (Arc<A>, StreamVersion, Option<Loaded<A>>);

/// What a decision reads and stages. See the module doc.
pub struct Session<'a, S: EventStore + ?Sized> {
    executor: &'a Executor<'a, S>,
    input: &'a CommandInput,
    staged: Vec<Staged>,
    /// The stream the decision decided on first, once it has: the only one a retry of this
    /// command looks its id up in (see the module doc).
    primary: Option<String>,
    event_count: usize,
}

impl<'a, S: EventStore + ?Sized> Session<'a, S> {
    /// The newest state of aggregate `A` in `stream`, including what this decision staged.
    pub fn load<A: Aggregate>(&mut self, stream: &str) -> Result<Arc<A>, CommandError> {
        Ok(self.current::<A>(stream)?.0)
    }

    fn current<A: Aggregate>(&mut self, stream: &str) -> Result<Current<A>, CommandError> {
        if let Some(staged) = self.staged.iter().find(|s| s.stream == stream) {
            if let Ok(state) = staged.state.clone().downcast::<A>() {
                return Ok((state, staged.version, None));
            }
        }
        let loaded = self
            .executor
            .cache
            .load::<A, S>(self.executor.store, stream)?;
        Ok((loaded.state.clone(), loaded.version, Some(loaded)))
    }

    /// Lets `A` in `stream` decide `command`, stages its events and returns them.
    pub fn decide<A: Aggregate>(
        &mut self,
        stream: &str,
        command: &A::Command,
    ) -> Result<Vec<A::Event>, CommandError> {
        let (state, version, loaded) = self.current::<A>(stream)?;
        if self.primary.is_none() {
            self.primary = Some(stream.to_string());
            if let Some(applied) = loaded.as_ref().and_then(|l| self.applied_in(l)) {
                return Err(CommandError::AlreadyApplied(applied));
            }
        }
        let events = state.decide(command, self.executor.env)?;
        if events.is_empty() {
            return Ok(events);
        }
        self.event_count += events.len();
        if self.event_count > COMMAND_EVENTS_MAX {
            return Err(comptoir_domain::DomainError::LimitExceeded {
                what: "events per command",
                limit: COMMAND_EVENTS_MAX as u64,
            }
            .into());
        }
        let next_state = events
            .iter()
            .fold(Arc::unwrap_or_clone(state), |state, event| {
                state.evolve(event)
            });
        self.stage(stream, version, next_state, &events)?;
        Ok(events)
    }

    fn applied_in<A>(&self, loaded: &Loaded<A>) -> Option<AppliedCommand> {
        let commands = loaded
            .commands
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        commands.get(&self.input.command_id).cloned()
    }

    fn stage<A: Aggregate>(
        &mut self,
        stream: &str,
        version: StreamVersion,
        next_state: A,
        events: &[A::Event],
    ) -> Result<(), CommandError> {
        let metadata = EventMetadata {
            causation_id: Some(self.input.command_id),
            actor: self.input.actor.clone(),
            idempotency_key: self.input.fingerprint.clone(),
            correlation_id: None,
        };
        let encoded = events
            .iter()
            // The id is a placeholder until the append's order is known (see `append_request`).
            .map(|event| encode_event(event, Uuid::nil(), metadata.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let hinted: Vec<HintedEvent> = match self.executor.hints {
            Some(_) => events
                .iter()
                .map(|event| Box::new(event.clone()) as HintedEvent)
                .collect(),
            None => Vec::new(),
        };
        let new_version = version + events.len() as u64;
        let state: Arc<dyn Any + Send + Sync> = Arc::new(next_state);
        if let Some(staged) = self.staged.iter_mut().find(|s| s.stream == stream) {
            staged.events.extend(encoded);
            staged.hinted.extend(hinted);
            staged.version = new_version;
            staged.state = state;
            return Ok(());
        }
        let sequenced = self.input.sequenced.iter().any(|s| s == stream);
        self.staged.push(Staged {
            stream: stream.to_string(),
            expected: version,
            version: new_version,
            state,
            events: encoded,
            hinted,
            sequenced,
        });
        Ok(())
    }

    /// One request, streams in the order they were first staged, event ids by global index.
    fn append_request(&mut self) -> AppendRequest {
        let mut index = 0;
        let streams = self
            .staged
            .iter_mut()
            .map(|staged| {
                let events = std::mem::take(&mut staged.events)
                    .into_iter()
                    .map(|event| {
                        let id = event_id(self.input.command_id, index);
                        index += 1;
                        NewEvent {
                            event_id: id,
                            ..event
                        }
                    })
                    .collect();
                StreamAppend {
                    stream: staged.stream.clone(),
                    expected: match staged.expected {
                        0 => ExpectedVersion::NoStream,
                        version => ExpectedVersion::Exact(version),
                    },
                    events,
                }
            })
            .collect();
        AppendRequest { streams }
    }
}

/// Runs `decide` and appends what it staged atomically; see the module doc.
pub async fn execute_many<S, T, F>(
    executor: &Executor<'_, S>,
    input: &CommandInput,
    decide: F,
) -> Result<Executed<T>, CommandError>
where
    S: EventStore + ?Sized,
    F: Fn(&mut Session<'_, S>) -> Result<T, CommandError>,
{
    let mut stripes: Vec<usize> = input
        .sequenced
        .iter()
        .map(|stream| executor.cache.stripe(stream))
        .collect();
    // One global order of acquisition, so two decisions never wait on each other in a cycle.
    stripes.sort_unstable();
    stripes.dedup();
    for attempt in 1..=COMMAND_ATTEMPTS_MAX {
        match attempt_once(executor, input, &stripes, &decide).await? {
            Attempt::Done(executed) => return Ok(executed),
            Attempt::Conflict => backoff(attempt).await,
        }
    }
    Err(CommandError::Contended {
        stream: input
            .sequenced
            .first()
            .cloned()
            .unwrap_or_else(|| "a decision's streams".into()),
        attempts: COMMAND_ATTEMPTS_MAX,
    })
}

enum Attempt<T> {
    Done(Executed<T>),
    Conflict,
}

async fn attempt_once<S, T, F>(
    executor: &Executor<'_, S>,
    input: &CommandInput,
    stripes: &[usize],
    decide: &F,
) -> Result<Attempt<T>, CommandError>
where
    S: EventStore + ?Sized,
    F: Fn(&mut Session<'_, S>) -> Result<T, CommandError>,
{
    let mut guards = Vec::with_capacity(stripes.len());
    for stripe in stripes {
        guards.push(executor.cache.stripe_mutex(*stripe).lock().await);
    }
    let mut session = Session {
        executor,
        input,
        staged: Vec::new(),
        primary: None,
        event_count: 0,
    };
    let output = match decide(&mut session) {
        Ok(output) => output,
        Err(CommandError::AlreadyApplied(applied)) => {
            return replayed(input, &applied).map(Attempt::Done);
        }
        Err(error) => return Err(error),
    };
    if session.staged.is_empty() {
        let executed = Executed::Applied {
            output,
            positions: None,
        };
        return Ok(Attempt::Done(executed));
    }
    let request = session.append_request();
    let mut append = executor.store.append(request);
    // The first poll queues the request at the writer (see the module doc); only then may the
    // next sequenced decision build on this one.
    let first_poll = futures::poll!(&mut append);
    for staged in session.staged.iter().filter(|s| s.sequenced) {
        let state = staged.state.clone();
        executor
            .cache
            .set_ahead(&staged.stream, staged.expected, staged.version, state);
    }
    drop(guards);
    let result = match first_poll {
        Poll::Ready(result) => result,
        Poll::Pending => append.await,
    };
    let primary = session.primary.take();
    if let (Ok(outcome), Some(hints)) = (&result, executor.hints) {
        if !outcome.already_stored {
            offer_hints(hints, input.command_id, outcome, &mut session.staged);
        }
    }
    settle(
        executor,
        input,
        (&session.staged, primary.as_deref()),
        result,
        output,
    )
}

/// Hands the runner the events just appended, as values: the log gave them consecutive
/// positions from `outcome.first_position`, in the order of the request (`append_request`).
fn offer_hints(
    hints: &DecodedHints,
    command_id: Uuid,
    outcome: &AppendOutcome,
    staged: &mut [Staged],
) {
    let hinted = staged
        .iter_mut()
        .flat_map(|staged| std::mem::take(&mut staged.hinted));
    for (index, event) in hinted.enumerate() {
        let position = outcome.first_position + index as u64;
        hints.offer(position, event_id(command_id, index), event);
    }
}

/// Turns the log's answer into the decision's result and updates the cache accordingly.
///
/// The command is remembered only in its primary stream's entry: that is the only place a retry
/// looks it up (see the module doc). Remembering it in every stream it touched made the entries
/// of streams every order touches (the shop's pack, its invoice series) grow by one command per
/// order for as long as they stay cached. A stream folded from the log still knows every command
/// it holds, and the log's event ids catch a retry the cache would miss.
fn settle<S, T>(
    executor: &Executor<'_, S>,
    input: &CommandInput,
    (staged, primary): (&[Staged], Option<&str>),
    result: Result<AppendOutcome, LogError>,
    output: T,
) -> Result<Attempt<T>, CommandError>
where
    S: EventStore + ?Sized,
{
    match result {
        Ok(outcome) if !outcome.already_stored => {
            for staged in staged {
                let command = (Some(staged.stream.as_str()) == primary).then(|| {
                    let applied = AppliedCommand {
                        first_position: outcome.first_position,
                        fingerprint: input.fingerprint.clone(),
                    };
                    (input.command_id, applied)
                });
                executor.cache.commit(
                    &staged.stream,
                    staged.version,
                    staged.state.clone(),
                    command,
                );
            }
            let positions = Some(outcome.first_position..=outcome.last_position);
            Ok(Attempt::Done(Executed::Applied { output, positions }))
        }
        // A concurrent run of this very command won the race. Fold the primary stream afresh:
        // the next attempt then finds the command applied and answers with a replay.
        Ok(_) | Err(LogError::IdempotencyMismatch { .. }) => {
            invalidate(executor, staged);
            if let Some(primary) = staged.first() {
                executor.cache.forget(&primary.stream);
            }
            Ok(Attempt::Conflict)
        }
        Err(LogError::VersionConflict { .. }) => {
            invalidate(executor, staged);
            Ok(Attempt::Conflict)
        }
        Err(error) => {
            invalidate(executor, staged);
            Err(error.into())
        }
    }
}

fn invalidate<S: EventStore + ?Sized>(executor: &Executor<'_, S>, staged: &[Staged]) {
    for staged in staged {
        executor.cache.invalidate(&staged.stream, staged.expected);
    }
}

fn replayed<T>(
    input: &CommandInput,
    applied: &AppliedCommand,
) -> Result<Executed<T>, CommandError> {
    let same_request = match (&input.fingerprint, &applied.fingerprint) {
        (Some(now), Some(then)) => now == then,
        _ => true,
    };
    if !same_request {
        return Err(CommandError::Log(LogError::IdempotencyMismatch {
            event_id: event_id(input.command_id, 0),
        }));
    }
    Ok(Executed::Replayed {
        first_position: applied.first_position,
    })
}

/// A short random pause that grows with the attempts, so that conflicting writers spread out
/// instead of colliding again on the next flush.
async fn backoff(attempt: u32) {
    let ceiling = CONFLICT_BACKOFF_MICROS_PER_ATTEMPT * u64::from(attempt);
    let micros = rand::random::<u64>() % ceiling.max(1);
    tokio::time::sleep(Duration::from_micros(micros)).await;
}
