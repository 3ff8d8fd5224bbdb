use super::*;
use crate::fixtures::*;
use crate::limits::{GENERATED_CODE_CHARS, SINGLE_USE_CODES_PER_BATCH_MAX, SINGLE_USE_CODE_CHARS};
use crate::pricing::{price_basket, BasketLine};
use crate::testing::{given, replay, test_now, TestEnvironment};
use chrono::Duration;

const COUPON: u128 = 0xC0_0001;

fn coupon_id() -> Uuid {
    id(COUPON)
}

fn basket(items: &[(&str, u32)], delivery: u128) -> Arc<PricedBasket> {
    let lines: Vec<BasketLine> = items
        .iter()
        .map(|(sku, quantity)| BasketLine {
            sku: (*sku).into(),
            quantity: *quantity,
        })
        .collect();
    Arc::new(price_basket(&catalog(), &lines, id(delivery), true, test_now()).expect("priced"))
}

/// 60 prints (17.40), a guide (18.50), Colissimo (4.90): 40.80 including VAT.
fn usual_basket() -> Arc<PricedBasket> {
    basket(&[("TIR-10x15", 60), ("GUIDE-LYON", 1)], COLISSIMO)
}

fn all_customers(max_total_uses: Option<u32>, max_uses_per_customer: Option<u32>) -> Audience {
    Audience::AllCustomers {
        max_total_uses,
        max_uses_per_customer,
    }
}

/// "Rentrée tirages": 10 % on photo prints, from 5.00, valid a day ago to in 30 days.
fn definition(audience: Audience) -> CouponDefinition {
    CouponDefinition {
        name: "Rentrée tirages".into(),
        starts_at: test_now() - Duration::days(1),
        ends_at: test_now() + Duration::days(30),
        scope: CouponScope::ProductType {
            reduction: Reduction::Percent(d("10")),
            category_ids: [id(TIRAGES)].into(),
        },
        min_order_amount: d("5.00"),
        audience,
    }
}

fn create(definition: CouponDefinition) -> CouponCommand {
    CouponCommand::Create {
        coupon_id: coupon_id(),
        shop_id: shop_id(),
        definition: Box::new(definition),
    }
}

fn created(definition: CouponDefinition) -> CouponEvent {
    CouponEvent::CouponCreated {
        shop_id: shop_id(),
        coupon_id: coupon_id(),
        definition,
        created_at: test_now(),
    }
}

fn generated(codes: &[&str], typed: bool) -> CouponEvent {
    CouponEvent::CouponCodesGenerated {
        shop_id: shop_id(),
        coupon_id: coupon_id(),
        codes: codes.iter().map(|c| (*c).to_owned()).collect(),
        typed,
        generated_at: test_now(),
    }
}

fn generate(request: CodeRequest) -> CouponCommand {
    CouponCommand::GenerateCodes {
        request,
        registry: Arc::new(CouponCodeRegistry::default()),
    }
}

fn use_code(order: u128, code: &str, customer: u128) -> CouponCommand {
    CouponCommand::Use(Box::new(UseCoupon {
        shop_id: shop_id(),
        order_id: id(order),
        code: code.into(),
        customer_key: id(customer),
        basket: usual_basket(),
    }))
}

fn used(order: u128, code: &str, customer: u128) -> CouponEvent {
    let scope = definition(all_customers(None, None)).scope;
    CouponEvent::CouponUsed {
        shop_id: shop_id(),
        coupon_id: coupon_id(),
        order_id: id(order),
        code: code.into(),
        customer_key: id(customer),
        discount: apply_coupon(&usual_basket(), &scope),
        used_at: test_now(),
    }
}

fn released(order: u128, code: &str) -> CouponEvent {
    CouponEvent::CouponUseReleased {
        shop_id: shop_id(),
        coupon_id: coupon_id(),
        order_id: id(order),
        code: code.into(),
        released_at: test_now(),
    }
}

/// A coupon for all customers with the code TIRAGES10 and the given limits.
fn tirages10(total: Option<u32>, per_customer: Option<u32>) -> Vec<CouponEvent> {
    vec![
        created(definition(all_customers(total, per_customer))),
        generated(&["TIRAGES10"], true),
    ]
}

#[test]
fn creates_a_coupon_and_a_retry_changes_nothing() {
    // Proves creation records the definition, the same creation retried is a no-op and another
    // definition under the same id is refused.
    let def = definition(all_customers(Some(50), Some(1)));
    given::<Coupon>([])
        .when(create(def.clone()))
        .then([created(def.clone())]);
    given::<Coupon>([created(def.clone())])
        .when(create(def.clone()))
        .then([]);
    let other = CouponDefinition {
        name: "Autre".into(),
        ..def.clone()
    };
    given::<Coupon>([created(def)])
        .when(create(other))
        .then_err_code("already-exists");
}

#[test]
fn refuses_malformed_definitions() {
    // Proves names, dates, reductions, targets and limits are validated.
    let base = definition(all_customers(None, None));
    let percent = |p: &str| CouponScope::Order {
        reduction: Reduction::Percent(d(p)),
    };
    let bad = [
        CouponDefinition {
            name: " ".into(),
            ..base.clone()
        },
        CouponDefinition {
            ends_at: base.starts_at,
            ..base.clone()
        },
        CouponDefinition {
            ends_at: base.starts_at + Duration::days(5_000),
            ..base.clone()
        },
        CouponDefinition {
            scope: percent("0"),
            ..base.clone()
        },
        CouponDefinition {
            scope: percent("100.5"),
            ..base.clone()
        },
        CouponDefinition {
            scope: percent("9.999"),
            ..base.clone()
        },
        CouponDefinition {
            scope: CouponScope::Shipping {
                reduction: ShippingReduction::Amount(d("0")),
            },
            ..base.clone()
        },
        CouponDefinition {
            scope: CouponScope::Product {
                reduction: Reduction::Amount(d("2")),
                product_ids: BTreeSet::new(),
            },
            ..base.clone()
        },
        CouponDefinition {
            min_order_amount: d("-1"),
            ..base.clone()
        },
        CouponDefinition {
            audience: all_customers(Some(0), None),
            ..base.clone()
        },
        CouponDefinition {
            audience: all_customers(Some(5), Some(6)),
            ..base.clone()
        },
    ];
    for definition in bad {
        given::<Coupon>([])
            .when(create(definition.clone()))
            .then_err_code("validation");
    }
    let huge = CouponDefinition {
        audience: all_customers(Some(u32::MAX), None),
        ..base
    };
    given::<Coupon>([])
        .when(create(huge))
        .then_err_code("limit-exceeded");
}

#[test]
fn editable_until_codes_are_generated() {
    // Proves a coupon can be edited before its codes exist and is locked (409-style code) after.
    let before = definition(all_customers(None, None));
    let after = CouponDefinition {
        name: "Rentrée tirages 2025".into(),
        ..before.clone()
    };
    let edited = CouponEvent::CouponEdited {
        shop_id: shop_id(),
        coupon_id: coupon_id(),
        definition: after.clone(),
        edited_at: test_now(),
    };
    let state = given::<Coupon>([created(before.clone())])
        .when(CouponCommand::Edit {
            definition: Box::new(after.clone()),
        })
        .then([edited]);
    assert_eq!(state.definition.as_ref(), Some(&after));
    given::<Coupon>([created(before.clone()), generated(&["TIRAGES10"], true)])
        .when(CouponCommand::Edit {
            definition: Box::new(after.clone()),
        })
        .then_err_code("coupon-locked");
    given::<Coupon>([])
        .when(CouponCommand::Edit {
            definition: Box::new(after),
        })
        .then_err_code("not-found");
}

#[test]
fn a_typed_code_is_normalised_and_must_be_free_in_the_shop() {
    // Proves the manager's code is upper-cased and checked, and a code of another coupon is refused.
    let history = [created(definition(all_customers(None, None)))];
    given::<Coupon>(history.clone())
        .when(generate(CodeRequest::Typed(" tirages10 ".into())))
        .then([generated(&["TIRAGES10"], true)]);
    for bad in ["AB", "TIRAGES-10", "TIRAGÉS10", &"A".repeat(33)] {
        given::<Coupon>(history.clone())
            .when(generate(CodeRequest::Typed(bad.into())))
            .then_err_code("validation");
    }
    let registry = replay::<CouponCodeRegistry>(&[CouponCodeRegistryEvent::CouponCodesReserved {
        shop_id: shop_id(),
        coupon_id: id(0xFFFF),
        codes: vec!["TIRAGES10".into()],
        reserved_at: test_now(),
    }]);
    given::<Coupon>(history)
        .when(CouponCommand::GenerateCodes {
            request: CodeRequest::Typed("TIRAGES10".into()),
            registry: Arc::new(registry),
        })
        .then_err_code("coupon-code-taken");
}

#[test]
fn a_generated_code_is_eight_unambiguous_symbols_drawn_from_the_environment() {
    // Proves the generated code's shape and that it is reproducible from the environment's ids.
    let history = [created(definition(all_customers(None, None)))];
    let events = given::<Coupon>(history.clone())
        .when(generate(CodeRequest::Generated))
        .events();
    let CouponEvent::CouponCodesGenerated { codes, typed, .. } = &events[0] else {
        panic!("unexpected {events:?}");
    };
    assert!(!typed);
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].len(), GENERATED_CODE_CHARS);
    assert!(codes[0]
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    assert!(!codes[0].contains(['0', '1', 'I', 'O']));
    // The first two test ids (1 and 2) give this code, every time.
    assert_eq!(codes[0], "CAAAAAEA");
    let again = given::<Coupon>(history)
        .when(generate(CodeRequest::Generated))
        .events();
    assert_eq!(again, events);
}

#[test]
fn single_use_codes_are_distinct_and_generated_once() {
    // Proves N distinct single-use codes are generated, a retry is a no-op, and anything else after
    // generation is refused.
    let history = [created(definition(Audience::SingleUseCodes))];
    let events = given::<Coupon>(history.clone())
        .when(generate(CodeRequest::SingleUse { count: 20 }))
        .events();
    let CouponEvent::CouponCodesGenerated { codes, .. } = &events[0] else {
        panic!("unexpected {events:?}");
    };
    let distinct: BTreeSet<&String> = codes.iter().collect();
    assert_eq!(distinct.len(), 20);
    assert!(codes.iter().all(|c| c.len() == SINGLE_USE_CODE_CHARS));
    let locked: Vec<CouponEvent> = history.iter().cloned().chain(events).collect();
    given::<Coupon>(locked.clone())
        .when(generate(CodeRequest::SingleUse { count: 20 }))
        .then([]);
    given::<Coupon>(locked.clone())
        .when(generate(CodeRequest::SingleUse { count: 5 }))
        .then_err_code("coupon-locked");
    // One generated code for all customers is not a batch of one single-use code, and vice versa.
    let one_for_all = [
        created(definition(all_customers(None, None))),
        generated(&["CAAAAAEA"], false),
    ];
    given::<Coupon>(one_for_all.clone())
        .when(generate(CodeRequest::Generated))
        .then([]);
    given::<Coupon>(one_for_all)
        .when(generate(CodeRequest::SingleUse { count: 1 }))
        .then_err_code("coupon-locked");
    let too_many = u32::try_from(SINGLE_USE_CODES_PER_BATCH_MAX + 1).expect("fits");
    for request in [
        CodeRequest::SingleUse { count: 0 },
        CodeRequest::SingleUse { count: too_many },
        CodeRequest::Typed("TIRAGES10".into()),
        CodeRequest::Generated,
    ] {
        given::<Coupon>(history.clone())
            .when(generate(request))
            .then_err_code("validation");
    }
    given::<Coupon>([created(definition(all_customers(None, None)))])
        .when(generate(CodeRequest::SingleUse { count: 3 }))
        .then_err_code("validation");
}

#[test]
fn generated_codes_avoid_codes_taken_in_the_shop() {
    // Proves generation skips a code the registry already holds instead of failing.
    let history = [created(definition(all_customers(None, None)))];
    let registry = replay::<CouponCodeRegistry>(&[CouponCodeRegistryEvent::CouponCodesReserved {
        shop_id: shop_id(),
        coupon_id: id(0xFFFF),
        codes: vec!["CAAAAAEA".into()],
        reserved_at: test_now(),
    }]);
    let events = given::<Coupon>(history)
        .when(CouponCommand::GenerateCodes {
            request: CodeRequest::Generated,
            registry: Arc::new(registry),
        })
        .events();
    let CouponEvent::CouponCodesGenerated { codes, .. } = &events[0] else {
        panic!("unexpected {events:?}");
    };
    assert_ne!(codes[0], "CAAAAAEA");
}

#[test]
fn using_a_code_records_the_exact_discount() {
    // Proves a valid use records the order, the code, the customer key and the computed discount,
    // with the code matched case-insensitively.
    let discount = apply_coupon(
        &usual_basket(),
        &definition(all_customers(None, None)).scope,
    );
    // 10 % of the prints' 17.40, the guide's line untouched.
    assert_eq!(discount.amount, d("1.74"));
    assert_eq!(
        discount.lines,
        vec![LineDiscount {
            line_number: 1,
            amount: d("1.74")
        }]
    );
    let state = given::<Coupon>(tirages10(None, None))
        .when(use_code(0x0D1, "tirages10", 0xCA))
        .then([used(0x0D1, "TIRAGES10", 0xCA)]);
    assert_eq!(state.active_uses, 1);
    assert_eq!(state.codes["TIRAGES10"].active, 1);
}

#[test]
fn the_validity_window_is_checked_with_the_injected_clock() {
    // Proves a code is refused before its start and from its end instant on.
    let def = definition(all_customers(None, None));
    given::<Coupon>(tirages10(None, None))
        .at(def.starts_at - Duration::seconds(1))
        .when(use_code(0x0D1, "TIRAGES10", 0xCA))
        .then_err_code("coupon-not-yet-valid");
    given::<Coupon>(tirages10(None, None))
        .at(def.ends_at)
        .when(use_code(0x0D1, "TIRAGES10", 0xCA))
        .then_err_code("coupon-expired");
    let events = given::<Coupon>(tirages10(None, None))
        .at(def.ends_at - Duration::seconds(1))
        .when(use_code(0x0D1, "TIRAGES10", 0xCA))
        .events();
    assert_eq!(events.len(), 1);
}

#[test]
fn the_minimum_amount_counts_eligible_products_only() {
    // Proves a product-type coupon's minimum compares with the eligible lines, not the basket:
    // 10 prints (3.50) and a guide (18.50) do not reach 5.00 of prints.
    let small = basket(&[("TIR-10x15", 10), ("GUIDE-LYON", 1)], COLISSIMO);
    let command = CouponCommand::Use(Box::new(UseCoupon {
        shop_id: shop_id(),
        order_id: id(0x0D1),
        code: "TIRAGES10".into(),
        customer_key: id(0xCA),
        basket: small,
    }));
    given::<Coupon>(tirages10(None, None))
        .when(command)
        .then_err_code("coupon-minimum-not-reached");
}

#[test]
fn a_coupon_that_takes_nothing_off_is_refused() {
    // Proves a product coupon on a basket without that product does not spend a use.
    let def = CouponDefinition {
        scope: CouponScope::Product {
            reduction: Reduction::Amount(d("2.00")),
            product_ids: [id(MUG)].into(),
        },
        min_order_amount: d("0"),
        ..definition(all_customers(None, None))
    };
    given::<Coupon>([created(def), generated(&["MUG2"], true)])
        .when(use_code(0x0D1, "MUG2", 0xCA))
        .then_err_code("coupon-not-applicable");
}

#[test]
fn an_unknown_code_or_another_shop_is_refused() {
    // Proves only the coupon's own codes, in its own shop, are accepted.
    given::<Coupon>(tirages10(None, None))
        .when(use_code(0x0D1, "TIRAGES20", 0xCA))
        .then_err_code("coupon-code-unknown");
    given::<Coupon>([created(definition(all_customers(None, None)))])
        .when(use_code(0x0D1, "TIRAGES10", 0xCA))
        .then_err_code("coupon-code-unknown");
    let mut other_shop = UseCoupon {
        shop_id: id(0x5200),
        order_id: id(0x0D1),
        code: "TIRAGES10".into(),
        customer_key: id(0xCA),
        basket: usual_basket(),
    };
    given::<Coupon>(tirages10(None, None))
        .when(CouponCommand::Use(Box::new(other_shop.clone())))
        .then_err_code("shop-mismatch");
    other_shop.shop_id = shop_id();
    given::<Coupon>([])
        .when(CouponCommand::Use(Box::new(other_shop)))
        .then_err_code("not-found");
}

#[test]
fn max_total_uses_count_only_uses_that_were_not_released() {
    // Proves the total limit, and that a cancelled order's use is given back.
    let mut history = tirages10(Some(2), None);
    history.push(used(0x0D1, "TIRAGES10", 0xCA));
    history.push(used(0x0D2, "TIRAGES10", 0xCB));
    given::<Coupon>(history.clone())
        .when(use_code(0x0D3, "TIRAGES10", 0xCC))
        .then_err_code("coupon-exhausted");
    history.push(released(0x0D1, "TIRAGES10"));
    let state = given::<Coupon>(history)
        .when(use_code(0x0D3, "TIRAGES10", 0xCC))
        .then([used(0x0D3, "TIRAGES10", 0xCC)]);
    assert_eq!(state.active_uses, 2);
    assert_eq!(
        state.codes["TIRAGES10"],
        CodeUsage {
            active: 2,
            released: 1
        }
    );
}

#[test]
fn per_customer_limits_count_the_account_and_not_cancelled_orders() {
    // Proves the per-customer limit, keyed on the account whatever the email's case, and that a
    // cancelled order no longer counts against it.
    let shop = shop_id();
    let customer = |email: &str, customer_id: Option<Uuid>| OrderCustomer {
        customer_id,
        email: email.into(),
        name: "Claire".into(),
        billing_address: None,
    };
    let registered = customer_key(
        shop,
        &customer(
            "claire@example.fr",
            Some(crate::customer::customer_id_for(shop, "claire@example.fr")),
        ),
        None,
    )
    .expect("key");
    let guest = customer_key(shop, &customer(" Claire@Example.FR ", None), None).expect("key");
    assert_eq!(
        registered, guest,
        "a guest with the same email is the same customer"
    );
    let key = registered.as_u128();
    let mut history = tirages10(None, Some(1));
    history.push(used(0x0D1, "TIRAGES10", key));
    given::<Coupon>(history.clone())
        .when(use_code(0x0D2, "TIRAGES10", key))
        .then_err_code("coupon-customer-limit-reached");
    given::<Coupon>(history.clone())
        .when(use_code(0x0D2, "TIRAGES10", 0xCB))
        .then([used(0x0D2, "TIRAGES10", 0xCB)]);
    history.push(released(0x0D1, "TIRAGES10"));
    given::<Coupon>(history)
        .when(use_code(0x0D2, "TIRAGES10", key))
        .then([used(0x0D2, "TIRAGES10", key)]);
}

#[test]
fn customer_key_refuses_an_account_that_is_not_the_emails() {
    // Proves a customer id cannot be paired with another email to dodge a limit.
    let customer = OrderCustomer {
        customer_id: Some(id(0xBAD)),
        email: "claire@example.fr".into(),
        name: "Claire".into(),
        billing_address: None,
    };
    assert_eq!(
        customer_key(shop_id(), &customer, None).map_err(|e| e.code()),
        Err("validation")
    );
}

#[test]
fn a_single_use_code_works_once_until_its_order_is_cancelled() {
    // Proves each single-use code is used once, others stay usable, and a release frees it.
    let history = vec![
        created(definition(Audience::SingleUseCodes)),
        generated(&["CODEAAAAAA", "CODEBBBBBB"], false),
        used(0x0D1, "CODEAAAAAA", 0xCA),
    ];
    given::<Coupon>(history.clone())
        .when(use_code(0x0D2, "CODEAAAAAA", 0xCB))
        .then_err_code("coupon-code-used");
    given::<Coupon>(history.clone())
        .when(use_code(0x0D2, "codebbbbbb", 0xCA))
        .then([used(0x0D2, "CODEBBBBBB", 0xCA)]);
    let mut history = history;
    history.push(released(0x0D1, "CODEAAAAAA"));
    given::<Coupon>(history)
        .when(use_code(0x0D2, "CODEAAAAAA", 0xCB))
        .then([used(0x0D2, "CODEAAAAAA", 0xCB)]);
}

#[test]
fn a_retried_use_is_recorded_once() {
    // Proves the same order using the same code again records nothing, while the same order with
    // another customer or after its release is refused.
    let mut history = tirages10(Some(1), None);
    history.push(used(0x0D1, "TIRAGES10", 0xCA));
    given::<Coupon>(history.clone())
        .when(use_code(0x0D1, "TIRAGES10", 0xCA))
        .then([]);
    given::<Coupon>(history.clone())
        .when(use_code(0x0D1, "TIRAGES10", 0xCB))
        .then_err_code("already-exists");
    history.push(released(0x0D1, "TIRAGES10"));
    given::<Coupon>(history)
        .when(use_code(0x0D1, "TIRAGES10", 0xCA))
        .then_err_code("already-exists");
}

#[test]
fn releasing_is_idempotent_and_needs_a_use() {
    // Proves a release is recorded once and an order that never used the coupon cannot release.
    let mut history = tirages10(None, None);
    history.push(used(0x0D1, "TIRAGES10", 0xCA));
    given::<Coupon>(history.clone())
        .when(CouponCommand::ReleaseUse {
            order_id: id(0x0D1),
        })
        .then([released(0x0D1, "TIRAGES10")]);
    given::<Coupon>(history.clone())
        .when(CouponCommand::ReleaseUse {
            order_id: id(0x0D9),
        })
        .then_err_code("not-found");
    history.push(released(0x0D1, "TIRAGES10"));
    let state = given::<Coupon>(history)
        .when(CouponCommand::ReleaseUse {
            order_id: id(0x0D1),
        })
        .then([]);
    assert_eq!(state.active_uses, 0);
    assert_eq!(state.active_uses_by_customer[&id(0xCA)], 0);
}

#[test]
fn the_preview_gives_what_the_use_records() {
    // Proves a cart shows the same discount the order will get, and the same refusals.
    let state = replay::<Coupon>(&tirages10(Some(1), None));
    let preview = state
        .preview("Tirages10", id(0xCA), &usual_basket(), test_now())
        .expect("valid");
    let CouponEvent::CouponUsed { discount, .. } = used(0x0D1, "TIRAGES10", 0xCA) else {
        unreachable!()
    };
    assert_eq!(preview, discount);
    let used_up = replay::<Coupon>(
        &[
            tirages10(Some(1), None),
            vec![used(0x0D1, "TIRAGES10", 0xCA)],
        ]
        .concat(),
    );
    assert_eq!(
        used_up
            .preview("TIRAGES10", id(0xCB), &usual_basket(), test_now())
            .map_err(|e| e.code()),
        Err("coupon-exhausted")
    );
}

#[test]
fn concurrent_orders_never_exceed_the_limit() {
    // Proves that with optimistic concurrency on the coupon's stream, 200 orders racing for a coupon
    // with 50 uses left end with exactly 50 uses: each decides against a version, appends only if
    // that version is still current, and otherwise reloads and decides again.
    let mut stream = tirages10(Some(50), None);
    let env = TestEnvironment::new();
    let attempts: u128 = 200;
    // Every order first reads the stream at the same version, as if all arrived at once.
    let mut pending: Vec<(u128, usize)> = (0..attempts).map(|n| (n, stream.len())).collect();
    let (mut succeeded, mut refused) = (0, 0);
    while let Some((n, read_version)) = pending.pop() {
        let state = replay::<Coupon>(&stream[..read_version]);
        match state.decide(&use_code(0x1000 + n, "TIRAGES10", 0x2000 + n), &env) {
            Ok(events) if read_version == stream.len() => {
                stream.extend(events);
                succeeded += 1;
            }
            // Another append won: reload at the current version and decide again.
            Ok(_) => pending.insert(0, (n, stream.len())),
            Err(error) => {
                assert_eq!(error.code(), "coupon-exhausted");
                refused += 1;
            }
        }
    }
    assert_eq!((succeeded, refused), (50, 150));
    assert_eq!(replay::<Coupon>(&stream).active_uses, 50);
}

#[test]
fn the_registry_keeps_codes_unique_within_the_shop() {
    // Proves reservation, retry, a code taken by another coupon, duplicates and lookup.
    let reserve = |coupon: u128, codes: &[&str]| CouponCodeRegistryCommand::Reserve {
        shop_id: shop_id(),
        coupon_id: id(coupon),
        codes: codes.iter().map(|c| (*c).to_owned()).collect(),
    };
    let reserved = CouponCodeRegistryEvent::CouponCodesReserved {
        shop_id: shop_id(),
        coupon_id: coupon_id(),
        codes: vec!["TIRAGES10".into()],
        reserved_at: test_now(),
    };
    let registry = given::<CouponCodeRegistry>([])
        .when(reserve(COUPON, &["tirages10"]))
        .then([reserved.clone()]);
    assert_eq!(registry.coupon_for("Tirages10"), Some(coupon_id()));
    assert_eq!(registry.coupon_for("NOPE1"), None);
    given::<CouponCodeRegistry>([reserved.clone()])
        .when(reserve(COUPON, &["TIRAGES10"]))
        .then([]);
    given::<CouponCodeRegistry>([reserved.clone()])
        .when(reserve(0xFFFF, &["TIRAGES10"]))
        .then_err_code("coupon-code-taken");
    given::<CouponCodeRegistry>([])
        .when(reserve(COUPON, &["ABCD", "abcd"]))
        .then_err_code("validation");
    given::<CouponCodeRegistry>([reserved])
        .when(CouponCodeRegistryCommand::Reserve {
            shop_id: id(0x5200),
            coupon_id: coupon_id(),
            codes: vec!["OTHER1".into()],
        })
        .then_err_code("shop-mismatch");
}
