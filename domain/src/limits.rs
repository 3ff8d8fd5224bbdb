//! Every bound the domain enforces, in one place, with the relations between them checked at compile time.

/// Characters in a short human text: names, labels, SKUs' display names.
pub const NAME_CHARS_MAX: usize = 200;
/// Characters in a free text such as payment terms or a cancellation reason.
pub const TEXT_CHARS_MAX: usize = 2_000;
/// Characters in an external reference: transaction ids, operator names, secret hashes.
pub const REFERENCE_CHARS_MAX: usize = 200;
/// Characters in a SKU.
pub const SKU_CHARS_MAX: usize = 64;
/// Characters in an email address (RFC 5321 path limit).
pub const EMAIL_CHARS_MAX: usize = 254;
/// Characters in a document number pattern.
pub const DOCUMENT_PATTERN_CHARS_MAX: usize = 64;
/// Digits a `{seq:0N}` placeholder may pad to.
pub const DOCUMENT_SEQ_WIDTH_MAX: usize = 12;

/// Categories in one shop's catalog.
pub const CATEGORIES_PER_SHOP_MAX: usize = 1_000;
/// Products in one shop's catalog.
pub const PRODUCTS_PER_SHOP_MAX: usize = 20_000;
/// Degressive price tiers of one product.
pub const TIERS_PER_PRODUCT_MAX: usize = 16;
/// Delivery methods of one shop.
pub const DELIVERY_METHODS_PER_SHOP_MAX: usize = 100;
/// Pickup points of one shop.
pub const PICKUP_POINTS_PER_SHOP_MAX: usize = 1_000;
/// API keys ever created for one shop (revoked ones included: they stay in the stream).
pub const API_KEYS_PER_SHOP_MAX: usize = 1_000;

/// Lines in one order.
pub const LINES_PER_ORDER_MAX: usize = 200;
/// Quantity of one order line.
pub const QUANTITY_PER_LINE_MAX: u32 = 100_000;
/// Payments recorded on one order.
pub const PAYMENTS_PER_ORDER_MAX: usize = 50;
/// Credits (returns, cancellation) recorded on one order.
pub const CREDITS_PER_ORDER_MAX: usize = 50;
/// Grants of store credit held by one customer.
pub const STORE_CREDIT_GRANTS_MAX: usize = 10_000;

/// Decimal places of any money amount and of a unit price.
pub const MONEY_SCALE_MAX: u32 = 2;
/// Decimal places of a VAT rate in percent (e.g. 5.5, 2.1).
pub const VAT_RATE_SCALE_MAX: u32 = 2;
/// Decimal places of a unit price excluding VAT derived from a tax-inclusive price (informative only).
pub const DERIVED_UNIT_PRICE_SCALE: u32 = 4;
/// Largest money amount accepted anywhere, in currency units: far above any photo order,
/// far below where Decimal arithmetic could lose precision.
pub const MONEY_AMOUNT_MAX: i64 = 1_000_000_000;
/// Grams of one product.
pub const WEIGHT_G_MAX: u32 = 1_000_000;

const _: () = assert!(DERIVED_UNIT_PRICE_SCALE >= MONEY_SCALE_MAX);
const _: () = assert!(SKU_CHARS_MAX <= NAME_CHARS_MAX);
const _: () = assert!(DOCUMENT_SEQ_WIDTH_MAX < DOCUMENT_PATTERN_CHARS_MAX);
const _: () = assert!(LINES_PER_ORDER_MAX as u64 * QUANTITY_PER_LINE_MAX as u64 <= u32::MAX as u64);
