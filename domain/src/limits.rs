//! Every bound the domain enforces, in one place, with the relations between them checked at compile time.

/// Characters in a short human text: names, labels, SKUs' display names.
pub const NAME_CHARS_MAX: usize = 200;
/// Characters in a free text such as payment terms or a cancellation reason.
pub const TEXT_CHARS_MAX: usize = 2_000;
/// Characters in a seller's legal form ("SARL", "Société par actions simplifiée unipersonnelle").
pub const LEGAL_FORM_CHARS_MAX: usize = 64;
/// Characters in a legal mention printed on documents, e.g. "TVA non applicable, art. 293 B du CGI".
pub const LEGAL_MENTION_CHARS_MAX: usize = 300;
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
/// Patterns one document series may have had over the shop's life (its first included): each
/// new one must be told apart from all of them (see `shop::patterns_may_overlap`).
pub const PATTERNS_PER_SERIES_MAX: usize = 32;

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
/// Lines of one quote or purchase order.
pub const LINES_PER_QUOTE_MAX: usize = 200;
/// Days from its issue a quote may stay valid.
pub const QUOTE_VALIDITY_DAYS_MAX: i64 = 366;
/// Payments recorded on one order.
pub const PAYMENTS_PER_ORDER_MAX: usize = 50;
/// Credits (returns, cancellation) recorded on one order.
pub const CREDITS_PER_ORDER_MAX: usize = 50;
/// Print jobs of one order, reprints included: a bound on what one order's state holds.
pub const PRINT_JOBS_PER_ORDER_MAX: usize = 1_000;
/// Characters naming the device that took a print job (`ipp://…`, `hot-folder:/path`).
pub const DEVICE_CHARS_MAX: usize = 1_024;
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

/// Characters of a coupon code typed by a manager or a customer (after trimming).
pub const COUPON_CODE_CHARS_MIN: usize = 4;
/// Characters of a coupon code, at most.
pub const COUPON_CODE_CHARS_MAX: usize = 32;
/// Characters of the one code generated for a coupon that applies to all customers (seed 000: "A7HEH9W3").
pub const GENERATED_CODE_CHARS: usize = 8;
/// Characters of each generated single-use code: 50 bits of entropy, so guessing one is hopeless.
pub const SINGLE_USE_CODE_CHARS: usize = 10;
/// Bits of entropy each character of a generated code carries (an alphabet of 32 symbols).
pub const GENERATED_CODE_BITS_PER_CHAR: usize = 5;
/// Random bits a generated code may draw: the low 32 bits of two identifiers.
pub const GENERATED_CODE_RANDOM_BITS_MAX: usize = 64;
/// Bits of entropy every generated code must have at least.
pub const GENERATED_CODE_ENTROPY_BITS_MIN: usize = 40;
/// Single-use codes generated at once. Each batch is two events holding every code (about 13 bytes
/// each in JSON), far below the event log's 1 MiB per event.
pub const SINGLE_USE_CODES_PER_BATCH_MAX: usize = 10_000;
/// Codes reserved in one shop, all coupons together.
pub const COUPON_CODES_PER_SHOP_MAX: usize = 100_000;
/// Products or categories a coupon targets.
pub const COUPON_TARGETS_MAX: usize = 1_000;
/// Uses recorded on one coupon (released ones included: they stay in the stream).
pub const COUPON_USES_MAX: usize = 100_000;
/// Days between a coupon's start and end.
pub const COUPON_VALIDITY_DAYS_MAX: i64 = 3_660;

/// Days of validity one pack may give.
pub const PACK_VALIDITY_DAYS_MAX: u32 = 3_660;
/// Months of validity one pack may give.
pub const PACK_VALIDITY_MONTHS_MAX: u32 = 120;
/// Bytes of data transfer a pack may allow, carried-over remainder included (1 PB).
pub const PACK_TRANSFER_ALLOWANCE_BYTES_MAX: u64 = 1_000_000_000_000_000;
/// Orders a pack may allow, carried-over remainder included.
pub const PACK_ORDER_ALLOWANCE_MAX: u64 = 10_000_000;
/// Activation codes one shop's pack may redeem over its life.
pub const ACTIVATION_CODES_PER_PACK_MAX: usize = 1_000;
/// Hex characters of an activation code's SHA-256 hash.
pub const ACTIVATION_CODE_HASH_CHARS: usize = 64;
/// Daily buckets of the dashboard's recent figures.
pub const DASHBOARD_RECENT_DAYS: u32 = 7;
/// Monthly buckets of the dashboard's yearly figures.
pub const DASHBOARD_RECENT_MONTHS: u32 = 12;

/// Characters in one message between a customer and the shop (a few screens of text).
pub const MESSAGE_CHARS_MAX: usize = 5_000;
/// Messages in one customer's thread, both sides and archived ones included.
pub const MESSAGES_PER_THREAD_MAX: usize = 1_000;
/// Earlier emails one customer account keeps (each stays reserved to it).
pub const PREVIOUS_EMAILS_PER_CUSTOMER_MAX: usize = 20;
/// Loyalty points a shop may give per currency unit paid.
pub const LOYALTY_POINTS_PER_UNIT_MAX: i64 = 100;
/// Decimal places of the loyalty rate (e.g. 0.5 point per euro).
pub const LOYALTY_RATE_SCALE_MAX: u32 = 2;

const _: () = assert!(DERIVED_UNIT_PRICE_SCALE >= MONEY_SCALE_MAX);
const _: () = assert!(SKU_CHARS_MAX <= NAME_CHARS_MAX);
const _: () = assert!(DOCUMENT_SEQ_WIDTH_MAX < DOCUMENT_PATTERN_CHARS_MAX);
const _: () = assert!(LEGAL_FORM_CHARS_MAX <= NAME_CHARS_MAX);
const _: () = assert!(LEGAL_MENTION_CHARS_MAX <= TEXT_CHARS_MAX);
const _: () = assert!(LINES_PER_QUOTE_MAX as u64 * QUANTITY_PER_LINE_MAX as u64 <= u32::MAX as u64);
const _: () = assert!(LINES_PER_ORDER_MAX as u64 * QUANTITY_PER_LINE_MAX as u64 <= u32::MAX as u64);
const _: () = assert!(COUPON_CODE_CHARS_MIN <= GENERATED_CODE_CHARS);
const _: () = assert!(SINGLE_USE_CODE_CHARS <= COUPON_CODE_CHARS_MAX);
const _: () =
    assert!(GENERATED_CODE_CHARS * GENERATED_CODE_BITS_PER_CHAR >= GENERATED_CODE_ENTROPY_BITS_MIN);
const _: () = assert!(
    SINGLE_USE_CODE_CHARS * GENERATED_CODE_BITS_PER_CHAR >= GENERATED_CODE_ENTROPY_BITS_MIN
);
const _: () =
    assert!(SINGLE_USE_CODE_CHARS * GENERATED_CODE_BITS_PER_CHAR <= GENERATED_CODE_RANDOM_BITS_MAX);
const _: () = assert!(SINGLE_USE_CODES_PER_BATCH_MAX <= COUPON_CODES_PER_SHOP_MAX);
// Byte counts are JSON numbers in the on-disk format: below 2^53 every JSON reader (JavaScript's
// included) reads them exactly.
const _: () = assert!(PACK_TRANSFER_ALLOWANCE_BYTES_MAX < 1 << 53);
// Every line of a full order can be reprinted many times over.
const _: () = assert!(PRINT_JOBS_PER_ORDER_MAX >= LINES_PER_ORDER_MAX);
// A thread's messages, all at their longest, stay far below the event log's 1 MiB per event and
// within what one folded state may reasonably hold (about 20 MB of text at 4 bytes a character).
const _: () = assert!(MESSAGE_CHARS_MAX * 4 < 1 << 20);
const _: () = assert!(MESSAGES_PER_THREAD_MAX * MESSAGE_CHARS_MAX * 4 <= 20_000_000);
// The largest amount times the largest rate stays an exact integer in an i64.
const _: () =
    assert!((MONEY_AMOUNT_MAX as i128) * (LOYALTY_POINTS_PER_UNIT_MAX as i128) < i64::MAX as i128);

/// Recipients of one scheduled report (spec §7).
pub const REPORT_RECIPIENTS_MAX: usize = 20;

/// Banners one shop may have at once (seed 000, "Bannières"): all of them show at the top of
/// the online shop, so a few dozen is already more than a storefront draws.
pub const BANNERS_MAX: usize = 50;
/// Characters of a banner's back-office name.
pub const BANNER_NAME_CHARS_MAX: usize = 80;
/// Characters of a banner's title, shown to customers.
pub const BANNER_TITLE_CHARS_MAX: usize = 120;
/// Characters of the description shown under a banner's title.
pub const BANNER_DESCRIPTION_CHARS_MAX: usize = 500;
/// Characters of a banner's button text.
pub const BANNER_BUTTON_TEXT_CHARS_MAX: usize = 40;
/// Largest display order of a banner (they show from 0 upward).
pub const BANNER_DISPLAY_ORDER_MAX: u32 = 9_999;
/// Characters of a URL the shop's settings, banners and product details hold (what browsers
/// reliably take).
pub const URL_CHARS_MAX: usize = 2_048;

const _: () = assert!(BANNER_NAME_CHARS_MAX <= NAME_CHARS_MAX);
const _: () = assert!(BANNER_TITLE_CHARS_MAX <= NAME_CHARS_MAX);
const _: () = assert!(BANNER_DESCRIPTION_CHARS_MAX <= TEXT_CHARS_MAX);
// A banner event carries one banner: its texts and four URLs at their longest (4 bytes a
// character) stay far below the event log's 1 MiB per event, and the shop's whole state below
// two megabytes.
const _: () = assert!(
    (BANNER_NAME_CHARS_MAX
        + BANNER_TITLE_CHARS_MAX
        + BANNER_DESCRIPTION_CHARS_MAX
        + BANNER_BUTTON_TEXT_CHARS_MAX
        + 4 * URL_CHARS_MAX)
        * 4
        * BANNERS_MAX
        < 2_000_000
);
