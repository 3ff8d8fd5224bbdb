//! Cursor paging: no duplicate and no gap across pages while items are appended, filters,
//! and malformed cursors.

use super::*;
use crate::{OrderQuery, ProjectionError};
use comptoir_domain::order::OrderStatus;
use std::collections::BTreeSet;

async fn place_orders(harness: &Harness, shop: Uuid, numbers: std::ops::Range<u128>) {
    for n in numbers {
        let order = id(1_000 + n);
        harness
            .append(
                &order_stream(order),
                &[order_placed(shop, order, at(n as i64))],
            )
            .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn order_pages_have_no_duplicate_or_gap_while_orders_are_appended() {
    // Proves paging through orders while new ones arrive yields every order that existed at the
    // start exactly once, in placing order, plus the later ones that sort after the cursor.
    let harness = Harness::new();
    let shop = id(1);
    place_orders(&harness, shop, 0..23).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;

    let mut seen = Vec::new();
    let mut request = PageRequest::first(5);
    let mut appended = 23;
    loop {
        let page = harness
            .projections
            .orders(shop, &OrderQuery::default(), &request)
            .unwrap();
        assert!(page.items.len() <= 5);
        seen.extend(page.items.iter().map(|o| o.order_id));
        let Some(cursor) = page.next_cursor else {
            break;
        };
        if appended < 30 {
            // Between pages: an order placed later (sorts after any cursor) arrives.
            place_orders(&harness, shop, appended..appended + 1).await;
            harness.caught_up().await;
            appended += 1;
        }
        request.after = Some(cursor);
    }
    let expected: Vec<Uuid> = (0..appended).map(|n| id(1_000 + n)).collect();
    assert_eq!(seen, expected, "every order once, in placing order");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn order_lists_filter_by_status_date_and_search() {
    // Proves the status filter, the placing-date range, the search (order id, email; case
    // ignored; bounded length) and that limits are capped.
    let harness = Harness::new();
    let shop = id(1);
    place_orders(&harness, shop, 0..6).await;
    for n in [1u128, 4] {
        let order = id(1_000 + n);
        harness
            .append(
                &order_stream(order),
                &[
                    payment(shop, order, id(n), "53.20"),
                    order_paid(shop, order),
                ],
            )
            .await;
    }
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let paid = OrderQuery {
        status: Some(OrderStatus::Paid),
        ..Default::default()
    };
    let page = harness
        .projections
        .orders(shop, &paid, &PageRequest::first(usize::MAX))
        .unwrap();
    let ids: Vec<Uuid> = page.items.iter().map(|o| o.order_id).collect();
    assert_eq!(ids, [id(1_001), id(1_004)]);
    let early = OrderQuery {
        placed: crate::DateRange {
            from: None,
            until: Some(at(2)),
        },
        ..Default::default()
    };
    let page = harness
        .projections
        .orders(shop, &early, &PageRequest::first(0))
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[1].amount_paid, d("53.20"));
    let search = |term: &str| {
        let query = OrderQuery {
            search: Some(term.into()),
            ..Default::default()
        };
        let page = harness
            .projections
            .orders(shop, &query, &PageRequest::first(usize::MAX))
            .unwrap();
        page.items.iter().map(|o| o.order_id).collect::<Vec<Uuid>>()
    };
    // id(1_004) is …03ec; the customer's email and name are every order's.
    assert_eq!(search("3EC"), [id(1_004)]);
    let email = page.items[0].customer_email.to_uppercase();
    assert_eq!(search(&email).len(), 6);
    assert!(search("nobody-by-that-name").is_empty());
    let too_long = "x".repeat(crate::limits::SEARCH_CHARS_MAX + 1);
    let refused = harness.projections.orders(
        shop,
        &OrderQuery {
            search: Some(too_long),
            ..Default::default()
        },
        &PageRequest::first(10),
    );
    assert!(refused.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_page_by_email_and_search_ignores_case() {
    // Proves customer paging (by email) and the case-insensitive search on email and name.
    let harness = Harness::new();
    let shop = id(1);
    let people = [
        ("ana@example.fr", "Ana", "Lopez"),
        ("bob@example.fr", "Bob", "Durand"),
        ("chloe@example.fr", "Chloé", "Lopez"),
        ("dan@example.fr", "Dan", "Petit"),
    ];
    for (email, first, last) in people {
        let event = customer_registered(shop, email, first, last);
        harness.append(&format!("customer-{email}"), &[event]).await;
    }
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let first = p
        .customers(shop, &Default::default(), &PageRequest::first(3))
        .unwrap();
    let second = PageRequest {
        after: first.next_cursor.clone(),
        limit: 3,
    };
    let rest = p.customers(shop, &Default::default(), &second).unwrap();
    let emails: Vec<String> = first
        .items
        .iter()
        .chain(&rest.items)
        .map(|c| c.email.clone())
        .collect();
    assert_eq!(emails, people.map(|(email, _, _)| email.to_string()));
    assert!(rest.next_cursor.is_none());

    let lopez = crate::CustomerQuery {
        search: Some("LOPEZ".into()),
    };
    let found = p.customers(shop, &lopez, &PageRequest::first(10)).unwrap();
    assert_eq!(found.items.len(), 2);
    let by_email = crate::CustomerQuery {
        search: Some("Bob@".into()),
    };
    assert_eq!(
        p.customers(shop, &by_email, &PageRequest::first(10))
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_or_foreign_cursors_are_refused() {
    // Proves a cursor that is not ours, or belongs to another list, is a clear error.
    let harness = Harness::new();
    let shop = id(1);
    place_orders(&harness, shop, 0..3).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let page = p
        .orders(shop, &OrderQuery::default(), &PageRequest::first(1))
        .unwrap();
    let order_cursor = page.next_cursor.expect("more orders");
    for cursor in ["zz", "", "0a", &order_cursor] {
        let request = PageRequest {
            after: Some(cursor.to_string()),
            limit: 1,
        };
        let error = p.invoices(shop, &Default::default(), &request).unwrap_err();
        assert!(
            matches!(error, ProjectionError::InvalidCursor),
            "{cursor}: {error}"
        );
    }
    let reversed = crate::DateRange {
        from: Some(at(5)),
        until: Some(at(1)),
    };
    let error = p
        .invoices(shop, &reversed, &PageRequest::first(1))
        .unwrap_err();
    assert!(matches!(error, ProjectionError::InvalidQuery { .. }));
}
