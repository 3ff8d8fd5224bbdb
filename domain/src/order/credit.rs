//! Amounts of credited lines and of the lines documents print.
//!
//! # What a credit gives back
//! The amount paid for the credited units. Without a coupon that is their invoiced amount; with one,
//! it is the invoiced amount less the coupon's share: a product line's net amount is its amount less
//! its part of the discount (`CouponDiscount::lines`), the shipping's is the shipping less
//! `CouponDiscount::shipping`. The first `q` of `n` units of a line are worth its amount × q / n
//! rounded to the cent, and a credit takes the difference of two such cumulative shares, for the
//! gross and for the net amount each: so crediting every unit, in any number of credits, gives back
//! exactly the line's gross and net amounts, no cent lost or invented. The credit note prints the
//! units at their invoiced amounts and the coupon's share as one allowance per VAT rate, the shape
//! of the invoice; its totals are the net amounts.
//!
//! # VAT of a credit
//! Per rate, what brings the VAT of everything credited so far at that rate to the VAT of its sum,
//! rounded once (BR-CO-17): `vat(credited before + now) - VAT credited before`. The first credit of
//! an order gets exactly the VAT of its own sums; a later one differs from that by at most a cent;
//! and once everything is credited, the credits' VAT per rate is exactly the invoice's, so the
//! credit notes of a fully returned order add up to its invoice to the cent, in both tax modes.
//! (Rounding each credit note on its own sums instead drifts by a cent per note in tax-exclusive
//! shops, which is money the customer paid and would not get back, or the other way round.)

use super::{
    CreditReason, CreditRecord, DocumentAllowance, DocumentLine, LineKind, Order, PlacedOrder,
    ReturnLine, Settlement,
};
use crate::money::{allocate_cents, round_cents};
use crate::pricing::{
    compute_taxes, PricedBasket, PricedLine, TaxableAmount, TaxedAmount, Totals, VatSubtotal,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use uuid::Uuid;

/// An amount in the shop's tax mode: including VAT or excluding it.
fn stated(prices_include_tax: bool, excl_vat: Decimal, incl_vat: Decimal) -> Decimal {
    if prices_include_tax {
        incl_vat
    } else {
        excl_vat
    }
}

/// The share of `amount` (the worth of `of_quantity` units) for the first `quantity` units.
fn cumulative_share(amount: Decimal, of_quantity: u32, quantity: u32) -> Decimal {
    if quantity >= of_quantity {
        return amount;
    }
    round_cents(amount * Decimal::from(quantity) / Decimal::from(of_quantity))
}

/// A credited amount in the shop's tax mode: as invoiced (`gross`) and as paid (`net`).
#[derive(Debug, Clone, Copy)]
struct CreditedItem {
    gross: Decimal,
    net: Decimal,
    vat_rate: Decimal,
}

/// What earlier credits gave at one rate, in the shop's tax mode, and the VAT of it.
#[derive(Debug, Clone, Copy, Default)]
struct Credited {
    stated: Decimal,
    vat: Decimal,
}

/// Earlier credits by normalised rate: their lines (gross) and their totals (net).
#[derive(Debug, Default)]
struct PriorCredits {
    gross: BTreeMap<Decimal, Credited>,
    net: BTreeMap<Decimal, Credited>,
}

fn prior_credits(order: &Order, include_tax: bool) -> PriorCredits {
    let mut prior = PriorCredits::default();
    for credit in order.credits.values() {
        for line in &credit.lines {
            let entry = prior.gross.entry(line.vat_rate.normalize()).or_default();
            entry.stated += stated(include_tax, line.total_excl_vat, line.total_incl_vat);
            entry.vat += line.total_vat;
        }
        for rate in &credit.totals.vat_breakdown {
            let entry = prior.net.entry(rate.vat_rate.normalize()).or_default();
            entry.stated += stated(include_tax, rate.base_excl_vat, rate.total_incl_vat);
            entry.vat += rate.vat_amount;
        }
    }
    prior
}

/// What the credit of `returns` (and the shipping, if asked) amounts to.
pub(super) struct CreditRequest<'a> {
    pub credit_id: Uuid,
    pub reason: CreditReason,
    pub returns: &'a [ReturnLine],
    pub include_shipping: bool,
    pub settlement: Settlement,
    pub credited_by: &'a str,
    pub credited_at: DateTime<Utc>,
}

/// The credited units of `line`, after `before` units already credited.
fn product_item(
    placed: &PlacedOrder,
    line: &PricedLine,
    before: u32,
    quantity: u32,
) -> CreditedItem {
    let gross = stated(
        placed.pricing.prices_include_tax,
        line.total_excl_vat,
        line.total_incl_vat,
    );
    let discount = placed.coupon.as_ref().map_or(Decimal::ZERO, |coupon| {
        coupon
            .discount
            .lines
            .iter()
            .filter(|l| l.line_number == line.line_number)
            .map(|l| l.amount)
            .sum()
    });
    let share = |amount: Decimal| {
        cumulative_share(amount, line.quantity, before + quantity)
            - cumulative_share(amount, line.quantity, before)
    };
    CreditedItem {
        gross: share(gross),
        net: share(gross - discount),
        vat_rate: line.vat_rate,
    }
}

/// The credited items in document order, the product lines they come from, and whether the
/// shipping (always last) is among them.
fn credited_items<'a>(
    order: &Order,
    placed: &'a PlacedOrder,
    request: &CreditRequest<'_>,
) -> (Vec<CreditedItem>, Vec<(&'a PricedLine, u32)>, bool) {
    let pricing = &placed.pricing;
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
        let before = order
            .credited_quantities
            .get(&ret.line_number)
            .copied()
            .unwrap_or(0);
        items.push(product_item(placed, line, before, ret.quantity));
        sources.push((line, ret.quantity));
    }
    let shipping = shipping_stated_amount(pricing);
    let with_shipping = request.include_shipping && !shipping.is_zero();
    if with_shipping {
        let discount = placed
            .coupon
            .as_ref()
            .map_or(Decimal::ZERO, |c| c.discount.shipping);
        items.push(CreditedItem {
            gross: shipping,
            net: shipping - discount,
            vat_rate: pricing.shipping.vat_rate,
        });
    }
    (items, sources, with_shipping)
}

pub(super) fn credit_record(
    order: &Order,
    placed: &PlacedOrder,
    request: &CreditRequest<'_>,
) -> CreditRecord {
    let pricing = &placed.pricing;
    let include_tax = pricing.prices_include_tax;
    let (items, sources, with_shipping) = credited_items(order, placed, request);
    let prior = prior_credits(order, include_tax);
    let amounts = |pick: fn(&CreditedItem) -> Decimal| -> Vec<TaxableAmount> {
        items
            .iter()
            .map(|item| TaxableAmount {
                amount: pick(item),
                vat_rate: item.vat_rate,
            })
            .collect()
    };
    let (parts, gross_totals) = taxes_after(&amounts(|i| i.gross), &prior.gross, include_tax);
    let (_, totals) = taxes_after(&amounts(|i| i.net), &prior.net, include_tax);
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
    let allowances = placed.coupon.as_ref().map_or_else(Vec::new, |coupon| {
        allowances_between(&gross_totals, &totals, &coupon.code)
    });
    CreditRecord {
        credit_id: request.credit_id,
        reason: request.reason,
        lines,
        allowances,
        totals,
        settlement: request.settlement,
        credited_by: request.credited_by.to_owned(),
        credited_at: request.credited_at,
    }
}

fn taxed(amount: Decimal, vat: Decimal, prices_include_tax: bool) -> TaxedAmount {
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

/// The VAT of `amount` at `vat_rate`, rounded once.
fn vat_of(amount: Decimal, vat_rate: Decimal, prices_include_tax: bool) -> Decimal {
    let (_, totals) = compute_taxes(&[TaxableAmount { amount, vat_rate }], prices_include_tax);
    totals.total_vat
}

/// [`allocate_cents`] for a total of either sign: a correction of an earlier credit's rounding can
/// make a rate's VAT a cent below zero.
fn allocate_signed(total: Decimal, weights: &[Decimal]) -> Vec<Decimal> {
    if total.is_sign_negative() {
        allocate_cents(-total, weights)
            .into_iter()
            .map(|p| -p)
            .collect()
    } else {
        allocate_cents(total, weights)
    }
}

/// Splits each amount like [`compute_taxes`], except that the VAT of each rate is the VAT of
/// everything credited at that rate, `prior` and these amounts together, less the VAT of `prior`.
fn taxes_after(
    items: &[TaxableAmount],
    prior: &BTreeMap<Decimal, Credited>,
    prices_include_tax: bool,
) -> (Vec<TaxedAmount>, Totals) {
    let mut groups: BTreeMap<Decimal, Vec<usize>> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        groups
            .entry(item.vat_rate.normalize())
            .or_default()
            .push(index);
    }
    let mut parts = vec![taxed(Decimal::ZERO, Decimal::ZERO, prices_include_tax); items.len()];
    let mut breakdown = Vec::with_capacity(groups.len());
    for (vat_rate, indices) in groups {
        let amounts: Vec<Decimal> = indices.iter().map(|i| items[*i].amount).collect();
        let sum: Decimal = amounts.iter().copied().sum();
        let before = prior.get(&vat_rate).copied().unwrap_or_default();
        let vat = vat_of(before.stated + sum, vat_rate, prices_include_tax) - before.vat;
        let shares = allocate_signed(vat, &amounts);
        for ((index, amount), share) in indices.iter().zip(&amounts).zip(shares) {
            parts[*index] = taxed(*amount, share, prices_include_tax);
        }
        let total = taxed(sum, vat, prices_include_tax);
        breakdown.push(VatSubtotal {
            vat_rate,
            base_excl_vat: total.excl_vat,
            vat_amount: total.vat,
            total_incl_vat: total.incl_vat,
        });
    }
    (parts, totals_of(breakdown))
}

fn totals_of(breakdown: Vec<VatSubtotal>) -> Totals {
    Totals {
        total_excl_vat: breakdown.iter().map(|s| s.base_excl_vat).sum(),
        total_vat: breakdown.iter().map(|s| s.vat_amount).sum(),
        total_incl_vat: breakdown.iter().map(|s| s.total_incl_vat).sum(),
        vat_breakdown: breakdown,
    }
}

fn allowance_reason(code: &str) -> String {
    format!("Remise coupon {code}")
}

fn allowance(code: &str, reduction: &VatSubtotal) -> DocumentAllowance {
    DocumentAllowance {
        reason: allowance_reason(code),
        vat_rate: reduction.vat_rate,
        amount_excl_vat: reduction.base_excl_vat,
        vat: reduction.vat_amount,
        amount_incl_vat: reduction.total_incl_vat,
    }
}

/// Per rate, what separates the credited lines (`gross`) from what is given back (`net`). Both have
/// the same rates, those of the credited items. A rate with nothing between them has no allowance;
/// one whose amounts are equal may still carry a cent of VAT, when earlier credits rounded the gross
/// and the net VAT of that rate differently.
fn allowances_between(gross: &Totals, net: &Totals, code: &str) -> Vec<DocumentAllowance> {
    gross
        .vat_breakdown
        .iter()
        .zip(&net.vat_breakdown)
        .map(|(g, n)| VatSubtotal {
            vat_rate: g.vat_rate,
            base_excl_vat: g.base_excl_vat - n.base_excl_vat,
            vat_amount: g.vat_amount - n.vat_amount,
            total_incl_vat: g.total_incl_vat - n.total_incl_vat,
        })
        .filter(|r| {
            !(r.base_excl_vat.is_zero() && r.vat_amount.is_zero() && r.total_incl_vat.is_zero())
        })
        .map(|r| allowance(code, &r))
        .collect()
}

/// The coupon's discount as the invoice prints it: one allowance per VAT rate (EN 16931 BG-20),
/// so that per rate the invoice's lines less its allowances are exactly its totals.
pub fn document_allowances(placed: &PlacedOrder) -> Vec<DocumentAllowance> {
    placed.coupon.as_ref().map_or_else(Vec::new, |coupon| {
        coupon
            .discount
            .totals
            .vat_breakdown
            .iter()
            .map(|reduction| allowance(&coupon.code, reduction))
            .collect()
    })
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
