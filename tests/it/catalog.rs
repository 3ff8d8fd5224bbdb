//! Catalog upkeep over HTTP: retiring products and hiding delivery methods.

use crate::api::{home_order, photo_shop, Api, PhotoShop};
use crate::support::spawn_app;
use serde_json::{json, Value};

pub(crate) async fn product_id_of(shop: &PhotoShop, sku: &str) -> String {
    let page = shop
        .manager
        .get(&shop.path("/products?limit=100"))
        .await
        .expect(200);
    let items = page.body["items"].as_array().expect("items");
    let product = items
        .iter()
        .find(|p| p["sku"] == sku)
        .unwrap_or_else(|| panic!("no product {sku}"));
    product["product_id"].as_str().expect("id").to_string()
}

fn prints(shop: &PhotoShop, email: &str) -> Value {
    home_order(shop, email, json!([{"sku": "TIR-10x15", "quantity": 10}]))
}

#[tokio::test]
async fn retired_products_leave_checkout_and_stay_listed() {
    // Proves retiring is staff-only and shop-scoped, refuses new orders with a problem that
    // appends nothing, keeps the product listed as retired, and a second retire changes nothing.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Retrait").await;
    let other = photo_shop(&app, "Ailleurs").await;
    let storefront = shop.as_role("storefront");
    storefront
        .post(&shop.path("/orders"), &prints(&shop, "a@example.fr"))
        .await
        .expect(201);
    let product_id = product_id_of(&shop, "TIR-10x15").await;
    let retire = shop.path(&format!("/products/{product_id}/retire"));

    let head = shop.manager.head_position().await;
    storefront
        .post(&retire, &json!({}))
        .await
        .expect_problem(403, "forbidden");
    other
        .manager
        .post(&retire, &json!({}))
        .await
        .expect_problem(404, "not-found");
    shop.manager
        .post(
            &shop.path(&format!("/products/{}/retire", uuid::Uuid::nil())),
            &json!({}),
        )
        .await
        .expect_problem(404, "not-found");
    assert_eq!(shop.manager.head_position().await, head);

    let retired = shop.manager.post(&retire, &json!({})).await.expect(200);
    assert_eq!(retired.body["retired"], true, "{}", retired.raw);
    let head = shop.manager.head_position().await;
    let refused = storefront
        .post(&shop.path("/orders"), &prints(&shop, "b@example.fr"))
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.raw);
    assert_eq!(refused.content_type, "application/problem+json");
    assert!(refused.raw.contains("TIR-10x15"), "{}", refused.raw);
    assert_eq!(shop.manager.head_position().await, head);

    shop.manager.post(&retire, &json!({})).await.expect(200);
    assert_eq!(shop.manager.head_position().await, head, "retired twice");
    let product = shop
        .manager
        .get(&shop.path(&format!("/products/{product_id}")))
        .await
        .expect(200);
    assert_eq!(product.body["retired"], true);
    assert_eq!(product.body["sku"], "TIR-10x15");
}

async fn set_visibility(api: &Api, shop: &PhotoShop, method_id: &str, visible: bool) -> Value {
    let method = shop.path(&format!("/delivery-methods/{method_id}"));
    let read = api.get(&method).await.expect(200);
    let path = format!("{method}/visibility");
    let reply = api
        .put(&path, &json!({"visible": visible}), Some(&read.etag), None)
        .await;
    reply.expect(200).body
}

#[tokio::test]
async fn hidden_delivery_methods_refuse_checkout_until_shown_again() {
    // Proves hiding a method blocks new orders with it (nothing appended), showing it again
    // restores checkout, the change is staff-only and shop-scoped, and bad bodies are refused.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Livraison").await;
    let other = photo_shop(&app, "Autre").await;
    let storefront = shop.as_role("storefront");
    let colissimo = shop.delivery["colissimo"].clone();
    let path = shop.path(&format!("/delivery-methods/{colissimo}/visibility"));

    let head = shop.manager.head_position().await;
    storefront
        .put(&path, &json!({"visible": false}), None, None)
        .await
        .expect_problem(403, "forbidden");
    other
        .manager
        .put(&path, &json!({"visible": false}), None, None)
        .await
        .expect_problem(404, "not-found");
    shop.manager
        .put(&path, &json!({"visible": "no"}), None, None)
        .await
        .expect_problem(400, "invalid-request");
    assert_eq!(shop.manager.head_position().await, head);

    let hidden = set_visibility(&shop.manager, &shop, &colissimo, false).await;
    assert_eq!(hidden["visible"], false, "{hidden}");
    let head = shop.manager.head_position().await;
    let refused = storefront
        .post(&shop.path("/orders"), &prints(&shop, "c@example.fr"))
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.raw);
    assert_eq!(refused.content_type, "application/problem+json");
    assert_eq!(shop.manager.head_position().await, head);
    let read = shop
        .manager
        .get(&shop.path(&format!("/delivery-methods/{colissimo}")))
        .await
        .expect(200);
    assert_eq!(read.body["visible"], false);

    let shown = set_visibility(&shop.manager, &shop, &colissimo, true).await;
    assert_eq!(shown["visible"], true);
    storefront
        .post(&shop.path("/orders"), &prints(&shop, "c@example.fr"))
        .await
        .expect(201);
}
