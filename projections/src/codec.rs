//! The one place that turns domain events into log payload bytes and back.
//!
//! Payloads are JSON (serde_json) so that stored events stay readable by people and by tools other
//! than comptoir; the log's own envelope (bincode) wraps them. The envelope's `event_type` and
//! `schema_version` come from [`DomainEvent`] and are checked again when decoding, so a payload
//! whose shape changed is refused rather than misread.

use comptoir_domain::DomainEvent;
use comptoir_eventlog::{EventMetadata, NewEvent, Position, RecordedEvent};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("cannot encode a {event_type} event: {reason}")]
    Encode {
        event_type: &'static str,
        reason: String,
    },
    #[error("cannot decode the event at position {position} ({event_type}): {reason}")]
    Decode {
        position: Position,
        event_type: String,
        reason: String,
    },
    #[error(
        "the event at position {position} is stored as {stored_type} v{stored_version} but decodes as {decoded_type} v{decoded_version}"
    )]
    SchemaMismatch {
        position: Position,
        stored_type: String,
        stored_version: u16,
        decoded_type: &'static str,
        decoded_version: u16,
    },
}

/// Wraps a domain event into what the log appends.
pub fn encode_event<E: DomainEvent>(
    event: &E,
    event_id: Uuid,
    metadata: EventMetadata,
) -> Result<NewEvent, CodecError> {
    let payload = serde_json::to_vec(event).map_err(|error| CodecError::Encode {
        event_type: event.event_type(),
        reason: error.to_string(),
    })?;
    Ok(NewEvent {
        event_id,
        event_type: event.event_type().to_string(),
        schema_version: event.schema_version(),
        payload,
        metadata,
    })
}

/// Reads a stored event back as `E`, checking that the envelope's type and schema version agree
/// with what the payload decodes to (the pair of the check made when encoding).
pub fn decode_event<E: DomainEvent>(recorded: &RecordedEvent) -> Result<E, CodecError> {
    let event: E =
        serde_json::from_slice(&recorded.payload).map_err(|error| CodecError::Decode {
            position: recorded.position,
            event_type: recorded.event_type.clone(),
            reason: error.to_string(),
        })?;
    if event.event_type() != recorded.event_type
        || event.schema_version() != recorded.schema_version
    {
        return Err(CodecError::SchemaMismatch {
            position: recorded.position,
            stored_type: recorded.event_type.clone(),
            stored_version: recorded.schema_version,
            decoded_type: event.event_type(),
            decoded_version: event.schema_version(),
        });
    }
    Ok(event)
}
