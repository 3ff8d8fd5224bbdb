//! Pricing: pure functions from the catalog and a basket to priced lines, shipping and VAT.
//!
//! Prices come from the catalog only; whatever a client believes a price to be is never an input.
//! VAT is computed per rate on the sum of the amounts at that rate and rounded half-up to the cent
//! (EN 16931 BR-CO-17), then spread back onto the lines by largest remainder, so that lines, VAT
//! per rate and totals all add up exactly in both tax modes.

#[cfg(test)]
mod tests;

use crate::catalog::{Catalog, DeliveryKind, PaymentMode};
use crate::limits::{DERIVED_UNIT_PRICE_SCALE, LINES_PER_ORDER_MAX, QUANTITY_PER_LINE_MAX};
use crate::money::{allocate_cents, round_cents};
use crate::DomainError;
use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// What a client asks for: a SKU and a quantity. No price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasketLine {
    pub sku: String,
    pub quantity: u32,
}

/// An amount stated in the shop's tax mode, with its VAT rate: the input of [`compute_taxes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxableAmount {
    pub amount: Decimal,
    pub vat_rate: Decimal,
}

/// One amount split into its parts; `excl_vat + vat == incl_vat` always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxedAmount {
    pub excl_vat: Decimal,
    pub vat: Decimal,
    pub incl_vat: Decimal,
}

/// The totals of one VAT rate in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatSubtotal {
    pub vat_rate: Decimal,
    pub base_excl_vat: Decimal,
    pub vat_amount: Decimal,
    pub total_incl_vat: Decimal,
}

/// Totals of a document: per rate (ascending), then overall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub vat_breakdown: Vec<VatSubtotal>,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    /// Position in the order, from 1; returns refer to lines by it.
    pub line_number: u32,
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub category_id: Uuid,
    pub quantity: u32,
    /// Unit price of the tier for this quantity, as stated in the catalog (shop's tax mode).
    pub unit_price: Decimal,
    /// Unit price excluding VAT: exact when prices exclude tax; otherwise derived from the line
    /// total and rounded to 4 decimals, informative only (the line totals are authoritative).
    pub unit_price_excl_vat: Decimal,
    pub vat_rate: Decimal,
    pub unit_weight_g: u32,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedShipping {
    pub delivery_method_id: Uuid,
    pub name: String,
    pub kind: DeliveryKind,
    pub payment_mode: PaymentMode,
    /// Shipping price as stated in the catalog (shop's tax mode).
    pub price: Decimal,
    pub vat_rate: Decimal,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

/// A basket priced from the catalog: what the cart shows and what the order records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedBasket {
    pub prices_include_tax: bool,
    pub lines: Vec<PricedLine>,
    pub shipping: PricedShipping,
    pub totals: Totals,
    pub total_weight_g: u64,
}

/// Splits each amount into excl. VAT / VAT / incl. VAT with VAT computed per rate on the sum.
/// The returned parts are in the order of `items`; the totals' breakdown is by ascending rate.
pub fn compute_taxes(
    items: &[TaxableAmount],
    prices_include_tax: bool,
) -> (Vec<TaxedAmount>, Totals) {
    let mut groups: BTreeMap<Decimal, Vec<usize>> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        groups
            .entry(item.vat_rate.normalize())
            .or_default()
            .push(index);
    }
    let zero = TaxedAmount {
        excl_vat: Decimal::ZERO,
        vat: Decimal::ZERO,
        incl_vat: Decimal::ZERO,
    };
    let mut parts = vec![zero; items.len()];
    let mut breakdown = Vec::with_capacity(groups.len());
    for (vat_rate, indices) in groups {
        let amounts: Vec<Decimal> = indices.iter().map(|i| items[*i].amount).collect();
        let subtotal = tax_one_rate(vat_rate, &amounts, prices_include_tax);
        let vats = allocate_cents(subtotal.vat_amount, &amounts);
        for ((index, amount), vat) in indices.iter().zip(&amounts).zip(vats) {
            parts[*index] = split(*amount, vat, prices_include_tax);
        }
        breakdown.push(subtotal);
    }
    let totals = Totals {
        total_excl_vat: breakdown.iter().map(|s| s.base_excl_vat).sum(),
        total_vat: breakdown.iter().map(|s| s.vat_amount).sum(),
        total_incl_vat: breakdown.iter().map(|s| s.total_incl_vat).sum(),
        vat_breakdown: breakdown,
    };
    (parts, totals)
}

/// VAT of one rate on the sum of its amounts, rounded once (BR-CO-17).
fn tax_one_rate(vat_rate: Decimal, amounts: &[Decimal], prices_include_tax: bool) -> VatSubtotal {
    let sum: Decimal = amounts.iter().copied().sum();
    if prices_include_tax {
        let vat_amount = round_cents(sum * vat_rate / (Decimal::ONE_HUNDRED + vat_rate));
        VatSubtotal {
            vat_rate,
            base_excl_vat: sum - vat_amount,
            vat_amount,
            total_incl_vat: sum,
        }
    } else {
        let vat_amount = round_cents(sum * vat_rate / Decimal::ONE_HUNDRED);
        VatSubtotal {
            vat_rate,
            base_excl_vat: sum,
            vat_amount,
            total_incl_vat: sum + vat_amount,
        }
    }
}

fn split(amount: Decimal, vat: Decimal, prices_include_tax: bool) -> TaxedAmount {
    if prices_include_tax {
        TaxedAmount {
            excl_vat: amount - vat,
            vat,
            incl_vat: amount,
        }
    } else {
        TaxedAmount {
            excl_vat: amount,
            vat,
            incl_vat: amount + vat,
        }
    }
}

/// Prices a basket from the catalog at `now`: tier unit prices, shipping, VAT per rate, totals.
pub fn price_basket(
    catalog: &Catalog,
    lines: &[BasketLine],
    delivery_method_id: Uuid,
    prices_include_tax: bool,
    now: DateTime<Utc>,
) -> Result<PricedBasket, DomainError> {
    validate_basket_shape(lines)?;
    let mut priced = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        priced.push(price_line(catalog, line, index)?);
    }
    let total_weight_g: u64 = priced
        .iter()
        .map(|l| u64::from(l.unit_weight_g) * u64::from(l.quantity))
        .sum();
    let method = catalog
        .delivery_methods
        .get(&delivery_method_id)
        .ok_or_else(|| DomainError::not_found("delivery method", delivery_method_id))?;
    method.check_available(now, total_weight_g)?;
    let mut items: Vec<TaxableAmount> = priced
        .iter()
        .map(|l| TaxableAmount {
            amount: l.total_incl_vat,
            vat_rate: l.vat_rate,
        })
        .collect();
    items.push(TaxableAmount {
        amount: method.price,
        vat_rate: method.vat_rate,
    });
    let (parts, totals) = compute_taxes(&items, prices_include_tax);
    for (line, part) in priced.iter_mut().zip(&parts) {
        apply_part(line, *part, prices_include_tax);
    }
    let shipping_part = parts[parts.len() - 1];
    let shipping = PricedShipping {
        delivery_method_id,
        name: method.name.clone(),
        kind: method.kind,
        payment_mode: method.payment_mode,
        price: method.price,
        vat_rate: method.vat_rate,
        total_excl_vat: shipping_part.excl_vat,
        total_vat: shipping_part.vat,
        total_incl_vat: shipping_part.incl_vat,
    };
    Ok(PricedBasket {
        prices_include_tax,
        lines: priced,
        shipping,
        totals,
        total_weight_g,
    })
}

fn validate_basket_shape(lines: &[BasketLine]) -> Result<(), DomainError> {
    if lines.is_empty() {
        return Err(DomainError::validation("lines", "at least one line"));
    }
    if lines.len() > LINES_PER_ORDER_MAX {
        return Err(DomainError::LimitExceeded {
            what: "lines per order",
            limit: LINES_PER_ORDER_MAX as u64,
        });
    }
    let mut seen = BTreeSet::new();
    for (index, line) in lines.iter().enumerate() {
        if line.quantity == 0 || line.quantity > QUANTITY_PER_LINE_MAX {
            return Err(DomainError::validation(
                format!("lines[{index}].quantity"),
                format!("must be from 1 to {QUANTITY_PER_LINE_MAX}"),
            ));
        }
        // One line per SKU, so the tier is chosen on the whole quantity of that product.
        if !seen.insert(crate::catalog::sku_key(&line.sku)) {
            return Err(DomainError::validation(
                format!("lines[{index}].sku"),
                format!("{} appears on more than one line", line.sku),
            ));
        }
    }
    Ok(())
}

/// A line with its stated amount in `total_incl_vat` for now; [`apply_part`] fixes the split.
fn price_line(
    catalog: &Catalog,
    line: &BasketLine,
    index: usize,
) -> Result<PricedLine, DomainError> {
    let product = catalog
        .product_by_sku(&line.sku)
        .filter(|p| !catalog.is_retired(p.product_id))
        .ok_or_else(|| DomainError::not_found("product", &line.sku))?;
    let unit_price = product.unit_price_for(line.quantity).ok_or_else(|| {
        DomainError::validation(format!("lines[{index}].sku"), "product has no price")
    })?;
    let amount = unit_price * Decimal::from(line.quantity);
    Ok(PricedLine {
        line_number: u32::try_from(index + 1).unwrap_or(u32::MAX),
        product_id: product.product_id,
        sku: product.sku.clone(),
        name: product.name.clone(),
        category_id: product.category_id,
        quantity: line.quantity,
        unit_price,
        unit_price_excl_vat: unit_price,
        vat_rate: product.vat_rate,
        unit_weight_g: product.weight_g,
        total_excl_vat: amount,
        total_vat: Decimal::ZERO,
        total_incl_vat: amount,
    })
}

fn apply_part(line: &mut PricedLine, part: TaxedAmount, prices_include_tax: bool) {
    line.total_excl_vat = part.excl_vat;
    line.total_vat = part.vat;
    line.total_incl_vat = part.incl_vat;
    if prices_include_tax {
        line.unit_price_excl_vat = (part.excl_vat / Decimal::from(line.quantity))
            .round_dp_with_strategy(
                DERIVED_UNIT_PRICE_SCALE,
                RoundingStrategy::MidpointAwayFromZero,
            );
    }
}
