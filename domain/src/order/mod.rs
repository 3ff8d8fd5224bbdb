//! Orders: placing (priced from the catalog), the NEW flag, payments, the lifecycle, returns and
//! cancellation.
//!
//! One stream per order (`order-{order_id}`). Placing receives the catalog itself (shared through
//! an `Arc`) and prices the basket in `decide` with [`crate::pricing::price_basket`]: the rule "an
//! order is priced from the catalog at the moment it is placed" then lives in one tested place, and
//! no caller can hand the order a price. The resulting snapshot is stored in `OrderPlaced`, so
//! later catalog changes never alter a placed order.
//!
//! A coupon is applied the same way: placing receives the coupon's state and the code typed, and
//! `decide` computes the discount from the coupon's scope on the basket it has just priced
//! ([`crate::coupon::Coupon::discount_by_terms`]), after checking the code, the validity window and
//! the minimum amount. No discount is an input. Usage limits are the coupon stream's to count: the
//! glue decides `CouponCommand::Use` on this order's `pricing` in the same atomic append, which gives
//! the same discount by construction (same scope, same basket). The order's totals are then
//! [`PlacedOrder::totals`]: the discounted totals, which payments must cover.
//!
//! Lifecycle: placed → paid → in production → shipped (home delivery) or ready for pickup (store
//! pickup) → delivered. A paid order may skip production. Cancelling is possible from placed or
//! paid; cancelling a paid order credits everything (and the glue issues the credit note).

#[cfg(test)]
mod coupon_tests;
mod credit;
mod decide;
#[cfg(test)]
mod print_job_tests;
mod print_jobs;
#[cfg(test)]
mod tests;
mod types;

pub use credit::{document_allowances, document_lines};
pub use print_jobs::{PrintJob, PrintJobRecord, PrintJobReport, PrintJobStatus, ReprintRecord};
pub use types::{
    AppliedCoupon, CreditReason, CreditRecord, DocumentAllowance, DocumentLine, LineKind,
    MethodRefund, OrderCustomer, OrderStatus, PaymentMethod, PaymentRecord, PlacedOrder,
    ReturnLine, Settlement,
};

use crate::catalog::Catalog;
use crate::coupon::Coupon;
use crate::pricing::{BasketLine, Totals};
use crate::shop::Address;
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use uuid::Uuid;

/// Stream of one order.
pub fn stream_id(order_id: Uuid) -> String {
    format!("{}-{order_id}", Order::STREAM_KIND)
}

#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub order_id: Uuid,
    pub shop_id: Uuid,
    pub customer: OrderCustomer,
    pub lines: Vec<BasketLine>,
    pub delivery_method_id: Uuid,
    /// Where a store-pickup order is collected; `None` means the shop itself.
    pub pickup_point_id: Option<Uuid>,
    /// Required for home delivery.
    pub shipping_address: Option<Address>,
    /// The shop's catalog as of now; the only source of prices.
    pub catalog: Arc<Catalog>,
    pub prices_include_tax: bool,
    pub currency: String,
    /// The coupon the customer applies, if any.
    pub coupon: Option<CouponToApply>,
    /// The account that moved to the order's email, if one did (`Customer::claimed_by` of the
    /// email's stream): the order's `customer_id` may then name that account.
    pub email_moved_to: Option<Uuid>,
}

/// A coupon applied while placing: its state, not a discount (see the module documentation).
#[derive(Debug, Clone)]
pub struct CouponToApply {
    /// The coupon as of now, loaded from `coupon-{coupon_id}`; that stream goes into the same
    /// append with its `CouponUsed`.
    pub coupon: Arc<Coupon>,
    /// As the customer typed it; compared case-insensitively.
    pub code: String,
}

/// A payment as reported by a payment provider or entered by staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPayment {
    pub payment_id: Uuid,
    pub method: PaymentMethod,
    pub amount: Decimal,
    pub transaction_id: Option<String>,
    /// The provider's id (Stripe, PayPal): a repeated notification with it is recorded once.
    pub external_payment_id: Option<String>,
    pub recorded_by: String,
}

#[derive(Debug, Clone)]
pub enum OrderCommand {
    Place(Box<PlaceOrder>),
    /// A staff user opened the order: it is no longer NEW.
    Open {
        opened_by: String,
    },
    RecordPayment(RecordPayment),
    /// Payment of the whole outstanding balance taken at the counter by `operator`.
    MarkPaid {
        payment_id: Uuid,
        method: PaymentMethod,
        operator: String,
    },
    StartProduction {
        started_by: String,
    },
    Ship {
        shipped_by: String,
        tracking_number: Option<String>,
    },
    MarkReadyForPickup {
        marked_by: String,
    },
    Deliver {
        delivered_by: String,
    },
    /// From placed, or from paid with a settlement for what was paid. When the order has a
    /// coupon ([`Order::applied_coupon`]), the glue appends `CouponUseReleased` on the coupon's
    /// stream in the same append.
    Cancel {
        cancelled_by: String,
        reason: String,
        settlement: Option<Settlement>,
    },
    /// Returned lines of a shipped or delivered order, credited.
    RecordReturn {
        credit_id: Uuid,
        lines: Vec<ReturnLine>,
        refund_shipping: bool,
        settlement: Settlement,
        credited_by: String,
    },
    /// A device's report on a print job (see `print_jobs`).
    ReportPrintJob(PrintJobReport),
    /// Staff ask for a job's line to be printed again as the new job `new_job_id`.
    RequestReprint {
        job_id: Uuid,
        new_job_id: Uuid,
        requested_by: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrderEvent {
    OrderPlaced(Box<PlacedOrder>),
    OrderOpened {
        shop_id: Uuid,
        order_id: Uuid,
        opened_by: String,
        opened_at: DateTime<Utc>,
    },
    PaymentRecorded {
        shop_id: Uuid,
        order_id: Uuid,
        payment: PaymentRecord,
    },
    /// Payments now cover the total; the glue issues the invoice in the same append.
    OrderPaid {
        shop_id: Uuid,
        order_id: Uuid,
        amount_paid: Decimal,
        paid_at: DateTime<Utc>,
    },
    ProductionStarted {
        shop_id: Uuid,
        order_id: Uuid,
        started_by: String,
        started_at: DateTime<Utc>,
    },
    /// The glue issues the delivery slip in the same append.
    OrderShipped {
        shop_id: Uuid,
        order_id: Uuid,
        shipped_by: String,
        tracking_number: Option<String>,
        shipped_at: DateTime<Utc>,
    },
    OrderReadyForPickup {
        shop_id: Uuid,
        order_id: Uuid,
        marked_by: String,
        ready_at: DateTime<Utc>,
    },
    OrderDelivered {
        shop_id: Uuid,
        order_id: Uuid,
        delivered_by: String,
        delivered_at: DateTime<Utc>,
    },
    /// Lines (and maybe shipping) credited; the glue issues the credit note in the same append.
    OrderCredited {
        shop_id: Uuid,
        order_id: Uuid,
        credit: CreditRecord,
    },
    OrderCancelled {
        shop_id: Uuid,
        order_id: Uuid,
        cancelled_by: String,
        reason: String,
        /// Payments of a not-yet-paid order to give back outside any credit note.
        refund_due: Decimal,
        /// `refund_due` split by the methods the order was paid with (one row per method, in
        /// `closure::method_rank` order, summing to `refund_due`). Absent from events recorded
        /// before it existed: there a non-zero `refund_due` is one amount of unrecorded method,
        /// which the ledger posts against the bank and closures do not count, as they always
        /// did, so a rebuild gives the books and day rows it gave before.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        refunds: Vec<MethodRefund>,
        cancelled_at: DateTime<Utc>,
    },
    /// A device accepted a print job.
    PrintJobSubmitted(PrintJobRecord),
    /// A device finished a print job.
    PrintJobCompleted(PrintJobRecord),
    /// A device aborted a print job, or it could not be built; `reason` says why.
    PrintJobFailed(PrintJobRecord),
    /// Staff asked for a line to be printed again under a new job id.
    PrintJobReprintRequested(ReprintRecord),
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> &'static str {
        match self {
            OrderEvent::OrderPlaced(_) => "OrderPlaced",
            OrderEvent::OrderOpened { .. } => "OrderOpened",
            OrderEvent::PaymentRecorded { .. } => "PaymentRecorded",
            OrderEvent::OrderPaid { .. } => "OrderPaid",
            OrderEvent::ProductionStarted { .. } => "ProductionStarted",
            OrderEvent::OrderShipped { .. } => "OrderShipped",
            OrderEvent::OrderReadyForPickup { .. } => "OrderReadyForPickup",
            OrderEvent::OrderDelivered { .. } => "OrderDelivered",
            OrderEvent::OrderCredited { .. } => "OrderCredited",
            OrderEvent::OrderCancelled { .. } => "OrderCancelled",
            OrderEvent::PrintJobSubmitted(_) => "PrintJobSubmitted",
            OrderEvent::PrintJobCompleted(_) => "PrintJobCompleted",
            OrderEvent::PrintJobFailed(_) => "PrintJobFailed",
            OrderEvent::PrintJobReprintRequested(_) => "PrintJobReprintRequested",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Order {
    pub placed: Option<Box<PlacedOrder>>,
    pub status: OrderStatus,
    /// Set when placed, cleared when a staff user opens the order.
    pub is_new: bool,
    pub amount_paid: Decimal,
    pub payments: BTreeMap<Uuid, PaymentRecord>,
    external_payment_ids: BTreeSet<String>,
    /// Quantity credited so far per line number.
    pub credited_quantities: BTreeMap<u32, u32>,
    pub shipping_credited: bool,
    pub credits: BTreeMap<Uuid, CreditRecord>,
    pub tracking_number: Option<String>,
    /// Print jobs by id, each with its last reported status.
    pub print_jobs: BTreeMap<Uuid, PrintJob>,
}

impl Order {
    pub fn placed_or_not_found(&self) -> Result<&PlacedOrder, DomainError> {
        self.placed
            .as_deref()
            .ok_or_else(|| DomainError::not_found("order", "this order"))
    }

    /// Total including VAT, after the coupon's discount; zero before the order is placed.
    pub fn total_incl_vat(&self) -> Decimal {
        self.placed
            .as_ref()
            .map_or(Decimal::ZERO, |p| p.totals().total_incl_vat)
    }

    /// The coupon the order was placed with: the one whose use a cancellation releases.
    pub fn applied_coupon(&self) -> Option<&AppliedCoupon> {
        self.placed.as_ref().and_then(|p| p.coupon.as_ref())
    }

    pub fn outstanding(&self) -> Decimal {
        self.total_incl_vat() - self.amount_paid
    }

    /// Quantity of `line_number` not yet credited.
    pub fn returnable_quantity(&self, line_number: u32) -> u32 {
        let ordered = self.placed.as_ref().and_then(|p| {
            p.pricing
                .lines
                .iter()
                .find(|l| l.line_number == line_number)
                .map(|l| l.quantity)
        });
        let credited = self
            .credited_quantities
            .get(&line_number)
            .copied()
            .unwrap_or(0);
        ordered.unwrap_or(0).saturating_sub(credited)
    }

    /// What the order was paid with, one row per method in `closure::method_rank` order: what a
    /// cancellation of a partly paid order gives back, method by method.
    pub fn paid_by_method(&self) -> Vec<MethodRefund> {
        let mut by_method: BTreeMap<u8, MethodRefund> = BTreeMap::new();
        for payment in self.payments.values() {
            let rank = crate::closure::method_rank(payment.method);
            by_method
                .entry(rank)
                .or_insert(MethodRefund {
                    method: payment.method,
                    amount: Decimal::ZERO,
                })
                .amount += payment.amount;
        }
        by_method
            .into_values()
            .filter(|refund| !refund.amount.is_zero())
            .collect()
    }

    /// Totals of everything credited so far.
    pub fn credited_totals(&self) -> Vec<&Totals> {
        self.credits.values().map(|c| &c.totals).collect()
    }
}

impl Aggregate for Order {
    type Command = OrderCommand;
    type Event = OrderEvent;
    const STREAM_KIND: &'static str = "order";

    fn decide(
        &self,
        command: &OrderCommand,
        env: &dyn Environment,
    ) -> Result<Vec<OrderEvent>, DomainError> {
        decide::decide(self, command, env.now())
    }

    fn evolve(self, event: &OrderEvent) -> Self {
        evolve(self, event)
    }
}

fn evolve(mut order: Order, event: &OrderEvent) -> Order {
    match event {
        OrderEvent::OrderPlaced(placed) => {
            order.placed = Some(placed.clone());
            order.status = OrderStatus::Placed;
            order.is_new = true;
        }
        OrderEvent::OrderOpened { .. } => order.is_new = false,
        OrderEvent::PaymentRecorded { payment, .. } => {
            order.amount_paid += payment.amount;
            if let Some(external) = &payment.external_payment_id {
                order.external_payment_ids.insert(external.clone());
            }
            order.payments.insert(payment.payment_id, payment.clone());
        }
        OrderEvent::OrderPaid { .. } => order.status = OrderStatus::Paid,
        OrderEvent::ProductionStarted { .. } => order.status = OrderStatus::InProduction,
        OrderEvent::OrderShipped {
            tracking_number, ..
        } => {
            order.status = OrderStatus::Shipped;
            order.tracking_number = tracking_number.clone();
        }
        OrderEvent::OrderReadyForPickup { .. } => order.status = OrderStatus::ReadyForPickup,
        OrderEvent::OrderDelivered { .. } => order.status = OrderStatus::Delivered,
        OrderEvent::OrderCredited { credit, .. } => {
            for line in credit.lines.iter().filter(|l| l.kind == LineKind::Product) {
                *order
                    .credited_quantities
                    .entry(line.line_number)
                    .or_insert(0) += line.quantity;
            }
            if credit.lines.iter().any(|l| l.kind == LineKind::Shipping) {
                order.shipping_credited = true;
            }
            order.credits.insert(credit.credit_id, credit.clone());
        }
        OrderEvent::OrderCancelled { .. } => order.status = OrderStatus::Cancelled,
        OrderEvent::PrintJobSubmitted(_)
        | OrderEvent::PrintJobCompleted(_)
        | OrderEvent::PrintJobFailed(_)
        | OrderEvent::PrintJobReprintRequested(_) => print_jobs::evolve(&mut order, event),
    }
    order
}
