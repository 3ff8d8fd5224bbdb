//! The layout of the state tree. Every read model lives in one sled tree under a one-byte table
//! tag, so that one commit (`commit_journal`) stores all of them and the checkpoint atomically. Keys sort the
//! way lists are read: a table, then the shop (so nothing leaks across shops), then the list
//! order (a timestamp, an id, an email, a number).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One table of the state tree. The tag values are part of the stored format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Table {
    /// Bookkeeping: the checkpoint.
    Meta = 0x00,
    /// shop → `ShopView`.
    Shop = 0x01,
    /// shop, key id → `ApiKeyRecord`.
    ApiKey = 0x02,
    /// shop, category id → `Category`.
    Category = 0x03,
    /// shop, product id → `ProductView`.
    Product = 0x04,
    /// shop, delivery method id → `DeliveryMethod`.
    DeliveryMethod = 0x05,
    /// shop, pickup point id → `PickupPoint`.
    PickupPoint = 0x06,
    /// shop, normalised email → `CustomerView` (the list order).
    Customer = 0x07,
    /// shop, customer id → normalised email.
    CustomerId = 0x08,
    /// shop, order id → `OrderView`.
    Order = 0x09,
    /// shop, placed at, order id → `OrderSummary` (the list order).
    OrderPlaced = 0x0a,
    /// shop, issued at, number → `InvoiceView` (the list order).
    Invoice = 0x0b,
    /// shop, `number_bucket(number)` → `NumberBucket`: up to 100 numbers, each with the
    /// `Invoice` key suffix (issued at, number) of its row (format 5; up to format 4, one row per
    /// number holding that suffix).
    InvoiceNumber = 0x0c,
    /// shop, issued at, number → `CreditNoteView`.
    CreditNote = 0x0d,
    /// shop, `number_bucket(number)` → `NumberBucket` of `CreditNote` key suffixes.
    CreditNoteNumber = 0x0e,
    /// shop, issued at, number → `DeliverySlipView`.
    DeliverySlip = 0x0f,
    /// shop, `number_bucket(number)` → `NumberBucket` of `DeliverySlip` key suffixes.
    DeliverySlipNumber = 0x10,
    /// shop, coupon id → `CouponSummary`.
    Coupon = 0x11,
    /// shop, day → `DailyUsage` (bytes transferred, orders, sales).
    DailyUsage = 0x12,
    /// shop, issued at, number → `QuoteView`.
    Quote = 0x13,
    /// shop, `number_bucket(number)` → `NumberBucket` of `Quote` key suffixes.
    QuoteNumber = 0x14,
    /// shop, issued at, number → `PurchaseOrderView`.
    PurchaseOrder = 0x15,
    /// shop, `number_bucket(number)` → `NumberBucket` of `PurchaseOrder` key suffixes.
    PurchaseOrderNumber = 0x16,
    // The customer space's own tables start at 0x30, clear of the tags above.
    /// shop, customer id, sequence (u32) → `MessageView` (a thread, oldest first).
    Message = 0x30,
    /// shop, message id → `MessageLocation` (customer id, sequence).
    MessageId = 0x31,
    /// shop, customer id → `MessageThreadView` (counts, unread per side).
    MessageThread = 0x32,
    /// shop → the loyalty rate in force (`Decimal`).
    LoyaltyRule = 0x33,
    // 0x34 held what an order earned on the loyalty card up to format 3; format 4 keeps it in
    // the order's row (`store::StoredOrder`). Not to be reused.
    /// shop, customer id → `LoyaltyCardView` (the balance).
    LoyaltyCard = 0x35,
    /// The loyalty histories' list: shop, customer id, sequence (u32). Up to format 4 each entry
    /// was a row under this tag; since, the tag only marks the histories' cursors (which hold
    /// the sequence) and the entries are stored packed (`LoyaltyEntryPack`). Not to be reused.
    LoyaltyEntry = 0x36,
    /// shop, id derived from an email an account moved to → that account's id.
    CustomerAlias = 0x37,
    /// shop, message id → `PendingNotification` (messages to e-mail to their customer).
    MessageNotification = 0x38,
    /// shop, customer id (the store credit stream's) → its totals (balance, granted, used, notes).
    StoreCredit = 0x39,
    /// shop, local day → `ClosureDayRow` (what a day closure counts; days with activity only).
    ClosureDay = 0x3a,
    /// shop, closure kind (1 day, 2 month, 3 year), first day → `ClosureView`.
    Closure = 0x3b,
    /// shop, email length (u16), normalised email, placed at, order id → the order id: the
    /// orders placed with one email, so a customer space reads its own orders, not the shop's.
    CustomerOrder = 0x3c,
    /// shop, customer id, credit note number → one note of the customer's store credit, with its
    /// place in the grant order.
    StoreCreditNote = 0x3d,
    /// shop, customer id, sequence / `ITEMS_PER_PACKED_ROW` → up to that many
    /// `LoyaltyEntryView`s of the card's history, by sequence (`crate::packed`).
    LoyaltyEntryPack = 0x3e,
    /// shop, schedule id → `ReportScheduleView`.
    ReportSchedule = 0x17,
    /// shop, schedule id, period first day, period end → `ReportDeliveryView`.
    ReportDelivery = 0x18,
}

/// The checkpoint: the last log position whose effects are in the state.
pub(crate) const CHECKPOINT_KEY: &[u8] = &[Table::Meta as u8, b'c'];

/// The stored format of the read models, written with every commit (bookkeeping, left out of the
/// digest) so that a tree holding state says which format it is in.
pub(crate) const FORMAT_KEY: &[u8] = &[Table::Meta as u8, b'f'];

/// The read models' stored format. A tree with state and another (or no) mark is replayed from
/// the log when opened (`engine::open_current_tree`). No mark: before the mark existed. 2 adds
/// the store-credit table (`Table::StoreCredit`) and the invoice date on credit notes, which a
/// tree built before lacks for its past events. 3 adds the closures' day rows
/// (`Table::ClosureDay`), which must hold every invoice, credit note and payment since the first,
/// and the orders by email (`Table::CustomerOrder`). 4 stores a customer's store credit as a
/// totals row and one row per credit note (`Table::StoreCreditNote`) instead of one row holding
/// every note, and what an order earned on the loyalty card in the order's row (a `loyalty`
/// member the view ignores) instead of `Table::LoyaltyOrder`. 5 stores the loyalty histories 32
/// entries to a row (`Table::LoyaltyEntryPack`) and the document number indexes up to 100
/// numbers to a row (`apply::documents::NumberBucket`), where 4 stored a row per entry and per
/// number.
pub(crate) const READ_MODELS_FORMAT: u32 = 5;

/// The key prefix of one shop's rows of `table`.
pub(crate) fn shop_prefix(table: Table, shop_id: Uuid) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 16 + 64);
    key.push(table as u8);
    key.extend_from_slice(shop_id.as_bytes());
    key
}

/// `table`, shop, then `suffix`.
pub(crate) fn key(table: Table, shop_id: Uuid, suffix: &[u8]) -> Vec<u8> {
    let mut key = shop_prefix(table, shop_id);
    key.extend_from_slice(suffix);
    key
}

/// `table`, shop, then an id.
pub(crate) fn id_key(table: Table, shop_id: Uuid, id: Uuid) -> Vec<u8> {
    key(table, shop_id, id.as_bytes())
}

/// An instant as 8 bytes that sort like the instant: microseconds since the epoch with the sign
/// bit flipped, big-endian (so instants before 1970 sort first too).
pub(crate) fn instant_bytes(instant: DateTime<Utc>) -> [u8; 8] {
    ((instant.timestamp_micros() as u64) ^ (1 << 63)).to_be_bytes()
}

/// Suffix ordering by an instant then an id.
pub(crate) fn instant_id_suffix(instant: DateTime<Utc>, id: Uuid) -> Vec<u8> {
    let mut suffix = instant_bytes(instant).to_vec();
    suffix.extend_from_slice(id.as_bytes());
    suffix
}

/// The prefix of the orders placed with `email` (normalised) in the shop. The email's length goes
/// first so that no email's prefix is another's.
pub(crate) fn customer_orders_prefix(shop_id: Uuid, email: &str) -> Vec<u8> {
    // Emails are validated far below 64 KiB; a longer one would only share a length prefix.
    let length = u16::try_from(email.len()).unwrap_or(u16::MAX);
    let mut suffix = length.to_be_bytes().to_vec();
    suffix.extend_from_slice(email.as_bytes());
    key(Table::CustomerOrder, shop_id, &suffix)
}

/// Suffix ordering by an instant then a document number.
pub(crate) fn instant_number_suffix(instant: DateTime<Utc>, number: &str) -> Vec<u8> {
    let mut suffix = instant_bytes(instant).to_vec();
    suffix.extend_from_slice(number.as_bytes());
    suffix
}

/// The smallest key greater than every key starting with `prefix`, or `None` if there is none.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A key as printable text for error messages.
pub(crate) fn display_key(key: &[u8]) -> String {
    hex::encode(key)
}
