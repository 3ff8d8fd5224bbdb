//! The hash chain of the log, for auditors (platform operator only).
//!
//! Every stored record carries SHA-256(previous record's hash ‖ its envelope). An auditor keeps
//! an anchor outside the shop (a position and its hash, from `GET /v1/admin/log/head`), and
//! later recomputes the chain from that anchor with the records of `GET /v1/admin/log/records`:
//! a changed, removed or inserted record, or a chain rewritten from some point on, no longer
//! leads to the hashes anchored. The server serves the records as stored, unchecked, so the
//! check is the auditor's own (`tests/tools/chain_audit.py` is one, in 60 lines of Python).

use axum::extract::State;
use axum::Json;
use base64::Engine;
use comptoir_eventlog::{codec, ChainPage, Position};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::clock::owner_only;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::server::AppState;

/// Records one page holds at most.
pub const AUDIT_PAGE_RECORDS_MAX: usize = 1_000;
/// Records a page holds when `limit` is not given.
pub const AUDIT_PAGE_RECORDS_DEFAULT: usize = 100;

const _: () = assert!(AUDIT_PAGE_RECORDS_DEFAULT <= AUDIT_PAGE_RECORDS_MAX);
const _: () = assert!(AUDIT_PAGE_RECORDS_MAX <= comptoir_eventlog::limits::READ_EVENTS_MAX);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(log_head))
        .routes(routes!(log_records))
}

/// The log's last durable position and the chain hash stored with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainAnchor {
    /// 0 for an empty log.
    pub position: Position,
    /// Hex SHA-256; 64 zeros (the genesis hash) for an empty log.
    pub hash: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordsQuery {
    /// The records after this position (0, the default, starts at the first).
    pub after: Option<Position>,
    /// Records wanted, 1 to 1,000 (100 by default).
    pub limit: Option<usize>,
}

/// One stored record as the chain covers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainRecordDto {
    pub position: Position,
    /// Hex SHA-256(previous record's hash ‖ `envelope`'s bytes), as stored.
    pub hash: String,
    /// The envelope's stored bytes, standard base64: what the hash covers.
    pub envelope: String,
    /// What the envelope says, decoded by the server for convenience (null when it does not
    /// decode): the event's id, stream and type, to match the record with the event feed.
    pub event: Option<ChainEventDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChainEventDto {
    pub event_id: uuid::Uuid,
    pub stream: String,
    pub event_type: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChainRecordPage {
    /// The stored hash of the record at `after` (the genesis hash, 64 zeros, when `after` is 0):
    /// where this page's chain starts.
    pub previous_hash: String,
    pub records: Vec<ChainRecordDto>,
    /// Pass it as `after` for the next page; null at the head.
    pub next_after: Option<Position>,
    /// The log's durable head when the page was read.
    pub head: Position,
}

/// The anchor to keep: the head position and its chain hash.
#[utoipa::path(get, path = "/v1/admin/log/head", tag = "admin",
    responses((status = 200, body = ChainAnchor), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn log_head(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ChainAnchor>, ApiError> {
    owner_only(&caller)?;
    let log = state.log.clone();
    let (position, hash) = tokio::task::spawn_blocking(move || log.head_hash())
        .await
        .map_err(|_| ApiError::Internal)??;
    Ok(Json(ChainAnchor {
        position,
        hash: hex::encode(hash),
    }))
}

/// Records of the hash chain after a position, as stored, to recompute the chain from an anchor.
#[utoipa::path(get, path = "/v1/admin/log/records", tag = "admin",
    params(RecordsQuery),
    responses((status = 200, body = ChainRecordPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn log_records(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<RecordsQuery>,
) -> Result<Json<ChainRecordPage>, ApiError> {
    owner_only(&caller)?;
    let limit = match query.limit {
        None => AUDIT_PAGE_RECORDS_DEFAULT,
        Some(limit @ 1..=AUDIT_PAGE_RECORDS_MAX) => limit,
        Some(_) => {
            return Err(ApiError::Domain(comptoir_domain::DomainError::validation(
                "limit",
                format!("must be 1 to {AUDIT_PAGE_RECORDS_MAX}"),
            )))
        }
    };
    let after = query.after.unwrap_or(0);
    let log = state.log.clone();
    let (page, head) = tokio::task::spawn_blocking(move || {
        let head = log.head_position();
        log.chain_page(after, limit).map(|page| (page, head))
    })
    .await
    .map_err(|_| ApiError::Internal)??;
    Ok(Json(page_dto(page, head)))
}

fn page_dto(page: ChainPage, head: Position) -> ChainRecordPage {
    let next_after = page
        .records
        .last()
        .map(|record| record.position)
        .filter(|last| *last < head);
    ChainRecordPage {
        previous_hash: hex::encode(page.previous_hash),
        records: page.records.into_iter().map(record_dto).collect(),
        next_after,
        head,
    }
}

fn record_dto(record: comptoir_eventlog::ChainRecord) -> ChainRecordDto {
    let event = codec::decode_envelope(&record.envelope)
        .ok()
        .map(|event| ChainEventDto {
            event_id: event.event_id,
            stream: event.stream,
            event_type: event.event_type,
            recorded_at: event.recorded_at,
        });
    ChainRecordDto {
        position: record.position,
        hash: hex::encode(record.hash),
        envelope: base64::engine::general_purpose::STANDARD.encode(&record.envelope),
        event,
    }
}
