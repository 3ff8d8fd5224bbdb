//! Golden files: bytes written by format v1 of the log must decode forever. Regenerate only for a
//! NEW format version (never overwrite an old file): `COMPTOIR_BLESS=1 cargo test -p comptoir-eventlog --test golden`.

use chrono::{DateTime, Utc};
use comptoir_eventlog::codec::{self, BatchBuilder, BatchReader, GENESIS_HASH};
use comptoir_eventlog::{EventMetadata, RecordedEvent};
use uuid::Uuid;

const BATCH_V1: &str = "tests/golden/batch_v1.bin";

fn expected_events() -> Vec<RecordedEvent> {
    let at = DateTime::<Utc>::from_timestamp_micros(1_764_158_400_123_456).unwrap();
    vec![
        RecordedEvent {
            position: 41,
            stream: "order-7f3c".into(),
            stream_version: 1,
            event_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001),
            event_type: "OrderPlaced".into(),
            schema_version: 1,
            recorded_at: at,
            metadata: EventMetadata {
                correlation_id: Some(Uuid::from_u128(0xc0ffee)),
                causation_id: Some(Uuid::from_u128(0xcafe)),
                actor: Some("api-key:storefront".into()),
                idempotency_key: Some("checkout-2026-11-26-0001".into()),
            },
            payload: r#"{"total_incl_tax":"12.50","note":"Tirage 10×15 — été"}"#
                .as_bytes()
                .to_vec(),
        },
        RecordedEvent {
            position: 42,
            stream: "document-series-shop-1-invoice".into(),
            stream_version: 12,
            event_id: Uuid::from_u128(2),
            event_type: "InvoiceIssued".into(),
            schema_version: 3,
            recorded_at: at,
            metadata: EventMetadata::default(),
            payload: vec![0, 1, 2, 255],
        },
    ]
}

fn build_batch(events: &[RecordedEvent]) -> Vec<u8> {
    let mut builder = BatchBuilder::new(events[0].position);
    let mut hash = GENESIS_HASH;
    for event in events {
        let envelope = codec::encode_recorded(event);
        hash = codec::chain_hash(&hash, &envelope);
        builder.push(&envelope, &hash);
    }
    builder.finish()
}

// Proves a commit batch written by format v1 still frames, chains and decodes to the same events.
#[test]
fn batch_v1_still_decodes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BATCH_V1);
    if std::env::var("COMPTOIR_BLESS").is_ok() && !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, build_batch(&expected_events())).unwrap();
    }
    let bytes = std::fs::read(&path).expect("golden file is committed");
    let mut reader = BatchReader::new(&bytes).unwrap();
    let mut hash = GENESIS_HASH;
    let mut decoded = Vec::new();
    while let Some(record) = reader.next_record() {
        let record = record.unwrap();
        hash = codec::chain_hash(&hash, record.envelope);
        assert_eq!(
            hash, record.hash,
            "stored chain hash at {}",
            record.position
        );
        decoded.push(codec::decode_envelope(record.envelope).unwrap());
    }
    assert_eq!(decoded, expected_events());
    // Encoding today must give the same bytes: the format has not drifted silently.
    assert_eq!(build_batch(&expected_events()), bytes);
}
