use super::*;
use crate::fixtures::*;
use crate::pricing::{
    compute_taxes, price_basket, BasketLine, PricedLine, PricedShipping, TaxableAmount, Totals,
};
use crate::testing::test_now;
use proptest::prelude::*;

fn priced(items: &[(&str, u32)], delivery: u128, include_tax: bool) -> PricedBasket {
    let lines: Vec<BasketLine> = items
        .iter()
        .map(|(sku, quantity)| BasketLine {
            sku: (*sku).into(),
            quantity: *quantity,
        })
        .collect();
    price_basket(&catalog(), &lines, id(delivery), include_tax, test_now()).expect("priced")
}

fn order(reduction: Reduction) -> CouponScope {
    CouponScope::Order { reduction }
}

fn triple(totals: &Totals) -> (Decimal, Decimal, Decimal) {
    (
        totals.total_excl_vat,
        totals.total_vat,
        totals.total_incl_vat,
    )
}

#[test]
fn order_percent_worked_by_hand() {
    // Proves 10 % off a basket with two VAT rates: rounded once on the sum, spread on the lines,
    // VAT of the reduction per rate as the difference of VAT before and after.
    let basket = priced(&[("TIR-10x15", 60), ("GUIDE-LYON", 1)], COLISSIMO, true);
    let discount = apply_coupon(&basket, &order(Reduction::Percent(d("10"))));
    // 10 % of 17.40 + 18.50 = 3.59, shipping untouched.
    assert_eq!(discount.amount, d("3.59"));
    assert_eq!(discount.shipping, d("0"));
    let lines: Vec<(u32, Decimal)> = discount
        .lines
        .iter()
        .map(|l| (l.line_number, l.amount))
        .collect();
    assert_eq!(lines, vec![(1, d("1.74")), (2, d("1.85"))]);
    // 5.5 %: VAT of 18.50 is 0.96, of 16.65 is 0.87. 20 %: VAT of 22.30 is 3.72, of 20.56 is 3.43.
    let rates: Vec<(Decimal, Decimal, Decimal, Decimal)> = discount
        .totals
        .vat_breakdown
        .iter()
        .map(|s| (s.vat_rate, s.base_excl_vat, s.vat_amount, s.total_incl_vat))
        .collect();
    assert_eq!(
        rates,
        vec![
            (d("5.5"), d("1.76"), d("0.09"), d("1.85")),
            (d("20"), d("1.45"), d("0.29"), d("1.74")),
        ]
    );
    assert_eq!(triple(&discount.totals), (d("3.21"), d("0.38"), d("3.59")));
    let after = discounted_totals(&basket, &discount);
    assert_eq!(triple(&after), (d("32.91"), d("4.30"), d("37.21")));
}

#[test]
fn percent_is_rounded_half_up_to_the_cent() {
    // Proves 10 % of 0.35 is 0.04 (0.035 rounded half-up), and 15 % of 0.35 is 0.05 (0.0525).
    let basket = priced(&[("TIR-10x15", 1)], RETRAIT, true);
    let ten = apply_coupon(&basket, &order(Reduction::Percent(d("10"))));
    assert_eq!(ten.amount, d("0.04"));
    let fifteen = apply_coupon(&basket, &order(Reduction::Percent(d("15"))));
    assert_eq!(fifteen.amount, d("0.05"));
}

#[test]
fn product_and_product_type_reduce_only_matching_lines() {
    // Proves a product coupon touches its product's line only, and a product-type coupon the lines
    // of its categories only.
    let basket = priced(
        &[("TIR-10x15", 60), ("GUIDE-LYON", 1), ("MUG-BLANC", 2)],
        COLISSIMO,
        true,
    );
    let mug = CouponScope::Product {
        reduction: Reduction::Amount(d("5.00")),
        product_ids: [id(MUG)].into(),
    };
    let discount = apply_coupon(&basket, &mug);
    assert_eq!(
        discount.lines,
        vec![LineDiscount {
            line_number: 3,
            amount: d("5.00")
        }]
    );
    let books = CouponScope::ProductType {
        reduction: Reduction::Percent(d("100")),
        category_ids: [id(LIVRES)].into(),
    };
    let discount = apply_coupon(&basket, &books);
    assert_eq!(
        discount.lines,
        vec![LineDiscount {
            line_number: 2,
            amount: d("18.50")
        }]
    );
    assert_eq!(discount.totals.vat_breakdown.len(), 1);
    assert_eq!(discount.totals.vat_breakdown[0].vat_rate, d("5.5"));
}

#[test]
fn an_amount_never_takes_more_than_the_eligible_amount() {
    // Proves a 50.00 coupon on a 17.40 basket takes 17.40 and leaves shipping to pay.
    let basket = priced(&[("TIR-10x15", 60)], COLISSIMO, true);
    let discount = apply_coupon(&basket, &order(Reduction::Amount(d("50.00"))));
    assert_eq!(discount.amount, d("17.40"));
    let after = discounted_totals(&basket, &discount);
    assert_eq!(after.total_incl_vat, d("4.90"));
}

#[test]
fn shipping_discounts_are_capped_at_shipping() {
    // Proves free shipping removes exactly the shipping price, an amount is capped at it, a
    // percentage applies to it, and store pickup at 0.00 gives nothing.
    let basket = priced(&[("TIR-10x15", 60)], COLISSIMO, true);
    let shipping = |reduction| CouponScope::Shipping { reduction };
    let free = apply_coupon(&basket, &shipping(ShippingReduction::Free));
    assert_eq!((free.amount, free.shipping), (d("4.90"), d("4.90")));
    assert!(free.lines.is_empty());
    let capped = apply_coupon(&basket, &shipping(ShippingReduction::Amount(d("10"))));
    assert_eq!(capped.amount, d("4.90"));
    let half = apply_coupon(&basket, &shipping(ShippingReduction::Percent(d("50"))));
    assert_eq!(half.amount, d("2.45"));
    let pickup = priced(&[("TIR-10x15", 60)], RETRAIT, true);
    assert!(apply_coupon(&pickup, &shipping(ShippingReduction::Free))
        .amount
        .is_zero());
}

#[test]
fn tax_exclusive_shops_reduce_amounts_excluding_vat() {
    // Proves that when prices exclude tax, a 10 % coupon reduces the amounts excluding VAT and the
    // VAT of the reduction is added on top.
    let basket = priced(&[("TIR-10x15", 60)], RETRAIT, false);
    let discount = apply_coupon(&basket, &order(Reduction::Percent(d("10"))));
    // 60 × 0.29 = 17.40 excluding VAT; 10 % = 1.74; VAT 3.48 before, 3.13 after (15.66 × 20 %).
    assert_eq!(triple(&discount.totals), (d("1.74"), d("0.35"), d("2.09")));
}

/// A basket made directly from amounts (cents, VAT rate index, category index), priced by the
/// same tax rule as `price_basket`.
fn basket_from(lines: &[(i64, usize, usize)], shipping_cents: i64, include: bool) -> PricedBasket {
    const RATES: [&str; 5] = ["0", "2.1", "5.5", "10", "20"];
    let amount = |cents: i64| Decimal::new(cents, 2);
    let mut items: Vec<TaxableAmount> = lines
        .iter()
        .map(|(cents, rate, _)| TaxableAmount {
            amount: amount(*cents),
            vat_rate: d(RATES[*rate]),
        })
        .collect();
    items.push(TaxableAmount {
        amount: amount(shipping_cents),
        vat_rate: d("20"),
    });
    let (parts, totals) = compute_taxes(&items, include);
    let priced_lines = lines
        .iter()
        .zip(&parts)
        .enumerate()
        .map(|(index, ((_, rate, category), part))| PricedLine {
            line_number: u32::try_from(index + 1).expect("small"),
            product_id: id(0xA000 + index as u128),
            sku: format!("SKU-{index}"),
            name: format!("Produit {index}"),
            category_id: id(0xC000 + *category as u128),
            quantity: 1,
            unit_price: items[index].amount,
            unit_price_excl_vat: part.excl_vat,
            vat_rate: d(RATES[*rate]),
            unit_weight_g: 1,
            total_excl_vat: part.excl_vat,
            total_vat: part.vat,
            total_incl_vat: part.incl_vat,
        })
        .collect();
    let shipping_part = parts[parts.len() - 1];
    PricedBasket {
        prices_include_tax: include,
        lines: priced_lines,
        shipping: PricedShipping {
            delivery_method_id: id(COLISSIMO),
            name: "Colissimo".into(),
            kind: crate::catalog::DeliveryKind::HomeDelivery,
            payment_mode: crate::catalog::PaymentMode::Card,
            price: amount(shipping_cents),
            vat_rate: d("20"),
            total_excl_vat: shipping_part.excl_vat,
            total_vat: shipping_part.vat,
            total_incl_vat: shipping_part.incl_vat,
        },
        totals,
        total_weight_g: 1,
    }
}

fn scope_strategy() -> impl Strategy<Value = CouponScope> {
    let reduction = prop_oneof![
        (1i64..=10_000).prop_map(|basis_points| Reduction::Percent(Decimal::new(basis_points, 2))),
        (1i64..=100_000).prop_map(|cents| Reduction::Amount(Decimal::new(cents, 2))),
    ];
    let shipping = prop_oneof![
        Just(ShippingReduction::Free),
        (1i64..=10_000).prop_map(|bp| ShippingReduction::Percent(Decimal::new(bp, 2))),
        (1i64..=5_000).prop_map(|cents| ShippingReduction::Amount(Decimal::new(cents, 2))),
    ];
    prop_oneof![
        shipping.prop_map(|reduction| CouponScope::Shipping { reduction }),
        reduction
            .clone()
            .prop_map(|reduction| CouponScope::Order { reduction }),
        (reduction.clone(), 0u128..6).prop_map(|(reduction, n)| CouponScope::Product {
            reduction,
            product_ids: [id(0xA000 + n)].into(),
        }),
        (reduction, 0u128..3).prop_map(|(reduction, n)| CouponScope::ProductType {
            reduction,
            category_ids: [id(0xC000 + n)].into(),
        }),
    ]
}

/// The amount of each basket item in the shop's tax mode and whether the scope covers it;
/// the shipping item comes last.
fn stated_items(basket: &PricedBasket, scope: &CouponScope) -> Vec<(Decimal, Decimal, bool)> {
    let include = basket.prices_include_tax;
    let pick = |excl: Decimal, incl: Decimal| if include { incl } else { excl };
    let mut items: Vec<(Decimal, Decimal, bool)> = basket
        .lines
        .iter()
        .map(|l| {
            let covered = match scope {
                CouponScope::Shipping { .. } => false,
                CouponScope::Order { .. } => true,
                CouponScope::Product { product_ids, .. } => product_ids.contains(&l.product_id),
                CouponScope::ProductType { category_ids, .. } => {
                    category_ids.contains(&l.category_id)
                }
            };
            (
                pick(l.total_excl_vat, l.total_incl_vat),
                l.vat_rate,
                covered,
            )
        })
        .collect();
    let shipping = &basket.shipping;
    items.push((
        pick(shipping.total_excl_vat, shipping.total_incl_vat),
        shipping.vat_rate,
        matches!(scope, CouponScope::Shipping { .. }),
    ));
    items
}

/// Checks every money invariant of a discount on a basket.
fn check_invariants(basket: &PricedBasket, scope: &CouponScope, discount: &CouponDiscount) {
    let items = stated_items(basket, scope);
    let eligible: Decimal = items.iter().filter(|i| i.2).map(|i| i.0).sum();
    // The parts add up, and the reduction stays between zero and the eligible amount.
    let line_sum: Decimal = discount.lines.iter().map(|l| l.amount).sum();
    assert_eq!(discount.amount, line_sum + discount.shipping);
    assert!(discount.amount >= Decimal::ZERO && discount.amount <= eligible);
    assert!(discount.shipping <= items[items.len() - 1].0);
    // Only covered lines are reduced, each by a positive amount no larger than the line.
    for line in &discount.lines {
        let (amount, _, covered) = items[line.line_number as usize - 1];
        assert!(covered, "line {} is not eligible", line.line_number);
        assert!(line.amount > Decimal::ZERO && line.amount <= amount);
    }
    // The reduction's rates add up, each splits exactly, and in the shop's tax mode it is the amount.
    let totals = &discount.totals;
    let breakdown = &totals.vat_breakdown;
    let excl: Decimal = breakdown.iter().map(|s| s.base_excl_vat).sum();
    let vat: Decimal = breakdown.iter().map(|s| s.vat_amount).sum();
    let incl: Decimal = breakdown.iter().map(|s| s.total_incl_vat).sum();
    assert_eq!(
        (excl, vat, incl),
        (
            totals.total_excl_vat,
            totals.total_vat,
            totals.total_incl_vat
        )
    );
    for s in &totals.vat_breakdown {
        assert_eq!(s.base_excl_vat + s.vat_amount, s.total_incl_vat);
        assert!(s.vat_amount >= Decimal::ZERO && s.base_excl_vat >= Decimal::ZERO);
    }
    let stated_total = if basket.prices_include_tax {
        totals.total_incl_vat
    } else {
        totals.total_excl_vat
    };
    assert_eq!(stated_total, discount.amount);
    check_discounted_totals(basket, discount);
}

/// The discounted totals are exactly the tax rule applied to the discounted amounts.
fn check_discounted_totals(basket: &PricedBasket, discount: &CouponDiscount) {
    let after = discounted_totals(basket, discount);
    let include = basket.prices_include_tax;
    let mut reduced: Vec<TaxableAmount> = basket
        .lines
        .iter()
        .map(|l| {
            let off = discount
                .lines
                .iter()
                .find(|x| x.line_number == l.line_number)
                .map_or(Decimal::ZERO, |x| x.amount);
            let amount = if include {
                l.total_incl_vat
            } else {
                l.total_excl_vat
            };
            TaxableAmount {
                amount: amount - off,
                vat_rate: l.vat_rate,
            }
        })
        .collect();
    let shipping = &basket.shipping;
    let shipping_amount = if include {
        shipping.total_incl_vat
    } else {
        shipping.total_excl_vat
    };
    reduced.push(TaxableAmount {
        amount: shipping_amount - discount.shipping,
        vat_rate: shipping.vat_rate,
    });
    let (_, expected) = compute_taxes(&reduced, include);
    assert_eq!(after, expected);
    let vat_sum: Decimal = after.vat_breakdown.iter().map(|s| s.vat_amount).sum();
    assert_eq!(vat_sum, after.total_vat);
    assert_eq!(
        after.total_incl_vat,
        basket.totals.total_incl_vat - discount.totals.total_incl_vat
    );
    assert!(after.total_incl_vat >= Decimal::ZERO);
}

proptest! {
    #[test]
    fn discounts_keep_every_total_exact(
        lines in prop::collection::vec((0i64..50_000, 0usize..5, 0usize..3), 1..6),
        shipping_cents in 0i64..2_000,
        include in any::<bool>(),
        scope in scope_strategy(),
    ) {
        // Proves for any basket and coupon: the discount is between zero and the eligible amount,
        // lands on eligible items only, splits exactly per VAT rate, and the discounted totals are
        // what the tax rule gives on the discounted amounts (VAT per rate summing to total VAT).
        let basket = basket_from(&lines, shipping_cents, include);
        let discount = apply_coupon(&basket, &scope);
        check_invariants(&basket, &scope, &discount);
    }

    #[test]
    fn percentages_are_the_rounded_share_of_the_eligible_amount(
        lines in prop::collection::vec((0i64..50_000, 0usize..5, 0usize..3), 1..6),
        basis_points in 1i64..=10_000,
        include in any::<bool>(),
    ) {
        // Proves a percentage is computed once on the eligible sum and rounded half-up to the cent.
        let basket = basket_from(&lines, 490, include);
        let percent = Decimal::new(basis_points, 2);
        let discount = apply_coupon(&basket, &order(Reduction::Percent(percent)));
        let eligible: Decimal = stated_items(&basket, &order(Reduction::Percent(percent)))
            .iter()
            .filter(|i| i.2)
            .map(|i| i.0)
            .sum();
        let expected = crate::money::round_cents(eligible * percent / Decimal::ONE_HUNDRED);
        prop_assert_eq!(discount.amount, expected.min(eligible));
    }
}
