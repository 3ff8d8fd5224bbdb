//! Every document of one kind issued in a period, as one zip of PDFs or HTML pages.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use comptoir_domain::shop::Permission;
use comptoir_projections::bundles::{zip_bundle, BundleFormat, DocumentKind};
use comptoir_projections::DateRange;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::server::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BundleParams {
    /// Documents issued at or after this instant (RFC 3339).
    pub from: DateTime<Utc>,
    /// Documents issued before this instant.
    pub until: DateTime<Utc>,
    /// `pdf` (default) or `html`: the type of the files in the zip.
    pub format: Option<String>,
    pub min_position: Option<u64>,
}

/// All `invoices`, `credit-notes`, `delivery-slips`, `quotes` or `purchase-orders` issued in `[from, until)` as one zip
/// (`{kind}.zip`), one `{number}.pdf` (or `.html`) each, oldest first. At most
/// `BUNDLE_DOCUMENTS_MAX` documents: a longer period answers 422 `limit-exceeded`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/printable/{bundle}", tag = "documents",
    params(("shop_id" = Uuid, Path),
        ("bundle" = String, Path, description = "`invoices.zip`, `credit-notes.zip`, `delivery-slips.zip`, `quotes.zip` or `purchase-orders.zip`"),
        BundleParams),
    responses((status = 200, content_type = "application/zip", body = crate::dto::Binary),
        (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn document_bundle(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, bundle)): ApiPath<(Uuid, String)>,
    ApiQuery(params): ApiQuery<BundleParams>,
) -> Result<Response, ApiError> {
    caller.authorize(shop_id, Permission::ListDocuments)?;
    let kind = bundle
        .strip_suffix(".zip")
        .and_then(DocumentKind::parse)
        .ok_or_else(|| ApiError::not_found("document bundle"))?;
    let format = match params.format.as_deref().unwrap_or("pdf") {
        "pdf" => BundleFormat::Pdf,
        "html" => BundleFormat::Html,
        other => {
            return Err(ApiError::InvalidRequest {
                detail: format!("unknown format {other:?}: pdf or html"),
            })
        }
    };
    state.read_at(params.min_position).await?;
    let issued = DateRange {
        from: Some(params.from),
        until: Some(params.until),
    };
    // Laying out PDFs is CPU work of up to seconds.
    let zip = crate::routes::off_the_workers(&state, move |projections| {
        let printables = projections.printables(shop_id, kind, &issued)?;
        Ok(zip_bundle(&printables, format)?)
    })
    .await?;
    let disposition = format!("attachment; filename=\"{bundle}\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        zip,
    )
        .into_response())
}
