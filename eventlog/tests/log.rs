//! Behaviour of the event log through its public API, on real sled databases in temp dirs.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use comptoir_eventlog::{
    verify_data_dir, AppendRequest, EventLog, EventMetadata, ExpectedVersion, FixedClock, LogError,
    LogOptions, NewEvent, OfflineLog, RecordedEvent, StreamAppend,
};
use futures::StreamExt;
use uuid::Uuid;

fn options() -> LogOptions {
    let instant = DateTime::<Utc>::from_timestamp(1_764_000_000, 0).unwrap();
    LogOptions {
        cache_bytes: 8 * 1024 * 1024,
        clock: Arc::new(FixedClock(instant)),
    }
}

fn event(id: u128, payload: &str) -> NewEvent {
    NewEvent {
        event_id: Uuid::from_u128(id),
        event_type: "ThingHappened".into(),
        schema_version: 1,
        payload: payload.as_bytes().to_vec(),
        metadata: EventMetadata {
            actor: Some("test".into()),
            ..EventMetadata::default()
        },
    }
}

fn single(stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest::single(stream, expected, events)
}

// Proves positions are dense from 1 and streams read back in version order.
#[tokio::test]
async fn appends_get_dense_positions_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), options()).unwrap();
    let a = log
        .append(single(
            "a",
            ExpectedVersion::NoStream,
            vec![event(1, "a1"), event(2, "a2")],
        ))
        .await
        .unwrap();
    let b = log
        .append(single("b", ExpectedVersion::Any, vec![event(3, "b1")]))
        .await
        .unwrap();
    assert_eq!((a.first_position, a.last_position), (1, 2));
    assert_eq!((b.first_position, b.last_position), (3, 3));
    assert_eq!(a.streams[0].last_version, 2);
    let all = log.read_all(1, 100).unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let stream_a = log.read_stream("a", 1, 100).unwrap();
    assert_eq!(
        stream_a
            .iter()
            .map(|e| e.payload.clone())
            .collect::<Vec<_>>(),
        vec![b"a1".to_vec(), b"a2".to_vec()]
    );
    assert_eq!(log.read_stream("a", 2, 100).unwrap()[0].stream_version, 2);
    assert_eq!(log.head_position(), 3);
    assert_eq!(log.stream_version("a").unwrap(), 2);
    assert_eq!(log.stream_version("missing").unwrap(), 0);
}

// Proves expected versions are enforced and a conflict names the stream's current version.
#[tokio::test]
async fn expected_version_conflicts_carry_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), options()).unwrap();
    log.append(single("s", ExpectedVersion::NoStream, vec![event(1, "x")]))
        .await
        .unwrap();
    let again = log
        .append(single("s", ExpectedVersion::NoStream, vec![event(2, "y")]))
        .await;
    assert!(
        matches!(again, Err(LogError::VersionConflict { current: 1, .. })),
        "{again:?}"
    );
    let stale = log
        .append(single("s", ExpectedVersion::Exact(0), vec![event(3, "y")]))
        .await;
    assert!(matches!(
        stale,
        Err(LogError::VersionConflict { current: 1, .. })
    ));
    let ok = log
        .append(single("s", ExpectedVersion::Exact(1), vec![event(4, "y")]))
        .await
        .unwrap();
    assert_eq!(ok.streams[0].last_version, 2);
    assert_eq!(log.head_position(), 2);
}

// Proves a multi-stream append is all or nothing.
#[tokio::test]
async fn multi_stream_append_is_atomic() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), options()).unwrap();
    log.append(single("series", ExpectedVersion::Any, vec![event(1, "n1")]))
        .await
        .unwrap();
    let request = AppendRequest {
        streams: vec![
            StreamAppend {
                stream: "order".into(),
                expected: ExpectedVersion::NoStream,
                events: vec![event(2, "paid")],
            },
            StreamAppend {
                stream: "series".into(),
                expected: ExpectedVersion::Exact(0),
                events: vec![event(3, "n2")],
            },
        ],
    };
    assert!(matches!(
        log.append(request).await,
        Err(LogError::VersionConflict { .. })
    ));
    assert_eq!(log.head_position(), 1);
    assert_eq!(log.stream_version("order").unwrap(), 0);
    let request = AppendRequest {
        streams: vec![
            StreamAppend {
                stream: "order".into(),
                expected: ExpectedVersion::NoStream,
                events: vec![event(2, "paid")],
            },
            StreamAppend {
                stream: "series".into(),
                expected: ExpectedVersion::Exact(1),
                events: vec![event(3, "n2")],
            },
        ],
    };
    let outcome = log.append(request).await.unwrap();
    assert_eq!((outcome.first_position, outcome.last_position), (2, 3));
}

// Proves retries return the original outcome and write nothing, also after a restart, and that
// reusing an id for other content is refused.
#[tokio::test]
async fn idempotent_retries_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let request = single(
        "s",
        ExpectedVersion::NoStream,
        vec![event(1, "x"), event(2, "y")],
    );
    let first = {
        let log = EventLog::open(dir.path(), options()).unwrap();
        log.append(single("other", ExpectedVersion::Any, vec![event(9, "o")]))
            .await
            .unwrap();
        let first = log.append(request.clone()).await.unwrap();
        let retry = log.append(request.clone()).await.unwrap();
        assert!(retry.already_stored);
        assert_eq!(
            (
                retry.first_position,
                retry.last_position,
                retry.streams.clone()
            ),
            (
                first.first_position,
                first.last_position,
                first.streams.clone()
            )
        );
        first
    };
    let log = EventLog::open(dir.path(), options()).unwrap();
    let retry = log.append(request.clone()).await.unwrap();
    assert!(retry.already_stored);
    assert_eq!(
        (retry.first_position, retry.last_position),
        (first.first_position, first.last_position)
    );
    assert_eq!(log.head_position(), 3);
    let changed = log
        .append(single("s", ExpectedVersion::Any, vec![event(1, "changed")]))
        .await;
    assert!(
        matches!(changed, Err(LogError::IdempotencyMismatch { .. })),
        "{changed:?}"
    );
    let partial = log
        .append(single(
            "s",
            ExpectedVersion::Any,
            vec![event(1, "x"), event(5, "new")],
        ))
        .await;
    assert!(
        matches!(partial, Err(LogError::IdempotencyMismatch { .. })),
        "{partial:?}"
    );
    assert_eq!(log.head_position(), 3);
}

// Proves concurrent retries of the same append, racing into one commit batch, store it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicates_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(EventLog::open(dir.path(), options()).unwrap());
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let log = log.clone();
            tokio::spawn(async move {
                log.append(single("s", ExpectedVersion::Any, vec![event(7, "same")]))
                    .await
            })
        })
        .collect();
    let mut positions = HashSet::new();
    for task in tasks {
        positions.insert(task.await.unwrap().unwrap().first_position);
    }
    assert_eq!(positions.len(), 1);
    assert_eq!(log.head_position(), 1);
}

// Proves the limits answer with clear errors and store nothing.
#[tokio::test]
async fn limits_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), options()).unwrap();
    let many: Vec<NewEvent> = (1..=1_001u128).map(|i| event(i, "x")).collect();
    let too_many = log.append(single("s", ExpectedVersion::Any, many)).await;
    assert!(matches!(
        too_many,
        Err(LogError::LimitExceeded {
            what: "events per append",
            ..
        })
    ));
    let huge = "x".repeat(2 * 1024 * 1024);
    let too_big = log
        .append(single("s", ExpectedVersion::Any, vec![event(1, &huge)]))
        .await;
    assert!(matches!(
        too_big,
        Err(LogError::LimitExceeded {
            what: "event bytes",
            ..
        })
    ));
    let streams = (0..33)
        .map(|i| StreamAppend {
            stream: format!("s{i}"),
            expected: ExpectedVersion::Any,
            events: vec![event(100 + i as u128, "x")],
        })
        .collect();
    let too_wide = log.append(AppendRequest { streams }).await;
    assert!(matches!(
        too_wide,
        Err(LogError::LimitExceeded {
            what: "streams per append",
            ..
        })
    ));
    let twice = log
        .append(single(
            "s",
            ExpectedVersion::Any,
            vec![event(1, "a"), event(1, "a")],
        ))
        .await;
    assert!(matches!(twice, Err(LogError::InvalidAppend(_))));
    assert_eq!(log.head_position(), 0);
}

// Proves a second opener of the same data dir gets a clear error.
#[tokio::test]
async fn data_dir_is_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let _log = EventLog::open(dir.path(), options()).unwrap();
    let second = EventLog::open(dir.path(), options());
    assert!(matches!(second, Err(LogError::DataDirLocked { .. })));
    assert!(matches!(
        verify_data_dir(dir.path()),
        Err(LogError::DataDirLocked { .. })
    ));
}

// Proves verify walks the chain and names the first record whose stored bytes were altered.
#[tokio::test]
async fn verify_catches_one_flipped_byte() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EventLog::open(dir.path(), options()).unwrap();
        for i in 1..=5u128 {
            let events = (0..4)
                .map(|j| event(i * 10 + j, "payload-of-some-length"))
                .collect();
            log.append(single(&format!("s{i}"), ExpectedVersion::Any, events))
                .await
                .unwrap();
        }
        let report = log.verify().unwrap();
        assert!(report.is_intact());
        assert_eq!((report.events_checked, report.head_position), (20, 20));
    }
    let intact = verify_data_dir(dir.path()).unwrap();
    assert!(intact.is_intact());
    {
        // Batch 3 holds positions 9..=12; flip a byte inside the payload of position 10.
        let db = sled::open(dir.path().join("log")).unwrap();
        let tree = db.open_tree("log").unwrap();
        let mut value = tree.get(9u64.to_be_bytes()).unwrap().unwrap().to_vec();
        let second_record = value
            .windows(22)
            .enumerate()
            .filter(|(_, w)| w == b"payload-of-some-length")
            .nth(1)
            .unwrap()
            .0;
        value[second_record + 3] ^= 0x01;
        tree.insert(9u64.to_be_bytes(), value).unwrap();
        db.flush().unwrap();
    }
    let report = verify_data_dir(dir.path()).unwrap();
    let (position, reason) = report.first_bad.clone().unwrap();
    assert_eq!(position, 10, "{reason}");
    assert_eq!(report.events_checked, 9);
}

// Proves reads give the same events whether they start at a batch's first position (found by
// a point lookup) or inside a batch (found by a range scan back to the batch's key).
#[tokio::test]
async fn reads_start_at_any_position_of_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), options()).unwrap();
    // Appends made one after another are committed one batch each: batches of 1, 2, 3 and 4.
    let mut id = 0;
    for size in 1..=4u128 {
        let events = (0..size)
            .map(|_| {
                id += 1;
                event(id, &format!("e{id}"))
            })
            .collect();
        log.append(single("s", ExpectedVersion::Any, events))
            .await
            .unwrap();
    }
    for from in 1..=10u64 {
        let read = log.read_all(from, 3).unwrap();
        let positions: Vec<u64> = read.iter().map(|e| e.position).collect();
        let expected: Vec<u64> = (from..=(from + 2).min(10)).collect();
        assert_eq!(positions, expected, "reading from {from}");
        let payloads: Vec<String> = read
            .iter()
            .map(|e| String::from_utf8(e.payload.clone()).unwrap())
            .collect();
        let wanted: Vec<String> = expected.iter().map(|p| format!("e{p}")).collect();
        assert_eq!(payloads, wanted, "reading from {from}");
    }
}

// Proves the offline reader gives exactly the live log's events from any position, whether it
// reads the whole log in one pass or reopens it after every batch, and that it keeps a server
// out while it reads (and is kept out by one).
#[tokio::test]
async fn offline_reads_in_passes_equal_the_live_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut live: Vec<Vec<RecordedEvent>> = Vec::new();
    {
        let log = EventLog::open(dir.path(), options()).unwrap();
        // One batch per append, of 1 to 5 events, 15 batches.
        let mut id = 0;
        for size in (1..=5u128).cycle().take(15) {
            let events = (0..size)
                .map(|_| {
                    id += 1;
                    event(id, &format!("e{id}"))
                })
                .collect();
            log.append(single(
                &format!("s{}", id % 3),
                ExpectedVersion::Any,
                events,
            ))
            .await
            .unwrap();
        }
        let head = log.head_position();
        for from in 0..=head + 1 {
            live.push(log.iter_all(from).unwrap().map(Result::unwrap).collect());
        }
        assert!(matches!(
            OfflineLog::open(dir.path()),
            Err(LogError::DataDirLocked { .. })
        ));
    }
    for pass_bytes in [1, 200, u64::MAX] {
        let offline = OfflineLog::open_with_pass_bytes(dir.path(), pass_bytes).unwrap();
        assert_eq!(offline.head_position(), 45);
        for (from, expected) in live.iter().enumerate() {
            let read: Vec<RecordedEvent> =
                offline.iter_all(from as u64).map(Result::unwrap).collect();
            assert_eq!(&read, expected, "from {from}, passes of {pass_bytes} bytes");
        }
        assert!(matches!(
            EventLog::open(dir.path(), options()),
            Err(LogError::DataDirLocked { .. })
        ));
    }
    assert_eq!(live[1].len(), 45);
    assert!(live[46].is_empty());
}

// Proves a subscription hands over from catch-up to live with no gap and no duplicate while
// several writers append concurrently.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscription_catches_up_then_follows_live_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(EventLog::open(dir.path(), options()).unwrap());
    for i in 0..50u128 {
        log.append(single(
            "warmup",
            ExpectedVersion::Any,
            vec![event(1_000_000 + i, "w")],
        ))
        .await
        .unwrap();
    }
    let mut from_start = log.subscribe(1);
    let mut from_middle = log.subscribe(26);
    let writers: Vec<_> = (0..8u128)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move {
                for i in 0..100u128 {
                    log.append(single(
                        &format!("w{w}"),
                        ExpectedVersion::Any,
                        vec![event(w * 1_000 + i + 1, "live")],
                    ))
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    let total = 50 + 8 * 100;
    for expected in 1..=total {
        let event = from_start.next().await.unwrap().unwrap();
        assert_eq!(event.position, expected);
    }
    for expected in 26..=total {
        assert_eq!(
            from_middle.next().await.unwrap().unwrap().position,
            expected
        );
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let idle = tokio::time::timeout(std::time::Duration::from_millis(100), from_start.next()).await;
    assert!(idle.is_err(), "no event beyond the head may be delivered");
}

// Proves named checkpoints are durable across restarts.
#[tokio::test]
async fn checkpoints_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EventLog::open(dir.path(), options()).unwrap();
        assert_eq!(log.load_checkpoint("printer").unwrap(), None);
        log.save_checkpoint("printer", 42).await.unwrap();
    }
    let log = EventLog::open(dir.path(), options()).unwrap();
    assert_eq!(log.load_checkpoint("printer").unwrap(), Some(42));
}

// Proves the indexes are rebuilt from the log when the index database lost everything.
#[tokio::test]
async fn lost_index_is_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EventLog::open(dir.path(), options()).unwrap();
        for i in 1..=30u128 {
            log.append(single(
                &format!("s{}", i % 3),
                ExpectedVersion::Any,
                vec![event(i, "x")],
            ))
            .await
            .unwrap();
        }
    }
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    let log = EventLog::open(dir.path(), options()).unwrap();
    assert_eq!(log.stream_version("s1").unwrap(), 10);
    assert_eq!(log.read_stream("s2", 1, 100).unwrap().len(), 10);
    let retry = log
        .append(single("s0", ExpectedVersion::Any, vec![event(3, "x")]))
        .await
        .unwrap();
    assert!(retry.already_stored);
    assert_eq!(retry.first_position, 3);
}

// Proves recorded_at comes from the injected clock.
#[tokio::test]
async fn recorded_at_comes_from_the_injected_clock() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), options()).unwrap();
    log.append(single("s", ExpectedVersion::Any, vec![event(1, "x")]))
        .await
        .unwrap();
    let stored = &log.read_all(1, 1).unwrap()[0];
    assert_eq!(stored.recorded_at.timestamp(), 1_764_000_000);
    assert_eq!(stored.metadata.actor.as_deref(), Some("test"));
}

fn bulk(stream: &str, first_id: u128, count: u128) -> AppendRequest {
    single(
        stream,
        ExpectedVersion::Any,
        (first_id..first_id + count)
            .map(|i| event(i, "bulk"))
            .collect(),
    )
}

// Proves lookups stay exact once events have moved from the in-memory tail into persisted index
// runs, across a restart, and after the runs are damaged (they are rebuilt from the log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_stay_exact_across_runs_restarts_and_damage() {
    let dir = tempfile::tempdir().unwrap();
    let appends = 70u128;
    let early = bulk("s0", 1, 1_000);
    let early_outcome = {
        let log = EventLog::open(dir.path(), options()).unwrap();
        let outcome = log.append(early.clone()).await.unwrap();
        for i in 1..appends {
            log.append(bulk(&format!("s{}", i % 7), 1 + i * 1_000, 1_000))
                .await
                .unwrap();
        }
        check_indexes(&log, &early, &outcome).await;
        outcome
    };
    let log = EventLog::open(dir.path(), options()).unwrap();
    check_indexes(&log, &early, &early_outcome).await;
    drop(log);
    {
        let db = sled::open(dir.path().join("index")).unwrap();
        let tree = db.open_tree("index").unwrap();
        // A page of the first run (runs are stored as pages) and that run's filters.
        let page_key = tree.scan_prefix(b"P").keys().next().unwrap().unwrap();
        tree.remove(page_key).unwrap();
        let filter_key = tree.scan_prefix(b"F").keys().next().unwrap().unwrap();
        tree.remove(filter_key).unwrap();
        db.flush().unwrap();
    }
    let log = EventLog::open(dir.path(), options()).unwrap();
    check_indexes(&log, &early, &early_outcome).await;
}

async fn check_indexes(
    log: &EventLog,
    early: &AppendRequest,
    early_outcome: &comptoir_eventlog::AppendOutcome,
) {
    assert_eq!(log.head_position(), 70_000);
    for stream in 0..7 {
        assert_eq!(log.stream_version(&format!("s{stream}")).unwrap(), 10_000);
    }
    let across = log.read_stream("s3", 9_990, 20).unwrap();
    assert_eq!(across.len(), 11);
    assert!(across
        .windows(2)
        .all(|w| w[1].stream_version == w[0].stream_version + 1 && w[1].position > w[0].position));
    let retry = log.append(early.clone()).await.unwrap();
    assert!(retry.already_stored);
    assert_eq!(
        (retry.first_position, retry.last_position),
        (early_outcome.first_position, early_outcome.last_position)
    );
    let conflict = log
        .append(single(
            "s5",
            ExpectedVersion::Exact(9_999),
            vec![event(9_000_000, "late")],
        ))
        .await;
    assert!(
        matches!(
            conflict,
            Err(LogError::VersionConflict {
                current: 10_000,
                ..
            })
        ),
        "{conflict:?}"
    );
}

mod model {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[derive(Clone, Debug)]
    struct Op {
        stream: u8,
        expected: u8,
        events: u8,
        reuse_previous_id: bool,
    }

    fn op() -> impl Strategy<Value = Op> {
        (0u8..3, 0u8..5, 1u8..4, proptest::bool::weighted(0.15)).prop_map(
            |(stream, expected, events, reuse_previous_id)| Op {
                stream,
                expected,
                events,
                reuse_previous_id,
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        // Proves that against a simple in-memory model, every append is accepted or refused exactly
        // as expected versions and ids say, positions stay dense and stream versions follow.
        #[test]
        fn log_matches_a_simple_model(ops in proptest::collection::vec(op(), 1..40)) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let log = EventLog::open(dir.path(), options()).unwrap();
                let mut versions: HashMap<u8, u64> = HashMap::new();
                let mut head = 0u64;
                let mut next_id = 1u128;
                let mut last: Option<AppendRequest> = None;
                for op in ops {
                    let reused = last.is_some() && op.reuse_previous_id;
                    let request = match (&last, op.reuse_previous_id) {
                        (Some(previous), true) => previous.clone(),
                        _ => {
                            let expected = match op.expected {
                                0 => ExpectedVersion::Any,
                                1 => ExpectedVersion::NoStream,
                                n => ExpectedVersion::Exact(u64::from(n) - 2 + versions.get(&op.stream).copied().unwrap_or(0).saturating_sub(1)),
                            };
                            let events = (0..op.events).map(|_| { next_id += 1; event(next_id, "m") }).collect();
                            single(&format!("m{}", op.stream), expected, events)
                        }
                    };
                    let stream_key: u8 = request.streams[0].stream[1..].parse().unwrap();
                    let current = versions.get(&stream_key).copied().unwrap_or(0);
                    let accepts = match request.streams[0].expected {
                        ExpectedVersion::Any => true,
                        ExpectedVersion::NoStream => current == 0,
                        ExpectedVersion::Exact(version) => version == current,
                    };
                    let outcome = log.append(request.clone()).await;
                    match outcome {
                        Ok(outcome) if outcome.already_stored => {
                            prop_assert!(reused);
                        }
                        Ok(outcome) => {
                            prop_assert!(accepts && !reused);
                            prop_assert_eq!(outcome.first_position, head + 1);
                            head = outcome.last_position;
                            let count = request.event_count() as u64;
                            prop_assert_eq!(outcome.streams[0].last_version, current + count);
                            versions.insert(stream_key, current + count);
                            last = Some(request);
                        }
                        Err(LogError::VersionConflict { current: reported, .. }) => {
                            prop_assert!(!accepts);
                            prop_assert_eq!(reported, current);
                        }
                        Err(other) => prop_assert!(false, "unexpected error {other:?}"),
                    }
                    prop_assert_eq!(log.head_position(), head);
                }
                let report = log.verify().unwrap();
                prop_assert!(report.is_intact());
                prop_assert_eq!(report.events_checked, head);
                Ok(())
            })?;
        }
    }
}

/// `appends` appends of 1 to `events_max` events each, over streams `s-0` to `s-{streams - 1}`.
async fn varied_appends(log: &EventLog, appends: u128, streams: u128, events_max: u128) {
    for n in 0..appends {
        let events = (0..(n % events_max + 1))
            .map(|k| event(n * 10 + k + 1, "payload"))
            .collect();
        let stream = format!("s-{}", n % streams);
        log.append(single(&stream, ExpectedVersion::Any, events))
            .await
            .unwrap();
    }
}

// Proves an auditor can recompute the chain from the pages `chain_page` serves: from any anchor,
// consecutive pages join (each page's previous hash is the last hash of the one before), every
// record's hash is SHA-256(previous hash, envelope), and the last one is `head_hash` and what
// `verify` reports.
#[tokio::test]
async fn chain_pages_recompute_to_the_head_hash() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), options()).unwrap();
    assert_eq!(log.head_hash().unwrap(), (0, [0; 32]));
    varied_appends(&log, 12, 4, 3).await;
    let head = log.head_position();
    for anchor in 0..head {
        let mut hash = log.chain_page(anchor, 1).unwrap().previous_hash;
        let mut after = anchor;
        while after < head {
            let page = log.chain_page(after, 5).unwrap();
            assert_eq!(page.previous_hash, hash, "page after {after}");
            assert!(!page.records.is_empty() && page.records.len() <= 5);
            for record in &page.records {
                assert_eq!(record.position, after + 1);
                assert_eq!(
                    record.hash,
                    comptoir_eventlog::codec::chain_hash(&hash, &record.envelope)
                );
                hash = record.hash;
                after = record.position;
            }
        }
        assert_eq!(log.head_hash().unwrap(), (head, hash));
    }
    assert!(log.chain_page(head, 5).unwrap().records.is_empty());
    assert!(log.chain_page(head + 1, 5).unwrap().records.is_empty());
    assert_eq!(log.verify().unwrap().head_hash, log.head_hash().unwrap().1);
}

/// `writers` tasks each make `appends_each` appends of three events with `payload` to their own
/// stream, all at once (so that the writer groups them); returns each append's positions.
async fn concurrent_appends(
    log: &Arc<EventLog>,
    writers: u128,
    appends_each: u128,
    payload: &str,
) -> Vec<(u64, u64)> {
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let (log, payload) = (log.clone(), payload.to_string());
        tasks.push(tokio::spawn(async move {
            let mut ranges = Vec::new();
            for n in 0..appends_each {
                let id = writer * 1_000 + n * 10 + 1;
                let events = (0..3).map(|k| event(id + k, &payload)).collect();
                let stream = format!("w-{writer}");
                let outcome = log
                    .append(single(&stream, ExpectedVersion::Any, events))
                    .await
                    .unwrap();
                ranges.push((outcome.first_position, outcome.last_position));
            }
            ranges
        }));
    }
    let mut appends = Vec::new();
    for task in tasks {
        appends.extend(task.await.unwrap());
    }
    appends
}

// Proves `subscribe_batches` hands over whole group commits: with appends of several events made
// concurrently (so that the writer groups them), no append is ever split between two items, the
// items follow each other densely, and one started inside a commit begins with its tail.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batch_subscriptions_never_split_an_append() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(EventLog::open(dir.path(), options()).unwrap());
    let appends = concurrent_appends(&log, 16, 20, "x").await;
    let head = log.head_position();
    assert_eq!(head, 16 * 20 * 3);
    let mut items = Vec::new();
    let mut subscription = log.subscribe_batches(1);
    while items.last().map_or(0, |(_, last)| *last) < head {
        let batch = subscription.next().await.unwrap().unwrap();
        let (first, last) = (batch[0].position, batch[batch.len() - 1].position);
        assert_eq!(last - first + 1, batch.len() as u64, "dense inside an item");
        assert_eq!(
            first,
            items.last().map_or(1, |(_, last)| last + 1),
            "dense across items"
        );
        items.push((first, last));
    }
    for (first, last) in &appends {
        assert!(
            items.iter().any(|(a, b)| a <= first && last <= b),
            "append {first}..={last} split across {items:?}"
        );
    }
    let (first, last) = items[0];
    if last > first {
        let tail = log
            .subscribe_batches(first + 1)
            .next()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (tail[0].position, tail[tail.len() - 1].position),
            (first + 1, last)
        );
    }
}

// Proves a commit is stored as batches of whole appends of about `STORED_BATCH_BYTES_TARGET`
// (sled keeps a log stored in commit-sized values in memory whole): with 16 writers appending
// ~2.5 KiB at once, no batch holds more than two appends, none is split, an append larger than
// the target is stored alone, and the log reads back, verifies and reopens whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commits_are_stored_in_small_batches_of_whole_appends() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(EventLog::open(dir.path(), options()).unwrap());
    let mut appends = concurrent_appends(&log, 16, 20, &"p".repeat(800)).await;
    let large = (0..10)
        .map(|k| event(100_000 + k, &"L".repeat(1_000)))
        .collect();
    let outcome = log
        .append(single("large", ExpectedVersion::NoStream, large))
        .await
        .unwrap();
    appends.push((outcome.first_position, outcome.last_position));
    let head = log.head_position();
    assert_eq!(head, 16 * 20 * 3 + 10);
    let mut items = Vec::new();
    let mut subscription = log.subscribe_batches(1);
    while items.last().map_or(0, |(_, last)| *last) < head {
        let batch = subscription.next().await.unwrap().unwrap();
        items.push((batch[0].position, batch[batch.len() - 1].position));
    }
    for (first, last) in &items[..items.len() - 1] {
        assert!(
            last - first < 6,
            "batch {first}..={last} holds more than two appends"
        );
    }
    assert_eq!(
        items.last(),
        Some(&(outcome.first_position, outcome.last_position))
    );
    for (first, last) in &appends {
        assert!(
            items.iter().any(|(a, b)| a <= first && last <= b),
            "append {first}..={last} split across batches"
        );
    }
    let report = log.verify().unwrap();
    assert_eq!((report.head_position, report.first_bad), (head, None));
    drop(subscription);
    log.shutdown();
    drop(log);
    let reopened = EventLog::open(dir.path(), options()).unwrap();
    assert_eq!(reopened.head_position(), head);
    assert_eq!(reopened.read_all(1, 10_000).unwrap().len() as u64, head);
}

// Proves a restore stores the log in small batches without cutting a commit (so never an
// append): the records carry no append boundaries, but every event of a group commit has the
// commit's `recorded_at`. With a running clock and concurrent writers, the restored log's batches
// each hold whole commits, there are many of them, and the log is the one backed up.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restore_cuts_batches_only_between_commits() {
    let source = tempfile::tempdir().unwrap();
    let log = Arc::new(EventLog::open(source.path(), LogOptions::default()).unwrap());
    concurrent_appends(&log, 8, 25, &"r".repeat(700)).await;
    let records = all_records(&log);
    let events = log.read_all(1, 10_000).unwrap();
    log.shutdown();
    drop(log);

    let restored_dir = tempfile::tempdir().unwrap();
    let report =
        comptoir_eventlog::restore_data_dir(restored_dir.path(), records.into_iter().map(Ok))
            .unwrap();
    assert!(report.is_intact());
    let restored = EventLog::open(restored_dir.path(), options()).unwrap();
    assert_eq!(restored.read_all(1, 10_000).unwrap(), events);
    let head = restored.head_position();
    let mut batches: Vec<Vec<RecordedEvent>> = Vec::new();
    let mut subscription = restored.subscribe_batches(1);
    while batches.last().map_or(0, |b| b[b.len() - 1].position) < head {
        batches.push(subscription.next().await.unwrap().unwrap());
    }
    assert!(
        batches.len() > 10,
        "{} batches for {head} events",
        batches.len()
    );
    for pair in batches.windows(2) {
        let (end, start) = (&pair[0][pair[0].len() - 1], &pair[1][0]);
        assert_ne!(
            end.recorded_at, start.recorded_at,
            "a commit cut between positions {} and {}",
            end.position, start.position
        );
    }
}

// Proves a restore whose records all check against the chain, but whose log does not verify (a
// stream version rewritten and the chain recomputed after it), reports the bad position and
// leaves no log behind.
#[tokio::test]
async fn a_restore_that_does_not_verify_leaves_nothing_behind() {
    let source = tempfile::tempdir().unwrap();
    let log = EventLog::open(source.path(), options()).unwrap();
    varied_appends(&log, 10, 2, 3).await;
    let mut records = all_records(&log);
    log.shutdown();
    let mut altered = comptoir_eventlog::codec::decode_envelope(&records[7].envelope).unwrap();
    altered.stream_version += 5;
    records[7].envelope = comptoir_eventlog::codec::encode_recorded(&altered);
    let mut previous = records[6].hash;
    for record in &mut records[7..] {
        record.hash = comptoir_eventlog::codec::chain_hash(&previous, &record.envelope);
        previous = record.hash;
    }
    let dir = tempfile::tempdir().unwrap();
    let report =
        comptoir_eventlog::restore_data_dir(dir.path(), records.into_iter().map(Ok)).unwrap();
    assert_eq!(report.first_bad.map(|(position, _)| position), Some(8));
    assert!(!dir.path().join("log").exists(), "nothing left behind");
}

/// Every record of `log`, from the genesis, as its chain pages serve them.
fn all_records(log: &EventLog) -> Vec<comptoir_eventlog::ChainRecord> {
    let mut records = Vec::new();
    while (records.len() as u64) < log.head_position() {
        records.extend(log.chain_page(records.len() as u64, 7).unwrap().records);
    }
    records
}

// Proves a log restored from its chain records is the one backed up: same events at the same
// positions, same head hash, streams readable (the indexes are rebuilt at open) and appends go
// on from its head; a damaged record, a gap or a data dir that has a log are refused, and a
// refused restore leaves no log behind.
#[tokio::test]
async fn a_log_restored_from_its_records_is_the_same_log() {
    let source = tempfile::tempdir().unwrap();
    let log = EventLog::open(source.path(), options()).unwrap();
    varied_appends(&log, 30, 5, 4).await;
    let records = all_records(&log);
    let events = log.read_all(1, 1_000).unwrap();
    let head_hash = log.head_hash().unwrap();
    let stream = log.read_stream("s-2", 1, 100).unwrap();
    log.shutdown();

    let restored_dir = tempfile::tempdir().unwrap();
    let report = comptoir_eventlog::restore_data_dir(
        restored_dir.path(),
        records.clone().into_iter().map(Ok),
    )
    .unwrap();
    assert!(report.is_intact());
    assert_eq!((report.head_position, report.head_hash), head_hash);
    let restored = EventLog::open(restored_dir.path(), options()).unwrap();
    assert_eq!(restored.read_all(1, 1_000).unwrap(), events);
    assert_eq!(restored.head_hash().unwrap(), head_hash);
    assert_eq!(restored.read_stream("s-2", 1, 100).unwrap(), stream);
    let version = stream.len() as u64;
    restored
        .append(single(
            "s-2",
            ExpectedVersion::Exact(version),
            vec![event(9_999, "after")],
        ))
        .await
        .unwrap();
    assert!(restored.verify().unwrap().is_intact());
    restored.shutdown();
    let again = comptoir_eventlog::restore_data_dir(restored_dir.path(), Vec::new());
    assert!(again.is_err(), "a data dir with a log is refused");

    let mut damaged = records.clone();
    let last = damaged[40].envelope.len() - 1;
    damaged[40].envelope[last] ^= 1;
    let mut gap = records;
    gap.remove(10);
    for (bad, position) in [(damaged, 41), (gap, 11)] {
        let dir = tempfile::tempdir().unwrap();
        let refused = comptoir_eventlog::restore_data_dir(dir.path(), bad.into_iter().map(Ok));
        match refused {
            Err(LogError::Corrupt { position: at, .. }) => assert_eq!(at, position),
            other => panic!("expected a damaged record at {position}: {other:?}"),
        }
        assert!(!dir.path().join("log").exists(), "nothing left behind");
    }
}
