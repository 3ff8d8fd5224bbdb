//! Coupons (seed 000, "Coupons"): managers create and edit them until their codes are generated
//! (then 409 `coupon-locked`), generate one code for all customers (typed or drawn) or N
//! single-use codes (downloadable as CSV), and read the usage of each code. Employees and
//! accountants read; storefronts never see codes.
//!
//! A coupon's dates are days; the shop has no time zone yet, so a coupon runs from the start of
//! its first day to the end of its last day in UTC.
//!
//! Reads of one coupon come from the hot state of its stream (every use is in it, so the counts
//! are exact as of the last acknowledged write); the list comes from the read models.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Days, NaiveDate, Utc};
use comptoir_domain::coupon::{
    self, registry_stream_id, Audience, CodeRequest, Coupon, CouponCodeRegistry,
    CouponCodeRegistryCommand, CouponCommand, CouponDefinition, CouponEvent, CouponScope,
};
use comptoir_domain::shop::Role;
use comptoir_domain::DomainError;
use comptoir_projections::CouponSummary;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::packs::{authorize_roles, STAFF_READERS};
use super::paging::PageQuery;
use super::{
    check_etag, content_etag, precondition_to_412, required_if_match, run, session_shop,
    written_position, Answer,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

const MANAGERS: &[Role] = &[Role::Manager];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_coupon, list_coupons))
        .routes(routes!(get_coupon, edit_coupon))
        .routes(routes!(generate_codes))
        .routes(routes!(coupon_usage))
        .routes(routes!(download_codes))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CouponInput {
    /// Names the coupon in the back office; it is not the code.
    pub name: String,
    /// First day of validity (UTC).
    pub starts_on: NaiveDate,
    /// Last day of validity, included (UTC).
    pub ends_on: NaiveDate,
    /// `{"order": {"reduction": {"percent": "10"}}}`, `{"shipping": {"reduction": "free"}}`,
    /// `{"product": {"reduction": {"amount": "2.00"}, "product_ids": [..]}}`,
    /// `{"product_type": {"reduction": .., "category_ids": [..]}}`.
    #[schema(value_type = crate::dto::CouponScope)]
    pub scope: CouponScope,
    /// In the shop's tax mode; shipping never counts towards it.
    #[serde(default)]
    #[schema(value_type = Option<crate::dto::Money>)]
    pub min_order_amount: Decimal,
    /// `{"all_customers": {"max_total_uses": 50, "max_uses_per_customer": 1}}` (null = unlimited)
    /// or `"single_use_codes"`.
    #[schema(value_type = crate::dto::Audience)]
    pub audience: Audience,
}

impl CouponInput {
    fn definition(&self) -> Result<CouponDefinition, ApiError> {
        let midnight = |day: NaiveDate| -> DateTime<Utc> {
            day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
        };
        let after_last_day = self
            .ends_on
            .checked_add_days(Days::new(1))
            .ok_or_else(|| DomainError::validation("ends_on", "beyond the calendar"))?;
        Ok(CouponDefinition {
            name: self.name.clone(),
            starts_at: midnight(self.starts_on),
            ends_at: midnight(after_last_day),
            scope: self.scope.clone(),
            min_order_amount: self.min_order_amount,
            audience: self.audience,
        })
    }
}

/// One coupon: its terms, whether it is locked, and its uses.
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponView {
    pub coupon_id: Uuid,
    pub shop_id: Uuid,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    /// Exclusive: the instant after the last day.
    pub ends_at: DateTime<Utc>,
    #[schema(value_type = crate::dto::CouponScope)]
    pub scope: CouponScope,
    #[schema(value_type = crate::dto::Money)]
    pub min_order_amount: Decimal,
    #[schema(value_type = crate::dto::Audience)]
    pub audience: Audience,
    /// True once codes are generated: the coupon can no longer change.
    pub locked: bool,
    /// The code of a coupon for all customers, once generated.
    pub code: Option<String>,
    pub code_count: u64,
    /// Uses that count (placed orders not cancelled).
    pub active_uses: u32,
    /// Uses given back by cancelled orders.
    pub released_uses: u32,
    pub position: u64,
}

fn coupon_view(coupon: &Coupon, position: u64) -> Result<CouponView, ApiError> {
    let (Some(shop_id), Some(coupon_id), Some(definition)) =
        (coupon.shop_id, coupon.coupon_id, coupon.definition.as_ref())
    else {
        return Err(ApiError::not_found("coupon"));
    };
    let code = match definition.audience {
        Audience::AllCustomers { .. } => coupon.codes.keys().next().cloned(),
        Audience::SingleUseCodes => None,
    };
    Ok(CouponView {
        coupon_id,
        shop_id,
        name: definition.name.clone(),
        starts_at: definition.starts_at,
        ends_at: definition.ends_at,
        scope: definition.scope.clone(),
        min_order_amount: definition.min_order_amount,
        audience: definition.audience,
        locked: coupon.is_locked(),
        code,
        code_count: coupon.codes.len() as u64,
        active_uses: coupon.active_uses,
        released_uses: coupon.codes.values().map(|usage| usage.released).sum(),
        position,
    })
}

/// A strong ETag of a coupon's terms, the only part of it an update replaces (uses move with
/// orders, and must not make a manager's edit stale).
fn coupon_etag(coupon: &Coupon) -> Option<String> {
    coupon.definition.as_ref().map(content_etag)
}

/// The coupon, if it exists in this shop: another shop's coupon is "not found".
fn coupon_in_shop(
    state: &AppState,
    shop_id: Uuid,
    coupon_id: Uuid,
) -> Result<Arc<Coupon>, ApiError> {
    let coupon = state
        .cache
        .load::<Coupon, _>(state.log.as_ref(), &coupon::stream_id(coupon_id))?
        .state;
    match coupon.shop_id {
        Some(owner) if owner == shop_id => Ok(coupon),
        _ => Err(ApiError::not_found("coupon")),
    }
}

/// Creates a coupon (manager only).
#[utoipa::path(post, path = "/v1/shops/{shop_id}/coupons", tag = "coupons",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CouponInput,
    responses((status = 201, body = CouponView), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_coupon(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<CouponInput>,
) -> Result<Answer<CouponView>, ApiError> {
    authorize_roles(&caller, shop_id, MANAGERS)?;
    let coupon_id = ids.derived_id("coupon");
    let command = CouponCommand::Create {
        coupon_id,
        shop_id,
        definition: Box::new(body.definition()?),
    };
    let stream = coupon::stream_id(coupon_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        session_shop(session, shop_id)?;
        session.decide::<Coupon>(&stream, &command)
    })
    .await?;
    let position = written_position(&state, &executed);
    let coupon = coupon_in_shop(&state, shop_id, coupon_id)?;
    let view = coupon_view(&coupon, position)?;
    let location = format!("/v1/shops/{shop_id}/coupons/{coupon_id}");
    Ok(Answer::created(view, position, location))
}

/// Replaces a coupon's terms; refused with 409 `coupon-locked` once its codes are generated.
/// Send `If-Match` with the coupon's `ETag`: none answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/coupons/{coupon_id}", tag = "coupons",
    params(("shop_id" = Uuid, Path), ("coupon_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CouponInput,
    responses((status = 200, body = CouponView), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn edit_coupon(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, coupon_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<CouponInput>,
) -> Result<Answer<CouponView>, ApiError> {
    authorize_roles(&caller, shop_id, MANAGERS)?;
    coupon_in_shop(&state, shop_id, coupon_id)?;
    let if_match = required_if_match(&headers, "the coupon's")?;
    let definition = body.definition()?;
    let command = CouponCommand::Edit {
        definition: Box::new(definition.clone()),
    };
    let stream = coupon::stream_id(coupon_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let current = session.load::<Coupon>(&stream)?;
        if let Some(terms) = current.definition.as_ref() {
            let done = *terms == definition;
            check_etag(&if_match, &content_etag(terms), done, "the coupon")?;
        }
        session.decide::<Coupon>(&stream, &command)
    })
    .await
    .map_err(precondition_to_412)?;
    let position = written_position(&state, &executed);
    let coupon = coupon_in_shop(&state, shop_id, coupon_id)?;
    let view = coupon_view(&coupon, position)?;
    let mut answer = Answer::ok(view, position);
    answer.etag = coupon_etag(&coupon);
    Ok(answer)
}

/// One coupon with its terms and uses, and the `ETag` of its terms for a conditional edit.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/coupons/{coupon_id}", tag = "coupons",
    params(("shop_id" = Uuid, Path), ("coupon_id" = Uuid, Path)),
    responses((status = 200, body = CouponView), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_coupon(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, coupon_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<CouponView>, ApiError> {
    authorize_roles(&caller, shop_id, STAFF_READERS)?;
    let position = state.log.head_position();
    let coupon = coupon_in_shop(&state, shop_id, coupon_id)?;
    let view = coupon_view(&coupon, position)?;
    let mut answer = Answer::ok(view, position);
    answer.etag = coupon_etag(&coupon);
    Ok(answer)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponPage {
    #[schema(value_type = Vec<crate::dto::CouponSummary>)]
    pub items: Vec<CouponSummary>,
    pub next_cursor: Option<String>,
}

/// The shop's coupons, oldest first, with cursor paging.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/coupons", tag = "coupons",
    params(("shop_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = CouponPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_coupons(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Answer<CouponPage>, ApiError> {
    authorize_roles(&caller, shop_id, STAFF_READERS)?;
    state.read_at(query.min_position).await?;
    let found = state.projections.coupons(shop_id, &query.page())?;
    let body = CouponPage {
        items: found.items,
        next_cursor: found.next_cursor,
    };
    Ok(Answer::ok(body, state.projections.position()))
}

/// How to produce a coupon's codes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CodesInput {
    /// The manager's code for all customers, e.g. TIRAGES10.
    Typed { code: String },
    /// One drawn code of 8 letters and digits, for all customers.
    Generated,
    /// `count` single-use codes.
    SingleUse { count: u32 },
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedCodes {
    pub coupon_id: Uuid,
    /// Every code of the coupon.
    pub codes: Vec<String>,
    pub position: u64,
}

/// Generates the coupon's codes and locks it; the codes are reserved in the shop's registry in the
/// same append, so they are unique within the shop.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/coupons/{coupon_id}/codes", tag = "coupons",
    params(("shop_id" = Uuid, Path), ("coupon_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CodesInput,
    responses((status = 201, body = GeneratedCodes), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn generate_codes(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((shop_id, coupon_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<CodesInput>,
) -> Result<Answer<GeneratedCodes>, ApiError> {
    authorize_roles(&caller, shop_id, MANAGERS)?;
    coupon_in_shop(&state, shop_id, coupon_id)?;
    let request = match body {
        CodesInput::Typed { code } => CodeRequest::Typed(code),
        CodesInput::Generated => CodeRequest::Generated,
        CodesInput::SingleUse { count } => CodeRequest::SingleUse { count },
    };
    let stream = coupon::stream_id(coupon_id);
    let registry_stream = registry_stream_id(shop_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let registry = session.load::<CouponCodeRegistry>(&registry_stream)?;
        let command = CouponCommand::GenerateCodes {
            request: request.clone(),
            registry,
        };
        let events = session.decide::<Coupon>(&stream, &command)?;
        for event in events {
            if let CouponEvent::CouponCodesGenerated { codes, .. } = event {
                let reserve = CouponCodeRegistryCommand::Reserve {
                    shop_id,
                    coupon_id,
                    codes,
                };
                session.decide::<CouponCodeRegistry>(&registry_stream, &reserve)?;
            }
        }
        Ok(())
    })
    .await?;
    let position = written_position(&state, &executed);
    let coupon = coupon_in_shop(&state, shop_id, coupon_id)?;
    let body = GeneratedCodes {
        coupon_id,
        codes: coupon.codes.keys().cloned().collect(),
        position,
    };
    let location = format!("/v1/shops/{shop_id}/coupons/{coupon_id}/codes.csv");
    Ok(Answer::created(body, position, location))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeUsageView {
    pub code: String,
    /// Uses that count (orders not cancelled).
    pub active_uses: u32,
    /// Uses given back by cancelled orders.
    pub released_uses: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponUsage {
    pub coupon_id: Uuid,
    pub active_uses: u32,
    /// By code, in code order.
    pub codes: Vec<CodeUsageView>,
    pub position: u64,
}

/// Usage per code: uses that count and uses released by cancelled orders.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/coupons/{coupon_id}/usage", tag = "coupons",
    params(("shop_id" = Uuid, Path), ("coupon_id" = Uuid, Path)),
    responses((status = 200, body = CouponUsage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn coupon_usage(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, coupon_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<CouponUsage>, ApiError> {
    authorize_roles(&caller, shop_id, STAFF_READERS)?;
    let position = state.log.head_position();
    let coupon = coupon_in_shop(&state, shop_id, coupon_id)?;
    let codes = coupon
        .codes
        .iter()
        .map(|(code, usage)| CodeUsageView {
            code: code.clone(),
            active_uses: usage.active,
            released_uses: usage.released,
        })
        .collect();
    let body = CouponUsage {
        coupon_id,
        active_uses: coupon.active_uses,
        codes,
        position,
    };
    Ok(Answer::ok(body, position))
}

/// The coupon's codes as CSV (`code,active_uses,released_uses`), to print or mail out.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/coupons/{coupon_id}/codes.csv", tag = "coupons",
    params(("shop_id" = Uuid, Path), ("coupon_id" = Uuid, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn download_codes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, coupon_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    authorize_roles(&caller, shop_id, STAFF_READERS)?;
    let coupon = coupon_in_shop(&state, shop_id, coupon_id)?;
    // Codes are letters and digits only (`normalise_code`), so no field needs quoting.
    let mut csv = String::from("code,active_uses,released_uses\n");
    for (code, usage) in &coupon.codes {
        csv.push_str(&format!("{code},{},{}\n", usage.active, usage.released));
    }
    let disposition = format!("attachment; filename=\"coupon-{coupon_id}-codes.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
