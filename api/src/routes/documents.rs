//! Invoices, credit notes and delivery slips as JSON: by number, and listed by issue date with
//! cursor paging. Read from the projections; `?min_position=` waits for a write to show.

use axum::extract::State;
use chrono::{DateTime, Utc};
use comptoir_domain::shop::Permission;
use comptoir_projections::{DateRange, Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Answer, ReadAt};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invoices))
        .routes(routes!(get_invoice))
        .routes(routes!(list_credit_notes))
        .routes(routes!(get_credit_note))
        .routes(routes!(list_delivery_slips))
        .routes(routes!(get_delivery_slip))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentList {
    /// Documents issued at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Documents issued before this instant.
    pub until: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Items per page (default 50, at most 200).
    pub limit: Option<usize>,
    pub min_position: Option<u64>,
}

impl DocumentList {
    pub(crate) fn range(&self) -> DateRange {
        DateRange {
            from: self.from,
            until: self.until,
        }
    }

    pub(crate) fn page(&self) -> PageRequest {
        PageRequest {
            after: self.after.clone(),
            limit: self.limit.unwrap_or(0),
        }
    }
}

/// A page of documents: number, series position, issue date and the immutable snapshot
/// (seller, customer, lines, totals per VAT rate).
///
/// Each route declares its own typed page (`InvoicePage`, ...) in its `#[utoipa::path]`.
#[derive(Debug, Serialize)]
pub struct DocumentPage {
    pub items: Vec<serde_json::Value>,
    pub next_cursor: Option<String>,
}

pub(crate) fn page_of<T: Serialize>(page: Page<T>) -> Result<DocumentPage, ApiError> {
    let items = page
        .items
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            tracing::error!(%error, "a document does not serialize");
            ApiError::Internal
        })?;
    Ok(DocumentPage {
        items,
        next_cursor: page.next_cursor,
    })
}

/// One document (read model), as JSON; each route declares its typed schema (`Invoice`, ...).
#[derive(Debug, Serialize)]
pub struct DocumentDto(pub serde_json::Value);

pub(crate) fn document_of<T: Serialize>(
    document: Option<T>,
    what: &str,
) -> Result<DocumentDto, ApiError> {
    let document = document.ok_or_else(|| ApiError::not_found(what))?;
    serde_json::to_value(document)
        .map(DocumentDto)
        .map_err(|_| ApiError::Internal)
}

/// Checks the caller may read the shop's documents and waits for the read models to reach
/// `min_position`: what every document and report read starts with.
pub(crate) async fn prepare(
    state: &AppState,
    caller: &Caller,
    shop_id: Uuid,
    min_position: Option<u64>,
) -> Result<(), ApiError> {
    caller.authorize(shop_id, Permission::ReadDocuments)?;
    state.read_at(min_position).await
}

/// Invoices by issue date.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/invoices", tag = "documents",
    params(("shop_id" = Uuid, Path), DocumentList),
    responses((status = 200, body = crate::dto::InvoicePage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DocumentList>,
) -> Result<Answer<DocumentPage>, ApiError> {
    prepare(&state, &caller, shop_id, query.min_position).await?;
    let page = state
        .projections
        .invoices(shop_id, &query.range(), &query.page())?;
    Ok(Answer::ok(page_of(page)?, state.projections.position()))
}

/// One invoice by number.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/invoices/{number}", tag = "documents",
    params(("shop_id" = Uuid, Path), ("number" = String, Path), ReadAt),
    responses((status = 200, body = crate::dto::Invoice), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, number)): ApiPath<(Uuid, String)>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<DocumentDto>, ApiError> {
    prepare(&state, &caller, shop_id, read_at.min_position).await?;
    let document = document_of(state.projections.invoice(shop_id, &number)?, "invoice")?;
    Ok(Answer::ok(document, state.projections.position()))
}

/// Credit notes by issue date.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/credit-notes", tag = "documents",
    params(("shop_id" = Uuid, Path), DocumentList),
    responses((status = 200, body = crate::dto::CreditNotePage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_credit_notes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DocumentList>,
) -> Result<Answer<DocumentPage>, ApiError> {
    prepare(&state, &caller, shop_id, query.min_position).await?;
    let page = state
        .projections
        .credit_notes(shop_id, &query.range(), &query.page())?;
    Ok(Answer::ok(page_of(page)?, state.projections.position()))
}

/// One credit note by number (with `used_at` once its store credit is spent).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/credit-notes/{number}", tag = "documents",
    params(("shop_id" = Uuid, Path), ("number" = String, Path), ReadAt),
    responses((status = 200, body = crate::dto::CreditNote), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_credit_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, number)): ApiPath<(Uuid, String)>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<DocumentDto>, ApiError> {
    prepare(&state, &caller, shop_id, read_at.min_position).await?;
    let document = document_of(
        state.projections.credit_note(shop_id, &number)?,
        "credit note",
    )?;
    Ok(Answer::ok(document, state.projections.position()))
}

/// Delivery slips by issue date (print a period).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/delivery-slips", tag = "documents",
    params(("shop_id" = Uuid, Path), DocumentList),
    responses((status = 200, body = crate::dto::DeliverySlipPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_delivery_slips(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DocumentList>,
) -> Result<Answer<DocumentPage>, ApiError> {
    prepare(&state, &caller, shop_id, query.min_position).await?;
    let page = state
        .projections
        .delivery_slips(shop_id, &query.range(), &query.page())?;
    Ok(Answer::ok(page_of(page)?, state.projections.position()))
}

/// One delivery slip by number.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/delivery-slips/{number}", tag = "documents",
    params(("shop_id" = Uuid, Path), ("number" = String, Path), ReadAt),
    responses((status = 200, body = crate::dto::DeliverySlip), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_delivery_slip(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, number)): ApiPath<(Uuid, String)>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<DocumentDto>, ApiError> {
    prepare(&state, &caller, shop_id, read_at.min_position).await?;
    let document = document_of(
        state.projections.delivery_slip(shop_id, &number)?,
        "delivery slip",
    )?;
    Ok(Answer::ok(document, state.projections.position()))
}
