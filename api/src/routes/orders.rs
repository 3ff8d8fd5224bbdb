//! Orders: placing (priced by the domain from the catalog; client prices are ignored), payments,
//! the lifecycle, cancellation and returns. Every transition and the documents it causes are one
//! atomic append (see `order_flow`).

use std::sync::Arc;

use axum::extract::State;
use chrono::{DateTime, Utc};
use comptoir_domain::coupon::{self, Coupon, CouponCommand};
use comptoir_domain::order::{
    self, Order, OrderCommand, OrderCustomer, PaymentMethod, RecordPayment, ReturnLine, Settlement,
};
use comptoir_domain::order_files::{self, OrderFiles};
use comptoir_domain::pricing::BasketLine;
use comptoir_domain::shop::Permission;
use comptoir_projections::{DateRange, OrderQuery, OrderSummary};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::checkout::{
    coupon_of_code, decide_placing, sequenced_streams, Checkout, CouponPolicy, CouponRefusal,
};
use super::order_flow::{
    decide_on_order, invoice_number, sequenced_for, IssuedDocument, OrderOutcome,
};
use super::paging::PageQuery;
use super::shops::AddressDto;
use super::{run, written_position, Answer, ReadAt};
use crate::auth::Caller;
use crate::commands::{CommandError, Executed, Session};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;
use comptoir_eventlog::EventLog;

pub use super::order_flow::InvoiceNumbers;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(open_order))
        .routes(routes!(record_payment))
        .routes(routes!(mark_paid))
        .routes(routes!(start_production))
        .routes(routes!(ship_order))
        .routes(routes!(ready_for_pickup))
        .routes(routes!(deliver_order))
        .routes(routes!(cancel_order))
        .routes(routes!(return_lines))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerRef {
    /// The account (optional); must be the one of this email.
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub billing_address: Option<AddressDto>,
}

/// A line: a SKU and a quantity. Any price sent is ignored: the catalog prices the order.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LineInput {
    pub sku: String,
    pub quantity: u32,
}

impl LineInput {
    pub fn to_basket_line(&self) -> BasketLine {
        BasketLine {
            sku: self.sku.clone(),
            quantity: self.quantity,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlaceOrderInput {
    pub customer: CustomerRef,
    pub lines: Vec<LineInput>,
    pub delivery_method_id: Uuid,
    #[serde(default)]
    pub pickup_point_id: Option<Uuid>,
    #[serde(default)]
    pub shipping_address: Option<AddressDto>,
    /// A coupon code as the customer typed it (any case).
    #[serde(default)]
    pub coupon_code: Option<String>,
    /// `required` (default): a coupon that cannot be applied refuses the order with its problem;
    /// `optional`: the order is placed without it and `coupon_refused` says why.
    #[serde(default)]
    pub coupon_policy: CouponPolicy,
}

/// An order after a write: the priced snapshot, payments, credits, status and documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderReceipt {
    pub order_id: Uuid,
    pub shop_id: Uuid,
    /// placed, paid, in_production, shipped, ready_for_pickup, delivered, cancelled.
    pub status: String,
    pub is_new: bool,
    pub currency: String,
    #[schema(value_type = crate::dto::OrderCustomer)]
    pub customer: OrderCustomer,
    /// Priced lines: unit price of the tier, VAT rate, totals excl./incl. VAT.
    #[schema(value_type = crate::dto::PricedBasket)]
    pub pricing: comptoir_domain::pricing::PricedBasket,
    /// The coupon applied when placing, and what it takes off.
    #[schema(value_type = Option<crate::dto::AppliedCoupon>)]
    pub coupon: Option<comptoir_domain::order::AppliedCoupon>,
    /// What the customer owes: `pricing.totals` less the coupon's discount, VAT per rate.
    #[schema(value_type = crate::dto::Totals)]
    pub totals: comptoir_domain::pricing::Totals,
    /// Set when placing with `coupon_policy: optional` dropped the coupon: why.
    pub coupon_refused: Option<CouponRefusal>,
    #[schema(value_type = crate::dto::Money)]
    pub amount_paid: Decimal,
    #[schema(value_type = crate::dto::Money)]
    pub outstanding: Decimal,
    #[schema(value_type = Vec<crate::dto::PaymentRecord>)]
    pub payments: Vec<comptoir_domain::order::PaymentRecord>,
    #[schema(value_type = Vec<crate::dto::CreditRecord>)]
    pub credits: Vec<comptoir_domain::order::CreditRecord>,
    pub invoice_number: Option<String>,
    /// Documents this request issued (empty when the request was a replay).
    pub issued: Vec<IssuedDocument>,
    pub placed_at: DateTime<Utc>,
    pub position: u64,
}

fn receipt(
    order: &Order,
    issued: Vec<IssuedDocument>,
    invoice_number: Option<String>,
    position: u64,
) -> Result<OrderReceipt, ApiError> {
    let placed = order
        .placed
        .as_deref()
        .ok_or_else(|| ApiError::not_found("order"))?;
    let invoice_number = issued
        .iter()
        .find(|d| d.kind == "invoice")
        .map(|d| d.number.clone())
        .or(invoice_number);
    Ok(OrderReceipt {
        order_id: placed.order_id,
        shop_id: placed.shop_id,
        status: order.status.as_str().to_string(),
        is_new: order.is_new,
        currency: placed.currency.clone(),
        customer: placed.customer.clone(),
        pricing: placed.pricing.clone(),
        coupon: placed.coupon.clone(),
        totals: placed.totals(),
        coupon_refused: None,
        amount_paid: order.amount_paid,
        outstanding: order.outstanding(),
        payments: order.payments.values().cloned().collect(),
        credits: order.credits.values().cloned().collect(),
        invoice_number,
        issued,
        placed_at: placed.placed_at,
        position,
    })
}

/// Places an order, priced from the catalog (tiers, shipping, VAT per rate).
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders", tag = "orders",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = PlaceOrderInput,
    responses((status = 201, body = OrderReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn place_order(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<PlaceOrderInput>,
) -> Result<Answer<OrderReceipt>, ApiError> {
    caller.authorize(shop_id, Permission::PlaceOrders)?;
    let order_id = ids.derived_id("order");
    let coupon_id = match &body.coupon_code {
        Some(code) => coupon_of_code(&state, shop_id, code)?,
        None => None,
    };
    let checkout = Checkout {
        shop_id,
        order_id,
        customer: OrderCustomer {
            customer_id: body.customer.customer_id,
            email: body.customer.email.clone(),
            name: body.customer.name.clone(),
            billing_address: body.customer.billing_address.clone().map(Into::into),
        },
        lines: body.lines.iter().map(LineInput::to_basket_line).collect(),
        delivery_method_id: body.delivery_method_id,
        pickup_point_id: body.pickup_point_id,
        shipping_address: body.shipping_address.clone().map(Into::into),
        coupon_code: body.coupon_code.clone(),
        coupon_policy: body.coupon_policy,
        coupon_id,
    };
    let sequenced = sequenced_streams(shop_id, coupon_id);
    let clock = state.clock.clone();
    let executed = run(&state, &ids, &caller, sequenced, |session| {
        decide_placing(session, &checkout, clock.as_ref())
    })
    .await?;
    let position = written_position(&state, &executed);
    let (order, coupon_refused) = match executed {
        Executed::Applied { output, .. } => (output.order, output.coupon_refused),
        Executed::Replayed { .. } => (current_order(&state, order_id)?, None),
    };
    let location = format!("/v1/shops/{shop_id}/orders/{order_id}");
    let mut receipt = receipt(&order, Vec::new(), None, position)?;
    receipt.coupon_refused = coupon_refused;
    Ok(Answer::created(receipt, position, location))
}

fn current_order(state: &AppState, order_id: Uuid) -> Result<Arc<Order>, ApiError> {
    Ok(state
        .cache
        .load::<Order, _>(state.log.as_ref(), &order::stream_id(order_id))?
        .state)
}

/// After a cancellation: `CouponUseReleased` on the coupon the order was placed with, so the
/// use counts no more (a cancelled order must not spend a customer's or the coupon's uses).
fn release_coupon(
    session: &mut Session<'_, EventLog>,
    order: &Order,
    order_id: Uuid,
) -> Result<(), CommandError> {
    let cancelled = order.status == order::OrderStatus::Cancelled;
    if let (true, Some(applied)) = (cancelled, order.applied_coupon()) {
        let command = CouponCommand::ReleaseUse { order_id };
        session.decide::<Coupon>(&coupon::stream_id(applied.coupon_id), &command)?;
    }
    Ok(())
}

/// Runs a command on an existing order and answers with the receipt.
async fn order_command(
    state: &AppState,
    caller: &Caller,
    ids: &CommandIds,
    (shop_id, order_id): (Uuid, Uuid),
    command: OrderCommand,
) -> Result<Answer<OrderReceipt>, ApiError> {
    let crediting = matches!(
        command,
        OrderCommand::Cancel { .. } | OrderCommand::RecordReturn { .. }
    );
    let invoice = match crediting {
        true => invoice_number(state, shop_id, order_id).await?,
        false => None,
    };
    let mut sequenced = sequenced_for(shop_id, &command);
    // A cancelled order gives its coupon use back in the same append (see `release_coupon`).
    let coupon_id = match &command {
        OrderCommand::Cancel { .. } => current_order(state, order_id)?
            .applied_coupon()
            .map(|applied| applied.coupon_id),
        _ => None,
    };
    sequenced.extend(coupon_id.map(coupon::stream_id));
    let executed = run(state, ids, caller, sequenced, |session| {
        let outcome = decide_on_order(session, shop_id, order_id, &command, invoice.as_deref())?;
        release_coupon(session, &outcome.order, order_id)?;
        Ok(outcome)
    })
    .await?;
    let position = written_position(state, &executed);
    let OrderOutcome { order, issued } = match executed {
        Executed::Applied { output, .. } => output,
        Executed::Replayed { .. } => OrderOutcome {
            order: current_order(state, order_id)?,
            issued: Vec::new(),
        },
    };
    for document in issued.iter().filter(|d| d.kind == "invoice") {
        state.invoice_numbers.remember(order_id, &document.number);
    }
    let known_invoice = match (&invoice, order.status) {
        (Some(number), _) => Some(number.clone()),
        (None, order::OrderStatus::Placed) => None,
        (None, _) if issued.iter().any(|d| d.kind == "invoice") => None,
        (None, _) => invoice_number(state, shop_id, order_id).await?,
    };
    Ok(Answer::ok(
        receipt(&order, issued, known_invoice, position)?,
        position,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilters {
    /// Orders placed at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Orders placed before this instant.
    pub until: Option<DateTime<Utc>>,
    pub status: Option<String>,
    /// Case-insensitive part of the customer's email or name, the invoice number or the
    /// order id; at most 200 characters.
    pub search: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    #[schema(value_type = Vec<crate::dto::OrderSummary>)]
    pub items: Vec<OrderSummary>,
    pub next_cursor: Option<String>,
}

/// The shop's orders by placing date, with cursor paging.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/orders", tag = "orders",
    params(("shop_id" = Uuid, Path), OrderFilters, PageQuery),
    responses((status = 200, body = OrderPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<OrderFilters>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Answer<OrderPage>, ApiError> {
    caller.authorize(shop_id, Permission::ReadOrders)?;
    state.read_at(paging.min_position).await?;
    let status = query
        .status
        .as_deref()
        .map(|s| serde_json::from_value(serde_json::Value::String(s.to_string())))
        .transpose()
        .map_err(|_| ApiError::invalid("unknown status"))?;
    let filter = OrderQuery {
        placed: DateRange {
            from: query.from,
            until: query.until,
        },
        status,
        search: query.search,
    };
    let found = state.projections.orders(shop_id, &filter, &paging.page())?;
    let body = OrderPage {
        items: found.items,
        next_cursor: found.next_cursor,
    };
    Ok(Answer::ok(body, state.projections.position()))
}

/// An order in full (read model): lines, totals per VAT rate, payments, credits, documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderViewDto {
    #[serde(flatten)]
    #[schema(value_type = crate::dto::Order)]
    pub order: comptoir_projections::OrderView,
    /// Names of the order's files, in name order (what the printer bridge prints).
    pub files: Vec<String>,
}

/// One order, as the read models hold it.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/orders/{order_id}", tag = "orders",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path), ReadAt),
    responses((status = 200, body = OrderViewDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, order_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<OrderViewDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadOrders)?;
    state.read_at(read_at.min_position).await?;
    let order = state
        .projections
        .order(shop_id, order_id)?
        .ok_or_else(|| ApiError::not_found("order"))?;
    // Files are read from the hot state: an upload is visible as soon as it is acknowledged.
    let files = state
        .cache
        .load::<OrderFiles, _>(state.log.as_ref(), &order_files::stream_id(order_id))?
        .state
        .files
        .keys()
        .cloned()
        .collect();
    let body = OrderViewDto { order, files };
    Ok(Answer::ok(body, state.projections.position()))
}

/// A staff user opened the order: it is no longer flagged new.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/open", tag = "orders",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path)),
    responses((status = 200, body = OrderReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn open_order(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<OrderReceipt>, ApiError> {
    caller.authorize(path.0, Permission::ManageOrders)?;
    let command = OrderCommand::Open {
        opened_by: caller.actor(),
    };
    order_command(&state, &caller, &ids, path, command).await
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethodDto {
    Cash,
    Card,
    Paypal,
    Cheque,
    BankTransfer,
    /// The customer's store credit (from credit notes).
    StoreCredit,
}

impl From<PaymentMethodDto> for PaymentMethod {
    fn from(method: PaymentMethodDto) -> Self {
        match method {
            PaymentMethodDto::Cash => PaymentMethod::Cash,
            PaymentMethodDto::Card => PaymentMethod::Card,
            PaymentMethodDto::Paypal => PaymentMethod::Paypal,
            PaymentMethodDto::Cheque => PaymentMethod::Cheque,
            PaymentMethodDto::BankTransfer => PaymentMethod::BankTransfer,
            PaymentMethodDto::StoreCredit => PaymentMethod::StoreCredit,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentInput {
    pub method: PaymentMethodDto,
    #[schema(value_type = crate::dto::Money)]
    pub amount: Decimal,
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// The provider's id: a repeated notification with it is recorded once.
    #[serde(default)]
    pub external_payment_id: Option<String>,
}

/// Records a payment; the payment completing the total issues the invoice in the same append.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/payments", tag = "orders",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = PaymentInput,
    responses((status = 200, body = OrderReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn record_payment(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<PaymentInput>,
) -> Result<Answer<OrderReceipt>, ApiError> {
    caller.authorize(path.0, Permission::RecordPayments)?;
    let command = OrderCommand::RecordPayment(RecordPayment {
        payment_id: ids.derived_id("payment"),
        method: body.method.into(),
        amount: body.amount,
        transaction_id: body.transaction_id,
        external_payment_id: body.external_payment_id,
        recorded_by: caller.actor(),
    });
    order_command(&state, &caller, &ids, path, command).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MarkPaidInput {
    pub method: PaymentMethodDto,
    /// The operator at the counter; defaults to the API key.
    #[serde(default)]
    pub operator: Option<String>,
}

/// Marks the order paid at the counter (whole balance), recording the operator.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/mark-paid", tag = "orders",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = MarkPaidInput,
    responses((status = 200, body = OrderReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn mark_paid(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<MarkPaidInput>,
) -> Result<Answer<OrderReceipt>, ApiError> {
    caller.authorize(path.0, Permission::MarkPaid)?;
    let command = OrderCommand::MarkPaid {
        payment_id: ids.derived_id("payment"),
        method: body.method.into(),
        operator: body.operator.unwrap_or_else(|| caller.actor()),
    };
    order_command(&state, &caller, &ids, path, command).await
}

/// Starts production of a paid order.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/production", tag = "orders",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path)),
    responses((status = 200, body = OrderReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn start_production(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<OrderReceipt>, ApiError> {
    caller.authorize(path.0, Permission::ManageOrders)?;
    let command = OrderCommand::StartProduction {
        started_by: caller.actor(),
    };
    order_command(&state, &caller, &ids, path, command).await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ShipInput {
    #[serde(default)]
    pub tracking_number: Option<String>,
}

/// Ships a home-delivery order; issues its delivery slip in the same append.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/ship", tag = "orders",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ShipInput,
    responses((status = 200, body = OrderReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn ship_order(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<ShipInput>,
) -> Result<Answer<OrderReceipt>, ApiError> {
    caller.authorize(path.0, Permission::ManageOrders)?;
    let command = OrderCommand::Ship {
        shipped_by: caller.actor(),
        tracking_number: body.tracking_number,
    };
    order_command(&state, &caller, &ids, path, command).await
}

/// Marks a store-pickup order ready; issues its delivery slip in the same append.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/ready-for-pickup", tag = "orders",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path)),
    responses((status = 200, body = OrderReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn ready_for_pickup(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<OrderReceipt>, ApiError> {
    caller.authorize(path.0, Permission::ManageOrders)?;
    let command = OrderCommand::MarkReadyForPickup {
        marked_by: caller.actor(),
    };
    order_command(&state, &caller, &ids, path, command).await
}

/// Marks a shipped (or ready) order delivered.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/deliver", tag = "orders",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path)),
    responses((status = 200, body = OrderReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn deliver_order(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<OrderReceipt>, ApiError> {
    caller.authorize(path.0, Permission::ManageOrders)?;
    let command = OrderCommand::Deliver {
        delivered_by: caller.actor(),
    };
    order_command(&state, &caller, &ids, path, command).await
}

/// How a credit is settled: `{"type":"refund","method":"card"}` or `{"type":"store_credit"}`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SettlementDto {
    Refund { method: PaymentMethodDto },
    StoreCredit,
}

impl From<SettlementDto> for Settlement {
    fn from(settlement: SettlementDto) -> Self {
        match settlement {
            SettlementDto::Refund { method } => Settlement::Refund {
                method: method.into(),
            },
            SettlementDto::StoreCredit => Settlement::StoreCredit,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelInput {
    pub reason: String,
    /// Required for a paid order: how its credit note is settled.
    #[serde(default)]
    pub settlement: Option<SettlementDto>,
}

/// Cancels a placed or paid order; a paid one is credited in full by a credit note.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/cancel", tag = "orders",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CancelInput,
    responses((status = 200, body = OrderReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn cancel_order(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<CancelInput>,
) -> Result<Answer<OrderReceipt>, ApiError> {
    caller.authorize(path.0, Permission::ManageOrders)?;
    if body.settlement.is_some() {
        // Settling means issuing a credit note.
        caller.authorize(path.0, Permission::IssueCreditNotes)?;
    }
    let command = OrderCommand::Cancel {
        cancelled_by: caller.actor(),
        reason: body.reason,
        settlement: body.settlement.map(Into::into),
    };
    order_command(&state, &caller, &ids, path, command).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReturnLineInput {
    pub line_number: u32,
    pub quantity: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReturnInput {
    pub lines: Vec<ReturnLineInput>,
    #[serde(default)]
    pub refund_shipping: bool,
    pub settlement: SettlementDto,
}

/// Records returned lines of a shipped or delivered order; issues the credit note (and store
/// credit when settled so) in the same append.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/returns", tag = "orders",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ReturnInput,
    responses((status = 201, body = OrderReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn return_lines(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<ReturnInput>,
) -> Result<Answer<OrderReceipt>, ApiError> {
    caller.authorize(path.0, Permission::IssueCreditNotes)?;
    let command = OrderCommand::RecordReturn {
        credit_id: ids.derived_id("credit"),
        lines: body
            .lines
            .iter()
            .map(|l| ReturnLine {
                line_number: l.line_number,
                quantity: l.quantity,
            })
            .collect(),
        refund_shipping: body.refund_shipping,
        settlement: body.settlement.into(),
        credited_by: caller.actor(),
    };
    let mut answer = order_command(&state, &caller, &ids, path, command).await?;
    answer.status = axum::http::StatusCode::CREATED;
    Ok(answer)
}
