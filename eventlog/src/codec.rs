//! The only module that knows the bytes of the log. Everything stored goes through here.
//!
//! A sled value in the `log` tree is a *stored batch*: whole appends made durable by one flush.
//! One flush (a group commit) stores one or more batches, in position order: the writer starts a
//! new one past `STORED_BATCH_BYTES_TARGET` (see `limits.rs` for why), never inside an append.
//! Logs written before that hold one batch per group commit; both read the same.
//!
//! ```text
//! batch   := 0xB1 | first_position: u64 BE | count: u32 LE | record{count}
//! record  := length: u32 LE | envelope[length] | chain_hash[32]
//! envelope:= format: u8 (= 1) | bincode 2.0.1 standard config of `EnvelopeV1`
//! chain_hash = SHA-256(previous record's chain_hash ‖ envelope), the first record chaining 32 zero bytes
//! ```
//!
//! The key of a batch is its first position, big-endian, so that sled orders batches by position.
//! Changing any of this is a new format version with a decoder for the old one kept forever: the
//! golden files under `tests/golden/` prove that stored records still decode.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::types::{EventMetadata, NewEvent, Position, RecordedEvent};

pub const ENVELOPE_FORMAT_V1: u8 = 1;
pub const BATCH_FORMAT_V1: u8 = 0xB1;
pub const GENESIS_HASH: [u8; 32] = [0; 32];
const BATCH_HEADER_BYTES: usize = 1 + 8 + 4;
const RECORD_OVERHEAD_BYTES: usize = 4 + 32;

pub type Hash = [u8; 32];

/// The fields of a stored event, borrowed, in the order `EnvelopeV1` decodes them.
#[derive(Serialize)]
pub struct EnvelopeRef<'a> {
    pub position: u64,
    pub stream: &'a str,
    pub stream_version: u64,
    pub event_id: Uuid,
    pub event_type: &'a str,
    pub schema_version: u16,
    pub recorded_at_micros: i64,
    pub metadata: &'a EventMetadata,
    #[serde(with = "serde_bytes")]
    pub payload: &'a [u8],
}

#[derive(Deserialize)]
struct EnvelopeV1 {
    position: u64,
    stream: String,
    stream_version: u64,
    event_id: Uuid,
    event_type: String,
    schema_version: u16,
    recorded_at_micros: i64,
    metadata: EventMetadata,
    #[serde(with = "serde_bytes")]
    payload: Vec<u8>,
}

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes the stored form of one event.
pub fn encode_envelope(envelope: &EnvelopeRef<'_>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(96 + envelope.payload.len() + envelope.stream.len());
    bytes.push(ENVELOPE_FORMAT_V1);
    // Encoding plain data into a Vec cannot fail; an error here is a bug in this module.
    bincode::serde::encode_into_std_write(envelope, &mut bytes, bincode_config())
        .expect("encoding an envelope into memory cannot fail");
    bytes
}

/// Encodes an already recorded event again, byte for byte as the writer stored it.
pub fn encode_recorded(event: &RecordedEvent) -> Vec<u8> {
    encode_envelope(&EnvelopeRef {
        position: event.position,
        stream: &event.stream,
        stream_version: event.stream_version,
        event_id: event.event_id,
        event_type: &event.event_type,
        schema_version: event.schema_version,
        recorded_at_micros: event.recorded_at.timestamp_micros(),
        metadata: &event.metadata,
        payload: &event.payload,
    })
}

/// Decodes one stored event, whatever format version it was written with.
pub fn decode_envelope(bytes: &[u8]) -> Result<RecordedEvent, String> {
    let (format, body) = bytes.split_first().ok_or("empty envelope")?;
    if *format != ENVELOPE_FORMAT_V1 {
        return Err(format!("unknown envelope format {format}"));
    }
    let (envelope, read): (EnvelopeV1, usize) =
        bincode::serde::decode_from_slice(body, bincode_config()).map_err(|e| e.to_string())?;
    if read != body.len() {
        return Err(format!(
            "{} trailing bytes after envelope",
            body.len() - read
        ));
    }
    let recorded_at = DateTime::<Utc>::from_timestamp_micros(envelope.recorded_at_micros)
        .ok_or("recorded_at out of range")?;
    Ok(RecordedEvent {
        position: envelope.position,
        stream: envelope.stream,
        stream_version: envelope.stream_version,
        event_id: envelope.event_id,
        event_type: envelope.event_type,
        schema_version: envelope.schema_version,
        recorded_at,
        metadata: envelope.metadata,
        payload: envelope.payload,
    })
}

/// Links a record to everything before it: altering any earlier byte changes every later hash.
pub fn chain_hash(previous: &Hash, envelope: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(envelope);
    hasher.finalize().into()
}

/// What an event's client-chosen id stands for: two appends with the same id are the same event
/// only if this digest matches. Position, version and time are the log's, not the client's.
pub fn content_digest(stream: &str, event: &NewEvent) -> Hash {
    content_digest_of_parts(
        stream,
        &event.event_type,
        event.schema_version,
        &event.metadata,
        &event.payload,
    )
}

/// The digest of a stored event, equal to the digest of the append that stored it.
pub fn recorded_digest(event: &RecordedEvent) -> Hash {
    content_digest_of_parts(
        &event.stream,
        &event.event_type,
        event.schema_version,
        &event.metadata,
        &event.payload,
    )
}

fn content_digest_of_parts(
    stream: &str,
    event_type: &str,
    schema_version: u16,
    metadata: &EventMetadata,
    payload: &[u8],
) -> Hash {
    #[derive(Serialize)]
    struct Content<'a> {
        stream: &'a str,
        event_type: &'a str,
        schema_version: u16,
        metadata: &'a EventMetadata,
        #[serde(with = "serde_bytes")]
        payload: &'a [u8],
    }
    let content = Content {
        stream,
        event_type,
        schema_version,
        metadata,
        payload,
    };
    // Streamed into the hasher rather than encoded into a buffer first: the same bytes are
    // hashed, without copying each payload once more on every append.
    let mut hasher = HashWriter(Sha256::new());
    bincode::serde::encode_into_writer(&content, &mut hasher, bincode_config())
        .expect("encoding into a hasher cannot fail");
    hasher.0.finalize().into()
}

/// Feeds what bincode encodes straight into SHA-256.
struct HashWriter(Sha256);

impl bincode::enc::write::Writer for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        self.0.update(bytes);
        Ok(())
    }
}

pub fn position_key(position: Position) -> [u8; 8] {
    position.to_be_bytes()
}

pub fn key_position(key: &[u8]) -> Result<Position, String> {
    let bytes: [u8; 8] = key.try_into().map_err(|_| "batch key is not 8 bytes")?;
    Ok(u64::from_be_bytes(bytes))
}

/// Builds one commit batch value.
pub struct BatchBuilder {
    bytes: Vec<u8>,
    count: u32,
}

impl BatchBuilder {
    pub fn new(first_position: Position) -> Self {
        // Most batches stop near the target; a larger one grows.
        let mut bytes = Vec::with_capacity(2 * crate::limits::STORED_BATCH_BYTES_TARGET);
        bytes.push(BATCH_FORMAT_V1);
        bytes.extend_from_slice(&first_position.to_be_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        BatchBuilder { bytes, count: 0 }
    }

    pub fn push(&mut self, envelope: &[u8], hash: &Hash) {
        let length =
            u32::try_from(envelope.len()).expect("envelopes are bounded by EVENT_BYTES_MAX");
        self.bytes.extend_from_slice(&length.to_le_bytes());
        self.bytes.extend_from_slice(envelope);
        self.bytes.extend_from_slice(hash);
        self.count += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn len_bytes(&self) -> usize {
        self.bytes.len()
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.bytes[9..13].copy_from_slice(&self.count.to_le_bytes());
        self.bytes
    }
}

/// One framed record of a batch, not yet decoded.
pub struct RawRecord<'a> {
    pub position: Position,
    pub envelope: &'a [u8],
    pub hash: Hash,
}

/// Walks the records of a batch value without decoding their envelopes.
pub struct BatchReader<'a> {
    bytes: &'a [u8],
    offset: usize,
    next_position: Position,
    remaining: u32,
}

impl<'a> BatchReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, String> {
        if bytes.len() < BATCH_HEADER_BYTES {
            return Err("batch shorter than its header".into());
        }
        if bytes[0] != BATCH_FORMAT_V1 {
            return Err(format!("unknown batch format {}", bytes[0]));
        }
        let first_position = u64::from_be_bytes(bytes[1..9].try_into().expect("8 bytes"));
        let count = u32::from_le_bytes(bytes[9..13].try_into().expect("4 bytes"));
        Ok(BatchReader {
            bytes,
            offset: BATCH_HEADER_BYTES,
            next_position: first_position,
            remaining: count,
        })
    }

    pub fn first_position(&self) -> Position {
        u64::from_be_bytes(self.bytes[1..9].try_into().expect("8 bytes"))
    }

    pub fn count(&self) -> u32 {
        u32::from_le_bytes(self.bytes[9..13].try_into().expect("4 bytes"))
    }

    /// The next record, or the position at which the framing broke.
    pub fn next_record(&mut self) -> Option<Result<RawRecord<'a>, (Position, String)>> {
        if self.remaining == 0 {
            if self.offset != self.bytes.len() {
                return Some(Err((
                    self.next_position,
                    "trailing bytes after the last record".into(),
                )));
            }
            return None;
        }
        let position = self.next_position;
        let rest = &self.bytes[self.offset..];
        if rest.len() < RECORD_OVERHEAD_BYTES {
            return Some(Err((position, "record truncated".into())));
        }
        let length = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        if rest.len() < RECORD_OVERHEAD_BYTES + length {
            return Some(Err((position, "record length runs past the batch".into())));
        }
        let envelope = &rest[4..4 + length];
        let hash: Hash = rest[4 + length..4 + length + 32]
            .try_into()
            .expect("32 bytes");
        self.offset += RECORD_OVERHEAD_BYTES + length;
        self.next_position += 1;
        self.remaining -= 1;
        Some(Ok(RawRecord {
            position,
            envelope,
            hash,
        }))
    }
}

/// The last stored record of a batch: its position and chain hash.
pub fn batch_tail(bytes: &[u8]) -> Result<(Position, Hash), (Position, String)> {
    let mut reader = BatchReader::new(bytes).map_err(|e| (0, e))?;
    let mut last = None;
    while let Some(record) = reader.next_record() {
        let record = record?;
        last = Some((record.position, record.hash));
    }
    last.ok_or((reader.first_position(), "empty batch".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(position: Position) -> RecordedEvent {
        RecordedEvent {
            position,
            stream: "order-42".into(),
            stream_version: 3,
            event_id: Uuid::from_u128(0x1234),
            event_type: "OrderPlaced".into(),
            schema_version: 2,
            recorded_at: DateTime::<Utc>::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            metadata: EventMetadata {
                correlation_id: Some(Uuid::from_u128(7)),
                causation_id: None,
                actor: Some("key:manager".into()),
                idempotency_key: Some("idem-1".into()),
            },
            payload: br#"{"total":"12.50"}"#.to_vec(),
        }
    }

    // Proves an envelope survives the round trip field by field.
    #[test]
    fn envelope_round_trips() {
        let event = sample(9);
        let decoded = decode_envelope(&encode_recorded(&event)).unwrap();
        assert_eq!(decoded, event);
    }

    // Proves a batch frames records so that each can be found again with its hash.
    #[test]
    fn batch_frames_records_in_order() {
        let mut builder = BatchBuilder::new(5);
        let first = encode_recorded(&sample(5));
        let second = encode_recorded(&sample(6));
        builder.push(&first, &[1; 32]);
        builder.push(&second, &[2; 32]);
        let bytes = builder.finish();
        let mut reader = BatchReader::new(&bytes).unwrap();
        assert_eq!(reader.count(), 2);
        let a = reader.next_record().unwrap().unwrap();
        assert_eq!((a.position, a.envelope, a.hash), (5, &first[..], [1; 32]));
        let b = reader.next_record().unwrap().unwrap();
        assert_eq!((b.position, b.hash), (6, [2; 32]));
        assert!(reader.next_record().is_none());
        assert_eq!(batch_tail(&bytes).unwrap(), (6, [2; 32]));
    }

    // Proves a truncated batch is reported at the position where the framing broke.
    #[test]
    fn truncated_batch_names_the_broken_position() {
        let mut builder = BatchBuilder::new(5);
        builder.push(&encode_recorded(&sample(5)), &[1; 32]);
        builder.push(&encode_recorded(&sample(6)), &[2; 32]);
        let bytes = builder.finish();
        let cut = &bytes[..bytes.len() - 10];
        assert_eq!(batch_tail(cut).unwrap_err().0, 6);
    }

    // Proves the digest depends on content and on nothing the log assigns.
    #[test]
    fn content_digest_ignores_nothing_the_client_sent() {
        let event = NewEvent {
            event_id: Uuid::from_u128(1),
            event_type: "A".into(),
            schema_version: 1,
            payload: vec![1, 2, 3],
            metadata: EventMetadata::default(),
        };
        let mut other = event.clone();
        other.payload.push(4);
        assert_eq!(content_digest("s", &event), content_digest("s", &event));
        assert_ne!(content_digest("s", &event), content_digest("s", &other));
        assert_ne!(content_digest("s", &event), content_digest("t", &event));
    }

    // Proves the streamed digest is the SHA-256 of the whole bincode encoding, as it was when it
    // was computed over a buffer: digests of events appended before and after must compare equal.
    #[test]
    fn content_digest_hashes_the_encoded_content() {
        #[derive(Serialize)]
        struct Content<'a> {
            stream: &'a str,
            event_type: &'a str,
            schema_version: u16,
            metadata: &'a EventMetadata,
            #[serde(with = "serde_bytes")]
            payload: &'a [u8],
        }
        let event = NewEvent {
            event_id: Uuid::from_u128(7),
            event_type: "OrderPlaced".into(),
            schema_version: 3,
            payload: br#"{"order_id":"x","lines":[1,2,3]}"#.repeat(40),
            metadata: EventMetadata {
                causation_id: Some(Uuid::from_u128(8)),
                correlation_id: None,
                actor: Some("api-key:k".into()),
                idempotency_key: Some("00ff".into()),
            },
        };
        let content = Content {
            stream: "order-1",
            event_type: &event.event_type,
            schema_version: event.schema_version,
            metadata: &event.metadata,
            payload: &event.payload,
        };
        let buffered = bincode::serde::encode_to_vec(&content, bincode_config()).expect("encode");
        let expected: Hash = Sha256::digest(buffered).into();
        assert_eq!(content_digest("order-1", &event), expected);
    }
}
