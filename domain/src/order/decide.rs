//! The rules of an order, one function per command.

use super::credit::{credit_record, CreditRequest};
use super::{
    AppliedCoupon, CouponToApply, CreditReason, Order, OrderCommand, OrderEvent, OrderStatus,
    PaymentMethod, PaymentRecord, PlaceOrder, PlacedOrder, RecordPayment, ReturnLine, Settlement,
};
use crate::catalog::DeliveryKind;
use crate::coupon::normalise_code;
use crate::customer::normalise_email;
use crate::limits::{
    CREDITS_PER_ORDER_MAX, NAME_CHARS_MAX, PAYMENTS_PER_ORDER_MAX, REFERENCE_CHARS_MAX,
    TEXT_CHARS_MAX,
};
use crate::money::validate_amount;
use crate::pricing::{price_basket, PricedBasket};
use crate::shop::validate_currency;
use crate::text::{validate_optional_text, validate_text};
use crate::DomainError;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use uuid::Uuid;

type Decision = Result<Vec<OrderEvent>, DomainError>;

pub(super) fn decide(order: &Order, command: &OrderCommand, now: DateTime<Utc>) -> Decision {
    match command {
        OrderCommand::Place(place) => decide_place(order, place, now),
        OrderCommand::Open { opened_by } => decide_open(order, opened_by, now),
        OrderCommand::RecordPayment(payment) => decide_payment(order, payment, now),
        OrderCommand::MarkPaid {
            payment_id,
            method,
            operator,
        } => decide_mark_paid(order, *payment_id, *method, operator, now),
        OrderCommand::StartProduction { started_by } => {
            decide_start_production(order, started_by, now)
        }
        OrderCommand::Ship {
            shipped_by,
            tracking_number,
        } => decide_ship(order, shipped_by, tracking_number.as_deref(), now),
        OrderCommand::MarkReadyForPickup { marked_by } => {
            decide_ready_for_pickup(order, marked_by, now)
        }
        OrderCommand::Deliver { delivered_by } => decide_deliver(order, delivered_by, now),
        OrderCommand::Cancel {
            cancelled_by,
            reason,
            settlement,
        } => decide_cancel(order, cancelled_by, reason, *settlement, now),
        OrderCommand::RecordReturn {
            credit_id,
            lines,
            refund_shipping,
            settlement,
            credited_by,
        } => {
            let request = CreditRequest {
                credit_id: *credit_id,
                reason: CreditReason::Return,
                returns: lines,
                include_shipping: *refund_shipping,
                settlement: *settlement,
                credited_by,
                credited_at: now,
            };
            decide_return(order, &request)
        }
        OrderCommand::ReportPrintJob(report) => {
            super::print_jobs::decide_report(order, report, now)
        }
        OrderCommand::RequestReprint {
            job_id,
            new_job_id,
            requested_by,
        } => super::print_jobs::decide_reprint(order, *job_id, *new_job_id, requested_by, now),
    }
}

/// The placed order if its status is one of `allowed`; otherwise why `action` is refused.
fn require_status<'a>(
    order: &'a Order,
    allowed: &[OrderStatus],
    action: &'static str,
) -> Result<&'a PlacedOrder, DomainError> {
    let placed = order.placed_or_not_found()?;
    if !allowed.contains(&order.status) {
        return Err(DomainError::InvalidTransition {
            from: order.status.as_str(),
            action,
        });
    }
    Ok(placed)
}

fn validate_actor(field: &str, actor: &str) -> Result<(), DomainError> {
    validate_text(field, actor, REFERENCE_CHARS_MAX)
}

fn decide_place(order: &Order, place: &PlaceOrder, now: DateTime<Utc>) -> Decision {
    if let Some(existing) = &order.placed {
        return if is_same_placement(existing, place) {
            Ok(vec![])
        } else {
            Err(DomainError::already_exists("order", place.order_id))
        };
    }
    if place.catalog.shop_id.is_some_and(|id| id != place.shop_id) {
        return Err(DomainError::conflict(
            "shop-mismatch",
            "the catalog belongs to another shop",
        ));
    }
    validate_currency(&place.currency)?;
    let customer = validated_customer(place)?;
    let pricing = price_basket(
        &place.catalog,
        &place.lines,
        place.delivery_method_id,
        place.prices_include_tax,
        now,
    )?;
    validate_delivery(place, pricing.shipping.kind, now)?;
    let coupon = match &place.coupon {
        Some(apply) => Some(applied_coupon(place.shop_id, apply, &pricing, now)?),
        None => None,
    };
    Ok(vec![OrderEvent::OrderPlaced(Box::new(PlacedOrder {
        shop_id: place.shop_id,
        order_id: place.order_id,
        customer,
        currency: place.currency.clone(),
        pickup_point_id: place.pickup_point_id,
        shipping_address: place.shipping_address.clone(),
        pricing,
        placed_at: now,
        coupon,
    }))])
}

/// The coupon's discount on the basket this order has just priced, by the coupon's terms. It is
/// computed here, never taken from the caller, for the reason prices are: a caller could otherwise
/// hand the order any discount, or one computed on another basket.
fn applied_coupon(
    shop_id: Uuid,
    apply: &CouponToApply,
    pricing: &PricedBasket,
    now: DateTime<Utc>,
) -> Result<AppliedCoupon, DomainError> {
    let coupon = &apply.coupon;
    let coupon_id = coupon
        .coupon_id
        .ok_or_else(|| DomainError::not_found("coupon", "this coupon"))?;
    if coupon.shop_id != Some(shop_id) {
        return Err(DomainError::conflict(
            "shop-mismatch",
            "the coupon belongs to another shop",
        ));
    }
    let code = normalise_code(&apply.code)?;
    let discount = coupon.discount_by_terms(&code, pricing, now)?;
    Ok(AppliedCoupon {
        coupon_id,
        code,
        discount,
    })
}

/// A retried placement: same customer, delivery, lines (SKUs compared as the catalog does) and
/// coupon code.
fn is_same_placement(existing: &PlacedOrder, place: &PlaceOrder) -> bool {
    let lines = &existing.pricing.lines;
    let same_lines = lines.len() == place.lines.len()
        && lines.iter().zip(&place.lines).all(|(a, b)| {
            crate::catalog::sku_key(&a.sku) == crate::catalog::sku_key(&b.sku)
                && a.quantity == b.quantity
        });
    let same_email =
        normalise_email(&place.customer.email).is_ok_and(|e| e == existing.customer.email);
    let same_coupon = match (&existing.coupon, &place.coupon) {
        (None, None) => true,
        (Some(applied), Some(apply)) => {
            apply.coupon.coupon_id == Some(applied.coupon_id)
                && normalise_code(&apply.code).is_ok_and(|code| code == applied.code)
        }
        _ => false,
    };
    same_lines
        && same_email
        && same_coupon
        && existing.shop_id == place.shop_id
        && existing.pricing.shipping.delivery_method_id == place.delivery_method_id
}

fn validated_customer(place: &PlaceOrder) -> Result<super::OrderCustomer, DomainError> {
    let mut customer = place.customer.clone();
    customer.email = normalise_email(&customer.email)?;
    // Accounts are keyed by email: an account id that is not this email's is a mix-up.
    crate::coupon::customer_key(place.shop_id, &customer, place.email_moved_to)?;
    validate_text("customer.name", &customer.name, NAME_CHARS_MAX)?;
    if let Some(address) = &customer.billing_address {
        address.validate("customer.billing_address")?;
    }
    Ok(customer)
}

fn validate_delivery(
    place: &PlaceOrder,
    kind: DeliveryKind,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    match kind {
        DeliveryKind::HomeDelivery => {
            let address = place.shipping_address.as_ref().ok_or_else(|| {
                DomainError::validation("shipping_address", "required for home delivery")
            })?;
            address.validate("shipping_address")?;
            if place.pickup_point_id.is_some() {
                return Err(DomainError::validation(
                    "pickup_point_id",
                    "only for store pickup",
                ));
            }
        }
        DeliveryKind::StorePickup => {
            if place.shipping_address.is_some() {
                return Err(DomainError::validation(
                    "shipping_address",
                    "not used for store pickup",
                ));
            }
            if let Some(point) = place.pickup_point_id {
                place.catalog.check_pickup_point(point, now)?;
            }
        }
    }
    Ok(())
}

fn decide_open(order: &Order, opened_by: &str, now: DateTime<Utc>) -> Decision {
    let placed = order.placed_or_not_found()?;
    validate_actor("opened_by", opened_by)?;
    if !order.is_new {
        return Ok(vec![]);
    }
    Ok(vec![OrderEvent::OrderOpened {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        opened_by: opened_by.to_owned(),
        opened_at: now,
    }])
}

fn decide_payment(order: &Order, payment: &RecordPayment, now: DateTime<Utc>) -> Decision {
    let placed = order.placed_or_not_found()?;
    if let Some(existing) = order.payments.get(&payment.payment_id) {
        let same = existing.method == payment.method
            && existing.amount == payment.amount
            && existing.external_payment_id == payment.external_payment_id;
        return if same {
            Ok(vec![])
        } else {
            Err(DomainError::already_exists("payment", payment.payment_id))
        };
    }
    if let Some(external) = &payment.external_payment_id {
        // Providers repeat notifications: the same external payment is recorded once.
        if order.external_payment_ids.contains(external) {
            return Ok(vec![]);
        }
    }
    require_status(order, &[OrderStatus::Placed], "record a payment for")?;
    validate_amount("amount", payment.amount, false)?;
    validate_optional_text(
        "transaction_id",
        payment.transaction_id.as_deref(),
        REFERENCE_CHARS_MAX,
    )?;
    validate_optional_text(
        "external_payment_id",
        payment.external_payment_id.as_deref(),
        REFERENCE_CHARS_MAX,
    )?;
    validate_actor("recorded_by", &payment.recorded_by)?;
    if payment.amount > order.outstanding() {
        return Err(DomainError::conflict(
            "payment-exceeds-balance",
            format!(
                "the payment {} exceeds the balance {}",
                payment.amount,
                order.outstanding()
            ),
        ));
    }
    if order.payments.len() >= PAYMENTS_PER_ORDER_MAX {
        return Err(DomainError::LimitExceeded {
            what: "payments per order",
            limit: PAYMENTS_PER_ORDER_MAX as u64,
        });
    }
    let record = PaymentRecord {
        payment_id: payment.payment_id,
        method: payment.method,
        amount: payment.amount,
        transaction_id: payment.transaction_id.clone(),
        external_payment_id: payment.external_payment_id.clone(),
        recorded_by: payment.recorded_by.clone(),
        recorded_at: now,
    };
    Ok(payment_events(order, placed, record))
}

/// The payment, and `OrderPaid` when it completes the total.
fn payment_events(order: &Order, placed: &PlacedOrder, record: PaymentRecord) -> Vec<OrderEvent> {
    let amount_paid = order.amount_paid + record.amount;
    let paid_at = record.recorded_at;
    let mut events = vec![OrderEvent::PaymentRecorded {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        payment: record,
    }];
    if amount_paid == order.total_incl_vat() {
        events.push(OrderEvent::OrderPaid {
            shop_id: placed.shop_id,
            order_id: placed.order_id,
            amount_paid,
            paid_at,
        });
    }
    events
}

fn decide_mark_paid(
    order: &Order,
    payment_id: Uuid,
    method: PaymentMethod,
    operator: &str,
    now: DateTime<Utc>,
) -> Decision {
    let placed = order.placed_or_not_found()?;
    if let Some(existing) = order.payments.get(&payment_id) {
        let same = existing.method == method && existing.recorded_by == operator;
        return if same {
            Ok(vec![])
        } else {
            Err(DomainError::already_exists("payment", payment_id))
        };
    }
    require_status(order, &[OrderStatus::Placed], "mark paid")?;
    validate_actor("operator", operator)?;
    let record = PaymentRecord {
        payment_id,
        method,
        amount: order.outstanding(),
        transaction_id: None,
        external_payment_id: None,
        recorded_by: operator.to_owned(),
        recorded_at: now,
    };
    Ok(payment_events(order, placed, record))
}

fn decide_start_production(order: &Order, started_by: &str, now: DateTime<Utc>) -> Decision {
    let placed = require_status(order, &[OrderStatus::Paid], "start production of")?;
    validate_actor("started_by", started_by)?;
    Ok(vec![OrderEvent::ProductionStarted {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        started_by: started_by.to_owned(),
        started_at: now,
    }])
}

fn require_delivery_kind(
    placed: &PlacedOrder,
    kind: DeliveryKind,
    message: &str,
) -> Result<(), DomainError> {
    if placed.pricing.shipping.kind != kind {
        return Err(DomainError::conflict("delivery-kind-mismatch", message));
    }
    Ok(())
}

fn decide_ship(
    order: &Order,
    shipped_by: &str,
    tracking_number: Option<&str>,
    now: DateTime<Utc>,
) -> Decision {
    let placed = require_status(
        order,
        &[OrderStatus::Paid, OrderStatus::InProduction],
        "ship",
    )?;
    require_delivery_kind(
        placed,
        DeliveryKind::HomeDelivery,
        "a store-pickup order is made ready for pickup, not shipped",
    )?;
    validate_actor("shipped_by", shipped_by)?;
    validate_optional_text("tracking_number", tracking_number, REFERENCE_CHARS_MAX)?;
    Ok(vec![OrderEvent::OrderShipped {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        shipped_by: shipped_by.to_owned(),
        tracking_number: tracking_number.map(str::to_owned),
        shipped_at: now,
    }])
}

fn decide_ready_for_pickup(order: &Order, marked_by: &str, now: DateTime<Utc>) -> Decision {
    let placed = require_status(
        order,
        &[OrderStatus::Paid, OrderStatus::InProduction],
        "mark ready for pickup",
    )?;
    require_delivery_kind(
        placed,
        DeliveryKind::StorePickup,
        "a home-delivery order is shipped, not picked up",
    )?;
    validate_actor("marked_by", marked_by)?;
    Ok(vec![OrderEvent::OrderReadyForPickup {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        marked_by: marked_by.to_owned(),
        ready_at: now,
    }])
}

fn decide_deliver(order: &Order, delivered_by: &str, now: DateTime<Utc>) -> Decision {
    let placed = require_status(
        order,
        &[OrderStatus::Shipped, OrderStatus::ReadyForPickup],
        "deliver",
    )?;
    validate_actor("delivered_by", delivered_by)?;
    Ok(vec![OrderEvent::OrderDelivered {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        delivered_by: delivered_by.to_owned(),
        delivered_at: now,
    }])
}

fn decide_cancel(
    order: &Order,
    cancelled_by: &str,
    reason: &str,
    settlement: Option<Settlement>,
    now: DateTime<Utc>,
) -> Decision {
    order.placed_or_not_found()?;
    if order.status == OrderStatus::Cancelled {
        return Ok(vec![]);
    }
    let placed = require_status(order, &[OrderStatus::Placed, OrderStatus::Paid], "cancel")?;
    validate_actor("cancelled_by", cancelled_by)?;
    validate_text("reason", reason, TEXT_CHARS_MAX)?;
    let cancelled = OrderEvent::OrderCancelled {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        cancelled_by: cancelled_by.to_owned(),
        reason: reason.to_owned(),
        // A paid order is settled by its credit note; a partly paid one has no invoice to credit.
        refund_due: if order.status == OrderStatus::Paid {
            rust_decimal::Decimal::ZERO
        } else {
            order.amount_paid
        },
        // Given back the way it came in, so the books credit the cash drawer for the cash part
        // and the bank for the rest, and the day's closure counts each method's refund.
        refunds: if order.status == OrderStatus::Paid {
            Vec::new()
        } else {
            order.paid_by_method()
        },
        cancelled_at: now,
    };
    if order.status == OrderStatus::Placed {
        return Ok(vec![cancelled]);
    }
    let settlement = settlement
        .ok_or_else(|| DomainError::validation("settlement", "required to cancel a paid order"))?;
    let returns: Vec<ReturnLine> = placed
        .pricing
        .lines
        .iter()
        .map(|l| ReturnLine {
            line_number: l.line_number,
            quantity: order.returnable_quantity(l.line_number),
        })
        .filter(|r| r.quantity > 0)
        .collect();
    let request = CreditRequest {
        // Derived, so a retried cancellation credits under the same id.
        credit_id: Uuid::new_v5(&placed.order_id, b"cancellation"),
        reason: CreditReason::Cancellation,
        returns: &returns,
        include_shipping: !order.shipping_credited,
        settlement,
        credited_by: cancelled_by,
        credited_at: now,
    };
    let credit = credit_record(order, placed, &request);
    Ok(vec![
        OrderEvent::OrderCredited {
            shop_id: placed.shop_id,
            order_id: placed.order_id,
            credit,
        },
        cancelled,
    ])
}

fn decide_return(order: &Order, request: &CreditRequest<'_>) -> Decision {
    let placed = order.placed_or_not_found()?;
    if let Some(existing) = order.credits.get(&request.credit_id) {
        let same = existing.settlement == request.settlement && existing.reason == request.reason;
        return if same {
            Ok(vec![])
        } else {
            Err(DomainError::already_exists("credit", request.credit_id))
        };
    }
    require_status(
        order,
        &[OrderStatus::Shipped, OrderStatus::Delivered],
        "return lines of",
    )?;
    validate_actor("credited_by", request.credited_by)?;
    validate_return_lines(order, request.returns)?;
    if request.include_shipping && order.shipping_credited {
        return Err(DomainError::conflict(
            "shipping-already-credited",
            "the shipping of this order was already credited",
        ));
    }
    if order.credits.len() >= CREDITS_PER_ORDER_MAX {
        return Err(DomainError::LimitExceeded {
            what: "credits per order",
            limit: CREDITS_PER_ORDER_MAX as u64,
        });
    }
    let credit = credit_record(order, placed, request);
    Ok(vec![OrderEvent::OrderCredited {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        credit,
    }])
}

/// At least one line, each once, each an existing line, each quantity within what is still uncredited.
fn validate_return_lines(order: &Order, returns: &[ReturnLine]) -> Result<(), DomainError> {
    if returns.is_empty() {
        return Err(DomainError::validation(
            "lines",
            "at least one returned line",
        ));
    }
    let mut seen = BTreeSet::new();
    let lines = order
        .placed
        .as_ref()
        .map(|p| p.pricing.lines.as_slice())
        .unwrap_or(&[]);
    for (index, ret) in returns.iter().enumerate() {
        if !seen.insert(ret.line_number) {
            return Err(DomainError::validation(
                format!("lines[{index}].line_number"),
                "appears twice",
            ));
        }
        if !lines.iter().any(|l| l.line_number == ret.line_number) {
            return Err(DomainError::not_found("order line", ret.line_number));
        }
        if ret.quantity == 0 {
            return Err(DomainError::validation(
                format!("lines[{index}].quantity"),
                "must be at least 1",
            ));
        }
        let returnable = order.returnable_quantity(ret.line_number);
        if ret.quantity > returnable {
            return Err(DomainError::QuantityExceedsReturnable {
                line_number: ret.line_number,
                requested: ret.quantity,
                returnable,
            });
        }
    }
    Ok(())
}
