//! The money of a coupon: which amounts it reduces, by how much, and the VAT of the reduction.
//!
//! Amounts are in the shop's tax mode, like catalog prices and reductions. The reduction is
//! computed once on the eligible amount (a percentage rounded half-up to the cent, never per line,
//! so there is no drift), capped at the eligible amount, then spread over the eligible lines in
//! proportion to their amounts by largest remainder, so no line is reduced below zero.
//!
//! VAT stays exact the way EN 16931 treats a document-level allowance: for each rate, the VAT of
//! the discounted basket is computed on the discounted sum at that rate and rounded once
//! (BR-CO-17); the reduction's VAT at that rate is the difference with the VAT before. So the
//! discounted totals are exactly what pricing the discounted amounts would give, and the
//! reduction's rates add up to its total.

use super::{CouponScope, Reduction, ShippingReduction};
use crate::money::{allocate_cents, round_cents};
use crate::pricing::{compute_taxes, PricedBasket, TaxableAmount, Totals, VatSubtotal};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The reduction of one product line, in the shop's tax mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDiscount {
    pub line_number: u32,
    pub amount: Decimal,
}

/// What a coupon takes off a basket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponDiscount {
    /// The whole reduction in the shop's tax mode: the sum of `lines` and `shipping`.
    pub amount: Decimal,
    /// Reduced product lines only, by line number.
    pub lines: Vec<LineDiscount>,
    /// Reduction of the shipping price; never more than it.
    pub shipping: Decimal,
    /// The reduction per VAT rate (ascending) and overall, excluding VAT, VAT and including VAT.
    pub totals: Totals,
}

/// Where a reduction lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Line(u32),
    Shipping,
}

/// An amount a coupon may reduce, in the shop's tax mode.
#[derive(Debug, Clone, Copy)]
struct Eligible {
    target: Target,
    amount: Decimal,
    vat_rate: Decimal,
}

/// The amount of a basket item as the shop states prices: including VAT or excluding it.
fn stated(prices_include_tax: bool, excl_vat: Decimal, incl_vat: Decimal) -> Decimal {
    if prices_include_tax {
        incl_vat
    } else {
        excl_vat
    }
}

/// Every amount of `basket` the scope covers, in basket order.
fn eligible_items(basket: &PricedBasket, scope: &CouponScope) -> Vec<Eligible> {
    let include = basket.prices_include_tax;
    if let CouponScope::Shipping { .. } = scope {
        let shipping = &basket.shipping;
        return vec![Eligible {
            target: Target::Shipping,
            amount: stated(include, shipping.total_excl_vat, shipping.total_incl_vat),
            vat_rate: shipping.vat_rate,
        }];
    }
    basket
        .lines
        .iter()
        .filter(|line| match scope {
            CouponScope::Shipping { .. } | CouponScope::Order { .. } => true,
            CouponScope::Product { product_ids, .. } => product_ids.contains(&line.product_id),
            CouponScope::ProductType { category_ids, .. } => {
                category_ids.contains(&line.category_id)
            }
        })
        .map(|line| Eligible {
            target: Target::Line(line.line_number),
            amount: stated(include, line.total_excl_vat, line.total_incl_vat),
            vat_rate: line.vat_rate,
        })
        .collect()
}

/// The amount the minimum order amount is compared with: the eligible lines for product and
/// product-type coupons, every product line otherwise; never shipping.
pub(super) fn minimum_basis(basket: &PricedBasket, scope: &CouponScope) -> Decimal {
    match scope {
        CouponScope::Product { .. } | CouponScope::ProductType { .. } => {
            eligible_items(basket, scope).iter().map(|i| i.amount).sum()
        }
        CouponScope::Shipping { .. } | CouponScope::Order { .. } => basket
            .lines
            .iter()
            .map(|l| {
                stated(
                    basket.prices_include_tax,
                    l.total_excl_vat,
                    l.total_incl_vat,
                )
            })
            .sum(),
    }
}

/// The reduction of `eligible`, between zero and `eligible`.
fn reduction_amount(scope: &CouponScope, eligible: Decimal) -> Decimal {
    let percent_of = |percent: Decimal| round_cents(eligible * percent / Decimal::ONE_HUNDRED);
    let amount = match scope {
        CouponScope::Shipping { reduction } => match reduction {
            ShippingReduction::Free => eligible,
            ShippingReduction::Percent(percent) => percent_of(*percent),
            ShippingReduction::Amount(amount) => *amount,
        },
        CouponScope::Order { reduction }
        | CouponScope::Product { reduction, .. }
        | CouponScope::ProductType { reduction, .. } => match reduction {
            Reduction::Percent(percent) => percent_of(*percent),
            Reduction::Amount(amount) => *amount,
        },
    };
    amount.clamp(Decimal::ZERO, eligible.max(Decimal::ZERO))
}

/// The discount `scope` gives on `basket`; zero when nothing in the basket is eligible. Validity
/// dates, the minimum amount and usage limits are the coupon's rules, checked by its `decide`.
pub fn apply_coupon(basket: &PricedBasket, scope: &CouponScope) -> CouponDiscount {
    let items = eligible_items(basket, scope);
    let weights: Vec<Decimal> = items.iter().map(|i| i.amount).collect();
    let eligible: Decimal = weights.iter().copied().sum();
    let amount = reduction_amount(scope, eligible);
    let parts = allocate_cents(amount, &weights);
    let mut lines = Vec::new();
    let mut shipping = Decimal::ZERO;
    for (item, part) in items.iter().zip(&parts) {
        match item.target {
            Target::Shipping => shipping += *part,
            Target::Line(line_number) if !part.is_zero() => lines.push(LineDiscount {
                line_number,
                amount: *part,
            }),
            Target::Line(_) => {}
        }
    }
    let reduced: Vec<TaxableAmount> = items
        .iter()
        .zip(&parts)
        .map(|(item, part)| TaxableAmount {
            amount: *part,
            vat_rate: item.vat_rate,
        })
        .collect();
    CouponDiscount {
        amount,
        lines,
        shipping,
        totals: discount_totals(basket, &reduced),
    }
}

/// Sums of amounts per VAT rate (normalised, ascending).
fn sums_by_rate(items: impl IntoIterator<Item = TaxableAmount>) -> BTreeMap<Decimal, Decimal> {
    let mut sums = BTreeMap::new();
    for item in items {
        *sums
            .entry(item.vat_rate.normalize())
            .or_insert(Decimal::ZERO) += item.amount;
    }
    sums
}

/// Every amount of the basket at its rate, in the shop's tax mode.
fn basket_amounts(basket: &PricedBasket) -> Vec<TaxableAmount> {
    let include = basket.prices_include_tax;
    let mut amounts: Vec<TaxableAmount> = basket
        .lines
        .iter()
        .map(|l| TaxableAmount {
            amount: stated(include, l.total_excl_vat, l.total_incl_vat),
            vat_rate: l.vat_rate,
        })
        .collect();
    amounts.push(TaxableAmount {
        amount: stated(
            include,
            basket.shipping.total_excl_vat,
            basket.shipping.total_incl_vat,
        ),
        vat_rate: basket.shipping.vat_rate,
    });
    amounts
}

/// The reduction per rate: its VAT is the basket's VAT at that rate before minus after.
fn discount_totals(basket: &PricedBasket, reduced: &[TaxableAmount]) -> Totals {
    let include = basket.prices_include_tax;
    let before = sums_by_rate(basket_amounts(basket));
    let mut breakdown = Vec::new();
    for (vat_rate, reduction) in sums_by_rate(reduced.iter().copied()) {
        if reduction.is_zero() {
            continue;
        }
        let sum = before.get(&vat_rate).copied().unwrap_or(reduction);
        let vat_at = |amount: Decimal| {
            let (_, totals) = compute_taxes(&[TaxableAmount { amount, vat_rate }], include);
            totals.total_vat
        };
        let vat_amount = vat_at(sum) - vat_at(sum - reduction);
        let (base_excl_vat, total_incl_vat) = if include {
            (reduction - vat_amount, reduction)
        } else {
            (reduction, reduction + vat_amount)
        };
        breakdown.push(VatSubtotal {
            vat_rate,
            base_excl_vat,
            vat_amount,
            total_incl_vat,
        });
    }
    Totals {
        total_excl_vat: breakdown.iter().map(|s| s.base_excl_vat).sum(),
        total_vat: breakdown.iter().map(|s| s.vat_amount).sum(),
        total_incl_vat: breakdown.iter().map(|s| s.total_incl_vat).sum(),
        vat_breakdown: breakdown,
    }
}

/// The basket's totals after the discount, per rate and overall: what the order's customer pays
/// and what its invoice states (the discount as one allowance per VAT rate).
pub fn discounted_totals(basket: &PricedBasket, discount: &CouponDiscount) -> Totals {
    let reductions: BTreeMap<Decimal, &VatSubtotal> = discount
        .totals
        .vat_breakdown
        .iter()
        .map(|s| (s.vat_rate.normalize(), s))
        .collect();
    let breakdown: Vec<VatSubtotal> = basket
        .totals
        .vat_breakdown
        .iter()
        .map(|s| match reductions.get(&s.vat_rate.normalize()) {
            Some(r) => VatSubtotal {
                vat_rate: s.vat_rate,
                base_excl_vat: s.base_excl_vat - r.base_excl_vat,
                vat_amount: s.vat_amount - r.vat_amount,
                total_incl_vat: s.total_incl_vat - r.total_incl_vat,
            },
            None => s.clone(),
        })
        .collect();
    Totals {
        total_excl_vat: breakdown.iter().map(|s| s.base_excl_vat).sum(),
        total_vat: breakdown.iter().map(|s| s.vat_amount).sum(),
        total_incl_vat: breakdown.iter().map(|s| s.total_incl_vat).sum(),
        vat_breakdown: breakdown,
    }
}
