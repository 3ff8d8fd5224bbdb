//! The decisions behind order routes: an order command, then the effects its events call for, in
//! the same atomic append (see `comptoir_domain`'s stream table):
//! - `OrderPaid` → the invoice, next number of the shop's invoice series;
//! - `OrderShipped` / `OrderReadyForPickup` → the delivery slip, its own series;
//! - `OrderCredited` → the credit note referencing the invoice, its own series, and store credit
//!   when it is settled that way;
//! - a payment with method `store_credit` → `StoreCreditSpent` on the customer's store credit;
//! - `OrderCancelled` whose refunds give store credit back → `StoreCreditRestored` (and
//!   `CreditNoteUseReverted` for a note it had used up) on the same store credit, so the credit
//!   the ledger books back to the customer's 4191 is spendable again, or the cancel is refused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use comptoir_domain::documents::{
    self, credit_note_body, delivery_slip_body, invoice_body, DocumentBody, DocumentCommand,
    DocumentEvent, DocumentKind, DocumentSeries,
};
use comptoir_domain::order::{self, Order, OrderCommand, OrderEvent, PaymentMethod, Settlement};
use comptoir_domain::shop::ShopProfile;
use comptoir_domain::store_credit::{self, StoreCredit, StoreCreditCommand};
use comptoir_domain::DomainError;
use comptoir_eventlog::EventLog;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::order_account;
use super::session_shop;
use crate::commands::{CommandError, Session};
use crate::error::ApiError;
use crate::server::{AppState, READ_WAIT_MAX};

/// Order ids whose invoice numbers are kept in memory at most; past it the map starts afresh and
/// numbers are read from the projections.
pub const INVOICE_NUMBERS_MAX: usize = 200_000;

/// A document issued by a request.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IssuedDocument {
    /// `invoice`, `credit_note` or `delivery_slip`.
    pub kind: String,
    pub number: String,
}

/// What an order decision leaves: the order after it and the documents it issued.
pub struct OrderOutcome {
    pub order: Arc<Order>,
    pub issued: Vec<IssuedDocument>,
}

/// Order id → invoice number, for credit notes and answers; derived from issued invoices.
#[derive(Default)]
pub struct InvoiceNumbers {
    numbers: Mutex<HashMap<Uuid, String>>,
}

impl InvoiceNumbers {
    pub fn remember(&self, order_id: Uuid, number: &str) {
        let mut numbers = self.numbers.lock().unwrap_or_else(|p| p.into_inner());
        if numbers.len() >= INVOICE_NUMBERS_MAX {
            numbers.clear();
        }
        numbers.insert(order_id, number.to_string());
    }

    fn get(&self, order_id: Uuid) -> Option<String> {
        let numbers = self.numbers.lock().unwrap_or_else(|p| p.into_inner());
        numbers.get(&order_id).cloned()
    }
}

/// The order's invoice number, from memory or else from the projections once they hold the log.
pub async fn invoice_number(
    state: &AppState,
    shop_id: Uuid,
    order_id: Uuid,
) -> Result<Option<String>, ApiError> {
    if let Some(number) = state.invoice_numbers.get(order_id) {
        return Ok(Some(number));
    }
    let head = state.log.head_position();
    state.projections.wait_for(head, READ_WAIT_MAX).await?;
    let number = state
        .projections
        .invoice_number_for_order(shop_id, order_id)?;
    if let Some(number) = &number {
        state.invoice_numbers.remember(order_id, number);
    }
    Ok(number)
}

/// The series streams a command on an order may number a document in.
pub fn sequenced_for(shop_id: Uuid, command: &OrderCommand) -> Vec<String> {
    let kinds: &[DocumentKind] = match command {
        OrderCommand::RecordPayment(_) | OrderCommand::MarkPaid { .. } => &[DocumentKind::Invoice],
        OrderCommand::Ship { .. } | OrderCommand::MarkReadyForPickup { .. } => {
            &[DocumentKind::DeliverySlip]
        }
        OrderCommand::Cancel { .. } | OrderCommand::RecordReturn { .. } => {
            &[DocumentKind::CreditNote]
        }
        _ => &[],
    };
    kinds
        .iter()
        .map(|kind| documents::stream_id(shop_id, *kind))
        .collect()
}

/// The order, if it exists in this shop: another shop's order is "not found".
pub fn order_in_shop(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
    order_id: Uuid,
) -> Result<Arc<Order>, CommandError> {
    let order = session.load::<Order>(&order::stream_id(order_id))?;
    match &order.placed {
        Some(placed) if placed.shop_id == shop_id => Ok(order),
        _ => Err(DomainError::not_found("order", order_id).into()),
    }
}

/// Decides `command` on an existing order of the shop, then its effects; see the module doc.
pub fn decide_on_order(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
    order_id: Uuid,
    command: &OrderCommand,
    invoice_number: Option<&str>,
) -> Result<OrderOutcome, CommandError> {
    let profile = session_shop(session, shop_id)?;
    order_in_shop(session, shop_id, order_id)?;
    let stream = order::stream_id(order_id);
    let events = session.decide::<Order>(&stream, command)?;
    let mut issued = Vec::new();
    for event in &events {
        if let Some(document) = effect_of(session, &profile, order_id, event, invoice_number)? {
            issued.push(document);
        }
    }
    let order = session.load::<Order>(&stream)?;
    Ok(OrderOutcome { order, issued })
}

fn effect_of(
    session: &mut Session<'_, EventLog>,
    profile: &ShopProfile,
    order_id: Uuid,
    event: &OrderEvent,
    invoice_number: Option<&str>,
) -> Result<Option<IssuedDocument>, CommandError> {
    let order = session.load::<Order>(&order::stream_id(order_id))?;
    match event {
        OrderEvent::PaymentRecorded { payment, .. }
            if payment.method == PaymentMethod::StoreCredit =>
        {
            spend_store_credit(session, profile, &order, payment.payment_id, payment.amount)?;
            Ok(None)
        }
        OrderEvent::OrderPaid { .. } => {
            let body = DocumentBody::Invoice(Box::new(invoice_body(profile, &order)?));
            issue(session, profile, body).map(Some)
        }
        OrderEvent::OrderShipped { .. } | OrderEvent::OrderReadyForPickup { .. } => {
            let body = DocumentBody::DeliverySlip(Box::new(delivery_slip_body(profile, &order)?));
            issue(session, profile, body).map(Some)
        }
        OrderEvent::OrderCancelled { refunds, .. } => {
            let store_credit: rust_decimal::Decimal = refunds
                .iter()
                .filter(|refund| refund.method == PaymentMethod::StoreCredit)
                .map(|refund| refund.amount)
                .sum();
            if !store_credit.is_zero() {
                restore_store_credit(session, profile, &order, store_credit)?;
            }
            Ok(None)
        }
        OrderEvent::OrderCredited { credit, .. } => {
            let invoice = invoice_number.ok_or_else(|| {
                DomainError::conflict("no-invoice", "the order has no invoice to credit")
            })?;
            let body = credit_note_body(profile, &order, credit.credit_id, invoice)?;
            let amount = body.totals.total_incl_vat;
            let document = issue(session, profile, DocumentBody::CreditNote(Box::new(body)))?;
            if credit.settlement == Settlement::StoreCredit {
                grant_store_credit(session, profile, &order, &document.number, amount)?;
            }
            Ok(Some(document))
        }
        _ => Ok(None),
    }
}

fn issue(
    session: &mut Session<'_, EventLog>,
    profile: &ShopProfile,
    body: DocumentBody,
) -> Result<IssuedDocument, CommandError> {
    let kind = body.kind();
    let command = DocumentCommand::Issue {
        shop_id: profile.shop_id,
        pattern: kind.pattern(&profile.document_patterns).to_string(),
        body,
    };
    let stream = documents::stream_id(profile.shop_id, kind);
    let events = session.decide::<DocumentSeries>(&stream, &command)?;
    let number = events
        .iter()
        .map(DocumentEvent::number)
        .next_back()
        .ok_or_else(|| DomainError::conflict("document-not-issued", "the series issued nothing"))?;
    Ok(IssuedDocument {
        kind: kind.as_str().to_string(),
        number: number.number.clone(),
    })
}

/// The customer whose store credit an order uses: the order's account (for a guest, the one its
/// email derives).
fn credit_holder(session: &mut Session<'_, EventLog>, order: &Order) -> Result<Uuid, CommandError> {
    order_account(session, order.placed_or_not_found()?)
}

fn spend_store_credit(
    session: &mut Session<'_, EventLog>,
    profile: &ShopProfile,
    order: &Order,
    payment_id: Uuid,
    amount: rust_decimal::Decimal,
) -> Result<(), CommandError> {
    let customer_id = credit_holder(session, order)?;
    let command = StoreCreditCommand::Spend {
        shop_id: profile.shop_id,
        customer_id,
        payment_id,
        order_id: order.placed_or_not_found()?.order_id,
        amount,
    };
    session.decide::<StoreCredit>(&store_credit::stream_id(customer_id), &command)?;
    Ok(())
}

fn grant_store_credit(
    session: &mut Session<'_, EventLog>,
    profile: &ShopProfile,
    order: &Order,
    credit_note_number: &str,
    amount: rust_decimal::Decimal,
) -> Result<(), CommandError> {
    let customer_id = credit_holder(session, order)?;
    let command = StoreCreditCommand::Grant {
        shop_id: profile.shop_id,
        customer_id,
        credit_note_number: credit_note_number.to_string(),
        amount,
    };
    session.decide::<StoreCredit>(&store_credit::stream_id(customer_id), &command)?;
    Ok(())
}

/// Gives back the store credit a cancelled order spent, which must be `amount` (its refund's
/// store-credit row): the stream refuses anything else, so the books and the credit agree.
fn restore_store_credit(
    session: &mut Session<'_, EventLog>,
    profile: &ShopProfile,
    order: &Order,
    amount: rust_decimal::Decimal,
) -> Result<(), CommandError> {
    let customer_id = spender_of(session, order)?;
    let command = StoreCreditCommand::Restore {
        shop_id: profile.shop_id,
        customer_id,
        order_id: order.placed_or_not_found()?.order_id,
        amount,
    };
    session.decide::<StoreCredit>(&store_credit::stream_id(customer_id), &command)?;
    Ok(())
}

/// The customer whose store credit a cancelled order spent: its account's, except for a guest
/// order whose email an account claimed after it paid (it follows the claim now, but its spends
/// were recorded on the email's own store credit, which then holds them).
fn spender_of(session: &mut Session<'_, EventLog>, order: &Order) -> Result<Uuid, CommandError> {
    let holder = credit_holder(session, order)?;
    let placed = order.placed_or_not_found()?;
    if placed.customer.customer_id.is_some() {
        return Ok(holder);
    }
    let credit = session.load::<StoreCredit>(&store_credit::stream_id(holder))?;
    if credit.spent_by(placed.order_id) {
        return Ok(holder);
    }
    Ok(comptoir_domain::coupon::customer_key(
        placed.shop_id,
        &placed.customer,
        None,
    )?)
}

/// The store credit balance of the order's customer.
pub fn store_credit_balance(
    state: &AppState,
    customer_id: Uuid,
) -> Result<rust_decimal::Decimal, ApiError> {
    let loaded = state
        .cache
        .load::<StoreCredit, _>(state.log.as_ref(), &store_credit::stream_id(customer_id))?;
    Ok(loaded.state.balance())
}
