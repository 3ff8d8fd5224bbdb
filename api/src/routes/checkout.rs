//! Placing an order with everything it consumes, in ONE append (see `comptoir_domain`'s stream
//! table): `OrderPlaced` on the new order's stream, `CouponUsed` on the coupon's stream at its exact
//! expected version, and `OrderQuotaConsumed` on the shop's pack. And the cart preview, which prices
//! a basket and its coupon by the same rules and records nothing.
//!
//! Coupon limits are exact because `CouponUsed` is decided on the coupon stream's own state and
//! appended with its version: of 200 concurrent orders on 50 remaining uses, exactly 50 land. The
//! pack and the coupon are sequenced streams (see `commands::session`): every order of a shop
//! touches its pack, so placements queue on the pack's stripe and decide on the state the previous
//! one will leave, instead of failing each other's version checks until they run out of attempts.
//!
//! With `coupon_policy: "optional"` a coupon that cannot be applied (unknown, used up, expired, the
//! minimum not reached) is dropped and the order is placed without it; the answer says why in
//! `coupon_refused`. The check is `Coupon::preview` on the state the same decision then appends
//! against, so a coupon that passes the preview is the one `CouponUsed` records.

use std::sync::Arc;

use axum::extract::State;
use comptoir_domain::catalog::{self, Catalog};
use comptoir_domain::coupon::{
    self, discounted_totals, registry_stream_id, Coupon, CouponCodeRegistry, CouponCommand,
    CouponDiscount, UseCoupon,
};
use comptoir_domain::order::{self, CouponToApply, Order, OrderCommand, OrderCustomer, PlaceOrder};
use comptoir_domain::pack::{self, Pack, PackCommand};
use comptoir_domain::pricing::{price_basket, BasketLine, PricedBasket, Totals};
use comptoir_domain::shop::{Address, Permission, ShopProfile};
use comptoir_domain::{DomainError, Environment};
use comptoir_eventlog::EventLog;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::accounts::{cached_customer_account, customer_account, CustomerAccount};
use super::orders::LineInput;
use super::session_shop;
use crate::auth::Caller;
use crate::commands::{CommandError, Session};
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(price_cart))
}

/// What to do when the coupon cannot be applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CouponPolicy {
    /// Refuse the order with the coupon's problem (the default).
    #[default]
    Required,
    /// Place the order without the coupon and say why in `coupon_refused`.
    Optional,
}

/// Why a coupon was not applied: the problem code and its explanation.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CouponRefusal {
    /// A stable problem code, e.g. `coupon-exhausted`.
    pub code: String,
    pub detail: String,
}

impl From<&DomainError> for CouponRefusal {
    fn from(error: &DomainError) -> Self {
        CouponRefusal {
            code: error.code().to_string(),
            detail: error.to_string(),
        }
    }
}

/// Everything a placing decides on, parsed from the request.
pub struct Checkout {
    pub shop_id: Uuid,
    pub order_id: Uuid,
    pub customer: OrderCustomer,
    pub lines: Vec<BasketLine>,
    pub delivery_method_id: Uuid,
    pub pickup_point_id: Option<Uuid>,
    pub shipping_address: Option<Address>,
    pub coupon_code: Option<String>,
    pub coupon_policy: CouponPolicy,
    /// The coupon the code names in the shop's registry, looked up before deciding (an entry
    /// never changes once there, so reading it without a version check is safe).
    pub coupon_id: Option<Uuid>,
}

/// What placing left: the order, and why its coupon was dropped, if it was.
pub struct Placed {
    pub order: Arc<Order>,
    pub coupon_refused: Option<CouponRefusal>,
}

/// The coupon a code names in the shop, if any.
pub fn coupon_of_code(
    state: &AppState,
    shop_id: Uuid,
    code: &str,
) -> Result<Option<Uuid>, ApiError> {
    let registry = state
        .cache
        .load::<CouponCodeRegistry, _>(state.log.as_ref(), &registry_stream_id(shop_id))?;
    Ok(registry.state.coupon_for(code))
}

/// The streams a placing sequences: the pack, and the coupon when there is one.
pub fn sequenced_streams(shop_id: Uuid, coupon_id: Option<Uuid>) -> Vec<String> {
    let mut streams = vec![pack::stream_id(shop_id)];
    streams.extend(coupon_id.map(coupon::stream_id));
    streams
}

/// Decides the order (primary stream, first), its coupon use and its pack quota.
pub fn decide_placing(
    session: &mut Session<'_, EventLog>,
    checkout: &Checkout,
    env: &dyn Environment,
) -> Result<Placed, CommandError> {
    let shop_id = checkout.shop_id;
    let profile = session_shop(session, shop_id)?;
    let catalog = session.load::<Catalog>(&catalog::stream_id(shop_id))?;
    let account = customer_account(session, shop_id, &checkout.customer)?;
    let (coupon, coupon_refused) =
        coupon_to_apply(session, checkout, account, (&profile, &catalog), env)?;
    let command = OrderCommand::Place(Box::new(PlaceOrder {
        order_id: checkout.order_id,
        shop_id,
        customer: checkout.customer.clone(),
        lines: checkout.lines.clone(),
        delivery_method_id: checkout.delivery_method_id,
        pickup_point_id: checkout.pickup_point_id,
        shipping_address: checkout.shipping_address.clone(),
        catalog,
        prices_include_tax: profile.prices_include_tax,
        currency: profile.currency.clone(),
        coupon: coupon.clone(),
        email_moved_to: account.email_moved_to,
    }));
    let order_stream = order::stream_id(checkout.order_id);
    let placed_now = !session.decide::<Order>(&order_stream, &command)?.is_empty();
    let order = session.load::<Order>(&order_stream)?;
    // An order already placed by this very command consumed its coupon and quota then.
    if placed_now {
        let use_coupon = (&coupon, order.placed.as_deref(), checkout.coupon_id);
        if let (Some(apply), Some(placed), Some(coupon_id)) = use_coupon {
            let command = CouponCommand::Use(Box::new(UseCoupon {
                shop_id,
                order_id: checkout.order_id,
                code: apply.code.clone(),
                customer_key: account.account_id,
                basket: Arc::new(placed.pricing.clone()),
            }));
            session.decide::<Coupon>(&coupon::stream_id(coupon_id), &command)?;
        }
        let consume = PackCommand::ConsumeOrder {
            order_id: checkout.order_id,
        };
        session.decide::<Pack>(&pack::stream_id(shop_id), &consume)?;
    }
    Ok(Placed {
        order,
        coupon_refused,
    })
}

type CouponChoice = (Option<CouponToApply>, Option<CouponRefusal>);

/// The coupon to place the order with, after every rule of its use (per-customer limits count
/// the order's `account`); or, under the optional policy, none and why.
fn coupon_to_apply(
    session: &mut Session<'_, EventLog>,
    checkout: &Checkout,
    account: CustomerAccount,
    (profile, catalog): (&ShopProfile, &Catalog),
    env: &dyn Environment,
) -> Result<CouponChoice, CommandError> {
    let Some(code) = &checkout.coupon_code else {
        return Ok((None, None));
    };
    let refuse = |error: DomainError| match checkout.coupon_policy {
        CouponPolicy::Required => Err(CommandError::Domain(error)),
        CouponPolicy::Optional => Ok((None, Some(CouponRefusal::from(&error)))),
    };
    let Some(coupon_id) = checkout.coupon_id else {
        return refuse(unknown_code(code));
    };
    let coupon = session.load::<Coupon>(&coupon::stream_id(coupon_id))?;
    let basket = price_basket(
        catalog,
        &checkout.lines,
        checkout.delivery_method_id,
        profile.prices_include_tax,
        env.now(),
    )?;
    match coupon.preview(code, account.account_id, &basket, env.now()) {
        Ok(_) => Ok((
            Some(CouponToApply {
                coupon,
                code: code.clone(),
            }),
            None,
        )),
        Err(error) => refuse(error),
    }
}

fn unknown_code(code: &str) -> DomainError {
    DomainError::conflict(
        "coupon-code-unknown",
        format!("{} is not a coupon code of this shop", code.trim()),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CartInput {
    pub lines: Vec<LineInput>,
    pub delivery_method_id: Uuid,
    /// For store pickup, the point chosen: checked as placing the order would (its group
    /// offered now, 409 `pickup-point-unavailable`).
    #[serde(default)]
    pub pickup_point_id: Option<Uuid>,
    #[serde(default)]
    pub coupon_code: Option<String>,
    /// The customer's email, for per-customer coupon limits; without it they are not checked.
    #[serde(default)]
    pub customer_email: Option<String>,
}

/// A coupon as it would apply to the cart.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartCoupon {
    pub coupon_id: Uuid,
    pub code: String,
    #[schema(value_type = crate::dto::CouponDiscount)]
    pub discount: CouponDiscount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartPrice {
    /// The basket priced from the catalog, before any coupon.
    #[schema(value_type = crate::dto::PricedBasket)]
    pub pricing: PricedBasket,
    pub coupon: Option<CartCoupon>,
    pub coupon_refused: Option<CouponRefusal>,
    /// What the customer would pay: the basket's totals less the coupon's discount.
    #[schema(value_type = crate::dto::Totals)]
    pub totals: Totals,
}

/// Prices a cart with the order's rules (tiers, shipping, VAT per rate, the coupon with every limit
/// checked) and records nothing: what it shows is what placing the order now would charge.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/carts/price", tag = "orders",
    params(("shop_id" = Uuid, Path)),
    request_body = CartInput,
    responses((status = 200, body = CartPrice), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn price_cart(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<CartInput>,
) -> Result<super::Answer<CartPrice>, ApiError> {
    caller.authorize(shop_id, Permission::PlaceOrders)?;
    let profile = super::shop_profile(&state, shop_id)?;
    let catalog = state
        .cache
        .load::<Catalog, _>(state.log.as_ref(), &catalog::stream_id(shop_id))?
        .state;
    let lines: Vec<BasketLine> = body.lines.iter().map(LineInput::to_basket_line).collect();
    let now = state.clock.now();
    let pricing = price_basket(
        &catalog,
        &lines,
        body.delivery_method_id,
        profile.prices_include_tax,
        now,
    )?;
    if let Some(point) = body.pickup_point_id {
        catalog.check_pickup_point(point, now)?;
    }
    let (coupon, coupon_refused) = match &body.coupon_code {
        None => (None, None),
        Some(code) => match cart_coupon(&state, shop_id, code, &body, &pricing)? {
            Ok(coupon) => (Some(coupon), None),
            Err(error) => (None, Some(CouponRefusal::from(&error))),
        },
    };
    let totals = match &coupon {
        Some(coupon) => discounted_totals(&pricing, &coupon.discount),
        None => pricing.totals.clone(),
    };
    let answer = CartPrice {
        pricing,
        coupon,
        coupon_refused,
        totals,
    };
    Ok(super::Answer::ok(answer, state.log.head_position()))
}

/// The coupon as it would apply, or the rule that refuses it; `Err` only when state cannot be read.
fn cart_coupon(
    state: &AppState,
    shop_id: Uuid,
    code: &str,
    body: &CartInput,
    pricing: &PricedBasket,
) -> Result<Result<CartCoupon, DomainError>, ApiError> {
    let Some(coupon_id) = coupon_of_code(state, shop_id, code)? else {
        return Ok(Err(unknown_code(code)));
    };
    let coupon = state
        .cache
        .load::<Coupon, _>(state.log.as_ref(), &coupon::stream_id(coupon_id))?
        .state;
    let customer_key = match &body.customer_email {
        Some(email) => {
            let customer = OrderCustomer {
                customer_id: None,
                email: email.clone(),
                name: String::new(),
                billing_address: None,
            };
            cached_customer_account(state, shop_id, &customer)?.account_id
        }
        None => Uuid::nil(),
    };
    let discount = coupon.preview(code, customer_key, pricing, state.clock.now());
    Ok(discount.and_then(|discount| {
        Ok(CartCoupon {
            coupon_id,
            code: coupon::normalise_code(code)?,
            discount,
        })
    }))
}
