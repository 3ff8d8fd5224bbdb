//! The loyalty card (seed 003): a customer's points, and the shop's rate.
//!
//! Points are derived by the projections from invoices and credit notes (see
//! `comptoir_projections::loyalty`); the only thing recorded is the shop's rate
//! (`LoyaltyRuleChanged`), which a manager sets like the rest of the commercial offer.

use axum::extract::State;
use axum::http::HeaderMap;
use comptoir_domain::shop::{self, Permission, Shop, ShopCommand};
use comptoir_projections::loyalty::{LoyaltyCardView, LoyaltyEntryView};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::paging::PageQuery;
use super::{
    check_etag, content_etag, parse_money, precondition_to_412, required_if_match, run,
    session_shop, shop_profile, written_position, Answer,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(customer_loyalty))
        .routes(routes!(get_loyalty_rule, put_loyalty_rule))
}

/// A strong ETag of a rate: from its normalised value, so "1" and "1.00" (the same rate) share it.
fn rule_etag(points_per_unit: Decimal) -> String {
    content_etag(&points_per_unit.normalize().to_string())
}

/// The shop's rate from the hot state (never behind a change of it).
fn rate_of(state: &AppState, shop_id: Uuid) -> Result<Decimal, ApiError> {
    shop_profile(state, shop_id)?;
    let loaded = state
        .cache
        .load::<Shop, _>(state.log.as_ref(), &shop::stream_id(shop_id))?;
    Ok(loaded.state.loyalty_points_per_unit())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoyaltyCard {
    pub customer_id: Uuid,
    /// Points per currency unit paid (VAT included) the shop gives now.
    #[schema(value_type = crate::dto::Money)]
    pub points_per_unit: Decimal,
    pub balance: i64,
    /// Points ever earned by paid orders.
    pub earned: i64,
    /// Points ever taken back by credit notes.
    pub removed: i64,
    /// The moves of the balance, oldest first.
    #[schema(value_type = Vec<crate::dto::LoyaltyEntry>)]
    pub history: Vec<LoyaltyEntryView>,
    pub next_cursor: Option<String>,
}

/// The customer's loyalty card: balance and history (paid orders earn, credit notes take back).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/customers/{customer_id}/loyalty", tag = "customers",
    params(("shop_id" = Uuid, Path), ("customer_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = LoyaltyCard), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn customer_loyalty(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, customer_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Answer<LoyaltyCard>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCustomers)?;
    state.read_at(query.min_position).await?;
    if state.projections.customer(shop_id, customer_id)?.is_none() {
        return Err(ApiError::not_found("customer"));
    }
    let points_per_unit = rate_of(&state, shop_id)?;
    let LoyaltyCardView {
        balance,
        earned,
        removed,
        ..
    } = state.projections.loyalty_card(shop_id, customer_id)?;
    let history = state
        .projections
        .loyalty_entries(shop_id, customer_id, &query.page())?;
    let card = LoyaltyCard {
        customer_id,
        points_per_unit,
        balance,
        earned,
        removed,
        history: history.items,
        next_cursor: history.next_cursor,
    };
    Ok(Answer::ok(card, state.projections.position()))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoyaltyRuleDto {
    /// Points per currency unit paid, VAT included, rounded down: "1" (the default), "0.5"…
    /// Between 0 (no card) and 100, two decimals at most.
    pub points_per_unit: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoyaltyRuleWritten {
    pub points_per_unit: String,
    pub position: u64,
}

/// The shop's loyalty rate (one point per unit until a manager sets another), with its `ETag`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/loyalty-rule", tag = "shops",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = LoyaltyRuleDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_loyalty_rule(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<LoyaltyRuleDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadShop)?;
    let rate = rate_of(&state, shop_id)?;
    let body = LoyaltyRuleDto {
        points_per_unit: rate.to_string(),
    };
    let mut answer = Answer::ok(body, state.log.head_position());
    answer.etag = Some(rule_etag(rate));
    Ok(answer)
}

/// Sets the shop's loyalty rate; payments made after it earn at the new rate, earlier ones keep
/// their points. Managers only (it is part of the commercial offer, like the catalog). Send
/// `If-Match` with the rule's `ETag`: none answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/loyalty-rule", tag = "shops",
    params(("shop_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = LoyaltyRuleDto,
    responses((status = 200, body = LoyaltyRuleWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_loyalty_rule(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<LoyaltyRuleDto>,
) -> Result<Answer<LoyaltyRuleWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageCatalog)?;
    let if_match = required_if_match(&headers, "the loyalty rule's")?;
    let points_per_unit = parse_money("points_per_unit", &body.points_per_unit)?;
    let command = ShopCommand::SetLoyaltyRule { points_per_unit };
    let stream = shop::stream_id(shop_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        session_shop(session, shop_id)?;
        let current = session.load::<Shop>(&stream)?.loyalty_points_per_unit();
        let done = current == points_per_unit;
        check_etag(&if_match, &rule_etag(current), done, "the loyalty rule")?;
        session.decide::<Shop>(&stream, &command)
    })
    .await
    .map_err(precondition_to_412)?;
    let position = written_position(&state, &executed);
    let written = LoyaltyRuleWritten {
        points_per_unit: points_per_unit.to_string(),
        position,
    };
    let mut answer = Answer::ok(written, position);
    answer.etag = Some(rule_etag(points_per_unit));
    Ok(answer)
}
