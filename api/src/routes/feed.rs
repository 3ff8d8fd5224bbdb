//! The event feed of one shop: `GET /v1/shops/{shop_id}/events?after=POSITION`, as JSON pages or,
//! with `Accept: text/event-stream`, as live Server-Sent Events resumable with `Last-Event-ID`.
//!
//! Only the shop's events are shown: an event belongs to the shop its payload names (`shop_id`,
//! or `profile.shop_id` for `ShopCreated`). API key hashes are redacted.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use comptoir_domain::shop::Permission;
use comptoir_eventlog::{Position, RecordedEvent};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::Answer;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::server::AppState;

/// Events one JSON page holds at most.
pub const FEED_PAGE_EVENTS_MAX: usize = 500;
/// Log events one JSON page examines at most: a shop with few events in a busy log gets short
/// pages with `next_after` moving on, never one request scanning the whole log.
pub const FEED_SCAN_EVENTS_MAX: usize = 10_000;
/// Comment lines keeping an idle SSE connection open through proxies.
pub const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);

const _: () = assert!(FEED_PAGE_EVENTS_MAX <= FEED_SCAN_EVENTS_MAX);
const _: () = assert!(FEED_SCAN_EVENTS_MAX <= comptoir_eventlog::limits::READ_EVENTS_MAX);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Events after this position (0 for the start).
    pub after: Option<Position>,
    /// Events per page (default and maximum 500).
    pub limit: Option<usize>,
}

/// One event of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedEvent {
    pub position: Position,
    pub stream: String,
    pub stream_version: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u16,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// The domain event's payload: free-form, its shape set by `event_type` and `schema_version`
    /// (the log's on-disk format, not part of this API's typed surface).
    #[schema(value_type = Object, additional_properties)]
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    pub events: Vec<FeedEvent>,
    /// Pass it as `after` for the next page (it moves on even when no event of the shop was found).
    pub next_after: Position,
    /// The log's durable head when the page was read.
    pub head: Position,
}

/// The shop's events after a position: JSON pages, or SSE with `Accept: text/event-stream`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/events", tag = "events",
    params(("shop_id" = Uuid, Path), FeedQuery, ("Last-Event-ID" = Option<String>, Header, description = "SSE: resume after this position")),
    responses((status = 200, body = FeedPage, description = "JSON page, or text/event-stream"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<Response, ApiError> {
    caller.authorize(shop_id, Permission::ReadEvents)?;
    super::shop_profile(&state, shop_id)?;
    let wants_sse = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_sse {
        let last_event_id = headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<Position>().ok());
        let after = last_event_id.or(query.after).unwrap_or(0);
        return Ok(live(&state, shop_id, after).into_response());
    }
    let page = page(&state, shop_id, &query)?;
    let head = page.head;
    Ok(Answer::ok(page, head).into_response())
}

fn page(state: &AppState, shop_id: Uuid, query: &FeedQuery) -> Result<FeedPage, ApiError> {
    let limit = query
        .limit
        .unwrap_or(FEED_PAGE_EVENTS_MAX)
        .clamp(1, FEED_PAGE_EVENTS_MAX);
    let after = query.after.unwrap_or(0);
    let head = state.log.head_position();
    let scanned = state.log.read_all(after + 1, FEED_SCAN_EVENTS_MAX)?;
    let mut events = Vec::new();
    let mut next_after = after;
    for recorded in scanned {
        if events.len() == limit {
            break;
        }
        next_after = recorded.position;
        if let Some(event) = feed_event(&recorded, shop_id) {
            events.push(event);
        }
    }
    Ok(FeedPage {
        events,
        next_after,
        head,
    })
}

fn live(
    state: &AppState,
    shop_id: Uuid,
    after: Position,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    // The subscription is pulled as the client reads: a slow client holds at most one chunk of
    // the log in memory, never a growing queue.
    let stream = state
        .log
        .subscribe(after + 1)
        .take_while(|item| std::future::ready(item.is_ok()))
        .filter_map(move |item| {
            let event = item
                .ok()
                .and_then(|recorded| feed_event(&recorded, shop_id));
            std::future::ready(event.map(|event| Ok(sse_event(&event))))
        });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(SSE_KEEP_ALIVE))
}

fn sse_event(event: &FeedEvent) -> Event {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    Event::default()
        .id(event.position.to_string())
        .event(event.event_type.clone())
        .data(data)
}

/// The event as the feed shows it, if it belongs to `shop_id`.
fn feed_event(recorded: &RecordedEvent, shop_id: Uuid) -> Option<FeedEvent> {
    let mut data: serde_json::Value = serde_json::from_slice(&recorded.payload).ok()?;
    if event_shop(&data)? != shop_id {
        return None;
    }
    redact(&mut data);
    Some(FeedEvent {
        position: recorded.position,
        stream: recorded.stream.clone(),
        stream_version: recorded.stream_version,
        event_id: recorded.event_id,
        event_type: recorded.event_type.clone(),
        schema_version: recorded.schema_version,
        recorded_at: recorded.recorded_at,
        data,
    })
}

/// Payloads are externally tagged enums: `{"Variant": {...}}`.
fn event_body(data: &serde_json::Value) -> Option<&serde_json::Value> {
    data.as_object()?.values().next()
}

fn event_shop(data: &serde_json::Value) -> Option<Uuid> {
    let body = event_body(data)?;
    let id = body
        .get("shop_id")
        .or_else(|| body.get("profile").and_then(|p| p.get("shop_id")))?;
    id.as_str().and_then(|s| Uuid::try_parse(s).ok())
}

fn redact(data: &mut serde_json::Value) {
    let body = data.as_object_mut().and_then(|o| o.values_mut().next());
    if let Some(serde_json::Value::Object(fields)) = body {
        if fields.contains_key("secret_hash") {
            fields.insert(
                "secret_hash".into(),
                serde_json::Value::String("redacted".into()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_attributed_to_their_shop_and_hashes_redacted() {
        // Proves shop attribution for plain and profile-carrying payloads, and key hash redaction.
        let shop = Uuid::now_v7();
        let plain = serde_json::json!({"OrderPaid": {"shop_id": shop.to_string()}});
        assert_eq!(event_shop(&plain), Some(shop));
        let created =
            serde_json::json!({"ShopCreated": {"profile": {"shop_id": shop.to_string()}}});
        assert_eq!(event_shop(&created), Some(shop));
        assert_eq!(event_shop(&serde_json::json!({"X": {}})), None);
        let mut key = serde_json::json!({"ApiKeyCreated": {"shop_id": shop.to_string(), "secret_hash": "abc"}});
        redact(&mut key);
        assert_eq!(key["ApiKeyCreated"]["secret_hash"], "redacted");
    }
}
