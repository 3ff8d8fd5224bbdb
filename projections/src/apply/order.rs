//! Orders: the full view by id, and the summary row of the list by placing date.

use crate::error::ProjectionResult;
use crate::keys::{customer_orders_prefix, id_key, instant_id_suffix, Table};
use crate::store::{StoredOrder, WriteSet};
use crate::views::OrderView;
use comptoir_domain::order::{LineKind, OrderEvent, OrderStatus, PlacedOrder};
use comptoir_eventlog::{Position, RecordedEvent};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use uuid::Uuid;

pub(crate) fn apply(
    writes: &mut WriteSet,
    recorded: &RecordedEvent,
    event: &OrderEvent,
) -> ProjectionResult<()> {
    if let OrderEvent::OrderPlaced(placed) = event {
        let view = placed_view(recorded, placed);
        // Email and placing date never change, so the index row is written once.
        let mut index_key = customer_orders_prefix(view.shop_id, &view.customer.email);
        index_key.extend_from_slice(&instant_id_suffix(view.placed_at, view.order_id));
        writes.put(index_key, &view.order_id)?;
        let order_key = id_key(Table::Order, view.shop_id, view.order_id);
        writes.put_order(
            order_key,
            StoredOrder {
                view,
                loyalty: None,
            },
        );
        return Ok(());
    }
    let (shop_id, order_id) = order_ids(event);
    update_order(writes, shop_id, order_id, recorded.position, |view| {
        view.version = recorded.stream_version;
        evolve(view, event);
    })
}

/// Loads an order, changes it and keeps it for the commit; an unknown order is logged and
/// left alone (the domain never emits events for an order it did not place).
pub(crate) fn update_order(
    writes: &mut WriteSet,
    shop_id: Uuid,
    order_id: Uuid,
    position: Position,
    change: impl FnOnce(&mut OrderView),
) -> ProjectionResult<()> {
    let order_key = id_key(Table::Order, shop_id, order_id);
    let Some(mut order) = writes.take_order(&order_key)? else {
        tracing::warn!(%shop_id, %order_id, position, "event of an unknown order ignored");
        return Ok(());
    };
    change(&mut order.view);
    order.view.last_position = position;
    writes.put_order(order_key, order);
    Ok(())
}

fn placed_view(recorded: &RecordedEvent, placed: &PlacedOrder) -> OrderView {
    OrderView {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        status: OrderStatus::Placed,
        is_new: true,
        customer: placed.customer.clone(),
        currency: placed.currency.clone(),
        prices_include_tax: placed.pricing.prices_include_tax,
        lines: placed.pricing.lines.clone(),
        shipping: placed.pricing.shipping.clone(),
        totals: placed.totals(),
        total_weight_g: placed.pricing.total_weight_g,
        pickup_point_id: placed.pickup_point_id,
        shipping_address: placed.shipping_address.clone(),
        amount_paid: Decimal::ZERO,
        payments: Vec::new(),
        credited_quantities: BTreeMap::new(),
        shipping_credited: false,
        credits: Vec::new(),
        refund_due: Decimal::ZERO,
        refunds: Vec::new(),
        tracking_number: None,
        cancel_reason: None,
        invoice_number: None,
        delivery_slip_numbers: Vec::new(),
        credit_note_numbers: Vec::new(),
        placed_at: placed.placed_at,
        opened_at: None,
        paid_at: None,
        production_started_at: None,
        shipped_at: None,
        ready_for_pickup_at: None,
        delivered_at: None,
        cancelled_at: None,
        version: recorded.stream_version,
        last_position: recorded.position,
        print_jobs: Vec::new(),
    }
}

fn order_ids(event: &OrderEvent) -> (Uuid, Uuid) {
    match event {
        OrderEvent::OrderPlaced(placed) => (placed.shop_id, placed.order_id),
        OrderEvent::OrderOpened {
            shop_id, order_id, ..
        }
        | OrderEvent::PaymentRecorded {
            shop_id, order_id, ..
        }
        | OrderEvent::OrderPaid {
            shop_id, order_id, ..
        }
        | OrderEvent::ProductionStarted {
            shop_id, order_id, ..
        }
        | OrderEvent::OrderShipped {
            shop_id, order_id, ..
        }
        | OrderEvent::OrderReadyForPickup {
            shop_id, order_id, ..
        }
        | OrderEvent::OrderDelivered {
            shop_id, order_id, ..
        }
        | OrderEvent::OrderCredited {
            shop_id, order_id, ..
        }
        | OrderEvent::OrderCancelled {
            shop_id, order_id, ..
        } => (*shop_id, *order_id),
        OrderEvent::PrintJobSubmitted(record)
        | OrderEvent::PrintJobCompleted(record)
        | OrderEvent::PrintJobFailed(record) => (record.shop_id, record.order_id),
        OrderEvent::PrintJobReprintRequested(reprint) => (reprint.shop_id, reprint.order_id),
    }
}

/// The view's side of the domain's `evolve`: same transitions, plus the timestamps to show.
fn evolve(view: &mut OrderView, event: &OrderEvent) {
    match event {
        OrderEvent::OrderPlaced(_) => {}
        OrderEvent::OrderOpened { opened_at, .. } => {
            view.is_new = false;
            view.opened_at = Some(*opened_at);
        }
        OrderEvent::PaymentRecorded { payment, .. } => {
            view.amount_paid += payment.amount;
            view.payments.push(payment.clone());
        }
        OrderEvent::OrderPaid { paid_at, .. } => {
            view.status = OrderStatus::Paid;
            view.paid_at = Some(*paid_at);
        }
        OrderEvent::ProductionStarted { started_at, .. } => {
            view.status = OrderStatus::InProduction;
            view.production_started_at = Some(*started_at);
        }
        OrderEvent::OrderShipped {
            tracking_number,
            shipped_at,
            ..
        } => {
            view.status = OrderStatus::Shipped;
            view.tracking_number = tracking_number.clone();
            view.shipped_at = Some(*shipped_at);
        }
        OrderEvent::OrderReadyForPickup { ready_at, .. } => {
            view.status = OrderStatus::ReadyForPickup;
            view.ready_for_pickup_at = Some(*ready_at);
        }
        OrderEvent::OrderDelivered { delivered_at, .. } => {
            view.status = OrderStatus::Delivered;
            view.delivered_at = Some(*delivered_at);
        }
        OrderEvent::OrderCredited { credit, .. } => {
            for line in credit.lines.iter().filter(|l| l.kind == LineKind::Product) {
                *view
                    .credited_quantities
                    .entry(line.line_number)
                    .or_insert(0) += line.quantity;
            }
            if credit.lines.iter().any(|l| l.kind == LineKind::Shipping) {
                view.shipping_credited = true;
            }
            view.credits.push(credit.clone());
        }
        OrderEvent::OrderCancelled {
            reason,
            refund_due,
            refunds,
            cancelled_at,
            ..
        } => {
            view.status = OrderStatus::Cancelled;
            view.cancel_reason = Some(reason.clone());
            view.refund_due = *refund_due;
            view.refunds = refunds.clone();
            view.cancelled_at = Some(*cancelled_at);
        }
        OrderEvent::PrintJobSubmitted(_)
        | OrderEvent::PrintJobCompleted(_)
        | OrderEvent::PrintJobFailed(_)
        | OrderEvent::PrintJobReprintRequested(_) => super::print_jobs::apply(view, event),
    }
}
