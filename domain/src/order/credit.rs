//! Amounts of credited lines and of the lines documents print.

use super::{
    CreditReason, CreditRecord, DocumentLine, LineKind, PlacedOrder, ReturnLine, Settlement,
};
use crate::money::round_cents;
use crate::pricing::{compute_taxes, PricedBasket, PricedLine, TaxableAmount, TaxedAmount};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The amount of a line as the shop states prices (tax included or not).
fn stated_amount(line: &PricedLine, prices_include_tax: bool) -> Decimal {
    if prices_include_tax {
        line.total_incl_vat
    } else {
        line.total_excl_vat
    }
}

/// The share of a line's amount for the first `quantity` units. Credits take differences of these
/// cumulative shares, so that crediting every unit, in any number of returns, gives back exactly the
/// line's amount: no cent is lost or invented by rounding each return on its own.
fn cumulative_share(line: &PricedLine, quantity: u32, prices_include_tax: bool) -> Decimal {
    let stated = stated_amount(line, prices_include_tax);
    if quantity >= line.quantity {
        return stated;
    }
    round_cents(stated * Decimal::from(quantity) / Decimal::from(line.quantity))
}

/// What the credit of `returns` (and the shipping, if asked) amounts to, VAT computed per rate on the
/// credit's own sums (BR-CO-17 applies to each credit note).
pub(super) struct CreditRequest<'a> {
    pub credit_id: Uuid,
    pub reason: CreditReason,
    pub returns: &'a [ReturnLine],
    pub include_shipping: bool,
    pub settlement: Settlement,
    pub credited_by: &'a str,
    pub credited_at: DateTime<Utc>,
}

pub(super) fn credit_record(
    placed: &PlacedOrder,
    credited_quantities: &BTreeMap<u32, u32>,
    request: &CreditRequest<'_>,
) -> CreditRecord {
    let pricing = &placed.pricing;
    let include_tax = pricing.prices_include_tax;
    let mut items = Vec::new();
    let mut sources = Vec::new();
    for ret in request.returns {
        let Some(line) = pricing
            .lines
            .iter()
            .find(|l| l.line_number == ret.line_number)
        else {
            continue;
        };
        let before = credited_quantities
            .get(&ret.line_number)
            .copied()
            .unwrap_or(0);
        let amount = cumulative_share(line, before + ret.quantity, include_tax)
            - cumulative_share(line, before, include_tax);
        items.push(TaxableAmount {
            amount,
            vat_rate: line.vat_rate,
        });
        sources.push((line, ret.quantity));
    }
    let shipping_amount = shipping_stated_amount(pricing);
    let with_shipping = request.include_shipping && !shipping_amount.is_zero();
    if with_shipping {
        items.push(TaxableAmount {
            amount: shipping_amount,
            vat_rate: pricing.shipping.vat_rate,
        });
    }
    let (parts, totals) = compute_taxes(&items, include_tax);
    let mut lines: Vec<DocumentLine> = sources
        .iter()
        .zip(&parts)
        .map(|((line, quantity), part)| product_line(line, *quantity, *part))
        .collect();
    if with_shipping {
        lines.push(shipping_line(pricing));
        if let (Some(line), Some(part)) = (lines.last_mut(), parts.last()) {
            line.total_excl_vat = part.excl_vat;
            line.total_vat = part.vat;
            line.total_incl_vat = part.incl_vat;
            line.unit_price_excl_vat = part.excl_vat;
        }
    }
    CreditRecord {
        credit_id: request.credit_id,
        reason: request.reason,
        lines,
        totals,
        settlement: request.settlement,
        credited_by: request.credited_by.to_owned(),
        credited_at: request.credited_at,
    }
}

fn product_line(line: &PricedLine, quantity: u32, part: TaxedAmount) -> DocumentLine {
    DocumentLine {
        line_number: line.line_number,
        kind: LineKind::Product,
        sku: Some(line.sku.clone()),
        description: line.name.clone(),
        quantity,
        unit_price_excl_vat: line.unit_price_excl_vat,
        vat_rate: line.vat_rate,
        total_excl_vat: part.excl_vat,
        total_vat: part.vat,
        total_incl_vat: part.incl_vat,
    }
}

fn shipping_stated_amount(pricing: &PricedBasket) -> Decimal {
    if pricing.prices_include_tax {
        pricing.shipping.total_incl_vat
    } else {
        pricing.shipping.total_excl_vat
    }
}

/// The shipping of an order as a document line, numbered after the products.
fn shipping_line(pricing: &PricedBasket) -> DocumentLine {
    let shipping = &pricing.shipping;
    DocumentLine {
        line_number: u32::try_from(pricing.lines.len() + 1).unwrap_or(u32::MAX),
        kind: LineKind::Shipping,
        sku: None,
        description: shipping.name.clone(),
        quantity: 1,
        unit_price_excl_vat: shipping.total_excl_vat,
        vat_rate: shipping.vat_rate,
        total_excl_vat: shipping.total_excl_vat,
        total_vat: shipping.total_vat,
        total_incl_vat: shipping.total_incl_vat,
    }
}

/// The lines an invoice prints for a priced order: its products, then the shipping unless free.
pub fn document_lines(pricing: &PricedBasket) -> Vec<DocumentLine> {
    let mut lines: Vec<DocumentLine> = pricing
        .lines
        .iter()
        .map(|line| DocumentLine {
            line_number: line.line_number,
            kind: LineKind::Product,
            sku: Some(line.sku.clone()),
            description: line.name.clone(),
            quantity: line.quantity,
            unit_price_excl_vat: line.unit_price_excl_vat,
            vat_rate: line.vat_rate,
            total_excl_vat: line.total_excl_vat,
            total_vat: line.total_vat,
            total_incl_vat: line.total_incl_vat,
        })
        .collect();
    if !pricing.shipping.total_incl_vat.is_zero() {
        lines.push(shipping_line(pricing));
    }
    lines
}
