//! Finished responses kept on disk, so that a retry after a restart is answered with the very
//! bytes of the first answer, not a response recomputed from today's state.
//!
//! This is a cache beside the log, not a second source of truth: what a command did is in the
//! log, and a response missing here (never written, pruned, or lost in a crash before sled's
//! background flush) is recomputed from the log as before. So writes are not flushed one by one:
//! a flush per request would double the cost of every write for a convenience.
//!
//! Two trees: `responses` (command id → encoded response) and `order` (sequence → command id),
//! which bounds the store to [`DURABLE_RESPONSES_MAX`] entries: storing entry N forgets entry
//! N - max, in O(1), without counting the tree.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use uuid::Uuid;

use super::Stored;

/// Responses kept on disk; the oldest are forgotten first.
pub const DURABLE_RESPONSES_MAX: u64 = 200_000;
/// The directory of the store inside the data dir.
pub const RESPONSES_DIR: &str = "responses";
/// sled's page cache for the store: lookups are rare (retries), writes are appends.
const CACHE_BYTES: u64 = 8 * 1024 * 1024;
const FLUSH_EVERY_MS: u64 = 500;
/// First byte of every encoded response, so that a future layout can be told apart.
const FORMAT_V1: u8 = 1;

#[derive(Debug, thiserror::Error)]
#[error("cannot open the idempotent response store in {}: {reason}", path.display())]
pub struct OpenError {
    pub path: PathBuf,
    pub reason: String,
}

pub(super) struct DurableResponses {
    db: sled::Db,
    responses: sled::Tree,
    order: sled::Tree,
    next_sequence: AtomicU64,
}

impl DurableResponses {
    pub fn open(data_dir: &Path) -> Result<Self, OpenError> {
        let path = data_dir.join(RESPONSES_DIR);
        let failed = |error: sled::Error| OpenError {
            path: path.clone(),
            reason: error.to_string(),
        };
        let db = sled::Config::new()
            .path(&path)
            .cache_capacity(CACHE_BYTES)
            .flush_every_ms(Some(FLUSH_EVERY_MS))
            .open()
            .map_err(failed)?;
        let responses = db.open_tree("responses").map_err(failed)?;
        let order = db.open_tree("order").map_err(failed)?;
        let next_sequence = match order.last().map_err(failed)? {
            Some((key, _)) => sequence_of(&key).map_or(0, |sequence| sequence + 1),
            None => 0,
        };
        Ok(DurableResponses {
            db,
            responses,
            order,
            next_sequence: AtomicU64::new(next_sequence),
        })
    }

    /// The response stored for `command_id`. A storage error or an undecodable entry counts as
    /// absent: the caller recomputes the answer from the log.
    pub(super) fn get(&self, command_id: Uuid) -> Option<Stored> {
        match self.responses.get(command_id.as_bytes()) {
            Ok(Some(entry)) => entry.get(8..).and_then(decode),
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, %command_id, "reading a stored response failed");
                None
            }
        }
    }

    pub(super) fn put(&self, command_id: Uuid, stored: &Stored) {
        let sequence = self.next_sequence.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = self.insert(sequence, command_id, stored) {
            tracing::warn!(%error, %command_id, "storing a response failed; a retry after a restart will be recomputed");
        }
    }

    fn insert(&self, sequence: u64, command_id: Uuid, stored: &Stored) -> sled::Result<()> {
        let mut entry = sequence.to_be_bytes().to_vec();
        entry.extend_from_slice(&encode(stored));
        self.responses.insert(command_id.as_bytes(), entry)?;
        self.order
            .insert(sequence.to_be_bytes(), command_id.as_bytes())?;
        let Some(oldest) = sequence.checked_sub(DURABLE_RESPONSES_MAX) else {
            return Ok(());
        };
        let Some(forgotten) = self.order.remove(oldest.to_be_bytes())? else {
            return Ok(());
        };
        // The same command may have been stored again since: only its newest entry counts.
        let stored_at = self.responses.get(&forgotten)?;
        if stored_at.is_some_and(|entry| entry.get(..8).and_then(sequence_of) == Some(oldest)) {
            self.responses.remove(forgotten)?;
        }
        Ok(())
    }

    /// Writes what is buffered; called on a graceful shutdown.
    pub fn flush(&self) {
        if let Err(error) = self.db.flush() {
            tracing::error!(%error, "flushing the idempotent responses failed");
        }
    }
}

fn sequence_of(key: &[u8]) -> Option<u64> {
    key.try_into().ok().map(u64::from_be_bytes)
}

fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    // Fields are header names and values and a hex fingerprint: far below u16::MAX.
    let length = u16::try_from(field.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&field[..usize::from(length)]);
}

fn encode(stored: &Stored) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + stored.body.len());
    out.push(FORMAT_V1);
    out.extend_from_slice(&stored.status.as_u16().to_be_bytes());
    put_field(&mut out, stored.fingerprint.as_bytes());
    let header_count = u8::try_from(stored.headers.len()).unwrap_or(u8::MAX);
    out.push(header_count);
    for (name, value) in stored.headers.iter().take(usize::from(header_count)) {
        put_field(&mut out, name.as_str().as_bytes());
        put_field(&mut out, value.as_bytes());
    }
    out.extend_from_slice(&stored.body);
    out
}

/// Reads fields front to back; every read checks its length.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < count {
            return None;
        }
        let (head, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Some(head)
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2)
            .map(|bytes| u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn field(&mut self) -> Option<&'a [u8]> {
        let length = self.u16()?;
        self.take(usize::from(length))
    }
}

fn decode(bytes: &[u8]) -> Option<Stored> {
    let mut reader = Reader { bytes };
    if reader.take(1)? != [FORMAT_V1] {
        return None;
    }
    let status = StatusCode::from_u16(reader.u16()?).ok()?;
    let fingerprint = String::from_utf8(reader.field()?.to_vec()).ok()?;
    let header_count = reader.take(1)?[0];
    let mut headers = Vec::with_capacity(usize::from(header_count));
    for _ in 0..header_count {
        let name = HeaderName::from_bytes(reader.field()?).ok()?;
        let value = HeaderValue::from_bytes(reader.field()?).ok()?;
        headers.push((name, value));
    }
    Some(Stored {
        fingerprint,
        status,
        headers,
        body: Bytes::copy_from_slice(reader.bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(body: &str) -> Stored {
        Stored {
            fingerprint: "00ff".into(),
            status: StatusCode::CREATED,
            headers: vec![
                (
                    HeaderName::from_static("content-type"),
                    HeaderValue::from_static("application/json"),
                ),
                (
                    HeaderName::from_static("comptoir-position"),
                    HeaderValue::from_static("42"),
                ),
            ],
            body: Bytes::from(body.to_string()),
        }
    }

    fn same(left: &Stored, right: &Stored) -> bool {
        left.fingerprint == right.fingerprint
            && left.status == right.status
            && left.headers == right.headers
            && left.body == right.body
    }

    #[test]
    fn responses_survive_a_reopen_byte_for_byte() {
        // Proves a stored response comes back identical from a reopened store.
        let dir = tempfile::tempdir().expect("temp dir");
        let id = Uuid::from_u128(7);
        {
            let store = DurableResponses::open(dir.path()).expect("open");
            store.put(id, &sample(r#"{"order_id":"x"}"#));
            store.flush();
        }
        let store = DurableResponses::open(dir.path()).expect("reopen");
        let back = store.get(id).expect("stored");
        assert!(same(&back, &sample(r#"{"order_id":"x"}"#)));
        assert!(store.get(Uuid::from_u128(8)).is_none());
    }

    #[test]
    fn truncated_or_foreign_entries_read_as_absent() {
        // Proves a damaged entry is never replayed: every cut of a valid encoding is refused.
        let encoded = encode(&sample("{}"));
        let body_start = encoded.len() - 2;
        for cut in 0..body_start {
            assert!(decode(&encoded[..cut]).is_none(), "cut at {cut} decoded");
        }
        let mut foreign = encoded.clone();
        foreign[0] = 9;
        assert!(decode(&foreign).is_none());
    }

    #[test]
    fn the_store_forgets_the_oldest_beyond_its_bound_after_a_reopen_too() {
        // Proves the bound holds across reopens: the sequence resumes after the last entry.
        let dir = tempfile::tempdir().expect("temp dir");
        let store = DurableResponses::open(dir.path()).expect("open");
        store
            .next_sequence
            .store(DURABLE_RESPONSES_MAX - 2, Ordering::Relaxed);
        store.put(Uuid::from_u128(1), &sample("a"));
        store.flush();
        drop(store);
        let store = DurableResponses::open(dir.path()).expect("reopen");
        store.put(Uuid::from_u128(2), &sample("b"));
        // Sequence MAX - 2 + 2 = MAX forgets sequence 0, which holds nothing: both remain.
        assert!(store.get(Uuid::from_u128(1)).is_some());
        assert!(store.get(Uuid::from_u128(2)).is_some());
        store
            .next_sequence
            .store(2 * DURABLE_RESPONSES_MAX - 2, Ordering::Relaxed);
        store.put(Uuid::from_u128(3), &sample("c"));
        // Sequence 2·MAX - 2 forgets MAX - 2, the entry of command 1.
        assert!(store.get(Uuid::from_u128(1)).is_none());
        assert!(store.get(Uuid::from_u128(2)).is_some());
        assert!(store.get(Uuid::from_u128(3)).is_some());
    }
}
