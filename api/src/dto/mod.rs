//! Schemas of the read views the API answers with, for `/openapi.json`.
//!
//! The views live in `projections` and `domain`, which know nothing of HTTP and so cannot derive
//! `ToSchema`. These types mirror their JSON field by field; they are never built, only described:
//! the handlers keep serializing the views themselves, so the wire stays byte for byte what it was,
//! and `tests/it/openapi.rs` validates real answers against these schemas, so a view that drifts
//! from its mirror fails a test instead of misleading a generated client.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

mod closures;
mod customer_space;
pub use closures::*;
pub use customer_space::*;

use crate::routes::catalog::{DeliveryKindDto, PaymentModeDto};
use crate::routes::orders::PaymentMethodDto;
use crate::routes::print_jobs::PrintJobStatusDto;
use crate::routes::shops::{AddressDto, OrganisationDto};

/// What `rust_decimal` writes for an amount: digits, an optional sign and fraction, no exponent.
pub const MONEY_PATTERN: &str = r"^-?[0-9]+(\.[0-9]+)?$";

/// An amount or a rate as a decimal string (`"12.50"`, `"5.5"`), never a JSON number, so no
/// client rounds it through a float.
// `Serialize` only lets a schema holding it derive `Serialize` for utoipa's sake (see
// `CustomerAccount`); no `Money` is ever built.
#[derive(serde::Serialize)]
pub struct Money;

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("decimal".into())))
            .pattern(Some(MONEY_PATTERN))
            .description(Some(
                "A decimal string such as \"12.50\" (amounts) or \"5.5\" (VAT rates, percent).",
            ))
            .examples(["12.50"])
            .into()
    }
}

impl ToSchema for Money {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Money")
    }
}

/// Raw bytes of a file body (uploads, downloads, zip archives): a string of `format: binary`, which
/// generators map to a byte stream, where `Vec<u8>` would be described as an array of integers.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for Binary {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Binary")
    }
}

/// Where an order stands.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OrderStatusDto {
    Placed,
    Paid,
    InProduction,
    Shipped,
    ReadyForPickup,
    Delivered,
    Cancelled,
}

/// Why an order was credited.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CreditReasonDto {
    Return,
    Cancellation,
}

/// What a document line bills: a product or the shipping.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum LineKindDto {
    Product,
    Shipping,
}

/// Who ordered: a registered account (`customer_id`) or a guest (`customer_id` null).
#[derive(ToSchema)]
pub struct OrderCustomer {
    pub customer_id: Option<Uuid>,
    /// Normalised (lower-case).
    pub email: String,
    pub name: String,
    pub billing_address: Option<AddressDto>,
}

/// The totals of one VAT rate.
#[derive(ToSchema)]
pub struct VatSubtotal {
    pub vat_rate: Money,
    pub base_excl_vat: Money,
    pub vat_amount: Money,
    pub total_incl_vat: Money,
}

/// Totals per VAT rate (ascending), then overall.
#[derive(ToSchema)]
pub struct Totals {
    pub vat_breakdown: Vec<VatSubtotal>,
    pub total_excl_vat: Money,
    pub total_vat: Money,
    pub total_incl_vat: Money,
}

/// A product line priced from the catalog.
#[derive(ToSchema)]
pub struct PricedLine {
    /// Position in the order, from 1; returns refer to lines by it.
    pub line_number: u32,
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub category_id: Uuid,
    pub quantity: u32,
    /// Unit price of the tier for this quantity, in the shop's tax mode.
    pub unit_price: Money,
    /// Informative when prices include tax (rounded to 4 decimals); line totals are authoritative.
    pub unit_price_excl_vat: Money,
    pub vat_rate: Money,
    pub unit_weight_g: u32,
    pub total_excl_vat: Money,
    pub total_vat: Money,
    pub total_incl_vat: Money,
}

/// The delivery method as priced.
#[derive(ToSchema)]
pub struct PricedShipping {
    pub delivery_method_id: Uuid,
    pub name: String,
    pub kind: DeliveryKindDto,
    pub payment_mode: PaymentModeDto,
    /// As stated in the catalog, in the shop's tax mode.
    pub price: Money,
    pub vat_rate: Money,
    pub total_excl_vat: Money,
    pub total_vat: Money,
    pub total_incl_vat: Money,
}

/// A basket priced from the catalog, before any coupon.
#[derive(ToSchema)]
pub struct PricedBasket {
    pub prices_include_tax: bool,
    pub lines: Vec<PricedLine>,
    pub shipping: PricedShipping,
    pub totals: Totals,
    pub total_weight_g: u64,
}

/// The reduction of one product line, in the shop's tax mode.
#[derive(ToSchema)]
pub struct LineDiscount {
    pub line_number: u32,
    pub amount: Money,
}

/// What a coupon takes off a basket.
#[derive(ToSchema)]
pub struct CouponDiscount {
    /// The whole reduction in the shop's tax mode: `lines` plus `shipping`.
    pub amount: Money,
    pub lines: Vec<LineDiscount>,
    pub shipping: Money,
    pub totals: Totals,
}

/// The coupon an order was placed with, and what it takes off.
#[derive(ToSchema)]
pub struct AppliedCoupon {
    pub coupon_id: Uuid,
    /// Normalised (upper case).
    pub code: String,
    pub discount: CouponDiscount,
}

/// A payment recorded on an order.
#[derive(ToSchema)]
pub struct PaymentRecord {
    pub payment_id: Uuid,
    pub method: PaymentMethodDto,
    pub amount: Money,
    pub transaction_id: Option<String>,
    pub external_payment_id: Option<String>,
    /// The operator at the counter, or the integration that reported it.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// What a cancelled order gives back by one payment method.
#[derive(ToSchema)]
pub struct MethodRefund {
    pub method: PaymentMethodDto,
    pub amount: Money,
}

/// A line of an invoice or a credit note.
#[derive(ToSchema)]
pub struct DocumentLine {
    /// The order's line number; the shipping line comes after the products.
    pub line_number: u32,
    pub kind: LineKindDto,
    /// Null for shipping.
    pub sku: Option<String>,
    pub description: String,
    pub quantity: u32,
    pub unit_price_excl_vat: Money,
    pub vat_rate: Money,
    pub total_excl_vat: Money,
    pub total_vat: Money,
    pub total_incl_vat: Money,
}

/// A document-level reduction at one VAT rate (the coupon's share); amounts are positive.
#[derive(ToSchema)]
pub struct DocumentAllowance {
    pub reason: String,
    pub vat_rate: Money,
    pub amount_excl_vat: Money,
    pub vat: Money,
    pub amount_incl_vat: Money,
}

/// How a credit was settled, as recorded: `{"refund": {"method": "card"}}` or `"store_credit"`
/// (externally tagged, unlike the `SettlementDto` a request sends).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Settlement {
    Refund(RefundSettlement),
    StoreCredit,
}

/// The variants' objects are named schemas: client generators that meet an inline object inside
/// a `oneOf` variant may drop the whole type (openapi-python-client does).
#[derive(ToSchema)]
pub struct RefundSettlement {
    pub method: PaymentMethodDto,
}

/// A credit of an order: what its credit note carries.
#[derive(ToSchema)]
pub struct CreditRecord {
    pub credit_id: Uuid,
    pub reason: CreditReasonDto,
    pub lines: Vec<DocumentLine>,
    /// Absent without a coupon.
    #[schema(required = false)]
    pub allowances: Vec<DocumentAllowance>,
    pub totals: Totals,
    pub settlement: Settlement,
    pub credited_by: String,
    pub credited_at: DateTime<Utc>,
}

/// A print job as the order knows it.
#[derive(ToSchema)]
pub struct OrderPrintJob {
    pub job_id: Uuid,
    /// 0-based index of the order line.
    pub line: u32,
    /// Empty until a device reports on it.
    pub device: String,
    /// Null for a reprint no device has reported on yet.
    pub status: Option<PrintJobStatusDto>,
    pub reason: String,
    pub reprint_of: Option<Uuid>,
}

/// A registered customer account (read model).
#[derive(ToSchema, serde::Serialize)]
pub struct Customer {
    pub shop_id: Uuid,
    pub customer_id: Uuid,
    /// Normalised (lower-case): the identity of the account.
    pub email: String,
    pub email_as_typed: String,
    /// Emails the account moved away from, oldest first, without the current one (still its own).
    pub previous_emails: Vec<String>,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub address: Option<AddressDto>,
    /// Agreed to receive newsletters and offers.
    pub marketing_consent: bool,
    /// Answers to the shop's additional account fields, by key; absent when none.
    #[schema(required = false)]
    pub extra: std::collections::BTreeMap<String, String>,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Version of the customer stream (for `ETag`/`If-Match`).
    pub version: u64,
}

// `Serialize` is derived here and on the types it holds only so that utoipa reads
// `#[serde(flatten)]` (the account's schema is reused, not copied); the type is never built.
/// One customer account with its store credit (`GET /customers/{customer_id}`): the account's
/// fields, then `store_credit`.
#[derive(ToSchema, serde::Serialize)]
pub struct CustomerAccount {
    #[serde(flatten)]
    pub customer: Customer,
    /// The store credit the customer can spend, and the credit notes that make it.
    pub store_credit: StoreCredit,
}

/// Everything known of an order (read model).
#[derive(ToSchema)]
pub struct Order {
    pub shop_id: Uuid,
    pub order_id: Uuid,
    pub status: OrderStatusDto,
    /// Set when placed, cleared when a staff user opens the order.
    pub is_new: bool,
    pub customer: OrderCustomer,
    pub currency: String,
    pub prices_include_tax: bool,
    pub lines: Vec<PricedLine>,
    pub shipping: PricedShipping,
    /// What the customer owes (after any coupon), VAT per rate.
    pub totals: Totals,
    pub total_weight_g: u64,
    pub pickup_point_id: Option<Uuid>,
    pub shipping_address: Option<AddressDto>,
    pub amount_paid: Money,
    pub payments: Vec<PaymentRecord>,
    /// Quantity credited so far, by line number (the keys are line numbers as strings).
    pub credited_quantities: BTreeMap<String, u32>,
    pub shipping_credited: bool,
    pub credits: Vec<CreditRecord>,
    /// Payments of a cancelled, not fully paid order to give back outside any credit note.
    pub refund_due: Money,
    /// `refund_due` split by the methods the order was paid with (store credit goes back to
    /// the customer's store credit). Empty for a cancellation recorded before the split existed.
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
    /// Version of the order stream (for `ETag`/`If-Match`).
    pub version: u64,
    /// Log position of the last event that changed this view.
    pub last_position: u64,
    pub print_jobs: Vec<OrderPrintJob>,
}

/// One row of the order list.
#[derive(ToSchema)]
pub struct OrderSummary {
    pub shop_id: Uuid,
    pub order_id: Uuid,
    pub status: OrderStatusDto,
    pub is_new: bool,
    pub customer_email: String,
    pub customer_name: String,
    pub currency: String,
    pub total_incl_vat: Money,
    pub amount_paid: Money,
    pub invoice_number: Option<String>,
    pub placed_at: DateTime<Utc>,
}

/// The seller as printed on documents.
#[derive(ToSchema)]
pub struct Seller {
    pub shop_name: String,
    pub organisation: OrganisationDto,
    /// The shop's IANA time zone when the document was issued (its dates are days of that
    /// zone); absent on documents of shops that never chose one, which use `Europe/Paris`.
    #[schema(required = false)]
    pub time_zone: String,
}

/// An invoice: number and date, then the immutable snapshot with the French legal mentions.
#[derive(ToSchema)]
pub struct Invoice {
    pub shop_id: Uuid,
    pub number: String,
    /// Position in the series (restarts each year when the pattern carries the year).
    pub seq: u64,
    pub year: i32,
    pub issued_at: DateTime<Utc>,
    pub order_id: Uuid,
    pub seller: Seller,
    pub customer: OrderCustomer,
    pub currency: String,
    pub prices_include_tax: bool,
    /// The order's lines at their catalog prices, before the coupon.
    pub lines: Vec<DocumentLine>,
    /// The coupon's discount per VAT rate; absent without a coupon.
    #[schema(required = false)]
    pub allowances: Vec<DocumentAllowance>,
    /// What is due: per rate, the lines less the allowances.
    pub totals: Totals,
    pub payment_terms: String,
    pub payments: Vec<PaymentRecord>,
    pub order_placed_at: DateTime<Utc>,
}

/// A credit note: credited lines, the invoice it corrects, how it is settled.
#[derive(ToSchema)]
pub struct CreditNote {
    pub shop_id: Uuid,
    pub number: String,
    pub seq: u64,
    pub year: i32,
    pub issued_at: DateTime<Utc>,
    pub order_id: Uuid,
    pub credit_id: Uuid,
    pub invoice_number: String,
    pub reason: CreditReasonDto,
    pub seller: Seller,
    pub customer: OrderCustomer,
    pub currency: String,
    pub prices_include_tax: bool,
    pub lines: Vec<DocumentLine>,
    /// The coupon's share of the credited units per VAT rate; absent without a coupon.
    #[schema(required = false)]
    pub allowances: Vec<DocumentAllowance>,
    pub totals: Totals,
    pub settlement: Settlement,
    /// Set when the store credit it granted has been fully spent; cleared when a cancelled
    /// order gives some of it back.
    pub used_at: Option<DateTime<Utc>>,
    /// When the invoice it corrects was issued; absent on credit notes recorded before this was
    /// kept, until the read models are rebuilt.
    #[schema(required = false)]
    pub invoice_issued_at: DateTime<Utc>,
}

/// A line of a delivery slip: no prices.
#[derive(ToSchema)]
pub struct DeliverySlipLine {
    pub line_number: u32,
    pub sku: String,
    pub description: String,
    pub quantity: u32,
    pub unit_weight_g: u32,
}

/// A delivery slip: what leaves the shop.
#[derive(ToSchema)]
pub struct DeliverySlip {
    pub shop_id: Uuid,
    pub number: String,
    pub seq: u64,
    pub year: i32,
    pub issued_at: DateTime<Utc>,
    pub order_id: Uuid,
    pub seller: Seller,
    pub customer: OrderCustomer,
    pub delivery_method_name: String,
    pub shipping_address: Option<AddressDto>,
    pub pickup_point_id: Option<Uuid>,
    pub tracking_number: Option<String>,
    pub lines: Vec<DeliverySlipLine>,
    pub total_weight_g: u64,
}

/// A page of invoices; pass `next_cursor` as `after` for the next one (null on the last).
#[derive(ToSchema)]
pub struct InvoicePage {
    pub items: Vec<Invoice>,
    pub next_cursor: Option<String>,
}

/// A page of credit notes.
#[derive(ToSchema)]
pub struct CreditNotePage {
    pub items: Vec<CreditNote>,
    pub next_cursor: Option<String>,
}

/// A page of delivery slips.
#[derive(ToSchema)]
pub struct DeliverySlipPage {
    pub items: Vec<DeliverySlip>,
    pub next_cursor: Option<String>,
}

/// A delivery method as stored.
#[derive(ToSchema)]
pub struct DeliveryMethod {
    pub delivery_method_id: Uuid,
    pub name: String,
    pub kind: DeliveryKindDto,
    pub payment_mode: PaymentModeDto,
    /// Hidden methods are not offered to customers and cannot be ordered.
    pub visible: bool,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    /// Shipping price, in the shop's tax mode.
    pub price: Money,
    /// In percent (20 in France).
    pub vat_rate: Money,
    /// Offered only to baskets weighing at least this.
    pub min_weight_g: u32,
}

/// Why a shop cannot take orders or uploads.
#[derive(ToSchema, serde::Serialize)]
#[schema(rename_all = "snake_case")]
pub enum DeactivationReason {
    NotActivated,
    PackExpired,
    QuotaExhausted,
}

/// `{"status": "active"}` or `{"status": "deactivated", "reason": "pack_expired"}`. (`Serialize`
/// is derived only so that utoipa can read the internal tag from `#[serde(tag)]`.)
#[derive(ToSchema, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum PackStatus {
    Active,
    Deactivated { reason: DeactivationReason },
}

/// A reduction, in the shop's tax mode: `{"percent": "10"}` (more than 0, at most 100) or
/// `{"amount": "2.00"}` (capped at the eligible amount).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Reduction {
    Percent(Money),
    Amount(Money),
}

/// A reduction of the shipping price: `"free"`, `{"percent": "50"}` or `{"amount": "2.00"}`.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ShippingReduction {
    Free,
    Percent(Money),
    Amount(Money),
}

/// What a coupon reduces: `{"order": {"reduction": ..}}`, `{"shipping": {"reduction": ..}}`,
/// `{"product": {"reduction": .., "product_ids": [..]}}` or
/// `{"product_type": {"reduction": .., "category_ids": [..]}}`.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CouponScope {
    Shipping(ShippingScope),
    Order(OrderScope),
    /// Only the lines of these products.
    Product(ProductScope),
    /// Only the lines of products in these categories.
    ProductType(ProductTypeScope),
}

/// A reduction of the shipping price.
#[derive(ToSchema)]
pub struct ShippingScope {
    pub reduction: ShippingReduction,
}

/// A reduction of the whole order.
#[derive(ToSchema)]
pub struct OrderScope {
    pub reduction: Reduction,
}

/// Only the lines of these products.
#[derive(ToSchema)]
pub struct ProductScope {
    pub reduction: Reduction,
    pub product_ids: Vec<Uuid>,
}

/// Only the lines of products in these categories.
#[derive(ToSchema)]
pub struct ProductTypeScope {
    pub reduction: Reduction,
    pub category_ids: Vec<Uuid>,
}

/// Who may use a coupon: `{"all_customers": {"max_total_uses": 50, "max_uses_per_customer": 1}}`
/// (null = unlimited) or `"single_use_codes"`.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Audience {
    /// One code for everyone.
    AllCustomers(AllCustomersAudience),
    /// Many codes, each usable once.
    SingleUseCodes,
}

/// One code for everyone, within these limits (null = unlimited).
#[derive(ToSchema)]
pub struct AllCustomersAudience {
    pub max_total_uses: Option<u32>,
    pub max_uses_per_customer: Option<u32>,
}

/// One row of the coupon list.
#[derive(ToSchema)]
pub struct CouponSummary {
    pub coupon_id: Uuid,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub single_use_codes: bool,
    /// Codes are generated: the coupon can no longer change.
    pub locked: bool,
    pub code_count: u64,
    /// Uses that count (orders not cancelled).
    pub active_uses: u64,
    pub created_at: DateTime<Utc>,
}

/// One bar of a count chart: the period starting on `starts_on` (a day, or a month's first day).
#[derive(ToSchema)]
pub struct CountBucket {
    pub starts_on: chrono::NaiveDate,
    pub value: u64,
}

/// The bars of a count chart, oldest first, and their total.
#[derive(ToSchema)]
pub struct CountSeries {
    pub buckets: Vec<CountBucket>,
    pub total: u64,
}

/// One bar of an amount chart.
#[derive(ToSchema)]
pub struct AmountBucket {
    pub starts_on: chrono::NaiveDate,
    pub value: Money,
}

/// The bars of an amount chart, oldest first, and their total.
#[derive(ToSchema)]
pub struct AmountSeries {
    pub buckets: Vec<AmountBucket>,
    pub total: Money,
}

/// The shop's dashboard: level, pack end and status, what is left, and the charts.
#[derive(ToSchema)]
pub struct Dashboard {
    /// Null before the first activation.
    pub account_level: Option<String>,
    pub pack_ends_at: Option<DateTime<Utc>>,
    pub pack_status: PackStatus,
    /// The pack stays usable until `pack_ends_at`.
    pub unsubscribed: bool,
    pub transfer_bytes_left: u64,
    /// Rounded down to the hundredth.
    pub transfer_gigabytes_left: Money,
    pub orders_left: u64,
    pub bandwidth_bytes_last_7_days: CountSeries,
    pub bandwidth_bytes_last_12_months: CountSeries,
    pub orders_last_7_days: CountSeries,
    pub orders_last_12_months: CountSeries,
    /// Order totals including VAT.
    pub sales_last_7_days: AmountSeries,
    pub sales_last_12_months: AmountSeries,
}

/// One account's line of a trial balance.
#[derive(ToSchema)]
pub struct AccountBalanceRow {
    pub account: String,
    pub label: String,
    pub debit: Money,
    pub credit: Money,
    /// Debit minus credit.
    pub balance: Money,
}

/// One fiscal year of the shop.
#[derive(ToSchema)]
pub struct FiscalYear {
    /// The calendar year it closes in: the `year` of `ledger/fec` and of a year closure.
    pub year: i32,
    /// First day, in the shop's time zone.
    pub first_day: NaiveDate,
    /// Closing day, in the shop's time zone.
    pub closing_day: NaiveDate,
    /// Its length in calendar months when it is made of whole months (it then closes as the sum
    /// of its months, otherwise of its days); `null` otherwise.
    pub months: Option<u32>,
    /// The year holding today: its FEC is not final yet.
    pub in_progress: bool,
    /// `{SIREN}FEC{AAAAMMJJ}.txt`, the name its FEC downloads as.
    pub fec_file_name: String,
}

/// The shop's fiscal years, oldest first, up to the one in progress.
#[derive(ToSchema)]
pub struct FiscalYears {
    pub fiscal_years: Vec<FiscalYear>,
}

/// Every account moved in whole months of the shop's time zone; the totals are equal.
#[derive(ToSchema)]
pub struct TrialBalance {
    /// First month included, YYYYMM, in the shop's time zone.
    pub from_month: u32,
    /// Last month included, YYYYMM, in the shop's time zone.
    pub to_month: u32,
    pub rows: Vec<AccountBalanceRow>,
    pub total_debit: Money,
    pub total_credit: Money,
}

/// The journal an entry is booked in: `VE` sales, `BQ` bank, `CA` cash, `OD` store credit.
#[derive(ToSchema)]
pub enum Journal {
    #[schema(rename = "VE")]
    Sales,
    #[schema(rename = "BQ")]
    Bank,
    #[schema(rename = "CA")]
    Cash,
    #[schema(rename = "OD")]
    Miscellaneous,
}

/// One line of an entry: an account debited or credited (never both; never negative).
#[derive(ToSchema)]
pub struct Posting {
    pub account: String,
    pub account_label: String,
    /// The customer's auxiliary account on 411 and 4191 postings.
    pub aux_account: Option<String>,
    pub aux_label: Option<String>,
    pub debit: Money,
    pub credit: Money,
}

/// One balanced entry of the journal.
#[derive(ToSchema)]
pub struct LedgerEntry {
    /// Per shop, from 1, in posting order (FEC `EcritureNum`).
    pub entry_number: u64,
    pub journal: Journal,
    pub date: DateTime<Utc>,
    /// The day the entry is booked on: `date`'s day in the shop's time zone in force when it
    /// was posted (the FEC's `EcritureDate`); it fixes the entry's month and fiscal year.
    pub local_date: chrono::NaiveDate,
    /// An invoice or credit note number, or the order for a payment.
    pub piece_ref: String,
    pub piece_date: DateTime<Utc>,
    pub label: String,
    pub postings: Vec<Posting>,
    /// The log position of the event that posted it.
    pub position: u64,
}

/// The journal of a period, in date order.
#[derive(ToSchema)]
pub struct JournalPage {
    pub entries: Vec<LedgerEntry>,
    /// With `limit` or `after`: pass it as `after` for the next page; `null` at the end.
    pub next_cursor: Option<String>,
}

/// One posting of an account in the general ledger, with the account's balance so far.
#[derive(ToSchema)]
pub struct GeneralLedgerLine {
    /// The entry's number (FEC `EcritureNum`).
    pub entry_number: u64,
    /// The entry's journal code: `VE`, `BQ`, `CA` or `OD`.
    pub journal: String,
    pub date: DateTime<Utc>,
    /// The day the entry is booked on, in the shop's time zone.
    pub local_date: chrono::NaiveDate,
    pub piece_ref: String,
    pub label: String,
    /// The customer's auxiliary account on 411 and 4191 postings.
    pub aux_account: Option<String>,
    pub debit: Money,
    pub credit: Money,
    /// Debits minus credits of the account from the period's start through this line.
    pub running_balance: Money,
}

/// One account of the general ledger over the period.
#[derive(ToSchema)]
pub struct GeneralLedgerAccount {
    pub account: String,
    pub label: String,
    /// The balance before the first line: zero over a whole period; on a page, the account's
    /// balance at the end of the previous page.
    pub opening_balance: Money,
    /// In date order.
    pub lines: Vec<GeneralLedgerLine>,
    /// From the period's start through the last line (on a page: this page's last line).
    pub total_debit: Money,
    pub total_credit: Money,
    /// Debit minus credit: the last line's running balance.
    pub balance: Money,
}

/// The general ledger of a period: the accounts moved, in account order.
#[derive(ToSchema)]
pub struct GeneralLedger {
    pub accounts: Vec<GeneralLedgerAccount>,
    /// Over the accounts listed (on a page: from the first page through this one); equal to
    /// `total_credit` for the whole period when no account filter is given.
    pub total_debit: Money,
    pub total_credit: Money,
    /// With `limit` or `after`: pass it as `after` for the next page; `null` at the end.
    pub next_cursor: Option<String>,
}

/// How statistics rows are formed.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GroupBy {
    OrderNumber,
    Customer,
    ProductType,
    OrderDay,
    PaymentType,
}

/// Which orders statistics count: `paid` (reached paid, not cancelled) or `all` (placed, not
/// cancelled).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum StatisticsStatus {
    Paid,
    All,
}

/// What is measured per row and in total; amounts include VAT unless named.
#[derive(ToSchema)]
pub struct Measures {
    /// Distinct orders contributing to the row.
    pub orders: u64,
    /// Units of products.
    pub items: u64,
    pub net: Money,
    pub vat: Money,
    pub gross: Money,
    /// Coupon discounts granted, incl. VAT (positive).
    pub discounts: Money,
    /// Credit notes of these orders whenever issued, incl. VAT (positive).
    pub credit_notes: Money,
}

/// One group of the statistics.
#[derive(ToSchema)]
pub struct StatisticsRow {
    /// What the rows are keyed and sorted by (an order id, an email, a day, a method…).
    pub key: String,
    /// A human name for the key.
    pub label: String,
    pub orders: u64,
    pub items: u64,
    pub net: Money,
    pub vat: Money,
    pub gross: Money,
    pub discounts: Money,
    pub credit_notes: Money,
}

/// Sales statistics of a period (`format=json`).
#[derive(ToSchema)]
pub struct Statistics {
    pub shop_ids: Vec<Uuid>,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub group_by: GroupBy,
    pub status: StatisticsStatus,
    pub rows: Vec<StatisticsRow>,
    pub totals: Measures,
}

/// An invoice or credit note as listed in a customer's space.
#[derive(ToSchema)]
pub struct SpaceDocument {
    pub number: String,
    pub order_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub total_incl_vat: Money,
    /// Credit notes only: when the store credit it granted was fully spent (none while a
    /// cancelled order's restore left some of it spendable).
    pub used_at: Option<DateTime<Utc>>,
    /// Credit notes settled as this customer's store credit only: how much of it is spent.
    pub store_credit: Option<SpaceStoreCredit>,
}

/// A payment with the order it paid.
#[derive(ToSchema)]
pub struct SpacePayment {
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub method: PaymentMethodDto,
    pub amount: Money,
    pub transaction_id: Option<String>,
    pub external_payment_id: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A customer's space: the account, orders, invoices, credit notes and payments, oldest first.
#[derive(ToSchema)]
pub struct CustomerSpace {
    pub customer: Customer,
    pub orders: Vec<OrderSummary>,
    pub invoices: Vec<SpaceDocument>,
    pub credit_notes: Vec<SpaceDocument>,
    pub payments: Vec<SpacePayment>,
    pub quotes: Vec<SpaceQuote>,
    pub purchase_orders: Vec<SpacePurchaseOrder>,
    /// The store credit the customer can spend, and the credit notes that make it.
    pub store_credit: StoreCredit,
}

/// Where a quote is; `expired` is derived on reading (an issued quote past `valid_until`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum QuoteStatusDto {
    Issued,
    Accepted,
    Declined,
    Expired,
}

/// A quote (devis): number and date, the snapshot (seller, customer, lines, totals per VAT rate,
/// validity) and what became of it.
#[derive(ToSchema)]
pub struct Quote {
    pub shop_id: Uuid,
    pub number: String,
    pub seq: u64,
    pub year: i32,
    pub issued_at: DateTime<Utc>,
    pub seller: Seller,
    pub customer: OrderCustomer,
    pub currency: String,
    pub lines: Vec<DocumentLine>,
    pub totals: Totals,
    /// Last day (inclusive) the quote may be accepted.
    pub valid_until: chrono::NaiveDate,
    pub payment_terms: String,
    pub status: QuoteStatusDto,
    /// When it was accepted or declined, and by whom.
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decline_reason: Option<String>,
    /// The purchase order made from it.
    pub purchase_order_number: Option<String>,
}

/// A purchase order (bon de commande), and its payment once marked paid.
#[derive(ToSchema)]
pub struct PurchaseOrder {
    pub shop_id: Uuid,
    pub number: String,
    pub seq: u64,
    pub year: i32,
    pub issued_at: DateTime<Utc>,
    pub seller: Seller,
    pub customer: OrderCustomer,
    pub currency: String,
    pub lines: Vec<DocumentLine>,
    pub totals: Totals,
    /// The accepted quote it was made from.
    pub quote_number: Option<String>,
    pub payment_terms: String,
    pub paid: bool,
    pub payment: Option<PaymentRecord>,
}

/// A page of quotes.
#[derive(ToSchema)]
pub struct QuotePage {
    pub items: Vec<Quote>,
    pub next_cursor: Option<String>,
}

/// A page of purchase orders.
#[derive(ToSchema)]
pub struct PurchaseOrderPage {
    pub items: Vec<PurchaseOrder>,
    pub next_cursor: Option<String>,
}

/// A quote as listed in a customer's space.
#[derive(ToSchema)]
pub struct SpaceQuote {
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub valid_until: chrono::NaiveDate,
    pub total_incl_vat: Money,
    pub status: QuoteStatusDto,
    pub purchase_order_number: Option<String>,
}

/// A purchase order as listed in a customer's space; paid ones are marked.
#[derive(ToSchema)]
pub struct SpacePurchaseOrder {
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub total_incl_vat: Money,
    pub quote_number: Option<String>,
    pub paid: bool,
    pub paid_at: Option<DateTime<Utc>>,
}
