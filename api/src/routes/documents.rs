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

use super::paging::PageQuery;
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
pub struct IssuedBetween {
    /// Documents issued at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Documents issued before this instant.
    pub until: Option<DateTime<Utc>>,
}

impl IssuedBetween {
    pub(crate) fn range(&self) -> DateRange {
        DateRange {
            from: self.from,
            until: self.until,
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
/// `min_position`: what every document read starts with.
pub(crate) async fn prepare(
    state: &AppState,
    caller: &Caller,
    shop_id: Uuid,
    min_position: Option<u64>,
) -> Result<(), ApiError> {
    prepare_for(
        state,
        caller,
        (shop_id, Permission::ReadDocuments),
        min_position,
    )
    .await
}

/// Checks the caller holds `permission` on the shop, then waits for the read models to reach
/// `min_position`: what every report read starts with (the books need `ReadLedger`, which a
/// storefront reading its customers' documents does not hold).
pub(crate) async fn prepare_for(
    state: &AppState,
    caller: &Caller,
    (shop_id, permission): (Uuid, Permission),
    min_position: Option<u64>,
) -> Result<(), ApiError> {
    caller.authorize(shop_id, permission)?;
    state.read_at(min_position).await
}

/// One document by number: the caller checked, the read models at `min_position`, then what
/// `read` finds, or 404 naming `what`.
pub(crate) async fn one_document<T: Serialize>(
    state: &AppState,
    caller: &Caller,
    shop_id: Uuid,
    (min_position, what): (Option<u64>, &str),
    read: impl FnOnce() -> Result<Option<T>, ApiError>,
) -> Result<Answer<DocumentDto>, ApiError> {
    prepare(state, caller, shop_id, min_position).await?;
    let document = document_of(read()?, what)?;
    Ok(Answer::ok(document, state.projections.position()))
}

/// One page of a document list: the caller checked, the read models at `min_position`, then the
/// documents `read` finds issued in the range, as JSON. Listing needs `ListDocuments`, not just
/// `ReadDocuments`: a storefront reads its customers' documents by number but may not enumerate
/// the shop's.
pub(crate) async fn list_documents<T: Serialize>(
    state: &AppState,
    caller: &Caller,
    shop_id: Uuid,
    (issued, paging): (IssuedBetween, PageQuery),
    read: impl FnOnce(&DateRange, &PageRequest) -> Result<Page<T>, ApiError>,
) -> Result<Answer<DocumentPage>, ApiError> {
    prepare_for(
        state,
        caller,
        (shop_id, Permission::ListDocuments),
        paging.min_position,
    )
    .await?;
    let page = read(&issued.range(), &paging.page())?;
    Ok(Answer::ok(page_of(page)?, state.projections.position()))
}

/// Invoices by issue date.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/invoices", tag = "documents",
    params(("shop_id" = Uuid, Path), IssuedBetween, PageQuery),
    responses((status = 200, body = crate::dto::InvoicePage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(issued): ApiQuery<IssuedBetween>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Answer<DocumentPage>, ApiError> {
    list_documents(&state, &caller, shop_id, (issued, paging), |range, page| {
        Ok(state.projections.invoices(shop_id, range, page)?)
    })
    .await
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
    let read = (read_at.min_position, "invoice");
    one_document(&state, &caller, shop_id, read, || {
        Ok(state.projections.invoice(shop_id, &number)?)
    })
    .await
}

/// Credit notes by issue date.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/credit-notes", tag = "documents",
    params(("shop_id" = Uuid, Path), IssuedBetween, PageQuery),
    responses((status = 200, body = crate::dto::CreditNotePage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_credit_notes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(issued): ApiQuery<IssuedBetween>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Answer<DocumentPage>, ApiError> {
    list_documents(&state, &caller, shop_id, (issued, paging), |range, page| {
        Ok(state.projections.credit_notes(shop_id, range, page)?)
    })
    .await
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
    let read = (read_at.min_position, "credit note");
    one_document(&state, &caller, shop_id, read, || {
        Ok(state.projections.credit_note(shop_id, &number)?)
    })
    .await
}

/// Delivery slips by issue date (print a period).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/delivery-slips", tag = "documents",
    params(("shop_id" = Uuid, Path), IssuedBetween, PageQuery),
    responses((status = 200, body = crate::dto::DeliverySlipPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_delivery_slips(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(issued): ApiQuery<IssuedBetween>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Answer<DocumentPage>, ApiError> {
    list_documents(&state, &caller, shop_id, (issued, paging), |range, page| {
        Ok(state.projections.delivery_slips(shop_id, range, page)?)
    })
    .await
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
    let read = (read_at.min_position, "delivery slip");
    one_document(&state, &caller, shop_id, read, || {
        Ok(state.projections.delivery_slip(shop_id, &number)?)
    })
    .await
}
