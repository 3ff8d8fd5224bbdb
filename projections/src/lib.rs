//! Everything derived from the log: read models, and the one codec that turns domain events into
//! payload bytes and back (here because projections are its main reader; `api` uses it to write).
//!
//! Architecture Invariant: projections never append to the log; they only read it.
//!
//! # How it works
//!
//! [`Projections::open`] opens the read models' own sled database at `<data_dir>/projections`.
//! [`Projections::spawn_runner`] starts one tokio task that subscribes to the log just after the
//! stored checkpoint, applies events in chunks of at most `COMMIT_EVENTS_MAX`, and commits each
//! chunk's state changes and the new checkpoint as one commit, atomic across a crash
//! (`commit_journal`); then it publishes the new position, which [`Projections::wait_for`] waits
//! on. The query methods read committed state only, always scoped by shop.
//!
//! Applying is deterministic: state depends only on the events (no clock, no hash-map order), and
//! a chunk's writes are read back by its later events, so any batching gives the same bytes
//! ([`Projections::state_digest`]).

mod apply;
pub mod bundles;
pub mod closures;
pub mod codec;
mod commit_journal;
pub mod customer_space;
mod engine;
mod error;
pub mod exports;
pub mod hints;
mod keys;
pub mod ledger;
pub mod limits;
pub mod loyalty;
pub mod messages;
mod online;
mod packed;
mod paging;
mod queries;
mod rebuild;
pub mod render;
pub mod report_schedules;
mod row_bytes;
mod rows;
mod runner;
pub mod sample;
pub mod statistics;
mod store;
pub mod store_credit;
#[cfg(test)]
mod tests;
mod usage;
mod views;

pub use engine::{ProjectionName, RebuildOutcome};
pub use error::{ProjectionError, ProjectionResult};
pub use paging::{DateRange, Page, PageRequest};
pub use queries::{CustomerQuery, OrderQuery};
pub use rebuild::{rebuild_projections, verify_projections, VerifyOutcome};
pub use usage::{CouponSummary, DailyUsage, USAGE_DAYS_MAX};
pub use views::{
    ApiKeyView, CreditNoteView, CustomerView, DeliverySlipView, DocumentView, InvoiceView,
    OrderSummary, OrderView, ProductView, PurchaseOrderView, QuoteView, ShopView,
};

use crate::limits::WAIT_TIMEOUT_MAX;
use comptoir_eventlog::{EventStore, Position};
use online::CurrentTree;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Sub-directory of the data dir holding the projections' sled database.
pub const PROJECTIONS_DIR: &str = "projections";

/// What the runner has done so far, as published to waiters.
#[derive(Debug, Clone, Default)]
struct RunnerState {
    /// Last position whose effects are committed.
    applied: Position,
    /// Set when the runner stopped on an error; it will not advance again.
    failure: Option<Arc<str>>,
}

/// The read models of one data directory. Share it behind the `Arc` that [`Projections::open`]
/// returns; every method is cheap to call concurrently.
pub struct Projections {
    db: sled::Db,
    /// The read models' tree; an online rebuild replaces it whole.
    tree: CurrentTree,
    /// The ledger's tree; an online rebuild replaces it whole.
    ledger: CurrentTree,
    /// Each projection's own checkpoint; the published position is the lowest.
    checkpoints: Mutex<[Position; 2]>,
    /// Each projection's decoded rows, kept by the runner (the trees' only writer) between
    /// chunks.
    row_caches: [Mutex<rows::RowCache>; 2],
    /// SHA-256 of an API key secret → the key, mirrored from the `ApiKey` table so that
    /// authenticating a request touches no disk.
    api_keys: RwLock<HashMap<[u8; 32], ApiKeyView>>,
    state: watch::Sender<RunnerState>,
    runner_started: AtomicBool,
    /// Set by `stop_runner`: the runner finishes the chunk it is applying and returns.
    stop_requested: watch::Sender<bool>,
    /// A projection stored in an older format was replaced at open by an empty tree, which the
    /// runner fills from the whole log.
    replays_whole_log: bool,
    /// Held by the runner while it applies a chunk, and by an online rebuild while it swaps its
    /// trees in: the swap then happens between two chunks, at the runner's checkpoint.
    apply_lock: Mutex<()>,
    /// Set while an online rebuild runs: one at a time.
    rebuild_running: AtomicBool,
    /// Events this process appended, as values, for the runner (see `hints`).
    hints: hints::DecodedHints,
}

impl Projections {
    /// Opens (or creates) the read models under `<data_dir>/projections` and loads the API key
    /// table into memory. The data dir's lock is held by the event log of the same process, so
    /// no lock is taken here.
    pub fn open(data_dir: impl AsRef<Path>) -> ProjectionResult<Arc<Self>> {
        let path = data_dir.as_ref().join(PROJECTIONS_DIR);
        let open_error = |error: sled::Error| ProjectionError::Open {
            path: path.clone(),
            reason: error.to_string(),
        };
        let db = rebuild::open_db(data_dir.as_ref(), limits::CACHE_BYTES)?;
        let meta = db.open_tree(engine::META_TREE).map_err(open_error)?;
        let (tree, tree_replaced) =
            engine::open_current_tree(&db, &meta, ProjectionName::ReadModels)?;
        let (ledger, ledger_replaced) =
            engine::open_current_tree(&db, &meta, ProjectionName::Ledger)?;
        engine::drop_stray_trees(&db, &meta)?;
        let checkpoints = [
            engine::checkpoint_of(ProjectionName::ReadModels, &tree)?,
            engine::checkpoint_of(ProjectionName::Ledger, &ledger)?,
        ];
        let applied = checkpoints[0].min(checkpoints[1]);
        let api_keys = apply::shop::load_api_keys(&tree)?;
        let (state, _) = watch::channel(RunnerState {
            applied,
            failure: None,
        });
        Ok(Arc::new(Projections {
            db,
            tree: CurrentTree::new(tree),
            ledger: CurrentTree::new(ledger),
            checkpoints: Mutex::new(checkpoints),
            row_caches: [
                Mutex::new(rows::RowCache::new(limits::ROW_CACHE_ROWS_MAX)),
                Mutex::new(rows::RowCache::new(limits::ROW_CACHE_ROWS_MAX)),
            ],
            api_keys: RwLock::new(api_keys),
            state,
            runner_started: AtomicBool::new(false),
            stop_requested: watch::Sender::new(false),
            replays_whole_log: tree_replaced || ledger_replaced,
            apply_lock: Mutex::new(()),
            rebuild_running: AtomicBool::new(false),
            hints: hints::DecodedHints::default(),
        }))
    }

    /// Starts the runner: catches up from the checkpoint, then follows live appends until the
    /// log's subscription ends (log shut down) or an error stops it. The task's result says why it
    /// ended; an error is also logged and makes `wait_for` fail with `RunnerStopped`. Only one
    /// runner may run over a `Projections`: a second call returns a task that fails at once.
    pub fn spawn_runner(
        self: &Arc<Self>,
        log: Arc<dyn EventStore>,
    ) -> JoinHandle<ProjectionResult<()>> {
        if self.runner_started.swap(true, Ordering::AcqRel) {
            return tokio::spawn(async { Err(ProjectionError::RunnerAlreadyStarted) });
        }
        tokio::spawn(runner::run(self.clone(), log))
    }

    /// Asks the runner to stop between two chunks: the chunk being applied is committed first, so
    /// awaiting the runner's task afterwards leaves no apply running over the trees (a shutdown
    /// can then flush and close them).
    pub fn stop_runner(&self) {
        self.stop_requested.send_replace(true);
    }

    /// Resolves once `stop_runner` was called.
    pub(crate) async fn stop_requested(&self) {
        let mut receiver = self.stop_requested.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail while it is borrowed.
        let _ = receiver.wait_for(|stop| *stop).await;
    }

    /// Where a writer of this process hands the runner the events it appended (see `hints`).
    pub fn hints(&self) -> &hints::DecodedHints {
        &self.hints
    }

    /// The last log position whose effects the read models hold (0 before the first event).
    pub fn position(&self) -> Position {
        self.state.borrow().applied
    }

    /// Waits until the read models hold the effects of `position` (for `?min_position=`).
    /// Waits at most `timeout`, itself capped at `WAIT_TIMEOUT_MAX`; then fails with
    /// `WaitTimeout`. Fails with `RunnerStopped` if the runner stopped on an error.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> ProjectionResult<()> {
        let timeout = timeout.min(WAIT_TIMEOUT_MAX);
        let mut receiver = self.state.subscribe();
        let reached = |state: &RunnerState| state.applied >= position || state.failure.is_some();
        // Either outcome of the wait is judged from the state below.
        let _ = tokio::time::timeout(timeout, receiver.wait_for(reached)).await;
        let state = self.state.borrow().clone();
        if state.applied >= position {
            return Ok(());
        }
        if let Some(reason) = state.failure {
            return Err(ProjectionError::RunnerStopped {
                reason: reason.to_string(),
            });
        }
        Err(ProjectionError::WaitTimeout {
            position,
            reached: state.applied,
            waited_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// True when a projection stored in an older format was replaced at open: its reads stand at
    /// nothing until the runner has replayed the log.
    pub fn replays_whole_log(&self) -> bool {
        self.replays_whole_log
    }

    /// Waits, however long it takes, until the projections have applied `position` or their
    /// runner stopped; `progress` is called with the position reached at each bounded wait.
    pub async fn wait_until_applied(
        &self,
        position: Position,
        progress: &mut dyn FnMut(Position),
    ) -> ProjectionResult<()> {
        loop {
            match self.wait_for(position, WAIT_TIMEOUT_MAX).await {
                Err(ProjectionError::WaitTimeout { reached, .. }) => progress(reached),
                outcome => return outcome,
            }
        }
    }

    /// SHA-256 over every key and value of the read models, checkpoint excluded: two states built
    /// from the same events have the same digest, whatever the batching.
    pub fn state_digest(&self) -> ProjectionResult<[u8; 32]> {
        engine::tree_digest(ProjectionName::ReadModels, &self.tree())
    }

    /// Each projection's checkpoint and SHA-256 digest of its state (checkpoint excluded).
    pub fn digests(&self) -> ProjectionResult<Vec<RebuildOutcome>> {
        ProjectionName::ALL
            .into_iter()
            .map(|projection| {
                let tree = self.tree_of(projection);
                Ok(RebuildOutcome {
                    projection,
                    position: engine::checkpoint_of(projection, &tree)?,
                    digest: engine::tree_digest(projection, &tree)?,
                })
            })
            .collect()
    }

    /// The current tree of `projection`. A query takes it once and reads only it, so it sees one
    /// consistent state even when an online rebuild swaps the tree meanwhile.
    fn tree_of(&self, projection: ProjectionName) -> Arc<sled::Tree> {
        self.current_tree(projection).get()
    }

    fn current_tree(&self, projection: ProjectionName) -> &CurrentTree {
        match projection {
            ProjectionName::ReadModels => &self.tree,
            ProjectionName::Ledger => &self.ledger,
        }
    }

    /// The read models' current tree.
    fn tree(&self) -> Arc<sled::Tree> {
        self.tree.get()
    }

    /// The ledger's current tree.
    fn ledger(&self) -> Arc<sled::Tree> {
        self.ledger.get()
    }

    /// Runs `read`, a read of several read-models rows, on a state no commit changed meanwhile
    /// (`snapshot`).
    pub(crate) fn read_models_snapshot<T>(
        &self,
        read: impl FnMut() -> ProjectionResult<T>,
    ) -> ProjectionResult<T> {
        self.snapshot(ProjectionName::ReadModels, read)
    }

    /// One page of a read-models list, as of one commit (`snapshot`): a page read while the
    /// runner commits never shows part of what one commit wrote.
    pub(crate) fn read_models_page<T: serde::de::DeserializeOwned, U>(
        &self,
        range: &store::ListRange,
        page: &paging::PageRequest,
        mut select: impl FnMut(T) -> Option<U>,
    ) -> ProjectionResult<paging::Page<U>> {
        self.read_models_snapshot(|| store::page(&self.tree(), range, page, &mut select))
    }

    /// Every read-models row under `prefix`, as of one commit (`snapshot`).
    pub(crate) fn read_models_list<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> ProjectionResult<Vec<T>> {
        self.read_models_snapshot(|| store::list_prefix(&self.tree(), prefix))
    }

    /// Runs `read`, a read of several ledger rows, on a state no commit changed meanwhile
    /// (`snapshot`).
    pub(crate) fn ledger_snapshot<T>(
        &self,
        read: impl FnMut() -> ProjectionResult<T>,
    ) -> ProjectionResult<T> {
        self.snapshot(ProjectionName::Ledger, read)
    }

    /// Runs `read`, a read of several rows of `projection`, on a state no commit changed
    /// meanwhile.
    ///
    /// Why: a commit stores its rows one insert at a time (`commit_journal`), so a read of
    /// several rows can see half of one: a trial balance read while the runner committed came
    /// back unbalanced (`tests::online`). So the read is optimistic: the projection's
    /// checkpoint, which every commit changes last, is read before, and the commit journal's
    /// record, present while a commit is applied, after it; after the read, the record first,
    /// then the checkpoint. A read that a commit overlapped is done again. After
    /// `SNAPSHOT_ATTEMPTS` such reads the last one pauses the runner between two chunks (its
    /// apply lock), which no commit can overlap.
    pub(crate) fn snapshot<T>(
        &self,
        projection: ProjectionName,
        mut read: impl FnMut() -> ProjectionResult<T>,
    ) -> ProjectionResult<T> {
        for _ in 0..limits::SNAPSHOT_ATTEMPTS {
            let before = self.version_of(projection)?;
            if self.commit_in_progress(projection)? {
                continue;
            }
            let answer = read();
            if !self.commit_in_progress(projection)? && self.version_of(projection)? == before {
                return answer;
            }
        }
        let _paused = self.apply_lock.lock().unwrap_or_else(|p| p.into_inner());
        read()
    }

    fn commit_in_progress(&self, projection: ProjectionName) -> ProjectionResult<bool> {
        commit_journal::commit_in_progress(&self.tree_of(projection))
    }

    /// Which tree of `projection` is current, and its checkpoint.
    fn version_of(&self, projection: ProjectionName) -> ProjectionResult<(usize, Position)> {
        let tree = self.tree_of(projection);
        let checkpoint = engine::checkpoint_of(projection, &tree)?;
        Ok((Arc::as_ptr(&tree) as usize, checkpoint))
    }

    /// Writes everything committed so far to disk (also done in the background and on drop).
    pub async fn flush(&self) -> ProjectionResult<()> {
        self.db.flush_async().await?;
        Ok(())
    }

    fn publish_applied(&self, applied: Position) {
        self.state.send_modify(|state| state.applied = applied);
    }

    fn publish_failure(&self, reason: String) {
        self.state
            .send_modify(|state| state.failure = Some(reason.into()));
    }
}
