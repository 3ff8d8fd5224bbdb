//! Offline rebuild and verification of the projections of a data dir (the `comptoir rebuild` and
//! `comptoir verify --projections` commands). Both open the projections' database themselves, so
//! no `Projections` may be open over the same data dir in the process meanwhile; the caller holds
//! the event log, and so the data dir's lock, which keeps servers out.

use crate::engine::{self, fresh_tree, replay_into, ProjectionName, RebuildOutcome};

/// Where `verify_projections` rebuilds, under the data dir; deleted when it is done.
const VERIFY_SCRATCH_DIR: &str = "projections-verify";
use crate::error::{ProjectionError, ProjectionResult};
use crate::limits::{FLUSH_INTERVAL_MS, OFFLINE_CACHE_BYTES};
use crate::PROJECTIONS_DIR;
use comptoir_eventlog::{Position, ReplaySource};
use std::path::Path;

/// What `verify_projections` found for one projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOutcome {
    pub projection: ProjectionName,
    /// The stored checkpoint; the fresh rebuild stops there too.
    pub position: Position,
    pub stored_digest: [u8; 32],
    pub fresh_digest: [u8; 32],
}

impl VerifyOutcome {
    pub fn matches(&self) -> bool {
        self.stored_digest == self.fresh_digest
    }
}

/// Opens the projections' database with a page cache of `cache_bytes` (`CACHE_BYTES` for a
/// server, `OFFLINE_CACHE_BYTES` for the offline commands), waiting while this process still
/// holds it (`comptoir rebuild` reopens it right after its swap to drop the old trees).
pub(crate) fn open_db(data_dir: &Path, cache_bytes: u64) -> ProjectionResult<sled::Db> {
    let path = data_dir.join(PROJECTIONS_DIR);
    let config = sled::Config::new()
        .path(&path)
        .cache_capacity(cache_bytes)
        .flush_every_ms(Some(FLUSH_INTERVAL_MS));
    comptoir_eventlog::open_sled_when_released(&config).map_err(|error| ProjectionError::Open {
        path,
        reason: error.to_string(),
    })
}

/// Rebuilds `projections` from position 1 to the log's head into fresh trees, swaps them in and
/// drops the old ones. `progress(applied, head)` is called after each chunk. Returns each rebuilt
/// projection's position and digest.
pub fn rebuild_projections(
    data_dir: &Path,
    log: &dyn ReplaySource,
    projections: &[ProjectionName],
    progress: &mut dyn FnMut(Position, Position),
) -> ProjectionResult<Vec<RebuildOutcome>> {
    let (outcomes, old_trees) = rebuild_and_swap(data_dir, log, projections, progress)?;
    // In a database opened afresh, so that what the rebuild's database held is freed first
    // (`comptoir rebuild` over the projections of 100k orders: about 600 MB at its peak when the
    // old trees were dropped whole in the same database, 294 MB this way).
    let db = open_db(data_dir, OFFLINE_CACHE_BYTES)?;
    for old in old_trees {
        engine::drop_tree_emptied(&db, old.as_bytes())?;
    }
    db.flush()?;
    Ok(outcomes)
}

/// Rebuilds `projections` into fresh trees, digests them and makes them current. Returns their
/// outcomes and the names of the trees they replaced.
fn rebuild_and_swap(
    data_dir: &Path,
    log: &dyn ReplaySource,
    projections: &[ProjectionName],
    progress: &mut dyn FnMut(Position, Position),
) -> ProjectionResult<(Vec<RebuildOutcome>, Vec<String>)> {
    let db = open_db(data_dir, OFFLINE_CACHE_BYTES)?;
    let meta = db.open_tree(engine::META_TREE)?;
    let head = log.replay_head();
    let mut targets = Vec::new();
    let mut names = Vec::new();
    for projection in projections {
        let (name, tree) = fresh_tree(&db, *projection, "rebuild")?;
        names.push(name);
        targets.push((*projection, tree));
    }
    replay_into(log, &targets, head, &mut |applied| progress(applied, head))?;
    let outcomes = outcomes_of(&targets)?;
    let mut old_trees = Vec::new();
    for ((projection, _), name) in targets.iter().zip(names) {
        old_trees.push(engine::current_tree_name(&meta, *projection)?);
        // The swap: one write makes the new tree current; the old one goes afterwards.
        meta.insert(projection.as_str(), name.as_bytes())?;
        meta.flush()?;
    }
    db.flush()?;
    Ok((outcomes, old_trees))
}

/// Each rebuilt tree's position and digest, digested side by side: a digest reads its whole
/// tree, and the trees share nothing.
pub(crate) fn outcomes_of(
    targets: &[(ProjectionName, sled::Tree)],
) -> ProjectionResult<Vec<RebuildOutcome>> {
    std::thread::scope(|scope| {
        let digests: Vec<_> = targets
            .iter()
            .map(|(projection, tree)| {
                scope.spawn(move || -> ProjectionResult<RebuildOutcome> {
                    Ok(RebuildOutcome {
                        projection: *projection,
                        position: engine::checkpoint_of(*projection, tree)?,
                        digest: engine::tree_digest(*projection, tree)?,
                    })
                })
            })
            .collect();
        digests
            .into_iter()
            .map(|digest| engine::joined(digest, "a digest's thread"))
            .collect()
    })
}

/// Compares each projection's stored state with a fresh rebuild up to the same checkpoint. The
/// stored state is left untouched.
///
/// The fresh state goes to a scratch database of its own (`VERIFY_SCRATCH_DIR`), one projection
/// at a time, deleted as a directory afterwards: dropping a sled tree instead would read every
/// page of it back into memory at once (sled 0.34 frees a dropped tree's pages under one epoch
/// guard), about 150 MB more for the rebuild bench's 100k orders.
pub fn verify_projections(
    data_dir: &Path,
    log: &dyn ReplaySource,
) -> ProjectionResult<Vec<VerifyOutcome>> {
    let db = open_db(data_dir, OFFLINE_CACHE_BYTES)?;
    let meta = db.open_tree(engine::META_TREE)?;
    let scratch_dir = data_dir.join(VERIFY_SCRATCH_DIR);
    let mut outcomes = Vec::new();
    for projection in ProjectionName::ALL {
        let stored = db.open_tree(engine::current_tree_name(&meta, projection)?)?;
        let position = engine::checkpoint_of(projection, &stored)?;
        let fresh_digest = in_scratch_db(&scratch_dir, |scratch| {
            let targets = [(projection, scratch.open_tree(projection.as_str())?)];
            replay_into(log, &targets, position, &mut |_| {})?;
            engine::tree_digest(projection, &targets[0].1)
        })?;
        outcomes.push(VerifyOutcome {
            projection,
            position,
            stored_digest: engine::tree_digest(projection, &stored)?,
            fresh_digest,
        });
    }
    Ok(outcomes)
}

/// Runs `work` on a new, empty sled database at `dir`, then deletes it (and whatever an
/// interrupted run left there before).
fn in_scratch_db<T>(
    dir: &Path,
    work: impl FnOnce(&sled::Db) -> ProjectionResult<T>,
) -> ProjectionResult<T> {
    remove_scratch(dir)?;
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(OFFLINE_CACHE_BYTES)
        .open()
        .map_err(|error| ProjectionError::Open {
            path: dir.to_path_buf(),
            reason: error.to_string(),
        })?;
    let result = work(&db);
    drop(db);
    remove_scratch(dir)?;
    result
}

fn remove_scratch(dir: &Path) -> ProjectionResult<()> {
    match std::fs::remove_dir_all(dir) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(ProjectionError::Open {
            path: dir.to_path_buf(),
            reason: format!("cannot remove the scratch database: {error}"),
        }),
        _ => Ok(()),
    }
}
