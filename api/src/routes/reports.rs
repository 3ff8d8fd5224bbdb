//! The ledger (journal, trial balance, FEC export), printable documents (HTML, PDF, zip bundles),
//! statistics and exports, read from the projections. Reading them needs the `ReadDocuments` permission.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use comptoir_domain::Environment;
use comptoir_projections::render::{to_html, to_pdf, Printable};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::documents::prepare;
use super::Answer;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::server::AppState;

mod bundles;
mod customer_space;
pub(crate) mod statistics;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(trial_balance))
        .routes(routes!(journal))
        .routes(routes!(fec_export))
        .routes(routes!(printable_document))
        .routes(routes!(bundles::document_bundle))
        .routes(routes!(statistics::statistics))
        .routes(routes!(statistics::customer_export))
        .routes(routes!(customer_space::customer_space))
}

fn json_of<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|_| ApiError::Internal)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthRange {
    /// First month included, YYYYMM (e.g. 202503).
    pub from_month: u32,
    /// Last month included, YYYYMM; `from_month` by default.
    pub to_month: Option<u32>,
    pub min_position: Option<u64>,
}

/// Debits, credits and balance per account over whole months; the totals are equal.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/ledger/trial-balance", tag = "ledger",
    params(("shop_id" = Uuid, Path), MonthRange),
    responses((status = 200, body = crate::dto::TrialBalance), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn trial_balance(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<MonthRange>,
) -> Result<Answer<serde_json::Value>, ApiError> {
    prepare(&state, &caller, shop_id, query.min_position).await?;
    let to_month = query.to_month.unwrap_or(query.from_month);
    let balance = state
        .projections
        .trial_balance(shop_id, query.from_month, to_month)?;
    Ok(Answer::ok(json_of(&balance)?, state.projections.position()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Entries dated at or after this instant (RFC 3339).
    pub from: DateTime<Utc>,
    /// Entries dated before this instant.
    pub until: DateTime<Utc>,
    pub min_position: Option<u64>,
}

/// The journal: every entry of the period in date order, each balanced.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/ledger/journal", tag = "ledger",
    params(("shop_id" = Uuid, Path), Period),
    responses((status = 200, body = crate::dto::JournalPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn journal(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<Period>,
) -> Result<Answer<serde_json::Value>, ApiError> {
    prepare(&state, &caller, shop_id, query.min_position).await?;
    let entries = state
        .projections
        .ledger_entries(shop_id, query.from, query.until)?;
    let body = serde_json::json!({ "entries": json_of(&entries)? });
    Ok(Answer::ok(body, state.projections.position()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiscalYear {
    /// The calendar fiscal year, e.g. 2025.
    pub year: i32,
    pub min_position: Option<u64>,
}

/// The FEC (Fichier des Écritures Comptables) of a fiscal year, as `{SIREN}FEC{AAAAMMJJ}.txt`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/ledger/fec", tag = "ledger",
    params(("shop_id" = Uuid, Path), FiscalYear),
    responses((status = 200, content_type = "text/plain", body = String),
        (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn fec_export(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<FiscalYear>,
) -> Result<Response, ApiError> {
    prepare(&state, &caller, shop_id, query.min_position).await?;
    let fec = state
        .projections
        .fec_export(shop_id, query.year)?
        .ok_or_else(|| ApiError::not_found("shop"))?;
    let disposition = format!("attachment; filename=\"{}\"", fec.file_name);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        fec.content,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrintFormat {
    /// `html` (default) or `pdf`.
    pub format: Option<String>,
    pub min_position: Option<u64>,
}

/// A document ready to print: `kind` is `invoices`, `credit-notes`, `delivery-slips`, `quotes`
/// or `purchase-orders`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/printable/{kind}/{number}", tag = "documents",
    params(("shop_id" = Uuid, Path), ("kind" = String, Path), ("number" = String, Path), PrintFormat),
    responses((status = 200, content_type = "text/html", body = String),
        (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn printable_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, kind, number)): ApiPath<(Uuid, String, String)>,
    ApiQuery(query): ApiQuery<PrintFormat>,
) -> Result<Response, ApiError> {
    prepare(&state, &caller, shop_id, query.min_position).await?;
    let projections = &state.projections;
    let printable = match kind.as_str() {
        "invoices" => projections
            .invoice(shop_id, &number)?
            .map(|v| Printable::invoice(&v)),
        "credit-notes" => projections
            .credit_note(shop_id, &number)?
            .map(|v| Printable::credit_note(&v)),
        "delivery-slips" => projections
            .delivery_slip(shop_id, &number)?
            .map(|v| Printable::delivery_slip(&v)),
        // A quote prints its status as of today, like its JSON.
        "quotes" => projections
            .quote(shop_id, &number)?
            .map(|v| Printable::quote(&v.as_of(state.clock.now().date_naive()))),
        "purchase-orders" => projections
            .purchase_order(shop_id, &number)?
            .map(|v| Printable::purchase_order(&v)),
        _ => return Err(ApiError::not_found("document kind")),
    }
    .ok_or_else(|| ApiError::not_found("document"))?;
    match query.format.as_deref().unwrap_or("html") {
        "html" => Ok((
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            to_html(&printable),
        )
            .into_response()),
        "pdf" => {
            let pdf = to_pdf(&printable)?;
            Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
        }
        other => Err(ApiError::InvalidRequest {
            detail: format!("unknown format {other:?}: html or pdf"),
        }),
    }
}
