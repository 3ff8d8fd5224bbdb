use super::*;
use crate::fixtures::{id, shop_id};
use crate::testing::{given, replay, test_now, TestEnvironment};

fn hash(symbol: char) -> String {
    symbol.to_string().repeat(64)
}

/// The fixture's pack: "Pro", 12 months, 50 GB, 5,000 orders.
fn pro() -> PackTerms {
    PackTerms {
        level: "Pro".into(),
        validity: PackValidity::Months(12),
        transfer_allowance_bytes: 50 * BYTES_PER_GIGABYTE,
        order_allowance: 5_000,
    }
}

/// A small pack to exhaust in tests: 30 days, 1,000 bytes, 3 orders.
fn tiny() -> PackTerms {
    PackTerms {
        level: "Découverte".into(),
        validity: PackValidity::Days(30),
        transfer_allowance_bytes: 1_000,
        order_allowance: 3,
    }
}

fn at(days: i64) -> DateTime<Utc> {
    test_now() + Duration::days(days)
}

fn activated(terms: &PackTerms, code: char) -> PackEvent {
    PackEvent::PackActivated {
        shop_id: shop_id(),
        code_hash: hash(code),
        level: terms.level.clone(),
        ends_at: terms.ends_at(test_now()).expect("in range"),
        transfer_allowance_bytes: terms.transfer_allowance_bytes,
        order_allowance: terms.order_allowance,
        activated_at: test_now(),
    }
}

fn activate(terms: PackTerms, code: char) -> PackCommand {
    PackCommand::Activate {
        shop_id: shop_id(),
        code_hash: hash(code),
        terms,
    }
}

fn consumed(bytes: u64) -> PackEvent {
    PackEvent::QuotaConsumed {
        shop_id: shop_id(),
        bytes,
        reference: "order 1/photo.jpg".into(),
        consumed_at: test_now(),
    }
}

fn transfer(bytes: u64) -> PackCommand {
    PackCommand::ConsumeTransfer {
        bytes,
        reference: "order 1/photo.jpg".into(),
    }
}

fn order_consumed(n: u128) -> PackEvent {
    PackEvent::OrderQuotaConsumed {
        shop_id: shop_id(),
        order_id: id(n),
        consumed_at: test_now(),
    }
}

fn mint(code: char, terms: PackTerms) -> ActivationCodeCommand {
    ActivationCodeCommand::Mint {
        code_hash: hash(code),
        terms,
        minted_by: "operator".into(),
    }
}

fn minted(code: char, terms: PackTerms) -> ActivationCodeEvent {
    ActivationCodeEvent::ActivationCodeMinted {
        code_hash: hash(code),
        terms,
        minted_by: "operator".into(),
        minted_at: test_now(),
    }
}

#[test]
fn the_operator_mints_codes_by_hash() {
    // Proves minting records the hash and terms, a retry is a no-op, and a clash or a malformed
    // hash or terms are refused.
    given::<ActivationCode>([])
        .when(mint('a', pro()))
        .then([minted('a', pro())]);
    given::<ActivationCode>([minted('a', pro())])
        .when(mint('a', pro()))
        .then([]);
    given::<ActivationCode>([minted('a', pro())])
        .when(mint('a', tiny()))
        .then_err_code("already-exists");
    given::<ActivationCode>([])
        .when(mint('A', pro()))
        .then_err_code("validation");
    let bad_terms = [
        PackTerms {
            level: String::new(),
            ..pro()
        },
        PackTerms {
            validity: PackValidity::Months(0),
            ..pro()
        },
        PackTerms {
            validity: PackValidity::Days(100_000),
            ..pro()
        },
        PackTerms {
            transfer_allowance_bytes: 0,
            ..pro()
        },
        PackTerms {
            order_allowance: 0,
            ..pro()
        },
    ];
    for terms in bad_terms {
        given::<ActivationCode>([])
            .when(mint('a', terms))
            .then_err_code("validation");
    }
}

#[test]
fn a_code_is_redeemed_once() {
    // Proves an unknown code and a code used by another shop have their own error codes, and the
    // same shop's retry records nothing.
    let redeemed = ActivationCodeEvent::ActivationCodeRedeemed {
        code_hash: hash('a'),
        shop_id: shop_id(),
        redeemed_at: test_now(),
    };
    given::<ActivationCode>([])
        .when(ActivationCodeCommand::Redeem { shop_id: shop_id() })
        .then_err_code("activation-code-unknown");
    given::<ActivationCode>([minted('a', pro())])
        .when(ActivationCodeCommand::Redeem { shop_id: shop_id() })
        .then([redeemed.clone()]);
    given::<ActivationCode>([minted('a', pro()), redeemed.clone()])
        .when(ActivationCodeCommand::Redeem {
            shop_id: id(0x5200),
        })
        .then_err_code("activation-code-used");
    given::<ActivationCode>([minted('a', pro()), redeemed])
        .when(ActivationCodeCommand::Redeem { shop_id: shop_id() })
        .then([]);
}

#[test]
fn activation_starts_the_pack_now() {
    // Proves the first code activates the pack for its validity from now, and a retry is a no-op.
    let pack = given::<Pack>([])
        .when(activate(pro(), 'a'))
        .then([activated(&pro(), 'a')]);
    assert_eq!(pack.ends_at, Some(at(365)));
    assert_eq!(pack_status(&pack, test_now()), PackStatus::Active);
    given::<Pack>([activated(&pro(), 'a')])
        .when(activate(pro(), 'a'))
        .then([]);
    given::<Pack>([activated(&pro(), 'a')])
        .when(PackCommand::Activate {
            shop_id: id(0x5200),
            code_hash: hash('b'),
            terms: pro(),
        })
        .then_err_code("shop-mismatch");
}

#[test]
fn renewing_a_running_pack_extends_it_and_carries_the_rest_over() {
    // Proves a renewal before the end starts at the current end and adds the unused allowances.
    let history = [activated(&tiny(), 'a'), consumed(400), order_consumed(1)];
    let renewed = PackEvent::PackRenewed {
        shop_id: shop_id(),
        code_hash: hash('b'),
        level: "Découverte".into(),
        ends_at: at(60),
        transfer_allowance_bytes: 1_000 + 600,
        order_allowance: 3 + 2,
        bytes_carried_over: 600,
        orders_carried_over: 2,
        renewed_at: at(10),
    };
    let pack = given::<Pack>(history)
        .at(at(10))
        .when(activate(tiny(), 'b'))
        .then([renewed]);
    assert_eq!((pack.bytes_left(), pack.orders_left()), (1_600, 5));
}

#[test]
fn renewing_an_expired_pack_restarts_it_now_and_reactivates_the_shop() {
    // Proves a renewal after the end starts from now with the new allowances only, and the shop is
    // active again at once.
    let history = [activated(&tiny(), 'a'), consumed(400)];
    let expired = replay::<Pack>(&history);
    assert_eq!(
        pack_status(&expired, at(45)),
        PackStatus::Deactivated {
            reason: DeactivationReason::PackExpired
        }
    );
    let renewed = PackEvent::PackRenewed {
        shop_id: shop_id(),
        code_hash: hash('b'),
        level: "Pro".into(),
        ends_at: at(45)
            .checked_add_months(Months::new(12))
            .expect("in range"),
        transfer_allowance_bytes: pro().transfer_allowance_bytes,
        order_allowance: pro().order_allowance,
        bytes_carried_over: 0,
        orders_carried_over: 0,
        renewed_at: at(45),
    };
    let pack = given::<Pack>(history)
        .at(at(45))
        .when(activate(pro(), 'b'))
        .then([renewed]);
    assert_eq!(pack_status(&pack, at(45)), PackStatus::Active);
}

#[test]
fn transfers_consume_bytes_without_ever_overdrawing() {
    // Proves a transfer is recorded, one larger than what is left is refused whole, and the last
    // byte makes the pack exhausted.
    let pack = given::<Pack>([activated(&tiny(), 'a')])
        .when(transfer(600))
        .then([consumed(600)]);
    assert_eq!(pack.bytes_left(), 400);
    given::<Pack>([activated(&tiny(), 'a'), consumed(600)])
        .when(transfer(401))
        .then_err_code("quota-exhausted");
    let pack = given::<Pack>([activated(&tiny(), 'a'), consumed(600)])
        .when(transfer(400))
        .then([consumed(400)]);
    assert_eq!(
        pack_status(&pack, test_now()),
        PackStatus::Deactivated {
            reason: DeactivationReason::QuotaExhausted
        }
    );
    given::<Pack>([activated(&tiny(), 'a')])
        .when(transfer(0))
        .then([]);
}

#[test]
fn a_deactivated_shop_consumes_nothing() {
    // Proves transfers and orders are refused with the reason's code when there is no pack, when it
    // has expired and when it is used up.
    given::<Pack>([])
        .when(transfer(1))
        .then_err_code("pack-not-activated");
    given::<Pack>([])
        .when(PackCommand::ConsumeOrder { order_id: id(1) })
        .then_err_code("pack-not-activated");
    given::<Pack>([activated(&tiny(), 'a')])
        .at(at(30))
        .when(PackCommand::ConsumeOrder { order_id: id(1) })
        .then_err_code("pack-expired");
    given::<Pack>([activated(&tiny(), 'a'), consumed(1_000)])
        .when(PackCommand::ConsumeOrder { order_id: id(1) })
        .then_err_code("quota-exhausted");
    given::<Pack>([activated(&tiny(), 'a'), consumed(1_000)])
        .at(at(31))
        .when(transfer(1))
        .then_err_code("pack-expired");
}

#[test]
fn each_order_consumes_one_until_the_count_is_used_up() {
    // Proves orders are counted and the one after the last allowed is refused.
    let history = [
        activated(&tiny(), 'a'),
        order_consumed(1),
        order_consumed(2),
    ];
    let pack = given::<Pack>(history.clone())
        .when(PackCommand::ConsumeOrder { order_id: id(3) })
        .then([order_consumed(3)]);
    assert_eq!(pack.orders_left(), 0);
    let full: Vec<PackEvent> = history.into_iter().chain([order_consumed(3)]).collect();
    given::<Pack>(full)
        .when(PackCommand::ConsumeOrder { order_id: id(4) })
        .then_err_code("quota-exhausted");
}

#[test]
fn concurrent_orders_never_overdraw_the_order_count() {
    // Proves that with the pack stream's expected version, 30 orders racing for 3 left end with
    // exactly 3 counted; the rest are refused as quota-exhausted after reloading.
    let mut stream = vec![activated(&tiny(), 'a')];
    let env = TestEnvironment::new();
    let mut pending: Vec<(u128, usize)> = (0..30).map(|n| (n, stream.len())).collect();
    let (mut counted, mut refused) = (0, 0);
    while let Some((n, read_version)) = pending.pop() {
        let state = replay::<Pack>(&stream[..read_version]);
        match state.decide(&PackCommand::ConsumeOrder { order_id: id(n) }, &env) {
            Ok(events) if read_version == stream.len() => {
                stream.extend(events);
                counted += 1;
            }
            Ok(_) => pending.insert(0, (n, stream.len())),
            Err(error) => {
                assert_eq!(error.code(), "quota-exhausted");
                refused += 1;
            }
        }
    }
    assert_eq!((counted, refused), (3, 27));
}

#[test]
fn unsubscribing_keeps_the_pack_usable_until_it_ends() {
    // Proves an unsubscribed pack still takes orders until its end, a second unsubscription is a
    // no-op, and a renewal subscribes again.
    let unsubscribed = PackEvent::PackUnsubscribed {
        shop_id: shop_id(),
        unsubscribed_by: "anne".into(),
        usable_until: at(30),
        unsubscribed_at: test_now(),
    };
    let command = PackCommand::Unsubscribe {
        unsubscribed_by: "anne".into(),
    };
    let pack = given::<Pack>([activated(&tiny(), 'a')])
        .when(command.clone())
        .then([unsubscribed.clone()]);
    assert!(pack.unsubscribed);
    assert_eq!(pack_status(&pack, at(29)), PackStatus::Active);
    let history = [activated(&tiny(), 'a'), unsubscribed];
    given::<Pack>(history.clone())
        .at(at(29))
        .when(PackCommand::ConsumeOrder { order_id: id(1) })
        .then([PackEvent::OrderQuotaConsumed {
            shop_id: shop_id(),
            order_id: id(1),
            consumed_at: at(29),
        }]);
    given::<Pack>(history.clone())
        .when(command.clone())
        .then([]);
    let renewed = given::<Pack>(history).when(activate(tiny(), 'b')).events();
    let pack = replay::<Pack>(&[vec![activated(&tiny(), 'a')], renewed].concat());
    assert!(!pack.unsubscribed);
    given::<Pack>([])
        .when(command)
        .then_err_code("pack-not-activated");
}

#[test]
fn deactivation_reasons_have_stable_codes() {
    // Proves the problem codes the api returns for a deactivated shop.
    assert_eq!(DeactivationReason::PackExpired.code(), "pack-expired");
    assert_eq!(DeactivationReason::QuotaExhausted.code(), "quota-exhausted");
    assert_eq!(
        DeactivationReason::NotActivated.code(),
        "pack-not-activated"
    );
    // Expiry is reported first when both hold.
    let both = replay::<Pack>(&[activated(&tiny(), 'a'), consumed(1_000)]);
    assert_eq!(
        pack_status(&both, at(30)),
        PackStatus::Deactivated {
            reason: DeactivationReason::PackExpired
        }
    );
}
