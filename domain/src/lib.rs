//! Pure business rules of comptoir.
//!
//! Architecture Invariant: `domain` knows nothing of sled, axum, HTTP, JSON, storage or the real clock.
//! Time and identifiers come in through [`Environment`], so replaying a log is deterministic.
//!
//! Every aggregate follows the same shape ([`Aggregate`]): `decide` holds every rule and changes
//! nothing, `evolve` holds no rule and never fails. Events are the on-disk format: their names and
//! field names are stable, and `tests/golden/` pins one serialized example of each.
//!
//! # Streams and how the glue appends them
//!
//! | aggregate | stream | notes |
//! | --- | --- | --- |
//! | [`shop::Shop`] | `shop-{shop_id}` | identity, patterns, API keys |
//! | [`catalog::Catalog`] | `catalog-{shop_id}` | whole catalog of a shop (SKU uniqueness) |
//! | [`customer::Customer`] | `customer-{customer_id}` | id derived from shop + email: register with "no stream"; an email an account moved to is claimed on its own stream |
//! | [`order::Order`] | `order-{order_id}` | priced and discounted in `decide` from the catalog and coupon passed in |
//! | [`documents::DocumentSeries`] | `document-series-{shop_id}-{kind}` | gap-free numbering |
//! | [`store_credit::StoreCredit`] | `store-credit-{customer_id}` | balance never below zero |
//! | [`coupon::Coupon`] | `coupon-{coupon_id}` | definition, codes, uses: limits counted here |
//! | [`coupon::CouponCodeRegistry`] | `coupon-codes-{shop_id}` | code → coupon, unique per shop |
//! | [`pack::ActivationCode`] | `activation-code-{sha256}` | minted once, redeemed once |
//! | [`pack::Pack`] | `pack-{shop_id}` | validity, transfer and order quota |
//! | [`order_files::OrderFiles`] | `order-files-{order_id}` | name → content hash of the order's files |
//! | [`quote::Quote`] | `quote-{shop_id}-{number}` | a quote's acceptance, decline, conversion |
//! | [`quote::PurchaseOrder`] | `purchase-order-{shop_id}-{number}` | a purchase order's payment |
//! | [`customer_messages::CustomerMessages`] | `customer-messages-{customer_id}` | one thread per customer: sent, read by the other side, archived per side |
//! | [`report_schedule::ReportSchedule`] | `report-schedule-{schedule_id}` | settings and periods sent by e-mail |
//! | [`closure::Closures`] | `closures-{shop_id}` | NF525 day, month and year closures, one hash chain per kind |
//! | [`staff::StaffAccount`] | `staff-{staff_id}` | id derived from the email alone (one account per email in the installation): create with "no stream"; roles per shop, lock, archive, sign-in, sessions, terms, password reset |
//! | [`staff::StaffRoster`] | `staff-roster-{siren}` | an organisation's staff members and the seats of its plan |
//! | [`banner::ShopBanners`] | `shop-banners-{shop_id}` | the banners of the online shop, at most [`limits::BANNERS_MAX`] |
//!
//! Every write is one atomic append, each stream with the exact expected version its state was
//! folded from (or "no stream" when it was empty):
//! - payment completing an order: `order` (`PaymentRecorded`, `OrderPaid`) + invoice series
//!   (`InvoiceIssued` from [`documents::invoice_body`]; a coupon shows as one allowance per VAT
//!   rate, and credit notes of a discounted order refund the discounted amounts);
//! - shipping: `order` (`OrderShipped`) + delivery-slip series (`DeliverySlipIssued`);
//! - return, or cancellation of a paid order: `order` (`OrderCredited`[, `OrderCancelled`]) +
//!   credit-note series (`CreditNoteIssued` from [`documents::credit_note_body`]) and, when settled
//!   as store credit, `store-credit` (`StoreCreditGranted`);
//! - paying with store credit: `store-credit` (`StoreCreditSpent`) + `order` (`PaymentRecorded`
//!   with method `store_credit` and the same `payment_id`, maybe `OrderPaid` + invoice series).
//! - generating a coupon's codes: `coupon` (`CouponCodesGenerated`) + `coupon-codes`
//!   (`CouponCodesReserved`, same codes);
//! - placing an order with a coupon: `order` (`OrderPlaced`, "no stream"), `coupon` (`CouponUsed`)
//!   and `pack` (`OrderQuotaConsumed`). The glue looks the code up in `coupon-codes`, loads the
//!   coupon, passes it in `PlaceOrder::coupon` (the order computes its discount from the coupon's
//!   terms and its own priced basket; the command carries no discount), then decides
//!   `CouponCommand::Use` with `basket` = the new `OrderPlaced`'s `pricing`, which records the same
//!   discount. The order's total is then `PlacedOrder::totals()`, never `pricing.totals`;
//! - moving a customer to another email: `customer` of the account (`CustomerProfileChanged` if
//!   the profile changed too, `CustomerEmailChanged`) + `customer` of the new email's derived id
//!   (`CustomerEmailClaimed`, "no stream"), unless it is the account's own first email;
//! - cancelling an order: `order` (`OrderCancelled`, with `OrderCredited` + credit-note series if
//!   it was paid) and, when `Order::applied_coupon()` names one, `coupon-{coupon_id}`
//!   (`CouponUseReleased` from `CouponCommand::ReleaseUse { order_id }`), and, when a partly paid
//!   one's `refunds` give store credit back, the order's account's `store-credit`
//!   (`StoreCreditRestored`, maybe `CreditNoteUseReverted`, from `StoreCreditCommand::Restore`
//!   with that refund row's amount), in the same append;
//! - activating or renewing a pack: `activation-code` (`ActivationCodeRedeemed`) + `pack`
//!   (`PackActivated` or `PackRenewed`); storing or sending order files: `pack` (`QuotaConsumed`),
//!   with `order-files` (`OrderFileStored`) when a file is stored.
//! - issuing a quote: quote series (`QuoteIssued` from [`quote::quote_body`]) + `quote`
//!   (`QuoteOpened`, "no stream"); a purchase order: purchase-order series
//!   (`PurchaseOrderIssued`) + `purchase-order` (`PurchaseOrderOpened`, "no stream") and, when made
//!   from an accepted quote, that quote's `quote` stream (`QuoteConverted`).
//! - creating a staff member: `staff` (`StaffMemberCreated`, "no stream") + the organisation's
//!   `staff-roster` (`StaffMemberJoined`, `StaffSeatTaken`); any later command that gives or takes
//!   the member's access (`StaffMember::has_access` before and after) adds `StaffSeatTaken` or
//!   `StaffSeatReleased` on the roster, so seats taken never exceed the plan's.
//!
//! On a version conflict the glue reloads the streams, decides again and retries.

pub mod banner;
pub mod calendar;
pub mod catalog;
pub mod closure;
pub mod coupon;
pub mod customer;
pub mod customer_messages;
pub mod dashboard;
pub mod documents;
mod error;
#[cfg(test)]
mod fixtures;
pub mod limits;
pub mod loyalty;
pub mod money;
pub mod order;
pub mod order_files;
pub mod pack;
pub mod pricing;
pub mod quote;
pub mod report_schedule;
pub mod shop;
pub mod staff;
pub mod store_credit;
pub mod testing;
mod text;
mod window;

pub use error::DomainError;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where time and fresh identifiers come from. The server passes the real clock; tests a fixed one.
pub trait Environment: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    fn new_id(&self) -> Uuid;
}

/// An event of one aggregate, as stored in the log.
pub trait DomainEvent:
    serde::Serialize
    + serde::de::DeserializeOwned
    + Clone
    + PartialEq
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// Past-tense name stored in the log envelope, e.g. "OrderPlaced".
    fn event_type(&self) -> &'static str;
    /// Payload schema version, bumped when the payload shape changes.
    fn schema_version(&self) -> u16 {
        1
    }
}

/// A consistency boundary: one stream of events, folded into a state that commands are checked against.
pub trait Aggregate: Default + Clone + Send + Sync + 'static {
    type Command;
    type Event: DomainEvent;
    /// Stream name prefix, e.g. "order".
    const STREAM_KIND: &'static str;
    /// Checks the command against the state and returns the events it causes; changes nothing.
    fn decide(
        &self,
        command: &Self::Command,
        env: &dyn Environment,
    ) -> Result<Vec<Self::Event>, DomainError>;
    /// Applies one event; holds no rule and never fails.
    fn evolve(self, event: &Self::Event) -> Self;
}

/// The state of an aggregate after the given events, from `A::default()`.
pub fn fold<'a, A: Aggregate>(events: impl IntoIterator<Item = &'a A::Event>) -> A {
    events
        .into_iter()
        .fold(A::default(), |state, event| state.evolve(event))
}
