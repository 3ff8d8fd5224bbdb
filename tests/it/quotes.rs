//! Quotes and purchase orders over HTTP (seed 003): issued by staff, accepted or declined, turned
//! into purchase orders, marked paid, numbered without gap, priced with VAT per rate, printed,
//! bundled and shown in the customer space; bad input is refused and appends nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{photo_shop, Api, PhotoShop, Reply};
use crate::openapi::{conforms, served_document};
use crate::reports::{download, pdf_text, period_around_now, unzip};
use crate::support::{spawn_app, spawn_app_with_test_clock};

/// `YYYY-MM-DD`, `days` from today (UTC).
/// A day counted from today in the shop's calendar (the fixture's shops are in Paris).
fn day_from_today(days: u64) -> String {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    (today + chrono::Days::new(days)).to_string()
}

fn this_year() -> String {
    day_from_today(0)[..4].to_string()
}

fn position(reply: &Reply) -> u64 {
    reply.body["position"].as_u64().expect("position")
}

async fn register_customer(shop: &PhotoShop, email: &str) -> String {
    let body = json!({"email": email, "first_name": "Claire", "last_name": "Martin"});
    shop.as_role("storefront")
        .post(&shop.path("/customers"), &body)
        .await
        .expect(201)
        .id("customer_id")
}

/// Three 3-cent lines at 20 % (VAT 0.018 on their sum: 0.02, where rounding each line would give
/// 0.03) and a guide at 5.5 %: 18.09 excl. VAT, 1.01 VAT, 19.10 incl. VAT.
fn quote_lines() -> Value {
    json!([
        {"sku": "TIR-10x15", "quantity": 1, "unit_price_excl_vat": "0.03"},
        {"sku": "MUG-BLANC", "quantity": 1, "unit_price_excl_vat": "0.03"},
        {"description": "Retouche", "quantity": 1, "unit_price_excl_vat": "0.03", "vat_rate": "20"},
        {"sku": "GUIDE-LYON", "quantity": 1, "unit_price_excl_vat": "18.00"}
    ])
}

#[track_caller]
fn assert_totals(totals: &Value) {
    assert_eq!(totals["total_excl_vat"], "18.09", "{totals}");
    assert_eq!(totals["total_vat"], "1.01", "{totals}");
    assert_eq!(totals["total_incl_vat"], "19.10", "{totals}");
    let rates: Vec<(&str, &str, &str)> = totals["vat_breakdown"]
        .as_array()
        .expect("breakdown")
        .iter()
        .map(|s| {
            let field = |name: &str| s[name].as_str().expect("decimal string");
            (
                field("vat_rate"),
                field("base_excl_vat"),
                field("vat_amount"),
            )
        })
        .collect();
    assert_eq!(rates, [("5.5", "18.00", "0.99"), ("20", "0.09", "0.02")]);
}

#[tokio::test]
async fn a_quote_is_accepted_ordered_paid_and_shown_paid_in_the_customer_space() {
    // Proves the whole flow over HTTP: quotes and purchase orders numbered without gap in their own
    // series, VAT per rate, accept/decline/convert/mark-paid, idempotent retries, reads conforming
    // to the OpenAPI document, the PDF read back by pdftotext, the bundle, the customer space
    // showing the paid purchase order, nothing posted to the ledger, and who may do what.
    let (dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let document = served_document(&shop.manager).await;
    let employee = shop.as_role("employee");
    let accountant = shop.as_role("accountant");
    let customer_id = register_customer(&shop, "claire.martin@example.fr").await;
    let year = this_year();
    let quote = json!({"customer_id": customer_id, "valid_until": day_from_today(30), "lines": quote_lines()});

    let first = employee
        .post_with_key(&shop.path("/quotes"), &quote, "quote-1")
        .await
        .expect(201);
    conforms(
        &document,
        Method::POST,
        "/v1/shops/{shop_id}/quotes",
        &first,
    );
    let q1 = first.id("number");
    assert_eq!(q1, format!("DE-{year}-000001"));
    assert_totals(&first.body["totals"]);
    let retried = employee
        .post_with_key(&shop.path("/quotes"), &quote, "quote-1")
        .await
        .expect(201);
    assert_eq!(retried.id("number"), q1, "a retry issues nothing new");
    let q2 = employee
        .post_with_key(&shop.path("/quotes"), &quote, "quote-2")
        .await
        .expect(201)
        .id("number");
    assert_eq!(q2, format!("DE-{year}-000002"), "gap-free");

    let declined = employee
        .post(
            &shop.path(&format!("/quotes/{q2}/decline")),
            &json!({"reason": "Hors budget"}),
        )
        .await
        .expect(200);
    assert_eq!(declined.body["status"], "declined");
    employee
        .post(&shop.path(&format!("/quotes/{q2}/accept")), &json!({}))
        .await
        .expect_problem(409, "invalid-transition");
    let accepted = employee
        .post(
            &shop.path(&format!("/quotes/{q1}/accept")),
            &json!({"accepted_by": "Claire Martin"}),
        )
        .await
        .expect(200);
    conforms(
        &document,
        Method::POST,
        "/v1/shops/{shop_id}/quotes/{number}/accept",
        &accepted,
    );
    assert_eq!(accepted.body["status"], "accepted");

    let from_quote = json!({"quote_number": q1});
    let ordered = employee
        .post_with_key(&shop.path("/purchase-orders"), &from_quote, "order-1")
        .await
        .expect(201);
    let bc1 = ordered.id("number");
    assert_eq!(bc1, format!("BC-{year}-000001"));
    assert_totals(&ordered.body["totals"]);
    let head = shop.manager.head_position().await;
    employee
        .post_with_key(&shop.path("/purchase-orders"), &from_quote, "order-again")
        .await
        .expect_problem(409, "quote-already-ordered");
    let direct = json!({"customer_id": customer_id, "lines": quote_lines()});
    let bc2 = employee
        .post_with_key(&shop.path("/purchase-orders"), &direct, "order-2")
        .await
        .expect(201)
        .id("number");
    assert_eq!(
        bc2,
        format!("BC-{year}-000002"),
        "the refused one took no number"
    );
    assert!(shop.manager.head_position().await > head);

    let pay_path = shop.path(&format!("/purchase-orders/{bc1}/mark-paid"));
    let head = shop.manager.head_position().await;
    employee
        .post(&pay_path, &json!({"method": "cheque", "amount": "19.00"}))
        .await
        .expect_problem(409, "amount-mismatch");
    assert_eq!(
        shop.manager.head_position().await,
        head,
        "no event appended"
    );
    shop.as_role("storefront")
        .post(&pay_path, &json!({"method": "cheque", "amount": "19.10"}))
        .await
        .expect_problem(403, "forbidden");
    let paid = employee
        .post_with_key(
            &pay_path,
            &json!({"method": "cheque", "amount": "19.10", "operator": "Anne"}),
            "pay-1",
        )
        .await
        .expect(200);
    conforms(
        &document,
        Method::POST,
        "/v1/shops/{shop_id}/purchase-orders/{number}/mark-paid",
        &paid,
    );
    let at = position(&paid);
    employee
        .post(&pay_path, &json!({"method": "cash", "amount": "19.10"}))
        .await
        .expect_problem(409, "already-paid");

    let read_quote = accountant
        .get(&shop.path(&format!("/quotes/{q1}?min_position={at}")))
        .await
        .expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/quotes/{number}",
        &read_quote,
    );
    assert_eq!(read_quote.body["status"], "accepted");
    assert_eq!(read_quote.body["decided_by"], "Claire Martin");
    assert_eq!(read_quote.body["purchase_order_number"], bc1);
    assert_totals(&read_quote.body["totals"]);
    let read_order = accountant
        .get(&shop.path(&format!("/purchase-orders/{bc1}?min_position={at}")))
        .await
        .expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/purchase-orders/{number}",
        &read_order,
    );
    assert_eq!(read_order.body["paid"], true);
    assert_eq!(read_order.body["quote_number"], q1);
    assert_eq!(read_order.body["payment"]["method"], "cheque");
    assert_eq!(read_order.body["payment"]["amount"], "19.10");
    assert_eq!(read_order.body["payment"]["recorded_by"], "Anne");
    assert_totals(&read_order.body["totals"]);

    let quotes = accountant
        .get(&shop.path(&format!("/quotes?min_position={at}")))
        .await
        .expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/quotes",
        &quotes,
    );
    let numbers: Vec<&str> = quotes.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|q| q["number"].as_str().expect("number"))
        .collect();
    assert_eq!(numbers, [q1.as_str(), q2.as_str()]);
    let first_page = accountant
        .get(&shop.path("/purchase-orders?limit=1"))
        .await
        .expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/purchase-orders",
        &first_page,
    );
    assert_eq!(first_page.body["items"][0]["number"], bc1);
    let cursor = first_page.body["next_cursor"]
        .as_str()
        .expect("a next page");
    let second_page = accountant
        .get(&shop.path(&format!("/purchase-orders?limit=1&after={cursor}")))
        .await
        .expect(200);
    assert_eq!(second_page.body["items"][0]["number"], bc2);
    assert_eq!(second_page.body["items"][0]["paid"], false);

    let space = shop
        .manager
        .get(&shop.path(&format!("/customers/{customer_id}/space?min_position={at}")))
        .await
        .expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/customers/{customer_id}/space",
        &space,
    );
    let listed = |list: &str, field: &str| -> Vec<(String, Value)> {
        space.body[list]
            .as_array()
            .expect("list")
            .iter()
            .map(|d| {
                (
                    d["number"].as_str().expect("number").to_string(),
                    d[field].clone(),
                )
            })
            .collect()
    };
    assert_eq!(
        listed("quotes", "status"),
        [
            (q1.clone(), json!("accepted")),
            (q2.clone(), json!("declined"))
        ]
    );
    assert_eq!(
        listed("purchase_orders", "paid"),
        [(bc1.clone(), json!(true)), (bc2.clone(), json!(false))]
    );
    assert_eq!(space.body["purchase_orders"][0]["total_incl_vat"], "19.10");

    let pdf_path = shop.path(&format!("/printable/purchase-orders/{bc1}?format=pdf"));
    let pdf = download(
        &accountant,
        &pdf_path,
        dir.path(),
        "order.pdf",
        "application/pdf",
    )
    .await;
    let text = pdf_text(&pdf);
    for expected in [
        "Bon de commande",
        bc1.as_str(),
        q1.as_str(),
        "Studio Lumière",
        "SIREN",
        "Claire Martin",
        "Retouche",
        "Base HT 5,5 %",
        "TVA 5,5 %",
        "0,99 €",
        "TVA 20 %",
        "0,02 €",
        "19,10 €",
        "Acquitté le",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from the PDF:\n{text}"
        );
    }
    let html_path = shop.path(&format!("/printable/quotes/{q1}"));
    let html = accountant.get(&html_path).await.expect(200).raw;
    assert!(
        html.contains("Devis n° ") && html.contains("Devis accepté"),
        "{html}"
    );
    assert!(
        html.contains("19,10 €") && html.contains("0,99 €"),
        "{html}"
    );

    let zip_path = shop.path(&format!(
        "/printable/quotes.zip?{}&min_position={at}",
        period_around_now()
    ));
    let zip = download(
        &accountant,
        &zip_path,
        dir.path(),
        "quotes.zip",
        "application/zip",
    )
    .await;
    let names = unzip(&zip, dir.path());
    assert_eq!(names, [format!("{q1}.pdf"), format!("{q2}.pdf")]);

    let journal = accountant
        .get(&shop.path(&format!(
            "/ledger/journal?{}&min_position={at}",
            period_around_now()
        )))
        .await
        .expect(200);
    assert_eq!(
        journal.body["entries"],
        json!([]),
        "quotes and purchase orders are not sales"
    );

    accountant
        .post(&shop.path("/quotes"), &quote)
        .await
        .expect_problem(403, "forbidden");
    shop.as_role("storefront")
        .post(&shop.path("/quotes"), &quote)
        .await
        .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn bad_quote_input_is_refused_with_a_problem_and_appends_nothing() {
    // Proves every malformed or impossible request is a 4xx problem+json and the log stays as it was.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let employee = shop.as_role("employee");
    let customer_id = register_customer(&shop, "claire.martin@example.fr").await;
    let valid_until = day_from_today(30);
    let with_lines = |lines: Value| json!({"customer_id": customer_id, "valid_until": valid_until, "lines": lines});
    let head = shop.manager.head_position().await;
    let quotes = shop.path("/quotes");
    let refused: Vec<(Value, u16, &str)> = vec![
        (with_lines(json!([])), 422, "validation"),
        (
            with_lines(
                json!([{"description": "Retouche", "quantity": 1, "unit_price_excl_vat": "1"}]),
            ),
            422,
            "validation",
        ),
        (
            with_lines(json!([{"sku": "TIR-10x15", "quantity": 0, "unit_price_excl_vat": "1"}])),
            422,
            "validation",
        ),
        (
            with_lines(json!([{"sku": "TIR-10x15", "quantity": 1, "unit_price_excl_vat": "-1"}])),
            422,
            "validation",
        ),
        (
            with_lines(
                json!([{"sku": "TIR-10x15", "quantity": 1, "unit_price_excl_vat": "1", "vat_rate": "5.5"}]),
            ),
            422,
            "validation",
        ),
        (
            with_lines(json!([{"sku": "NOPE", "quantity": 1, "unit_price_excl_vat": "1"}])),
            404,
            "not-found",
        ),
        (
            json!({"customer_id": customer_id, "valid_until": "2000-01-01", "lines": quote_lines()}),
            422,
            "validation",
        ),
        (
            json!({"customer_id": "00000000-0000-0000-0000-000000000001", "valid_until": valid_until, "lines": quote_lines()}),
            404,
            "not-found",
        ),
        (
            json!({"customer_id": customer_id, "valid_until": "tomorrow", "lines": quote_lines()}),
            400,
            "invalid-request",
        ),
        (
            json!({"customer_id": customer_id, "lines": quote_lines()}),
            400,
            "invalid-request",
        ),
    ];
    for (body, status, code) in &refused {
        employee
            .post(&quotes, body)
            .await
            .expect_problem(*status, code);
    }
    let orders = shop.path("/purchase-orders");
    let both = json!({"quote_number": "DE-2026-000001", "customer_id": customer_id, "lines": quote_lines()});
    employee
        .post(&orders, &both)
        .await
        .expect_problem(422, "validation");
    employee
        .post(&orders, &json!({"quote_number": "DE-1999-000042"}))
        .await
        .expect_problem(404, "not-found");
    employee
        .post(&shop.path("/quotes/DE-1999-000042/accept"), &json!({}))
        .await
        .expect_problem(404, "not-found");
    employee
        .post(
            &shop.path("/purchase-orders/BC-1999-000042/mark-paid"),
            &json!({"method": "cash", "amount": "1.00"}),
        )
        .await
        .expect_problem(404, "not-found");
    let too_long = "X".repeat(300);
    employee
        .get(&shop.path(&format!("/quotes/{too_long}")))
        .await
        .expect_problem(404, "not-found");
    assert_eq!(
        shop.manager.head_position().await,
        head,
        "no event appended"
    );

    // A quote not yet accepted cannot become a purchase order.
    let quote = with_lines(quote_lines());
    let number = employee
        .post(&quotes, &quote)
        .await
        .expect(201)
        .id("number");
    let head = shop.manager.head_position().await;
    employee
        .post(&orders, &json!({"quote_number": number}))
        .await
        .expect_problem(409, "invalid-transition");
    assert_eq!(
        shop.manager.head_position().await,
        head,
        "no event appended"
    );
}

#[tokio::test]
async fn a_quote_past_its_validity_date_has_expired() {
    // Proves expiry follows the decisions' clock: after the last valid day the quote can no longer
    // be accepted, and reads (the quote, the customer space) show it expired.
    let (_dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    let shop = photo_shop(&app, "Studio Lumière").await;
    let employee = shop.as_role("employee");
    let customer_id = register_customer(&shop, "claire.martin@example.fr").await;
    let quote = json!({"customer_id": customer_id, "valid_until": day_from_today(0), "lines": quote_lines()});
    let number = employee
        .post(&shop.path("/quotes"), &quote)
        .await
        .expect(201)
        .id("number");
    let later = format!("{}T12:00:00Z", day_from_today(2));
    owner
        .send(
            Method::PUT,
            "/v1/test-clock",
            Some(&json!({"now": later})),
            None,
        )
        .await
        .expect(200);
    let head = owner.head_position().await;
    employee
        .post(&shop.path(&format!("/quotes/{number}/accept")), &json!({}))
        .await
        .expect_problem(409, "quote-expired");
    assert_eq!(owner.head_position().await, head, "no event appended");
    let read = employee
        .get(&shop.path(&format!("/quotes/{number}?min_position={head}")))
        .await
        .expect(200);
    assert_eq!(read.body["status"], "expired");
    let space = shop
        .manager
        .get(&shop.path(&format!("/customers/{customer_id}/space")))
        .await
        .expect(200);
    assert_eq!(space.body["quotes"][0]["status"], "expired");
}

#[tokio::test]
async fn issuing_retried_after_a_restart_answers_the_first_number_and_appends_nothing() {
    // Proves a retried quote or purchase order, once the server restarted and forgot its answers,
    // is recognised by the log: same number, totals and position, nothing appended, and the
    // series continues without a gap.
    let (dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Durable").await;
    let customer_id = register_customer(&shop, "claire.martin@example.fr").await;
    let quote = json!({"customer_id": customer_id, "valid_until": day_from_today(30), "lines": quote_lines()});
    let order = json!({"customer_id": customer_id, "lines": quote_lines()});
    let quotes = shop.path("/quotes");
    let orders = shop.path("/purchase-orders");
    let first_quote = shop
        .manager
        .post_with_key(&quotes, &quote, "q-1")
        .await
        .expect(201);
    let first_order = shop
        .manager
        .post_with_key(&orders, &order, "o-1")
        .await
        .expect(201);
    app.signal(libc::SIGTERM);
    app.wait_exit().await;

    let app = crate::support::spawn_app_in(dir.path()).await;
    let api = Api::new(&app, &shop.keys["manager"]);
    let head = api.head_position().await;
    for (path, body, key, first) in [
        (&quotes, &quote, "q-1", &first_quote),
        (&orders, &order, "o-1", &first_order),
    ] {
        let replay = api.post_with_key(path, body, key).await.expect(201);
        assert_eq!(replay.body, first.body, "the first answer again");
    }
    assert_eq!(api.head_position().await, head, "no event appended");
    let year = this_year();
    let next = api.post_with_key(&quotes, &quote, "q-2").await.expect(201);
    assert_eq!(next.id("number"), format!("DE-{year}-000002"));
}

#[tokio::test]
async fn concurrent_issuers_number_quotes_and_purchase_orders_without_gap() {
    // Proves 32 quotes and 32 purchase orders issued at once get exactly 1..=32 in each series.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Concurrent").await;
    let customer_id = register_customer(&shop, "claire.martin@example.fr").await;
    let quote = json!({"customer_id": customer_id, "valid_until": day_from_today(30), "lines": quote_lines()});
    let order = json!({"customer_id": customer_id, "lines": quote_lines()});
    let employee = shop.as_role("employee");
    let (quotes, orders) = (shop.path("/quotes"), shop.path("/purchase-orders"));
    let issuers = (0..32).flat_map(|n| {
        let employee = employee.clone();
        let (quotes, orders, quote, order) =
            (quotes.clone(), orders.clone(), quote.clone(), order.clone());
        [
            tokio::spawn({
                let employee = employee.clone();
                async move {
                    employee
                        .post_with_key(&quotes, &quote, &format!("q-{n}"))
                        .await
                }
            }),
            tokio::spawn(async move {
                employee
                    .post_with_key(&orders, &order, &format!("o-{n}"))
                    .await
            }),
        ]
    });
    let mut numbers: Vec<String> = Vec::new();
    for reply in futures::future::join_all(issuers).await {
        numbers.push(reply.expect("task").expect(201).id("number"));
    }
    let year = this_year();
    for prefix in ["DE", "BC"] {
        let mut seqs: Vec<u64> = numbers
            .iter()
            .filter_map(|n| n.strip_prefix(&format!("{prefix}-{year}-")))
            .map(|seq| seq.parse().expect("sequence"))
            .collect();
        seqs.sort_unstable();
        assert_eq!(
            seqs,
            (1..=32).collect::<Vec<u64>>(),
            "{prefix}: {numbers:?}"
        );
    }
}
