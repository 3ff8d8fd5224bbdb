//! `comptoir backup --server URL --out FILE` and `comptoir restore --from FILE --data-dir DIR`:
//! a backup of the log taken from a running server, without stopping it, and a data dir made
//! from it.
//!
//! The file is JSON Lines: a header line, then one line per record of the hash chain as
//! `GET /v1/admin/log/records` serves it (position, hash, envelope). Each record is checked
//! against the chain before it is written, and a backup grows incrementally: the next run
//! appends what the log gained since, after checking that the server's log still leads to the
//! file's last hash (a log rewritten since is refused, and the backup that proves it is kept).
//! `restore` writes the records as the log of an empty data dir (`restore_data_dir`): the same
//! log, byte for byte, whose projections the server rebuilds when it starts.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use comptoir_eventlog::codec::{Hash, GENESIS_HASH};
use comptoir_eventlog::{ChainRecord, LogError, LogResult, Position};
use serde::{Deserialize, Serialize};

use crate::owner_client;

/// The first line of a backup file.
pub const BACKUP_FORMAT: &str = "comptoir-log-backup-1";
/// Records asked for per request (the server's most).
pub const BACKUP_PAGE_RECORDS: usize = crate::routes::audit::AUDIT_PAGE_RECORDS_MAX;
/// The end of a backup file read to find a line cut short: over twice the longest line (an
/// envelope of up to `EVENT_BYTES_MAX` and its metadata, in base64).
pub const BACKUP_TAIL_BYTES: u64 = 4 * 1024 * 1024;
/// Longest one request to the server may take.
pub const BACKUP_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
}

/// One line of a backup: a record of the chain.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    position: Position,
    hash: String,
    envelope: String,
}

/// A page of `GET /v1/admin/log/records`, as far as the backup reads it.
#[derive(Debug, Deserialize)]
struct RemotePage {
    previous_hash: String,
    records: Vec<Line>,
    next_after: Option<Position>,
}

/// What a backup run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupOutcome {
    /// Records the file held before this run.
    pub kept: u64,
    /// Records this run added.
    pub added: u64,
    /// The file's last position and hash: the log's head when the run read it.
    pub head: Position,
    pub head_hash: Hash,
}

/// Brings the backup `out` up to the head of the server's log (creating it when absent);
/// `progress(records)` is called after each page. The error is a sentence for the operator.
pub async fn backup(
    server: &str,
    token: &str,
    out: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<BackupOutcome, String> {
    let (kept, mut head, mut head_hash) = if out.exists() {
        last_record(out)?
    } else {
        start_file(out)?
    };
    let client = owner_client::client(BACKUP_REQUEST_TIMEOUT)?;
    let base = server.trim_end_matches('/');
    let file = OpenOptions::new()
        .append(true)
        .open(out)
        .map_err(|error| format!("cannot append to {}: {error}", out.display()))?;
    let mut writer = BufWriter::new(file);
    let mut added = 0;
    loop {
        let url = format!("{base}/v1/admin/log/records?after={head}&limit={BACKUP_PAGE_RECORDS}");
        let page: RemotePage =
            owner_client::get_json(&client, &url, token, "a page of records").await?;
        if page.previous_hash != hex::encode(head_hash) {
            return Err(format!(
                "the server's log no longer leads to this backup's record {head} (hash {}): it was \
                 rewritten since; keep this backup, it shows what the log was",
                hex::encode(head_hash)
            ));
        }
        for line in &page.records {
            let record = parsed(line).map_err(|error| error.to_string())?;
            checked(&record, head, &head_hash).map_err(|error| error.to_string())?;
            serde_json::to_writer(&mut writer, line).map_err(|error| error.to_string())?;
            writer.write_all(b"\n").map_err(|error| error.to_string())?;
            (head, head_hash) = (record.position, record.hash);
            added += 1;
        }
        writer.flush().map_err(|error| error.to_string())?;
        progress(kept + added);
        if page.next_after.is_none() {
            break;
        }
    }
    let file = writer.into_inner().map_err(|error| error.to_string())?;
    file.sync_all().map_err(|error| error.to_string())?;
    Ok(BackupOutcome {
        kept,
        added,
        head,
        head_hash,
    })
}

fn start_file(out: &Path) -> Result<(u64, Position, Hash), String> {
    let header = serde_json::to_string(&Header {
        format: BACKUP_FORMAT.into(),
    })
    .map_err(|error| error.to_string())?;
    std::fs::write(out, header + "\n")
        .map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    Ok((0, 0, GENESIS_HASH))
}

/// Checks the whole file and returns its record count, last position and hash. A last line cut
/// short (a run stopped while writing it) is dropped from the file.
fn last_record(out: &Path) -> Result<(u64, Position, Hash), String> {
    drop_cut_line(out).map_err(|error| format!("cannot read {}: {error}", out.display()))?;
    let (mut count, mut head, mut hash) = (0, 0, GENESIS_HASH);
    for record in read_backup(out).map_err(|error| error.to_string())? {
        let record = record.map_err(|error| error.to_string())?;
        (head, hash) = (record.position, record.hash);
        count += 1;
    }
    Ok((count, head, hash))
}

/// Truncates `out` after its last newline, reading only its end (`BACKUP_TAIL_BYTES`, more than
/// the longest line: a record's envelope in base64).
fn drop_cut_line(out: &Path) -> std::io::Result<()> {
    let mut file = OpenOptions::new().read(true).write(true).open(out)?;
    let length = file.metadata()?.len();
    let start = length.saturating_sub(BACKUP_TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    match tail.iter().rposition(|b| *b == b'\n') {
        Some(last) => file.set_len(start + last as u64 + 1),
        None if start == 0 => file.set_len(0),
        None => Err(std::io::Error::other(
            "its last line is longer than any record",
        )),
    }
}

/// The records of the backup `path`, each checked against the chain before it is handed out.
pub fn read_backup(path: &Path) -> LogResult<impl Iterator<Item = LogResult<ChainRecord>>> {
    let file = File::open(path)
        .map_err(|error| LogError::Storage(format!("cannot open {}: {error}", path.display())))?;
    let mut lines = BufReader::new(file).lines();
    let header: Header = match lines.next() {
        Some(Ok(line)) => serde_json::from_str(&line).map_err(|error| not_a_backup(path, error))?,
        Some(Err(error)) => return Err(not_a_backup(path, error)),
        None => return Err(not_a_backup(path, "the file is empty")),
    };
    if header.format != BACKUP_FORMAT {
        return Err(not_a_backup(path, format!("format {:?}", header.format)));
    }
    let mut chain = (0, GENESIS_HASH);
    Ok(lines.map(move |line| {
        let line = line.map_err(|error| LogError::Storage(error.to_string()))?;
        let line: Line = serde_json::from_str(&line).map_err(|error| LogError::Corrupt {
            position: chain.0 + 1,
            reason: format!("the backup's line does not parse: {error}"),
        })?;
        let record = parsed(&line)?;
        checked(&record, chain.0, &chain.1)?;
        chain = (record.position, record.hash);
        Ok(record)
    }))
}

fn not_a_backup(path: &Path, reason: impl std::fmt::Display) -> LogError {
    LogError::Storage(format!(
        "{} is not a comptoir log backup: {reason}",
        path.display()
    ))
}

fn parsed(line: &Line) -> LogResult<ChainRecord> {
    let damaged = |reason: String| LogError::Corrupt {
        position: line.position,
        reason,
    };
    let hash: Hash = hex::decode(&line.hash)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| damaged("its hash is not 64 hex digits".into()))?;
    let envelope = base64::engine::general_purpose::STANDARD
        .decode(&line.envelope)
        .map_err(|error| damaged(format!("its envelope is not base64: {error}")))?;
    Ok(ChainRecord {
        position: line.position,
        hash,
        envelope,
    })
}

/// Checks that `record` follows the record `previous` whose hash is `previous_hash`, naming the
/// record when it does not.
fn checked(record: &ChainRecord, previous: Position, previous_hash: &Hash) -> LogResult<()> {
    record
        .check_follows(previous, previous_hash)
        .map_err(|reason| LogError::Corrupt {
            position: record.position,
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use comptoir_eventlog::codec::chain_hash;

    /// A backup file of `count` records whose envelopes are `envelope-N`, chained from the
    /// genesis, and its lines.
    fn backup_file(dir: &Path, count: u64) -> (std::path::PathBuf, Vec<String>) {
        let path = dir.join("log.backup");
        let mut lines = vec![format!("{{\"format\":\"{BACKUP_FORMAT}\"}}")];
        let mut hash = GENESIS_HASH;
        for position in 1..=count {
            let envelope = format!("envelope-{position}").into_bytes();
            hash = chain_hash(&hash, &envelope);
            let line = Line {
                position,
                hash: hex::encode(hash),
                envelope: base64::engine::general_purpose::STANDARD.encode(&envelope),
            };
            lines.push(serde_json::to_string(&line).expect("json"));
        }
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        (path, lines)
    }

    #[test]
    fn a_line_cut_short_is_dropped_and_the_rest_checked() {
        // Given a backup of 3 records and half of a 4th line (a run stopped while writing),
        // when it is read for the next run, then the half line is gone and the last record is 3.
        let dir = tempfile::tempdir().expect("dir");
        let (path, _) = backup_file(dir.path(), 3);
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(b"{\"position\":4,\"ha").expect("write");
        let (count, head, hash) = last_record(&path).expect("read");
        assert_eq!((count, head), (3, 3));
        let expected = read_backup(&path)
            .expect("backup")
            .last()
            .expect("3")
            .expect("ok");
        assert_eq!(hash, expected.hash);
        assert!(std::fs::read(&path).expect("read").ends_with(b"}\n"));
    }

    #[test]
    fn a_record_out_of_the_chain_is_named() {
        // Given a backup whose 2nd record was changed, or whose 2nd line was removed, when it
        // is read, then the error names position 2 (or 3 for the gap).
        let dir = tempfile::tempdir().expect("dir");
        let (path, mut lines) = backup_file(dir.path(), 3);
        let changed = lines[2].replace("ZW52", "ZW53");
        assert_ne!(changed, lines[2]);
        let original = std::mem::replace(&mut lines[2], changed);
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let read: Vec<_> = read_backup(&path).expect("backup").collect();
        assert!(
            matches!(read[1], Err(LogError::Corrupt { position: 2, .. })),
            "{read:?}"
        );
        lines[2] = original;
        lines.remove(2);
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let read: Vec<_> = read_backup(&path).expect("backup").collect();
        assert!(
            matches!(read[1], Err(LogError::Corrupt { position: 3, .. })),
            "{read:?}"
        );
        std::fs::write(&path, "{\"format\":\"other\"}\n").expect("write");
        assert!(read_backup(&path).is_err());
    }
}
