use super::*;
use crate::fixtures::*;
use crate::pricing::price_basket;
use crate::testing::{given, replay, test_now, TestEnvironment};
use std::sync::Arc;

pub(super) const ORDER: u128 = 0x0D;

pub(super) fn customer() -> OrderCustomer {
    OrderCustomer {
        customer_id: None,
        email: "Claire.Martin@example.fr".into(),
        name: "Claire Martin".into(),
        billing_address: None,
    }
}

pub(super) fn place_with(delivery: u128, lines: &[(&str, u32)]) -> PlaceOrder {
    PlaceOrder {
        order_id: id(ORDER),
        shop_id: shop_id(),
        customer: customer(),
        lines: lines
            .iter()
            .map(|(sku, quantity)| BasketLine {
                sku: (*sku).into(),
                quantity: *quantity,
            })
            .collect(),
        delivery_method_id: id(delivery),
        pickup_point_id: None,
        shipping_address: (delivery != RETRAIT).then(address),
        catalog: Arc::new(catalog()),
        prices_include_tax: true,
        currency: "EUR".into(),
        coupon: None,
        email_moved_to: None,
    }
}

/// 60 prints (17.40) and a guide (18.50), shipped by Colissimo (4.90): 40.80 in all.
fn place_home() -> OrderCommand {
    OrderCommand::Place(Box::new(place_with(
        COLISSIMO,
        &[("TIR-10x15", 60), ("GUIDE-LYON", 1)],
    )))
}

fn place_pickup() -> OrderCommand {
    OrderCommand::Place(Box::new(place_with(RETRAIT, &[("MUG-BLANC", 3)])))
}

/// `history` followed by what `command` decides on it.
pub(super) fn after(mut history: Vec<OrderEvent>, command: OrderCommand) -> Vec<OrderEvent> {
    let state = replay::<Order>(&history);
    let events = state
        .decide(&command, &TestEnvironment::new())
        .expect("setup command succeeds");
    history.extend(events);
    history
}

pub(super) fn mark_paid() -> OrderCommand {
    OrderCommand::MarkPaid {
        payment_id: id(0x9A1),
        method: PaymentMethod::Cash,
        operator: "anne".into(),
    }
}

fn placed_home() -> Vec<OrderEvent> {
    after(vec![], place_home())
}

fn paid_home() -> Vec<OrderEvent> {
    after(placed_home(), mark_paid())
}

fn shipped_home() -> Vec<OrderEvent> {
    after(
        paid_home(),
        OrderCommand::Ship {
            shipped_by: "anne".into(),
            tracking_number: Some("6A123".into()),
        },
    )
}

fn paid_pickup() -> Vec<OrderEvent> {
    after(after(vec![], place_pickup()), mark_paid())
}

pub(super) fn payment(n: u128, amount: &str, external: Option<&str>) -> RecordPayment {
    RecordPayment {
        payment_id: id(n),
        method: PaymentMethod::Card,
        amount: d(amount),
        transaction_id: Some(format!("tx-{n}")),
        external_payment_id: external.map(str::to_owned),
        recorded_by: "storefront".into(),
    }
}

pub(super) fn record(n: u128, amount: &str, external: Option<&str>) -> PaymentRecord {
    let p = payment(n, amount, external);
    PaymentRecord {
        payment_id: p.payment_id,
        method: p.method,
        amount: p.amount,
        transaction_id: p.transaction_id,
        external_payment_id: p.external_payment_id,
        recorded_by: p.recorded_by,
        recorded_at: test_now(),
    }
}

pub(super) fn return_of(credit: u128, lines: &[(u32, u32)], refund_shipping: bool) -> OrderCommand {
    OrderCommand::RecordReturn {
        credit_id: id(credit),
        lines: lines
            .iter()
            .map(|(line_number, quantity)| ReturnLine {
                line_number: *line_number,
                quantity: *quantity,
            })
            .collect(),
        refund_shipping,
        settlement: Settlement::StoreCredit,
        credited_by: "anne".into(),
    }
}

#[test]
fn places_an_order_priced_from_the_catalog() {
    // Proves placing records the catalog's prices, the normalised email and the NEW flag.
    let command = place_with(COLISSIMO, &[("TIR-10x15", 60), ("GUIDE-LYON", 1)]);
    let pricing = price_basket(
        &command.catalog,
        &command.lines,
        id(COLISSIMO),
        true,
        test_now(),
    )
    .expect("priced");
    assert_eq!(pricing.totals.total_incl_vat, d("40.80"));
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
        coupon: None,
    }));
    let order = given::<Order>([])
        .when(OrderCommand::Place(Box::new(command)))
        .then([expected]);
    assert!(order.is_new);
    assert_eq!(order.status, OrderStatus::Placed);
    assert_eq!(order.outstanding(), d("40.80"));
}

#[test]
fn placing_again_is_a_retry_or_a_conflict() {
    // Proves a retried placement records nothing and another basket under the same id is refused.
    given::<Order>(placed_home()).when(place_home()).then([]);
    let other = OrderCommand::Place(Box::new(place_with(
        COLISSIMO,
        &[("TIR-10x15", 61), ("GUIDE-LYON", 1)],
    )));
    given::<Order>(placed_home())
        .when(other)
        .then_err_code("already-exists");
}

fn place_error(spoil: impl FnOnce(&mut PlaceOrder)) -> &'static str {
    let mut command = place_with(COLISSIMO, &[("MUG-BLANC", 1)]);
    spoil(&mut command);
    let result = Order::default().decide(
        &OrderCommand::Place(Box::new(command)),
        &TestEnvironment::new(),
    );
    result.err().map_or("ok", |e| e.code())
}

#[test]
fn placing_validates_customer_delivery_and_basket() {
    // Proves each input of a placement is checked, with the code the API will return.
    assert_eq!(place_error(|_| {}), "ok");
    assert_eq!(
        place_error(|p| p.customer.email = "nope".into()),
        "validation"
    );
    assert_eq!(
        place_error(|p| p.customer.name = String::new()),
        "validation"
    );
    assert_eq!(
        place_error(|p| p.customer.customer_id = Some(id(1))),
        "validation"
    );
    let own_id = crate::customer::customer_id_for(shop_id(), "claire.martin@example.fr");
    assert_eq!(place_error(|p| p.customer.customer_id = Some(own_id)), "ok");
    // An account that moved to this email (its id derives from its first email) owns it now.
    let moved = |p: &mut PlaceOrder| {
        p.customer.customer_id = Some(id(0xAC));
        p.email_moved_to = Some(id(0xAC));
    };
    assert_eq!(place_error(moved), "ok");
    let moved_elsewhere = |p: &mut PlaceOrder| {
        p.customer.customer_id = Some(own_id);
        p.email_moved_to = Some(id(0xAC));
    };
    assert_eq!(
        place_error(moved_elsewhere),
        "validation",
        "once another account moved to the email, the email's own id is not its account"
    );
    assert_eq!(place_error(|p| p.currency = "eur".into()), "validation");
    assert_eq!(place_error(|p| p.shipping_address = None), "validation");
    assert_eq!(
        place_error(|p| p.pickup_point_id = Some(id(1))),
        "validation"
    );
    assert_eq!(place_error(|p| p.lines[0].quantity = 0), "validation");
    assert_eq!(place_error(|p| p.lines[0].sku = "NOPE".into()), "not-found");
    assert_eq!(
        place_error(|p| p.delivery_method_id = id(COURSIER)),
        "delivery-method-unavailable"
    );
    assert_eq!(place_error(|p| p.shop_id = id(1)), "shop-mismatch");
    let pickup = |p: &mut PlaceOrder| {
        p.delivery_method_id = id(RETRAIT);
    };
    assert_eq!(
        place_error(pickup),
        "validation",
        "store pickup takes no shipping address"
    );
    let unknown_point = |p: &mut PlaceOrder| {
        p.delivery_method_id = id(RETRAIT);
        p.shipping_address = None;
        p.pickup_point_id = Some(id(0xE1));
    };
    assert_eq!(place_error(unknown_point), "not-found");
}

#[test]
fn opening_clears_the_new_flag_once() {
    // Proves the first staff opening is recorded and later ones change nothing.
    let opened = OrderEvent::OrderOpened {
        shop_id: shop_id(),
        order_id: id(ORDER),
        opened_by: "anne".into(),
        opened_at: test_now(),
    };
    let order = given::<Order>(placed_home())
        .when(OrderCommand::Open {
            opened_by: "anne".into(),
        })
        .then([opened.clone()]);
    assert!(!order.is_new);
    let mut history = placed_home();
    history.push(opened);
    given::<Order>(history)
        .when(OrderCommand::Open {
            opened_by: "paul".into(),
        })
        .then([]);
    given::<Order>([])
        .when(OrderCommand::Open {
            opened_by: "anne".into(),
        })
        .then_err_code("not-found");
}

#[test]
fn payments_covering_the_total_make_the_order_paid() {
    // Proves a partial payment leaves the order placed and the one completing it emits OrderPaid.
    let first = OrderEvent::PaymentRecorded {
        shop_id: shop_id(),
        order_id: id(ORDER),
        payment: record(1, "30.00", Some("pi_1")),
    };
    let order = given::<Order>(placed_home())
        .when(OrderCommand::RecordPayment(payment(
            1,
            "30.00",
            Some("pi_1"),
        )))
        .then([first.clone()]);
    assert_eq!(order.status, OrderStatus::Placed);
    let mut history = placed_home();
    history.push(first);
    let order = given::<Order>(history)
        .when(OrderCommand::RecordPayment(payment(
            2,
            "10.80",
            Some("pi_2"),
        )))
        .then([
            OrderEvent::PaymentRecorded {
                shop_id: shop_id(),
                order_id: id(ORDER),
                payment: record(2, "10.80", Some("pi_2")),
            },
            OrderEvent::OrderPaid {
                shop_id: shop_id(),
                order_id: id(ORDER),
                amount_paid: d("40.80"),
                paid_at: test_now(),
            },
        ]);
    assert_eq!(order.status, OrderStatus::Paid);
    assert!(order.outstanding().is_zero());
}

#[test]
fn a_repeated_payment_notification_is_recorded_once() {
    // Proves the same external payment id, even under a new payment id and after payment, adds nothing.
    let history = after(
        placed_home(),
        OrderCommand::RecordPayment(payment(1, "40.80", Some("pi_1"))),
    );
    given::<Order>(history.clone())
        .when(OrderCommand::RecordPayment(payment(
            2,
            "40.80",
            Some("pi_1"),
        )))
        .then([]);
    given::<Order>(history.clone())
        .when(OrderCommand::RecordPayment(payment(
            1,
            "40.80",
            Some("pi_1"),
        )))
        .then([]);
    given::<Order>(history)
        .when(OrderCommand::RecordPayment(payment(
            1,
            "1.00",
            Some("pi_9"),
        )))
        .then_err_code("already-exists");
}

#[test]
fn payment_rules() {
    // Proves overpayment, bad amounts, payments on paid or cancelled orders and unknown orders are refused.
    given::<Order>(placed_home())
        .when(OrderCommand::RecordPayment(payment(1, "40.81", None)))
        .then_err_code("payment-exceeds-balance");
    given::<Order>(placed_home())
        .when(OrderCommand::RecordPayment(payment(1, "0", None)))
        .then_err_code("validation");
    given::<Order>(placed_home())
        .when(OrderCommand::RecordPayment(payment(1, "1.001", None)))
        .then_err_code("validation");
    let mut anonymous = payment(1, "1", None);
    anonymous.recorded_by = String::new();
    given::<Order>(placed_home())
        .when(OrderCommand::RecordPayment(anonymous))
        .then_err_code("validation");
    given::<Order>(paid_home())
        .when(OrderCommand::RecordPayment(payment(5, "1", None)))
        .then_err(|e| {
            matches!(
                e,
                DomainError::InvalidTransition {
                    from: "paid",
                    action: "record a payment for"
                }
            )
        });
    let cancelled = after(placed_home(), cancel(None));
    given::<Order>(cancelled)
        .when(OrderCommand::RecordPayment(payment(5, "1", None)))
        .then_err_code("invalid-transition");
    given::<Order>([])
        .when(OrderCommand::RecordPayment(payment(5, "1", None)))
        .then_err_code("not-found");
}

#[test]
fn payments_per_order_are_bounded() {
    // Proves an order cannot collect more than PAYMENTS_PER_ORDER_MAX payments.
    let mut history = placed_home();
    for n in 0..crate::limits::PAYMENTS_PER_ORDER_MAX as u128 {
        history = after(
            history,
            OrderCommand::RecordPayment(payment(100 + n, "0.01", None)),
        );
    }
    given::<Order>(history)
        .when(OrderCommand::RecordPayment(payment(1, "0.01", None)))
        .then_err_code("limit-exceeded");
}

#[test]
fn mark_paid_at_the_counter_records_the_operator() {
    // Proves the counter payment takes the whole balance, names the operator and pays the order.
    let history = after(
        placed_home(),
        OrderCommand::RecordPayment(payment(1, "0.80", None)),
    );
    let recorded = PaymentRecord {
        payment_id: id(0x9A1),
        method: PaymentMethod::Cash,
        amount: d("40.00"),
        transaction_id: None,
        external_payment_id: None,
        recorded_by: "anne".into(),
        recorded_at: test_now(),
    };
    given::<Order>(history).when(mark_paid()).then([
        OrderEvent::PaymentRecorded {
            shop_id: shop_id(),
            order_id: id(ORDER),
            payment: recorded,
        },
        OrderEvent::OrderPaid {
            shop_id: shop_id(),
            order_id: id(ORDER),
            amount_paid: d("40.80"),
            paid_at: test_now(),
        },
    ]);
    given::<Order>(paid_home()).when(mark_paid()).then([]);
    let again = OrderCommand::MarkPaid {
        payment_id: id(0x9A2),
        method: PaymentMethod::Cash,
        operator: "anne".into(),
    };
    given::<Order>(paid_home())
        .when(again)
        .then_err_code("invalid-transition");
}

#[test]
fn home_delivery_lifecycle() {
    // Proves paid → in production → shipped → delivered, each step recorded with its operator.
    let production = OrderCommand::StartProduction {
        started_by: "labo".into(),
    };
    let history = after(paid_home(), production.clone());
    assert_eq!(replay::<Order>(&history).status, OrderStatus::InProduction);
    given::<Order>(paid_home())
        .when(production)
        .then([OrderEvent::ProductionStarted {
            shop_id: shop_id(),
            order_id: id(ORDER),
            started_by: "labo".into(),
            started_at: test_now(),
        }]);
    let ship = OrderCommand::Ship {
        shipped_by: "anne".into(),
        tracking_number: Some("6A123".into()),
    };
    let shipped = given::<Order>(history)
        .when(ship)
        .then([OrderEvent::OrderShipped {
            shop_id: shop_id(),
            order_id: id(ORDER),
            shipped_by: "anne".into(),
            tracking_number: Some("6A123".into()),
            shipped_at: test_now(),
        }]);
    assert_eq!(shipped.tracking_number.as_deref(), Some("6A123"));
    let delivered = given::<Order>(shipped_home())
        .when(OrderCommand::Deliver {
            delivered_by: "anne".into(),
        })
        .then([OrderEvent::OrderDelivered {
            shop_id: shop_id(),
            order_id: id(ORDER),
            delivered_by: "anne".into(),
            delivered_at: test_now(),
        }]);
    assert_eq!(delivered.status, OrderStatus::Delivered);
}

#[test]
fn store_pickup_lifecycle() {
    // Proves pickup orders become ready for pickup, then delivered, and are never shipped.
    let ready = OrderCommand::MarkReadyForPickup {
        marked_by: "anne".into(),
    };
    given::<Order>(paid_pickup())
        .when(ready.clone())
        .then([OrderEvent::OrderReadyForPickup {
            shop_id: shop_id(),
            order_id: id(ORDER),
            marked_by: "anne".into(),
            ready_at: test_now(),
        }]);
    let history = after(paid_pickup(), ready.clone());
    let delivered = given::<Order>(history)
        .when(OrderCommand::Deliver {
            delivered_by: "anne".into(),
        })
        .then([OrderEvent::OrderDelivered {
            shop_id: shop_id(),
            order_id: id(ORDER),
            delivered_by: "anne".into(),
            delivered_at: test_now(),
        }]);
    assert_eq!(delivered.status, OrderStatus::Delivered);
    let ship = OrderCommand::Ship {
        shipped_by: "anne".into(),
        tracking_number: None,
    };
    given::<Order>(paid_pickup())
        .when(ship)
        .then_err_code("delivery-kind-mismatch");
    given::<Order>(paid_home())
        .when(ready)
        .then_err_code("delivery-kind-mismatch");
}

#[test]
fn invalid_transitions_are_refused_clearly() {
    // Proves every out-of-order step names the state it was refused from.
    let ship = || OrderCommand::Ship {
        shipped_by: "anne".into(),
        tracking_number: None,
    };
    let deliver = || OrderCommand::Deliver {
        delivered_by: "anne".into(),
    };
    let production = || OrderCommand::StartProduction {
        started_by: "labo".into(),
    };
    let cases: Vec<(Vec<OrderEvent>, OrderCommand, &str)> = vec![
        (placed_home(), ship(), "placed"),
        (placed_home(), production(), "placed"),
        (placed_home(), deliver(), "placed"),
        (paid_home(), deliver(), "paid"),
        (shipped_home(), production(), "shipped"),
        (shipped_home(), ship(), "shipped"),
        (after(placed_home(), cancel(None)), ship(), "cancelled"),
        (shipped_home(), cancel(None), "shipped"),
    ];
    for (history, command, state) in cases {
        given::<Order>(history).when(command).then_err(
            |e| matches!(e, DomainError::InvalidTransition { from, .. } if *from == state),
        );
    }
    given::<Order>([]).when(ship()).then_err_code("not-found");
}

pub(super) fn cancel(settlement: Option<Settlement>) -> OrderCommand {
    OrderCommand::Cancel {
        cancelled_by: "anne".into(),
        reason: "Client a changé d'avis".into(),
        settlement,
    }
}

/// The `OrderCancelled` that `cancel(None)` records at the test clock, giving back `refund_due`
/// as `refunds`.
pub(super) fn cancelled(refund_due: &str, refunds: Vec<MethodRefund>) -> OrderEvent {
    OrderEvent::OrderCancelled {
        shop_id: shop_id(),
        order_id: id(ORDER),
        cancelled_by: "anne".into(),
        reason: "Client a changé d'avis".into(),
        refund_due: d(refund_due),
        refunds,
        cancelled_at: test_now(),
    }
}

#[test]
fn cancelling_an_unpaid_order() {
    // Proves a placed order is cancelled with any partial payment to give back, once.
    let history = after(
        placed_home(),
        OrderCommand::RecordPayment(payment(1, "5.00", None)),
    );
    let order = given::<Order>(history).when(cancel(None)).then([cancelled(
        "5.00",
        vec![MethodRefund {
            method: PaymentMethod::Card,
            amount: d("5.00"),
        }],
    )]);
    assert_eq!(order.status, OrderStatus::Cancelled);
    given::<Order>(after(placed_home(), cancel(None)))
        .when(cancel(None))
        .then([]);
    let no_reason = OrderCommand::Cancel {
        cancelled_by: "anne".into(),
        reason: String::new(),
        settlement: None,
    };
    given::<Order>(placed_home())
        .when(no_reason)
        .then_err_code("validation");
}

#[test]
fn cancelling_a_paid_order_credits_everything() {
    // Proves a paid order needs a settlement and is then credited in full, shipping included.
    given::<Order>(paid_home())
        .when(cancel(None))
        .then_err_code("validation");
    let events = given::<Order>(paid_home())
        .when(cancel(Some(Settlement::StoreCredit)))
        .events();
    assert_eq!(events.len(), 2);
    let OrderEvent::OrderCredited { credit, .. } = &events[0] else {
        panic!("credit first: {events:?}")
    };
    assert_eq!(credit.reason, CreditReason::Cancellation);
    assert_eq!(credit.totals.total_incl_vat, d("40.80"));
    assert_eq!(credit.totals.total_vat, d("4.68"));
    assert_eq!(credit.lines.len(), 3);
    assert!(matches!(
        &events[1],
        OrderEvent::OrderCancelled { refund_due, refunds, .. }
            if refund_due.is_zero() && refunds.is_empty()
    ));
}

#[test]
fn cancelling_a_partly_paid_order_gives_each_method_its_part_back() {
    // Proves a partly paid order's refund is split by the methods it was paid with, one row per
    // method in the closures' method order (cash before card) however the payments came in,
    // summing to `refund_due`.
    let cash = |n: u128, amount: &str| {
        OrderCommand::RecordPayment(RecordPayment {
            method: PaymentMethod::Cash,
            ..payment(n, amount, None)
        })
    };
    let history: Vec<OrderEvent> = [
        OrderCommand::RecordPayment(payment(1, "5.00", None)),
        cash(2, "10.00"),
        cash(3, "2.50"),
    ]
    .into_iter()
    .fold(placed_home(), after);
    given::<Order>(history).when(cancel(None)).then([cancelled(
        "17.50",
        vec![
            MethodRefund {
                method: PaymentMethod::Cash,
                amount: d("12.50"),
            },
            MethodRefund {
                method: PaymentMethod::Card,
                amount: d("5.00"),
            },
        ],
    )]);
    // Nothing paid, nothing to give back: no refund rows at all.
    let events = given::<Order>(placed_home()).when(cancel(None)).events();
    assert!(matches!(
        &events[..],
        [OrderEvent::OrderCancelled { refund_due, refunds, .. }]
            if refund_due.is_zero() && refunds.is_empty()
    ));
}

#[test]
fn returns_only_for_shipped_or_delivered_orders() {
    // Proves returns are refused before shipping (seed 004) and accepted after.
    given::<Order>(paid_home())
        .when(return_of(1, &[(1, 1)], false))
        .then_err(|e| {
            matches!(
                e,
                DomainError::InvalidTransition {
                    from: "paid",
                    action: "return lines of"
                }
            )
        });
    given::<Order>(placed_home())
        .when(return_of(1, &[(1, 1)], false))
        .then_err_code("invalid-transition");
    let delivered = after(
        shipped_home(),
        OrderCommand::Deliver {
            delivered_by: "anne".into(),
        },
    );
    assert_eq!(
        given::<Order>(delivered)
            .when(return_of(1, &[(2, 1)], false))
            .events()
            .len(),
        1
    );
}

#[test]
fn a_return_credits_lines_with_vat_per_rate() {
    // Proves the credited amounts of a return of the guide and 30 prints, shipping included.
    let events = given::<Order>(shipped_home())
        .when(return_of(1, &[(1, 30), (2, 1)], true))
        .events();
    let OrderEvent::OrderCredited { credit, .. } = &events[0] else {
        panic!("{events:?}")
    };
    // 30 of 60 prints: half of 17.40; the guide 18.50 at 5.5 %; shipping 4.90.
    assert_eq!(credit.lines[0].total_incl_vat, d("8.70"));
    assert_eq!(credit.lines[1].total_incl_vat, d("18.50"));
    assert_eq!(credit.lines[2].kind, LineKind::Shipping);
    assert_eq!(credit.totals.total_incl_vat, d("32.10"));
    // VAT per rate on the credit's sums: 20 % on 13.60 → 2.27; 5.5 % on 18.50 → 0.96.
    assert_eq!(credit.totals.vat_breakdown[0].vat_amount, d("0.96"));
    assert_eq!(credit.totals.vat_breakdown[1].vat_amount, d("2.27"));
    assert_eq!(credit.settlement, Settlement::StoreCredit);
}

#[test]
fn returns_never_exceed_what_is_not_yet_credited() {
    // Proves the per-line cap holds across successive returns.
    let history = after(shipped_home(), return_of(1, &[(1, 50)], false));
    let order = replay::<Order>(&history);
    assert_eq!(order.returnable_quantity(1), 10);
    given::<Order>(history.clone())
        .when(return_of(2, &[(1, 11)], false))
        .then_err(|e| {
            matches!(
                e,
                DomainError::QuantityExceedsReturnable {
                    line_number: 1,
                    requested: 11,
                    returnable: 10
                }
            )
        });
    given::<Order>(history.clone())
        .when(return_of(2, &[(2, 2)], false))
        .then_err_code("quantity-exceeds-returnable");
    assert_eq!(
        given::<Order>(history)
            .when(return_of(2, &[(1, 10)], false))
            .events()
            .len(),
        1
    );
}

#[test]
fn return_lines_are_validated() {
    // Proves empty, repeated, unknown and zero-quantity return lines are refused.
    given::<Order>(shipped_home())
        .when(return_of(1, &[], false))
        .then_err_code("validation");
    given::<Order>(shipped_home())
        .when(return_of(1, &[(1, 1), (1, 1)], false))
        .then_err_code("validation");
    given::<Order>(shipped_home())
        .when(return_of(1, &[(9, 1)], false))
        .then_err_code("not-found");
    given::<Order>(shipped_home())
        .when(return_of(1, &[(1, 0)], false))
        .then_err_code("validation");
}

#[test]
fn shipping_is_credited_at_most_once_and_credits_retry_safely() {
    // Proves the shipping line cannot be credited twice and a retried return records nothing.
    let history = after(shipped_home(), return_of(1, &[(1, 1)], true));
    given::<Order>(history.clone())
        .when(return_of(2, &[(1, 1)], true))
        .then_err_code("shipping-already-credited");
    given::<Order>(history.clone())
        .when(return_of(1, &[(1, 1)], true))
        .then([]);
    let refund = OrderCommand::RecordReturn {
        credit_id: id(1),
        lines: vec![ReturnLine {
            line_number: 1,
            quantity: 1,
        }],
        refund_shipping: true,
        settlement: Settlement::Refund {
            method: PaymentMethod::Card,
        },
        credited_by: "anne".into(),
    };
    given::<Order>(history)
        .when(refund)
        .then_err_code("already-exists");
}

#[test]
fn returning_every_unit_in_pieces_gives_back_exactly_the_line() {
    // Proves cumulative shares: 7 returns of one mug each credit exactly what 7 mugs cost, no cent drift.
    let mut history = after(
        after(
            vec![],
            OrderCommand::Place(Box::new(place_with(COLISSIMO, &[("MUG-BLANC", 7)]))),
        ),
        mark_paid(),
    );
    history = after(
        history,
        OrderCommand::Ship {
            shipped_by: "anne".into(),
            tracking_number: None,
        },
    );
    for n in 0..7 {
        history = after(history, return_of(100 + n, &[(1, 1)], false));
    }
    let order = replay::<Order>(&history);
    let placed_line = &order.placed.as_ref().expect("placed").pricing.lines[0];
    let credited: Decimal = order
        .credits
        .values()
        .flat_map(|c| &c.lines)
        .map(|l| l.total_incl_vat)
        .sum();
    assert_eq!(credited, placed_line.total_incl_vat);
    assert_eq!(order.returnable_quantity(1), 0);
    given::<Order>(history)
        .when(return_of(200, &[(1, 1)], false))
        .then_err_code("quantity-exceeds-returnable");
}
