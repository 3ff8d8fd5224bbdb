//! Coupons over REST: exact limits under concurrency and retries, per-customer limits, release on
//! cancel, single-use codes, locking, and the cart preview.

use std::collections::HashSet;

use futures::future::join_all;
use serde_json::{json, Value};

use crate::api::{home_order, photo_shop, Api, PhotoShop, Reply};
use crate::support::spawn_app;

/// A 10 % order coupon valid around today, for all customers with these limits.
fn order_coupon(max_total: Option<u32>, max_per_customer: Option<u32>) -> Value {
    json!({
        "name": "Printemps", "starts_on": "2024-01-01", "ends_on": "2030-12-31",
        "scope": {"order": {"reduction": {"percent": "10"}}},
        "audience": {"all_customers": {"max_total_uses": max_total, "max_uses_per_customer": max_per_customer}},
    })
}

/// Creates a coupon for all customers with the typed `code`; returns its id.
async fn coupon_with_code(shop: &PhotoShop, body: &Value, code: &str) -> String {
    let coupon_id = shop
        .manager
        .post(&shop.path("/coupons"), body)
        .await
        .expect(201)
        .id("coupon_id");
    let path = shop.path(&format!("/coupons/{coupon_id}/codes"));
    let generated = shop
        .manager
        .post(&path, &json!({"kind": "typed", "code": code}))
        .await
        .expect(201);
    assert_eq!(generated.body["codes"], json!([code]));
    coupon_id
}

fn order_with_coupon(shop: &PhotoShop, email: &str, code: &str, policy: &str) -> Value {
    let mut body = home_order(shop, email, json!([{"sku": "AGR-30x45", "quantity": 2}]));
    body["coupon_code"] = json!(code);
    body["coupon_policy"] = json!(policy);
    body
}

fn discounted(reply: &Reply) -> bool {
    reply.status.as_u16() == 201 && !reply.body["coupon"].is_null()
}

async fn active_uses(api: &Api, shop: &PhotoShop, coupon_id: &str) -> u64 {
    let usage = api
        .get(&shop.path(&format!("/coupons/{coupon_id}/usage")))
        .await
        .expect(200);
    usage.body["active_uses"].as_u64().expect("active uses")
}

#[tokio::test]
async fn two_hundred_concurrent_orders_get_exactly_fifty_coupon_uses() {
    // Proves 200 simultaneous placements on a coupon with 50 uses: exactly 50 discounted orders;
    // "required" ones beyond answer 409 coupon-exhausted, "optional" ones are placed without it.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Ruée").await;
    let coupon_id = coupon_with_code(&shop, &order_coupon(Some(50), None), "RUEE50").await;
    let storefront = shop.as_role("storefront");
    let requests = (0..200).map(|n| {
        let policy = if n % 2 == 0 { "required" } else { "optional" };
        let body = order_with_coupon(&shop, &format!("c{n}@example.fr"), "ruee50", policy);
        let api = storefront.clone();
        let path = shop.path("/orders");
        async move { (policy, api.post(&path, &body).await) }
    });
    let replies = join_all(requests).await;
    let with_coupon = replies.iter().filter(|(_, r)| discounted(r)).count();
    assert_eq!(with_coupon, 50);
    for (policy, reply) in &replies {
        if discounted(reply) {
            let discount = &reply.body["coupon"]["discount"]["amount"];
            assert_eq!(discount, "1.98", "{}", reply.raw);
            assert_eq!(reply.body["totals"]["total_incl_vat"], "22.72");
        } else if *policy == "required" {
            reply.expect_problem(409, "coupon-exhausted");
        } else {
            assert_eq!(reply.status.as_u16(), 201, "{}", reply.raw);
            assert_eq!(reply.body["coupon_refused"]["code"], "coupon-exhausted");
        }
    }
    assert_eq!(active_uses(&shop.manager, &shop, &coupon_id).await, 50);
}

#[tokio::test]
async fn idempotent_retries_mixed_in_never_spend_a_use_twice() {
    // Proves 200 placements with Idempotency-Keys, 100 of them sent twice at once, spend exactly
    // 50 uses: each retry answers its original order, discounted or not, and nothing more.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Retries").await;
    let coupon_id = coupon_with_code(&shop, &order_coupon(Some(50), None), "RETRY50").await;
    let storefront = shop.as_role("storefront");
    let requests = (0..300).map(|n| {
        let order = n % 200;
        let body = order_with_coupon(
            &shop,
            &format!("r{order}@example.fr"),
            "RETRY50",
            "optional",
        );
        let (api, path) = (storefront.clone(), shop.path("/orders"));
        async move {
            let reply = api
                .post_with_key(&path, &body, &format!("order-{order}"))
                .await;
            (order, reply)
        }
    });
    let replies = join_all(requests).await;
    let mut first_by_order: std::collections::HashMap<usize, &Reply> = Default::default();
    for (order, reply) in &replies {
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.raw);
        match first_by_order.get(order) {
            None => {
                first_by_order.insert(*order, reply);
            }
            Some(first) => {
                assert_eq!(first.body["order_id"], reply.body["order_id"]);
                assert_eq!(first.body["coupon"], reply.body["coupon"]);
            }
        }
    }
    let distinct: HashSet<&Value> = replies.iter().map(|(_, r)| &r.body["order_id"]).collect();
    assert_eq!(distinct.len(), 200);
    let discounted_orders = first_by_order.values().filter(|r| discounted(r)).count();
    assert_eq!(discounted_orders, 50);
    assert_eq!(active_uses(&shop.manager, &shop, &coupon_id).await, 50);
}

#[tokio::test]
async fn per_customer_limit_holds_in_flight_and_cancel_gives_the_use_back() {
    // Proves one use per customer with two orders in flight at once (emails differing only in
    // case are the same customer), and that cancelling the discounted order releases its use.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Fidèle").await;
    let coupon_id = coupon_with_code(&shop, &order_coupon(None, Some(1)), "UNEFOIS").await;
    let first = order_with_coupon(&shop, "Zoe@Example.fr", "UNEFOIS", "required");
    let second = order_with_coupon(&shop, "zoe@example.fr ", "UNEFOIS", "required");
    let path = shop.path("/orders");
    let (a, b) = tokio::join!(
        shop.manager.post(&path, &first),
        shop.manager.post(&path, &second)
    );
    let (placed, refused) = if a.status.as_u16() == 201 {
        (a, b)
    } else {
        (b, a)
    };
    assert!(discounted(&placed), "{}", placed.raw);
    refused.expect_problem(409, "coupon-customer-limit-reached");
    assert_eq!(active_uses(&shop.manager, &shop, &coupon_id).await, 1);

    let order_id = placed.id("order_id");
    let cancel = json!({"reason": "changed her mind"});
    let cancel_path = shop.path(&format!("/orders/{order_id}/cancel"));
    shop.manager.post(&cancel_path, &cancel).await.expect(200);
    assert_eq!(active_uses(&shop.manager, &shop, &coupon_id).await, 0);
    let usage = shop
        .manager
        .get(&shop.path(&format!("/coupons/{coupon_id}/usage")))
        .await
        .expect(200);
    assert_eq!(usage.body["codes"][0]["released_uses"], 1);
    let again = shop.manager.post(&path, &second).await.expect(201);
    assert!(discounted(&again));
}

#[tokio::test]
async fn single_use_codes_work_once_and_generation_locks_the_coupon() {
    // Proves generated codes are unique and downloadable, each works once, editing after
    // generation is 409 coupon-locked, and refused requests append nothing.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Codes").await;
    let mut body = order_coupon(None, None);
    body["audience"] = json!("single_use_codes");
    let employee = shop.as_role("employee");
    employee
        .post(&shop.path("/coupons"), &body)
        .await
        .expect_problem(403, "forbidden");
    let created = shop
        .manager
        .post(&shop.path("/coupons"), &body)
        .await
        .expect(201);
    let coupon_id = created.id("coupon_id");
    let edit_path = shop.path(&format!("/coupons/{coupon_id}"));
    body["name"] = json!("Printemps bis");
    let read = shop.manager.get(&edit_path).await.expect(200);
    let edited = shop
        .manager
        .put(&edit_path, &body, Some(&read.etag), None)
        .await
        .expect(200);
    assert_eq!(edited.body["name"], "Printemps bis");

    let codes_path = shop.path(&format!("/coupons/{coupon_id}/codes"));
    let generated = shop
        .manager
        .post(&codes_path, &json!({"kind": "single_use", "count": 40}))
        .await
        .expect(201);
    let codes: Vec<String> = generated.body["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_string())
        .collect();
    let unique: HashSet<&String> = codes.iter().collect();
    assert_eq!((codes.len(), unique.len()), (40, 40));
    assert!(codes.iter().all(|c| c.len() == 10));

    let head = shop.manager.head_position().await;
    body["name"] = json!("Trop tard");
    let locked = shop
        .manager
        .put(&edit_path, &body, Some(&edited.etag), None)
        .await;
    locked.expect_problem(409, "coupon-locked");
    let again = shop
        .manager
        .post(&codes_path, &json!({"kind": "single_use", "count": 5}))
        .await;
    again.expect_problem(409, "coupon-locked");
    let unknown = order_with_coupon(&shop, "x@example.fr", "NOSUCHCODE", "required");
    shop.manager
        .post(&shop.path("/orders"), &unknown)
        .await
        .expect_problem(409, "coupon-code-unknown");
    assert_eq!(shop.manager.head_position().await, head);

    let csv = app
        .client
        .get(app.url(&shop.path(&format!("/coupons/{coupon_id}/codes.csv"))))
        .bearer_auth(&shop.keys["employee"])
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status().as_u16(), 200);
    let text = csv.text().await.expect("csv text");
    assert_eq!(text.lines().count(), 41);
    assert!(text.lines().skip(1).all(|l| l.ends_with(",0,0")));
    shop.as_role("storefront")
        .get(&shop.path(&format!("/coupons/{coupon_id}")))
        .await
        .expect_problem(403, "forbidden");

    let path = shop.path("/orders");
    let first = order_with_coupon(&shop, "a@example.fr", &codes[0], "required");
    assert!(discounted(&shop.manager.post(&path, &first).await));
    let reuse = order_with_coupon(&shop, "b@example.fr", &codes[0], "required");
    shop.manager
        .post(&path, &reuse)
        .await
        .expect_problem(409, "coupon-code-used");
    let other = order_with_coupon(&shop, "b@example.fr", &codes[1].to_lowercase(), "required");
    assert!(discounted(&shop.manager.post(&path, &other).await));
    let view = shop.manager.get(&edit_path).await.expect(200);
    assert_eq!(
        (
            view.body["active_uses"].as_u64(),
            view.body["locked"].as_bool()
        ),
        (Some(2), Some(true))
    );
    let list = shop
        .manager
        .get(&shop.path(&format!("/coupons?min_position={}", view.body["position"])))
        .await
        .expect(200);
    assert_eq!(list.body["items"][0]["code_count"], 40);
}

#[tokio::test]
async fn cart_preview_prices_with_the_coupon_and_records_nothing() {
    // Proves the cart preview applies the coupon exactly as placing would, explains a refusal,
    // and appends nothing.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Panier").await;
    coupon_with_code(&shop, &order_coupon(Some(1), None), "PANIER").await;
    let head = shop.manager.head_position().await;
    let cart = json!({
        "lines": [{"sku": "AGR-30x45", "quantity": 2}],
        "delivery_method_id": shop.delivery["colissimo"],
        "coupon_code": "panier",
    });
    let storefront = shop.as_role("storefront");
    let preview = storefront
        .post(&shop.path("/carts/price"), &cart)
        .await
        .expect(200);
    assert_eq!(preview.body["coupon"]["discount"]["amount"], "1.98");
    assert_eq!(preview.body["totals"]["total_incl_vat"], "22.72");
    let mut unknown = cart.clone();
    unknown["coupon_code"] = json!("AUTRE");
    let refused = storefront
        .post(&shop.path("/carts/price"), &unknown)
        .await
        .expect(200);
    assert_eq!(
        refused.body["coupon_refused"]["code"],
        "coupon-code-unknown"
    );
    assert_eq!(shop.manager.head_position().await, head);
    let placed = shop
        .manager
        .post(
            &shop.path("/orders"),
            &order_with_coupon(&shop, "p@example.fr", "PANIER", "required"),
        )
        .await
        .expect(201);
    assert_eq!(placed.body["totals"], preview.body["totals"]);
}
