//! `serve --demo`: the photo shop, its catalog and a day of orders made through the API's own
//! routes. The day's documents, statistics and ledger add up, and a restart with `--demo` adds
//! nothing.

use serde_json::Value;

use crate::api::{seq_of, value_cents, Api};
use crate::support::{spawn_app_with, TestApp};

/// The demo shop's id: a UUIDv5 of the demo's namespace, the same on every machine.
const DEMO_SHOP: &str = "6100ea18-f5a8-5a78-87c1-a8a147687346";

/// The manager key the server printed for the demo shop.
async fn demo_key(app: &TestApp) -> String {
    let line = app.printed_line("demo shop ").await;
    let key = line
        .rsplit("manager API key: ")
        .next()
        .expect("a key on the line");
    assert!(key.starts_with("ck_"), "{line}");
    key.to_string()
}

async fn read(api: &Api, path: &str) -> Value {
    let head = api.get("/health").await.expect(200).body["head_position"]
        .as_u64()
        .expect("head position");
    let separator = if path.contains('?') { '&' } else { '?' };
    let path = format!("/v1/shops/{DEMO_SHOP}{path}{separator}min_position={head}");
    api.get(&path).await.expect(200).body
}

/// The id of the one customer whose email `search` finds.
async fn customer_with(api: &Api, search: &str) -> String {
    let found = read(api, &format!("/customers?search={search}")).await;
    assert_eq!(items(&found).len(), 1, "{found}");
    items(&found)[0]["customer_id"]
        .as_str()
        .expect("customer id")
        .to_string()
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("items")
}

fn cents(value: &Value, field: &str) -> i64 {
    value_cents(&value["totals"][field])
}

#[tokio::test]
async fn the_demo_day_adds_up_and_a_restart_with_demo_adds_nothing() {
    // Proves the demo's day: the fixture's three coupons, one used; five orders placed through
    // the routes, four invoices numbered 1 to 4, a credit note referencing one of them,
    // statistics equal to the invoices, a photo on each paid order, a quote and its paid
    // purchase order in the customer's space, a message in another's, a balanced ledger, the
    // shop's contact and hours from the fixture, the shop's curl line naming the real address, and the printed employee signing in with the
    // temporary password; then that a restart with `--demo` makes no new order and prints a
    // key that works.
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(dir.path(), &["--demo"]).await;
    let key = demo_key(&app).await;
    let try_line = app.printed_line("try: ").await;
    assert!(
        try_line.contains(&format!(
            "http://{}/v1/shops/{DEMO_SHOP}/products",
            app.address
        )),
        "{try_line}"
    );
    assert_eq!(
        app.printed_line("demo day").await,
        "demo day loaded: coupons: 3, orders placed: 5, messages: 1, issued: credit_note 1 \
         delivery_slip 3 invoice 4 purchase_order 1 quote 1"
    );
    let api = Api::new(&app, &key);
    let employee = app.printed_line("demo employee: ").await;
    let (email, rest) = employee["demo employee: ".len()..]
        .split_once(", temporary password ")
        .expect("an email and a password");
    let password = rest.split_whitespace().next().expect("a password");
    let signed_in = api
        .post(
            "/v1/staff/sessions",
            &serde_json::json!({"email": email, "password": password}),
        )
        .await
        .expect(201);
    assert_eq!(signed_in.body["must_change_password"], true, "{employee}");

    let storefront = read(&api, "/storefront").await;
    assert_eq!(
        storefront["contact"]["email"],
        "contact@studio-lumiere.example"
    );
    let tuesday = &storefront["opening_hours"]["week"]["tuesday"];
    assert_eq!(
        tuesday,
        &serde_json::json!([{"opens": "09:30", "closes": "19:00"}])
    );

    let orders = read(&api, "/orders?limit=50").await;
    assert_eq!(items(&orders).len(), 5, "{orders}");
    let new_orders: Vec<&Value> = items(&orders)
        .iter()
        .filter(|o| o["is_new"] == true)
        .collect();
    assert_eq!(
        new_orders.len(),
        1,
        "the guest's unpaid order stays new: {orders}"
    );

    for order in items(&orders) {
        let id = order["order_id"].as_str().expect("order id");
        let view = read(&api, &format!("/orders/{id}")).await;
        let photos = view["files"].as_array().map_or(0, Vec::len);
        let paid = view["invoice_number"].is_string();
        assert_eq!(
            photos,
            usize::from(paid),
            "a photo on each paid order: {view}"
        );
    }

    let invoices = read(&api, "/invoices?limit=50").await;
    let mut numbers: Vec<u64> = items(&invoices)
        .iter()
        .map(|invoice| seq_of(invoice["number"].as_str().expect("number")))
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2, 3, 4]);
    let invoiced: i64 = items(&invoices)
        .iter()
        .map(|i| cents(i, "total_incl_vat"))
        .sum();

    let notes = read(&api, "/credit-notes?limit=50").await;
    assert_eq!(items(&notes).len(), 1, "{notes}");
    let note = &items(&notes)[0];
    let referenced = note["invoice_number"].as_str().expect("invoice number");
    assert!(
        items(&invoices).iter().any(|i| i["number"] == referenced),
        "{note}"
    );

    let statistics = read(
        &api,
        "/statistics?from=2020-01-01T00:00:00Z&until=2100-01-01T00:00:00Z&group_by=payment_type",
    )
    .await;
    assert_eq!(
        value_cents(&statistics["totals"]["gross"]),
        invoiced,
        "{statistics}"
    );
    assert_eq!(
        value_cents(&statistics["totals"]["credit_notes"]),
        cents(note, "total_incl_vat"),
        "{statistics}"
    );

    let coupons = read(&api, "/coupons").await;
    assert_eq!(items(&coupons).len(), 3, "the fixture's coupons: {coupons}");
    let used: Vec<u64> = items(&coupons)
        .iter()
        .map(|c| c["active_uses"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(
        used.iter().sum::<u64>(),
        1,
        "the prints' coupon, on Claire's order: {coupons}"
    );
    assert!(
        value_cents(&statistics["totals"]["discounts"]) > 0,
        "{statistics}"
    );

    let jules = customer_with(&api, "jules").await;
    let space = read(&api, &format!("/customers/{jules}/space")).await;
    assert_eq!(space["quotes"].as_array().map(Vec::len), Some(1), "{space}");
    assert_eq!(space["purchase_orders"][0]["paid"], true, "{space}");
    let amelie = customer_with(&api, "amelie").await;
    let thread = read(&api, &format!("/customers/{amelie}/messages")).await;
    assert_eq!(items(&thread).len(), 1, "{thread}");

    let trial = read(
        &api,
        "/ledger/trial-balance?from_month=202001&to_month=210012",
    )
    .await;
    assert_eq!(trial["total_debit"], trial["total_credit"], "{trial}");
    assert!(value_cents(&trial["total_debit"]) > 0, "{trial}");

    app.stop().await;
    let again = spawn_app_with(dir.path(), &["--demo"]).await;
    let key = demo_key(&again).await;
    assert_eq!(
        again.printed_line("demo day").await,
        "demo day already in the log"
    );
    let api = Api::new(&again, &key);
    assert_eq!(items(&read(&api, "/orders?limit=50").await).len(), 5);
    assert_eq!(items(&read(&api, "/invoices?limit=50").await).len(), 4);
}
