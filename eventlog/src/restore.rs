//! Restoring a log from its records, as `EventLog::chain_page` serves them (and `comptoir backup`
//! keeps them), into a data dir that holds none. The batches are written with the records'
//! own envelopes and hashes, so the restored log is the one backed up byte for byte: the same
//! positions, events and hash chain, the same head hash. Every record is checked against the
//! chain as it is written, and the whole log is walked as `verify` walks it afterwards (stream
//! versions and envelopes too).

use std::path::Path;

use crate::codec::{self, BatchBuilder, GENESIS_HASH};
use crate::error::{LogError, LogResult};
use crate::limits::{COMMIT_BYTES_MAX, COMMIT_EVENTS_MAX};
use crate::store::{lock_data_dir, open_log_tree, LOG_DIR};
use crate::types::{ChainRecord, VerifyReport};
use crate::verify::verify_tree;

/// sled page cache while restoring: the log is only written.
const RESTORE_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Writes `records`, which must be the whole chain from position 1, as the log of `dir`, then
/// verifies it. Refuses a data dir that already holds a log, and a record that is not the next
/// position or does not give its hash (the backup is damaged): nothing is left behind then.
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
    if written.is_err() {
        // Best effort: the half-written log would only mislead.
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
        if count == COMMIT_EVENTS_MAX
            || batch.len_bytes() + record.envelope.len() > COMMIT_BYTES_MAX
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
