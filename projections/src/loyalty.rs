//! The loyalty card (seed 003): points derived from the documents, never recorded as events.
//!
//! An invoice is issued exactly when an order is paid, so it earns the customer
//! `points_for(invoice total incl. VAT, rate)` at the shop's rate in force then (kept per order,
//! so a later change of rate never rewrites history). A credit note lowers the order's remaining
//! total: the order is then worth `points_for(paid − credited, same rate)`, and the difference is
//! taken back, so partial credits never take back more than the order earned. An order cancelled
//! before payment has no invoice and earns nothing. The account is the one of the order's email
//! (as in the customer space), guests included: registering later shows their past points. An
//! email an account moved to counts for that account from the move on (`account_of`).
//! Everything is a function of the log in order, so a replay gives the same rows.

use crate::apply::customer::account_of;
use crate::error::ProjectionResult;
use crate::keys::{id_key, key, Table};
use crate::packed::{self, PackedItem};
use crate::paging::{Page, PageRequest};
use crate::store::{self, ListRange, WriteSet};
use crate::Projections;
use chrono::{DateTime, Utc};
use comptoir_domain::documents::DocumentEvent;
use comptoir_domain::loyalty::{points_for, LOYALTY_POINTS_PER_UNIT_DEFAULT};
use comptoir_domain::shop::ShopEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A customer's card: the balance and how many history rows make it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoyaltyCardView {
    pub shop_id: Uuid,
    pub customer_id: Uuid,
    pub balance: i64,
    pub earned: i64,
    pub removed: i64,
    pub entries: u32,
}

impl LoyaltyCardView {
    /// The card of a customer who never paid anything.
    pub fn empty(shop_id: Uuid, customer_id: Uuid) -> Self {
        LoyaltyCardView {
            shop_id,
            customer_id,
            balance: 0,
            earned: 0,
            removed: 0,
            entries: 0,
        }
    }
}

/// Why the balance moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoyaltyReason {
    /// An order was paid (its invoice).
    OrderPaid,
    /// A credit note gave part or all of an order back.
    Credited,
}

/// One move of the balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoyaltyEntryView {
    /// Position in the card's history, from 1.
    pub seq: u32,
    pub reason: LoyaltyReason,
    pub order_id: Uuid,
    /// The invoice (earning) or credit note (removal) number.
    pub document_number: String,
    /// The document's total incl. VAT.
    pub amount: Decimal,
    /// Points added (positive) or taken back (negative).
    pub points: i64,
    pub balance_after: i64,
    pub at: DateTime<Utc>,
}

/// What one paid order is worth now; stored in the order's own row (`store::StoredOrder`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LoyaltyOrder {
    pub customer_id: Uuid,
    pub points_per_unit: Decimal,
    pub paid_total: Decimal,
    pub credited_total: Decimal,
    pub points: i64,
}

/// An entry's place in its card's history: its sequence.
impl PackedItem for LoyaltyEntryView {
    const SUFFIX_BYTES: usize = 4;
    const COUNTER_BYTES: usize = 4;

    fn suffix(&self) -> Vec<u8> {
        self.seq.to_be_bytes().to_vec()
    }
}

/// The history of one card, stored packed.
fn history(shop_id: Uuid, customer_id: Uuid) -> ListRange {
    ListRange {
        list_tag: Table::LoyaltyEntry as u8,
        prefix: key(Table::LoyaltyEntryPack, shop_id, customer_id.as_bytes()),
        lower: None,
        upper: None,
    }
}

impl Projections {
    /// The customer's card (an empty one if they never paid).
    pub fn loyalty_card(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
    ) -> ProjectionResult<LoyaltyCardView> {
        let card: Option<LoyaltyCardView> = store::get(
            &self.tree(),
            &id_key(Table::LoyaltyCard, shop_id, customer_id),
        )?;
        Ok(card.unwrap_or_else(|| LoyaltyCardView::empty(shop_id, customer_id)))
    }

    /// The card's history, oldest first.
    pub fn loyalty_entries(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
        page: &PageRequest,
    ) -> ProjectionResult<Page<LoyaltyEntryView>> {
        let range = history(shop_id, customer_id);
        self.read_models_snapshot(|| packed::page(&self.tree(), &range, page, Some))
    }
}

/// Keeps the shop's rate in force for the documents that follow.
pub(crate) fn apply_shop(writes: &mut WriteSet, event: &ShopEvent) -> ProjectionResult<()> {
    match event {
        ShopEvent::LoyaltyRuleChanged {
            shop_id,
            points_per_unit,
            ..
        } => writes.put(
            id_key(Table::LoyaltyRule, *shop_id, *shop_id),
            points_per_unit,
        ),
        _ => Ok(()),
    }
}

/// Earns on an invoice, takes back on a credit note.
pub(crate) fn apply_document(writes: &mut WriteSet, event: &DocumentEvent) -> ProjectionResult<()> {
    match event {
        DocumentEvent::InvoiceIssued {
            shop_id,
            number,
            issued_at,
            invoice,
        } => {
            let rate = writes
                .get::<Decimal>(&id_key(Table::LoyaltyRule, *shop_id, *shop_id))?
                .unwrap_or(LOYALTY_POINTS_PER_UNIT_DEFAULT);
            let paid_total = invoice.totals.total_incl_vat;
            let order = LoyaltyOrder {
                customer_id: account_of(writes, *shop_id, &invoice.customer.email)?,
                points_per_unit: rate,
                paid_total,
                credited_total: Decimal::ZERO,
                points: points_for(paid_total, rate),
            };
            let entry = Move {
                reason: LoyaltyReason::OrderPaid,
                order_id: invoice.order_id,
                document_number: &number.number,
                amount: paid_total,
                points: order.points,
                at: *issued_at,
            };
            add_entry(writes, *shop_id, order.customer_id, entry)?;
            keep_with_order(writes, *shop_id, invoice.order_id, order)
        }
        DocumentEvent::CreditNoteIssued {
            shop_id,
            number,
            issued_at,
            credit_note,
        } => {
            let order_key = id_key(Table::Order, *shop_id, credit_note.order_id);
            let earned = writes.take_order(&order_key)?.map(|mut stored| {
                let loyalty = stored.loyalty.take();
                writes.put_order(order_key, stored);
                loyalty
            });
            let Some(mut order) = earned.flatten() else {
                // A credit note always follows its invoice; without one there is nothing to take back.
                tracing::warn!(%shop_id, order_id = %credit_note.order_id, "credit note of an order with no invoice");
                return Ok(());
            };
            let amount = credit_note.totals.total_incl_vat;
            order.credited_total += amount;
            let remaining = points_for(
                order.paid_total - order.credited_total,
                order.points_per_unit,
            );
            let taken_back = order.points - remaining;
            order.points = remaining;
            let entry = Move {
                reason: LoyaltyReason::Credited,
                order_id: credit_note.order_id,
                document_number: &number.number,
                amount,
                points: -taken_back,
                at: *issued_at,
            };
            add_entry(writes, *shop_id, order.customer_id, entry)?;
            keep_with_order(writes, *shop_id, credit_note.order_id, order)
        }
        // Points come from paid orders (their invoices); a quote is no sale, and a purchase
        // order's payment is not an order's, so neither earns.
        DocumentEvent::DeliverySlipIssued { .. }
        | DocumentEvent::QuoteIssued { .. }
        | DocumentEvent::PurchaseOrderIssued { .. } => Ok(()),
    }
}

/// Stores what the order `order_id` is worth with the order itself; an order the read models do
/// not know (the domain invoices only orders it placed) is logged and its worth dropped.
fn keep_with_order(
    writes: &mut WriteSet,
    shop_id: Uuid,
    order_id: Uuid,
    loyalty: LoyaltyOrder,
) -> ProjectionResult<()> {
    let order_key = id_key(Table::Order, shop_id, order_id);
    let Some(mut order) = writes.take_order(&order_key)? else {
        tracing::warn!(%shop_id, %order_id, "loyalty of an unknown order ignored");
        return Ok(());
    };
    order.loyalty = Some(loyalty);
    writes.put_order(order_key, order);
    Ok(())
}

/// A move about to be written to a card.
struct Move<'a> {
    reason: LoyaltyReason,
    order_id: Uuid,
    document_number: &'a str,
    amount: Decimal,
    points: i64,
    at: DateTime<Utc>,
}

fn add_entry(
    writes: &mut WriteSet,
    shop_id: Uuid,
    customer_id: Uuid,
    entry: Move<'_>,
) -> ProjectionResult<()> {
    let card_key = id_key(Table::LoyaltyCard, shop_id, customer_id);
    // Kept decoded: a customer's card moves with each of their invoices in a commit.
    let mut card = writes
        .take_decoded::<LoyaltyCardView>(&card_key)?
        .unwrap_or_else(|| LoyaltyCardView::empty(shop_id, customer_id));
    card.entries += 1;
    card.balance += entry.points;
    if entry.points >= 0 {
        card.earned += entry.points;
    } else {
        card.removed -= entry.points;
    }
    let view = LoyaltyEntryView {
        seq: card.entries,
        reason: entry.reason,
        order_id: entry.order_id,
        document_number: entry.document_number.to_owned(),
        amount: entry.amount,
        points: entry.points,
        balance_after: card.balance,
        at: entry.at,
    };
    writes.put_decoded(card_key, card);
    writes.add_packed(&history(shop_id, customer_id).prefix, view)
}
