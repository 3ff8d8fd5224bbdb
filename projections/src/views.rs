//! What the read models answer: serde-serializable views. Money is `Decimal` (serialized as a
//! decimal string), timestamps are UTC. Stored as JSON of these structs, whose fields have a fixed
//! order and whose maps are `BTreeMap`s, so equal states are equal bytes.

use chrono::{DateTime, Utc};
use comptoir_domain::catalog::Product;
use comptoir_domain::documents::{CreditNoteBody, DeliverySlipBody, InvoiceBody};
use comptoir_domain::order::{
    CreditRecord, MethodRefund, OrderCustomer, OrderStatus, PaymentRecord, PrintJob,
};
use comptoir_domain::pricing::{PricedLine, PricedShipping, Totals};
use comptoir_domain::quote::{PurchaseOrderBody, QuoteBody, QuoteStatus};
use comptoir_domain::shop::{Address, DocumentPatterns, LegalIdentity, Role};
use comptoir_eventlog::{Position, StreamVersion};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A shop's profile as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopView {
    pub shop_id: Uuid,
    pub name: String,
    pub organisation: LegalIdentity,
    pub currency: String,
    pub prices_include_tax: bool,
    pub document_patterns: DocumentPatterns,
    pub payment_terms: String,
    pub created_at: DateTime<Utc>,
    /// The IANA zone the shop's days are counted in (the default when it never chose one).
    pub time_zone: String,
}

/// An API key as the API authenticates it; the secret and its hash are not part of the view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub shop_id: Uuid,
    pub key_id: Uuid,
    pub role: Role,
    pub label: String,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A product of the catalog, retired or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductView {
    #[serde(flatten)]
    pub product: Product,
    /// Withdrawn from sale; past orders keep their snapshot.
    pub retired: bool,
}

/// A registered customer account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerView {
    pub shop_id: Uuid,
    pub customer_id: Uuid,
    /// Normalised (lower-case): the identity of the account.
    pub email: String,
    pub email_as_typed: String,
    /// Emails the account moved away from, oldest first, without the current one: still its
    /// own (orders placed with them are its orders), and no other account can take them.
    #[serde(default)]
    pub previous_emails: Vec<String>,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub address: Option<Address>,
    /// Agreed to receive newsletters and offers.
    pub marketing_consent: bool,
    /// Answers to the shop's additional account fields, by key. Absent from the row when empty,
    /// so rows (and digests) of accounts without answers are as before.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<String, String>,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Version of the customer stream this view reflects (for `ETag`/`If-Match`).
    pub version: StreamVersion,
}

/// Everything known of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub shop_id: Uuid,
    pub order_id: Uuid,
    pub status: OrderStatus,
    /// Set when placed, cleared when a staff user opens the order.
    pub is_new: bool,
    pub customer: OrderCustomer,
    pub currency: String,
    pub prices_include_tax: bool,
    pub lines: Vec<PricedLine>,
    pub shipping: PricedShipping,
    /// Totals and VAT per rate, as priced when placed.
    pub totals: Totals,
    pub total_weight_g: u64,
    pub pickup_point_id: Option<Uuid>,
    pub shipping_address: Option<Address>,
    pub amount_paid: Decimal,
    /// In the order they were recorded.
    pub payments: Vec<PaymentRecord>,
    /// Quantity credited so far per line number.
    pub credited_quantities: BTreeMap<u32, u32>,
    pub shipping_credited: bool,
    /// In the order they were recorded.
    pub credits: Vec<CreditRecord>,
    /// Payments of a cancelled, not fully paid order to give back outside any credit note.
    pub refund_due: Decimal,
    /// `refund_due` split by the methods the order was paid with, so the counter knows what to
    /// give back in cash and what by card. Empty for a cancellation recorded before the split
    /// existed (its `refund_due` has no recorded method).
    #[serde(default)]
    pub refunds: Vec<MethodRefund>,
    pub tracking_number: Option<String>,
    pub cancel_reason: Option<String>,
    pub invoice_number: Option<String>,
    pub delivery_slip_numbers: Vec<String>,
    pub credit_note_numbers: Vec<String>,
    pub placed_at: DateTime<Utc>,
    pub opened_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub production_started_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub ready_for_pickup_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Version of the order stream this view reflects (for `ETag`/`If-Match`).
    pub version: StreamVersion,
    /// Log position of the last event that changed this view.
    pub last_position: Position,
    /// Print jobs in the order they were first reported or requested, each with its last status
    /// (`null` for a reprint no device has reported on yet). Absent from views stored before
    /// print jobs existed, hence the default.
    #[serde(default)]
    pub print_jobs: Vec<PrintJob>,
}

/// One row of the order list: enough to show a table without loading each order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub shop_id: Uuid,
    pub order_id: Uuid,
    pub status: OrderStatus,
    pub is_new: bool,
    pub customer_email: String,
    pub customer_name: String,
    pub currency: String,
    pub total_incl_vat: Decimal,
    pub amount_paid: Decimal,
    pub invoice_number: Option<String>,
    pub placed_at: DateTime<Utc>,
}

impl OrderSummary {
    pub(crate) fn of(order: &OrderView) -> Self {
        OrderSummary {
            shop_id: order.shop_id,
            order_id: order.order_id,
            status: order.status,
            is_new: order.is_new,
            customer_email: order.customer.email.clone(),
            customer_name: order.customer.name.clone(),
            currency: order.currency.clone(),
            total_incl_vat: order.totals.total_incl_vat,
            amount_paid: order.amount_paid,
            invoice_number: order.invoice_number.clone(),
            placed_at: order.placed_at,
        }
    }
}

/// An issued document: its number and date, then the immutable snapshot the domain event carries
/// (seller, customer, lines, totals per VAT rate, terms, references), flattened into one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentView<B> {
    pub shop_id: Uuid,
    pub number: String,
    /// Position in the series (restarts each year when the pattern carries the year).
    pub seq: u64,
    pub year: i32,
    pub issued_at: DateTime<Utc>,
    #[serde(flatten)]
    pub body: B,
}

pub type InvoiceView = DocumentView<InvoiceBody>;
pub type DeliverySlipView = DocumentView<DeliverySlipBody>;

/// A credit note, and when store credit spent its whole amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteView {
    #[serde(flatten)]
    pub document: DocumentView<CreditNoteBody>,
    /// Set when the store credit it granted has been fully spent; cleared by
    /// `CreditNoteUseReverted` when a cancelled order gives some of it back.
    pub used_at: Option<DateTime<Utc>>,
    /// When the invoice it corrects was issued, found by its number when the credit note is
    /// projected (printed next to the number). Absent from rows stored before it was kept, and
    /// when the invoice is unknown to this shop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_issued_at: Option<DateTime<Utc>>,
}

/// A quote and what became of it. `status` is as recorded (`issued`, `accepted`, `declined`);
/// readers turn an issued quote past `valid_until` into `expired` with [`QuoteView::as_of`], since
/// nothing here reads the clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteView {
    #[serde(flatten)]
    pub document: DocumentView<QuoteBody>,
    pub status: QuoteStatus,
    /// When it was accepted or declined, and by whom.
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decline_reason: Option<String>,
    /// The purchase order made from it.
    pub purchase_order_number: Option<String>,
}

impl QuoteView {
    /// The view as seen on `today`: an issued quote past its validity date shows as expired.
    pub fn as_of(mut self, today: chrono::NaiveDate) -> Self {
        self.status = self.status.at(self.document.body.valid_until, today);
        self
    }
}

/// A purchase order, and its payment once marked paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderView {
    #[serde(flatten)]
    pub document: DocumentView<PurchaseOrderBody>,
    pub paid: bool,
    pub payment: Option<PaymentRecord>,
}
