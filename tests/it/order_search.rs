//! The order list's search (seed 000: the "Commandes" tab's search bar), end to end.

use reqwest::Method;

use crate::api::{home_order, photo_shop, place, Api};
use crate::openapi::{conforms, served_document};
use crate::support::spawn_app;
use crate::time_zones::pay;

#[tokio::test]
async fn staff_find_orders_by_customer_invoice_number_or_order_id() {
    // Proves the search matches the customer's email and name ignoring case, the invoice
    // number and a part of the order id, combines with the status filter, refuses an
    // oversized term, and answers as `/openapi.json` says.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let storefront = shop.as_role("storefront");
    let lines = serde_json::json!([{"sku": "TIR-10x15", "quantity": 12}]);
    let (claire, _) = place(
        &storefront,
        &shop,
        &home_order(&shop, "claire@example.fr", lines.clone()),
    )
    .await;
    let (paul, total) = place(
        &storefront,
        &shop,
        &home_order(&shop, "paul@example.fr", lines),
    )
    .await;
    let paid_at = pay(&shop, &paul, &total).await;
    let staff = shop.as_role("employee");
    let paid = shop.path(&format!("/orders/{paul}?min_position={paid_at}"));
    let invoice = staff.get(&paid).await.expect(200).body["invoice_number"]
        .as_str()
        .expect("an invoice number")
        .to_string();
    let head = staff.head_position().await;
    let found = |term: String| {
        let staff = staff.clone();
        let path = shop.path(&format!("/orders?min_position={head}&search={term}"));
        async move {
            let reply = staff.get(&path).await.expect(200);
            reply.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|o| o["order_id"].as_str().expect("id").to_string())
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(found("CLAIRE@Example".into()).await, [claire.as_str()]);
    assert_eq!(found(invoice.clone()).await, [paul.as_str()]);
    assert_eq!(found(claire[24..].to_string()).await, [claire.as_str()]);
    assert_eq!(found("example.fr".into()).await.len(), 2);
    let paid_only = shop.path(&format!(
        "/orders?min_position={head}&search=example.fr&status=paid"
    ));
    let reply = staff.get(&paid_only).await.expect(200);
    conforms(&document, Method::GET, "/v1/shops/{shop_id}/orders", &reply);
    assert_eq!(reply.body["items"].as_array().map(Vec::len), Some(1));
    let too_long = shop.path(&format!("/orders?search={}", "x".repeat(201)));
    let refused = staff.get(&too_long).await;
    assert!(refused.status.is_client_error(), "{}", refused.raw);
    assert_eq!(refused.content_type, "application/problem+json");
}
