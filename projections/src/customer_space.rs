//! A customer's space (seed 003): their orders, invoices, credit notes (used ones marked),
//! payments, quotes and purchase orders (paid ones marked), and their store credit (issue 4: the
//! balance, and per credit note what it granted, what was spent, what is left), read from the
//! read models. Orders are found through the index of orders by email (`Table::CustomerOrder`),
//! at most `CUSTOMER_SPACE_ORDERS_MAX`; quotes and purchase orders, which staff issue by hand,
//! are few, so the shop's are scanned, bounded by `CUSTOMER_SPACE_SCAN_MAX`.

use crate::error::{ProjectionError, ProjectionResult};
use crate::keys::{customer_orders_prefix, shop_prefix, Table};
use crate::store;
use crate::store_credit::StoreCreditView;
use crate::views::{CustomerView, OrderSummary, PurchaseOrderView, QuoteView};
use crate::Projections;
use chrono::{DateTime, NaiveDate, Utc};
use comptoir_domain::order::PaymentRecord;
use comptoir_domain::quote::QuoteStatus;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Quotes or purchase orders of the shop one customer-space read may scan: beyond, the read is
/// refused rather than slow.
pub const CUSTOMER_SPACE_SCAN_MAX: usize = 100_000;

/// Orders one customer space lists: its document lists are built in memory, so a customer with
/// more is refused rather than served slowly.
pub const CUSTOMER_SPACE_ORDERS_MAX: usize = 10_000;

/// An invoice or credit note as listed in the space; the document itself is one read away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceDocument {
    pub number: String,
    pub order_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub total_incl_vat: Decimal,
    /// Credit notes only: when the store credit it granted was fully spent.
    pub used_at: Option<DateTime<Utc>>,
    /// Credit notes settled as this customer's store credit only: how much of it is spent.
    pub store_credit: Option<SpaceStoreCredit>,
}

/// What one credit note granted as store credit, and how much of it is spent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceStoreCredit {
    pub granted: Decimal,
    pub used: Decimal,
    pub remaining: Decimal,
}

/// A payment with the order it paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpacePayment {
    pub order_id: Uuid,
    #[serde(flatten)]
    pub payment: PaymentRecord,
}

/// A quote as listed in the space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceQuote {
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub valid_until: NaiveDate,
    pub total_incl_vat: Decimal,
    /// As of the day of the read: an issued quote past its validity date is `expired`.
    pub status: QuoteStatus,
    pub purchase_order_number: Option<String>,
}

/// A purchase order as listed in the space; a paid one is marked (seed 003: "acquittés").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpacePurchaseOrder {
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub total_incl_vat: Decimal,
    pub quote_number: Option<String>,
    pub paid: bool,
    pub paid_at: Option<DateTime<Utc>>,
}

/// Everything the customer space shows, oldest first in each list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSpace {
    pub customer: CustomerView,
    pub orders: Vec<OrderSummary>,
    pub invoices: Vec<SpaceDocument>,
    pub credit_notes: Vec<SpaceDocument>,
    pub payments: Vec<SpacePayment>,
    pub quotes: Vec<SpaceQuote>,
    pub purchase_orders: Vec<SpacePurchaseOrder>,
    /// The store credit the customer can spend, and the credit notes that make it.
    pub store_credit: StoreCreditView,
}

impl Projections {
    /// The customer's space, or `None` when the shop has no such customer. `today` (the caller's
    /// clock) tells which quotes have expired.
    pub fn customer_space(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
        today: NaiveDate,
    ) -> ProjectionResult<Option<CustomerSpace>> {
        // Gathered from many rows: as of one commit, so that no document shows without its order.
        self.read_models_snapshot(|| self.read_customer_space(shop_id, customer_id, today))
    }

    fn read_customer_space(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
        today: NaiveDate,
    ) -> ProjectionResult<Option<CustomerSpace>> {
        let Some(customer) = self.customer(shop_id, customer_id)? else {
            return Ok(None);
        };
        let mut space = CustomerSpace {
            customer,
            orders: Vec::new(),
            invoices: Vec::new(),
            credit_notes: Vec::new(),
            payments: Vec::new(),
            quotes: Vec::new(),
            purchase_orders: Vec::new(),
            store_credit: self.store_credit(shop_id, customer_id)?,
        };
        for order_id in self.customer_order_ids(shop_id, &space.customer)? {
            self.add_order(shop_id, order_id, &mut space)?;
        }
        space
            .invoices
            .sort_by(|a, b| (a.issued_at, &a.number).cmp(&(b.issued_at, &b.number)));
        space
            .credit_notes
            .sort_by(|a, b| (a.issued_at, &a.number).cmp(&(b.issued_at, &b.number)));
        let store_credit = &space.store_credit;
        for note in &mut space.credit_notes {
            let credit = store_credit.credit_note(&note.number);
            note.store_credit = credit.map(|credit| SpaceStoreCredit {
                granted: credit.granted,
                used: credit.used,
                remaining: credit.remaining,
            });
        }
        space.payments.sort_by_key(|p| p.payment.recorded_at);
        // Rows are keyed by issue date then number: scanned in order, so the lists are sorted.
        space.quotes = self.scan_customer_rows(
            Table::Quote,
            shop_id,
            customer_id,
            |view: QuoteView| {
                let view = view.as_of(today);
                let document = view.document;
                SpaceQuote {
                    number: document.number,
                    issued_at: document.issued_at,
                    valid_until: document.body.valid_until,
                    total_incl_vat: document.body.totals.total_incl_vat,
                    status: view.status,
                    purchase_order_number: view.purchase_order_number,
                }
            },
            |view| view.document.body.customer.customer_id,
        )?;
        space.purchase_orders = self.scan_customer_rows(
            Table::PurchaseOrder,
            shop_id,
            customer_id,
            |view: PurchaseOrderView| SpacePurchaseOrder {
                number: view.document.number,
                issued_at: view.document.issued_at,
                total_incl_vat: view.document.body.totals.total_incl_vat,
                quote_number: view.document.body.quote_number,
                paid: view.paid,
                paid_at: view.payment.map(|payment| payment.recorded_at),
            },
            |view| view.document.body.customer.customer_id,
        )?;
        Ok(Some(space))
    }

    /// The customer's orders, oldest first: those placed with its email and with the emails it
    /// had before (an account that moved keeps its orders).
    fn customer_order_ids(
        &self,
        shop_id: Uuid,
        customer: &CustomerView,
    ) -> ProjectionResult<Vec<Uuid>> {
        let emails = std::iter::once(&customer.email).chain(&customer.previous_emails);
        let mut placed = Vec::new();
        for email in emails {
            let prefix = customer_orders_prefix(shop_id, email);
            for entry in self.tree().scan_prefix(&prefix) {
                if placed.len() == CUSTOMER_SPACE_ORDERS_MAX {
                    return Err(ProjectionError::TooLarge {
                        what: "orders of one customer space".into(),
                        limit: CUSTOMER_SPACE_ORDERS_MAX,
                    });
                }
                let (key, value) = entry?;
                let order_id: Uuid = store::decode_value(&key, &value)?;
                // The key ends with the placing instant and the id: the list order.
                placed.push((key[prefix.len()..].to_vec(), order_id));
            }
        }
        placed.sort();
        Ok(placed.into_iter().map(|(_, order_id)| order_id).collect())
    }

    /// The rows of `table` in the shop whose customer is `customer_id`, mapped by `listed`.
    fn scan_customer_rows<V: serde::de::DeserializeOwned, T>(
        &self,
        table: Table,
        shop_id: Uuid,
        customer_id: Uuid,
        listed: impl Fn(V) -> T,
        customer_of: impl Fn(&V) -> Option<Uuid>,
    ) -> ProjectionResult<Vec<T>> {
        let mut found = Vec::new();
        let prefix = shop_prefix(table, shop_id);
        for (scanned, entry) in self.tree().scan_prefix(&prefix).enumerate() {
            if scanned == CUSTOMER_SPACE_SCAN_MAX {
                return Err(ProjectionError::TooLarge {
                    what: "documents scanned for a customer space".into(),
                    limit: CUSTOMER_SPACE_SCAN_MAX,
                });
            }
            let (key, value) = entry?;
            let view: V = store::decode_value(&key, &value)?;
            if customer_of(&view) == Some(customer_id) {
                found.push(listed(view));
            }
        }
        Ok(found)
    }

    fn add_order(
        &self,
        shop_id: Uuid,
        order_id: Uuid,
        space: &mut CustomerSpace,
    ) -> ProjectionResult<()> {
        let Some(order) = self.order(shop_id, order_id)? else {
            return Ok(());
        };
        if let Some(invoice) = order.invoice_number.as_deref() {
            if let Some(view) = self.invoice(shop_id, invoice)? {
                space.invoices.push(SpaceDocument {
                    number: view.number,
                    order_id: order.order_id,
                    issued_at: view.issued_at,
                    total_incl_vat: view.body.totals.total_incl_vat,
                    used_at: None,
                    store_credit: None,
                });
            }
        }
        for number in &order.credit_note_numbers {
            if let Some(view) = self.credit_note(shop_id, number)? {
                space.credit_notes.push(SpaceDocument {
                    number: view.document.number,
                    order_id: order.order_id,
                    issued_at: view.document.issued_at,
                    total_incl_vat: view.document.body.totals.total_incl_vat,
                    used_at: view.used_at,
                    // Filled from the customer's store credit once every note is listed.
                    store_credit: None,
                });
            }
        }
        space
            .payments
            .extend(order.payments.iter().map(|payment| SpacePayment {
                order_id: order.order_id,
                payment: payment.clone(),
            }));
        space.orders.push(OrderSummary::of(&order));
        Ok(())
    }
}
