//! The engine: catch-up, live follow, checkpoints, atomic commits, errors, wait_for.

use super::*;
use crate::engine::ProjectionName;
use crate::ProjectionError;
use comptoir_domain::order::OrderStatus;

fn shop_stream(shop_id: Uuid) -> String {
    comptoir_domain::shop::stream_id(shop_id)
}

fn order_view(harness: &Harness, shop: Uuid, order: Uuid) -> crate::OrderView {
    harness
        .projections
        .order(shop, order)
        .unwrap()
        .expect("order")
}

#[tokio::test(flavor = "multi_thread")]
async fn catches_up_then_follows_live_appends() {
    // Proves the runner applies events appended before it started, then ones appended after.
    let harness = Harness::new();
    let (shop, order) = (id(1), id(2));
    harness
        .append(&shop_stream(shop), &[shop_created(shop)])
        .await;
    harness
        .append(&order_stream(order), &[order_placed(shop, order, at(0))])
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let view = order_view(&harness, shop, order);
    assert_eq!(view.status, OrderStatus::Placed);
    assert!(view.is_new);

    harness
        .append(
            &order_stream(order),
            &[
                payment(shop, order, id(3), "53.20"),
                order_paid(shop, order),
            ],
        )
        .await;
    harness.caught_up().await;
    let view = order_view(&harness, shop, order);
    assert_eq!(view.status, OrderStatus::Paid);
    assert_eq!(view.amount_paid, d("53.20"));
    assert_eq!(view.version, 3);
    assert_eq!(harness.projections.position(), harness.log.head_position());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_runner_returns_between_chunks_and_lets_go_of_the_trees() {
    // Proves `stop_runner` ends the runner cleanly: its task returns Ok with everything it took
    // committed, no apply task still holds the projections, and events appended afterwards wait
    // for the next runner.
    let harness = Harness::new();
    let shop = id(1);
    harness
        .append(&shop_stream(shop), &[shop_created(shop)])
        .await;
    let runner = harness.spawn_runner();
    harness.caught_up().await;
    harness.projections.stop_runner();
    let stopped = tokio::time::timeout(TEST_WAIT, runner)
        .await
        .expect("the runner stops in time")
        .expect("the task did not panic");
    assert!(stopped.is_ok(), "{stopped:?}");
    assert_eq!(
        Arc::strong_count(&harness.projections),
        1,
        "nothing else holds the projections once the runner returned"
    );
    let applied = harness.projections.position();
    let order = id(2);
    harness
        .append(&order_stream(order), &[order_placed(shop, order, at(0))])
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        harness.projections.position(),
        applied,
        "a stopped runner applies nothing"
    );
}

/// Stops the runner (if any) and reopens the projections from disk, as a restart would.
async fn reopen(
    harness: Harness,
    runner: Option<JoinHandle<crate::ProjectionResult<()>>>,
) -> Harness {
    let Harness {
        dir,
        log,
        projections,
    } = harness;
    let projections = match runner {
        Some(runner) => super::stop_and_reopen(runner, projections, dir.path()).await,
        None => {
            drop(projections);
            Projections::open(dir.path()).expect("projections reopen")
        }
    };
    Harness {
        dir,
        log,
        projections,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reopening_continues_from_the_checkpoint_without_double_apply() {
    // Proves the checkpoint is stored with the state: after a reopen the runner resumes after it,
    // so payments already applied are not added a second time and later ones are not skipped.
    let harness = Harness::new();
    let (shop, order) = (id(1), id(2));
    harness
        .append(
            &order_stream(order),
            &[
                order_placed(shop, order, at(0)),
                payment(shop, order, id(10), "10.00"),
            ],
        )
        .await;
    let runner = harness.spawn_runner();
    harness.caught_up().await;
    let checkpoint = harness.projections.position();
    let harness = reopen(harness, Some(runner)).await;
    assert_eq!(harness.projections.position(), checkpoint);

    harness
        .append(
            &order_stream(order),
            &[payment(shop, order, id(11), "5.00")],
        )
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let view = order_view(&harness, shop, order);
    assert_eq!(view.amount_paid, d("15.00"));
    assert_eq!(view.payments.len(), 2);
}

/// A harness whose log holds an order placed (position 1), then its payment of 10.00 in an
/// append of its own (position 2); returns it with the shop and order ids.
async fn placed_then_paid() -> (Harness, Uuid, Uuid) {
    let harness = Harness::new();
    let (shop, order) = (id(1), id(2));
    harness
        .append(&order_stream(order), &[order_placed(shop, order, at(0))])
        .await;
    harness
        .append(
            &order_stream(order),
            &[payment(shop, order, id(10), "10.00")],
        )
        .await;
    (harness, shop, order)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_chunk_commits_nothing() {
    // Proves state and checkpoint commit together: a chunk that fails half-way leaves neither
    // its first events' effects nor a moved checkpoint behind.
    let (harness, shop, order) = placed_then_paid().await;
    let bad = NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "OrderPaid".into(),
        schema_version: 1,
        payload: b"{not json".to_vec(),
        metadata: EventMetadata::default(),
    };
    harness.append_raw(&order_stream(order), vec![bad]).await;
    let events = harness.log.read_all(1, 10).unwrap();
    harness.projections.apply_chunk(&events[..1]).unwrap();

    let error = harness.projections.apply_chunk(&events[1..]).unwrap_err();
    assert!(matches!(error, ProjectionError::Codec(_)), "{error}");
    assert_eq!(harness.projections.position(), 1);
    let harness = reopen(harness, None).await;
    let view = order_view(&harness, shop, order);
    assert_eq!(
        view.amount_paid,
        d("0"),
        "the payment of the failed chunk is not there"
    );
    assert_eq!(harness.projections.position(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decode_error_stops_the_runner_loudly() {
    // Proves a known event type that does not decode stops the runner (never skipped) and that
    // waiters are told it stopped instead of waiting out their timeout.
    let harness = Harness::new();
    let bad = NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "OrderPlaced".into(),
        schema_version: 1,
        payload: b"{}".to_vec(),
        metadata: EventMetadata::default(),
    };
    let position = harness.append_raw("order-x", vec![bad]).await;
    let runner = harness.spawn_runner();
    let result = runner.await.expect("runner task");
    assert!(matches!(result, Err(ProjectionError::Codec(_))));
    let waited = harness.projections.wait_for(position, TEST_WAIT).await;
    assert!(matches!(waited, Err(ProjectionError::RunnerStopped { .. })));
    assert_eq!(harness.projections.position(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_event_types_are_skipped_but_advance_the_checkpoint() {
    // Proves events of types the projections do not handle (e.g. a future aggregate's) are
    // skipped without error and the checkpoint moves past them.
    let harness = Harness::new();
    let unknown = NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "SomethingFromTheFuture".into(),
        schema_version: 1,
        payload: b"{\"anything\":true}".to_vec(),
        metadata: EventMetadata::default(),
    };
    harness.append_raw("future-1", vec![unknown]).await;
    harness
        .append(&shop_stream(id(1)), &[shop_created(id(1))])
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    assert_eq!(harness.projections.position(), 2);
    assert!(harness.projections.shop(id(1)).unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_for_times_out_with_a_clear_error() {
    // Proves wait_for gives up after its timeout and says how far the projections got.
    let harness = Harness::new();
    let error = harness
        .projections
        .wait_for(5, Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        ProjectionError::WaitTimeout {
            position: 5,
            reached: 0,
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_runner_is_refused() {
    // Proves two runners can never apply the same events twice over one set of read models.
    let harness = Harness::new();
    let _first = harness.spawn_runner();
    let second = harness.spawn_runner().await.expect("task");
    assert!(matches!(second, Err(ProjectionError::RunnerAlreadyStarted)));
}

#[tokio::test(flavor = "multi_thread")]
async fn batching_does_not_change_the_stored_bytes() {
    // Proves determinism: the same events applied in one chunk or one by one give byte-identical
    // read models (the digest issue 6's rebuild compares).
    let harness = Harness::new();
    let (shop, order) = (id(1), id(2));
    harness
        .append(&shop_stream(shop), &[shop_created(shop)])
        .await;
    harness
        .append(
            &order_stream(order),
            &[
                order_placed(shop, order, at(0)),
                payment(shop, order, id(10), "53.20"),
                order_paid(shop, order),
            ],
        )
        .await;
    harness
        .append(
            "document-series-x",
            &[invoice_issued(shop, order, 1, at(3))],
        )
        .await;
    let events = harness.log.read_all(1, 100).unwrap();
    let other = tempfile::tempdir().unwrap();
    let one_by_one = Projections::open(other.path()).unwrap();
    for event in &events {
        one_by_one.apply_chunk(std::slice::from_ref(event)).unwrap();
    }
    harness.projections.apply_chunk(&events).unwrap();
    assert_eq!(
        harness.projections.state_digest().unwrap(),
        one_by_one.state_digest().unwrap()
    );
    assert_eq!(one_by_one.position(), events.len() as u64);
}

/// Every row of `projection`'s current tree, bookkeeping included.
fn stored_rows(projections: &Projections, projection: ProjectionName) -> Vec<(Vec<u8>, Vec<u8>)> {
    projections
        .tree_of(projection)
        .iter()
        .map(|row| {
            let (key, value) = row.expect("row");
            (key.to_vec(), value.to_vec())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_a_crash_interrupted_is_completed_at_open() {
    // Given the read models at position 1 and the commit of position 2 cut by a crash after its
    // record and its first write, when the projections are opened again, then they hold the
    // whole commit once: the payment counted once, the checkpoint at 2, no record left.
    let (harness, shop, order) = placed_then_paid().await;
    let events = harness.log.read_all(1, 10).unwrap();
    harness.projections.apply_chunk(&events[..1]).unwrap();
    let before = stored_rows(&harness.projections, ProjectionName::ReadModels);
    harness.projections.apply_chunk(&events[1..]).unwrap();
    let after = stored_rows(&harness.projections, ProjectionName::ReadModels);

    // The commit of position 2, as the writes that take `before` to `after`, the checkpoint last.
    let mut writes: Vec<crate::commit_journal::Write> = after
        .iter()
        .filter(|row| !before.contains(row))
        .map(|(key, value)| (key.clone(), Some(value.clone())))
        .collect();
    writes.sort_by_key(|(key, _)| key.as_slice() == crate::keys::CHECKPOINT_KEY);
    assert!(
        writes.len() >= 3,
        "the order, its list row and the checkpoint"
    );
    let tree = harness.projections.tree_of(ProjectionName::ReadModels);
    // Back to position 1, as the crash left it before the commit's record.
    for (key, _) in after
        .iter()
        .filter(|(key, _)| !before.iter().any(|(old, _)| old == key))
    {
        tree.remove(key).unwrap();
    }
    for (key, value) in &before {
        tree.insert(key.as_slice(), value.as_slice()).unwrap();
    }
    tree.insert(
        crate::commit_journal::JOURNAL_KEY,
        crate::commit_journal::encode(&writes),
    )
    .unwrap();
    let (first_key, first_value) = &writes[0];
    tree.insert(first_key.as_slice(), first_value.clone().unwrap())
        .unwrap();
    tree.flush().unwrap();
    drop(tree);

    let harness = reopen(harness, None).await;
    assert_eq!(harness.projections.position(), 2);
    assert_eq!(
        stored_rows(&harness.projections, ProjectionName::ReadModels),
        after
    );
    let view = order_view(&harness, shop, order);
    assert_eq!(view.amount_paid, d("10.00"));
}

#[tokio::test(flavor = "multi_thread")]
async fn live_commits_go_through_their_record_in_every_projection() {
    // Given projections in use, when a chunk is applied, then each tree's commit first stores
    // its record: what makes it whole after a crash (a rebuild's fresh trees skip it).
    let (harness, _, _) = placed_then_paid().await;
    let events = harness.log.read_all(1, 10).unwrap();
    let mut records: Vec<_> = ProjectionName::ALL
        .into_iter()
        .map(|projection| {
            let tree = harness.projections.tree_of(projection);
            (
                projection,
                tree.watch_prefix(crate::commit_journal::JOURNAL_KEY),
            )
        })
        .collect();
    harness.projections.apply_chunk(&events).unwrap();
    for (projection, record) in &mut records {
        assert!(
            record
                .next_timeout(std::time::Duration::from_secs(1))
                .is_ok(),
            "{projection:?} committed without its record"
        );
    }
}

/// Offers each event of `events`, as recorded in the harness's log from `from`, as a hint.
fn offer_hints<E: DomainEvent>(harness: &Harness, from: Position, events: &[E]) {
    let recorded = harness.log.read_all(from, events.len()).expect("read");
    for (recorded, event) in recorded.iter().zip(events) {
        harness.projections.hints().offer(
            recorded.position,
            recorded.event_id,
            Box::new(event.clone()),
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn events_offered_as_hints_are_applied_as_their_stored_bytes_would_be() {
    // Proves the runner takes the hints it is offered (the table empties) and that applying
    // them gives the read models the stored events give; debug builds also compare each hint
    // with its stored bytes.
    let harness = Harness::new();
    let (shop, order) = (id(1), id(2));
    let placed = [order_placed(shop, order, at(0))];
    harness
        .append(&shop_stream(shop), &[shop_created(shop)])
        .await;
    harness.append(&order_stream(order), &placed).await;
    offer_hints(&harness, 1, &[shop_created(shop)]);
    offer_hints(&harness, 2, &placed);
    assert_eq!(harness.projections.hints().len(), 2);
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    assert!(harness.projections.hints().is_empty());
    let view = order_view(&harness, shop, order);
    assert_eq!(view.status, OrderStatus::Placed);
    assert_eq!(view.placed_at, at(0));
}

#[cfg(debug_assertions)]
#[tokio::test]
#[should_panic(expected = "differs from its stored bytes")]
async fn a_hint_that_is_not_what_its_bytes_decode_to_stops_a_debug_build() {
    // Proves every test that goes through hints checks them: a hint another value than the
    // stored event is caught, not applied.
    let harness = Harness::new();
    let (shop, order) = (id(1), id(2));
    harness
        .append(&order_stream(order), &[order_placed(shop, order, at(0))])
        .await;
    offer_hints(&harness, 1, &[order_placed(shop, order, at(5))]);
    let recorded = harness.log.read_all(1, 1).expect("read");
    let _ = crate::engine::decode_all_hinted(&recorded, harness.projections.hints());
}
