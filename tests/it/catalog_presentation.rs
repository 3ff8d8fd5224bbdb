//! How storefronts show the catalog (seed 000), end to end: a manager gives products a
//! description and images ("Détails des produits") and delivery methods a presentation (a
//! description, colours, font, icon); storefronts read them, and the product or method itself
//! (its `ETag`, its price) is untouched.

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{photo_shop, Api};
use crate::openapi::{conforms, served_document};
use crate::support::spawn_app;

fn details() -> Value {
    json!({"visible": true, "description": "Papier brillant.\nTirage en une heure.",
        "images": ["https://cdn.studio-lumiere.example/tirage-10x15.jpg"]})
}

/// Each body `PUT` to `path` is a 422 naming its field, and none appends anything.
async fn refused_naming<const N: usize>(
    manager: &Api,
    path: &str,
    etag: &str,
    cases: [(Value, &str); N],
) {
    let before = manager.head_position().await;
    for (body, field) in cases {
        let reply = manager.put(path, &body, Some(etag), None).await;
        reply.expect_problem(422, "validation");
        assert!(reply.raw.contains(field), "{field}: {}", reply.raw);
    }
    assert_eq!(manager.head_position().await, before, "nothing appended");
}

#[tokio::test]
async fn a_manager_describes_products_and_storefronts_list_the_visible_ones() {
    // Proves the empty default, who may set details, conditional writes, a retry, the list
    // with its `visible` filter, the product's own ETag untouched, refusals naming the field
    // with nothing appended, an unknown product, and conformance to `/openapi.json`.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let products = shop.manager.get(&shop.path("/products")).await.expect(200);
    let ids: Vec<String> = products.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .take(2)
        .map(|p| p["product_id"].as_str().expect("id").to_string())
        .collect();
    let product = shop.path(&format!("/products/{}", ids[0]));
    let path = format!("{product}/details");
    let product_etag = shop.manager.get(&product).await.expect(200).etag;

    let empty = shop.as_role("storefront").get(&path).await.expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/products/{product_id}/details",
        &empty,
    );
    assert_eq!(
        empty.body,
        json!({"visible": false, "description": null, "images": []})
    );
    shop.as_role("employee")
        .put(&path, &details(), Some(&empty.etag), None)
        .await
        .expect_problem(403, "forbidden");

    let cases = [
        (json!({"visible": true}), "visible"),
        (
            json!({"visible": false, "images": ["tirage.jpg"]}),
            "images[0]",
        ),
        (
            json!({"visible": false, "description": "x".repeat(5_001)}),
            "description",
        ),
    ];
    refused_naming(&shop.manager, &path, &empty.etag, cases).await;

    let set = shop
        .manager
        .put(&path, &details(), Some(&empty.etag), Some("details-1"))
        .await
        .expect(200);
    conforms(
        &document,
        Method::PUT,
        "/v1/shops/{shop_id}/products/{product_id}/details",
        &set,
    );
    let after = shop.manager.head_position().await;
    let again = shop
        .manager
        .put(&path, &details(), Some(&empty.etag), Some("details-1"))
        .await
        .expect(200);
    assert!(again.replayed);
    assert_eq!(
        shop.manager.head_position().await,
        after,
        "a retry appends nothing"
    );
    assert_eq!(
        shop.manager.get(&product).await.expect(200).etag,
        product_etag
    );

    let hidden = shop.path(&format!("/products/{}/details", ids[1]));
    let etag = shop.manager.get(&hidden).await.expect(200).etag;
    let draft = json!({"visible": false, "description": "Bientôt"});
    shop.manager
        .put(&hidden, &draft, Some(&etag), None)
        .await
        .expect(200);

    let storefront = shop.as_role("storefront");
    let all = storefront
        .get(&shop.path("/product-details"))
        .await
        .expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/product-details",
        &all,
    );
    assert_eq!(all.body["items"].as_array().expect("items").len(), 2);
    let shown = storefront
        .get(&shop.path("/product-details?visible=true"))
        .await
        .expect(200);
    assert_eq!(
        shown.body["items"],
        json!([{"product_id": ids[0], "visible": true,
        "description": details()["description"], "images": details()["images"]}])
    );

    let unknown = shop.path("/products/00000000-0000-4000-8000-000000000000/details");
    shop.manager
        .get(&unknown)
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test]
async fn a_manager_sets_how_a_delivery_method_is_drawn() {
    // Proves the empty default, who may set it, refusals naming the field with nothing
    // appended, the list and the method's GET carrying it, the method's own ETag untouched, and
    // conformance to `/openapi.json`.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let method = shop.path(&format!("/delivery-methods/{}", shop.delivery["colissimo"]));
    let path = format!("{method}/presentation");
    let template = "/v1/shops/{shop_id}/delivery-methods/{delivery_method_id}/presentation";
    let method_etag = shop.manager.get(&method).await.expect(200).etag;
    let empty = shop.as_role("storefront").get(&path).await.expect(200);
    conforms(&document, Method::GET, template, &empty);
    let look = json!({"description": "Livré chez vous en 48 h.", "background_color": "#1A2B3C",
        "text_color": "#FFFFFF", "font": "Open Sans",
        "icon_url": "https://cdn.studio-lumiere.example/colis.png"});
    shop.as_role("employee")
        .put(&path, &look, Some(&empty.etag), None)
        .await
        .expect_problem(403, "forbidden");
    let cases = [
        ("background_color", json!("bleu")),
        ("font", json!("Arial; color: red")),
        ("icon_url", json!("colis.png")),
    ]
    .map(|(field, value)| {
        let mut bad = look.clone();
        bad[field] = value;
        (bad, field)
    });
    refused_naming(&shop.manager, &path, &empty.etag, cases).await;
    let set = shop
        .manager
        .put(&path, &look, Some(&empty.etag), None)
        .await
        .expect(200);
    conforms(&document, Method::PUT, template, &set);

    let read = shop.manager.get(&method).await.expect(200);
    assert_eq!(read.etag, method_etag, "the method itself did not change");
    assert_eq!(read.body["presentation"]["font"], "Open Sans");
    let listed = shop
        .as_role("storefront")
        .get(&shop.path("/delivery-methods"))
        .await
        .expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/delivery-methods",
        &listed,
    );
    let drawn: Vec<&Value> = listed
        .body
        .as_array()
        .expect("methods")
        .iter()
        .filter(|m| m["presentation"].is_object())
        .collect();
    assert_eq!(drawn.len(), 1, "{}", listed.raw);
    assert_eq!(drawn[0]["presentation"]["background_color"], "#1A2B3C");
}

#[tokio::test]
async fn a_hidden_or_expired_pickup_group_takes_no_order_at_its_points() {
    // Proves a group its points give is listed and offered by default; once a manager hides
    // it, or dates it in the past, a cart or an order at one of its points is refused (409,
    // nothing appended) and the list says it is not offered; showing it again takes the order; an
    // unknown group is 404; the answers match `/openapi.json`.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let point_path = crate::shop_profile::add_pickup_point(&shop).await;
    let point_id = point_path.rsplit('/').next().expect("an id").to_string();
    let groups = shop.path("/pickup-groups");
    let listed = shop.as_role("storefront").get(&groups).await.expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/pickup-groups",
        &listed,
    );
    assert_eq!(listed.body[0]["name"], "Lyon");
    assert_eq!(listed.body[0]["pickup_point_ids"], json!([point_id]));
    assert_eq!(listed.body[0]["offered_now"], true);

    let path = shop.path("/pickup-groups/Lyon");
    let template = "/v1/shops/{shop_id}/pickup-groups/{name}";
    let read = shop.manager.get(&path).await.expect(200);
    conforms(&document, Method::GET, template, &read);
    let hidden = json!({"visible": false, "presentation": {"description": "Retrait sous 1 h"}});
    let set = shop
        .manager
        .put(&path, &hidden, Some(&read.etag), None)
        .await
        .expect(200);
    conforms(&document, Method::PUT, template, &set);

    let order = json!({"customer": {"email": "claire@example.fr", "name": "Claire Martin"},
        "lines": [{"sku": "TIR-10x15", "quantity": 12}],
        "delivery_method_id": shop.delivery["retrait"], "pickup_point_id": point_id});
    let storefront = shop.as_role("storefront");
    let cart = json!({"lines": order["lines"], "delivery_method_id": order["delivery_method_id"],
        "pickup_point_id": point_id});
    storefront
        .post(&shop.path("/carts/price"), &cart)
        .await
        .expect_problem(409, "pickup-point-unavailable");
    let before = storefront.head_position().await;
    storefront
        .post(&shop.path("/orders"), &order)
        .await
        .expect_problem(409, "pickup-point-unavailable");
    assert_eq!(storefront.head_position().await, before, "nothing appended");
    let listed = storefront.get(&groups).await.expect(200);
    assert_eq!(listed.body[0]["offered_now"], false);

    let past = json!({"visible": true, "available_until": "2020-01-01T00:00:00Z"});
    let etag = shop.manager.get(&path).await.expect(200).etag;
    shop.manager
        .put(&path, &past, Some(&etag), None)
        .await
        .expect(200);
    storefront
        .post(&shop.path("/orders"), &order)
        .await
        .expect_problem(409, "pickup-point-unavailable");
    let etag = shop.manager.get(&path).await.expect(200).etag;
    let shown = json!({"visible": true});
    shop.manager
        .put(&path, &shown, Some(&etag), None)
        .await
        .expect(200);
    storefront
        .post(&shop.path("/carts/price"), &cart)
        .await
        .expect(200);
    storefront
        .post(&shop.path("/orders"), &order)
        .await
        .expect(201);

    shop.manager
        .get(&shop.path("/pickup-groups/Nulle%20part"))
        .await
        .expect_problem(404, "not-found");
}
