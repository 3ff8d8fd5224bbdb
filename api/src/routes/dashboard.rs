//! The shop's dashboard (seed 000, "Tableau de bord"): account level, pack end date, data left,
//! and bandwidth, orders and sales over the last 7 days and the last 12 months.
//!
//! The pack's figures come from its hot state (exact as of the last acknowledged write); the
//! charts from the read models' daily rows, fed to the domain's `dashboard`, which owns the
//! windows and the rounding. Sales are discounted totals including VAT of orders not cancelled.

use axum::extract::State;
use chrono::{Days, Months, NaiveDate};
use comptoir_domain::calendar::{local_date, Tz};
use comptoir_domain::dashboard::{dashboard, Dashboard};
use comptoir_domain::limits::DASHBOARD_RECENT_MONTHS;
use comptoir_domain::Environment;
use comptoir_projections::DailyUsage;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::packs::{authorize_roles, current_pack, STAFF_READERS};
use super::{Answer, ReadAt};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_dashboard))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardDto {
    /// Level, pack end, status, what is left, and each chart as `{buckets: [{starts_on, value}],
    /// total}`, oldest bar first.
    #[serde(flatten)]
    #[schema(value_type = crate::dto::Dashboard)]
    pub dashboard: Dashboard,
    /// Log position the charts reflect (the read models').
    pub position: u64,
}

/// The first day the 12-month charts show: the first of the month 11 months back.
fn first_charted_day(today: NaiveDate) -> NaiveDate {
    let this_month = today - Days::new(u64::from(chrono::Datelike::day(&today)) - 1);
    this_month
        .checked_sub_months(Months::new(DASHBOARD_RECENT_MONTHS - 1))
        .unwrap_or(this_month)
}

/// The level, pack end, what is left, and the 7-day and 12-month charts.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/dashboard", tag = "packs",
    params(("shop_id" = Uuid, Path), ReadAt),
    responses((status = 200, body = DashboardDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_dashboard(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<DashboardDto>, ApiError> {
    authorize_roles(&caller, shop_id, STAFF_READERS)?;
    let zone = super::shop_profile(&state, shop_id)?.zone();
    state.read_at(read_at.min_position).await?;
    let now = state.clock.now();
    let today = local_date(now, zone);
    let days = state
        .projections
        .daily_usage(shop_id, first_charted_day(today), today)?;
    let pack = current_pack(&state, shop_id)?;
    Ok(Answer::ok(
        DashboardDto {
            dashboard: board(&pack, &days, now, zone),
            position: state.projections.position(),
        },
        state.projections.position(),
    ))
}

/// The domain sums (day, value) pairs and counts an order per pair; the read model keeps one row
/// per day, so order counts go through a second pass as a u64 series.
fn board(
    pack: &comptoir_domain::pack::Pack,
    days: &[DailyUsage],
    now: chrono::DateTime<chrono::Utc>,
    zone: Tz,
) -> Dashboard {
    let transfers: Vec<(NaiveDate, u64)> = days.iter().map(|d| (d.day, d.transfer_bytes)).collect();
    let sales: Vec<(NaiveDate, Decimal)> = days.iter().map(|d| (d.day, d.sales)).collect();
    let counts: Vec<(NaiveDate, u64)> = days.iter().map(|d| (d.day, d.orders)).collect();
    let mut board = dashboard(pack, &transfers, &sales, now, zone);
    let by_count = dashboard(pack, &counts, &[], now, zone);
    board.orders_last_7_days = by_count.bandwidth_bytes_last_7_days;
    board.orders_last_12_months = by_count.bandwidth_bytes_last_12_months;
    board
}
