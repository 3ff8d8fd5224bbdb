//! Walks the hash chain from position 1 and names the first record that does not check out.

use std::collections::HashMap;
use std::path::Path;

use crate::codec::{self, BatchReader, GENESIS_HASH};
use crate::error::{LogError, LogResult};
use crate::offline::Batches;
use crate::store::lock_data_dir;
use crate::types::{Position, VerifyReport};

struct Walk {
    next_position: Position,
    hash: codec::Hash,
    checked: u64,
    stream_versions: HashMap<String, u64>,
}

impl Walk {
    fn report(&self, first_bad: Option<(Position, String)>) -> VerifyReport {
        VerifyReport {
            events_checked: self.checked,
            head_position: self.next_position - 1,
            head_hash: self.hash,
            first_bad,
        }
    }

    fn check_batch(&mut self, key: &[u8], value: &[u8]) -> Result<(), (Position, String)> {
        let position = self.next_position;
        let first = codec::key_position(key).map_err(|reason| (position, reason))?;
        if first != position {
            return Err((
                position,
                format!("expected a batch at {position}, found one at {first}"),
            ));
        }
        let mut reader = BatchReader::new(value).map_err(|reason| (position, reason))?;
        if reader.first_position() != first {
            return Err((position, "batch header disagrees with its key".into()));
        }
        while let Some(record) = reader.next_record() {
            let record = record?;
            self.check_record(record)?;
        }
        Ok(())
    }

    fn check_record(&mut self, record: codec::RawRecord<'_>) -> Result<(), (Position, String)> {
        let position = record.position;
        let hash = codec::chain_hash(&self.hash, record.envelope);
        if hash != record.hash {
            return Err((
                position,
                "hash chain mismatch: the record or an earlier one was altered".into(),
            ));
        }
        let event = codec::decode_envelope(record.envelope).map_err(|reason| (position, reason))?;
        if event.position != position {
            return Err((
                position,
                format!("envelope says position {}", event.position),
            ));
        }
        let version = self.stream_versions.entry(event.stream).or_insert(0);
        if event.stream_version != *version + 1 {
            return Err((
                position,
                format!(
                    "stream version {} follows {}",
                    event.stream_version, version
                ),
            ));
        }
        *version += 1;
        self.hash = hash;
        self.next_position += 1;
        self.checked += 1;
        Ok(())
    }
}

/// Checks every record of a log tree: framing, hash chain, dense positions, dense stream versions.
pub(crate) fn verify_tree(tree: &sled::Tree) -> LogResult<VerifyReport> {
    verify_batches(tree.iter())
}

/// Checks every record of the log's batches, given in key order.
fn verify_batches(
    batches: impl Iterator<Item = Result<(sled::IVec, sled::IVec), impl Into<LogError>>>,
) -> LogResult<VerifyReport> {
    let mut walk = Walk {
        next_position: 1,
        hash: GENESIS_HASH,
        checked: 0,
        stream_versions: HashMap::new(),
    };
    for item in batches {
        let (key, value) = item.map_err(Into::into)?;
        if let Err(bad) = walk.check_batch(&key, &value) {
            return Ok(walk.report(Some(bad)));
        }
    }
    Ok(walk.report(None))
}

/// Verifies a data directory without starting a writer or touching the indexes, so that it also
/// works on a log that `EventLog::open` refuses. Reads the log in passes (`offline`), so its
/// memory stays bounded whatever the log's size.
pub fn verify_data_dir(dir: impl AsRef<Path>) -> LogResult<VerifyReport> {
    let dir = dir.as_ref();
    let _lock = lock_data_dir(dir)?;
    verify_batches(Batches::all(dir))
}
