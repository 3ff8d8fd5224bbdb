//! The `/v1` resources, one module each, merged into one OpenAPI-described router; and what every
//! write shares: running a decision with the request's command identity, and answering with the
//! log position.

pub mod account_form;
pub mod accounts;
pub mod audit;
pub mod banners;
pub mod catalog;
pub mod catalog_presentation;
pub mod checkout;
pub mod closures;
pub mod coupons;
pub mod customers;
pub mod dashboard;
pub mod documents;
pub mod feed;
pub mod files;
pub mod ledger_mapping;
pub mod loyalty;
pub mod messages;
pub mod order_flow;
pub mod orders;
pub mod packs;
pub mod paging;
pub mod print_jobs;
pub mod quotes;
pub mod rebuilds;
pub mod report_schedules;
pub mod reports;
pub mod shops;
pub mod staff;
pub mod staff_sign_in;
pub mod storefront;
pub mod time_zone;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use comptoir_domain::shop::{Shop, ShopProfile};
use comptoir_eventlog::{EventLog, Position};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::auth::Caller;
use crate::commands::{execute_many, CommandError, CommandInput, Executed, Session};
use crate::error::ApiError;
use crate::extract::CommandIds;
use crate::server::AppState;

/// Response header carrying the log position of a write (and of the data a read reflects).
pub const POSITION_HEADER: &str = "comptoir-position";

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::docs::base())
        .merge(shops::router())
        .merge(ledger_mapping::router())
        .merge(time_zone::router())
        .merge(catalog::router())
        .merge(customers::router())
        .merge(account_form::router())
        .merge(banners::router())
        .merge(orders::router())
        .merge(print_jobs::router())
        .merge(documents::router())
        .merge(quotes::router())
        .merge(feed::router())
        .merge(reports::router())
        .merge(report_schedules::router())
        .merge(storefront::router())
        .merge(catalog_presentation::router())
        .merge(closures::router())
        .merge(packs::router())
        .merge(checkout::router())
        .merge(coupons::router())
        .merge(dashboard::router())
        .merge(files::router())
        .merge(messages::router())
        .merge(loyalty::router())
        .merge(rebuilds::router())
        .merge(audit::router())
        .merge(staff::router())
        .merge(staff_sign_in::router())
}

/// `?min_position=`: the read waits (bounded) until the read models hold this position.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadAt {
    /// A position returned by a write; the read reflects at least that write.
    pub min_position: Option<Position>,
}

/// A JSON answer with the log position in a header; `location` and `etag` when known.
pub struct Answer<T> {
    pub status: StatusCode,
    pub body: T,
    pub position: Position,
    pub location: Option<String>,
    pub etag: Option<String>,
}

impl<T> Answer<T> {
    pub fn ok(body: T, position: Position) -> Self {
        Answer {
            status: StatusCode::OK,
            body,
            position,
            location: None,
            etag: None,
        }
    }

    pub fn created(body: T, position: Position, location: String) -> Self {
        Answer {
            status: StatusCode::CREATED,
            body,
            position,
            location: Some(location),
            etag: None,
        }
    }
}

/// Bytes reserved up front for an answer's JSON: an order receipt (the largest answer written
/// on every order) fits, so it is serialised without growing its buffer several times over.
pub const ANSWER_BUFFER_BYTES: usize = 4 * 1024;

/// `body` as a JSON response, serialised into one buffer sized for most answers.
pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let mut bytes = Vec::with_capacity(ANSWER_BUFFER_BYTES);
    if let Err(error) = serde_json::to_writer(&mut bytes, body) {
        tracing::error!(%error, "serialising an answer failed");
        return ApiError::Internal.into_response();
    }
    let mut response = Response::new(axum::body::Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl<T: Serialize> IntoResponse for Answer<T> {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, &self.body);
        let headers = response.headers_mut();
        headers.insert(POSITION_HEADER, HeaderValue::from(self.position));
        let extra = [(header::LOCATION, self.location), (header::ETAG, self.etag)];
        for (name, value) in extra {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// The response of `answer`, marked as carrying a secret shown once (see `CarriesSecret`).
pub fn with_secret<T: Serialize>(answer: Answer<T>) -> Response {
    let mut response = answer.into_response();
    response
        .extensions_mut()
        .insert(crate::idempotency::CarriesSecret);
    response
}

/// Runs a decision for this request: its command id, fingerprint and caller go into the events.
pub async fn run<T, F>(
    state: &AppState,
    ids: &CommandIds,
    caller: &Caller,
    sequenced: Vec<String>,
    decide: F,
) -> Result<Executed<T>, ApiError>
where
    F: Fn(&mut Session<'_, EventLog>) -> Result<T, CommandError>,
{
    let input = CommandInput {
        command_id: ids.command_id,
        fingerprint: ids.fingerprint.clone(),
        actor: Some(caller.actor()),
        sequenced,
    };
    Ok(execute_many(&state.executor(), &input, decide).await?)
}

/// The position a write answers with: its last event, or the head when it recorded nothing. A
/// replay answers with the same position as the first answer, although only its first event's
/// position is remembered.
pub fn written_position<T>(state: &AppState, executed: &Executed<T>) -> Position {
    match executed {
        Executed::Replayed { first_position } => replayed_last_position(state, *first_position),
        Executed::Applied { .. } => executed
            .position()
            .unwrap_or_else(|| state.log.head_position()),
    }
}

/// The last event of the command whose first event is at `first`: one append is contiguous in
/// the log, and every event of a command carries its id as `causation_id`.
fn replayed_last_position(state: &AppState, first: Position) -> Position {
    let Ok(events) = state
        .log
        .read_all(first, crate::commands::session::COMMAND_EVENTS_MAX)
    else {
        return first;
    };
    let cause = events.first().and_then(|event| event.metadata.causation_id);
    events
        .iter()
        .take_while(|event| cause.is_some() && event.metadata.causation_id == cause)
        .last()
        .map_or(first, |event| event.position)
}

/// Runs `read` on tokio's blocking pool. For reads that scan many rows or build a file (a
/// fiscal year's FEC, a customer export, a journal, PDFs): on an async worker they would stall
/// every other request that worker serves (two workers on a two-core till).
pub async fn off_the_workers<T: Send + 'static>(
    state: &AppState,
    read: impl FnOnce(&comptoir_projections::Projections) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let projections = state.projections.clone();
    tokio::task::spawn_blocking(move || read(&projections))
        .await
        .map_err(|_| ApiError::Internal)?
}

/// The shop's profile, or 404 (also for a shop the caller may not see: checked before).
/// Today in the shop's calendar, on the decisions' clock.
pub fn shop_today(state: &AppState, shop_id: Uuid) -> Result<chrono::NaiveDate, ApiError> {
    let zone = shop_profile(state, shop_id)?.zone();
    Ok(comptoir_domain::calendar::local_date(
        comptoir_domain::Environment::now(state.clock.as_ref()),
        zone,
    ))
}

pub fn shop_profile(state: &AppState, shop_id: Uuid) -> Result<ShopProfile, ApiError> {
    let shop = shop_state(state, shop_id)?;
    shop.profile
        .clone()
        .ok_or_else(|| ApiError::not_found("shop"))
}

/// The shop's whole state from the hot state; 404 for no shop.
pub fn shop_state(state: &AppState, shop_id: Uuid) -> Result<std::sync::Arc<Shop>, ApiError> {
    let shop = state.cache.load::<Shop, _>(
        state.log.as_ref(),
        &comptoir_domain::shop::stream_id(shop_id),
    )?;
    if shop.state.profile.is_none() {
        return Err(ApiError::not_found("shop"));
    }
    Ok(shop.state)
}

/// Inside a decision: the shop's profile or "not found".
pub fn session_shop(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
) -> Result<ShopProfile, CommandError> {
    let shop = session.load::<Shop>(&comptoir_domain::shop::stream_id(shop_id))?;
    shop.profile
        .clone()
        .ok_or_else(|| comptoir_domain::DomainError::not_found("shop", shop_id).into())
}

/// Position fields of write answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Positioned<T> {
    #[serde(flatten)]
    pub data: T,
    /// Log position of the write; pass it as `min_position` to read it back.
    pub position: Position,
}

/// Parses a money amount given as a decimal string ("12.50").
pub fn parse_money(field: &str, text: &str) -> Result<rust_decimal::Decimal, ApiError> {
    text.trim().parse::<rust_decimal::Decimal>().map_err(|_| {
        ApiError::Domain(comptoir_domain::DomainError::validation(
            field,
            "must be a decimal string such as \"12.50\"",
        ))
    })
}

/// Code of the conflict a stale `If-Match` raises inside a decision (answered 412).
pub const PRECONDITION_FAILED: &str = "precondition-failed";

/// The request's `If-Match`, if any.
pub fn if_match(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get(header::IF_MATCH)
        .map(|v| v.to_str().map(str::to_string))
        .transpose()
        .map_err(|_| ApiError::invalid("If-Match must be ASCII"))
}

/// The request's `If-Match`, which every update (PUT/PATCH) requires: without it the write
/// would silently overwrite whatever another client changed since its read, so it answers 428
/// and appends nothing. `what` names the resource whose `ETag` to send ("the product's").
pub fn required_if_match(headers: &axum::http::HeaderMap, what: &str) -> Result<String, ApiError> {
    if_match(headers)?.ok_or_else(|| ApiError::PreconditionRequired {
        detail: format!("send If-Match with {what} ETag (GET it first)"),
    })
}

/// Inside a decision: refuses a stale `If-Match` (412). `*` matches any current state, and so
/// does a request whose change is already in place (`already_done`): that is a retry whose
/// first answer was lost, and refusing it would make retries fail.
pub fn check_etag(
    sent: &str,
    current: &str,
    already_done: bool,
    what: &str,
) -> Result<(), CommandError> {
    if sent == "*" || sent == current || already_done {
        Ok(())
    } else {
        Err(stale_etag(what))
    }
}

/// The conflict a decision raises for a stale `If-Match` on `what` (e.g. "the product"); the
/// route turns it into 412 with [`precondition_to_412`].
pub fn stale_etag(what: &str) -> CommandError {
    comptoir_domain::DomainError::conflict(
        PRECONDITION_FAILED,
        format!("{what} changed since this ETag; GET it again"),
    )
    .into()
}

/// Turns the stale-`If-Match` conflict raised inside a decision into 412.
pub fn precondition_to_412(error: ApiError) -> ApiError {
    match error {
        ApiError::Domain(comptoir_domain::DomainError::Conflict { code, message })
            if code == PRECONDITION_FAILED =>
        {
            ApiError::PreconditionFailed { detail: message }
        }
        other => other,
    }
}

/// A strong ETag of a JSON-serializable representation: it changes exactly when the value does.
pub fn content_etag<T: Serialize>(value: &T) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(value).unwrap_or_default();
    format!("\"{}\"", hex::encode(&Sha256::digest(json)[..12]))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parts(response: Response) -> (StatusCode, String, String, Vec<u8>) {
        let status = response.status();
        let text_of = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let (content_type, position) = (
            text_of(header::CONTENT_TYPE.as_str()),
            text_of(POSITION_HEADER),
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, content_type, position, body.to_vec())
    }

    #[tokio::test]
    async fn answers_are_json_with_their_position_whatever_their_size() {
        // Proves an answer carries its status, JSON content type, position and exactly the
        // serialised body, below and beyond the buffer reserved up front.
        for items in [1, ANSWER_BUFFER_BYTES] {
            let body = serde_json::json!({"items": vec!["é\"x"; items], "total": "12.50"});
            let answer = Answer::created(body.clone(), 42, "/v1/x".into());
            let (status, content_type, position, bytes) = parts(answer.into_response()).await;
            assert_eq!(status, StatusCode::CREATED);
            assert_eq!(content_type, "application/json");
            assert_eq!(position, "42");
            assert_eq!(bytes, serde_json::to_vec(&body).expect("json"));
        }
    }
}
