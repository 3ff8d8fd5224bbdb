//! Sales statistics (JSON, CSV, XLSX, XML) and the customer list export.
//!
//! Several shops: an owner token may read the statistics of several shops at once, provided they
//! belong to the organisation of the shop in the path (same SIREN); an API key names one shop
//! only, so listing another shop answers 404 as for any other read of a foreign shop. Nothing
//! crosses organisations.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use comptoir_domain::calendar::{local_date, Tz};
use comptoir_domain::shop::Permission;
use comptoir_domain::Environment;
use comptoir_projections::exports::{
    customers_csv, customers_xlsx, statistics_csv, statistics_xlsx, statistics_xml,
};
use comptoir_projections::statistics::{
    GroupBy, Preset, Statistics, StatisticsQuery, StatusFilter, STATISTICS_SHOPS_MAX,
};
use comptoir_projections::CustomerQuery;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::routes::{shop_profile, Answer};
use crate::server::AppState;

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticsParams {
    /// `today`, `yesterday`, `last_7_days`, `last_week`, `current_month`, `last_month`,
    /// `current_year` or `custom`; `custom` when `from`/`until` are given, else `current_month`.
    /// Days, weeks, months and years are those of the shop's time zone (the path shop's).
    pub preset: Option<String>,
    /// With `custom`: orders placed at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// With `custom`: orders placed before this instant.
    pub until: Option<DateTime<Utc>>,
    /// `order_number`, `customer`, `product_type`, `order_day` (default) or `payment_type`.
    /// `order_number` rows are keyed by order id and labelled with the invoice number, or the
    /// order's reference `CMD-` + the first 12 hex digits of its id while it has no invoice.
    pub group_by: Option<String>,
    /// Which of the orders placed in the period are counted: `paid` (default), the sales, i.e.
    /// the orders that reached paid (they have an invoice) whatever happened after (in
    /// production, shipped, delivered, returned); or `all`, every placed order, paid or not.
    /// Cancelled orders are never counted, paid ones included (their credit note cancels the
    /// invoice). The period is always on the placed date, not the paid date: an order paid
    /// late joins the period it was placed in. Applies to every `format`.
    pub status: Option<String>,
    /// Other shops of the same organisation to include, comma-separated ids, each one the
    /// caller reads statistics of (the owner token, or a staff member with a role there).
    pub shop_ids: Option<String>,
    /// `json` (default), `csv`, `xlsx` or `xml`.
    pub format: Option<String>,
    pub min_position: Option<u64>,
}

/// The shops of a query across an organisation: the path's shop first, then the `listed` ones
/// (comma-separated ids), each authorized for `permission` and of the path shop's organisation
/// (its SIREN), at most `max` in all.
pub(crate) fn shops_of(
    state: &AppState,
    caller: &Caller,
    shop_id: Uuid,
    listed: Option<&str>,
    (permission, max): (Permission, usize),
) -> Result<Vec<Uuid>, ApiError> {
    caller.authorize(shop_id, permission)?;
    let siren = shop_profile(state, shop_id)?.organisation.siren;
    let mut shops = vec![shop_id];
    for text in listed.unwrap_or_default().split(',').map(str::trim) {
        if text.is_empty() {
            continue;
        }
        let other: Uuid = text.parse().map_err(|_| ApiError::InvalidRequest {
            detail: format!("shop_ids: {text:?} is not a shop id"),
        })?;
        caller.authorize(other, permission)?;
        if shop_profile(state, other)?.organisation.siren != siren {
            return Err(ApiError::InvalidRequest {
                detail: format!("shop {other} belongs to another organisation"),
            });
        }
        if !shops.contains(&other) {
            shops.push(other);
        }
    }
    if shops.len() > max {
        return Err(ApiError::LimitExceeded {
            detail: format!("at most {max} shops per query"),
        });
    }
    Ok(shops)
}

pub(crate) fn statistics_query(
    params: &StatisticsParams,
    now: DateTime<Utc>,
    zone: Tz,
) -> Result<StatisticsQuery, ApiError> {
    let preset = match params.preset.as_deref() {
        Some(text) => Preset::parse(text)?,
        None if params.from.is_some() || params.until.is_some() => Preset::Custom,
        None => Preset::CurrentMonth,
    };
    let (from, until) = preset.period(now, zone, (params.from, params.until))?;
    let group_by = GroupBy::parse(params.group_by.as_deref().unwrap_or("order_day"))?;
    let status = StatusFilter::parse(params.status.as_deref().unwrap_or("paid"))?;
    Ok(StatisticsQuery {
        from,
        until,
        group_by,
        status,
        zone,
    })
}

fn attachment(content_type: &str, file_name: String, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// A statistics file ready to send: media type, file name and bytes. Shared by the route and
/// the scheduled reports, so a mailed report is the file the route would answer.
pub(crate) struct StatisticsFile {
    pub content_type: &'static str,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The file is named after the period's first day and the day it ends before, as days of the
/// shop's `zone`.
pub(crate) fn statistics_export(
    statistics: &Statistics,
    format: &str,
    zone: Tz,
) -> Result<StatisticsFile, ApiError> {
    let stem = format!(
        "statistics-{}-{}-{}",
        statistics.group_by.as_str(),
        local_date(statistics.from, zone).format("%Y%m%d"),
        local_date(statistics.until, zone).format("%Y%m%d")
    );
    let (content_type, extension, bytes) = match format {
        "csv" => (
            "text/csv; charset=utf-8",
            "csv",
            statistics_csv(statistics).into_bytes(),
        ),
        "xlsx" => (XLSX_TYPE, "xlsx", statistics_xlsx(statistics)?),
        "xml" => (
            "application/xml; charset=utf-8",
            "xml",
            statistics_xml(statistics).into_bytes(),
        ),
        other => {
            return Err(ApiError::InvalidRequest {
                detail: format!("unknown format {other:?}: json, csv, xlsx or xml"),
            })
        }
    };
    Ok(StatisticsFile {
        content_type,
        file_name: format!("{stem}.{extension}"),
        bytes,
    })
}

fn statistics_file(statistics: &Statistics, format: &str, zone: Tz) -> Result<Response, ApiError> {
    let file = statistics_export(statistics, format, zone)?;
    Ok(attachment(file.content_type, file.file_name, file.bytes))
}

/// Sales statistics of a period, grouped one way: orders, items, net, VAT, gross, discounts and
/// credit notes per group and in total. As JSON or as a file.
///
/// Counted: the orders placed in the period (by placed date) that `status` keeps, `paid` by
/// default; cancelled orders never. `credit_notes` are the credit notes of the counted orders,
/// whenever issued (a return credited after the period still counts against the order's
/// period); credit notes of orders placed in other periods are not in it.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/statistics", tag = "reports",
    params(("shop_id" = Uuid, Path), StatisticsParams),
    responses((status = 200, body = crate::dto::Statistics, description = "`format=json`; csv, xlsx and xml are files"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn statistics(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<StatisticsParams>,
) -> Result<Response, ApiError> {
    let shops = shops_of(
        &state,
        &caller,
        shop_id,
        params.shop_ids.as_deref(),
        (Permission::ReadStatistics, STATISTICS_SHOPS_MAX),
    )?;
    // Several shops share the path shop's calendar, so their rows line up day by day.
    let zone = shop_profile(&state, shop_id)?.zone();
    let query = statistics_query(&params, state.clock.now(), zone)?;
    state.read_at(params.min_position).await?;
    let statistics = crate::routes::off_the_workers(&state, move |projections| {
        Ok(projections.statistics(&shops, &query)?)
    })
    .await?;
    match params.format.as_deref().unwrap_or("json") {
        "json" => {
            let body = serde_json::to_value(&statistics).map_err(|_| ApiError::Internal)?;
            Ok(Answer::ok(body, state.projections.position()).into_response())
        }
        format => statistics_file(&statistics, format, zone),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerExportParams {
    /// Case-insensitive part of the email or the name.
    pub search: Option<String>,
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
    pub min_position: Option<u64>,
}

/// The customer list (optionally searched) as a CSV or XLSX file, by email.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/customers/export", tag = "customers",
    params(("shop_id" = Uuid, Path), CustomerExportParams),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn customer_export(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<CustomerExportParams>,
) -> Result<Response, ApiError> {
    caller.authorize(shop_id, Permission::ExportCustomers)?;
    state.read_at(params.min_position).await?;
    let query = CustomerQuery {
        search: params.search.clone(),
    };
    let format = params.format.clone().unwrap_or_else(|| "csv".into());
    if !matches!(format.as_str(), "csv" | "xlsx") {
        return Err(ApiError::InvalidRequest {
            detail: format!("unknown format {format:?}: csv or xlsx"),
        });
    }
    // One column for each field of the shop's own in its account form.
    let form = crate::routes::account_form::shop_account_form(&state, shop_id)?;
    let extra_keys: Vec<String> = form.extra_fields.into_iter().map(|f| f.key).collect();
    // Every customer of the shop read, then a file built of them.
    let (content_type, file_name, bytes) =
        crate::routes::off_the_workers(&state, move |projections| {
            let customers = projections.customers_for_export(shop_id, &query)?;
            Ok(if format == "xlsx" {
                let bytes = customers_xlsx(&customers, &extra_keys)?;
                (XLSX_TYPE, "customers.xlsx", bytes)
            } else {
                (
                    "text/csv; charset=utf-8",
                    "customers.csv",
                    customers_csv(&customers, &extra_keys).into_bytes(),
                )
            })
        })
        .await?;
    Ok(attachment(content_type, file_name.into(), bytes))
}
