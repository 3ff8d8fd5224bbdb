//! Applying one recorded event to the read models.
//!
//! Events are routed by their stored `event_type`. A type not listed here (another aggregate's,
//! or one added to the domain after this code) is skipped: the checkpoint still advances past it.
//! A listed type that does not decode stops the runner, because skipping it would silently drop
//! an order, a payment or a document from the read models.

mod catalog;
mod customer;
pub(crate) mod documents;
mod order;
pub(crate) mod shop;

use crate::codec::decode_event;
use crate::error::ProjectionResult;
use crate::store::WriteSet;
use comptoir_domain::catalog::CatalogEvent;
use comptoir_domain::customer::CustomerEvent;
use comptoir_domain::documents::DocumentEvent;
use comptoir_domain::order::OrderEvent;
use comptoir_domain::shop::ShopEvent;
use comptoir_domain::store_credit::StoreCreditEvent;
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
}

fn handler_for(event_type: &str) -> Option<Handler> {
    let handler = match event_type {
        "ShopCreated" | "ApiKeyCreated" | "ApiKeyRevoked" => Handler::Shop,
        "CategoryAdded"
        | "ProductAdded"
        | "ProductUpdated"
        | "ProductRetired"
        | "DeliveryMethodAdded"
        | "DeliveryMethodVisibilityChanged"
        | "PickupPointAdded" => Handler::Catalog,
        "CustomerRegistered" | "CustomerProfileChanged" => Handler::Customer,
        "OrderPlaced"
        | "OrderOpened"
        | "PaymentRecorded"
        | "OrderPaid"
        | "ProductionStarted"
        | "OrderShipped"
        | "OrderReadyForPickup"
        | "OrderDelivered"
        | "OrderCredited"
        | "OrderCancelled" => Handler::Order,
        "InvoiceIssued" | "CreditNoteIssued" | "DeliverySlipIssued" => Handler::Document,
        "CreditNoteUsed" => Handler::StoreCredit,
        _ => return None,
    };
    Some(handler)
}

/// Applies `event` to the read models through `writes`.
pub(crate) fn apply_event(writes: &mut WriteSet, event: &RecordedEvent) -> ProjectionResult<()> {
    let Some(handler) = handler_for(&event.event_type) else {
        return Ok(());
    };
    match handler {
        Handler::Shop => shop::apply(writes, &decode_event::<ShopEvent>(event)?),
        Handler::Catalog => catalog::apply(writes, &decode_event::<CatalogEvent>(event)?),
        Handler::Customer => customer::apply(writes, event, &decode_event::<CustomerEvent>(event)?),
        Handler::Order => order::apply(writes, event, &decode_event::<OrderEvent>(event)?),
        Handler::Document => {
            documents::apply(writes, event, &decode_event::<DocumentEvent>(event)?)
        }
        Handler::StoreCredit => {
            documents::apply_store_credit(writes, &decode_event::<StoreCreditEvent>(event)?)
        }
    }
}
