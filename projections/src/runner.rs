//! The runner: follows the log from the checkpoint and commits read-model changes in chunks.

use crate::commit_journal::TreeUse;
use crate::engine::{self, ProjectionName};
use crate::error::{ProjectionError, ProjectionResult};
use crate::limits::COMMIT_EVENTS_MAX;
use crate::store::ApiKeyChange;
use crate::Projections;
use comptoir_eventlog::{EventStore, LogResult, Position, RecordedEvent};
use futures::{FutureExt, Stream, StreamExt};
use std::sync::Arc;

/// Runs until the log's subscription ends or an error stops it; an error is logged and published
/// to waiters before it is returned, because a projection that silently stops serves stale reads.
pub(crate) async fn run(
    projections: Arc<Projections>,
    log: Arc<dyn EventStore>,
) -> ProjectionResult<()> {
    let from = projections.position() + 1;
    tracing::info!(
        from,
        head = log.head_position(),
        "projection runner starting"
    );
    let result = follow(&projections, log, from).await;
    match &result {
        Ok(()) => tracing::info!(
            applied = projections.position(),
            "projection runner stopped"
        ),
        Err(error) => {
            tracing::error!(%error, applied = projections.position(), "projection runner stopped");
            projections.publish_failure(error.to_string());
        }
    }
    result
}

async fn follow(
    projections: &Arc<Projections>,
    log: Arc<dyn EventStore>,
    from: Position,
) -> ProjectionResult<()> {
    let mut commits = log.subscribe_batches(from).fuse();
    let mut held: Option<Vec<RecordedEvent>> = None;
    loop {
        // A stop is only seen between chunks: a chunk taken is applied and committed whole.
        let first = match held.take() {
            Some(batch) => batch,
            None => tokio::select! {
                biased;
                () = projections.stop_requested() => return Ok(()),
                batch = commits.next() => match batch {
                    Some(batch) => batch?,
                    None => return Ok(()),
                },
            },
        };
        let (events, next) = whole_commits(first, &mut commits)?;
        held = next;
        let worker = projections.clone();
        // Applying reads and writes sled: keep it off the async workers.
        tokio::task::spawn_blocking(move || worker.apply_chunk(&events))
            .await
            .map_err(|error| ProjectionError::RunnerStopped {
                reason: format!("the apply task failed: {error}"),
            })??;
    }
}

/// `first` and the log's stored batches already waiting after it, whole, up to
/// `COMMIT_EVENTS_MAX` events (a larger batch alone is taken whole), so that a commit of the
/// projections, and so every state a read can see, ends where an append ends (a batch holds
/// whole appends): never an order paid without its invoice. Also returns the batch that did not
/// fit, for the next chunk: large chunks while catching up, few batches when following live
/// appends.
fn whole_commits(
    first: Vec<RecordedEvent>,
    commits: &mut (impl Stream<Item = LogResult<Vec<RecordedEvent>>> + Unpin),
) -> ProjectionResult<(Vec<RecordedEvent>, Option<Vec<RecordedEvent>>)> {
    let mut events = first;
    while events.len() < COMMIT_EVENTS_MAX {
        let Some(Some(batch)) = commits.next().now_or_never() else {
            break;
        };
        let batch = batch?;
        if events.len() + batch.len() > COMMIT_EVENTS_MAX {
            return Ok((events, Some(batch)));
        }
        events.extend(batch);
    }
    Ok((events, None))
}

impl Projections {
    /// Applies `events` (which must follow the lowest checkpoint densely) to each projection past
    /// its own checkpoint, each committing its state with its checkpoint in one commit; then
    /// publishes the new position and returns it.
    pub(crate) fn apply_chunk(&self, events: &[RecordedEvent]) -> ProjectionResult<Position> {
        // Only the runner commits, so the published position is the lowest stored checkpoint.
        let applied = self.position();
        if let Some(first) = events.first() {
            if first.position != applied + 1 {
                return Err(ProjectionError::Gap {
                    expected: applied + 1,
                    got: first.position,
                });
            }
        }
        let decoded = engine::decode_all_hinted(events, &self.hints)?;
        // An online rebuild swaps trees only between two chunks (see `online`).
        let _applying = self.apply_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut checkpoints = *self.checkpoints.lock().unwrap_or_else(|p| p.into_inner());
        for (index, projection) in ProjectionName::ALL.into_iter().enumerate() {
            let tree = self.tree_of(projection);
            let mut rows = self.row_caches[index]
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let changes = engine::apply_to(
                projection,
                &tree,
                &mut rows,
                checkpoints[index],
                events,
                &decoded,
                TreeUse::Current,
            )?;
            drop(rows);
            self.apply_api_key_changes(changes);
            if let Some(last) = events.last() {
                checkpoints[index] = checkpoints[index].max(last.position);
            }
            *self.checkpoints.lock().unwrap_or_else(|p| p.into_inner()) = checkpoints;
        }
        let applied = checkpoints.iter().copied().min().unwrap_or(applied);
        self.publish_applied(applied);
        Ok(applied)
    }

    fn apply_api_key_changes(&self, changes: Vec<ApiKeyChange>) {
        if changes.is_empty() {
            return;
        }
        let mut table = self.api_keys.write().unwrap_or_else(|p| p.into_inner());
        for change in changes {
            table.insert(change.hash, change.view);
        }
    }
}
