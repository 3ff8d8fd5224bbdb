//! The immutable content of quotes and purchase orders, and how the glue builds it from the shop,
//! the customer and the catalog. Lines are priced excluding VAT (a quote states its prices before
//! tax, whatever the shop's display mode) with the invoices' own VAT-per-rate computation
//! ([`compute_taxes`]: VAT per rate on the sum of the lines, rounded once).

use crate::catalog::Catalog;
use crate::customer::RegisteredCustomer;
use crate::documents::{seller, Seller};
use crate::limits::{
    LINES_PER_QUOTE_MAX, NAME_CHARS_MAX, QUANTITY_PER_LINE_MAX, QUOTE_VALIDITY_DAYS_MAX,
};
use crate::money::{validate_amount, validate_vat_rate};
use crate::order::{DocumentLine, LineKind, OrderCustomer};
use crate::pricing::{compute_taxes, TaxableAmount, Totals};
use crate::shop::ShopProfile;
use crate::text::validate_text;
use crate::DomainError;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A line as staff type it: a catalog product (by SKU) or free text, at a negotiated price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteLineInput {
    /// A catalog product; `None` for a free-text line.
    pub sku: Option<String>,
    /// Required for free text; a catalog line defaults to the product's name.
    pub description: Option<String>,
    pub quantity: u32,
    pub unit_price_excl_vat: Decimal,
    /// Required for free text; a catalog line takes the product's rate (and refuses another).
    pub vat_rate: Option<Decimal>,
}

/// A quote (devis): what the shop offers, at which prices, until when. The number and issue date
/// are on the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteBody {
    pub seller: Seller,
    pub customer: OrderCustomer,
    pub currency: String,
    pub lines: Vec<DocumentLine>,
    pub totals: Totals,
    /// Last day (inclusive) the customer may accept the quote.
    pub valid_until: NaiveDate,
    pub payment_terms: String,
}

/// A purchase order (bon de commande): what the customer orders, from an accepted quote or
/// directly. The number and issue date are on the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderBody {
    pub seller: Seller,
    pub customer: OrderCustomer,
    pub currency: String,
    pub lines: Vec<DocumentLine>,
    pub totals: Totals,
    /// The accepted quote it was made from, if any.
    pub quote_number: Option<String>,
    pub payment_terms: String,
}

impl QuoteBody {
    /// The seller's zone at issue: the quote's days (validity, expiry) are counted in it.
    pub fn zone(&self) -> crate::calendar::Tz {
        self.seller.zone()
    }
}

fn customer_of(
    shop: &ShopProfile,
    customer: &RegisteredCustomer,
) -> Result<OrderCustomer, DomainError> {
    if customer.shop_id != shop.shop_id {
        return Err(DomainError::not_found("customer", customer.customer_id));
    }
    let profile = &customer.profile;
    Ok(OrderCustomer {
        customer_id: Some(customer.customer_id),
        email: customer.email.clone(),
        name: format!("{} {}", profile.first_name, profile.last_name),
        billing_address: profile.address.clone(),
    })
}

/// One line's description and VAT rate, from the catalog or as typed.
fn describe(
    catalog: &Catalog,
    field: &str,
    line: &QuoteLineInput,
) -> Result<(Option<String>, String, Decimal), DomainError> {
    let Some(sku) = &line.sku else {
        let description = line.description.clone().ok_or_else(|| {
            DomainError::validation(
                format!("{field}.description"),
                "a free-text line needs a description",
            )
        })?;
        let vat_rate = line.vat_rate.ok_or_else(|| {
            DomainError::validation(
                format!("{field}.vat_rate"),
                "a free-text line needs a VAT rate",
            )
        })?;
        return Ok((None, description, vat_rate));
    };
    let product = catalog
        .product_by_sku(sku)
        .filter(|product| !catalog.is_retired(product.product_id))
        .ok_or_else(|| DomainError::not_found("product", sku))?;
    if line
        .vat_rate
        .is_some_and(|rate| rate.normalize() != product.vat_rate.normalize())
    {
        // The product's rate is the law for this product; a quote cannot change it.
        return Err(DomainError::validation(
            format!("{field}.vat_rate"),
            format!(
                "product {} is taxed at {} %",
                product.sku,
                product.vat_rate.normalize()
            ),
        ));
    }
    let description = line
        .description
        .clone()
        .unwrap_or_else(|| product.name.clone());
    Ok((Some(product.sku.clone()), description, product.vat_rate))
}

/// Prices typed lines: each line's amount is quantity × unit price excl. VAT, and VAT is computed
/// per rate on the sum of the lines by the invoices' own code.
pub fn price_lines(
    catalog: &Catalog,
    lines: &[QuoteLineInput],
) -> Result<(Vec<DocumentLine>, Totals), DomainError> {
    if lines.is_empty() {
        return Err(DomainError::validation("lines", "at least one line"));
    }
    if lines.len() > LINES_PER_QUOTE_MAX {
        return Err(DomainError::LimitExceeded {
            what: "lines per quote",
            limit: LINES_PER_QUOTE_MAX as u64,
        });
    }
    let mut described = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let field = format!("lines[{index}]");
        let (sku, description, vat_rate) = describe(catalog, &field, line)?;
        validate_text(
            &format!("{field}.description"),
            &description,
            NAME_CHARS_MAX,
        )?;
        validate_vat_rate(&format!("{field}.vat_rate"), vat_rate)?;
        validate_amount(
            &format!("{field}.unit_price_excl_vat"),
            line.unit_price_excl_vat,
            true,
        )?;
        if line.quantity == 0 || line.quantity > QUANTITY_PER_LINE_MAX {
            return Err(DomainError::validation(
                format!("{field}.quantity"),
                format!("from 1 to {QUANTITY_PER_LINE_MAX}"),
            ));
        }
        described.push((sku, description, vat_rate));
    }
    let items: Vec<TaxableAmount> = lines
        .iter()
        .zip(&described)
        .map(|(line, (_, _, vat_rate))| TaxableAmount {
            amount: line.unit_price_excl_vat * Decimal::from(line.quantity),
            vat_rate: *vat_rate,
        })
        .collect();
    let (parts, totals) = compute_taxes(&items, false);
    let priced = lines
        .iter()
        .zip(described)
        .zip(parts)
        .enumerate()
        .map(
            |(index, ((line, (sku, description, vat_rate)), part))| DocumentLine {
                line_number: index as u32 + 1,
                kind: LineKind::Product,
                sku,
                description,
                quantity: line.quantity,
                unit_price_excl_vat: line.unit_price_excl_vat,
                vat_rate,
                total_excl_vat: part.excl_vat,
                total_vat: part.vat,
                total_incl_vat: part.incl_vat,
            },
        )
        .collect();
    Ok((priced, totals))
}

/// The quote of `lines` for a registered customer of the shop, valid until `valid_until`
/// (inclusive), issued on `today`.
pub fn quote_body(
    shop: &ShopProfile,
    customer: &RegisteredCustomer,
    catalog: &Catalog,
    lines: &[QuoteLineInput],
    valid_until: NaiveDate,
    today: NaiveDate,
) -> Result<QuoteBody, DomainError> {
    if valid_until < today {
        return Err(DomainError::validation(
            "valid_until",
            "a quote cannot be valid only in the past",
        ));
    }
    if (valid_until - today).num_days() > QUOTE_VALIDITY_DAYS_MAX {
        return Err(DomainError::validation(
            "valid_until",
            format!("at most {QUOTE_VALIDITY_DAYS_MAX} days from today"),
        ));
    }
    let customer = customer_of(shop, customer)?;
    let (lines, totals) = price_lines(catalog, lines)?;
    Ok(QuoteBody {
        seller: seller(shop),
        customer,
        currency: shop.currency.clone(),
        lines,
        totals,
        valid_until,
        payment_terms: shop.payment_terms.clone(),
    })
}

/// A purchase order made directly, without a quote.
pub fn purchase_order_body(
    shop: &ShopProfile,
    customer: &RegisteredCustomer,
    catalog: &Catalog,
    lines: &[QuoteLineInput],
) -> Result<PurchaseOrderBody, DomainError> {
    let customer = customer_of(shop, customer)?;
    let (lines, totals) = price_lines(catalog, lines)?;
    Ok(PurchaseOrderBody {
        seller: seller(shop),
        customer,
        currency: shop.currency.clone(),
        lines,
        totals,
        quote_number: None,
        payment_terms: shop.payment_terms.clone(),
    })
}

/// The purchase order of an accepted quote: the quote's customer, lines and totals, unchanged.
/// Whether the quote may be converted is the quote aggregate's rule (`QuoteCommand::Convert`).
pub fn purchase_order_body_from_quote(
    shop: &ShopProfile,
    quote_number: &str,
    quote: &QuoteBody,
) -> PurchaseOrderBody {
    PurchaseOrderBody {
        seller: seller(shop),
        customer: quote.customer.clone(),
        currency: quote.currency.clone(),
        lines: quote.lines.clone(),
        totals: quote.totals.clone(),
        quote_number: Some(quote_number.to_owned()),
        payment_terms: shop.payment_terms.clone(),
    }
}
