//! The chart-of-accounts mapping a shop's ledger posts to: read it, replace it.
//!
//! The mapping lives on the shop stream (`LedgerMappingChanged`), so a read is never behind a
//! write. A change applies to postings made after it; entries already booked keep their accounts.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use comptoir_domain::shop::{self, LedgerMapping, Permission, Shop, ShopCommand};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    content_etag, precondition_to_412, required_if_match, run, session_shop, stale_etag,
    written_position, Answer,
};
use crate::auth::Caller;
use crate::commands::CommandError;
use crate::error::ApiError;
use crate::extract::{ApiPath, CommandIds, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_ledger_mapping, put_ledger_mapping))
}

/// Which account each kind of amount is posted to. Account numbers are 3 to 10 digits.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerMappingDto {
    /// Customers (411); postings name the customer as auxiliary account.
    #[schema(example = "411")]
    pub customers: String,
    /// Sales of goods (707).
    #[schema(example = "707")]
    pub goods_sales: String,
    /// Sales of services and shipping (706).
    #[schema(example = "706")]
    pub services_sales: String,
    /// Product categories sold as services.
    #[serde(default)]
    pub service_categories: Vec<Uuid>,
    /// Categories with a sales account of their own.
    #[serde(default)]
    pub category_accounts: BTreeMap<Uuid, String>,
    /// VAT collected per rate (percent written without trailing zeros: "20", "10", "5.5", "2.1";
    /// those four are required).
    pub vat_by_rate: BTreeMap<String, String>,
    /// VAT collected at any other rate (44571).
    #[schema(example = "44571")]
    pub vat_default: String,
    /// Bank (512).
    #[schema(example = "512")]
    pub bank: String,
    /// Cash (530).
    #[schema(example = "530")]
    pub cash: String,
    /// Customer credit (4191).
    #[schema(example = "4191")]
    pub customer_credit: String,
    /// Discounts granted (709).
    #[schema(example = "709")]
    pub discounts: String,
}

impl From<LedgerMappingDto> for LedgerMapping {
    fn from(m: LedgerMappingDto) -> Self {
        LedgerMapping {
            customers: m.customers,
            goods_sales: m.goods_sales,
            services_sales: m.services_sales,
            service_categories: m.service_categories,
            category_accounts: m.category_accounts,
            vat_by_rate: m.vat_by_rate,
            vat_default: m.vat_default,
            bank: m.bank,
            cash: m.cash,
            customer_credit: m.customer_credit,
            discounts: m.discounts,
        }
    }
}

impl From<LedgerMapping> for LedgerMappingDto {
    fn from(m: LedgerMapping) -> Self {
        LedgerMappingDto {
            customers: m.customers,
            goods_sales: m.goods_sales,
            services_sales: m.services_sales,
            service_categories: m.service_categories,
            category_accounts: m.category_accounts,
            vat_by_rate: m.vat_by_rate,
            vat_default: m.vat_default,
            bank: m.bank,
            cash: m.cash,
            customer_credit: m.customer_credit,
            discounts: m.discounts,
        }
    }
}

/// The mapping after a change, and the change's log position.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerMappingWritten {
    pub mapping: LedgerMappingDto,
    pub position: u64,
}

/// A strong ETag from the mapping's content: it changes exactly when the mapping does.
fn mapping_etag(mapping: &LedgerMapping) -> String {
    content_etag(mapping)
}

/// A stale `If-Match` is refused, unless the mapping already is the one asked for: then the
/// request is a retry whose first answer was lost, and answering it as done is what PUT means.
fn check_if_match(shop: &Shop, wanted: &LedgerMapping, etag: &str) -> Result<(), CommandError> {
    let current = &shop.ledger_mapping;
    if etag != "*" && etag != mapping_etag(current) && current != wanted {
        return Err(stale_etag("the ledger mapping"));
    }
    Ok(())
}

/// The mapping in force (the French PCG defaults until a manager changes it), with its `ETag`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/ledger/mapping", tag = "ledger",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = LedgerMappingDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_ledger_mapping(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<LedgerMappingDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadLedgerMapping)?;
    let loaded = state
        .cache
        .load::<Shop, _>(state.log.as_ref(), &shop::stream_id(shop_id))?;
    if loaded.state.profile.is_none() {
        return Err(ApiError::not_found("shop"));
    }
    let mapping = loaded.state.ledger_mapping.clone();
    let etag = mapping_etag(&mapping);
    let mut answer = Answer::ok(mapping.into(), state.log.head_position());
    answer.etag = Some(etag);
    Ok(answer)
}

/// Replaces the mapping; postings made after it use the new accounts, earlier entries keep
/// theirs. Send `If-Match` with the mapping's `ETag`: none answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/ledger/mapping", tag = "ledger",
    params(("shop_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = LedgerMappingDto,
    responses((status = 200, body = LedgerMappingWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_ledger_mapping(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<LedgerMappingDto>,
) -> Result<Answer<LedgerMappingWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageLedgerMapping)?;
    let if_match = required_if_match(&headers, "the ledger mapping's")?;
    let mapping = LedgerMapping::from(body);
    let command = ShopCommand::SetLedgerMapping(Box::new(mapping.clone()));
    let stream = shop::stream_id(shop_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        session_shop(session, shop_id)?;
        let current = session.load::<Shop>(&stream)?;
        check_if_match(&current, &mapping, &if_match)?;
        session.decide::<Shop>(&stream, &command)
    })
    .await
    .map_err(precondition_to_412)?;
    let position = written_position(&state, &executed);
    let etag = mapping_etag(&mapping);
    let body = LedgerMappingWritten {
        mapping: mapping.into(),
        position,
    };
    let mut answer = Answer::ok(body, position);
    answer.etag = Some(etag);
    Ok(answer)
}
