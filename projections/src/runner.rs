//! The runner: follows the log from the checkpoint and commits read-model changes in chunks.

use crate::apply::apply_event;
use crate::error::{ProjectionError, ProjectionResult};
use crate::limits::COMMIT_EVENTS_MAX;
use crate::store::{ApiKeyChange, WriteSet};
use crate::Projections;
use comptoir_eventlog::{EventStore, LogResult, Position, RecordedEvent};
use futures::StreamExt;
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
            "projection runner stopped: the log subscription ended"
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
    // `ready_chunks` hands over whatever the subscription has ready, up to the bound: large
    // chunks while catching up, single events when following live appends.
    let mut chunks = log.subscribe(from).ready_chunks(COMMIT_EVENTS_MAX);
    while let Some(chunk) = chunks.next().await {
        let events = chunk
            .into_iter()
            .collect::<LogResult<Vec<RecordedEvent>>>()?;
        let worker = projections.clone();
        // Applying reads and writes sled: keep it off the async workers.
        tokio::task::spawn_blocking(move || worker.apply_chunk(&events))
            .await
            .map_err(|error| ProjectionError::RunnerStopped {
                reason: format!("the apply task failed: {error}"),
            })??;
    }
    Ok(())
}

impl Projections {
    /// Applies `events` (which must follow the checkpoint densely) and commits them with the new
    /// checkpoint in one batch, then publishes the new checkpoint and returns it.
    pub(crate) fn apply_chunk(&self, events: &[RecordedEvent]) -> ProjectionResult<Position> {
        // Only the runner commits, so the published position is the stored checkpoint.
        let mut applied = self.position();
        let mut writes = WriteSet::new(&self.tree);
        for event in events {
            // The pair of the log's own density check: a gap or a repeat here would silently
            // corrupt every total, so it stops the runner.
            if event.position != applied + 1 {
                return Err(ProjectionError::Gap {
                    expected: applied + 1,
                    got: event.position,
                });
            }
            apply_event(&mut writes, event)?;
            applied = event.position;
        }
        let changes = writes.commit(applied)?;
        self.apply_api_key_changes(changes);
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
