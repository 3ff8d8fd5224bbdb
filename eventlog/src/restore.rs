//! Restoring a log from its records, as `EventLog::chain_page` serves them (and `comptoir backup`
//! keeps them), into a data dir that holds none. The batches are written with the records'
//! own envelopes and hashes, so the restored log is the one backed up byte for byte: the same
//! positions, events and hash chain, the same head hash. Every record is checked against the
//! chain as it is written, and the whole log is walked as `verify` walks it afterwards (stream
//! versions and envelopes too).
//!
//! Records do not say where appends ended, but every event of one group commit carries the same
//! `recorded_at` (the writer reads its clock once per commit), and a commit holds whole appends.
//! So the restore ends a stored batch only where `recorded_at` changes, once the batch has reached
//! `STORED_BATCH_BYTES_TARGET`: batches of whole appends, small enough for sled to evict (see
//! `limits.rs`), except a commit larger than that, kept whole. Only a run of more than
//! `COMMIT_EVENTS_MAX` events with one timestamp (a frozen clock) is cut inside.

use std::path::Path;

use crate::codec::{self, BatchBuilder, GENESIS_HASH};
use crate::error::{LogError, LogResult};
use crate::limits::{COMMIT_BYTES_MAX, COMMIT_EVENTS_MAX, STORED_BATCH_BYTES_TARGET};
use crate::store::{lock_data_dir, open_log_tree, LOG_DIR};
use crate::types::{ChainRecord, VerifyReport};
use crate::verify::verify_tree;

/// sled page cache while restoring: the log is only written.
const RESTORE_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Writes `records`, which must be the whole chain from position 1, as the log of `dir`, then
/// verifies it. Refuses a data dir that already holds a log, and a record that is not the next
/// position or does not give its hash (the backup is damaged): nothing is left behind then, nor
/// when the final walk finds a bad record (the report says which).
pub fn restore_data_dir(
    dir: &Path,
    records: impl IntoIterator<Item = LogResult<ChainRecord>>,
) -> LogResult<VerifyReport> {
    if dir.join(LOG_DIR).exists() {
        return Err(LogError::Storage(format!(
            "{} already holds a log: restore into an empty directory",
            dir.display()
        )));
    }
    let _lock = lock_data_dir(dir)?;
    let written = write_records(dir, records);
    if !matches!(&written, Ok(report) if report.is_intact()) {
        // Best effort: a half-written or failing log would only mislead.
        let _ = std::fs::remove_dir_all(dir.join(LOG_DIR));
    }
    written
}

/// Writes and then verifies through the same database: sled releases its files only some time
/// after a handle is dropped, so opening it again at once could fail.
fn write_records(
    dir: &Path,
    records: impl IntoIterator<Item = LogResult<ChainRecord>>,
) -> LogResult<VerifyReport> {
    let (db, log) = open_log_tree(dir, RESTORE_CACHE_BYTES)?;
    let mut previous = GENESIS_HASH;
    let mut batch = BatchBuilder::new(1);
    let (mut first, mut count) = (1, 0usize);
    let mut last_commit = None;
    for record in records {
        let record = record?;
        let expected = first + count as u64;
        if u32::try_from(record.envelope.len()).is_err() {
            return Err(damaged(
                expected,
                "an envelope longer than a batch can frame".into(),
            ));
        }
        record
            .check_follows(expected - 1, &previous)
            .map_err(|reason| damaged(expected, reason))?;
        // A record whose envelope does not decode starts no commit here; the final walk
        // names it.
        let commit = codec::decode_envelope(&record.envelope)
            .ok()
            .map(|event| event.recorded_at);
        let starts_commit = count > 0 && commit.is_some() && commit != last_commit;
        last_commit = commit;
        let full = batch.len_bytes() + record.envelope.len();
        if (starts_commit && full > STORED_BATCH_BYTES_TARGET)
            || count == COMMIT_EVENTS_MAX
            || full > COMMIT_BYTES_MAX
        {
            log.insert(codec::position_key(first), batch.finish())?;
            (first, count) = (expected, 0);
            batch = BatchBuilder::new(first);
        }
        batch.push(&record.envelope, &record.hash);
        count += 1;
        previous = record.hash;
    }
    if !batch.is_empty() {
        log.insert(codec::position_key(first), batch.finish())?;
    }
    db.flush()?;
    verify_tree(&log)
}

fn damaged(position: u64, reason: String) -> LogError {
    LogError::Corrupt {
        position,
        reason: format!("the backup's record: {reason}"),
    }
}
