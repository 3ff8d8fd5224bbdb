//! Offline rebuild and verification of the projections of a data dir (the `comptoir rebuild` and
//! `comptoir verify --projections` commands). Both open the projections' database themselves, so
//! no `Projections` may be open over the same data dir in the process meanwhile; the caller holds
//! the event log, and so the data dir's lock, which keeps servers out.

use crate::engine::{self, fresh_tree, replay_into, ProjectionName, RebuildOutcome};
use crate::error::{ProjectionError, ProjectionResult};
use crate::limits::{CACHE_BYTES, FLUSH_INTERVAL_MS};
use crate::PROJECTIONS_DIR;
use comptoir_eventlog::{EventLog, Position};
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

pub(crate) fn open_db(data_dir: &Path) -> ProjectionResult<sled::Db> {
    let path = data_dir.join(PROJECTIONS_DIR);
    sled::Config::new()
        .path(&path)
        .cache_capacity(CACHE_BYTES)
        .flush_every_ms(Some(FLUSH_INTERVAL_MS))
        .open()
        .map_err(|error| ProjectionError::Open {
            path,
            reason: error.to_string(),
        })
}

/// Rebuilds `projections` from position 1 to the log's head into fresh trees, swaps them in and
/// drops the old ones. `progress(applied, head)` is called after each chunk. Returns each rebuilt
/// projection's position and digest.
pub fn rebuild_projections(
    data_dir: &Path,
    log: &EventLog,
    projections: &[ProjectionName],
    progress: &mut dyn FnMut(Position, Position),
) -> ProjectionResult<Vec<RebuildOutcome>> {
    let db = open_db(data_dir)?;
    let meta = db.open_tree(engine::META_TREE)?;
    let head = log.head_position();
    let mut targets = Vec::new();
    let mut names = Vec::new();
    for projection in projections {
        let (name, tree) = fresh_tree(&db, *projection, "rebuild")?;
        names.push(name);
        targets.push((*projection, tree));
    }
    replay_into(log, &targets, head, &mut |applied| progress(applied, head))?;
    for ((projection, _), name) in targets.iter().zip(names) {
        let old = engine::current_tree_name(&meta, *projection)?;
        // The swap: one write makes the new tree current; the old one goes afterwards.
        meta.insert(projection.as_str(), name.as_bytes())?;
        meta.flush()?;
        db.drop_tree(old.as_bytes())?;
    }
    let outcomes = outcomes_of(&targets)?;
    db.flush()?;
    Ok(outcomes)
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

/// Compares each projection's stored state with a fresh rebuild up to the same checkpoint, in
/// scratch trees dropped afterwards. The stored state is left untouched.
pub fn verify_projections(data_dir: &Path, log: &EventLog) -> ProjectionResult<Vec<VerifyOutcome>> {
    let db = open_db(data_dir)?;
    let meta = db.open_tree(engine::META_TREE)?;
    let mut outcomes = Vec::new();
    for projection in ProjectionName::ALL {
        let stored = db.open_tree(engine::current_tree_name(&meta, projection)?)?;
        let position = engine::checkpoint_of(projection, &stored)?;
        let (name, scratch) = fresh_tree(&db, projection, "verify")?;
        let targets = [(projection, scratch)];
        replay_into(log, &targets, position, &mut |_| {})?;
        outcomes.push(VerifyOutcome {
            projection,
            position,
            stored_digest: engine::tree_digest(projection, &stored)?,
            fresh_digest: engine::tree_digest(projection, &targets[0].1)?,
        });
        db.drop_tree(name.as_bytes())?;
    }
    Ok(outcomes)
}
