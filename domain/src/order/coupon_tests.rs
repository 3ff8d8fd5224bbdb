//! Orders placed with a coupon: the discount, the totals payments must cover, credits and
//! cancellation.

use super::tests::{
    after, cancel, cancelled, customer, mark_paid, payment, place_with, record, return_of, ORDER,
};
use super::*;
use crate::catalog::{CatalogChange, CatalogCommand, Category, DeliveryKind, PaymentMode};
use crate::coupon::{
    apply_coupon, CouponCommand, CouponEvent, CouponScope, Reduction, ShippingReduction, UseCoupon,
};
use crate::documents::{credit_note_body, invoice_body, CreditNoteBody, InvoiceBody};
use crate::fixtures::*;
use crate::pricing::{compute_taxes, price_basket, TaxableAmount, VatSubtotal};
use crate::testing::{given, replay, test_now, TestEnvironment};
use chrono::Duration;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn ten_percent_off() -> CouponScope {
    CouponScope::Order {
        reduction: Reduction::Percent(d("10")),
    }
}

fn with_coupon(mut place: PlaceOrder, coupon: Coupon, code: &str) -> OrderCommand {
    place.coupon = Some(CouponToApply {
        coupon: Arc::new(coupon),
        code: code.into(),
    });
    OrderCommand::Place(Box::new(place))
}

/// 60 prints (17.40), a guide (18.50), Colissimo (4.90) with 10 % off the products (3.59): 37.21.
fn place_discounted() -> OrderCommand {
    with_coupon(
        place_with(COLISSIMO, &[("TIR-10x15", 60), ("GUIDE-LYON", 1)]),
        coupon_with(ten_percent_off(), "5.00"),
        "tirages10",
    )
}

fn placed_discounted() -> Vec<OrderEvent> {
    after(vec![], place_discounted())
}

fn shipped_discounted() -> Vec<OrderEvent> {
    let ship = OrderCommand::Ship {
        shipped_by: "anne".into(),
        tracking_number: None,
    };
    after(after(placed_discounted(), mark_paid()), ship)
}

fn place_error(command: OrderCommand) -> &'static str {
    let result = Order::default().decide(&command, &TestEnvironment::new());
    result.err().map_or("ok", |e| e.code())
}

#[test]
fn placing_with_a_coupon_records_the_discount_it_computes() {
    // Proves the order computes the coupon's discount on its own priced basket, stores it with the
    // coupon's id and normalised code, and owes the discounted total (37.21 instead of 40.80).
    let place = place_with(COLISSIMO, &[("TIR-10x15", 60), ("GUIDE-LYON", 1)]);
    let pricing = price_basket(
        &place.catalog,
        &place.lines,
        id(COLISSIMO),
        true,
        test_now(),
    )
    .expect("priced");
    let discount = apply_coupon(&pricing, &ten_percent_off());
    assert_eq!(discount.amount, d("3.59"));
    let expected = OrderEvent::OrderPlaced(Box::new(PlacedOrder {
        shop_id: shop_id(),
        order_id: id(ORDER),
        customer: OrderCustomer {
            email: "claire.martin@example.fr".into(),
            ..customer()
        },
        currency: "EUR".into(),
        pickup_point_id: None,
        shipping_address: Some(address()),
        pricing,
        placed_at: test_now(),
        coupon: Some(AppliedCoupon {
            coupon_id: id(COUPON),
            code: "TIRAGES10".into(),
            discount,
        }),
    }));
    let order = given::<Order>([]).when(place_discounted()).then([expected]);
    let totals = order.placed.as_ref().expect("placed").totals();
    assert_eq!(
        (
            totals.total_excl_vat,
            totals.total_vat,
            totals.total_incl_vat
        ),
        (d("32.91"), d("4.30"), d("37.21"))
    );
    assert_eq!(order.total_incl_vat(), d("37.21"));
    assert_eq!(order.outstanding(), d("37.21"));
}

#[test]
fn payments_must_cover_the_discounted_total() {
    // Proves the balance is the discounted total: more is refused, exactly it pays the order.
    given::<Order>(placed_discounted())
        .when(OrderCommand::RecordPayment(payment(1, "37.22", None)))
        .then_err_code("payment-exceeds-balance");
    let order = given::<Order>(placed_discounted())
        .when(OrderCommand::RecordPayment(payment(1, "37.21", None)))
        .then([
            OrderEvent::PaymentRecorded {
                shop_id: shop_id(),
                order_id: id(ORDER),
                payment: record(1, "37.21", None),
            },
            OrderEvent::OrderPaid {
                shop_id: shop_id(),
                order_id: id(ORDER),
                amount_paid: d("37.21"),
                paid_at: test_now(),
            },
        ]);
    assert_eq!(order.status, OrderStatus::Paid);
}

#[test]
fn the_coupon_is_checked_by_its_terms_before_it_discounts() {
    // Proves an unknown code, another shop's or an uncreated coupon, an expired one, an unmet
    // minimum and a coupon that takes nothing off all refuse the placement, with the coupon's codes.
    let basket = || place_with(COLISSIMO, &[("TIR-10x15", 60), ("GUIDE-LYON", 1)]);
    let coupon = || coupon_with(ten_percent_off(), "5.00");
    assert_eq!(
        place_error(with_coupon(basket(), coupon(), "tirages10")),
        "ok"
    );
    assert_eq!(
        place_error(with_coupon(basket(), coupon(), "NOEL2025")),
        "coupon-code-unknown"
    );
    assert_eq!(
        place_error(with_coupon(basket(), coupon(), "")),
        "validation"
    );
    let mut elsewhere = coupon();
    elsewhere.shop_id = Some(id(1));
    assert_eq!(
        place_error(with_coupon(basket(), elsewhere, "TIRAGES10")),
        "shop-mismatch"
    );
    assert_eq!(
        place_error(with_coupon(basket(), Coupon::default(), "TIRAGES10")),
        "not-found"
    );
    let minimum = coupon_with(ten_percent_off(), "100.00");
    assert_eq!(
        place_error(with_coupon(basket(), minimum, "TIRAGES10")),
        "coupon-minimum-not-reached"
    );
    let mugs_only = CouponScope::Product {
        reduction: Reduction::Amount(d("5.00")),
        product_ids: [id(MUG)].into(),
    };
    assert_eq!(
        place_error(with_coupon(
            basket(),
            coupon_with(mugs_only, "0"),
            "TIRAGES10"
        )),
        "coupon-not-applicable"
    );
    given::<Order>([])
        .at(test_now() + Duration::days(31))
        .when(place_discounted())
        .then_err_code("coupon-expired");
}

#[test]
fn the_order_and_the_coupon_use_record_the_same_discount_in_either_order() {
    // Proves the coupon's `Use`, decided on the order's pricing, records exactly the order's
    // discount, and that the order decides the same whether the coupon already counts this use.
    let placed = replay::<Order>(&placed_discounted());
    let placed_order = placed.placed.as_ref().expect("placed");
    let coupon = coupon_with(ten_percent_off(), "5.00");
    let use_coupon = UseCoupon {
        shop_id: shop_id(),
        order_id: id(ORDER),
        code: "TIRAGES10".into(),
        customer_key: crate::coupon::customer_key(shop_id(), &placed_order.customer, None)
            .expect("key"),
        basket: Arc::new(placed_order.pricing.clone()),
    };
    let used = coupon
        .decide(
            &CouponCommand::Use(Box::new(use_coupon)),
            &TestEnvironment::new(),
        )
        .expect("use");
    let [CouponEvent::CouponUsed { discount, .. }] = used.as_slice() else {
        panic!("one use: {used:?}")
    };
    assert_eq!(Some(discount), placed.applied_coupon().map(|c| &c.discount));
    let coupon_after_use = used.iter().fold(coupon, |c, e| c.evolve(e));
    let place_after_use = with_coupon(
        place_with(COLISSIMO, &[("TIR-10x15", 60), ("GUIDE-LYON", 1)]),
        coupon_after_use,
        "tirages10",
    );
    given::<Order>([])
        .when(place_after_use)
        .then(placed_discounted());
}

#[test]
fn a_retried_placement_must_name_the_same_coupon() {
    // Proves a retry with the same code (any case) records nothing, while dropping, adding or
    // changing the coupon under the same order id is refused.
    let same = with_coupon(
        place_with(COLISSIMO, &[("TIR-10x15", 60), ("GUIDE-LYON", 1)]),
        coupon_with(ten_percent_off(), "5.00"),
        "TiRaGeS10",
    );
    given::<Order>(placed_discounted()).when(same).then([]);
    let without = OrderCommand::Place(Box::new(place_with(
        COLISSIMO,
        &[("TIR-10x15", 60), ("GUIDE-LYON", 1)],
    )));
    given::<Order>(placed_discounted())
        .when(without.clone())
        .then_err_code("already-exists");
    given::<Order>(after(vec![], without))
        .when(place_discounted())
        .then_err_code("already-exists");
    let mut other = coupon_with(ten_percent_off(), "5.00");
    other.coupon_id = Some(id(0xC0C1));
    let other = with_coupon(
        place_with(COLISSIMO, &[("TIR-10x15", 60), ("GUIDE-LYON", 1)]),
        other,
        "TIRAGES10",
    );
    given::<Order>(placed_discounted())
        .when(other)
        .then_err_code("already-exists");
}

#[test]
fn cancelling_tells_the_glue_which_coupon_use_to_release() {
    // Proves a cancelled order still names its coupon, whose `ReleaseUse` for this order then gives
    // the use back; an order without a coupon names none.
    let order = given::<Order>(placed_discounted())
        .when(cancel(None))
        .then([cancelled("0", Vec::new())]);
    let applied = order.applied_coupon().expect("coupon");
    assert_eq!(
        (applied.coupon_id, applied.code.as_str()),
        (id(COUPON), "TIRAGES10")
    );
    let placed = order.placed.as_ref().expect("placed");
    let use_coupon = UseCoupon {
        shop_id: shop_id(),
        order_id: placed.order_id,
        code: applied.code.clone(),
        customer_key: crate::coupon::customer_key(shop_id(), &placed.customer, None).expect("key"),
        basket: Arc::new(placed.pricing.clone()),
    };
    let coupon = coupon_with(ten_percent_off(), "5.00");
    let used = coupon
        .decide(
            &CouponCommand::Use(Box::new(use_coupon)),
            &TestEnvironment::new(),
        )
        .expect("use");
    let coupon = used.iter().fold(coupon, |c, e| c.evolve(e));
    let released = coupon
        .decide(
            &CouponCommand::ReleaseUse {
                order_id: placed.order_id,
            },
            &TestEnvironment::new(),
        )
        .expect("release");
    assert!(matches!(
        released.as_slice(),
        [CouponEvent::CouponUseReleased { coupon_id, .. }] if *coupon_id == applied.coupon_id
    ));
    let plain = after(
        vec![],
        OrderCommand::Place(Box::new(place_with(COLISSIMO, &[("MUG-BLANC", 1)]))),
    );
    assert!(replay::<Order>(&plain).applied_coupon().is_none());
}

#[test]
fn cancelling_a_paid_discounted_order_credits_what_was_paid() {
    // Proves the cancellation credit of a discounted order gives back 37.21, the coupon's 3.59
    // showing as one allowance per VAT rate.
    let events = given::<Order>(after(placed_discounted(), mark_paid()))
        .when(cancel(Some(Settlement::StoreCredit)))
        .events();
    let OrderEvent::OrderCredited { credit, .. } = &events[0] else {
        panic!("credit first: {events:?}")
    };
    assert_eq!(credit.totals.total_incl_vat, d("37.21"));
    assert_eq!(credit.totals.total_vat, d("4.30"));
    let allowances: Vec<(Decimal, Decimal, Decimal)> = credit
        .allowances
        .iter()
        .map(|a| (a.vat_rate, a.vat, a.amount_incl_vat))
        .collect();
    assert_eq!(
        allowances,
        vec![
            (d("5.5"), d("0.09"), d("1.85")),
            (d("20"), d("0.29"), d("1.74"))
        ]
    );
    assert_eq!(credit.allowances[0].reason, "Remise coupon TIRAGES10");
}

#[test]
fn returns_of_a_discounted_order_refund_the_discounted_amounts() {
    // Proves, worked by hand, that half the prints refund half their discounted amount
    // (17.40 - 1.74 = 15.66, so 7.83) and the rest closes the order at exactly 37.21 and 4.30 VAT.
    let history = after(shipped_discounted(), return_of(1, &[(1, 30)], false));
    let order = replay::<Order>(&history);
    let first = &order.credits[&id(1)];
    assert_eq!(first.lines[0].total_incl_vat, d("8.70"));
    assert_eq!(first.lines[0].total_vat, d("1.45"));
    assert_eq!(first.allowances.len(), 1);
    assert_eq!(first.allowances[0].amount_incl_vat, d("0.87"));
    assert_eq!(first.allowances[0].vat, d("0.14"));
    assert_eq!(
        (first.totals.total_incl_vat, first.totals.total_vat),
        (d("7.83"), d("1.31"))
    );
    let history = after(history, return_of(2, &[(1, 30), (2, 1)], true));
    let order = replay::<Order>(&history);
    let second = &order.credits[&id(2)];
    // 20 %: 7.83 + 4.90 = 12.73, VAT 3.43 on all 20.56 credited less 1.31 already: 2.12.
    // 5.5 %: 16.65, VAT 0.87.
    assert_eq!(
        (second.totals.total_incl_vat, second.totals.total_vat),
        (d("29.38"), d("2.99"))
    );
    let paid: Decimal = order
        .credits
        .values()
        .map(|c| c.totals.total_incl_vat)
        .sum();
    let vat: Decimal = order.credits.values().map(|c| c.totals.total_vat).sum();
    assert_eq!((paid, vat), (d("37.21"), d("4.30")));
}

#[test]
fn orders_stored_before_coupons_decode_and_keep_their_bytes() {
    // Proves an OrderPlaced without a `coupon` key decodes as an order without coupon and encodes
    // back without the key, and an order with one round-trips.
    let plain = after(
        vec![],
        OrderCommand::Place(Box::new(place_with(COLISSIMO, &[("MUG-BLANC", 1)]))),
    );
    let text = serde_json::to_string(&plain[0]).expect("encodes");
    assert!(!text.contains("coupon"), "{text}");
    let decoded: OrderEvent = serde_json::from_str(&text).expect("decodes");
    assert_eq!(decoded, plain[0]);
    let discounted = &placed_discounted()[0];
    let text = serde_json::to_string(discounted).expect("encodes");
    let decoded: OrderEvent = serde_json::from_str(&text).expect("decodes");
    assert_eq!(&decoded, discounted);
}

// ---- Property tests of the money -------------------------------------------------------------

const RATES: [&str; 5] = ["0", "2.1", "5.5", "10", "20"];
const PRODUCT: u128 = 0xB000;

/// One product of a generated basket: unit price in cents, VAT rate index, quantity, category.
type Item = (i64, usize, u32, bool);

/// A catalog holding the generated products and one home delivery at `shipping_cents`.
fn generated_catalog(items: &[Item], shipping_cents: i64) -> crate::catalog::Catalog {
    let mut changes = vec![
        CatalogChange::AddCategory(Category {
            category_id: id(TIRAGES),
            name: "Tirages".into(),
        }),
        CatalogChange::AddCategory(Category {
            category_id: id(LIVRES),
            name: "Livres".into(),
        }),
    ];
    for (index, (cents, rate, _, books)) in items.iter().enumerate() {
        let price = Decimal::new(*cents, 2).to_string();
        let category = if *books { LIVRES } else { TIRAGES };
        let sku = format!("P-{index}");
        changes.push(CatalogChange::AddProduct(product(
            PRODUCT + index as u128,
            &sku,
            category,
            RATES[*rate],
            100,
            &[(1, &price)],
        )));
    }
    let shipping = Decimal::new(shipping_cents, 2).to_string();
    changes.push(CatalogChange::AddDeliveryMethod(delivery(
        COLISSIMO,
        DeliveryKind::HomeDelivery,
        PaymentMode::Card,
        &shipping,
        0,
        true,
    )));
    let env = TestEnvironment::new();
    changes
        .into_iter()
        .fold(crate::catalog::Catalog::default(), |catalog, change| {
            let command = CatalogCommand {
                shop_id: shop_id(),
                change,
            };
            let events = catalog.decide(&command, &env).expect("generated catalog");
            events.iter().fold(catalog, |c, e| c.evolve(e))
        })
}

/// Places the generated basket with `scope`, if the coupon applies to it.
fn generated_order(
    items: &[Item],
    shipping_cents: i64,
    include_tax: bool,
    scope: Option<CouponScope>,
) -> Option<Vec<OrderEvent>> {
    let mut place = place_with(COLISSIMO, &[]);
    place.catalog = Arc::new(generated_catalog(items, shipping_cents));
    place.prices_include_tax = include_tax;
    place.lines = items
        .iter()
        .enumerate()
        .map(|(index, (_, _, quantity, _))| crate::pricing::BasketLine {
            sku: format!("P-{index}"),
            quantity: *quantity,
        })
        .collect();
    place.coupon = scope.map(|scope| CouponToApply {
        coupon: Arc::new(coupon_with(scope, "0")),
        code: "TIRAGES10".into(),
    });
    Order::default()
        .decide(
            &OrderCommand::Place(Box::new(place)),
            &TestEnvironment::new(),
        )
        .ok()
}

fn scope_strategy() -> impl Strategy<Value = CouponScope> {
    let percent = (1i64..=10_000).prop_map(|hundredths| Decimal::new(hundredths, 2));
    let amount = (1i64..=50_000).prop_map(|cents| Decimal::new(cents, 2));
    let reduction = prop_oneof![
        percent.clone().prop_map(Reduction::Percent),
        amount.clone().prop_map(Reduction::Amount),
    ];
    let shipping = prop_oneof![
        Just(ShippingReduction::Free),
        percent.prop_map(ShippingReduction::Percent),
        amount.prop_map(ShippingReduction::Amount),
    ];
    prop_oneof![
        reduction
            .clone()
            .prop_map(|reduction| CouponScope::Order { reduction }),
        shipping.prop_map(|reduction| CouponScope::Shipping { reduction }),
        (reduction.clone(), 0u128..4).prop_map(|(reduction, index)| CouponScope::Product {
            reduction,
            product_ids: [id(PRODUCT + index)].into(),
        }),
        (reduction, any::<bool>()).prop_map(|(reduction, books)| CouponScope::ProductType {
            reduction,
            category_ids: [id(if books { LIVRES } else { TIRAGES })].into(),
        }),
    ]
}

fn items_strategy() -> impl Strategy<Value = Vec<Item>> {
    prop::collection::vec((1i64..=20_000, 0usize..5, 1u32..=40, any::<bool>()), 1..=4)
}

fn stated(include_tax: bool, excl_vat: Decimal, incl_vat: Decimal) -> Decimal {
    if include_tax {
        incl_vat
    } else {
        excl_vat
    }
}

/// The VAT of `amount` at `vat_rate`, rounded once on it.
fn vat_of(amount: Decimal, vat_rate: Decimal, include_tax: bool) -> Decimal {
    compute_taxes(&[TaxableAmount { amount, vat_rate }], include_tax)
        .1
        .total_vat
}

/// excl + VAT = incl for each rate and overall, and the overall figures are the sums of the rates'.
fn check_totals_add_up(totals: &Totals) {
    for rate in &totals.vat_breakdown {
        assert_eq!(
            rate.base_excl_vat + rate.vat_amount,
            rate.total_incl_vat,
            "{totals:?}"
        );
    }
    let sum =
        |f: fn(&VatSubtotal) -> Decimal| -> Decimal { totals.vat_breakdown.iter().map(f).sum() };
    assert_eq!(sum(|r| r.base_excl_vat), totals.total_excl_vat);
    assert_eq!(sum(|r| r.vat_amount), totals.total_vat);
    assert_eq!(sum(|r| r.total_incl_vat), totals.total_incl_vat);
    assert_eq!(
        totals.total_excl_vat + totals.total_vat,
        totals.total_incl_vat
    );
}

/// Per rate: the document's lines less its allowances are exactly its totals.
fn check_lines_less_allowances(
    lines: &[DocumentLine],
    allowances: &[DocumentAllowance],
    totals: &Totals,
) {
    for rate in &totals.vat_breakdown {
        let at = |r: Decimal| r.normalize() == rate.vat_rate.normalize();
        let line_sum = |f: fn(&DocumentLine) -> Decimal| -> Decimal {
            lines.iter().filter(|l| at(l.vat_rate)).map(f).sum()
        };
        let allowance_sum = |f: fn(&DocumentAllowance) -> Decimal| -> Decimal {
            allowances.iter().filter(|a| at(a.vat_rate)).map(f).sum()
        };
        assert_eq!(
            line_sum(|l| l.total_excl_vat) - allowance_sum(|a| a.amount_excl_vat),
            rate.base_excl_vat
        );
        assert_eq!(
            line_sum(|l| l.total_vat) - allowance_sum(|a| a.vat),
            rate.vat_amount
        );
        assert_eq!(
            line_sum(|l| l.total_incl_vat) - allowance_sum(|a| a.amount_incl_vat),
            rate.total_incl_vat
        );
    }
}

/// The discounted order: totals add up, each rate's VAT is rounded once on its discounted sum,
/// and the discount is within what it could take.
fn check_discounted_order(placed: &PlacedOrder) {
    let include = placed.pricing.prices_include_tax;
    let totals = placed.totals();
    check_totals_add_up(&totals);
    let Some(coupon) = &placed.coupon else {
        assert_eq!(totals, placed.pricing.totals);
        return;
    };
    let discount = &coupon.discount;
    let mut net_by_rate: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    for line in &placed.pricing.lines {
        let gross = stated(include, line.total_excl_vat, line.total_incl_vat);
        let off: Decimal = discount
            .lines
            .iter()
            .filter(|l| l.line_number == line.line_number)
            .map(|l| l.amount)
            .sum();
        assert!(off >= Decimal::ZERO && off <= gross, "{off} off {gross}");
        *net_by_rate.entry(line.vat_rate.normalize()).or_default() += gross - off;
    }
    let shipping = &placed.pricing.shipping;
    let gross = stated(include, shipping.total_excl_vat, shipping.total_incl_vat);
    assert!(discount.shipping >= Decimal::ZERO && discount.shipping <= gross);
    *net_by_rate
        .entry(shipping.vat_rate.normalize())
        .or_default() += gross - discount.shipping;
    let eligible = stated(
        include,
        placed.pricing.totals.total_excl_vat,
        placed.pricing.totals.total_incl_vat,
    );
    assert!(discount.amount > Decimal::ZERO && discount.amount <= eligible);
    assert_eq!(
        stated(include, totals.total_excl_vat, totals.total_incl_vat),
        eligible - discount.amount
    );
    for rate in &totals.vat_breakdown {
        let net = net_by_rate[&rate.vat_rate.normalize()];
        assert_eq!(
            rate.vat_amount,
            vat_of(net, rate.vat_rate, include),
            "{rate:?}"
        );
    }
}

/// Credits returning every unit of `order` in up to three pieces per line, shipping with one.
fn return_everything(
    history: Vec<OrderEvent>,
    line_quantities: &[u32],
    cuts: &[Vec<u32>],
    shipping_in: usize,
) -> Vec<OrderEvent> {
    let pieces = cuts.iter().map(Vec::len).max().unwrap_or(0) + 1;
    let mut credits: Vec<Vec<(u32, u32)>> = vec![Vec::new(); pieces];
    for (index, quantity) in line_quantities.iter().enumerate() {
        let mut bounds: Vec<u32> = cuts
            .get(index)
            .map(|c| {
                c.iter()
                    .map(|per_mille| quantity * per_mille / 1000)
                    .collect()
            })
            .unwrap_or_default();
        bounds.push(0);
        bounds.push(*quantity);
        bounds.sort_unstable();
        for (piece, pair) in bounds.windows(2).enumerate() {
            if pair[1] > pair[0] {
                let line_number = u32::try_from(index + 1).expect("small");
                credits[piece].push((line_number, pair[1] - pair[0]));
            }
        }
    }
    let credits: Vec<Vec<(u32, u32)>> = credits.into_iter().filter(|c| !c.is_empty()).collect();
    let shipping_in = shipping_in % credits.len();
    credits
        .iter()
        .enumerate()
        .fold(history, |history, (n, lines)| {
            after(
                history,
                return_of(0x100 + n as u128, lines, n == shipping_in),
            )
        })
}

fn invoice_of(history: &[OrderEvent]) -> InvoiceBody {
    invoice_body(&shop_profile(), &replay::<Order>(history)).expect("invoice")
}

fn credit_notes_of(order: &Order) -> Vec<CreditNoteBody> {
    order
        .credits
        .keys()
        .map(|credit_id| {
            credit_note_body(&shop_profile(), order, *credit_id, "FA-2025-000001")
                .expect("credit note")
        })
        .collect()
}

/// The credit notes, summed rate by rate, against the invoice; and each note against its own
/// rounding (within a cent per rate).
fn check_credit_notes_add_up(invoice: &InvoiceBody, notes: &[CreditNoteBody]) {
    let include = invoice.prices_include_tax;
    for note in notes {
        check_totals_add_up(&note.totals);
        check_lines_less_allowances(&note.lines, &note.allowances, &note.totals);
        assert!(note.totals.total_incl_vat >= Decimal::ZERO, "{note:?}");
        for rate in &note.totals.vat_breakdown {
            let amount = stated(include, rate.base_excl_vat, rate.total_incl_vat);
            let own = vat_of(amount, rate.vat_rate, include);
            assert!((rate.vat_amount - own).abs() <= d("0.01"), "{rate:?}");
        }
    }
    let sum =
        |f: &dyn Fn(&Totals) -> Decimal| -> Decimal { notes.iter().map(|n| f(&n.totals)).sum() };
    assert_eq!(sum(&|t| t.total_incl_vat), invoice.totals.total_incl_vat);
    assert_eq!(sum(&|t| t.total_excl_vat), invoice.totals.total_excl_vat);
    assert_eq!(sum(&|t| t.total_vat), invoice.totals.total_vat);
    for rate in &invoice.totals.vat_breakdown {
        let at = |r: &VatSubtotal| r.vat_rate.normalize() == rate.vat_rate.normalize();
        let of_rate = |f: fn(&VatSubtotal) -> Decimal| -> Decimal {
            notes
                .iter()
                .flat_map(|n| n.totals.vat_breakdown.iter().filter(|r| at(r)))
                .map(f)
                .sum()
        };
        assert_eq!(of_rate(|r| r.vat_amount), rate.vat_amount, "{rate:?}");
        assert_eq!(
            of_rate(|r| r.total_incl_vat),
            rate.total_incl_vat,
            "{rate:?}"
        );
    }
    let allowed: Decimal = notes
        .iter()
        .flat_map(|n| &n.allowances)
        .map(|a| a.amount_incl_vat)
        .sum();
    let invoiced: Decimal = invoice.allowances.iter().map(|a| a.amount_incl_vat).sum();
    assert_eq!(allowed, invoiced);
}

proptest! {
    #[test]
    fn discounted_order_totals_are_exact(
        items in items_strategy(),
        shipping_cents in 0i64..=2_000,
        include_tax in any::<bool>(),
        scope in scope_strategy(),
    ) {
        // Proves for any basket, tax mode and coupon: net + VAT = gross per rate and overall, the
        // rates' VAT sums to the total VAT, each rate's VAT is rounded once on its discounted sum,
        // the discount stays within the lines and shipping it reduces, and payments owe the result.
        let Some(events) = generated_order(&items, shipping_cents, include_tax, Some(scope)) else {
            return Ok(());
        };
        let order = replay::<Order>(&events);
        let placed = order.placed.as_ref().expect("placed");
        check_discounted_order(placed);
        prop_assert_eq!(order.outstanding(), placed.totals().total_incl_vat);
    }

    #[test]
    fn credit_notes_of_a_fully_returned_order_add_up_to_its_invoice(
        items in items_strategy(),
        shipping_cents in 0i64..=2_000,
        include_tax in any::<bool>(),
        scope in prop::option::of(scope_strategy()),
        cuts in prop::collection::vec(prop::collection::vec(0u32..=1_000, 0..3), 4),
        shipping_in in 0usize..3,
    ) {
        // Proves that however a (discounted or not) order is returned in pieces, in either tax
        // mode, its credit notes add up to its invoice to the cent, per rate and overall, each
        // states its lines less its allowances, and none strays more than a cent from its own VAT.
        let Some(placed) = generated_order(&items, shipping_cents, include_tax, scope) else {
            return Ok(());
        };
        let paid = after(placed, mark_paid());
        let invoice = invoice_of(&paid);
        check_lines_less_allowances(&invoice.lines, &invoice.allowances, &invoice.totals);
        let shipped = after(paid, OrderCommand::Ship { shipped_by: "anne".into(), tracking_number: None });
        let quantities: Vec<u32> = items.iter().map(|(_, _, quantity, _)| *quantity).collect();
        let returned = return_everything(shipped, &quantities, &cuts, shipping_in);
        let order = replay::<Order>(&returned);
        prop_assert!((1..=quantities.len() as u32).all(|line| order.returnable_quantity(line) == 0));
        check_credit_notes_add_up(&invoice, &credit_notes_of(&order));
    }
}
