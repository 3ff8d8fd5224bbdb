//! Rebuilding projections inside the running server, without stopping reads or the runner.
//!
//! Each projection's tree sits in a [`CurrentTree`]: queries and the runner take the current
//! handle (a cheap `Arc` clone) for each read or chunk, so a rebuild can replace it whole. The
//! protocol of [`Projections::rebuild_online`]:
//!
//! 1. Replay the log from position 1 into fresh trees (`NAME.N.online`) up to the runner's
//!    checkpoint, while the runner keeps applying live events to the current trees and every
//!    read answers from them.
//! 2. Catch the fresh trees up, in bounded rounds, until they are within
//!    `ONLINE_SWAP_LAG_EVENTS` of the runner's checkpoints.
//! 3. Take the apply lock, which the runner holds for each chunk: the runner waits between two
//!    chunks. Replay the last events up to exactly each projection's checkpoint, digest the fresh
//!    trees, point `meta` at them (the same one write as the offline rebuild), replace the
//!    handles, empty those projections' row caches (they hold rows of the old trees) and reload
//!    the API keys if the read models were rebuilt. Release the lock: the runner continues on the
//!    new trees from the checkpoint it stopped at.
//! 4. Drop the old trees once no reader holds them any more (a tree dropped under a reader would
//!    fail its read); one still held after `OLD_TREE_READERS_WAIT_MAX` is left to the next open.
//!
//! A failure before the swap drops the fresh trees and leaves the current ones in force.

use crate::engine::{self, fresh_tree, replay_range, ProjectionName, RebuildOutcome};
use crate::error::{ProjectionError, ProjectionResult};
use crate::limits::{
    OLD_TREE_READERS_POLL, OLD_TREE_READERS_WAIT_MAX, ONLINE_CATCH_UP_ROUNDS_MAX,
    ONLINE_SWAP_LAG_EVENTS, ROW_CACHE_ROWS_MAX,
};
use crate::rows::RowCache;
use crate::{apply, Projections};
use comptoir_eventlog::{EventLog, Position};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// The tree a projection currently lives in, replaceable while others read it.
pub(crate) struct CurrentTree(RwLock<Arc<sled::Tree>>);

impl CurrentTree {
    pub(crate) fn new(tree: sled::Tree) -> Self {
        CurrentTree(RwLock::new(Arc::new(tree)))
    }

    /// The current tree; the caller keeps reading it even if it is replaced meanwhile.
    pub(crate) fn get(&self) -> Arc<sled::Tree> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Makes `tree` current and returns the tree it replaces.
    fn replace(&self, tree: Arc<sled::Tree>) -> Arc<sled::Tree> {
        std::mem::replace(
            &mut *self.0.write().unwrap_or_else(|p| p.into_inner()),
            tree,
        )
    }
}

/// Clears the "rebuild running" flag when the rebuild ends, however it ends.
struct RunningRebuild<'a>(&'a AtomicBool);

impl<'a> RunningRebuild<'a> {
    fn start(flag: &'a AtomicBool) -> ProjectionResult<Self> {
        if flag.swap(true, Ordering::AcqRel) {
            return Err(ProjectionError::RebuildRunning);
        }
        Ok(RunningRebuild(flag))
    }
}

impl Drop for RunningRebuild<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// A tree an online rebuild replaced, with its name, to drop once unread.
type Replaced = (String, Arc<sled::Tree>);

/// A fresh tree being filled for one projection.
struct Target {
    projection: ProjectionName,
    name: String,
    tree: Arc<sled::Tree>,
}

impl Projections {
    /// Rebuilds `projections` from the log into fresh trees and swaps them in while the server
    /// keeps serving (the protocol is in this module's documentation). Blocking: run it off the
    /// async workers. `progress(applied, head)` is called as the fresh trees advance. Returns
    /// each rebuilt projection's position (the runner's checkpoint at the swap) and digest there.
    /// Fails with `RebuildRunning` while another online rebuild runs, and with `RebuildStopped`
    /// when `stop_runner` is called meanwhile (the server shuts down); the current trees then
    /// stay in force.
    pub fn rebuild_online(
        &self,
        log: &EventLog,
        projections: &[ProjectionName],
        progress: &mut dyn FnMut(Position, Position),
    ) -> ProjectionResult<Vec<RebuildOutcome>> {
        let _running = RunningRebuild::start(&self.rebuild_running)?;
        let mut chosen = projections.to_vec();
        chosen.sort();
        chosen.dedup();
        let mut targets = Vec::with_capacity(chosen.len());
        for projection in chosen {
            let (name, tree) = fresh_tree(&self.db, projection, "online")?;
            targets.push(Target {
                projection,
                name,
                tree: Arc::new(tree),
            });
        }
        let filled = self.fill(log, &targets, progress);
        let swapped = filled.and_then(|()| self.swap_in(log, &targets));
        match swapped {
            Ok((outcomes, old_trees)) => {
                self.drop_when_unread(old_trees);
                Ok(outcomes)
            }
            Err(error) => {
                self.drop_unswapped(&targets);
                Err(error)
            }
        }
    }

    /// Steps 1 and 2: fills the fresh trees up to close behind the runner's checkpoints.
    fn fill(
        &self,
        log: &EventLog,
        targets: &[Target],
        progress: &mut dyn FnMut(Position, Position),
    ) -> ProjectionResult<()> {
        let mut reached = 0;
        for round in 0..ONLINE_CATCH_UP_ROUNDS_MAX {
            let live = self.lowest_checkpoint_of(targets);
            if round > 0 && live.saturating_sub(reached) <= ONLINE_SWAP_LAG_EVENTS {
                break;
            }
            let trees = as_replay_targets(targets);
            replay_range(
                log,
                &trees,
                reached + 1..=live,
                &|| self.keep_rebuilding(),
                &mut |applied| progress(applied, log.head_position()),
            )?;
            reached = live;
        }
        Ok(())
    }

    /// Step 3, under the apply lock: the last events, the digests and the swap. Returns the
    /// outcomes and the replaced trees.
    fn swap_in(
        &self,
        log: &EventLog,
        targets: &[Target],
    ) -> ProjectionResult<(Vec<RebuildOutcome>, Vec<Replaced>)> {
        let _paused = self.apply_lock.lock().unwrap_or_else(|p| p.into_inner());
        let paused_at = Instant::now();
        self.keep_rebuilding()?;
        let checkpoints = *self.checkpoints.lock().unwrap_or_else(|p| p.into_inner());
        for target in targets {
            let live = checkpoints[index_of(target.projection)];
            let reached = engine::checkpoint_of(target.projection, &target.tree)?;
            // The runner only moves forward and the fresh tree never passed it: a fresh tree
            // ahead would hold events the runner is about to apply to it again.
            if reached > live {
                return Err(ProjectionError::Gap {
                    expected: live + 1,
                    got: reached,
                });
            }
            let trees = [(target.projection, sled::Tree::clone(&target.tree))];
            replay_range(log, &trees, reached + 1..=live, &|| Ok(()), &mut |_| {})?;
        }
        let trees = as_replay_targets(targets);
        let outcomes = crate::rebuild::outcomes_of(&trees)?;
        let meta = self.db.open_tree(engine::META_TREE)?;
        let mut old_trees = Vec::with_capacity(targets.len());
        for target in targets {
            let old_name = engine::current_tree_name(&meta, target.projection)?;
            // The swap on disk: one write makes the new tree current, as offline.
            meta.insert(target.projection.as_str(), target.name.as_bytes())?;
            meta.flush()?;
            let old = self
                .current_tree(target.projection)
                .replace(target.tree.clone());
            *self.row_caches[index_of(target.projection)]
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = RowCache::new(ROW_CACHE_ROWS_MAX);
            old_trees.push((old_name, old));
            if target.projection == ProjectionName::ReadModels {
                let keys = apply::shop::load_api_keys(&target.tree)?;
                *self.api_keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
            }
        }
        // What the swap cost the runner (and reads with `min_position`), for operators.
        tracing::info!(
            paused_ms = u64::try_from(paused_at.elapsed().as_millis()).unwrap_or(u64::MAX),
            "online rebuild swapped in; the projection runner resumes"
        );
        Ok((outcomes, old_trees))
    }

    /// The lowest checkpoint the runner holds among the projections of `targets`.
    fn lowest_checkpoint_of(&self, targets: &[Target]) -> Position {
        let checkpoints = *self.checkpoints.lock().unwrap_or_else(|p| p.into_inner());
        targets
            .iter()
            .map(|target| checkpoints[index_of(target.projection)])
            .min()
            .unwrap_or(0)
    }

    /// Fails once the server is shutting down: a rebuild must not hold it up.
    fn keep_rebuilding(&self) -> ProjectionResult<()> {
        if *self.stop_requested.borrow() {
            return Err(ProjectionError::RebuildStopped {
                reason: "the server is shutting down".into(),
            });
        }
        Ok(())
    }

    /// Drops the fresh trees that were not made current (a failure before or during the swap).
    fn drop_unswapped(&self, targets: &[Target]) {
        for target in targets {
            let current = self.tree_of(target.projection);
            if Arc::ptr_eq(&current, &target.tree) {
                continue;
            }
            if let Err(error) = engine::drop_tree_emptied(&self.db, target.name.as_bytes()) {
                tracing::warn!(%error, tree = %target.name, "cannot drop an unfinished rebuild's tree; the next open drops it");
            }
        }
    }

    /// Step 4: drops each replaced tree once only this function holds it.
    fn drop_when_unread(&self, old_trees: Vec<Replaced>) {
        let deadline = Instant::now() + OLD_TREE_READERS_WAIT_MAX;
        for (name, tree) in old_trees {
            while Arc::strong_count(&tree) > 1 && Instant::now() < deadline {
                std::thread::sleep(OLD_TREE_READERS_POLL);
            }
            if Arc::strong_count(&tree) > 1 {
                tracing::warn!(tree = %name, "a reader still holds the replaced tree; the next open drops it");
                continue;
            }
            drop(tree);
            if let Err(error) = engine::drop_tree_emptied(&self.db, name.as_bytes()) {
                tracing::warn!(%error, tree = %name, "cannot drop the replaced tree; the next open drops it");
            }
        }
    }
}

/// Each projection's index in the runner's per-projection arrays.
fn index_of(projection: ProjectionName) -> usize {
    match projection {
        ProjectionName::ReadModels => 0,
        ProjectionName::Ledger => 1,
    }
}

fn as_replay_targets(targets: &[Target]) -> Vec<(ProjectionName, sled::Tree)> {
    targets
        .iter()
        .map(|target| (target.projection, sled::Tree::clone(&target.tree)))
        .collect()
}
