//! The projections as a set: their names, the sled tree each one lives in, applying a chunk of
//! decoded events to each past its own checkpoint, the digest of each, and rebuilding one into a
//! fresh tree that is then swapped in.
//!
//! Each projection owns one tree and keeps its checkpoint inside it, so a projection commits its
//! state and checkpoint together (`commit_journal`: atomic across a crash), and projections may
//! stand at different positions after a crash between their commits: the runner resumes from
//! the lowest and each skips what it holds.
//!
//! The tree a projection lives in is named in the `meta` tree (`name → tree name`). A rebuild
//! fills a new tree (`name.N`, N one more than any before), then points `meta` at it in one write
//! and drops the old tree: a crash before that write leaves the old tree in force and the new
//! one is cleared by the next rebuild.

use crate::apply::{apply_event, decode, Decoded};
use crate::commit_journal::{self, TreeUse};
use crate::error::{ProjectionError, ProjectionResult};
use crate::hints::DecodedHints;
use crate::keys::Table;
use crate::ledger;
use crate::limits::{
    REBUILD_CHUNKS_AHEAD, REBUILD_CHUNK_EVENTS, REPLAY_PIECES_AHEAD, REPLAY_PIECE_EVENTS,
    ROW_CACHE_ROWS_MAX,
};
use crate::row_bytes;
use crate::rows::RowCache;
use crate::store::{load_checkpoint, read_models_format_is_stale, ApiKeyChange, WriteSet};
use comptoir_eventlog::{LogResult, Position, RecordedEvent, ReplaySource};
use sha2::{Digest, Sha256};
use std::ops::RangeInclusive;
use std::sync::{mpsc, Arc};

/// The tree naming each projection's current tree.
pub(crate) const META_TREE: &str = "meta";

/// One projection: a read model with its own tree, checkpoint and digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProjectionName {
    /// Shops, API keys, catalog, customers, orders and documents (the API's queries).
    ReadModels,
    /// The double-entry ledger (journal, balances, FEC).
    Ledger,
}

impl ProjectionName {
    pub const ALL: [ProjectionName; 2] = [ProjectionName::ReadModels, ProjectionName::Ledger];

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectionName::ReadModels => "read_models",
            ProjectionName::Ledger => "ledger",
        }
    }

    pub fn parse(name: &str) -> ProjectionResult<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| ProjectionError::UnknownProjection {
                name: name.to_string(),
            })
    }

    /// The tree used before any rebuild (the read models' tree predates the meta tree).
    fn initial_tree(self) -> &'static str {
        match self {
            ProjectionName::ReadModels => "state",
            ProjectionName::Ledger => "ledger",
        }
    }

    /// The first key of the state proper: everything before it is bookkeeping (the checkpoint),
    /// left out of the digest so that equal states digest equally whatever their batching.
    fn state_start(self) -> Vec<u8> {
        match self {
            ProjectionName::ReadModels => vec![Table::Meta as u8 + 1],
            ProjectionName::Ledger => vec![ledger::LEDGER_META_TAG + 1],
        }
    }
}

/// The name of the tree `projection` currently lives in.
pub(crate) fn current_tree_name(
    meta: &sled::Tree,
    projection: ProjectionName,
) -> ProjectionResult<String> {
    Ok(match meta.get(projection.as_str())? {
        Some(name) => String::from_utf8_lossy(&name).into_owned(),
        None => projection.initial_tree().to_string(),
    })
}

/// Opens the tree `projection` lives in, and says whether it had to be replaced. A tree written
/// in an older stored format is replaced the way a rebuild replaces it: a fresh, empty tree is
/// pointed at in one write and the old one dropped, so its checkpoint is 0 and the runner
/// replays the whole log into it; a crash in between leaves the old tree in force, replaced
/// again at the next open.
pub(crate) fn open_current_tree(
    db: &sled::Db,
    meta: &sled::Tree,
    projection: ProjectionName,
) -> ProjectionResult<(sled::Tree, bool)> {
    let name = current_tree_name(meta, projection)?;
    let tree = db.open_tree(&name)?;
    // Before anything reads it, the format mark included.
    commit_journal::recover(&tree)?;
    let stale = match projection {
        ProjectionName::ReadModels => read_models_format_is_stale(&tree)?,
        ProjectionName::Ledger => ledger::ledger_format_is_stale(&tree)?,
    };
    if !stale {
        return Ok((tree, false));
    }
    drop(tree);
    let (fresh_name, fresh) = fresh_tree(db, projection, "format")?;
    meta.insert(projection.as_str(), fresh_name.as_bytes())?;
    meta.flush()?;
    drop_tree_emptied(db, name.as_bytes())?;
    tracing::warn!(
        projection = projection.as_str(),
        old = %name,
        new = %fresh_name,
        "the stored projection is in an older format: it is replayed from the log"
    );
    Ok((fresh, true))
}

/// Drops the trees of earlier rebuilds that are not current: one a crash interrupted, or one an
/// online rebuild replaced while a reader still held it. Only called while no reader or writer
/// can hold them (at open).
pub(crate) fn drop_stray_trees(db: &sled::Db, meta: &sled::Tree) -> ProjectionResult<()> {
    for projection in ProjectionName::ALL {
        let current = current_tree_name(meta, projection)?;
        let prefix = format!("{}.", projection.as_str());
        for name in db.tree_names() {
            let generation = name.starts_with(prefix.as_bytes())
                || name.as_ref() == projection.initial_tree().as_bytes();
            let stray = generation && name.as_ref() != current.as_bytes();
            if stray {
                tracing::info!(
                    projection = projection.as_str(),
                    tree = %String::from_utf8_lossy(&name),
                    "dropping a projection tree no longer in use"
                );
                drop_tree_emptied(db, &name)?;
            }
        }
    }
    Ok(())
}

/// The checkpoint stored in `tree`, the tree of `projection`.
pub(crate) fn checkpoint_of(
    projection: ProjectionName,
    tree: &sled::Tree,
) -> ProjectionResult<Position> {
    match projection {
        ProjectionName::ReadModels => load_checkpoint(tree),
        ProjectionName::Ledger => ledger::load_ledger_checkpoint(tree),
    }
}

/// SHA-256 over every key and value of `tree` past its bookkeeping; a row's value as its JSON,
/// so the digest speaks of the state, not of how `row_bytes` stores it.
///
/// Reading and decompressing the rows costs about as much as hashing them, so a second thread
/// reads while this one hashes: what a rebuild does after its replay (digests, swap, flush) took
/// 1.16-1.19 s instead of 1.26-1.31 s for 100k orders.
pub(crate) fn tree_digest(
    projection: ProjectionName,
    tree: &sled::Tree,
) -> ProjectionResult<[u8; 32]> {
    let (sender, pieces) = mpsc::sync_channel::<Vec<DigestRow>>(DIGEST_QUEUE_PIECES);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_logical_rows(projection, tree, sender));
        let mut hasher = Sha256::new();
        // Ends when the reader is done or failed; its result says which.
        for (key, value) in pieces.into_iter().flatten() {
            hasher.update((key.len() as u64).to_be_bytes());
            hasher.update(&key);
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(&value);
        }
        joined(reader, "a digest's reader")?;
        Ok(hasher.finalize().into())
    })
}

/// A row as a digest hashes it: its key and its JSON.
type DigestRow = (sled::IVec, Vec<u8>);

/// Rows a digest's reader hands over at a time, and pieces waiting: a few MB in flight.
const DIGEST_PIECE_BYTES: usize = 256 * 1024;
const DIGEST_QUEUE_PIECES: usize = 4;

/// Sends the rows of `tree` past its bookkeeping, as their JSON, in pieces of about
/// `DIGEST_PIECE_BYTES`, in key order.
fn read_logical_rows(
    projection: ProjectionName,
    tree: &sled::Tree,
    sender: mpsc::SyncSender<Vec<DigestRow>>,
) -> ProjectionResult<()> {
    let mut piece = Vec::new();
    let mut piece_bytes = 0;
    for entry in tree.range(projection.state_start()..) {
        let (key, stored) = entry?;
        let value = row_bytes::logical(&key, &stored)?.into_owned();
        piece_bytes += key.len() + value.len();
        piece.push((key, value));
        if piece_bytes >= DIGEST_PIECE_BYTES {
            piece_bytes = 0;
            if sender.send(std::mem::take(&mut piece)).is_err() {
                break;
            }
        }
    }
    // A send fails only once the hasher is gone, and then nobody wants the rest.
    let _ = sender.send(piece);
    Ok(())
}

/// Decodes each event once for every projection.
pub(crate) fn decode_all(events: &[RecordedEvent]) -> ProjectionResult<Vec<Option<Decoded>>> {
    events.iter().map(|event| decode(event, None)).collect()
}

/// `decode_all`, taking what `hints` holds for these events instead of parsing it.
pub(crate) fn decode_all_hinted(
    events: &[RecordedEvent],
    hints: &DecodedHints,
) -> ProjectionResult<Vec<Option<Decoded>>> {
    events
        .iter()
        .map(|event| decode(event, hints.take(event)))
        .collect()
}

/// Applies the events of `events` past `checkpoint` to `projection`'s `tree` and commits them
/// with the last position. Returns the API key changes the read models made. `rows` is the
/// tree's row cache, kept by the caller from one chunk to the next.
pub(crate) fn apply_to(
    projection: ProjectionName,
    tree: &sled::Tree,
    rows: &mut RowCache,
    checkpoint: Position,
    events: &[RecordedEvent],
    decoded: &[Option<Decoded>],
    tree_use: TreeUse,
) -> ProjectionResult<Vec<ApiKeyChange>> {
    let mut expected = checkpoint + 1;
    let mut todo = Vec::with_capacity(events.len());
    for (event, decoded) in events.iter().zip(decoded) {
        if event.position <= checkpoint {
            continue;
        }
        // The pair of the log's own density check: a gap or a repeat here would silently
        // corrupt every total, so it stops the projection.
        if event.position != expected {
            return Err(ProjectionError::Gap {
                expected,
                got: event.position,
            });
        }
        expected += 1;
        todo.push((event, decoded.as_ref()));
    }
    let Some(last) = todo.last().map(|(event, _)| event.position) else {
        return Ok(Vec::new());
    };
    match projection {
        ProjectionName::ReadModels => {
            let mut writes = WriteSet::new(tree, rows);
            for (event, decoded) in &todo {
                if let Some(decoded) = decoded {
                    apply_event(&mut writes, event, decoded)?;
                }
            }
            writes.commit(last, tree_use)
        }
        ProjectionName::Ledger => {
            ledger::apply_chunk(tree, rows, &todo, last, tree_use)?;
            Ok(Vec::new())
        }
    }
}

/// What one rebuilt projection ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildOutcome {
    pub projection: ProjectionName,
    pub position: Position,
    pub digest: [u8; 32],
}

/// A chunk of the log with each event decoded once.
type DecodedChunk = (Vec<RecordedEvent>, Vec<Option<Decoded>>);

/// Replays the log from position 1 up to `until` into fresh trees of `projections`, calling
/// `progress(position)` after each chunk.
pub(crate) fn replay_into(
    log: &dyn ReplaySource,
    targets: &[(ProjectionName, sled::Tree)],
    until: Position,
    progress: &mut dyn FnMut(Position),
) -> ProjectionResult<()> {
    replay_range(log, targets, 1..=until, &|| Ok(()), progress)
}

/// Replays the log's `positions` into `targets`, each of which holds exactly the positions
/// before them (its checkpoint is `positions.start() - 1`), calling `progress(position)` after
/// each chunk. `keep_going` is asked before each piece is read; its error ends the replay (an
/// online rebuild stops when the server shuts down).
///
/// Reading and decoding the log (sled, bincode, then the payloads' JSON) is about as costly as
/// applying, and neither needs the other's state: a second thread reads and decodes the next
/// events while this one applies, in pieces of `REPLAY_PIECE_EVENTS`, at most
/// `REPLAY_PIECES_AHEAD` pieces ahead so memory stays bounded.
pub(crate) fn replay_range(
    log: &dyn ReplaySource,
    targets: &[(ProjectionName, sled::Tree)],
    positions: RangeInclusive<Position>,
    keep_going: &(dyn Fn() -> ProjectionResult<()> + Sync),
    progress: &mut dyn FnMut(Position),
) -> ProjectionResult<()> {
    if positions.is_empty() {
        return Ok(());
    }
    let (sender, receiver) = mpsc::sync_channel(REPLAY_PIECES_AHEAD);
    std::thread::scope(|scope| {
        scope.spawn(move || read_chunks(log, positions, keep_going, &sender));
        // The receiver is dropped when applying stops, which stops the reader at its next send.
        apply_chunks(targets, receiver, progress)
    })
}

/// Sends the log's events of `positions` in decoded pieces, then ends (closing the channel);
/// the first error, or `keep_going`'s, is sent and ends it too.
fn read_chunks(
    log: &dyn ReplaySource,
    positions: RangeInclusive<Position>,
    keep_going: &(dyn Fn() -> ProjectionResult<()> + Sync),
    sender: &mpsc::SyncSender<ProjectionResult<DecodedChunk>>,
) {
    let until = *positions.end();
    let events = match log.replay_from(*positions.start()) {
        Ok(events) => events,
        Err(error) => {
            let _ = sender.send(Err(error.into()));
            return;
        }
    };
    let mut events = events.take_while(|e| match e {
        Ok(event) => event.position <= until,
        Err(_) => true,
    });
    loop {
        if let Err(error) = keep_going() {
            let _ = sender.send(Err(error));
            return;
        }
        let chunk = events
            .by_ref()
            .take(REPLAY_PIECE_EVENTS)
            .collect::<LogResult<Vec<RecordedEvent>>>();
        let item = match chunk {
            Ok(chunk) if chunk.is_empty() => return,
            Ok(chunk) => decode_all(&chunk).map(|decoded| (chunk, decoded)),
            Err(error) => Err(error.into()),
        };
        let failed = item.is_err();
        // A failed send means the applier stopped: nobody wants more.
        if sender.send(item).is_err() || failed {
            return;
        }
    }
}

/// Applies what `pieces` delivers to every target, in commits of up to `REBUILD_CHUNK_EVENTS`
/// events, until the channel closes.
///
/// Each projection has its own tree, row cache and checkpoint and shares nothing with the others,
/// so each applies on its own thread: a rebuild takes as long as its slowest projection rather
/// than their sum. A chunk is shared by reference; each applier holds at most
/// `REBUILD_CHUNKS_AHEAD` chunks waiting, so memory stays bounded by the slowest one.
fn apply_chunks(
    targets: &[(ProjectionName, sled::Tree)],
    pieces: mpsc::Receiver<ProjectionResult<DecodedChunk>>,
    progress: &mut dyn FnMut(Position),
) -> ProjectionResult<()> {
    // Progress only ever moves forward, whether the dispatcher or the end reports it.
    let mut reported = 0;
    let mut progress = |position: Position| {
        if position > reported {
            reported = position;
            progress(position);
        }
    };
    let (done_sender, done) = mpsc::channel::<(usize, Position)>();
    std::thread::scope(|scope| {
        let mut appliers = Vec::new();
        let mut handles = Vec::new();
        for (index, (projection, tree)) in targets.iter().enumerate() {
            let (sender, chunks) = mpsc::sync_channel::<Arc<DecodedChunk>>(REBUILD_CHUNKS_AHEAD);
            let done_sender = done_sender.clone();
            appliers.push(sender);
            handles.push(scope.spawn(move || {
                apply_chunks_to(*projection, tree, chunks, |position| {
                    // The dispatcher only stops listening once every applier is done.
                    let _ = done_sender.send((index, position));
                })
            }));
        }
        drop(done_sender);
        let dispatched = dispatch_chunks(pieces, &appliers, &done, &mut progress);
        // Closing the channels ends each applier after what it was sent.
        drop(appliers);
        for handle in handles {
            // An applier's own error says why a send to it failed: it comes first.
            joined(handle, "a projection's applier")?;
        }
        // Every applier has finished: the last chunk is applied everywhere.
        if let Some(last) = dispatched? {
            progress(last);
        }
        Ok(())
    })
}

/// What the scoped thread `handle` returned; its panic as an error naming `what` it ran.
pub(crate) fn joined<T>(
    handle: std::thread::ScopedJoinHandle<'_, ProjectionResult<T>>,
    what: &str,
) -> ProjectionResult<T> {
    handle.join().unwrap_or_else(|_| {
        Err(ProjectionError::Corrupt {
            key: String::new(),
            reason: format!("{what} panicked"),
        })
    })
}

/// Cuts `pieces` into chunks and hands each to every applier; calls `progress` with the
/// position all of them have applied. Returns the last position dispatched, or early (with
/// none) when an applier stopped: the caller reports that applier's error.
fn dispatch_chunks(
    pieces: mpsc::Receiver<ProjectionResult<DecodedChunk>>,
    appliers: &[mpsc::SyncSender<Arc<DecodedChunk>>],
    done: &mpsc::Receiver<(usize, Position)>,
    progress: &mut dyn FnMut(Position),
) -> ProjectionResult<Option<Position>> {
    let mut applied: Vec<Position> = vec![0; appliers.len()];
    let mut last = None;
    let mut pieces = pieces.into_iter().peekable();
    while pieces.peek().is_some() {
        let (mut chunk, mut decoded) = (Vec::new(), Vec::new());
        while chunk.len() < REBUILD_CHUNK_EVENTS {
            let Some(piece) = pieces.next() else {
                break;
            };
            let (events, decoded_events) = piece?;
            chunk.extend(events);
            decoded.extend(decoded_events);
        }
        let Some(chunk_last) = chunk.last().map(|event| event.position) else {
            continue;
        };
        let chunk = Arc::new((chunk, decoded));
        for applier in appliers {
            if applier.send(chunk.clone()).is_err() {
                return Ok(None);
            }
        }
        last = Some(chunk_last);
        for (index, position) in done.try_iter() {
            applied[index] = position;
        }
        progress(applied.iter().copied().min().unwrap_or(0));
    }
    Ok(last)
}

/// One projection's applier: applies every chunk `chunks` delivers, in order, calling `applied`
/// after each commit.
fn apply_chunks_to(
    projection: ProjectionName,
    tree: &sled::Tree,
    chunks: mpsc::Receiver<Arc<DecodedChunk>>,
    mut applied: impl FnMut(Position),
) -> ProjectionResult<()> {
    let mut rows = RowCache::new(ROW_CACHE_ROWS_MAX);
    for chunk in chunks {
        let (events, decoded) = chunk.as_ref();
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            continue;
        };
        apply_to(
            projection,
            tree,
            &mut rows,
            first.position - 1,
            events,
            decoded,
            TreeUse::Fresh,
        )?;
        applied(last.position);
    }
    Ok(())
}

/// Opens a new, empty tree for a rebuild of `projection`: the generation after every tree the
/// database holds for it.
/// Drops the tree `name` of `db` after emptying it key by key. sled 0.34's `drop_tree` frees a
/// tree's pages under one epoch guard, so it holds every page of the tree in memory at once (a
/// `comptoir rebuild` over the read models of 100k orders peaked at 568 MB on that alone);
/// emptied first, the tree's pages are freed as it goes, for a few seconds more per 100k orders.
pub(crate) fn drop_tree_emptied(db: &sled::Db, name: &[u8]) -> ProjectionResult<()> {
    db.open_tree(name)?.clear()?;
    db.drop_tree(name)?;
    Ok(())
}

pub(crate) fn fresh_tree(
    db: &sled::Db,
    projection: ProjectionName,
    purpose: &str,
) -> ProjectionResult<(String, sled::Tree)> {
    let prefix = format!("{}.", projection.as_str());
    let generation = db
        .tree_names()
        .iter()
        .filter_map(|name| {
            let name = String::from_utf8_lossy(name);
            name.strip_prefix(&prefix)
                .and_then(|rest| rest.split('.').next().and_then(|n| n.parse::<u64>().ok()))
        })
        .max()
        .unwrap_or(0)
        + 1;
    let name = format!("{prefix}{generation}.{purpose}");
    let tree = db.open_tree(&name)?;
    tree.clear()?;
    Ok((name, tree))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn event(position: Position) -> RecordedEvent {
        RecordedEvent {
            position,
            stream: "test-1".to_string(),
            stream_version: position,
            event_id: uuid::Uuid::from_u128(position.into()),
            event_type: "Unknown".to_string(),
            schema_version: 1,
            recorded_at: Utc.timestamp_opt(0, 0).single().expect("epoch"),
            metadata: Default::default(),
            payload: Vec::new(),
        }
    }

    fn pieces(positions: &[Position]) -> mpsc::Receiver<ProjectionResult<DecodedChunk>> {
        let (sender, receiver) = mpsc::sync_channel(positions.len());
        for position in positions {
            sender
                .send(Ok((vec![event(*position)], vec![None])))
                .expect("send");
        }
        receiver
    }

    fn targets() -> Vec<(ProjectionName, sled::Tree)> {
        let db = sled::Config::new().temporary(true).open().expect("db");
        ProjectionName::ALL
            .into_iter()
            .map(|projection| (projection, db.open_tree(projection.as_str()).expect("tree")))
            .collect()
    }

    #[test]
    fn every_projection_applies_every_chunk_and_progress_ends_at_the_last_position() {
        let targets = targets();
        let positions: Vec<Position> = (1..=3_000).collect();
        let mut reported = Vec::new();
        apply_chunks(&targets, pieces(&positions), &mut |p| reported.push(p)).expect("replay");
        for (projection, tree) in &targets {
            assert_eq!(checkpoint_of(*projection, tree).expect("checkpoint"), 3_000);
        }
        assert_eq!(reported.last(), Some(&3_000));
        assert!(
            reported.windows(2).all(|pair| pair[0] < pair[1]),
            "{reported:?}"
        );
    }

    #[test]
    fn an_applier_that_fails_stops_the_replay_with_its_error() {
        let targets = targets();
        // A gap at 2,500, then enough events that the dispatcher is still sending when the
        // appliers stop: the replay must end with the gap, not hang or succeed.
        let positions: Vec<Position> = (1..=2_499).chain(2_501..=9_000).collect();
        let outcome = apply_chunks(&targets, pieces(&positions), &mut |_| {});
        assert!(
            matches!(
                outcome,
                Err(ProjectionError::Gap {
                    expected: 2_500,
                    got: 2_501
                })
            ),
            "{outcome:?}"
        );
    }

    /// The digest as one thread computes it: what the pipelined one must equal.
    fn digest_in_one_thread(tree: &sled::Tree) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for entry in tree.range(ProjectionName::ReadModels.state_start()..) {
            let (key, stored) = entry.expect("row");
            let value = row_bytes::logical(&key, &stored).expect("json");
            hasher.update((key.len() as u64).to_be_bytes());
            hasher.update(&key);
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(value.as_ref());
        }
        hasher.finalize().into()
    }

    #[test]
    fn a_digest_over_many_pieces_hashes_every_row_once_in_key_order() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let tree = db.open_tree("read_models").expect("tree");
        // Compressed and plain rows, several pieces' worth.
        let rows = 3 * DIGEST_PIECE_BYTES / 400;
        for n in 0..rows {
            let json = format!(
                r#"{{"order":{n},"status":"paid","lines":"{}"}}"#,
                "x".repeat(n % 500)
            );
            let key = [&[Table::Order as u8][..], &(n as u64).to_be_bytes()].concat();
            tree.insert(
                key.as_slice(),
                row_bytes::stored(&key, json.as_bytes())
                    .expect("stored")
                    .as_ref(),
            )
            .expect("insert");
        }
        assert_eq!(
            tree_digest(ProjectionName::ReadModels, &tree).expect("digest"),
            digest_in_one_thread(&tree)
        );
    }

    #[test]
    fn a_digest_over_a_damaged_row_fails() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let tree = db.open_tree("read_models").expect("tree");
        let json = format!(r#"{{"status":"paid","lines":"{}"}}"#, "y".repeat(300));
        let key = [Table::Order as u8, 1];
        let mut stored = row_bytes::stored(&key, json.as_bytes())
            .expect("stored")
            .into_owned();
        let middle = stored.len() / 2;
        stored[middle] ^= 0x55;
        tree.insert(key, stored).expect("insert");
        assert!(tree_digest(ProjectionName::ReadModels, &tree).is_err());
    }
}
