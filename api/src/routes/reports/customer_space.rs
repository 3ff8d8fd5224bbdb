//! A customer's space: their orders, invoices, credit notes and payments in one read.

use axum::extract::State;
use comptoir_domain::shop::Permission;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::routes::{Answer, ReadAt};
use crate::server::AppState;

/// A customer's orders, invoices, credit notes (used ones marked) and payments, oldest first.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/customers/{customer_id}/space", tag = "customers",
    params(("shop_id" = Uuid, Path), ("customer_id" = Uuid, Path), ReadAt),
    responses((status = 200, body = crate::dto::CustomerSpace), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn customer_space(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, customer_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<serde_json::Value>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCustomers)?;
    caller.authorize(shop_id, Permission::ReadOrders)?;
    state.read_at(read_at.min_position).await?;
    // The decisions' clock tells which quotes have expired, as it does when accepting one.
    let today = crate::routes::shop_today(&state, shop_id)?;
    let space = crate::routes::off_the_workers(&state, move |projections| {
        Ok(projections.customer_space(shop_id, customer_id, today)?)
    })
    .await?
    .ok_or_else(|| ApiError::not_found("customer"))?;
    let body = serde_json::to_value(&space).map_err(|_| ApiError::Internal)?;
    Ok(Answer::ok(body, state.projections.position()))
}
