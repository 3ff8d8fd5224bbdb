//! Checks an append request against the limits before it reaches the writer, and computes the
//! content digests there, so that the single writer thread does as little as possible.

use std::collections::HashSet;

use crate::codec;
use crate::error::{LogError, LogResult};
use crate::limits::{
    EVENTS_PER_APPEND_MAX, EVENT_BYTES_MAX, EVENT_TYPE_BYTES_MAX, METADATA_TEXT_BYTES_MAX,
    STREAMS_PER_APPEND_MAX, STREAM_NAME_BYTES_MAX,
};
use crate::types::{AppendRequest, NewEvent};
use crate::writer::{PreparedEvent, PreparedStream};

fn limit(what: &'static str, actual: usize, max: usize) -> LogResult<()> {
    if actual > max {
        return Err(LogError::LimitExceeded { what, actual, max });
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> LogError {
    LogError::InvalidAppend(message.into())
}

/// The encoded size of an event is dominated by these; the envelope adds a bounded overhead.
fn event_bytes(stream: &str, event: &NewEvent) -> usize {
    let metadata = &event.metadata;
    stream.len()
        + event.event_type.len()
        + event.payload.len()
        + metadata.actor.as_ref().map_or(0, String::len)
        + metadata.idempotency_key.as_ref().map_or(0, String::len)
        + 96
}

fn check_event(stream: &str, event: &NewEvent) -> LogResult<usize> {
    if event.event_id.is_nil() {
        return Err(invalid("event id must not be the nil UUID"));
    }
    if event.event_type.is_empty() {
        return Err(invalid("event type must not be empty"));
    }
    limit(
        "event type bytes",
        event.event_type.len(),
        EVENT_TYPE_BYTES_MAX,
    )?;
    let metadata = &event.metadata;
    limit(
        "actor bytes",
        metadata.actor.as_ref().map_or(0, String::len),
        METADATA_TEXT_BYTES_MAX,
    )?;
    limit(
        "idempotency key bytes",
        metadata.idempotency_key.as_ref().map_or(0, String::len),
        METADATA_TEXT_BYTES_MAX,
    )?;
    let bytes = event_bytes(stream, event);
    limit("event bytes", bytes, EVENT_BYTES_MAX)?;
    Ok(bytes)
}

/// Returns the prepared streams, the number of events and their approximate encoded size.
pub(crate) fn prepare(request: AppendRequest) -> LogResult<(Vec<PreparedStream>, usize, usize)> {
    if request.streams.is_empty() {
        return Err(invalid("an append needs at least one stream"));
    }
    limit(
        "streams per append",
        request.streams.len(),
        STREAMS_PER_APPEND_MAX,
    )?;
    let event_count = request.event_count();
    limit("events per append", event_count, EVENTS_PER_APPEND_MAX)?;
    let mut streams_seen = HashSet::with_capacity(request.streams.len());
    let mut ids_seen = HashSet::with_capacity(event_count);
    let mut byte_count = 0;
    let mut prepared = Vec::with_capacity(request.streams.len());
    for stream in request.streams {
        if stream.stream.is_empty() {
            return Err(invalid("stream name must not be empty"));
        }
        limit(
            "stream name bytes",
            stream.stream.len(),
            STREAM_NAME_BYTES_MAX,
        )?;
        if !streams_seen.insert(stream.stream.clone()) {
            return Err(invalid(format!(
                "stream {} appears twice in one append",
                stream.stream
            )));
        }
        if stream.events.is_empty() {
            return Err(invalid(format!("stream {} has no events", stream.stream)));
        }
        let mut events = Vec::with_capacity(stream.events.len());
        for event in stream.events {
            byte_count += check_event(&stream.stream, &event)?;
            if !ids_seen.insert(event.event_id) {
                return Err(invalid(format!(
                    "event id {} appears twice in one append",
                    event.event_id
                )));
            }
            let digest = codec::content_digest(&stream.stream, &event);
            events.push(PreparedEvent { event, digest });
        }
        prepared.push(PreparedStream {
            stream: stream.stream,
            expected: stream.expected,
            events,
        });
    }
    Ok((prepared, event_count, byte_count))
}
