//! The customer space's derived tables: loyalty points, message threads and store credit.

use super::*;
use crate::loyalty::LoyaltyReason;
use crate::messages::ArchiveFilter;
use comptoir_domain::customer::{customer_id_for, CustomerEvent};
use comptoir_domain::customer_messages::{MessageEvent, Side};
use comptoir_domain::store_credit::{self, CreditAllocation, StoreCredit, StoreCreditEvent};
use comptoir_domain::Aggregate;

fn credit_note_issued(shop_id: Uuid, order_id: Uuid) -> DocumentEvent {
    let mut event: DocumentEvent = serde_json::from_str(include_str!(
        "../../../domain/tests/golden/document-series.CreditNoteIssued.json"
    ))
    .expect("fixture");
    if let DocumentEvent::CreditNoteIssued {
        shop_id: shop,
        credit_note,
        ..
    } = &mut event
    {
        *shop = shop_id;
        credit_note.order_id = order_id;
    }
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn loyalty_points_come_from_invoices_and_credit_notes_at_the_rate_in_force() {
    // Proves an invoice earns its total rounded down at the rate then in force, a credit note
    // takes back the difference to what remains, and a later rate leaves earlier points alone.
    let harness = Harness::new();
    let (shop, first, second) = (id(0x5100), id(2), id(3));
    let customer = customer_id_for(shop, "claire.martin@example.fr");
    harness.append("shop", &[shop_created(shop)]).await;
    // What an order earned is kept with the order, which is always placed before its invoice.
    for (order, minutes) in [(first, 1), (second, 2)] {
        harness
            .append(
                &format!("order-{order}"),
                &[order_placed(shop, order, at(minutes))],
            )
            .await;
    }
    harness
        .append("series", &[invoice_issued(shop, first, 1, at(3))])
        .await;
    harness
        .append("series", &[credit_note_issued(shop, first)])
        .await;
    let rule = ShopEvent::LoyaltyRuleChanged {
        shop_id: shop,
        points_per_unit: d("0.5"),
        changed_at: at(5),
    };
    harness.append("shop", &[rule]).await;
    harness
        .append("series", &[invoice_issued(shop, second, 2, at(6))])
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;

    let card = p.loyalty_card(shop, customer).unwrap();
    // 53.20 → 53; credited 14.90 leaves 38.30 → 38; then 53.20 at 0.5 → 26.
    assert_eq!((card.balance, card.earned, card.removed), (64, 79, 15));
    let history = p
        .loyalty_entries(shop, customer, &PageRequest::first(10))
        .unwrap()
        .items;
    let moves: Vec<(LoyaltyReason, i64, i64)> = history
        .iter()
        .map(|e| (e.reason, e.points, e.balance_after))
        .collect();
    assert_eq!(
        moves,
        [
            (LoyaltyReason::OrderPaid, 53, 53),
            (LoyaltyReason::Credited, -15, 38),
            (LoyaltyReason::OrderPaid, 26, 64),
        ]
    );
    assert_eq!(history[1].order_id, first);
    let nobody = p.loyalty_card(shop, id(99)).unwrap();
    assert_eq!(nobody.balance, 0);
}

fn sent(shop: Uuid, customer: Uuid, message: Uuid, from: Side) -> MessageEvent {
    MessageEvent::CustomerMessageSent {
        shop_id: shop,
        customer_id: customer,
        message_id: message,
        from,
        author: "api-key:x".into(),
        order_id: None,
        body: format!("message {message}"),
        sent_at: at(1),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn threads_count_unread_messages_per_side_and_archive_per_side() {
    // Proves the thread's unread counts and notifications follow sends and reads, the inbox
    // lists threads the shop has unread messages in, and archiving hides from one side only.
    let harness = Harness::new();
    let (shop, claire, paul) = (id(0x5100), id(20), id(21));
    let events = [
        sent(shop, claire, id(1), Side::Customer),
        sent(shop, claire, id(2), Side::Shop),
        MessageEvent::CustomerMessageRead {
            shop_id: shop,
            customer_id: claire,
            message_id: id(1),
            by: Side::Shop,
            read_at: at(2),
        },
        MessageEvent::CustomerMessageArchived {
            shop_id: shop,
            customer_id: claire,
            message_id: id(2),
            by: Side::Customer,
            archived_at: at(3),
        },
    ];
    harness.append("customer-messages-claire", &events).await;
    harness
        .append(
            "customer-messages-paul",
            &[sent(shop, paul, id(3), Side::Customer)],
        )
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;

    let thread = p.message_thread(shop, claire).unwrap().expect("thread");
    assert_eq!(
        (
            thread.messages,
            thread.unread_by_shop,
            thread.unread_by_customer,
            thread.awaiting_notification
        ),
        (2, 0, 1, 1)
    );
    let page = PageRequest::first(10);
    let inbox = p.message_inbox(shop, &page).unwrap().items;
    assert_eq!(
        inbox.iter().map(|t| t.customer_id).collect::<Vec<_>>(),
        [paul]
    );
    let seen_by = |side, filter| {
        p.messages(shop, claire, side, filter, &page)
            .unwrap()
            .items
            .iter()
            .map(|m| m.message_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(seen_by(Side::Customer, ArchiveFilter::Current), [id(1)]);
    assert_eq!(seen_by(Side::Customer, ArchiveFilter::Archived), [id(2)]);
    assert_eq!(seen_by(Side::Shop, ArchiveFilter::Current), [id(1), id(2)]);
    let message = p.message(shop, id(1)).unwrap().expect("message");
    assert_eq!(message.read_at, Some(at(2)));
    assert!(
        p.message(id(0x5101), id(1)).unwrap().is_none(),
        "scoped by shop"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_email_change_moves_the_customer_row_and_points_follow_the_account() {
    // Proves the customer row moves to its new email (no row left under the old one), and an
    // invoice placed with the new email earns the account's points through the claim.
    let harness = Harness::new();
    let shop = id(0x5100);
    let old = "claire.martin@example.fr";
    let new = "claire@atelier.fr";
    let customer = customer_id_for(shop, old);
    let changed = CustomerEvent::CustomerEmailChanged {
        shop_id: shop,
        customer_id: customer,
        email: new.into(),
        email_as_typed: "Claire@Atelier.fr".into(),
        previous_email: old.into(),
        changed_at: at(1),
    };
    let claimed = CustomerEvent::CustomerEmailClaimed {
        shop_id: shop,
        email_id: customer_id_for(shop, new),
        email: new.into(),
        claimed_by: customer,
        claimed_at: at(1),
    };
    harness
        .append(
            "customer-claire",
            &[customer_registered(shop, old, "Claire", "Martin"), changed],
        )
        .await;
    harness.append("customer-atelier", &[claimed]).await;
    let mut invoice = invoice_issued(shop, id(2), 1, at(3));
    if let DocumentEvent::InvoiceIssued { invoice, .. } = &mut invoice {
        invoice.customer.email = new.into();
    }
    harness.append("series", &[invoice]).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;

    let view = p.customer(shop, customer).unwrap().expect("customer");
    assert_eq!(
        (view.email.as_str(), view.previous_emails.as_slice()),
        (new, [old.to_string()].as_slice())
    );
    let listed = p
        .customers(
            shop,
            &crate::CustomerQuery::default(),
            &PageRequest::first(10),
        )
        .unwrap()
        .items;
    assert_eq!(
        listed.iter().map(|c| c.email.as_str()).collect::<Vec<_>>(),
        [new]
    );
    assert_eq!(p.loyalty_card(shop, customer).unwrap().balance, 53);
    let alias = customer_id_for(shop, new);
    assert_eq!(p.loyalty_card(shop, alias).unwrap().balance, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn shop_messages_await_their_mail_until_notified_or_read() {
    // Proves only shop messages enter the pending notifications, a notification records its
    // time and leaves the index, and a message the customer read first leaves it unmailed.
    let harness = Harness::new();
    let (shop, claire) = (id(0x5100), id(20));
    let events = [
        sent(shop, claire, id(1), Side::Customer),
        sent(shop, claire, id(2), Side::Shop),
        sent(shop, claire, id(3), Side::Shop),
        sent(shop, claire, id(4), Side::Shop),
    ];
    harness.append("customer-messages-claire", &events).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let pending = |limit| {
        p.pending_message_notifications(limit)
            .unwrap()
            .iter()
            .map(|n| (n.shop_id, n.customer_id, n.message_id))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pending(10),
        [
            (shop, claire, id(2)),
            (shop, claire, id(3)),
            (shop, claire, id(4))
        ]
    );
    assert_eq!(pending(2).len(), 2);

    let later = [
        MessageEvent::CustomerMessageNotified {
            shop_id: shop,
            customer_id: claire,
            message_id: id(2),
            notified_at: at(2),
        },
        MessageEvent::CustomerMessageRead {
            shop_id: shop,
            customer_id: claire,
            message_id: id(3),
            by: Side::Customer,
            read_at: at(3),
        },
    ];
    harness.append("customer-messages-claire", &later).await;
    harness.caught_up().await;
    assert_eq!(pending(10), [(shop, claire, id(4))]);
    let notified = p.message(shop, id(2)).unwrap().expect("message");
    assert_eq!(notified.notified_at, Some(at(2)));
    assert!(!notified.awaits_notification);
    let read_first = p.message(shop, id(3)).unwrap().expect("message");
    assert_eq!(read_first.notified_at, None);
    assert!(!read_first.awaits_notification);
    let thread = p.message_thread(shop, claire).unwrap().expect("thread");
    assert_eq!(thread.awaiting_notification, 1);
}

fn credit_granted(shop: Uuid, customer: Uuid, number: &str, amount: &str) -> StoreCreditEvent {
    StoreCreditEvent::StoreCreditGranted {
        shop_id: shop,
        customer_id: customer,
        credit_note_number: number.into(),
        amount: d(amount),
        granted_at: at(1),
    }
}

fn credit_spent(
    shop: Uuid,
    customer: Uuid,
    payment: u128,
    allocations: &[(&str, &str)],
) -> StoreCreditEvent {
    let allocations: Vec<CreditAllocation> = allocations
        .iter()
        .map(|(number, amount)| CreditAllocation {
            credit_note_number: (*number).into(),
            amount: d(amount),
        })
        .collect();
    StoreCreditEvent::StoreCreditSpent {
        shop_id: shop,
        customer_id: customer,
        payment_id: id(payment),
        order_id: id(0x0D),
        amount: allocations.iter().map(|a| a.amount).sum(),
        allocations,
        spent_at: at(2),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn store_credit_balance_and_remainders_follow_the_stream_exactly() {
    // Proves the read model's balance and per-note granted/used/remaining equal what the domain
    // aggregate derives from the same events, through a partial spend and a full one, per customer.
    let harness = Harness::new();
    let (shop, customer, other) = (id(0x5100), id(0xC0), id(0xC1));
    let used = StoreCreditEvent::CreditNoteUsed {
        shop_id: shop,
        customer_id: customer,
        credit_note_number: "AV-1".into(),
        used_at: at(2),
    };
    let partial = [
        credit_granted(shop, customer, "AV-1", "10.00"),
        credit_granted(shop, customer, "AV-2", "5.00"),
        credit_spent(shop, customer, 1, &[("AV-1", "10.00"), ("AV-2", "2.00")]),
        used,
        credit_granted(shop, other, "AV-3", "7.25"),
    ];
    let stream = store_credit::stream_id(customer);
    harness.append(&stream, &partial[..4]).await;
    harness
        .append(&store_credit::stream_id(other), &partial[4..])
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;

    let expected = partial[..4]
        .iter()
        .fold(StoreCredit::default(), |state, event| state.evolve(event));
    let view = p.store_credit(shop, customer).unwrap();
    assert_eq!(view.available, expected.balance());
    let remainders: Vec<(String, Decimal, Decimal)> = view
        .credit_notes
        .iter()
        .map(|n| (n.credit_note_number.clone(), n.granted, n.remaining))
        .collect();
    let expected_remainders: Vec<(String, Decimal, Decimal)> = expected
        .grants
        .iter()
        .map(|g| (g.credit_note_number.clone(), g.amount, g.remaining))
        .collect();
    assert_eq!(remainders, expected_remainders);
    for note in &view.credit_notes {
        assert_eq!(note.used + note.remaining, note.granted, "{note:?}");
    }
    assert_eq!((view.granted, view.used), (d("15.00"), d("12.00")));
    let first = view.credit_note("AV-1").expect("AV-1");
    assert_eq!(first.used_at, Some(at(2)));
    assert_eq!(view.credit_note("AV-2").expect("AV-2").used_at, None);
    assert_eq!(p.store_credit(shop, other).unwrap().available, d("7.25"));
    assert!(p
        .store_credit(shop, id(99))
        .unwrap()
        .credit_notes
        .is_empty());

    // Spending the rest empties the balance; AV-2 shows fully used.
    let rest = credit_spent(shop, customer, 2, &[("AV-2", "3.00")]);
    harness.append(&stream, &[rest]).await;
    harness.caught_up().await;
    let view = p.store_credit(shop, customer).unwrap();
    assert_eq!(view.available, Decimal::ZERO);
    let second = view.credit_note("AV-2").expect("AV-2");
    assert_eq!((second.used, second.remaining), (d("5.00"), Decimal::ZERO));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_gives_the_notes_back_and_clears_the_used_mark_in_every_view() {
    // Proves a cancelled order's `StoreCreditRestored` puts each note's part back (the row equal
    // to the domain's fold, used back to what stays spent) and `CreditNoteUseReverted` clears
    // the used mark on the store credit row and on the credit note document itself.
    let harness = Harness::new();
    let (shop, customer, order) = (id(0x5100), id(0xC0), id(2));
    // The golden credit note is AV-2025-000001, 14.90.
    let number = "AV-2025-000001";
    harness
        .append("series", &[credit_note_issued(shop, order)])
        .await;
    let restored = StoreCreditEvent::StoreCreditRestored {
        shop_id: shop,
        customer_id: customer,
        order_id: id(0x0D),
        amount: d("15.90"),
        allocations: [(number, "14.90"), ("AV-2", "1.00")]
            .map(|(n, a)| CreditAllocation {
                credit_note_number: n.into(),
                amount: d(a),
            })
            .to_vec(),
        restored_at: at(3),
    };
    let events = [
        credit_granted(shop, customer, number, "14.90"),
        credit_granted(shop, customer, "AV-2", "5.00"),
        credit_spent(shop, customer, 1, &[(number, "14.90"), ("AV-2", "1.00")]),
        StoreCreditEvent::CreditNoteUsed {
            shop_id: shop,
            customer_id: customer,
            credit_note_number: number.into(),
            used_at: at(2),
        },
        credit_spent(shop, customer, 2, &[("AV-2", "0.50")]),
        restored,
        StoreCreditEvent::CreditNoteUseReverted {
            shop_id: shop,
            customer_id: customer,
            credit_note_number: number.into(),
            reverted_at: at(3),
        },
    ];
    let stream = store_credit::stream_id(customer);
    harness.append(&stream, &events[..5]).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let before = p.store_credit(shop, customer).unwrap();
    assert_eq!(before.available, d("3.50"));
    assert!(p
        .credit_note(shop, number)
        .unwrap()
        .expect("note")
        .used_at
        .is_some());

    harness.append(&stream, &events[5..]).await;
    harness.caught_up().await;
    let expected = events
        .iter()
        .fold(StoreCredit::default(), |state, event| state.evolve(event));
    let view = p.store_credit(shop, customer).unwrap();
    assert_eq!(view.available, expected.balance());
    assert_eq!(
        view.available,
        d("19.40"),
        "only the other order's 0.50 stays spent"
    );
    assert_eq!((view.granted, view.used), (d("19.90"), d("0.50")));
    let notes: Vec<(String, Decimal, Decimal, bool)> = view
        .credit_notes
        .iter()
        .map(|n| {
            let used = n.used_at.is_some();
            (n.credit_note_number.clone(), n.used, n.remaining, used)
        })
        .collect();
    let expected_notes = [(number, "0", "14.90"), ("AV-2", "0.50", "4.50")]
        .map(|(n, u, r)| (n.to_string(), d(u), d(r), false));
    assert_eq!(notes, expected_notes);
    let document = p.credit_note(shop, number).unwrap().expect("note");
    assert_eq!(document.used_at, None, "the document is spendable again");
}

/// An order placed at `minutes` with `email`.
fn placed_with(shop: Uuid, order: Uuid, email: &str, minutes: i64) -> OrderEvent {
    let mut event = order_placed(shop, order, at(minutes));
    if let OrderEvent::OrderPlaced(placed) = &mut event {
        placed.customer.email = email.into();
    }
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_space_lists_its_orders_of_every_email_in_placing_order_and_no_one_elses() {
    // Proves the orders-by-email index: the space holds the orders placed with the account's
    // current and earlier emails, oldest first whatever the email, and none of another
    // customer's, though their orders are interleaved in time.
    let harness = Harness::new();
    let shop = id(0x5200);
    // Another customer's email that starts with this one's: a prefix scan must not mix them.
    let (old, new, other) = (
        "claire.martin@example.fr",
        "claire@atelier.fr",
        "claire@atelier.fr.eu",
    );
    let customer = customer_id_for(shop, old);
    let changed = CustomerEvent::CustomerEmailChanged {
        shop_id: shop,
        customer_id: customer,
        email: new.into(),
        email_as_typed: new.into(),
        previous_email: old.into(),
        changed_at: at(5),
    };
    harness
        .append(
            "customer-claire",
            &[customer_registered(shop, old, "Claire", "Martin"), changed],
        )
        .await;
    let orders = [
        (id(11), new, 9),
        (id(12), other, 1),
        (id(13), old, 2),
        (id(14), other, 3),
        (id(15), new, 7),
        (id(16), old, 4),
    ];
    for (order, email, minutes) in orders {
        let stream = format!("order-{order}");
        harness
            .append(&stream, &[placed_with(shop, order, email, minutes)])
            .await;
    }
    harness
        .append(
            "order-elsewhere",
            &[placed_with(id(0x5201), id(17), old, 0)],
        )
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;

    let space = harness
        .projections
        .customer_space(shop, customer, at(0).date_naive())
        .unwrap()
        .expect("space");
    let listed: Vec<Uuid> = space.orders.iter().map(|order| order.order_id).collect();
    assert_eq!(listed, [id(13), id(16), id(15), id(11)]);
    assert!(space
        .orders
        .iter()
        .all(|order| order.customer_email != other));
}
