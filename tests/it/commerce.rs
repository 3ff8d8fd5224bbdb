//! The commerce core over HTTP: a photo shop's whole order lifecycle, gap-free numbering under
//! concurrency, idempotent retries, refused bad input, restarts.

use std::sync::Arc;

use futures::future::join_all;
use serde_json::{json, Value};

use crate::api::{all_numbers, cents, home_order, photo_shop, place, seq_of, Api, PhotoShop};
use crate::support::{spawn_app, spawn_app_in};

/// Concurrent clients of the numbering test.
const PAYERS: usize = 64;
/// Orders paid (and credited) in the numbering test.
const NUMBERED_ORDERS: usize = 1_000;

async fn pay(api: &Api, shop: &PhotoShop, order_id: &str, method: &str, amount: &str) -> Value {
    let body = json!({"method": method, "amount": amount});
    let path = shop.path(&format!("/orders/{order_id}/payments"));
    api.post(&path, &body).await.expect(200).body
}

fn position(body: &Value) -> u64 {
    body["position"].as_u64().expect("position")
}

/// Non-negative cents as an amount the API accepts ("4.40").
fn euros(cents: i64) -> String {
    assert!(cents >= 0, "negative amount {cents}");
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The amounts of `fields` of `object`, in cents.
fn amounts<const N: usize>(object: &Value, fields: [&str; N]) -> [i64; N] {
    fields.map(|field| {
        cents(
            object[field]
                .as_str()
                .unwrap_or_else(|| panic!("no amount {field} in {object}")),
        )
    })
}

/// The customer's store credit as `GET /customers/{id}` shows it once `at` is read.
async fn store_credit_at(api: &Api, account: &str, at: u64) -> Value {
    let read = api
        .get(&format!("{account}?min_position={at}"))
        .await
        .expect(200);
    read.body["store_credit"].clone()
}

/// One credit note granted `granted` cents of which `used` are spent: the balance and the note
/// both say so.
#[track_caller]
fn assert_store_credit(store_credit: &Value, credit_note: &str, granted: i64, used: i64) {
    let balance = amounts(store_credit, ["available", "granted", "used"]);
    assert_eq!(balance, [granted - used, granted, used], "{store_credit}");
    let notes = store_credit["credit_notes"]
        .as_array()
        .expect("credit notes");
    assert_eq!(notes.len(), 1, "{store_credit}");
    assert_eq!(notes[0]["credit_note_number"], credit_note);
    let note = amounts(&notes[0], ["granted", "used", "remaining"]);
    assert_eq!(note, [granted, used, granted - used], "{store_credit}");
}

#[tokio::test]
async fn photo_shop_lifecycle_prices_documents_and_store_credit_exactly() {
    // Proves a full lifecycle over HTTP: tiered pricing with VAT per rate, invoice on payment, slip
    // on shipping, a return credited as store credit, the account's store credit balance after
    // the return, an email change, a partial and a full use of it paying part of a 2nd order.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let storefront = shop.as_role("storefront");
    let customer =
        json!({"email": "Claire.Martin@Example.fr", "first_name": "Claire", "last_name": "Martin"});
    let registered = storefront
        .post(&shop.path("/customers"), &customer)
        .await
        .expect(201);
    let lines = json!([{"sku": "TIR-10x15", "quantity": 120, "unit_price": "0.01"}, {"sku": "guide-lyon", "quantity": 1}]);
    let placed = storefront
        .post(
            &shop.path("/orders"),
            &home_order(&shop, "claire.martin@example.fr", lines),
        )
        .await
        .expect(201);
    // 120 prints at the 100+ tier (0.22): client prices are ignored.
    let pricing = &placed.body["pricing"];
    assert_eq!(pricing["lines"][0]["unit_price"], "0.22");
    assert_eq!(pricing["lines"][0]["total_incl_vat"], "26.40");
    let totals = &pricing["totals"];
    assert_eq!(totals["total_incl_vat"], "49.80");
    assert_eq!(totals["total_vat"], "6.18");
    assert_eq!(totals["total_excl_vat"], "43.62");
    let breakdown = totals["vat_breakdown"].as_array().expect("breakdown");
    let rates: Vec<(&str, &str, &str)> = breakdown
        .iter()
        .map(|b| {
            (
                b["vat_rate"].as_str().unwrap_or(""),
                b["base_excl_vat"].as_str().unwrap_or(""),
                b["vat_amount"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(rates, [("5.5", "17.54", "0.96"), ("20", "26.08", "5.22")]);
    let order_id = placed.id("order_id");

    let paid = pay(&storefront, &shop, &order_id, "card", "49.80").await;
    assert_eq!(paid["status"], "paid");
    let invoice = paid["invoice_number"]
        .as_str()
        .expect("invoice number")
        .to_string();
    assert!(
        invoice.starts_with("FA-") && seq_of(&invoice) == 1,
        "{invoice}"
    );
    let employee = shop.as_role("employee");
    let shipped = employee
        .post(
            &shop.path(&format!("/orders/{order_id}/ship")),
            &json!({"tracking_number": "6A123"}),
        )
        .await
        .expect(200);
    assert_eq!(shipped.body["issued"][0]["kind"], "delivery_slip");
    let slip = shipped.body["issued"][0]["number"]
        .as_str()
        .expect("slip")
        .to_string();
    assert_eq!(seq_of(&slip), 1);

    // Return 20 of the 120 prints: 20/120 of 26.40 = 4.40, VAT 20% computed on the credit.
    let returned = shop
        .manager
        .post(
            &shop.path(&format!("/orders/{order_id}/returns")),
            &json!({"lines": [{"line_number": 1, "quantity": 20}], "settlement": {"type": "store_credit"}}),
        )
        .await
        .expect(201);
    let credit_note = returned.body["issued"][0]["number"]
        .as_str()
        .expect("credit note")
        .to_string();
    assert!(credit_note.starts_with("AV-") && seq_of(&credit_note) == 1);
    let credit = &returned.body["credits"][0]["totals"];
    assert_eq!(
        (
            credit["total_incl_vat"].as_str(),
            credit["total_vat"].as_str()
        ),
        (Some("4.40"), Some("0.73"))
    );

    let accountant = shop.as_role("accountant");
    let at = position(&returned.body);
    let read = accountant
        .get(&shop.path(&format!("/invoices/{invoice}?min_position={at}")))
        .await
        .expect(200);
    assert_eq!(read.body["totals"], *totals);
    assert_eq!(read.body["order_id"], order_id.as_str());
    let sum: f64 = read.body["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            l["total_incl_vat"]
                .as_str()
                .unwrap_or("0")
                .parse::<f64>()
                .unwrap_or(0.0)
        })
        .sum();
    assert!((sum - 49.80).abs() < 1e-9, "invoice lines add up to {sum}");
    let note = accountant
        .get(&shop.path(&format!("/credit-notes/{credit_note}?min_position={at}")))
        .await
        .expect(200);
    assert_eq!(note.body["invoice_number"], invoice.as_str());
    accountant
        .get(&shop.path(&format!("/delivery-slips/{slip}?min_position={at}")))
        .await
        .expect(200);

    // The return's credit is now the customer's store credit, shown on the account and per note.
    let granted = cents(credit["total_incl_vat"].as_str().expect("credit total"));
    let account = shop.path(&format!("/customers/{}", registered.id("customer_id")));
    let after_return = store_credit_at(&storefront, &account, at).await;
    assert_store_credit(&after_return, &credit_note, granted, 0);
    assert!(after_return["credit_notes"][0]["used_at"].is_null());

    // The account moves to another email and keeps its id, so its credit follows it.
    let etag = storefront.get(&account).await.expect(200).etag;
    let moved_to =
        json!({"email": "claire@atelier.fr", "first_name": "Claire", "last_name": "Martin"});
    let moved = storefront
        .put(&account, &moved_to, Some(&etag), None)
        .await
        .expect(200);
    let after_move = store_credit_at(&storefront, &account, position(&moved.body)).await;
    assert_eq!(after_move, after_return);

    // A second order (ID photos, store pickup, 12.00) with the new email: half the credit first.
    let second = json!({
        "customer": {"customer_id": registered.id("customer_id"), "email": "claire@atelier.fr", "name": "Claire Martin"},
        "lines": [{"sku": "ID-4", "quantity": 1}],
        "delivery_method_id": shop.delivery["retrait"],
    });
    let (second_id, total) = place(&storefront, &shop, &second).await;
    assert_eq!(total, "12.00");
    let first_use = granted / 2;
    let partly = pay(
        &storefront,
        &shop,
        &second_id,
        "store_credit",
        &euros(first_use),
    )
    .await;
    assert_eq!(partly["status"], "placed");
    assert_eq!(
        cents(partly["outstanding"].as_str().expect("outstanding")),
        cents(&total) - first_use
    );
    let after_partial = store_credit_at(&storefront, &account, position(&partly)).await;
    assert_store_credit(&after_partial, &credit_note, granted, first_use);
    assert!(after_partial["credit_notes"][0]["used_at"].is_null());
    let space = shop
        .manager
        .get(&format!(
            "{account}/space?min_position={}",
            position(&partly)
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(space["store_credit"], after_partial);
    let listed = &space["credit_notes"][0];
    assert_eq!(listed["number"], credit_note.as_str());
    assert_eq!(
        amounts(&listed["store_credit"], ["granted", "used", "remaining"]),
        [granted, first_use, granted - first_use]
    );

    // Then the rest of it: nothing is left, the note shows as used, and not a cent more passes.
    let rest = pay(
        &storefront,
        &shop,
        &second_id,
        "store_credit",
        &euros(granted - first_use),
    )
    .await;
    let after_full = store_credit_at(&storefront, &account, position(&rest)).await;
    assert_store_credit(&after_full, &credit_note, granted, granted);
    assert!(after_full["credit_notes"][0]["used_at"].is_string());
    let refused = storefront
        .post(
            &shop.path(&format!("/orders/{second_id}/payments")),
            &json!({"method": "store_credit", "amount": "0.01"}),
        )
        .await;
    refused.expect_problem(422, "insufficient-store-credit");
    let by_card = euros(cents(&total) - granted);
    let done = pay(&storefront, &shop, &second_id, "card", &by_card).await;
    assert_eq!(done["status"], "paid");
    assert_eq!(seq_of(done["invoice_number"].as_str().expect("invoice")), 2);
    let at = position(&done);
    let note = accountant
        .get(&shop.path(&format!("/credit-notes/{credit_note}?min_position={at}")))
        .await
        .expect(200);
    assert!(
        note.body["used_at"].is_string(),
        "a spent credit note shows as used: {}",
        note.raw
    );
    let order = accountant
        .get(&shop.path(&format!("/orders/{order_id}?min_position={at}")))
        .await
        .expect(200);
    assert_eq!(order.body["credit_note_numbers"][0], credit_note.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payers_and_returns_number_documents_without_gap_or_duplicate() {
    // Proves 64 concurrent clients paying 1,000 orders get invoices 1..1000 exactly, and the same
    // for 1,000 concurrent returns and their credit notes.
    let (_dir, app) = spawn_app().await;
    let shop = Arc::new(photo_shop(&app, "Numbering").await);
    let body = home_order(
        &shop,
        "bulk@example.fr",
        json!([{"sku": "MUG-BLANC", "quantity": 1}]),
    );
    let orders: Vec<(String, String)> = run_concurrently(NUMBERED_ORDERS, |_| {
        let shop = shop.clone();
        let body = body.clone();
        async move { place(&shop.manager, &shop, &body).await }
    })
    .await;
    let orders = Arc::new(orders);
    run_concurrently(NUMBERED_ORDERS, |index| {
        let (shop, orders) = (shop.clone(), orders.clone());
        async move {
            let (order_id, total) = &orders[index];
            pay(&shop.manager, &shop, order_id, "card", total).await;
            let ship = shop.path(&format!("/orders/{order_id}/ship"));
            shop.manager.post(&ship, &json!({})).await.expect(200);
        }
    })
    .await;
    let returns = run_concurrently(NUMBERED_ORDERS, |index| {
        let (shop, orders) = (shop.clone(), orders.clone());
        async move {
            let path = shop.path(&format!("/orders/{}/returns", orders[index].0));
            let body = json!({"lines": [{"line_number": 1, "quantity": 1}], "settlement": {"type": "refund", "method": "card"}});
            position(&shop.manager.post(&path, &body).await.expect(201).body)
        }
    })
    .await;
    let at = returns.into_iter().max().unwrap_or(0);
    let accountant = shop.as_role("accountant");
    for list in ["/invoices", "/credit-notes", "/delivery-slips"] {
        let numbers = all_numbers(&accountant, &shop.path(list), at).await;
        let mut seqs: Vec<u64> = numbers.iter().map(|n| seq_of(n)).collect();
        seqs.sort_unstable();
        assert_eq!(
            seqs,
            (1..=NUMBERED_ORDERS as u64).collect::<Vec<_>>(),
            "{list}"
        );
    }
}

/// Runs `count` tasks, at most `PAYERS` at a time, and returns their results in index order.
async fn run_concurrently<T, F, Fut>(count: usize, task: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let semaphore = Arc::new(tokio::sync::Semaphore::new(PAYERS));
    let handles: Vec<_> = (0..count)
        .map(|index| {
            let semaphore = semaphore.clone();
            let work = task(index);
            tokio::spawn(async move {
                let _permit = semaphore.acquire_owned().await.expect("semaphore");
                work.await
            })
        })
        .collect();
    join_all(handles)
        .await
        .into_iter()
        .map(|result| result.expect("task"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_keys_make_retries_create_nothing_twice() {
    // Proves same key + same body replays the first answer with no new event (sequentially and
    // concurrently), and same key + another body is a 422 idempotency-mismatch.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Retries").await;
    let api = &shop.manager;
    let body = home_order(
        &shop,
        "retry@example.fr",
        json!([{"sku": "ID-4", "quantity": 2}]),
    );
    let first = api
        .post_with_key(&shop.path("/orders"), &body, "order-1")
        .await
        .expect(201);
    let head = api.head_position().await;
    let again = api
        .post_with_key(&shop.path("/orders"), &body, "order-1")
        .await
        .expect(201);
    assert!(again.replayed);
    assert_eq!(again.body, first.body);
    assert_eq!(api.head_position().await, head);
    let other = home_order(
        &shop,
        "retry@example.fr",
        json!([{"sku": "ID-4", "quantity": 3}]),
    );
    api.post_with_key(&shop.path("/orders"), &other, "order-1")
        .await
        .expect_problem(422, "idempotency-mismatch");

    let order_id = first.id("order_id");
    let payment = json!({"method": "card", "amount": "28.90"});
    let path = shop.path(&format!("/orders/{order_id}/payments"));
    let replies = join_all((0..16).map(|_| api.post_with_key(&path, &payment, "pay-1"))).await;
    let bodies: Vec<&Value> = replies.iter().map(|r| &r.body).collect();
    assert!(replies.iter().all(|r| r.status == 200), "{bodies:?}");
    assert!(bodies.iter().all(|b| **b == *bodies[0]));
    // PaymentRecorded, OrderPaid and InvoiceIssued: once.
    assert_eq!(api.head_position().await, head + 3);
    assert_eq!(bodies[0]["payments"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn bad_input_on_creating_routes_is_a_problem_and_appends_nothing() {
    // Proves malformed JSON, unknown ids, zero or negative quantities, too many decimals, oversized
    // bodies, wrong roles and another shop's ids all answer 4xx problem+json and append nothing.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Strict").await;
    let other = photo_shop(&app, "Other").await;
    let api = &shop.manager;
    let good = home_order(
        &shop,
        "bad@example.fr",
        json!([{"sku": "ID-4", "quantity": 1}]),
    );
    let (order_id, _) = place(api, &shop, &good).await;
    let other_order = place(
        &other.manager,
        &other,
        &home_order(
            &other,
            "x@example.fr",
            json!([{"sku": "ID-4", "quantity": 1}]),
        ),
    )
    .await
    .0;
    let head = api.head_position().await;
    let orders = shop.path("/orders");
    let cases: Vec<(Api, String, Value, u16)> = vec![
        (
            api.clone(),
            orders.clone(),
            home_order(
                &shop,
                "b@example.fr",
                json!([{"sku": "NOPE", "quantity": 1}]),
            ),
            404,
        ),
        (
            api.clone(),
            orders.clone(),
            home_order(
                &shop,
                "b@example.fr",
                json!([{"sku": "ID-4", "quantity": 0}]),
            ),
            422,
        ),
        (
            api.clone(),
            orders.clone(),
            home_order(
                &shop,
                "b@example.fr",
                json!([{"sku": "ID-4", "quantity": -1}]),
            ),
            400,
        ),
        (
            api.clone(),
            orders.clone(),
            json!({"customer": {"email": "b@example.fr", "name": "B"}, "lines": [{"sku": "ID-4", "quantity": 1}], "delivery_method_id": other.delivery["colissimo"], "shipping_address": crate::api::address()}),
            404,
        ),
        (
            api.clone(),
            shop.path("/products"),
            json!({"sku": "X", "name": "X", "category_id": uuid::Uuid::nil(), "vat_rate": "20", "weight_g": 1, "tiers": [{"min_quantity": 1, "unit_price": "0.333"}]}),
            422,
        ),
        (
            api.clone(),
            shop.path("/categories"),
            json!({"name": ""}),
            422,
        ),
        (
            api.clone(),
            shop.path("/customers"),
            json!({"email": "not-an-email", "first_name": "A", "last_name": "B"}),
            422,
        ),
        (
            api.clone(),
            shop.path("/delivery-methods"),
            json!({"name": "D", "kind": "home_delivery", "payment_mode": "card", "price": "-1", "vat_rate": "20"}),
            422,
        ),
        (
            api.clone(),
            shop.path(&format!("/orders/{order_id}/payments")),
            json!({"method": "card", "amount": "1.001"}),
            422,
        ),
        (
            api.clone(),
            shop.path(&format!("/orders/{order_id}/payments")),
            json!({"method": "card", "amount": "0"}),
            422,
        ),
        (
            api.clone(),
            shop.path(&format!("/orders/{other_order}/payments")),
            json!({"method": "card", "amount": "1.00"}),
            404,
        ),
        (
            api.clone(),
            shop.path(&format!("/orders/{order_id}/ship")),
            json!({}),
            409,
        ),
        (
            api.clone(),
            shop.path(&format!("/orders/{order_id}/returns")),
            json!({"lines": [{"line_number": 1, "quantity": 1}], "settlement": {"type": "store_credit"}}),
            409,
        ),
        (
            shop.as_role("accountant"),
            orders.clone(),
            good.clone(),
            403,
        ),
        (
            shop.as_role("storefront"),
            shop.path("/categories"),
            json!({"name": "Cadres"}),
            403,
        ),
        (
            shop.as_role("storefront"),
            other.path("/orders"),
            good.clone(),
            404,
        ),
        (api.as_key("ck_nonsense"), orders.clone(), good.clone(), 401),
        (
            api.clone(),
            "/v1/shops".to_string(),
            crate::api::shop_body(&shop.fixture, "Mine"),
            403,
        ),
    ];
    for (caller, path, body, status) in cases {
        let reply = caller.post(&path, &body).await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{path} {body}: {}",
            reply.raw
        );
        assert_eq!(
            reply.content_type, "application/problem+json",
            "{path}: {}",
            reply.raw
        );
    }
    api.post_raw(&orders, "application/json", b"{not json".to_vec())
        .await
        .expect_problem(400, "invalid-request");
    api.post_raw(&orders, "text/plain", b"{}".to_vec())
        .await
        .expect_problem(415, "unsupported-media-type");
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(3 * 1024 * 1024));
    api.post_raw(&orders, "application/json", huge.into_bytes())
        .await
        .expect_problem(413, "payload-too-large");
    assert_eq!(
        api.head_position().await,
        head,
        "a refused request appended events"
    );
}

/// Ships the order and takes its first unit back as store credit; returns the numbers of the
/// delivery slip and the credit note issued, and the position of the return.
async fn ship_and_credit(api: &Api, shop: &PhotoShop, order_id: &str) -> (String, String, u64) {
    let shipped = api
        .post(
            &shop.path(&format!("/orders/{order_id}/ship")),
            &json!({"tracking_number": "6A123"}),
        )
        .await
        .expect(200);
    assert_eq!(shipped.body["issued"][0]["kind"], "delivery_slip");
    let slip = shipped.body["issued"][0]["number"].as_str().expect("slip");
    let returned = api
        .post(
            &shop.path(&format!("/orders/{order_id}/returns")),
            &json!({"lines": [{"line_number": 1, "quantity": 1}], "settlement": {"type": "store_credit"}}),
        )
        .await
        .expect(201);
    let credit_note = returned.body["issued"][0]["number"]
        .as_str()
        .expect("credit note");
    (
        slip.to_string(),
        credit_note.to_string(),
        position(&returned.body),
    )
}

#[tokio::test]
async fn restart_keeps_everything_and_numbering_continues() {
    // Proves a restarted server on the same data dir authenticates old keys, serves old orders,
    // replays an old Idempotency-Key byte for byte with nothing appended, and continues every
    // number series (invoices, credit notes, delivery slips) with no gap and no duplicate.
    let (dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Durable").await;
    let body = home_order(
        &shop,
        "again@example.fr",
        json!([{"sku": "AGR-30x45", "quantity": 1}]),
    );
    let first = shop
        .manager
        .post_with_key(&shop.path("/orders"), &body, "k-1")
        .await
        .expect(201);
    let order_id = first.id("order_id");
    let paid = pay(&shop.manager, &shop, &order_id, "card", "14.80").await;
    assert_eq!(seq_of(paid["invoice_number"].as_str().expect("invoice")), 1);
    let (slip, credit_note, credited_at) = ship_and_credit(&shop.manager, &shop, &order_id).await;
    assert!(slip.starts_with("BL-") && seq_of(&slip) == 1, "{slip}");
    assert!(
        credit_note.starts_with("AV-") && seq_of(&credit_note) == 1,
        "{credit_note}"
    );
    app.signal(libc::SIGTERM);
    app.wait_exit().await;

    let app = spawn_app_in(dir.path()).await;
    let api = Api::new(&app, &shop.keys["manager"]);
    let head = api.head_position().await;
    let replay = api
        .post_with_key(&shop.path("/orders"), &body, "k-1")
        .await
        .expect(201);
    assert_eq!(replay.body["order_id"], order_id.as_str());
    assert_eq!(
        replay.raw, first.raw,
        "the replay is the first answer's bytes"
    );
    assert!(replay.replayed);
    assert_eq!(api.head_position().await, head);
    let at = credited_at;
    let order = api
        .get(&shop.path(&format!("/orders/{order_id}?min_position={at}")))
        .await
        .expect(200);
    assert_eq!(order.body["status"], "shipped");
    let (second, total) = place(&api, &shop, &body).await;
    let paid = pay(&api, &shop, &second, "card", &total).await;
    assert_eq!(seq_of(paid["invoice_number"].as_str().expect("invoice")), 2);
    let (slip, credit_note, at) = ship_and_credit(&api, &shop, &second).await;
    assert!(slip.starts_with("BL-") && seq_of(&slip) == 2, "{slip}");
    assert!(
        credit_note.starts_with("AV-") && seq_of(&credit_note) == 2,
        "{credit_note}"
    );
    for (list, prefix) in [
        ("/invoices", "FA-"),
        ("/credit-notes", "AV-"),
        ("/delivery-slips", "BL-"),
    ] {
        let numbers = all_numbers(&api, &shop.path(list), at).await;
        assert!(numbers.iter().all(|n| n.starts_with(prefix)), "{numbers:?}");
        let mut seqs: Vec<u64> = numbers.iter().map(|n| seq_of(n)).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, vec![1, 2], "{list}: {numbers:?}");
    }
}

#[tokio::test]
async fn event_feed_is_scoped_to_the_shop_as_pages_and_live_sse() {
    // Proves the feed shows only the shop's events, refuses other shops' keys with 404, and
    // streams them as SSE with positions as ids.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Feed A").await;
    let other = photo_shop(&app, "Feed B").await;
    let accountant = shop.as_role("accountant");
    let page = accountant
        .get(&shop.path("/events?after=0&limit=500"))
        .await
        .expect(200);
    let events = page.body["events"].as_array().expect("events");
    assert!(!events.is_empty());
    assert!(events
        .iter()
        .all(|e| e["data"].to_string().contains(&shop.shop_id)));
    assert!(!page.raw.contains(&other.shop_id));
    accountant
        .get(&other.path("/events"))
        .await
        .expect_problem(404, "not-found");
    shop.as_role("storefront")
        .get(&shop.path("/events"))
        .await
        .expect_problem(403, "forbidden");

    let response = app
        .client
        .get(app.url(&shop.path("/events")))
        .bearer_auth(&shop.keys["accountant"])
        .header("accept", "text/event-stream")
        .header("last-event-id", "0")
        .send()
        .await
        .expect("sse");
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    while !text.contains("event: ShopCreated") {
        use futures::StreamExt;
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
            .await
            .expect("an event in time")
            .expect("chunk")
            .expect("bytes");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("id: 1\n"), "{text}");
}
