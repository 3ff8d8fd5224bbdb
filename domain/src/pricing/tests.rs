use super::*;
use crate::catalog::{CatalogEvent, Category, DeliveryMethod, PriceTier, Product};
use crate::fixtures::*;
use crate::fold;
use crate::testing::test_now;
use proptest::prelude::*;

fn basket(items: &[(&str, u32)]) -> Vec<BasketLine> {
    items
        .iter()
        .map(|(sku, quantity)| BasketLine {
            sku: (*sku).into(),
            quantity: *quantity,
        })
        .collect()
}

fn price(
    items: &[(&str, u32)],
    delivery: u128,
    include_tax: bool,
) -> Result<PricedBasket, DomainError> {
    price_basket(
        &catalog(),
        &basket(items),
        id(delivery),
        include_tax,
        test_now(),
    )
}

#[test]
fn tax_inclusive_basket_worked_by_hand() {
    // Proves tiers, shipping and VAT per rate on sums for prices that include tax (the fixture's mode).
    let priced = price(&[("TIR-10x15", 60), ("GUIDE-LYON", 1)], COLISSIMO, true).expect("priced");
    let tirage = &priced.lines[0];
    assert_eq!(tirage.unit_price, d("0.29"));
    assert_eq!(
        (
            tirage.total_excl_vat,
            tirage.total_vat,
            tirage.total_incl_vat
        ),
        (d("14.50"), d("2.90"), d("17.40"))
    );
    assert_eq!(tirage.unit_price_excl_vat, d("0.2417"));
    let guide = &priced.lines[1];
    assert_eq!(
        (guide.total_excl_vat, guide.total_vat, guide.total_incl_vat),
        (d("17.54"), d("0.96"), d("18.50"))
    );
    let shipping = &priced.shipping;
    assert_eq!(
        (
            shipping.total_excl_vat,
            shipping.total_vat,
            shipping.total_incl_vat
        ),
        (d("4.08"), d("0.82"), d("4.90"))
    );
    let totals = &priced.totals;
    assert_eq!(totals.vat_breakdown.len(), 2);
    assert_eq!(totals.vat_breakdown[0].vat_rate, d("5.5"));
    assert_eq!(totals.vat_breakdown[0].vat_amount, d("0.96"));
    assert_eq!(totals.vat_breakdown[1].base_excl_vat, d("18.58"));
    assert_eq!(totals.vat_breakdown[1].vat_amount, d("3.72"));
    assert_eq!(
        (
            totals.total_excl_vat,
            totals.total_vat,
            totals.total_incl_vat
        ),
        (d("36.12"), d("4.68"), d("40.80"))
    );
    assert_eq!(priced.total_weight_g, 60 * 5 + 350);
}

#[test]
fn tax_exclusive_basket_worked_by_hand() {
    // Proves the same basket when catalog prices exclude tax: VAT is added per rate on the sums.
    let priced = price(&[("TIR-10x15", 60), ("GUIDE-LYON", 1)], COLISSIMO, false).expect("priced");
    assert_eq!(priced.lines[0].unit_price_excl_vat, d("0.29"));
    assert_eq!(priced.lines[0].total_excl_vat, d("17.40"));
    let totals = &priced.totals;
    assert_eq!(totals.vat_breakdown[0].vat_amount, d("1.02"));
    assert_eq!(totals.vat_breakdown[1].vat_amount, d("4.46"));
    assert_eq!(
        (
            totals.total_excl_vat,
            totals.total_vat,
            totals.total_incl_vat
        ),
        (d("40.80"), d("5.48"), d("46.28"))
    );
}

#[test]
fn tier_is_chosen_by_quantity() {
    // Proves each boundary of the degressive tiers picks the right unit price.
    for (quantity, expected) in [
        (1, "0.35"),
        (49, "0.35"),
        (50, "0.29"),
        (99, "0.29"),
        (100, "0.22"),
        (500, "0.18"),
    ] {
        let priced = price(&[("TIR-10x15", quantity)], RETRAIT, true).expect("priced");
        assert_eq!(
            priced.lines[0].unit_price,
            d(expected),
            "quantity {quantity}"
        );
    }
}

#[test]
fn sku_lookup_is_case_insensitive() {
    // Proves a storefront's lower-cased SKU finds the product and the snapshot keeps the catalog's SKU.
    let priced = price(&[("tir-10X15", 1)], RETRAIT, true).expect("priced");
    assert_eq!(priced.lines[0].sku, "TIR-10x15");
}

#[test]
fn refuses_malformed_baskets() {
    // Proves empty baskets, zero or huge quantities and repeated SKUs are refused.
    assert_eq!(
        price(&[], RETRAIT, true).map_err(|e| e.code()),
        Err("validation")
    );
    assert_eq!(
        price(&[("MUG-BLANC", 0)], RETRAIT, true).map_err(|e| e.code()),
        Err("validation")
    );
    let too_many = QUANTITY_PER_LINE_MAX + 1;
    assert_eq!(
        price(&[("MUG-BLANC", too_many)], RETRAIT, true).map_err(|e| e.code()),
        Err("validation")
    );
    assert_eq!(
        price(&[("MUG-BLANC", 1), ("mug-blanc", 1)], RETRAIT, true).map_err(|e| e.code()),
        Err("validation")
    );
    let skus: Vec<String> = (0..=LINES_PER_ORDER_MAX).map(|i| format!("S{i}")).collect();
    let lines: Vec<BasketLine> = skus
        .iter()
        .map(|s| BasketLine {
            sku: s.clone(),
            quantity: 1,
        })
        .collect();
    let result = price_basket(&catalog(), &lines, id(RETRAIT), true, test_now());
    assert_eq!(result.map_err(|e| e.code()), Err("limit-exceeded"));
}

#[test]
fn refuses_unknown_or_retired_products() {
    // Proves only products on sale can be priced.
    assert_eq!(
        price(&[("NOPE", 1)], RETRAIT, true).map_err(|e| e.code()),
        Err("not-found")
    );
    let mut events = catalog_events();
    events.push(CatalogEvent::ProductRetired {
        shop_id: shop_id(),
        product_id: id(MUG),
    });
    let catalog = fold::<Catalog>(&events);
    let result = price_basket(
        &catalog,
        &basket(&[("MUG-BLANC", 1)]),
        id(RETRAIT),
        true,
        test_now(),
    );
    assert_eq!(result.map_err(|e| e.code()), Err("not-found"));
}

#[test]
fn delivery_method_must_be_available() {
    // Proves unknown, hidden, out-of-window and under-weight delivery methods are refused.
    assert_eq!(
        price(&[("MUG-BLANC", 1)], 0xDEAD, true).map_err(|e| e.code()),
        Err("not-found")
    );
    let unavailable = Err("delivery-method-unavailable");
    assert_eq!(
        price(&[("MUG-BLANC", 1)], COURSIER, true).map_err(|e| e.code()),
        unavailable
    );
    assert!(
        price(&[("MUG-BLANC", 2)], COURSIER, true).is_ok(),
        "800 g reaches the 500 g minimum"
    );
    let mut events = catalog_events();
    events.push(CatalogEvent::DeliveryMethodVisibilityChanged {
        shop_id: shop_id(),
        delivery_method_id: id(COLISSIMO),
        visible: false,
    });
    let hidden = fold::<Catalog>(&events);
    let result = price_basket(
        &hidden,
        &basket(&[("MUG-BLANC", 1)]),
        id(COLISSIMO),
        true,
        test_now(),
    );
    assert_eq!(result.map_err(|e| e.code()), unavailable);
    let mut windowed = catalog();
    if let Some(method) = windowed.delivery_methods.get_mut(&id(COLISSIMO)) {
        method.available_from = Some(test_now() + chrono::Duration::days(1));
    }
    let result = price_basket(
        &windowed,
        &basket(&[("MUG-BLANC", 1)]),
        id(COLISSIMO),
        true,
        test_now(),
    );
    assert_eq!(result.map_err(|e| e.code()), unavailable);
    if let Some(method) = windowed.delivery_methods.get_mut(&id(COLISSIMO)) {
        method.available_from = None;
        method.available_until = Some(test_now());
    }
    let result = price_basket(
        &windowed,
        &basket(&[("MUG-BLANC", 1)]),
        id(COLISSIMO),
        true,
        test_now(),
    );
    assert_eq!(result.map_err(|e| e.code()), unavailable);
}

#[test]
fn compute_taxes_on_nothing_is_zero() {
    // Proves the empty document has zero totals and no breakdown.
    let (parts, totals) = compute_taxes(&[], true);
    assert!(parts.is_empty());
    assert!(totals.vat_breakdown.is_empty());
    assert_eq!(totals.total_incl_vat, Decimal::ZERO);
}

const RATES: [&str; 5] = ["0", "2.1", "5.5", "10", "20"];

/// A catalog of `products.len()` products whose rates and tiers come from the strategy.
fn random_catalog(
    products: &[(usize, Vec<(u32, u32)>)],
    shipping_cents: u32,
    shipping_rate: usize,
) -> Catalog {
    let mut events = vec![CatalogEvent::CategoryAdded {
        shop_id: shop_id(),
        category: Category {
            category_id: id(1),
            name: "C".into(),
        },
    }];
    for (index, (rate, tier_steps)) in products.iter().enumerate() {
        let mut min_quantity = 1;
        let mut tiers = Vec::new();
        for (gap, cents) in tier_steps {
            tiers.push(PriceTier {
                min_quantity,
                unit_price: Decimal::new(i64::from(*cents), 2),
            });
            min_quantity += gap;
        }
        let product = Product {
            product_id: id(1000 + index as u128),
            sku: format!("P{index}"),
            name: "p".into(),
            category_id: id(1),
            vat_rate: d(RATES[*rate]),
            weight_g: 10,
            tiers,
        };
        events.push(CatalogEvent::ProductAdded {
            shop_id: shop_id(),
            product,
        });
    }
    let mut method: DeliveryMethod = delivery(
        7,
        crate::catalog::DeliveryKind::HomeDelivery,
        crate::catalog::PaymentMode::Card,
        "0",
        0,
        true,
    );
    method.price = Decimal::new(i64::from(shipping_cents), 2);
    method.vat_rate = d(RATES[shipping_rate]);
    events.push(CatalogEvent::DeliveryMethodAdded {
        shop_id: shop_id(),
        delivery_method: method,
    });
    fold::<Catalog>(&events)
}

fn product_strategy() -> impl Strategy<Value = (usize, Vec<(u32, u32)>)> {
    (
        0..RATES.len(),
        prop::collection::vec((1u32..200, 1u32..100_000), 1..4),
    )
}

fn check_adds_up(priced: &PricedBasket) -> Result<(), TestCaseError> {
    let totals = &priced.totals;
    let mut net: Decimal = priced.lines.iter().map(|l| l.total_excl_vat).sum();
    let mut vat: Decimal = priced.lines.iter().map(|l| l.total_vat).sum();
    let mut gross: Decimal = priced.lines.iter().map(|l| l.total_incl_vat).sum();
    net += priced.shipping.total_excl_vat;
    vat += priced.shipping.total_vat;
    gross += priced.shipping.total_incl_vat;
    prop_assert_eq!(net, totals.total_excl_vat);
    prop_assert_eq!(vat, totals.total_vat);
    prop_assert_eq!(gross, totals.total_incl_vat);
    prop_assert_eq!(
        totals.total_excl_vat + totals.total_vat,
        totals.total_incl_vat
    );
    let breakdown_vat: Decimal = totals.vat_breakdown.iter().map(|s| s.vat_amount).sum();
    prop_assert_eq!(breakdown_vat, totals.total_vat);
    for subtotal in &totals.vat_breakdown {
        prop_assert_eq!(
            subtotal.base_excl_vat + subtotal.vat_amount,
            subtotal.total_incl_vat
        );
        let stated = if priced.prices_include_tax {
            subtotal.total_incl_vat
        } else {
            subtotal.base_excl_vat
        };
        let divisor = if priced.prices_include_tax {
            Decimal::ONE_HUNDRED + subtotal.vat_rate
        } else {
            Decimal::ONE_HUNDRED
        };
        prop_assert_eq!(
            subtotal.vat_amount,
            round_cents(stated * subtotal.vat_rate / divisor)
        );
    }
    for line in &priced.lines {
        prop_assert_eq!(line.total_excl_vat + line.total_vat, line.total_incl_vat);
        prop_assert!(line.total_vat >= Decimal::ZERO && line.total_excl_vat >= Decimal::ZERO);
        prop_assert!(line.total_vat.scale() <= 2 && line.total_excl_vat.scale() <= 2);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Proves totals, VAT per rate and lines add up to the cent for random baskets in both tax modes.
    #[test]
    fn random_baskets_add_up(
        products in prop::collection::vec(product_strategy(), 1..12),
        quantities in prop::collection::vec(1u32..2_000, 12),
        shipping_cents in 0u32..5_000,
        shipping_rate in 0..RATES.len(),
        include_tax in any::<bool>(),
    ) {
        let catalog = random_catalog(&products, shipping_cents, shipping_rate);
        let lines: Vec<BasketLine> = (0..products.len())
            .map(|i| BasketLine { sku: format!("P{i}"), quantity: quantities[i] })
            .collect();
        let priced = price_basket(&catalog, &lines, id(7), include_tax, test_now());
        prop_assert!(priced.is_ok(), "{:?}", priced);
        if let Ok(priced) = priced {
            check_adds_up(&priced)?;
        }
    }

    /// Proves the split of any amounts is exact per item and per rate.
    #[test]
    fn compute_taxes_adds_up(
        items in prop::collection::vec((0i64..10_000_000, 0..RATES.len()), 0..50),
        include_tax in any::<bool>(),
    ) {
        let items: Vec<TaxableAmount> = items
            .iter()
            .map(|(cents, rate)| TaxableAmount { amount: Decimal::new(*cents, 2), vat_rate: d(RATES[*rate]) })
            .collect();
        let (parts, totals) = compute_taxes(&items, include_tax);
        let vat: Decimal = parts.iter().map(|p| p.vat).sum();
        let gross: Decimal = parts.iter().map(|p| p.incl_vat).sum();
        prop_assert_eq!(vat, totals.total_vat);
        prop_assert_eq!(gross, totals.total_incl_vat);
        prop_assert_eq!(totals.total_excl_vat + totals.total_vat, totals.total_incl_vat);
        for (item, part) in items.iter().zip(&parts) {
            let stated = if include_tax { part.incl_vat } else { part.excl_vat };
            prop_assert_eq!(stated, item.amount);
        }
    }
}
