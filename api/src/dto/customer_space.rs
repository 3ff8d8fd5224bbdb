//! Mirrors of the customer space's message, loyalty and store credit views (see the parent module's doc).

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Money;

/// Who wrote a message, or who reads or archives it.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum MessageSide {
    Customer,
    Shop,
}

/// One message between a customer and the shop (read model).
#[derive(ToSchema)]
pub struct Message {
    pub shop_id: Uuid,
    pub customer_id: Uuid,
    pub message_id: Uuid,
    /// Position in the thread, from 1.
    pub seq: u32,
    pub from: MessageSide,
    pub order_id: Option<Uuid>,
    pub body: String,
    pub sent_at: DateTime<Utc>,
    /// When the recipient marked it read.
    pub read_at: Option<DateTime<Utc>>,
    pub archived_by_customer: bool,
    pub archived_by_shop: bool,
    /// A message to the customer waits for its e-mail notification until it is sent, or until
    /// the customer reads it first (then no mail goes out).
    pub awaits_notification: bool,
    /// When the customer was e-mailed about this message from the shop.
    pub notified_at: Option<DateTime<Utc>>,
}

/// One customer's thread, counted (read model).
#[derive(ToSchema)]
pub struct MessageThread {
    pub shop_id: Uuid,
    pub customer_id: Uuid,
    pub messages: u32,
    /// Messages from the shop the customer has not marked read.
    pub unread_by_customer: u32,
    /// Messages from the customer the staff have not marked read.
    pub unread_by_shop: u32,
    /// Messages to the customer waiting for their e-mail notification.
    pub awaiting_notification: u32,
    pub last_message_at: DateTime<Utc>,
}

/// Why a loyalty balance moved.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum LoyaltyReason {
    /// An order was paid (its invoice).
    OrderPaid,
    /// A credit note gave part or all of an order back.
    Credited,
}

/// One move of a loyalty balance (read model).
#[derive(ToSchema)]
pub struct LoyaltyEntry {
    /// Position in the card's history, from 1.
    pub seq: u32,
    pub reason: LoyaltyReason,
    pub order_id: Uuid,
    /// The invoice (earning) or credit note (removal) number.
    pub document_number: String,
    /// The document's total incl. VAT.
    pub amount: Money,
    /// Points added (positive) or taken back (negative).
    pub points: i64,
    pub balance_after: i64,
    pub at: DateTime<Utc>,
}

/// One credit note turned into store credit (read model).
// `Serialize` for utoipa's sake, as on `CustomerAccount`.
#[derive(ToSchema, serde::Serialize)]
pub struct StoreCreditNote {
    pub credit_note_number: String,
    /// The credit the note granted (its total incl. VAT).
    pub granted: Money,
    /// Spent on later orders so far (less what their cancellations gave back).
    pub used: Money,
    /// `granted - used`: still spendable.
    pub remaining: Money,
    pub granted_at: DateTime<Utc>,
    /// When the last of it was spent; cleared when a cancelled order gives some of it back.
    pub used_at: Option<DateTime<Utc>>,
}

/// A customer's store credit: the balance and every credit note that makes it, oldest first
/// (the order spending takes them in) (read model).
// `Serialize` for utoipa's sake, as on `CustomerAccount`.
#[derive(ToSchema, serde::Serialize)]
pub struct StoreCredit {
    pub customer_id: Uuid,
    /// Spendable now: the sum of the notes' remainders.
    pub available: Money,
    /// All credit ever granted.
    pub granted: Money,
    /// All credit spent (less what cancelled orders gave back).
    pub used: Money,
    pub credit_notes: Vec<StoreCreditNote>,
}

/// What one credit note granted as store credit, and how much of it is spent.
#[derive(ToSchema)]
pub struct SpaceStoreCredit {
    pub granted: Money,
    pub used: Money,
    pub remaining: Money,
}
