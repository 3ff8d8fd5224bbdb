//! The glue against a real log, with a tiny counter aggregate that exists only here.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use comptoir_domain::testing::TestEnvironment;
use comptoir_domain::{Aggregate, DomainError, DomainEvent, Environment};
use comptoir_eventlog::{
    AppendOutcome, AppendRequest, EventLog, EventMetadata, EventStore, LogError, LogOptions,
    LogResult, Position, RecordedEvent, StreamVersion,
};
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::*;
use comptoir_projections::codec::decode_event;
use comptoir_projections::hints::DecodedHints;

const COUNTER_MAX: u64 = 100;

#[derive(Clone, Debug, Default, PartialEq)]
struct Counter {
    value: u64,
}

#[derive(Clone, Debug)]
enum CounterCommand {
    Increment,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum CounterEvent {
    Incremented { value: u64 },
}

impl DomainEvent for CounterEvent {
    fn event_type(&self) -> &'static str {
        "Incremented"
    }
}

impl Aggregate for Counter {
    type Command = CounterCommand;
    type Event = CounterEvent;
    const STREAM_KIND: &'static str = "counter";

    fn decide(
        &self,
        command: &CounterCommand,
        _env: &dyn Environment,
    ) -> Result<Vec<CounterEvent>, DomainError> {
        match command {
            CounterCommand::Increment if self.value >= COUNTER_MAX => {
                Err(DomainError::LimitExceeded {
                    what: "counter",
                    limit: COUNTER_MAX,
                })
            }
            CounterCommand::Increment => Ok(vec![CounterEvent::Incremented {
                value: self.value + 1,
            }]),
        }
    }

    fn evolve(self, event: &CounterEvent) -> Self {
        match event {
            CounterEvent::Incremented { value } => Counter { value: *value },
        }
    }
}

fn open_log() -> (tempfile::TempDir, Arc<EventLog>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = EventLog::open(dir.path(), LogOptions::default()).expect("open log");
    (dir, Arc::new(log))
}

async fn increment<S: EventStore + ?Sized>(
    store: &S,
    command_id: Uuid,
) -> Result<CommandOutcome<Counter>, CommandError> {
    execute::<Counter, S>(
        store,
        &TestEnvironment::new(),
        "c1",
        command_id,
        &CounterCommand::Increment,
        EventMetadata::default(),
    )
    .await
}

fn stream_events(log: &EventLog) -> Vec<RecordedEvent> {
    log.read_stream("counter-c1", 1, 10_000).expect("read")
}

#[tokio::test]
async fn decide_appends_at_dense_versions_and_decodes_back() {
    // Proves a command's events are appended to `{kind}-{id}` at the next versions and read back.
    let (_dir, log) = open_log();
    for expected in 1..=3u64 {
        let outcome = increment(log.as_ref(), Uuid::now_v7())
            .await
            .expect("increment");
        assert_eq!(outcome.state.value, expected);
        assert_eq!(outcome.version, expected);
        assert_eq!(outcome.positions, Some(expected..=expected));
        assert!(!outcome.already_applied);
    }
    let recorded = stream_events(&log);
    let versions: Vec<u64> = recorded.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, [1, 2, 3]);
    let last: CounterEvent = decode_event(&recorded[2]).expect("decode");
    assert_eq!(last, CounterEvent::Incremented { value: 3 });
    assert_eq!(recorded[2].event_type, "Incremented");
    let (state, version) = load::<Counter, EventLog>(&log, "c1").expect("load");
    assert_eq!((state.value, version), (3, 3));
}

#[tokio::test]
async fn a_refused_command_appends_nothing() {
    // Proves a domain error surfaces as such and leaves the log untouched.
    let (_dir, log) = open_log();
    for _ in 0..COUNTER_MAX {
        increment(log.as_ref(), Uuid::now_v7())
            .await
            .expect("increment");
    }
    let head = log.head_position();
    let error = increment(log.as_ref(), Uuid::now_v7())
        .await
        .expect_err("over the max");
    assert!(matches!(error, CommandError::Domain(ref e) if e.code() == "limit-exceeded"));
    assert_eq!(log.head_position(), head);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments_all_land_with_dense_versions() {
    // Proves optimistic retries let N concurrent commands on one stream all land, none lost.
    const WRITERS: u64 = 12;
    const _: () = assert!(WRITERS <= COMMAND_ATTEMPTS_MAX as u64);
    let (_dir, log) = open_log();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let log = log.clone();
            tokio::spawn(async move { increment(log.as_ref(), Uuid::now_v7()).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("join").expect("increment");
    }
    let recorded = stream_events(&log);
    let versions: Vec<u64> = recorded.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, (1..=WRITERS).collect::<Vec<_>>());
    let values: Vec<u64> = recorded
        .iter()
        .map(|e| match decode_event::<CounterEvent>(e).expect("decode") {
            CounterEvent::Incremented { value } => value,
        })
        .collect();
    assert_eq!(values, (1..=WRITERS).collect::<Vec<_>>());
}

#[tokio::test]
async fn retrying_a_command_id_returns_the_original_outcome() {
    // Proves a retried command id records nothing new and reports its first result.
    let (_dir, log) = open_log();
    let command_id = Uuid::now_v7();
    let first = increment(log.as_ref(), command_id).await.expect("first");
    increment(log.as_ref(), Uuid::now_v7())
        .await
        .expect("other");
    let retry = increment(log.as_ref(), command_id).await.expect("retry");
    assert!(retry.already_applied);
    assert_eq!(retry.positions, first.positions);
    assert_eq!(retry.version, 1);
    assert_eq!(retry.events, first.events);
    assert_eq!(log.head_position(), 2);
    let recorded = stream_events(&log);
    assert_eq!(recorded[0].event_id, event_id(command_id, 0));
    assert_eq!(recorded[0].metadata.causation_id, Some(command_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_of_one_command_id_apply_it_once() {
    // Proves racing duplicates of one command record it exactly once and all see that result.
    let (_dir, log) = open_log();
    let command_id = Uuid::now_v7();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let log = log.clone();
            tokio::spawn(async move { increment(log.as_ref(), command_id).await })
        })
        .collect();
    for task in tasks {
        let outcome = task.await.expect("join").expect("increment");
        assert_eq!(outcome.positions, Some(1..=1));
        assert_eq!(outcome.version, 1);
    }
    assert_eq!(log.head_position(), 1);
}

/// A store whose every append conflicts, to see the retry bound.
struct AlwaysConflicting {
    log: Arc<EventLog>,
    appends: AtomicU32,
}

#[async_trait]
impl EventStore for AlwaysConflicting {
    async fn append(&self, _request: AppendRequest) -> LogResult<AppendOutcome> {
        self.appends.fetch_add(1, Ordering::SeqCst);
        Err(LogError::VersionConflict {
            stream: "counter-c1".into(),
            expected: "0".into(),
            current: 1,
        })
    }
    fn read_stream(
        &self,
        stream: &str,
        from_version: StreamVersion,
        max_count: usize,
    ) -> LogResult<Vec<RecordedEvent>> {
        self.log.read_stream(stream, from_version, max_count)
    }
    fn read_all(&self, from: Position, max_count: usize) -> LogResult<Vec<RecordedEvent>> {
        self.log.read_all(from, max_count)
    }
    fn subscribe(&self, from: Position) -> BoxStream<'static, LogResult<RecordedEvent>> {
        self.log.subscribe(from)
    }
    fn subscribe_batches(
        &self,
        from: Position,
    ) -> BoxStream<'static, LogResult<Vec<RecordedEvent>>> {
        self.log.subscribe_batches(from)
    }
    fn head_position(&self) -> Position {
        self.log.head_position()
    }
    async fn save_checkpoint(&self, name: &str, position: Position) -> LogResult<()> {
        self.log.save_checkpoint(name, position).await
    }
    fn load_checkpoint(&self, name: &str) -> LogResult<Option<Position>> {
        self.log.load_checkpoint(name)
    }
}

#[tokio::test]
async fn endless_conflicts_stop_after_the_attempt_bound() {
    // Proves the retry loop is bounded and reports contention instead of spinning.
    let (_dir, log) = open_log();
    let store = AlwaysConflicting {
        log,
        appends: AtomicU32::new(0),
    };
    let error = increment(&store, Uuid::now_v7())
        .await
        .expect_err("contended");
    assert!(
        matches!(error, CommandError::Contended { attempts, .. } if attempts == COMMAND_ATTEMPTS_MAX)
    );
    assert_eq!(store.appends.load(Ordering::SeqCst), COMMAND_ATTEMPTS_MAX);
}

// ---- Decisions across several aggregates (`execute_many`). ----

fn executor<'a>(
    log: &'a EventLog,
    cache: &'a StateCache,
    env: &'a TestEnvironment,
) -> Executor<'a, EventLog> {
    Executor {
        store: log,
        cache,
        env,
        hints: None,
    }
}

/// Increments counter `own` (the primary stream) and the shared, sequenced counter `series`.
async fn increment_pair(
    log: &EventLog,
    cache: &StateCache,
    command_id: Uuid,
    own: &str,
    fingerprint: Option<&str>,
) -> Result<Executed<u64>, CommandError> {
    let env = TestEnvironment::new();
    let input = CommandInput {
        command_id,
        fingerprint: fingerprint.map(str::to_string),
        actor: None,
        sequenced: vec!["counter-series".into()],
    };
    let own_stream = format!("counter-{own}");
    execute_many(&executor(log, cache, &env), &input, |session| {
        session.decide::<Counter>(&own_stream, &CounterCommand::Increment)?;
        session.decide::<Counter>("counter-series", &CounterCommand::Increment)?;
        Ok(session.load::<Counter>("counter-series")?.value)
    })
    .await
}

#[tokio::test]
async fn each_appended_event_is_offered_to_the_runner_at_its_own_position() {
    // Proves the hint of every event of a decision over two streams lands on the position and
    // event id the log gave that very event (the runner then skips parsing it), and that a
    // replayed command offers nothing.
    let (_dir, log) = open_log();
    let cache = StateCache::default();
    let env = TestEnvironment::new();
    let hints = DecodedHints::default();
    let executor = Executor {
        hints: Some(&hints),
        ..executor(&log, &cache, &env)
    };
    let input = CommandInput {
        command_id: Uuid::now_v7(),
        ..CommandInput::default()
    };
    let decide = |session: &mut Session<'_, EventLog>| {
        session.decide::<Counter>("counter-a", &CounterCommand::Increment)?;
        session.decide::<Counter>("counter-b", &CounterCommand::Increment)?;
        session.decide::<Counter>("counter-a", &CounterCommand::Increment)?;
        Ok(())
    };
    execute_many(&executor, &input, decide)
        .await
        .expect("decided");
    let recorded = log.read_all(1, 10).expect("read");
    assert_eq!(recorded.len(), 3);
    assert_eq!(hints.len(), 3);
    for event in &recorded {
        let hint = hints.take(event).expect("a hint for each event");
        let hinted = hint.downcast::<CounterEvent>().expect("a counter event");
        assert_eq!(
            *hinted,
            decode_event::<CounterEvent>(event).expect("decoded")
        );
    }
    execute_many(&executor, &input, decide)
        .await
        .expect("replayed");
    assert!(
        hints.is_empty(),
        "a replay appends nothing, so offers nothing"
    );
}

#[tokio::test]
async fn a_decision_appends_all_its_streams_at_once_or_nothing() {
    // Proves a two-stream decision lands in one append with contiguous positions, and a refusal on
    // its second stream appends nothing to the first.
    let (_dir, log) = open_log();
    let cache = StateCache::default();
    let executed = increment_pair(&log, &cache, Uuid::now_v7(), "a", None)
        .await
        .expect("pair");
    assert!(
        matches!(executed, Executed::Applied { output: 1, positions: Some(ref p) } if *p == (1..=2))
    );
    let env = TestEnvironment::new();
    let input = CommandInput {
        command_id: Uuid::now_v7(),
        ..CommandInput::default()
    };
    let refused = execute_many(&executor(&log, &cache, &env), &input, |session| {
        session.decide::<Counter>("counter-b", &CounterCommand::Increment)?;
        Err::<(), _>(CommandError::Domain(DomainError::validation(
            "x", "refused",
        )))
    })
    .await;
    assert!(matches!(refused, Err(CommandError::Domain(_))));
    assert_eq!(log.head_position(), 2);
    assert!(log
        .read_stream("counter-b", 1, 10)
        .expect("read")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_decisions_on_a_sequenced_stream_number_it_densely() {
    // Proves 64 concurrent decisions sharing one sequenced stream all land, with versions and
    // values 1..64 and no gap, deciding ahead of the log's flushes.
    const DECISIONS: u64 = 64;
    const _: () = assert!(DECISIONS <= COUNTER_MAX);
    let (_dir, log) = open_log();
    let cache = Arc::new(StateCache::default());
    let tasks: Vec<_> = (0..DECISIONS)
        .map(|n| {
            let (log, cache) = (log.clone(), cache.clone());
            tokio::spawn(async move {
                increment_pair(&log, &cache, Uuid::now_v7(), &format!("own{n}"), None).await
            })
        })
        .collect();
    let mut outputs = Vec::new();
    for task in tasks {
        match task.await.expect("join").expect("decision") {
            Executed::Applied { output, .. } => outputs.push(output),
            Executed::Replayed { .. } => panic!("nothing was replayed"),
        }
    }
    outputs.sort_unstable();
    assert_eq!(outputs, (1..=DECISIONS).collect::<Vec<_>>());
    let series = log.read_stream("counter-series", 1, 1_000).expect("read");
    let versions: Vec<u64> = series.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, (1..=DECISIONS).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_replayed_decision_changes_nothing_and_checks_its_request() {
    // Proves a command id applied before is answered as a replay at its first position, even from
    // a cold cache, and is refused when the request fingerprint differs.
    let (_dir, log) = open_log();
    let command_id = Uuid::now_v7();
    let cache = StateCache::default();
    increment_pair(&log, &cache, command_id, "a", Some("fp-1"))
        .await
        .expect("first");
    let cold = StateCache::default();
    let again = increment_pair(&log, &cold, command_id, "a", Some("fp-1"))
        .await
        .expect("replay");
    assert!(matches!(again, Executed::Replayed { first_position: 1 }));
    assert_eq!(log.head_position(), 2);
    let other = increment_pair(&log, &cold, command_id, "a", Some("fp-2")).await;
    assert!(matches!(
        other,
        Err(CommandError::Log(LogError::IdempotencyMismatch { .. }))
    ));
}
