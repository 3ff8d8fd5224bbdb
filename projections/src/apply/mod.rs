//! Applying one recorded event to the read models.
//!
//! Events are routed by their stored `event_type`. A type not listed here (another aggregate's,
//! or one added to the domain after this code) is skipped: the checkpoint still advances past it.
//! A listed type that does not decode stops the runner, because skipping it would silently drop
//! an order, a payment or a document from the read models.

mod catalog;
pub(crate) mod customer;
pub(crate) mod documents;
mod order;
mod print_jobs;
mod report_schedules;
pub(crate) mod shop;
mod usage;

use crate::codec::decode_event;
use crate::error::ProjectionResult;
use crate::hints::HintedEvent;
use crate::store::WriteSet;
use comptoir_domain::catalog::CatalogEvent;
use comptoir_domain::closure::ClosureEvent;
use comptoir_domain::coupon::CouponEvent;
use comptoir_domain::customer::CustomerEvent;
use comptoir_domain::customer_messages::MessageEvent;
use comptoir_domain::documents::DocumentEvent;
use comptoir_domain::order::OrderEvent;
use comptoir_domain::pack::PackEvent;
use comptoir_domain::quote::{PurchaseOrderEvent, QuoteEvent};
use comptoir_domain::report_schedule::ReportScheduleEvent;
use comptoir_domain::shop::ShopEvent;
use comptoir_domain::store_credit::StoreCreditEvent;
use comptoir_domain::DomainEvent;
use comptoir_eventlog::RecordedEvent;

/// The domain event enum an event type decodes as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handler {
    Shop,
    Catalog,
    Customer,
    Order,
    Document,
    StoreCredit,
    Coupon,
    Pack,
    Quote,
    PurchaseOrder,
    Message,
    ReportSchedule,
    Closure,
}

/// A recorded event decoded once, then handed to every projection.
#[derive(Debug, Clone)]
pub(crate) enum Decoded {
    Shop(ShopEvent),
    Catalog(CatalogEvent),
    Customer(CustomerEvent),
    Order(OrderEvent),
    Document(DocumentEvent),
    StoreCredit(StoreCreditEvent),
    Coupon(CouponEvent),
    Pack(PackEvent),
    Quote(QuoteEvent),
    PurchaseOrder(PurchaseOrderEvent),
    Message(MessageEvent),
    ReportSchedule(ReportScheduleEvent),
    Closure(ClosureEvent),
}

fn handler_for(event_type: &str) -> Option<Handler> {
    let handler = match event_type {
        "ShopCreated"
        | "ApiKeyCreated"
        | "ApiKeyRevoked"
        | "LedgerMappingChanged"
        | "LoyaltyRuleChanged" => Handler::Shop,
        "TimeZoneChanged" | "ShopProfileUpdated" => Handler::Shop,
        "CategoryAdded"
        | "ProductAdded"
        | "ProductUpdated"
        | "ProductRetired"
        | "DeliveryMethodAdded"
        | "DeliveryMethodVisibilityChanged"
        | "PickupPointAdded"
        | "CategoryRenamed"
        | "DeliveryMethodTermsChanged"
        | "PickupPointUpdated" => Handler::Catalog,
        "CustomerRegistered"
        | "CustomerProfileChanged"
        | "CustomerEmailChanged"
        | "CustomerEmailClaimed" => Handler::Customer,
        "OrderPlaced"
        | "OrderOpened"
        | "PaymentRecorded"
        | "OrderPaid"
        | "ProductionStarted"
        | "OrderShipped"
        | "OrderReadyForPickup"
        | "OrderDelivered"
        | "OrderCredited"
        | "OrderCancelled"
        | "PrintJobSubmitted"
        | "PrintJobCompleted"
        | "PrintJobFailed"
        | "PrintJobReprintRequested" => Handler::Order,
        "InvoiceIssued"
        | "CreditNoteIssued"
        | "DeliverySlipIssued"
        | "QuoteIssued"
        | "PurchaseOrderIssued" => Handler::Document,
        // `QuoteOpened` and `PurchaseOrderOpened` repeat what the series event holds: skipped.
        "QuoteAccepted" | "QuoteDeclined" | "QuoteConverted" => Handler::Quote,
        "PurchaseOrderPaid" => Handler::PurchaseOrder,
        "StoreCreditGranted"
        | "StoreCreditSpent"
        | "CreditNoteUsed"
        | "StoreCreditRestored"
        | "CreditNoteUseReverted" => Handler::StoreCredit,
        "CouponCreated"
        | "CouponEdited"
        | "CouponCodesGenerated"
        | "CouponUsed"
        | "CouponUseReleased" => Handler::Coupon,
        "QuotaConsumed" => Handler::Pack,
        "CustomerMessageSent"
        | "CustomerMessageRead"
        | "CustomerMessageArchived"
        | "CustomerMessageUnarchived"
        | "CustomerMessageNotified" => Handler::Message,
        "ReportScheduleCreated"
        | "ReportScheduleUpdated"
        | "ReportScheduleDeleted"
        | "ScheduledReportSent" => Handler::ReportSchedule,
        "PeriodClosed" => Handler::Closure,
        _ => return None,
    };
    Some(handler)
}

/// Decodes `event` if some projection handles its type; `None` for the others. `hint`, when
/// given, is the value the event was encoded from (`hints`), used instead of parsing it again.
pub(crate) fn decode(
    event: &RecordedEvent,
    hint: Option<HintedEvent>,
) -> ProjectionResult<Option<Decoded>> {
    let Some(handler) = handler_for(&event.event_type) else {
        return Ok(None);
    };
    let decoded = match handler {
        Handler::Shop => Decoded::Shop(decode_as(event, hint)?),
        Handler::Catalog => Decoded::Catalog(decode_as(event, hint)?),
        Handler::Customer => Decoded::Customer(decode_as(event, hint)?),
        Handler::Order => Decoded::Order(decode_as(event, hint)?),
        Handler::Document => Decoded::Document(decode_as(event, hint)?),
        Handler::StoreCredit => Decoded::StoreCredit(decode_as(event, hint)?),
        Handler::Coupon => Decoded::Coupon(decode_as(event, hint)?),
        Handler::Pack => Decoded::Pack(decode_as(event, hint)?),
        Handler::Quote => Decoded::Quote(decode_as(event, hint)?),
        Handler::PurchaseOrder => Decoded::PurchaseOrder(decode_as(event, hint)?),
        Handler::Message => Decoded::Message(decode_as(event, hint)?),
        Handler::ReportSchedule => Decoded::ReportSchedule(decode_as(event, hint)?),
        Handler::Closure => Decoded::Closure(decode_as(event, hint)?),
    };
    Ok(Some(decoded))
}

/// `event` as an `E`: the hint when it is one that encodes as the stored type and version, else
/// parsed from the stored bytes.
fn decode_as<E: DomainEvent>(
    event: &RecordedEvent,
    hint: Option<HintedEvent>,
) -> ProjectionResult<E> {
    let hinted = hint
        .and_then(|hint| hint.downcast::<E>().ok())
        .filter(|hinted| {
            hinted.event_type() == event.event_type
                && hinted.schema_version() == event.schema_version
        });
    match hinted {
        Some(hinted) => {
            // Every test runs this: a hint must be exactly what the stored bytes decode to.
            #[cfg(debug_assertions)]
            assert_eq!(
                *hinted,
                decode_event::<E>(event)?,
                "the hint for position {} differs from its stored bytes",
                event.position
            );
            Ok(*hinted)
        }
        None => Ok(decode_event(event)?),
    }
}

/// Applies a decoded event to the read models through `writes`.
pub(crate) fn apply_event(
    writes: &mut WriteSet,
    event: &RecordedEvent,
    decoded: &Decoded,
) -> ProjectionResult<()> {
    match decoded {
        Decoded::Shop(shop_event) => {
            shop::apply(writes, shop_event)?;
            crate::loyalty::apply_shop(writes, shop_event)
        }
        Decoded::Catalog(catalog_event) => catalog::apply(writes, catalog_event),
        Decoded::Customer(customer_event) => customer::apply(writes, event, customer_event),
        Decoded::Order(order_event) => {
            order::apply(writes, event, order_event)?;
            usage::apply_order(writes, order_event)?;
            crate::closures::apply_order(writes, order_event)
        }
        Decoded::Document(document_event) => {
            documents::apply(writes, event, document_event)?;
            crate::loyalty::apply_document(writes, document_event)?;
            crate::closures::apply_document(writes, document_event)
        }
        Decoded::StoreCredit(credit_event) => {
            documents::apply_store_credit(writes, credit_event)?;
            crate::store_credit::apply(writes, credit_event)
        }
        Decoded::Coupon(coupon_event) => usage::apply_coupon(writes, coupon_event),
        Decoded::Pack(pack_event) => usage::apply_pack(writes, pack_event),
        Decoded::Quote(quote_event) => documents::apply_quote(writes, quote_event),
        Decoded::PurchaseOrder(order_event) => documents::apply_purchase_order(writes, order_event),
        Decoded::Message(message_event) => crate::messages::apply(writes, message_event),
        Decoded::ReportSchedule(schedule_event) => report_schedules::apply(writes, schedule_event),
        Decoded::Closure(closure_event) => {
            crate::closures::apply_closure(writes, event, closure_event)
        }
    }
}
